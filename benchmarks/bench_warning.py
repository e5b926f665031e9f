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

Usage::

    python benchmarks/bench_warning.py --seeds 0 1 2          # tuning seeds
    python benchmarks/bench_warning.py --seeds 10 11 12 13 14 # held out
    python benchmarks/bench_warning.py --features-only        # fit(X) alone

The payseg 0.1 warning (levels only) is measured by running this file against an
older checkout with ``--features-only``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=5_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--share", type=float, default=0.05)
    ap.add_argument("--step", type=float, default=3.0)
    ap.add_argument("--params", default="{}", help="EarlyWarning parameters (JSON)")
    ap.add_argument(
        "--features-only",
        action="store_true",
        help="fit(X) without the payments and bills (no own history)",
    )
    args = ap.parse_args(argv)
    rows = []
    for seed in args.seeds:
        data = payseg.synth.generate(args.customers, seed=seed)
        data, planted = plant_deterioration(data, args.share, seed, args.step)
        X = payseg.build_features(data)
        ew = EarlyWarning(**json.loads(args.params))
        ew = ew.fit(X) if args.features_only else ew.fit(X, data=data)
        rows.append({"seed": seed, **evaluate(ew.scores_, ew.labels_, planted)})
        print(rows[-1], flush=True)
    df = pd.DataFrame(rows).set_index("seed")
    print(df.round(3).to_string())
    print("mean", df.mean().round(3).to_dict())


if __name__ == "__main__":
    main()
