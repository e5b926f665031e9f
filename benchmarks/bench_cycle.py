"""Benchmark: cost of the billing-cycle feature family against the other families.

Builds the feature table of ``payseg.synth.generate(--customers)`` with every family
but ``cycle`` (the baseline) and with every family, ``--repeats`` times each in the
same process (``n_jobs=1``), and prints the best times and their ratio. Then times
the ``cycle`` family alone with and without the amount rule of ``lump_share``
(:func:`payseg.features.cycle.lump_by_amount`, switched off by a stub returning no
lump: the cost before it existed) and prints that ratio.

With ``--field-seeds``, also the effect of the amount rule on segments: for each
seed, the field scenario (``payseg.synth.generate(--field-customers, seed,
scenario="field")``, written as the three districts' exports and loaded back) is
segmented by ``payseg.segment`` with and without the rule, and the ARI against the
planted behaviour, the number of segments and the mean ``lump_share`` of the planted
catch-up payers are printed side by side.

Usage::

    python benchmarks/bench_cycle.py --customers 20000 --repeats 3
    python benchmarks/bench_cycle.py --repeats 3 --field-seeds 2 3 4
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
    ap.add_argument("--field-seeds", type=int, nargs="*", default=[])
    ap.add_argument("--field-customers", type=int, default=20_000)
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
    for seed in args.field_seeds:
        field_quality(seed, args.field_customers, off)


def field_quality(seed: int, n: int, off) -> None:
    """ARI, k and the catch-up payers' lump_share with and without the amount rule."""
    import tempfile

    from sklearn.metrics import adjusted_rand_score

    data = payseg.synth.generate(n, seed=seed, scenario="field")
    truth = data.truth["behaviour"]
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = payseg.synth.write_districts(data, tmp, seed=seed)
        loaded = payseg.load(
            [f["payments"] for f in files.values()],
            bills=[f["bills"] for f in files.values() if f["bills"]],
            customers=[f["customers"] for f in files.values()],
        )
    rule = cycle_module.lump_by_amount
    out = {}
    for name, fn in (("rule off", off), ("rule on", rule)):
        cycle_module.lump_by_amount = fn
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = payseg.segment(loaded, random_state=seed, migration=False)
        finally:
            cycle_module.lump_by_amount = rule
        seg = res.customers["segment"]
        lump = res.features["lump_share"].reindex(truth.index)
        out[name] = (
            adjusted_rand_score(truth.reindex(seg.index), seg),
            int(seg[seg >= 0].nunique()),
            float(lump[truth == "catch_up"].mean()),
            float(lump[truth != "catch_up"].mean()),
        )
    for name, (ari, k, cu, rest) in out.items():
        print(
            f"field seed {seed}, {name:>8}: ARI {ari:.3f}, k {k}, lump_share mean "
            f"catch-up payers {cu:.3f}, others {rest:.3f}"
        )


if __name__ == "__main__":
    main()
