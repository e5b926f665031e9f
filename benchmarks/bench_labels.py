"""Time every labeller of payseg.labels on generated data.

    python benchmarks/bench_labels.py --customers 200000 --months 24

Generates the data and features once (not timed as labelling), then times each
labeller and, in the same run, a baseline: a plain pandas groupby of payment count and
total per customer (the least work any value label needs). Prints seconds, the ratio to
the baseline and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

import payseg
from payseg import labels


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    t_prep, data = _timed(
        lambda: payseg.synth.generate(
            args.customers, seed=args.seed, months=args.months
        )
    )
    t_feat, X = _timed(lambda: payseg.build_features(data))
    print(
        f"data: {len(data.payments):,} payments, {len(X):,} customers "
        f"(generate {t_prep:.1f} s, features {t_feat:.1f} s, not counted)"
    )
    base, _ = _timed(
        lambda: data.payments.groupby("customer_id")["amount"].agg(["size", "sum"])
    )
    truth = data.truth["archetype"]
    one_each = pd.Series(np.arange(len(X)), index=X.index)
    results = {}
    steps = {
        "ArchetypeLabeller (planted segments)": lambda: labels.ArchetypeLabeller().fit(
            X, truth
        ),
        "ArchetypeLabeller (one segment per customer)": lambda: (
            labels.ArchetypeLabeller().fit(X, one_each)
        ),
        "ValuePyramid": lambda: labels.ValuePyramid().fit(X),
        "ValueMatrix (from payments)": lambda: labels.ValueMatrix().fit(data),
        "CreditGrade": lambda: labels.CreditGrade().fit(X),
        "EarlyWarning": lambda: labels.EarlyWarning().fit(X),
        "outlet_shares": lambda: labels.outlet_shares(data),
        "rank_high_value": lambda: labels.rank_high_value(data),
    }
    for name, fn in steps.items():
        results[name], out = _timed(fn)
        if name == "CreditGrade":
            grades = out.labels_
    customers = pd.DataFrame({"archetype": truth, "grade": grades})
    results["recommend"], _ = _timed(lambda: labels.recommend(customers))
    print(f"baseline groupby count+sum: {base:.2f} s")
    for name, sec in results.items():
        print(f"{name:46s} {sec:7.2f} s  x{sec / base:6.1f} baseline")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
