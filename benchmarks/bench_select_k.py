"""Benchmark: automatic k and the no-structure test on data with a known answer.

``Segmenter(n_clusters="auto")`` on scikit-learn ``make_blobs`` with k = 3..12
centres, well separated (``cluster_std=1``) and overlapping (``cluster_std=2.5``), in
8 dimensions (centres uniform in the box [-10, 10]^8), and on uniform noise (no
structure). Prints, per selection rule and case, how often k is right and how often
the no-structure flag is (wrongly or rightly) set; each data set is fitted once and
every rule applied to the same ``k_scores_``.

Seeds 0-2 are the tuning seeds (the threshold ``NULL_SILHOUETTE_MARGIN`` of
``payseg.cluster._select_k``, the elbow rule and the choice of the default
``"gap_parsimonious"`` were made on them); seeds 10-14 are held out. Report both.

Usage::

    python benchmarks/bench_select_k.py                       # tuning seeds
    python benchmarks/bench_select_k.py --seeds 10 11 12 13 14   # held out
    python benchmarks/bench_select_k.py --rules parsimonious elbow gap --n 1500
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import make_blobs

from payseg.cluster import NoStructureWarning, Segmenter
from payseg.cluster._select_k import choose_k

CASES = {"separated": 1.0, "overlapping": 2.5}


def _datasets(seed: int, n: int, dims: int, ks):
    for case, std in CASES.items():
        for k in ks:
            X, _ = make_blobs(
                n_samples=n,
                n_features=dims,
                centers=k,
                cluster_std=std,
                center_box=(-10, 10),
                random_state=seed * 1000 + k,
            )
            yield case, k, X
    rng = np.random.default_rng(seed)
    yield "uniform", 1, rng.uniform(-1, 1, size=(n, dims))
    yield "uniform_2d", 1, rng.uniform(-1, 1, size=(n, 2))
    yield "gaussian", 1, rng.normal(size=(n, dims))


def run(seeds, rules, n, dims, ks, k_max):
    rows = []
    for seed in seeds:
        for case, k, X in _datasets(seed, n, dims, ks):
            # one fit scores every k; each rule is then applied to the same scores
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoStructureWarning)
                seg = Segmenter(k_range=(2, k_max), random_state=seed).fit(X)
            seconds = time.perf_counter() - t
            st = seg.structure_
            scores = seg.k_scores_.join(seg.null_scores_[["log_w", "null_silhouette"]])
            scores.attrs = dict(seg.k_scores_.attrs)
            for rule in rules:
                rows.append(
                    {
                        "seed": seed,
                        "case": case,
                        "k_true": k,
                        "rule": rule,
                        "k_found": choose_k(scores, rule, "")[0],
                        "no_structure": seg.no_structure_,
                        "gap_excess": st["gap_excess"],
                        "sil_excess": st["silhouette_excess"],
                        "seconds": seconds,
                    }
                )
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    df = df.assign(
        correct=np.where(
            df["k_true"] == 1,
            df["no_structure"],
            (df["k_found"] == df["k_true"]) & ~df["no_structure"],
        ),
        k_right=df["k_found"] == df["k_true"],
    )
    return (
        df.groupby(["case", "rule"])
        .agg(
            n=("correct", "size"),
            k_right=("k_right", "mean"),
            flagged=("no_structure", "mean"),
            correct=("correct", "mean"),
            min_sil_excess=("sil_excess", "min"),
            min_gap_excess=("gap_excess", "min"),
        )
        .round(3)
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument(
        "--rules",
        nargs="+",
        default=["gap_parsimonious", "parsimonious", "silhouette", "gap", "elbow"],
    )
    ap.add_argument("--n", type=int, default=1500, help="points per data set")
    ap.add_argument("--dims", type=int, default=8)
    ap.add_argument("--ks", type=int, nargs="+", default=list(range(3, 13)))
    ap.add_argument("--k-max", type=int, default=15)
    ap.add_argument("--out", help="CSV of every fit")
    args = ap.parse_args(argv)
    df = run(args.seeds, args.rules, args.n, args.dims, args.ks, args.k_max)
    if args.out:
        df.to_csv(args.out, index=False)
    with pd.option_context("display.width", 160):
        print(summarise(df).to_string())


if __name__ == "__main__":
    main()
