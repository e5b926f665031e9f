"""Benchmark: clustering quality on harder planted segmentations.

Generates planted data with :func:`payseg.synth.generate` under a grid of scenarios
(noise, imbalanced shares, subsets of archetypes, no bills, no channel, other markets,
sizes, months), builds the feature table and fits ``Segmenter(n_clusters="auto")``
exactly as :func:`payseg.segment` does (same features, same ``random_state``), then
prints, per scenario, the planted k, the chosen k and the adjusted Rand index
(:func:`payseg.evaluate.score`) over several seeds.

Feature tables can be cached on disk (``--cache DIR``) so that clustering changes can
be compared on identical inputs; the cache key is the scenario, the seed, the size and
the months.

Usage::

    python benchmarks/bench_quality.py                      # the default grid
    python benchmarks/bench_quality.py --scenarios noise3 imbalanced --seeds 0 1 2
    python benchmarks/bench_quality.py --params '{"selection": "gap"}'
    python benchmarks/bench_quality.py --list
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

CN_SHARES = {
    "auto_debit": 0.18,
    "prompt_online": 0.28,
    "deadline": 0.17,
    "chronic_late": 0.05,
    "counter_loyal": 0.07,
    "agent_rural": 0.08,
    "prepaid_frequent": 0.08,
    "prepaid_occasional": 0.05,
    "dormant": 0.04,
}


def _imbalanced(small: str, small_share: float, big: str, big_share: float) -> dict:
    """cn shares with one archetype at ``small_share`` and one at ``big_share``."""
    rest = {k: v for k, v in CN_SHARES.items() if k not in (small, big)}
    scale = (1 - small_share - big_share) / sum(rest.values())
    out = {k: v * scale for k, v in rest.items()}
    out[small], out[big] = small_share, big_share
    return out


def _subset(keys) -> dict:
    return {k: CN_SHARES[k] for k in keys}


# name -> (generate() keyword changes, post-processing of the data, size factor)
SCENARIOS = {
    "default": ({}, None, 1.0),
    "noise2": ({"noise": 2.0}, None, 1.0),
    "noise3": ({"noise": 3.0}, None, 1.0),
    "imbalanced": (
        {"archetypes": _imbalanced("chronic_late", 0.015, "prompt_online", 0.40)},
        None,
        1.0,
    ),
    "imbalanced_b": (
        {"archetypes": _imbalanced("counter_loyal", 0.02, "auto_debit", 0.40)},
        None,
        1.0,
    ),
    "k3": (
        {"archetypes": _subset(["prompt_online", "deadline", "chronic_late"])},
        None,
        1.0,
    ),
    "k5": (
        {
            "archetypes": _subset(
                [
                    "auto_debit",
                    "prompt_online",
                    "deadline",
                    "counter_loyal",
                    "prepaid_frequent",
                ]
            )
        },
        None,
        1.0,
    ),
    "k7": (
        {
            "archetypes": _subset(
                [
                    "auto_debit",
                    "prompt_online",
                    "deadline",
                    "chronic_late",
                    "counter_loyal",
                    "agent_rural",
                    "prepaid_frequent",
                ]
            )
        },
        None,
        1.0,
    ),
    "no_bills": ({}, "no_bills", 1.0),
    "no_channel": ({}, "no_channel", 1.0),
    "us": ({"market": "us"}, None, 1.0),
    "uk": ({"market": "uk"}, None, 1.0),
    "months12": ({"months": 12}, None, 1.0),
    "noise2_imb_m12": (
        {
            "noise": 2.0,
            "months": 12,
            "archetypes": _imbalanced("dormant", 0.015, "prompt_online", 0.40),
        },
        None,
        1.0,
    ),
    "n2k": ({}, None, 0.4),
    "n20k": ({}, None, 4.0),
    "n100k": ({}, None, 20.0),
}
#: scenarios run once (one seed) because they are large
ONCE = {"n100k"}
DEFAULT_GRID = [s for s in SCENARIOS if s != "n100k"]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _strip(data, how):
    import payseg

    if how == "no_bills":
        return payseg.PaymentData(
            payments=data.payments, customers=data.customers, truth=data.truth
        )
    if how == "no_channel":
        pay = data.payments.copy()
        pay["channel"] = pd.Categorical(
            [np.nan] * len(pay), categories=pay["channel"].cat.categories
        )
        return payseg.PaymentData(
            payments=pay,
            bills=data.bills,
            customers=data.customers,
            truth=data.truth,
        )
    return data


def feature_table(name, seed, n, months, cache: Path | None):
    """(X, truth, seconds) for one scenario and seed, from the cache when present."""
    import payseg

    kwargs, post, factor = SCENARIOS[name]
    n_cust = int(round(n * factor))
    kw = {"months": months, **kwargs}
    key = f"{name}-s{seed}-n{n_cust}-m{kw['months']}"
    if cache is not None:
        fx, ft = cache / f"{key}.X.parquet", cache / f"{key}.truth.parquet"
        if fx.exists() and ft.exists():
            return pd.read_parquet(fx), pd.read_parquet(ft)["archetype"], 0.0
    t = time.perf_counter()
    data = _strip(payseg.synth.generate(n_cust, seed=seed, **kw), post)
    X = payseg.build_features(data)
    truth = data.truth["archetype"].reindex(X.index)
    built = time.perf_counter() - t
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        # attrs hold Timestamps (as_of), which parquet metadata cannot store
        plain = X.copy()
        plain.attrs = {}
        plain.to_parquet(fx)
        truth.to_frame().to_parquet(ft)
    return X, truth, built


def run_cell(X, truth, seed, params):
    import payseg

    t = time.perf_counter()
    seg = payseg.Segmenter(n_clusters="auto", random_state=seed, **params).fit(X)
    sec = time.perf_counter() - t
    score = payseg.evaluate.score(seg.labels_, truth)
    return {
        "k_true": int(truth.nunique()),
        "k": int(seg.n_clusters_),
        "ari": float(score["ari"]),
        "seconds": sec,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--customers",
        type=int,
        default=5000,
        help="base size; n2k/n20k/n100k scale it (default 5000)",
    )
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--scenarios",
        nargs="+",
        default=DEFAULT_GRID,
        choices=list(SCENARIOS),
        metavar="SCENARIO",
    )
    parser.add_argument(
        "--params", default="{}", help="JSON dict of extra Segmenter parameters"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="directory caching feature tables between runs",
    )
    parser.add_argument(
        "--csv",
        type=Path,
        default=None,
        help="also write the per-seed rows to this CSV",
    )
    parser.add_argument("--list", action="store_true", help="list scenarios and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (kw, post, factor) in SCENARIOS.items():
            print(f"{name:16s} x{factor:<5g} {post or ''} {kw}")
        return
    params = json.loads(args.params)

    rows = []
    t0 = time.perf_counter()
    for name in args.scenarios:
        seeds = args.seeds[:1] if name in ONCE else args.seeds
        for seed in seeds:
            X, truth, built = feature_table(
                name, seed, args.customers, args.months, args.cache
            )
            row = run_cell(X, truth, seed, params)
            row.update(scenario=name, seed=seed, n=len(X), build_seconds=built)
            rows.append(row)
            print(
                f"  {name:16s} seed={seed} n={len(X):>7,} k={row['k']:>2}/"
                f"{row['k_true']} ari={row['ari']:.3f} "
                f"({row['seconds']:.1f} s fit, {built:.1f} s data)",
                flush=True,
            )
    total = time.perf_counter() - t0
    df = pd.DataFrame(rows)
    if args.csv is not None:
        df.to_csv(args.csv, index=False)
    table = df.groupby("scenario", sort=False).agg(
        n=("n", "first"),
        seeds=("seed", "size"),
        k_true=("k_true", "first"),
        k_chosen=("k", lambda s: "/".join(str(v) for v in s)),
        ari_mean=("ari", "mean"),
        ari_min=("ari", "min"),
        fit_s=("seconds", "mean"),
    )
    print()
    print(f"Segmenter params: {params or 'defaults'}")
    print(table.to_markdown(floatfmt=".3f") if _has_tabulate() else table.round(3))
    grid = df[df["scenario"] != "default"]
    print(
        f"\nmean ARI over all cells: {df['ari'].mean():.3f}; over non-default "
        f"cells: {grid['ari'].mean():.3f}; worst cell: {df['ari'].min():.3f}"
    )
    print(f"total {total:.0f} s; peak RSS {peak_rss_mib():.0f} MiB")


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
