"""Time payseg.synth.generate against two baselines measured in the same run.

Baselines:

* ``numpy draw``: drawing as many uniform random numbers as the generated payments
  and bills have cells (rows x columns) with the same numpy Generator. It is the floor
  of any generator that draws each value independently.
* ``parquet write``: writing the generated payments to Parquet with pyarrow (the
  cost of simply storing what was generated).

Usage::

    python benchmarks/bench_synth.py --customers 1000000 --months 24
    python benchmarks/bench_synth.py --customers 200000 --scenario field
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--market", default="cn")
    parser.add_argument(
        "--scenario",
        default="default",
        choices=["default", "field"],
        help="generate(scenario=...); field ignores --market",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="also time payseg.synth.write (export-style CSV)",
    )
    args = parser.parse_args(argv)

    import payseg

    t0 = time.perf_counter()
    extra = (
        {"market": args.market}
        if args.scenario == "default"
        else {"scenario": args.scenario}
    )
    data = payseg.synth.generate(
        args.customers, seed=args.seed, months=args.months, **extra
    )
    t_gen = time.perf_counter() - t0
    rss_gen = _peak_rss_mib()
    n_pay, n_bill = len(data.payments), len(data.bills)
    cells = n_pay * data.payments.shape[1] + n_bill * data.bills.shape[1]

    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    chunk = 10_000_000
    for start in range(0, cells, chunk):  # chunked to keep the baseline's memory low
        rng.random(min(chunk, cells - start))
    t_draw = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        data.payments.to_parquet(Path(tmp) / "payments.parquet", index=False)
        t_parquet = time.perf_counter() - t0
        t_write = None
        if args.write:
            t0 = time.perf_counter()
            payseg.synth.write(data, Path(tmp) / "export")
            t_write = time.perf_counter() - t0

    print(
        f"payseg.synth.generate: {args.customers:,} customers x {args.months} months "
        f"({'market ' + args.market if args.scenario == 'default' else 'field'})"
    )
    print(f"  rows: {n_pay:,} payments, {n_bill:,} bills")
    print(f"  generate:        {t_gen:8.2f} s   ({n_pay / t_gen:,.0f} payments/s)")
    print(
        f"  numpy draw:      {t_draw:8.2f} s   ({cells:,} uniform values)"
        f"  ratio generate/draw    = {t_gen / t_draw:5.1f}"
    )
    print(
        f"  parquet write:   {t_parquet:8.2f} s   (payments only)"
        f"          ratio generate/parquet = {t_gen / t_parquet:5.1f}"
    )
    if t_write is not None:
        print(f"  synth.write csv: {t_write:8.2f} s")
    print(
        f"  peak RSS after generate: {rss_gen:,.0f} MiB; "
        f"at end: {_peak_rss_mib():,.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
