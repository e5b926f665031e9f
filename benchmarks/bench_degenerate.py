"""Cost of the degenerate-data checks (issue 18) against the work they guard.

    python benchmarks/bench_degenerate.py --customers 50000 --months 12

On ``payseg.synth.generate(customers, months=months)`` with 1% of customers added
that appear only in the customers table, times in one run, best of ``--repeat``:

- ``build_features(data)`` (baseline) and, alone, the checks it now makes: the
  coverage check of a given ``as_of`` (one pass over the rows, no sort), the inf
  check of the feature table and of the input amounts; and ``has_data`` (what
  ``segment()`` calls to find the customers without data: one more global pass);
- ``Segmenter.predict`` on the feature table (baseline) and the inf and
  no-usable-feature checks it now makes;

and prints each check's seconds and its ratio to its baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings

import numpy as np
import pandas as pd


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import payseg
    from payseg.cluster import _preprocess
    from payseg.features import has_data
    from payseg.features._block import Context
    from payseg.features._build import (
        check_as_of_coverage,
        check_finite,
        check_finite_amounts,
    )

    warnings.simplefilter("ignore")
    data = payseg.synth.generate(args.customers, seed=args.seed, months=args.months)
    n_extra = max(1, args.customers // 100)
    extra = pd.DataFrame(
        index=pd.Index([f"x{i:09d}" for i in range(n_extra)], name="customer_id")
    )
    data = dataclasses.replace(data, customers=pd.concat([data.customers, extra]))
    rows = len(data.payments) + len(data.bills)
    print(
        f"{args.customers:,} customers (+{n_extra:,} without data), "
        f"{len(data.payments):,} payments, {len(data.bills):,} bills"
    )

    X = payseg.build_features(data)
    ctx = Context(data, as_of=X.attrs["as_of"])
    seg = payseg.Segmenter(n_clusters=6, random_state=0).fit(X[has_data(data)])
    used = X[list(seg.features_used_)]
    arr = used.to_numpy(dtype=np.float64)

    base = best(lambda: payseg.build_features(data), args.repeat)
    stages = [
        (
            "as_of coverage check (given as_of)",
            base,
            lambda: check_as_of_coverage(ctx, "bench"),
        ),
        ("has_data(data)", base, lambda: has_data(data)),
        ("inf check of X (build_features)", base, lambda: check_finite(X, "bench")),
        ("inf check of the amounts", base, lambda: check_finite_amounts(data)),
    ]
    pred = best(lambda: seg.predict(used), args.repeat)
    stages += [
        (
            "inf + empty-row checks (predict)",
            pred,
            lambda: (
                _preprocess.check_finite(arr, list(used.columns), used.index),
                np.isnan(arr).all(axis=1),
            ),
        ),
    ]
    print(f"{'baseline build_features(data)':<36} {base:8.3f} s")
    print(f"{'baseline Segmenter.predict(X)':<36} {pred:8.3f} s")
    for name, ref, fn in stages:
        t = best(fn, args.repeat)
        print(f"{name:<36} {t:8.3f} s   {t / ref:6.3f}x baseline")
    print(f"rows: {rows:,}")


if __name__ == "__main__":
    main()
