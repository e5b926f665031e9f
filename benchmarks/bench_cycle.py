"""Benchmark: cost of the billing-cycle feature family against the other families.

Builds the feature table of ``payseg.synth.generate(--customers)`` with every family
but ``cycle`` (the baseline) and with every family, ``--repeats`` times each in the
same process (``n_jobs=1``), and prints the best times and their ratio. Then times
the ``cycle`` family alone with and without the amount rule of ``lump_share``
(:func:`payseg.features.cycle.lump_by_amount`, switched off by a stub returning no
lump: the cost before it existed) and prints that ratio.

Usage::

    python benchmarks/bench_cycle.py --customers 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import payseg
from payseg.features import FAMILIES
from payseg.features import cycle as cycle_module


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    data = payseg.synth.generate(args.customers, seed=args.seed)
    rest = [f for f in FAMILIES if f != "cycle"]
    best = {"without cycle": float("inf"), "all families": float("inf")}
    for _ in range(args.repeats):
        for name, families in (("without cycle", rest), ("all families", None)):
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                payseg.build_features(data, families=families, n_jobs=1)
            best[name] = min(best[name], time.perf_counter() - t)
    print(
        f"{args.customers:,} customers, {len(data.payments):,} payments, "
        f"{len(data.bills):,} bills"
    )
    for name, sec in best.items():
        print(f"{name:>14}: {sec:.2f} s")
    print(
        f"ratio (all / without cycle): {best['all families'] / best['without cycle']:.2f}"
    )
    rule = cycle_module.lump_by_amount
    off = lambda block: np.zeros(len(block.pay), dtype=bool)  # noqa: E731
    lump = {"cycle, amount rule off": float("inf"), "cycle": float("inf")}
    for _ in range(args.repeats):
        for name, fn in (("cycle, amount rule off", off), ("cycle", rule)):
            cycle_module.lump_by_amount = fn
            try:
                t = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    payseg.build_features(data, families=["cycle"], n_jobs=1)
                lump[name] = min(lump[name], time.perf_counter() - t)
            finally:
                cycle_module.lump_by_amount = rule
    for name, sec in lump.items():
        print(f"{name:>22}: {sec:.2f} s")
    ratio = lump["cycle"] / lump["cycle, amount rule off"]
    print(f"ratio (cycle / cycle without the amount rule): {ratio:.2f}")


if __name__ == "__main__":
    main()
