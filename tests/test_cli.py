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
    done = subprocess.run(
        cmd + [str(a) for a in args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=600,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    result = run(
        [
            "synth",
            "--customers",
            "400",
            "--months",
            "12",
            "--defects",
            "0.01",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def customers_file(export_dir):
    """The export's customers table with 户名, 用电地址 and 收费员, as real ones have."""
    raw = pd.read_csv(export_dir / "customers.csv", dtype=str, encoding="utf-8-sig")
    raw["户名"] = "张" + raw["户号"].str[-3:]
    raw["用电地址"] = "幸福路" + raw["户号"].str[-4:] + "号"
    raw["收费员"] = "李" + raw["户号"].str[-1:]
    path = export_dir / "customers_full.csv"
    raw.to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.fixture(scope="module")
def segmented(export_dir, customers_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    result = run(
        [
            "segment",
            str(export_dir / "payments.csv"),
            "--bills",
            str(export_dir / "bills.csv"),
            "--customers",
            str(customers_file),
            "--k",
            "6",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert result.exit_code == 0, result.output
    return out


def test_synth_writes_export_files_and_truth(export_dir):
    for name in (
        "payments.csv",
        "bills.csv",
        "customers.csv",
        "truth.csv",
        "defects.json",
    ):
        assert (export_dir / name).exists(), name
    header = (export_dir / "payments.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "户号" in header
    truth = pd.read_csv(export_dir / "truth.csv", dtype={"customer_id": str})
    assert len(truth) == 400


def test_segment_writes_every_output(segmented, export_dir):
    for name in (
        "customers.csv",
        "segments.csv",
        "profiles.csv",
        "rejected.csv",
        "report.html",
        "model.payseg",
    ):
        assert (segmented / name).stat().st_size > 0, name
    customers = pd.read_csv(
        segmented / "customers.csv", dtype={"customer_id": str}, encoding="utf-8-sig"
    )
    assert customers["customer_id"].str.len().eq(10).all()  # leading zeros kept
    assert customers["segment"].nunique() == 6
    for col in (
        "name_zh",
        "name_en",
        "value_class",
        "pyramid_tier",
        "credit_grade",
        "warning_score",
        "action",
    ):
        assert customers[col].notna().all(), col
    # every injected defect is in rejected.csv, and nothing else
    defects = json.loads((export_dir / "defects.json").read_text(encoding="utf-8"))
    rejected = pd.read_csv(segmented / "rejected.csv", encoding="utf-8-sig")
    assert len(rejected) == len(defects)
    assert sorted(rejected["reason"]) == sorted(d["reason"] for d in defects)


def test_customer_ids_read_back_as_text(segmented):
    """Issue 17: 户号 was written unquoted; 0010000001 came back as 10000001."""
    import csv

    path = segmented / "customers.csv"
    first = path.read_text(encoding="utf-8-sig").splitlines()[1]
    assert first.startswith('"00')  # the id is a quoted text cell
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, quoting=csv.QUOTE_NONNUMERIC))
    ids = [r[0] for r in rows[1:]]
    assert all(isinstance(i, str) and len(i) == 10 and i.startswith("00") for i in ids)
    # the documented way to read it with pandas
    customers = pd.read_csv(path, dtype={"customer_id": str}, encoding="utf-8-sig")
    assert customers["customer_id"].str.startswith("00").all()


def test_customers_carry_attributes_and_the_segment_names(segmented, export_dir):
    customers = pd.read_csv(
        segmented / "customers.csv", dtype={"customer_id": str}, encoding="utf-8-sig"
    ).set_index("customer_id")
    raw = pd.read_csv(
        export_dir / "customers.csv", dtype=str, encoding="utf-8-sig"
    ).set_index("户号")
    assert list(customers.columns[:4]) == [
        "customer_name",
        "address",
        "region",
        "collector",
    ]
    cid = customers.index[0]
    assert customers.at[cid, "customer_name"] == "张" + cid[-3:]
    assert customers.at[cid, "address"] == "幸福路" + cid[-4:] + "号"
    assert customers.at[cid, "collector"] == "李" + cid[-1:]
    assert customers.at[cid, "region"] == raw.at[cid, "供电单位"]
    segments = pd.read_csv(
        segmented / "segments.csv", encoding="utf-8-sig", index_col=0
    )
    for lang in ("name_zh", "name_en"):
        assert customers[lang].equals(
            customers["segment"].map(segments[lang]).rename(lang)
        )
    assert "name" not in customers
    assert segments["action_zh"].notna().all() and segments["action_en"].notna().all()


def test_report_escapes_and_is_self_contained(segmented):
    html = (segmented / "report.html").read_text(encoding="utf-8")
    assert "<img" in html and "data:image/png;base64," in html
    assert 'src="http' not in html


def test_predict_assigns_saved_segments(segmented, export_dir):
    result = run(
        [
            "predict",
            "--model",
            str(segmented / "model.payseg"),
            str(export_dir / "payments.csv"),
            "--bills",
            str(export_dir / "bills.csv"),
            "--quiet",
        ]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("customer_id,segment,name_zh,name_en")
    fitted = pd.read_csv(
        segmented / "customers.csv", dtype={"customer_id": str}, encoding="utf-8-sig"
    ).set_index("customer_id")["segment"]
    assigned = pd.read_csv(
        pd.io.common.StringIO(result.stdout), dtype={"customer_id": str}
    ).set_index("customer_id")
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
    result = run(
        [
            "demo",
            "--customers",
            "600",
            "--months",
            "12",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").exists()
    seg = payseg.Segmenter.load(tmp_path / "model.payseg")
    assert seg.n_clusters_ >= 2


# ------------------------------------------------------------- issue 17: outputs
def test_segment_writes_the_workbook_and_lists_every_file(segmented):
    import openpyxl

    wb = openpyxl.load_workbook(segmented / "workbook.xlsx", read_only=True)
    assert {"全部客户", "VIP客户", "失信客户", "缴费提醒"} <= set(wb.sheetnames)
    manifest = json.loads((segmented / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is True
    assert set(manifest["files"]) == {
        "customers.csv",
        "segments.csv",
        "profiles.csv",
        "rejected.csv",
        "workbook.xlsx",
        "report.html",
        "model.payseg",
    }


def test_segment_options_on_a_par_with_the_api(export_dir, tmp_path):
    """--stability, --channels, --as-of, --lang en, --sheets; every file on stdout."""
    pay = pd.read_csv(export_dir / "payments.csv", dtype=str, encoding="utf-8-sig")
    pay.loc[pay.index[:40], "缴费方式"] = "星河缴费宝"  # a new app, unknown spelling
    pay_path = tmp_path / "payments.csv"
    pay.to_csv(pay_path, index=False, encoding="utf-8-sig")
    base = [
        "segment",
        str(pay_path),
        "--bills",
        str(export_dir / "bills.csv"),
        "--k",
        "5",
        "--quiet",
    ]
    plain = run(base + ["--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    rejected = pd.read_csv(tmp_path / "plain" / "rejected.csv", encoding="utf-8-sig")
    assert (
        rejected["value"] == "星河缴费宝"
    ).sum() >= 35  # a few of them carry another defect

    chan = tmp_path / "channels.json"
    chan.write_text(
        json.dumps({"xinghe_pay": ["星河缴费宝"]}, ensure_ascii=False), encoding="utf-8"
    )
    out = tmp_path / "res"
    r = run(
        base
        + [
            "--channels",
            chan,
            "--stability",
            "3",
            "--as-of",
            "2024-12-31",
            "--lang",
            "en",
            "--sheets",
            "all,vip",
            "--out",
            out,
        ]
    )
    assert r.exit_code == 0, r.output
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    assert not (rejected["value"] == "星河缴费宝").any()
    listed = r.stdout.strip().splitlines()
    assert [Path(x).name for x in listed] == [
        "customers.csv",
        "segments.csv",
        "profiles.csv",
        "rejected.csv",
        "workbook.xlsx",
        "report.html",
        "model.payseg",
        "manifest.json",
    ]
    assert all(Path(x).exists() for x in listed)
    import openpyxl

    wb = openpyxl.load_workbook(out / "workbook.xlsx", read_only=True)
    assert wb.sheetnames == ["read me", "all customers", "VIP customers"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Jaccard" in html  # stability was computed

    csv_chan = tmp_path / "channels.csv"
    csv_chan.write_text("code,alias\nxinghe_pay,星河缴费宝\n", encoding="utf-8")
    r = run(base + ["--channels", csv_chan, "--out", tmp_path / "res2"])
    assert r.exit_code == 0, r.output


def test_help_in_chinese():
    r = run(["segment", "--help", "--lang", "zh"])
    assert r.exit_code == 0
    assert "结果输出目录" in r.output and "稳定性" in r.output
    r = run(["segment", "--help"])
    assert "Directory for the results" in r.output


# ----------------------------------------------------- issue 18: the command line
@pytest.mark.parametrize(
    "args, match",
    [
        (["segment", "x.csv", "--id-width", "0", "--out", "o"], "--id-width"),
        (["segment", "x.csv", "--id-width", "-5", "--out", "o"], "--id-width"),
        (["synth", "--start", "abc", "--out", "o"], "--start"),
        (["segment", "x.csv", "--nope", "--out", "o"], "No such option"),
        (["segment"], "Missing argument"),
        (["segment", "x.csv", "--stability", "-1", "--out", "o"], "--stability"),
    ],
)
def test_usage_errors_are_one_line(args, match):
    r = run(args)
    assert r.exit_code == 2
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1, r.output
    assert match in lines[0] and lines[0].startswith("payseg: error:")


def test_bad_columns_files_name_the_file(export_dir, tmp_path):
    bad_json = tmp_path / "cols.json"
    bad_json.write_text('{"户号": "customer_id",', encoding="utf-8")
    gbk = tmp_path / "gbk.json"
    gbk.write_bytes('{"用户号码": "customer_id"}'.encode("gbk"))
    pay = str(export_dir / "payments.csv")
    r = run(["segment", pay, "--columns", bad_json, "--out", tmp_path / "o", "-q"])
    assert r.exit_code == 2 and "--columns" in r.output and "cols.json" in r.output
    assert "not valid JSON" in r.output and "Traceback" not in r.output
    # GBK is read (a map that applies to no header is harmless)
    r = run(
        ["segment", pay, "--columns", gbk, "--k", "4", "--out", tmp_path / "o2", "-q"]
    )
    assert r.exit_code == 0, r.output
    notlist = tmp_path / "list.json"
    notlist.write_text("[1, 2]", encoding="utf-8")
    r = run(["segment", pay, "--columns", notlist, "--out", tmp_path / "o3", "-q"])
    assert r.exit_code == 2 and "list.json" in r.output


@pytest.mark.parametrize("out", ["/proc/payseg-test", "{ro}"])
def test_unwritable_output_folder_is_one_line(export_dir, tmp_path, out):
    if out == "{ro}":
        if os.geteuid() == 0:
            pytest.skip("root writes anywhere")
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        out = ro / "res"
    r = run(["segment", export_dir / "payments.csv", "--k", "3", "--out", out, "-q"])
    assert r.exit_code == 2, r.output
    # warnings about the data may come first, each one line; the error is one line
    lines = [x for x in r.output.splitlines() if not x.startswith("payseg: warning:")]
    assert len(lines) == 1 and "--out" in lines[0], r.output
    assert "Traceback" not in r.output


def test_a_bug_shows_its_traceback_and_asks_for_a_report(tmp_path):
    code = (
        "import sys, payseg.cli as c\n"
        "def boom(*a, **k): raise RuntimeError('boom')\n"
        "import payseg; payseg.load = boom\n"
        "sys.argv = ['payseg', 'segment', 'x.csv', '--out', sys.argv[1]]\n"
        "c.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "RuntimeError: boom" in done.stderr
    assert "please report it" in done.stderr


def _segment_limited(export_dir, out, limit=None):
    """payseg segment with a file-size limit (a full disk for every file it writes)."""
    import resource

    def limit_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    cmd = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "payseg.cli"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg"}
    return subprocess.run(
        cmd
        + [
            "segment",
            str(export_dir / "payments.csv"),
            "--bills",
            str(export_dir / "bills.csv"),
            "--k",
            "4",
            "--out",
            str(out),
            "-q",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=600,
        check=False,
        preexec_fn=limit_size if limit else None,
    )


def test_full_disk_keeps_the_previous_set(export_dir, tmp_path):
    out = tmp_path / "res"
    first = _segment_limited(export_dir, out)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # 200 kB: customers.csv (400 customers) fits, the workbook or report does not.
    full = _segment_limited(export_dir, out, limit=200_000)
    assert full.returncode == 2, full.stderr
    lines = [x for x in full.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "previous results there are unchanged" in lines[0]
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # nothing half-replaced, nothing added
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "res"]
    assert leftovers == []  # the temporary folder is gone
    # predict trusts the set
    r = run(
        [
            "predict",
            "--model",
            out / "model.payseg",
            export_dir / "payments.csv",
            "--bills",
            export_dir / "bills.csv",
            "-q",
        ]
    )
    assert r.exit_code == 0, r.output


def test_incomplete_set_is_detected_by_predict_and_rerun(export_dir, tmp_path):
    out = tmp_path / "res"
    assert _segment_limited(export_dir, out).returncode == 0
    # what a kill -9 while moving files in leaves: the marker, no manifest
    (out / "manifest.json").unlink()
    (out / ".payseg-incomplete").touch()
    r = run(["predict", "--model", out / "model.payseg", export_dir / "payments.csv"])
    assert r.exit_code == 2 and "incomplete" in r.output, r.output
    r = run(["segment", export_dir / "payments.csv", "--k", "3", "--out", out])
    assert r.exit_code == 0, r.output
    assert "were incomplete" in r.output
    assert not (out / ".payseg-incomplete").exists()
    assert (out / "manifest.json").exists()


_KILL_CHILD = (
    "import os, signal, sys\n"
    "import payseg.cli as c\n"
    "real, n, at = os.replace, [0], int(sys.argv[1])\n"
    "def replace(a, b):\n"
    "    real(a, b)\n"
    "    n[0] += 1\n"
    "    if n[0] == at: os.kill(os.getpid(), signal.SIGKILL)\n"
    "c.os.replace = replace\n"
    "sys.argv = ['payseg'] + sys.argv[2:]\n"
    "c.main()\n"
)


def _segment_killed(export_dir, out, kill_at):
    """payseg segment --k 4 into ``out``, killed (-9) after its kill_at-th rename."""
    return subprocess.run(
        [sys.executable, "-c", _KILL_CHILD, str(kill_at), "segment"]
        + [str(export_dir / "payments.csv"), "--k", "4", "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


def _set_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.fixture(scope="module")
def previous_set(export_dir, tmp_path_factory):
    """A complete set (--k 3) that each kill test copies and then overwrites."""
    out = tmp_path_factory.mktemp("previous") / "res"
    r = run(["segment", export_dir / "payments.csv", "--k", "3", "--out", out, "-q"])
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.parametrize(
    "kill_at",
    # renames 1-4 are inside the staging folder (the CSV files), 5 puts the journal
    # in --out, 6-12 move the set in, 13 is the manifest, then the journal goes.
    [2, 5, 9, 13],
)
def test_kill_9_leaves_the_previous_set(export_dir, previous_set, tmp_path, kill_at):
    import shutil

    from payseg.cli import INCOMPLETE, check_result_set

    out = tmp_path / "res"
    shutil.copytree(previous_set, out)
    before = _set_bytes(out)
    done = _segment_killed(export_dir, out, kill_at)
    assert done.returncode == -9, done.stderr
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".res.payseg-")]
    assert len(left) == 1  # the dead run's staging folder
    assert (out / INCOMPLETE).exists() == (kill_at >= 5)
    # the next reader rolls the half-moved set back to the previous one
    assert check_result_set(out) is None
    assert _set_bytes(out) == before
    if kill_at == 9:  # and predict, in a fresh process, trusts it
        r = run(
            ["predict", "--model", out / "model.payseg", export_dir / "payments.csv"]
        )
        assert r.exit_code == 0, r.output
    if kill_at == 2:  # the next run removes the dead run's staging folder only
        mine = tmp_path / ".res.payseg-mine"  # not payseg's: no marker inside
        mine.mkdir()
        (mine / "notes.txt").write_text("keep")
        r = run(["segment", export_dir / "payments.csv", "--k", "4", "--out", out])
        assert r.exit_code == 0, r.output
        assert "incomplete" not in r.output
        assert sorted(p.name for p in tmp_path.iterdir()) == [".res.payseg-mine", "res"]
        assert check_result_set(out) is None and _set_bytes(out) != before


def test_staging_folder_of_a_live_run_is_kept(export_dir, previous_set, tmp_path):
    """Two runs at once: the one that finishes first must not delete the other's
    staging folder (held with flock while its run lives)."""
    import fcntl
    import shutil

    from payseg.cli import STAGING_MARK, check_result_set

    out = tmp_path / "res"
    shutil.copytree(previous_set, out)
    live = tmp_path / ".res.payseg-live0000"
    live.mkdir()
    (live / STAGING_MARK).touch()
    (live / "customers.csv").write_text("being written")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        r = run(["segment", export_dir / "payments.csv", "--k", "4", "--out", out])
        assert r.exit_code == 0, r.output
    finally:
        os.close(fd)
    assert (live / "customers.csv").read_text() == "being written"
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "res"]
    assert check_result_set(out) is None


def test_segment_writes_rejected_csv_when_every_row_is_rejected(tmp_path):
    src = tmp_path / "p.csv"
    src.write_text(
        "户号,缴费时间,缴费方式,实收金额\n"
        + "".join(f"00{i},昨天,支付宝,10\n" for i in range(5)),
        "utf-8",
    )
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
