"""Time payseg.load (+ build_features) on export-style files against DuckDB and pandas.

    python benchmarks/bench_load_features.py --customers 100000 --months 24

``--repeat N`` runs each step N times (the steps interleaved, so a burst of load on
a shared machine hits every step alike) and reports the median of each figure.

The shape of issue 19: ``payseg.synth.generate(customers, months=months)`` written by
``payseg.synth.write`` as an export (Chinese headers, channel spelling variants,
dates and periods as text in mixed formats, amounts with 元/¥) to Parquet and CSV,
once, in a child process. Then each step runs in a fresh process (its peak RSS is its
own, from ``getrusage``) and is timed against baselines measured in the same run:

  arrow read     pyarrow reads payments.parquet and bills.parquet
  duckdb query   one hand-written DuckDB query over the same two Parquet files: parse
                 payment times, bill dates and periods (ISO cast, then the other
                 formats of the export), join payments to bills on (id, period) and
                 aggregate the core timing and channel columns per customer
  load           payseg.load(payments, bills=..., customers=...) from Parquet
  load+features  the same, then payseg.build_features
  features       payseg.build_features alone (the load before it not timed; its
                 CPU seconds are those of the build, its peak RSS load + features)
  read_csv str   pandas.read_csv(dtype=str) of payments.csv and bills.csv
  load csv       payseg.load of the CSV files

For 1M customers, ``--chunked`` writes the same export in customer chunks
(``--chunk-size``, default 100,000; chunk k from seed k, ids made unique by the
chunk number), appending Parquet row groups and CSV lines, so the writer needs
the memory of one chunk (a few GB) instead of ~13 GB::

    python benchmarks/bench_load_features.py --customers 1000000 --months 24 \
        --chunked --dir /tmp/pq-1m --steps "duckdb query" load load+features

Targets (issue 19): build_features <= 1.0x and load + build_features <= 1.5x the
DuckDB query; peak RSS of load + features <= 6 GB at 1M customers x 24 months; CSV
load <= 1x read_csv. The feature build alone, against the query, old tree too::

    python benchmarks/bench_load_features.py --customers 1000000 --months 24 \
        --dir /tmp/pq-1m --steps "duckdb query" features --before DIR --repeat 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time, warnings
step, d = sys.argv[1:3]
# Imports are not timed (several seconds on a busy machine, the same for any size).
if step == "arrow read":
    import pyarrow.parquet as pq
elif step == "read_csv str":
    import pandas as pd
elif step == "duckdb query":
    import duckdb
else:
    import payseg
    import payseg.features  # scikit-learn: imported by build_features, not timed
t0 = time.perf_counter()
use0 = resource.getrusage(resource.RUSAGE_SELF)
extra = {}
if step == "arrow read":
    import pyarrow.parquet as pq
    rows = sum(pq.read_table(f"{d}/{n}.parquet").num_rows for n in ("payments", "bills"))
elif step == "read_csv str":
    import pandas as pd
    rows = sum(len(pd.read_csv(f"{d}/{n}.csv", dtype=str)) for n in ("payments", "bills"))
elif step == "duckdb query":
    import duckdb
    sql = open(f"{d}/query.sql").read().replace("{d}", d)
    out = duckdb.sql(sql).df()
    rows = len(out)
    check = open(f"{d}/check.sql").read().replace("{d}", d)
    extra["parsed"] = duckdb.sql(check).fetchall()[0]
else:
    import payseg
    ext = "csv" if step == "load csv" else "parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = payseg.load(f"{d}/payments.{ext}", bills=f"{d}/bills.{ext}",
                           customers=f"{d}/customers.{ext}")
    rows = len(data.payments) + len(data.bills) + int(
        (data.rejected["source"].str.contains("payments|bills")).sum())
    if step == "features":
        # build_features alone: the load before it is not timed.
        t0 = time.perf_counter()
        use0 = resource.getrusage(resource.RUSAGE_SELF)
        X = payseg.build_features(data)
        rows = len(X)
    if step == "load+features":
        t1 = time.perf_counter()
        X = payseg.build_features(data)
        extra["features_s"] = time.perf_counter() - t1
        rows = len(X)
seconds = time.perf_counter() - t0
use = resource.getrusage(resource.RUSAGE_SELF)
rss = use.ru_maxrss / 2**20
# CPU seconds of all threads (imports included): on a shared machine they move
# less with the other jobs than the wall clock does.
cpu = use.ru_utime + use.ru_stime
# ... and of the step alone (imports left out), the fairer figure between steps.
cpu_step = cpu - use0.ru_utime - use0.ru_stime
print(json.dumps({"seconds": seconds, "rows": rows, "rss_gib": rss, "cpu_s": cpu,
                  "cpu_step_s": cpu_step, **extra}))
"""

_DATE = (
    "coalesce(try_cast({c} AS TIMESTAMP), try_strptime({c}, '%Y/%m/%d %H:%M:%S'), "
    "try_strptime({c}, '%Y/%m/%d %H:%M'), try_strptime({c}, '%Y/%m/%d'), "
    "try_strptime({c}, '%Y%m%d'))"
)
_PERIOD = (
    "try_cast(regexp_extract({c}, '^(\\d{{4}})', 1) AS INTEGER) * 12 + "
    "try_cast(regexp_extract({c}, '^\\d{{4}}\\D*(\\d{{1,2}})', 1) AS INTEGER)"
)

QUERY = f"""
WITH p AS (
  SELECT 户号 AS customer_id, {_DATE.format(c="缴费时间")} AS paid_at,
         trim(缴费方式) AS channel, {_PERIOD.format(c="电费年月")} AS period
  FROM read_parquet('{{d}}/payments.parquet')),
b AS (
  SELECT 户号 AS customer_id, {_PERIOD.format(c="电费年月")} AS period,
         {_DATE.format(c="发行日期")}::DATE AS issued_on,
         {_DATE.format(c="缴费截止日期")}::DATE AS due_on
  FROM read_parquet('{{d}}/bills.parquet'))
SELECT p.customer_id,
  avg(date_diff('day', b.issued_on, p.paid_at::DATE)) AS delay_days_mean,
  median(date_diff('day', b.issued_on, p.paid_at::DATE)) AS delay_days_median,
  stddev_samp(date_diff('day', b.issued_on, p.paid_at::DATE)) AS delay_days_std,
  quantile_cont(date_diff('day', b.issued_on, p.paid_at::DATE), 0.9) AS delay_days_p90,
  avg(date_diff('day', p.paid_at::DATE, b.due_on)) AS days_to_due_mean,
  avg((p.paid_at::DATE > b.due_on)::INT) AS late_share,
  avg((dayofweek(p.paid_at) IN (0, 6))::INT) AS weekend_share,
  avg((hour(p.paid_at) >= 18)::INT) AS evening_share,
  count(DISTINCT p.channel) AS n_channels
FROM p LEFT JOIN b ON p.customer_id = b.customer_id AND p.period = b.period
GROUP BY p.customer_id
"""
# Share of non-empty payment times the query's date expression reads (it must read
# them all for the baseline to be a fair one).
CHECK = f"""
SELECT avg(({_DATE.format(c="缴费时间")} IS NOT NULL)::INT)
FROM read_parquet('{{d}}/payments.parquet')
"""

STEPS = [
    "arrow read",
    "duckdb query",
    "load",
    "load+features",
    "features",
    "read_csv str",
    "load csv",
]


def write(directory: Path, customers: int, months: int) -> None:
    import payseg

    data = payseg.synth.generate(customers, seed=0, months=months)
    payseg.synth.write(data, directory, format="parquet")
    payseg.synth.write(data, directory, format="csv")
    (directory / "query.sql").write_text(QUERY)
    (directory / "check.sql").write_text(CHECK)
    print(f"{len(data.payments):,} payments, {len(data.bills):,} bills")


def write_chunked(directory: Path, customers: int, months: int, chunk: int) -> None:
    """Write the same export shape in customer chunks, appending Parquet row groups.

    Chunk ``k`` is ``payseg.synth.generate(n_k, seed=k, months=months)`` written by
    ``payseg.synth.write(..., seed=k)`` (so spellings, date formats and amount styles
    are drawn as in :func:`write`); its account numbers ``00xxxxxxxx`` get the chunk
    number as their two leading digits, so ids stay unique across chunks. Each
    chunk's tables are appended to one ``pyarrow.parquet.ParquetWriter`` per file
    (and one CSV writer), so peak memory is that of one chunk, not of the whole export.
    """
    import shutil

    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    import payseg

    directory.mkdir(parents=True, exist_ok=True)
    n_chunks = -(-customers // chunk)
    if n_chunks > 100:
        raise SystemExit(f"at most 100 chunks, got {n_chunks}: raise --chunk-size")
    names = ("payments", "bills", "customers")
    writers: dict = {}
    rows = dict.fromkeys(names, 0)
    tmp = directory / "_chunk"
    try:
        for k in range(n_chunks):
            n = min(chunk, customers - k * chunk)
            data = payseg.synth.generate(n, seed=k, months=months)
            payseg.synth.write(data, tmp, format="parquet", seed=k)
            del data
            for name in names:
                table = pq.read_table(tmp / f"{name}.parquet")
                col = table.column("户号")
                col = pc.utf8_replace_slice(
                    col, start=0, stop=2, replacement=f"{k:02d}"
                )
                table = table.set_column(
                    table.schema.get_field_index("户号"), "户号", col
                )
                if name not in writers:
                    writers[name] = (
                        pq.ParquetWriter(directory / f"{name}.parquet", table.schema),
                        pacsv.CSVWriter(
                            directory / f"{name}.csv",
                            table.schema,
                            write_options=pacsv.WriteOptions(quoting_style="needed"),
                        ),
                    )
                for w in writers[name]:
                    w.write_table(table)
                rows[name] += table.num_rows
            print(f"chunk {k + 1}/{n_chunks}: {n:,} customers", flush=True)
    finally:
        for ws in writers.values():
            for w in ws:
                w.close()
        shutil.rmtree(tmp, ignore_errors=True)
    (directory / "query.sql").write_text(QUERY)
    (directory / "check.sql").write_text(CHECK)
    print(f"{rows['payments']:,} payments, {rows['bills']:,} bills")


def measure(step: str, directory: Path, src: Path | None = None) -> dict:
    # ``src``: a source tree of another payseg commit, imported from the child's
    # working directory (it comes first on ``sys.path`` for ``python -c``).
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, step, str(directory.resolve())],
        check=True,
        capture_output=True,
        text=True,
        cwd=src,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    """The median of each numeric figure over runs (the first run's other values)."""
    import statistics

    out = dict(runs[0])
    for k, v in out.items():
        if isinstance(v, (int, float)):
            out[k] = statistics.median(r[k] for r in runs)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--dir", type=Path, default=None, help="keep the files here")
    parser.add_argument("--steps", nargs="*", default=STEPS, choices=STEPS)
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="also time the payseg steps with the payseg package in this directory "
        "(e.g. `git archive <commit> payseg | tar -x -C DIR`), in the same run",
    )
    parser.add_argument(
        "--chunked",
        action="store_true",
        help="write the export in customer chunks (peak memory of one chunk; for 1M)",
    )
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each step this many times, interleaved; report medians",
    )
    parser.add_argument("--write-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write_only:
        if args.chunked:
            write_chunked(args.dir, args.customers, args.months, args.chunk_size)
        else:
            write(args.dir, args.customers, args.months)
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or Path(tmp)
        if not (directory / "query.sql").exists():
            t0 = time.perf_counter()
            # A child writes the files: a child inherits its parent's peak RSS.
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--write-only",
                    "--dir",
                    str(directory),
                    "--customers",
                    str(args.customers),
                    "--months",
                    str(args.months),
                    "--chunk-size",
                    str(args.chunk_size),
                    *(["--chunked"] if args.chunked else []),
                ],
                check=True,
            )
            print(f"wrote the export in {time.perf_counter() - t0:.1f} s")
        runs: dict[str, list[dict]] = {}
        for k in range(max(1, args.repeat)):
            for step in args.steps:
                pair = [(step, None)]
                if args.before is not None and step in (
                    "load",
                    "load+features",
                    "features",
                    "load csv",
                ):
                    # Before and now take turns at going first, so that the
                    # order of a pair (files evicted meanwhile, a warm machine)
                    # favours neither (docs/performance.md, the A/A check).
                    pair.append((f"{step} (before)", args.before))
                    if k % 2 == 0:
                        pair.reverse()
                for name, src in pair:
                    runs.setdefault(name, []).append(measure(step, directory, src))
        results = {step: _median(rs) for step, rs in runs.items()}
        if args.repeat > 1:
            print(f"median of {args.repeat} runs; seconds of each run:")
            for step, rs in runs.items():
                print(f"  {step:23} " + " ".join(f"{r['seconds']:.2f}" for r in rs))
        duck = results.get("duckdb query", {}).get("seconds")
        csv = results.get("read_csv str", {}).get("seconds")
        print(
            f"{'step':23} {'seconds':>8} {'x duckdb':>9} {'x read_csv':>10} "
            f"{'peak RSS':>9} {'CPU s':>7} {'step CPU':>8} {'CPU x csv':>9}"
        )
        csv_cpu = results.get("read_csv str", {}).get("cpu_step_s")
        for step, r in results.items():
            x_duck = f"{r['seconds'] / duck:9.2f}" if duck else f"{'':9}"
            x_csv = f"{r['seconds'] / csv:10.2f}" if csv else f"{'':10}"
            x_cpu = f"{r['cpu_step_s'] / csv_cpu:9.2f}" if csv_cpu else f"{'':9}"
            print(
                f"{step:23} {r['seconds']:8.2f} {x_duck} {x_csv} "
                f"{r['rss_gib']:6.2f} GiB {r['cpu_s']:7.1f} {r['cpu_step_s']:8.1f} "
                f"{x_cpu}"
            )
        for step in ("load+features (before)", "load+features"):
            if step in results:
                print(f"  {step}: build_features {results[step]['features_s']:.2f} s")
        if "duckdb query" in results:
            print(
                f"  DuckDB read {results['duckdb query']['parsed'][0]:.4f} of payment times"
            )


if __name__ == "__main__":
    main()
