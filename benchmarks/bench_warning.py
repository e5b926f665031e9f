"""Benchmark: early warning on a planted deterioration.

Generates customers with :func:`payseg.synth.generate`, then plants a deterioration
in ``--share`` of the postpaid customers (every archetype, chronic late payers and
dormant homes included), over their last 4-6 billing periods. Each planted customer
shows each of five symptoms with probability 0.5 (at least one): the delay grows by
``--step`` days per period; an auto-debit stops (its payments move to the counter);
some payments are partial (probability 0.3, half the bill); consumption falls 8% per
period; each of the last two bills is left unpaid with probability 0.6. Then scores ``EarlyWarning`` on the feature table and prints the
precision at the planted count (the share of the top-N scores that are planted, N
the number planted), the ROC AUC, the number of customers tied at the cut-off and
the share of planted and of other customers at level medium or high.

With ``--scenario field``: ``payseg.synth.generate(N, seed, scenario="field")``
(about 5% of postpaid customers deteriorating, truth ``deteriorating``), written as
the three districts' exports and read back with one ``payseg.load`` (as
``benchmarks/bench_field.py`` does), scored as ``payseg.segment`` scores it (customers
with data, ``fit(X, data=loaded)``). ``--scenario both`` runs both scenarios, each
on its own tuning and held-out seeds, and prints one summary table; ``--baseline
PARAMS`` (JSON) scores the same data with those parameters too (e.g. the previous
rule), for a before/after in one run.

Usage::

    python benchmarks/bench_warning.py --seeds 0 1 2          # tuning seeds
    python benchmarks/bench_warning.py --seeds 10 11 12 13 14 # held out
    python benchmarks/bench_warning.py --features-only        # fit(X) alone
    python benchmarks/bench_warning.py --scenario both        # default 0-2 / 10-14,
                                                              # field 0-1 / 2-4

The payseg 0.1 warning (levels only) is measured by running this file against an
older checkout with ``--features-only``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import payseg
from payseg.labels import EarlyWarning

AUTO = ("entrusted_debit", "card_debit")


def _months(a, b):
    """Whole months from period Series ``b`` to ``a`` (NaN where either is NaT)."""
    a = pd.PeriodIndex(a, freq="M")
    b = pd.PeriodIndex(b, freq="M")
    out = (a.asi8 - b.asi8).astype(float)
    out[a.isna() | b.isna()] = np.nan
    return out


def plant_deterioration(data, share=0.05, seed=0, step=3.0):
    """Copy of ``data`` with a deterioration planted; returns (data, planted ids)."""
    rng = np.random.default_rng(seed + 7919)
    bills = data.bills.copy()
    pay = data.payments.copy()
    ids = np.asarray(bills["customer_id"].unique())
    planted = pd.Index(rng.choice(ids, int(round(share * len(ids))), replace=False))
    last = bills.groupby("customer_id")["period"].max()
    m = pd.Series(rng.integers(4, 7, size=len(last)), index=last.index)
    start = last - m  # first deteriorated period is start + 1
    sym = pd.DataFrame(
        rng.random((len(planted), 5)) < 0.5,
        index=planted,
        columns=["delay", "auto", "partial", "falling", "unpaid"],
    )
    none = ~sym.any(axis=1).to_numpy()
    sym.iloc[np.flatnonzero(none), rng.integers(0, 5, none.sum())] = True
    has = {
        c: pay["customer_id"].map(sym[c]).fillna(False).to_numpy(bool)
        for c in sym.columns
    }
    pay_start = pay["customer_id"].map(start)
    j_pay = pd.Series(_months(pay["period"], pay_start), index=pay.index)
    j_pay = j_pay.where(pay["customer_id"].isin(planted) & (j_pay > 0))
    hit = j_pay.notna().to_numpy()
    j = j_pay.to_numpy(dtype=float)
    end = pay["paid_at"].max()
    late = hit & has["delay"]
    pay.loc[late, "paid_at"] = pay.loc[late, "paid_at"] + pd.to_timedelta(
        j[late] * step + rng.uniform(0, step, late.sum()), unit="D"
    )
    if AUTO:
        chan = pay["channel"].astype("object")
        stop = hit & has["auto"] & chan.isin(AUTO).to_numpy()
        chan[stop] = "counter"
        pay["channel"] = pd.Categorical(
            chan, categories=sorted(set(pay["channel"].cat.categories) | {"counter"})
        )
    partial = hit & has["partial"] & (rng.random(len(pay)) < 0.3)
    factor = np.where(hit & has["falling"], 1 - 0.08 * np.nan_to_num(j), 1.0)
    pay["amount"] = (pay["amount"] * factor * np.where(partial, 0.5, 1.0)).round(2)
    # the last two bills: unpaid with probability 0.6 each
    lag = _months(pay["customer_id"].map(last), pay["period"])
    unpaid = hit & has["unpaid"] & (lag <= 1) & (rng.random(len(pay)) < 0.6)
    unpaid |= hit & (pay["paid_at"] > end).to_numpy()
    pay = pay[~unpaid].reset_index(drop=True)
    b_start = bills["customer_id"].map(start)
    jb = pd.Series(_months(bills["period"], b_start), index=bills.index)
    falling = bills["customer_id"].map(sym["falling"]).fillna(False).astype(bool)
    jb = jb.where(falling & (jb > 0)).to_numpy(dtype=float)
    bills["amount_due"] = (
        bills["amount_due"] * np.where(np.isnan(jb), 1.0, 1 - 0.08 * np.nan_to_num(jb))
    ).round(2)
    return dataclasses.replace(data, payments=pay, bills=bills), planted


def evaluate(scores: pd.Series, levels: pd.Series, planted: pd.Index) -> dict:
    y = scores.index.isin(planted)
    n = int(y.sum())
    order = np.lexsort((np.arange(len(scores)), -scores.to_numpy()))
    cut = scores.to_numpy()[order[n - 1]]
    warned = levels.isin(["medium", "high"]).to_numpy()
    return {
        "planted": n,
        "precision_at_n": float(y[order[:n]].mean()),
        "roc_auc": float(roc_auc_score(y, scores.to_numpy())),
        "tied_at_cut": int((scores.to_numpy() == cut).sum()),
        "warned_planted": float(warned[y].mean()),
        "warned_other": float(warned[~y].mean()),
    }


#: Tuning and held-out seeds of each scenario (``--scenario both``).
SEEDS = {"default": ((0, 1, 2), (10, 11, 12, 13, 14)), "field": ((0, 1), (2, 3, 4))}


def baseline_class(ref):
    """``EarlyWarning`` as of git ``ref`` (its ``_warning.py`` and ``_history.py``),
    imported beside the current one so both score the same data in one run."""
    import importlib.util
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[1]

    def load(name, text):
        full = f"payseg.labels.{name}"
        spec = importlib.util.spec_from_loader(full, loader=None)
        mod = importlib.util.module_from_spec(spec)
        mod.__package__ = "payseg.labels"
        sys.modules[full] = mod
        exec(compile(text, f"{ref}:{name}", "exec"), mod.__dict__)
        return mod

    def show(path):
        return subprocess.run(
            ["git", "-C", str(root), "show", f"{ref}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    load("_history_base", show("payseg/labels/_history.py"))
    text = show("payseg/labels/_warning.py").replace(
        "from ._history import", "from ._history_base import"
    )
    return load("_warning_base", text).EarlyWarning


def scenario_data(scenario, customers, seed, share, step, cache=None):
    """(data, X, planted ids) of one seed; pickled in ``cache`` when given."""
    import os
    import pickle
    import tempfile
    import warnings

    path = None
    if cache:
        os.makedirs(cache, exist_ok=True)
        path = os.path.join(cache, f"{scenario}_{customers}_{seed}.pkl")
        if scenario == "default":
            path = path.replace(".pkl", f"_{share}_{step}.pkl")
        if os.path.exists(path):
            with open(path, "rb") as fh:
                return pickle.load(fh)
    if scenario == "default":
        data = payseg.synth.generate(customers, seed=seed)
        data, planted = plant_deterioration(data, share, seed, step)
        X = payseg.build_features(data)
    else:
        gen = payseg.synth.generate(customers, seed=seed, scenario="field")
        truth = gen.truth
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            files = payseg.synth.write_districts(gen, tmp, seed=seed)
            data = payseg.load(
                [f["payments"] for f in files.values()],
                bills=[f["bills"] for f in files.values() if f["bills"]],
                customers=[f["customers"] for f in files.values()],
            )
            X = payseg.build_features(data)
            # as payseg.segment: customers with a payment or bill
            from payseg.features import has_data

            keep = has_data(data, as_of=X.attrs["as_of"]).reindex(
                X.index, fill_value=False
            )
            X = X[keep.to_numpy()]
        det = truth["deteriorating"].astype(bool)
        planted = pd.Index(det.index[det.to_numpy()]).intersection(X.index)
    out = (data, X, planted)
    if path:
        with open(path, "wb") as fh:
            pickle.dump(out, fh)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--customers", type=int, default=None, help="default 5,000; field 20,000"
    )
    ap.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="default: the scenario's tuning and held-out seeds",
    )
    ap.add_argument(
        "--scenario", choices=["default", "field", "both"], default="default"
    )
    ap.add_argument("--share", type=float, default=0.05)
    ap.add_argument("--step", type=float, default=3.0)
    ap.add_argument("--params", default="{}", help="EarlyWarning parameters (JSON)")
    ap.add_argument(
        "--baseline",
        default=None,
        metavar="REF",
        help="also score with EarlyWarning as of this git ref",
    )
    ap.add_argument("--cache", default=None, help="pickle the data here (reruns)")
    ap.add_argument(
        "--features-only",
        action="store_true",
        help="fit(X) without the payments and bills (no own history)",
    )
    args = ap.parse_args(argv)
    scenarios = ["default", "field"] if args.scenario == "both" else [args.scenario]
    models = {"this version": EarlyWarning}
    if args.baseline:
        models = {f"as of {args.baseline}": baseline_class(args.baseline), **models}
    params = json.loads(args.params)
    rows = []
    for scenario in scenarios:
        n = args.customers or (20_000 if scenario == "field" else 5_000)
        tuning, held = SEEDS[scenario]
        for seed in args.seeds or (*tuning, *held):
            data, X, planted = scenario_data(
                scenario, n, seed, args.share, args.step, args.cache
            )
            for name, cls in models.items():
                ew = cls(**(params if name == "this version" else {}))
                t = time.perf_counter()
                ew = ew.fit(X) if args.features_only else ew.fit(X, data=data)
                secs = time.perf_counter() - t
                rows.append(
                    {
                        "scenario": scenario,
                        "seeds": "tuning" if seed in tuning else "held-out",
                        "model": name,
                        "seed": seed,
                        **evaluate(ew.scores_, ew.labels_, planted),
                        "fit_s": secs,
                    }
                )
                print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    keys = ["scenario", "seeds", "model"]
    summary = df.groupby(keys, sort=False).mean(numeric_only=True).drop(columns="seed")
    print(summary.round(3).to_string())
    if args.baseline:
        fit = summary["fit_s"].unstack("model")
        ratio = fit["this version"] / fit[f"as of {args.baseline}"]
        print("fit time, this version / baseline:", ratio.round(2).to_dict())


if __name__ == "__main__":
    main()
