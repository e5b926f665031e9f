"""Time payseg.build_features against plain pandas and hand-written DuckDB SQL.

    python benchmarks/bench_features.py --customers 1000000 --months 24

Generates ``payseg.synth.generate(customers, months=months)`` once in a child process
(so the generator's memory does not count) and stores it as Parquet, then in this
process: reads the Parquet files into a PaymentData, builds every feature family and
prints the seconds of each step, peak RSS, and, in the same run, the time of
  (a) a plain pandas merge + groupby/crosstab of the core timing and channel columns;
  (b) one hand-written DuckDB SQL query (one scan, one join, one GROUP BY) of the same.
Targets: full build >= 10x faster than (a), within 2x of (b), peak RSS <= 6 GiB.
``--order date`` sorts payment rows by ``paid_at`` and bills by ``issued_on`` first, as
real exports are (the unsorted-input path); ``--order random`` (or ``--shuffle``)
shuffles them. The default keeps the generator's order, sorted by customer.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def rss_gib() -> float:
    """Peak resident set size of this process so far, GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def generate(directory: Path, customers: int, months: int, seed: int) -> None:
    import payseg

    data = payseg.synth.generate(customers, seed=seed, months=months)
    directory.mkdir(parents=True, exist_ok=True)
    data.payments.to_parquet(directory / "payments.parquet", index=False)
    data.bills.to_parquet(directory / "bills.parquet", index=False)
    data.customers.to_parquet(directory / "customers.parquet")


def read(directory: Path):
    import payseg

    payments = pd.read_parquet(directory / "payments.parquet")
    bills = pd.read_parquet(directory / "bills.parquet")
    customers = pd.read_parquet(directory / "customers.parquet")
    for frame, cols in ((payments, ["paid_at"]), (bills, ["issued_on", "due_on"])):
        for c in cols:
            frame[c] = frame[c].astype("datetime64[ns]")
    return payseg.PaymentData(payments=payments, bills=bills, customers=customers)


# ---------------------------------------------------------------------- payseg


def build_timed(data) -> tuple[pd.DataFrame, dict[str, float], int]:
    """build_features with the seconds of each step, summed over the blocks of
    consecutive customers that it processes in turn."""
    from payseg.features import FAMILIES
    from payseg.features._block import Context
    from payseg.features._build import build_blocks

    times = {"global pass (ids, as_of)": 0.0}

    def timer(step, seconds):
        times[step] = times.get(step, 0.0) + seconds

    t0 = time.perf_counter()
    ctx = Context(data)
    times["global pass (ids, as_of)"] = time.perf_counter() - t0
    X, _ = build_blocks(ctx, FAMILIES, {}, timer=timer)
    times["total build_features"] = time.perf_counter() - t0
    return X, times, len(ctx.block_edges())


# ---------------------------------------------------------------------- baselines


def pandas_baseline(data) -> pd.DataFrame:
    """Core timing + channel columns the plain-pandas way (merge, groupby, crosstab)."""
    import payseg

    p, b = data.payments, data.bills
    m = p.merge(
        b[["customer_id", "period", "issued_on", "due_on"]],
        on=["customer_id", "period"],
        how="left",
    )
    day = m["paid_at"].dt.normalize()
    m["delay"] = (day - m["issued_on"]).dt.days
    m["to_due"] = (m["due_on"] - day).dt.days
    m["late"] = (day > m["due_on"]).where(m["due_on"].notna())
    m["weekend"] = m["paid_at"].dt.day_of_week >= 5
    m["evening"] = m["paid_at"].dt.hour >= 18
    g = m.groupby("customer_id")
    out = g.agg(
        delay_days_mean=("delay", "mean"),
        delay_days_median=("delay", "median"),
        delay_days_std=("delay", "std"),
        days_to_due_mean=("to_due", "mean"),
        late_share=("late", "mean"),
        weekend_share=("weekend", "mean"),
        evening_share=("evening", "mean"),
    )
    out["delay_days_p90"] = g["delay"].quantile(0.9)
    shares = pd.crosstab(p["customer_id"], p["channel"], normalize="index")
    groups = payseg.channels.table()["group"].reindex(shares.columns)
    out = out.join(shares.T.groupby(groups.to_numpy()).sum().T.add_suffix("_share"))
    logs = np.log2(shares.where(shares > 0))
    out["channel_entropy"] = -(shares * logs).sum(axis=1)
    out["top_channel_share"] = shares.max(axis=1)
    out["n_channels"] = (shares > 0).sum(axis=1)
    return out.join(shares.add_prefix("channel_share__"))


def duckdb_baseline(data) -> pd.DataFrame:
    """The same columns as one DuckDB query: one scan, one join, one GROUP BY."""
    import duckdb
    import pyarrow as pa

    import payseg

    p, b = data.payments, data.bills
    pay = pa.table(
        {
            "customer_id": pa.array(p["customer_id"].array),
            "paid_at": pa.array(p["paid_at"]),
            "channel": pa.array(p["channel"].astype("str").array),
            "period": pa.array(
                p["period"].array.asi8, mask=p["period"].isna().to_numpy()
            ),
        }
    )
    bill = pa.table(
        {
            "customer_id": pa.array(b["customer_id"].array),
            "period": pa.array(b["period"].array.asi8),
            "issued_on": pa.array(b["issued_on"]),
            "due_on": pa.array(b["due_on"]),
        }
    )
    codes = [str(c) for c in p["channel"].cat.categories]
    table = payseg.channels.table()
    counts = ",\n  ".join(
        f"count(*) FILTER (WHERE channel = '{c}') AS n_{i}" for i, c in enumerate(codes)
    )
    n_known = " + ".join(f"n_{i}" for i in range(len(codes)))
    shares = ", ".join(
        f'n_{i} / nullif(k, 0) AS "channel_share__{c}"' for i, c in enumerate(codes)
    )
    groups = ", ".join(
        "("
        + " + ".join(
            [f"n_{i}" for i, c in enumerate(codes) if table.loc[c, "group"] == g]
            or ["0"]
        )
        + f") / nullif(k, 0) AS {g}_share"
        for g in payseg.channels.GROUPS
    )
    entropy = " + ".join(
        f"coalesce(-(n_{i} / nullif(k, 0)) * log2(nullif(n_{i}, 0) / nullif(k, 0)), 0)"
        for i in range(len(codes))
    )
    top = "greatest(" + ", ".join(f"n_{i}" for i in range(len(codes))) + ")"
    used = " + ".join(f"(n_{i} > 0)::int" for i in range(len(codes)))
    sql = f"""
WITH agg AS (
SELECT p.customer_id,
  avg(date_diff('day', b.issued_on, p.paid_at::DATE)) AS delay_days_mean,
  median(date_diff('day', b.issued_on, p.paid_at::DATE)) AS delay_days_median,
  stddev_samp(date_diff('day', b.issued_on, p.paid_at::DATE)) AS delay_days_std,
  quantile_cont(date_diff('day', b.issued_on, p.paid_at::DATE), 0.9) AS delay_days_p90,
  avg(date_diff('day', p.paid_at::DATE, b.due_on)) AS days_to_due_mean,
  avg((p.paid_at::DATE > b.due_on)::int) AS late_share,
  avg((dayofweek(p.paid_at) IN (0, 6))::int) AS weekend_share,
  avg((hour(p.paid_at) >= 18)::int) AS evening_share,
  {counts}
FROM pay p LEFT JOIN bill b ON p.customer_id = b.customer_id AND p.period = b.period
GROUP BY p.customer_id)
SELECT * EXCLUDE ({", ".join(f"n_{i}" for i in range(len(codes)))}, k),
  {groups}, {entropy} AS channel_entropy, {top} / nullif(k, 0) AS top_channel_share,
  {used} AS n_channels, {shares}
FROM (SELECT *, {n_known} AS k FROM agg)
ORDER BY customer_id
"""
    con = duckdb.connect()
    con.register("pay", pay)
    con.register("bill", bill)
    return con.execute(sql).df().set_index("customer_id")


# ---------------------------------------------------------------------- main


def main(argv=None) -> int:
    import payseg

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="where the Parquet files are cached"
    )
    parser.add_argument(
        "--order",
        choices=["customer", "date", "random"],
        default="customer",
        help="row order of payments and bills (default: by customer)",
    )
    parser.add_argument(
        "--shuffle",
        action="store_const",
        const="random",
        dest="order",
        help="same as --order random",
    )
    parser.add_argument(
        "--skip-pandas", action="store_true", help="skip baseline (a), the slowest step"
    )
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    directory = args.data_dir or Path(tempfile.gettempdir()) / (
        f"payseg-bench-features-{args.customers}-{args.months}-{args.seed}"
    )
    if args.generate_only:
        generate(directory, args.customers, args.months, args.seed)
        return 0
    if not (directory / "customers.parquet").exists():
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate-only",
                "--customers",
                str(args.customers),
                "--months",
                str(args.months),
                "--seed",
                str(args.seed),
                "--data-dir",
                str(directory),
            ],
            check=True,
        )
        print(f"generated into {directory} in {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    data = read(directory)
    if args.order == "random":
        rng = np.random.default_rng(args.seed)
        data.payments = data.payments.iloc[rng.permutation(len(data.payments))]
        data.bills = data.bills.iloc[rng.permutation(len(data.bills))]
        data.payments = data.payments.reset_index(drop=True)
        data.bills = data.bills.reset_index(drop=True)
    elif args.order == "date":
        data.payments = data.payments.sort_values(
            "paid_at", kind="stable", ignore_index=True
        )
        data.bills = data.bills.sort_values(
            ["issued_on", "period"], kind="stable", ignore_index=True
        )
    print(
        f"read Parquet: {len(data.payments):,} payments, {len(data.bills):,} bills, "
        f"{len(data.customers):,} customers in {time.perf_counter() - t:.1f} s "
        f"(rows ordered by {args.order})"
    )
    rss_before = rss_gib()

    X, times, n_blocks = build_timed(data)
    print(f"build_features, one thread ({n_blocks} blocks of consecutive customers):")
    for step, seconds in times.items():
        print(f"  {step:<28s} {seconds:8.2f} s")
    t = time.perf_counter()
    Y = payseg.build_features(data, n_jobs=-1)
    t_threads = time.perf_counter() - t
    assert Y.equals(X), "n_jobs=-1 must give the same features"
    del Y
    print(f"  {'total, n_jobs=-1':<28s} {t_threads:8.2f} s ({os.cpu_count()} cores)")
    rss_build = rss_gib()
    print(
        f"features: {X.shape[0]:,} rows x {X.shape[1]} columns; peak RSS "
        f"{rss_build:.2f} GiB (after reading the data: {rss_before:.2f} GiB)"
    )
    total = times["total build_features"]

    t = time.perf_counter()
    duck = duckdb_baseline(data)
    t_duck = time.perf_counter() - t
    print(
        f"(b) DuckDB single-pass SQL     {t_duck:8.2f} s  ({duck.shape[1]} columns)"
        f"  build / (b) = {total / t_duck:.2f} (one thread), "
        f"{t_threads / t_duck:.2f} (n_jobs=-1)  (target <= 2)"
    )
    if not args.skip_pandas:
        t = time.perf_counter()
        plain = pandas_baseline(data)
        t_pandas = time.perf_counter() - t
        print(
            f"(a) pandas merge+groupby      {t_pandas:8.2f} s  ({plain.shape[1]} "
            f"columns)  (a) / build = {t_pandas / total:.1f}x (one thread), "
            f"{t_pandas / t_threads:.1f}x (n_jobs=-1)  (target >= 10)"
        )
    print(f"peak RSS of the whole run: {rss_gib():.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
