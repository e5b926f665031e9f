"""Time load + segment of an analyst's two-sheet .xlsx against the same data as CSV.

    python benchmarks/bench_excel.py --customers 3000

Generates ``--customers`` synthetic customers (24 months), writes the export-style
payments and bills as CSV (:func:`payseg.synth.write`), then the same rows as one
workbook the way an analyst saves it from Excel: a 缴费明细 sheet and an 应收明细 sheet,
each with a title line above the header, dates as Excel dates, amounts as numbers
where they are numbers, ids and periods as text. In the same run and each in a fresh
process, it times ``payseg.load`` + ``payseg.segment`` of the CSV pair (baseline) and
of the workbook passed for both roles, and prints the seconds, the ratio
workbook/CSV (target <= 3) and the peak RSS of each. ``--engine openpyxl`` times the
workbook read through openpyxl (with today's sheet-XML scan) in the same run;
``--old-src DIR`` times another payseg source tree on the workbook, e.g. the code
before calamine::

    git archive d592281 payseg | tar -x -C /tmp/old
    python benchmarks/bench_excel.py --engine calamine openpyxl --old-src /tmp/old
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def _typed(column: pd.Series, kind: str) -> list:
    """Cells as an analyst's Excel holds them after opening the CSV export."""
    if kind == "date":
        parsed = pd.to_datetime(column, errors="coerce", format="mixed")
        return [
            v if pd.isna(p) else p.to_pydatetime()
            for v, p in zip(column.tolist(), parsed)
        ]
    if kind == "number":
        parsed = pd.to_numeric(column, errors="coerce")
        return [v if pd.isna(p) else float(p) for v, p in zip(column.tolist(), parsed)]
    return column.tolist()


_KINDS = {
    "缴费时间": "date",
    "发行日期": "date",
    "缴费截止日期": "date",
    "实收金额": "number",
    "应收金额": "number",
}


def make_files(n_customers: int, directory: Path, seed: int = 0) -> dict[str, Path]:
    """Write payments.csv, bills.csv and analyst.xlsx (both sheets) to ``directory``."""
    import openpyxl

    import payseg

    data = payseg.synth.generate(n_customers=n_customers, seed=seed)
    payseg.synth.write(data, directory, format="csv")
    wb = openpyxl.Workbook(write_only=True)
    for name, title, file in (
        ("缴费明细", "XX供电公司电费实收明细表", "payments.csv"),
        ("应收明细", "XX供电公司电费应收明细表", "bills.csv"),
    ):
        frame = pd.read_csv(directory / file, dtype=str, keep_default_na=False)
        ws = wb.create_sheet(name)
        ws.append([title])
        ws.append(list(frame.columns))
        columns = [_typed(frame[c], _KINDS.get(c, "text")) for c in frame.columns]
        for row in zip(*columns):
            ws.append(list(row))
    wb.save(directory / "analyst.xlsx")
    return {
        "csv": directory / "payments.csv",
        "csv-bills": directory / "bills.csv",
        "xlsx": directory / "analyst.xlsx",
    }


_CHILD = r"""
import json, resource, sys, time, warnings
import payseg
import payseg._read as r
payments, bills, engine = sys.argv[1:4]
if engine == "openpyxl":
    r._EXCEL_ENGINE = "openpyxl"
t0 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    data = payseg.load(payments, bills=bills)
    t1 = time.perf_counter()
    result = payseg.segment(data)
t2 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps({"load": t1 - t0, "total": t2 - t0, "rss_gib": rss,
                  "payments": len(data.payments), "bills": len(data.bills),
                  "customers": int(result.labels.shape[0]),
                  "module": payseg.__file__}))
"""


def measure(
    payments: Path, bills: Path, engine: str = "calamine", src: Path | None = None
) -> dict:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)  # that tree's payseg first (cwd: not this one)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(payments), str(bills), engine],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=src,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument(
        "--engine",
        nargs="+",
        choices=("calamine", "openpyxl"),
        default=["calamine"],
        help="workbook readers to time (openpyxl: the path before calamine)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="keep files here")
    parser.add_argument(
        "--old-src",
        type=Path,
        default=None,
        help="folder holding another payseg/ tree to time on the workbook",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        where = (args.dir or Path(tmp)).resolve()
        t0 = time.perf_counter()
        if (where / "analyst.xlsx").exists():
            paths = {
                "csv": where / "payments.csv",
                "csv-bills": where / "bills.csv",
                "xlsx": where / "analyst.xlsx",
            }
        else:
            where.mkdir(parents=True, exist_ok=True)
            paths = make_files(args.customers, where)
        print(f"files ready in {time.perf_counter() - t0:.1f} s ({where})")
        base = measure(paths["csv"], paths["csv-bills"])
        print(
            f"{'input':16} {'load s':>7} {'load+seg s':>11} {'ratio':>6} {'RSS':>9}"
            f"  rows (payments / bills / customers)"
        )
        rows = (base["payments"], base["bills"], base["customers"])
        print(
            f"{'csv':16} {base['load']:7.2f} {base['total']:11.2f} {1:6.2f} "
            f"{base['rss_gib']:5.2f} GiB  {rows}"
        )
        runs = [("xlsx " + e, e, None) for e in args.engine]
        if args.old_src is not None:
            runs.append(("xlsx old-src", "calamine", args.old_src))
        for label, engine, src in runs:
            ours = measure(paths["xlsx"], paths["xlsx"], engine, src)
            if src is not None:
                assert ours["module"].startswith(str(src.resolve())), ours["module"]
            got = (ours["payments"], ours["bills"], ours["customers"])
            assert got == rows, f"the workbook loaded {got}, the CSV {rows}"
            print(
                f"{label:16} {ours['load']:7.2f} {ours['total']:11.2f} "
                f"{ours['total'] / base['total']:6.2f} {ours['rss_gib']:5.2f} GiB"
            )


if __name__ == "__main__":
    main()
