"""Time payseg.load on export-style payment files against a plain pandas read.

    python benchmarks/bench_load.py --rows 10000000

Writes an export-style file (Chinese headers, channel spelling variants, string dates
and amounts) as CSV, as Parquet of text columns and as Parquet of typed columns, then for each format times, in the same run:
  plain  pd.read_csv(dtype=str) / pd.read_parquet of the same file
  payseg payseg.load (reading, header mapping, validation, channel resolution, ledger)
and prints seconds, the ratio payseg/plain (the loader's own overhead) and peak RSS of
a fresh process per measurement. Target: ratio <= 2, peak RSS < 4 GiB at 10M rows.
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

import numpy as np
import pandas as pd

CHANNELS = np.array(
    [
        "网上国网",
        "支付宝",
        "微信",
        "网银",
        "营业厅",
        "银行代扣",
        "社会化代收点缴费",
        "7",
        "手机银行 ",
        "ＷｅＣｈａｔ　Ｐａｙ",
    ]
)


def make_export(n_rows: int, directory: Path, seed: int = 0) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    n_customers = max(n_rows // 10, 1)
    cust = rng.integers(0, n_customers, n_rows)
    days = rng.integers(0, 730, n_rows)
    paid = (np.datetime64("2024-01-01") + days.astype("timedelta64[D]")).astype(str)
    frame = pd.DataFrame(
        {
            "户号": pd.Series(cust).map("{:010d}".format),
            "缴费时间": paid,
            "缴费方式": CHANNELS[rng.integers(0, len(CHANNELS), n_rows)],
            "实收金额": np.round(rng.gamma(2.0, 80.0, n_rows), 2).astype(str),
            "电费年月": pd.Series(paid).str.slice(0, 7).str.replace("-", ""),
            "供电单位": np.array(["城东供电所", "城西供电所", "城北供电所"])[cust % 3],
        }
    )
    paths = _paths(directory)
    frame.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["parquet-text"], index=False)
    # Warehouse exports keep native types: timestamps, floats, dictionary strings.
    typed = frame.assign(
        缴费时间=pd.to_datetime(frame["缴费时间"]),
        实收金额=frame["实收金额"].astype(float),
        缴费方式=frame["缴费方式"].astype("category"),
        供电单位=frame["供电单位"].astype("category"),
    )
    typed.to_parquet(paths["parquet-typed"], index=False)
    return paths


def _paths(directory: Path) -> dict[str, Path]:
    return {
        "csv": directory / "payments.csv",
        "parquet-text": directory / "payments_text.parquet",
        "parquet-typed": directory / "payments_typed.parquet",
    }


_CHILD = r"""
import json, resource, sys, time, warnings
import pandas as pd
kind, fmt, path = sys.argv[1:4]
t0 = time.perf_counter()
if kind == "plain":
    frame = pd.read_csv(path, dtype=str) if fmt == "csv" else pd.read_parquet(path)
    rows = len(frame)
else:
    import payseg
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = payseg.load(path)
    rows = len(data.payments) + len(data.rejected)
seconds = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps({"seconds": seconds, "rows": rows, "rss_gib": rss}))
"""


def measure(kind: str, fmt: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, fmt, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where to write the files (default: a temp dir)",
    )
    parser.add_argument("--write-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write_only:
        make_export(args.rows, args.write_only)
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        t0 = time.perf_counter()
        # Write the files from a child process: a child inherits its parent's peak
        # RSS (getrusage survives fork and exec), which would mask the loader's own.
        subprocess.run(
            [sys.executable, __file__, "--write-only", tmp, "--rows", str(args.rows)],
            check=True,
        )
        paths = _paths(Path(tmp))
        print(
            f"wrote {args.rows:,} export rows in {time.perf_counter() - t0:.1f} s "
            f"(csv {os.path.getsize(paths['csv']) / 2**20:.0f} MiB)"
        )
        print(
            f"{'format':14} {'plain s':>8} {'payseg s':>9} {'ratio':>6} "
            f"{'plain RSS':>10} {'payseg RSS':>11}"
        )
        for fmt, path in paths.items():
            plain = measure("plain", fmt, path)
            ours = measure("payseg", fmt, path)
            assert ours["rows"] == args.rows
            print(
                f"{fmt:14} {plain['seconds']:8.2f} {ours['seconds']:9.2f} "
                f"{ours['seconds'] / plain['seconds']:6.2f} "
                f"{plain['rss_gib']:8.2f} GiB {ours['rss_gib']:8.2f} GiB"
            )


if __name__ == "__main__":
    main()
