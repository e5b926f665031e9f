"""End-to-end: export-style CSV files in, results and report out, through the CLI.

Every command runs in a fresh process, as an analyst's shell would run it: a module
imported by an earlier test in this process must not hide a missing import.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import payseg

_SCRIPT = Path(sys.executable).with_name("payseg")


@dataclass
class Run:
    exit_code: int
    stdout: str
    output: str  # stdout and stderr together, as a terminal shows them


def run(args) -> Run:
    """``payseg ARGS`` in a fresh process (the installed console script)."""
    cmd = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "payseg.cli"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg"}
    done = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=600, check=False)
    return Run(done.returncode, done.stdout, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    result = run(
        ["synth", "--customers", "400", "--months", "12", "--defects", "0.01",
               "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def segmented(export_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    result = run(
        ["segment", str(export_dir / "payments.csv"),
               "--bills", str(export_dir / "bills.csv"),
               "--customers", str(export_dir / "customers.csv"),
               "--k", "6", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def test_synth_writes_export_files_and_truth(export_dir):
    for name in ("payments.csv", "bills.csv", "customers.csv", "truth.csv",
                 "defects.json"):
        assert (export_dir / name).exists(), name
    header = (export_dir / "payments.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "户号" in header
    truth = pd.read_csv(export_dir / "truth.csv", dtype={"customer_id": str})
    assert len(truth) == 400


def test_segment_writes_every_output(segmented, export_dir):
    for name in ("customers.csv", "segments.csv", "profiles.csv", "rejected.csv",
                 "report.html", "model.payseg"):
        assert (segmented / name).stat().st_size > 0, name
    customers = pd.read_csv(segmented / "customers.csv", dtype={"customer_id": str},
                            encoding="utf-8-sig")
    assert customers["customer_id"].str.len().eq(10).all()  # leading zeros kept
    assert customers["segment"].nunique() == 6
    for col in ("name", "value_class", "pyramid_tier", "credit_grade",
                "warning_score", "action"):
        assert customers[col].notna().all(), col
    # every injected defect is in rejected.csv, and nothing else
    defects = json.loads((export_dir / "defects.json").read_text(encoding="utf-8"))
    rejected = pd.read_csv(segmented / "rejected.csv", encoding="utf-8-sig")
    assert len(rejected) == len(defects)
    assert sorted(rejected["reason"]) == sorted(d["reason"] for d in defects)


def test_report_escapes_and_is_self_contained(segmented):
    html = (segmented / "report.html").read_text(encoding="utf-8")
    assert "<img" in html and "data:image/png;base64," in html
    assert 'src="http' not in html


def test_predict_assigns_saved_segments(segmented, export_dir):
    result = run(
        ["predict", "--model", str(segmented / "model.payseg"),
               str(export_dir / "payments.csv"), "--bills",
               str(export_dir / "bills.csv"), "--quiet"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("customer_id,segment,name")
    fitted = pd.read_csv(segmented / "customers.csv", dtype={"customer_id": str},
                         encoding="utf-8-sig").set_index("customer_id")["segment"]
    assigned = pd.read_csv(pd.io.common.StringIO(result.stdout),
                           dtype={"customer_id": str}).set_index("customer_id")
    same = (assigned["segment"] == fitted.reindex(assigned.index)).mean()
    assert same > 0.99  # the same data and model give the same segments


@pytest.mark.parametrize(
    "args, match",
    [
        (["segment", "nope.csv", "--out", "o"], "file not found: nope.csv"),
        (["segment", "{bad}", "--out", "o"], "required column 'paid_at' not found"),
        (["segment", "x.csv", "--k", "one", "--out", "o"], "use 'auto' or a whole"),
        (["segment", "x.csv", "--k", "1", "--out", "o"], "at least 2 segments"),
        (["predict", "--model", "{bad}", "x.csv"], "not a payseg model file"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, match):
    bad = tmp_path / "bad.csv"
    bad.write_text("户号,金额\n1,5\n", encoding="utf-8")
    args = [str(bad) if a == "{bad}" else a for a in args]
    result = run(args)
    assert result.exit_code == 2
    assert match in result.output
    assert "Traceback" not in result.output


def test_channels_lists_registry():
    result = run(["channels"])
    assert result.exit_code == 0
    assert "供电企业营业厅缴费" in result.output
    assert "sgcc_app" in result.output


def test_demo_runs_end_to_end(tmp_path):
    result = run(["demo", "--customers", "600", "--months", "12",
                  "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").exists()
    seg = payseg.Segmenter.load(tmp_path / "model.payseg")
    assert seg.n_clusters_ >= 2


def test_segment_writes_rejected_csv_when_every_row_is_rejected(tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("户号,缴费时间,缴费方式,实收金额\n"
                   + "".join(f"00{i},昨天,支付宝,10\n" for i in range(5)), "utf-8")
    out = tmp_path / "out"
    result = run(["segment", src, "--out", out, "--quiet"])
    assert result.exit_code == 2, result.output
    assert "every one of the 5 rows" in result.output
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    assert rejected["line"].tolist() == [2, 3, 4, 5, 6]
    assert set(rejected["reason"]) == {"unparseable or impossible date"}


def test_segment_reads_a_folder_and_skips_lock_files(tmp_path, export_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "payments.csv").write_bytes((export_dir / "payments.csv").read_bytes())
    (folder / "~$payments.xlsx").write_bytes(b"\x05zhang" + b"\x00" * 48)
    (folder / "old").mkdir()
    out = tmp_path / "out"
    result = run(["segment", folder, "--out", out, "--k", "3"])
    assert result.exit_code == 0, result.output
    assert "~$payments.xlsx" in result.output and "old/" in result.output
    assert (out / "segments.csv").exists()
