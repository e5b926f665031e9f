"""Benchmark: Segmenter with automatic k on a large feature table.

Builds a payseg feature table, then times ``Segmenter(n_clusters="auto").fit`` (k
chosen on a seeded 10,000-customer sample, final k-means on everyone started from the
sample's centroids) against a plain scikit-learn pipeline in the same run: median
imputation, StandardScaler and ``KMeans(n_clusters=k)`` at the k the Segmenter chose.

The feature table comes from ``payseg.synth.generate`` + ``payseg.build_features``.
With ``--base`` smaller than ``--customers``, ``--base`` customers are generated and
their feature rows resampled (with a little jitter on the continuous columns) up to
``--customers`` rows: same columns, same NaN pattern, same archetype mix, and much
less time spent in the generator, which is benchmarked on its own.

Usage::

    python benchmarks/bench_segment.py --customers 1000000
    python benchmarks/bench_segment.py --customers 1000000 --base 1000000  # full
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def feature_table(n: int, base: int, months: int, seed: int):
    import payseg

    t = time.perf_counter()
    data = payseg.synth.generate(min(base, n), seed=seed, months=months)
    X = payseg.build_features(data)
    truth = data.truth["archetype"].reindex(X.index)
    built = time.perf_counter() - t
    if len(X) < n:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(X), size=n)
        values = X.to_numpy()[idx]
        # jitter the continuous columns by 1% of their sd so rows are not duplicates
        sd = np.nanstd(X.to_numpy(), axis=0)
        continuous = X.nunique().to_numpy() > 20
        values[:, continuous] += (
            rng.normal(0, 0.01, size=(n, int(continuous.sum()))) * sd[continuous]
        )
        index = pd.Index([f"b{i:09d}" for i in range(n)], name="customer_id")
        X = pd.DataFrame(values, index=index, columns=X.columns)
        truth = pd.Series(truth.to_numpy()[idx], index=index, name="archetype")
    return X, truth, built


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument(
        "--base",
        type=int,
        default=50_000,
        help="customers actually generated; the rest are resampled feature rows",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from sklearn.cluster import KMeans
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from payseg import evaluate
    from payseg.cluster import Segmenter

    X, truth, built = feature_table(args.customers, args.base, args.months, args.seed)
    print(
        f"feature table: {X.shape[0]:,} customers x {X.shape[1]} columns "
        f"({built:.1f} s to generate {min(args.base, args.customers):,} customers "
        f"and build features); peak RSS so far {peak_rss_mib():,.0f} MiB"
    )

    t = time.perf_counter()
    seg = Segmenter(n_clusters="auto", random_state=args.seed).fit(X)
    t_seg = time.perf_counter() - t
    ari = evaluate.ari(seg.labels_, truth)
    print(
        f"Segmenter auto k: {t_seg:.1f} s, k={seg.n_clusters_}, ARI vs truth {ari:.3f}"
    )
    print(f"  {seg.k_reason_}")

    used = list(seg.feature_names_in_)
    t = time.perf_counter()
    base = make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        KMeans(n_clusters=seg.n_clusters_, random_state=args.seed),
    ).fit(X[used].to_numpy())
    t_base = time.perf_counter() - t
    base_ari = evaluate.ari(pd.Series(base[-1].labels_, index=X.index), truth)
    print(
        f"baseline sklearn impute+scale+KMeans(k={seg.n_clusters_}) fixed k: "
        f"{t_base:.1f} s, ARI vs truth {base_ari:.3f}"
    )
    print(f"ratio Segmenter(auto k) / baseline(fixed k): {t_seg / t_base:.2f}")
    print(f"peak RSS: {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
