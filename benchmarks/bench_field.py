"""Benchmark: payseg on the field-realistic scenario, tuning and held-out seeds.

For each seed: ``payseg.synth.generate(N, seed, scenario="field")``, written as the
three districts' exports (:func:`payseg.synth.write_districts`) and read back with
one ``payseg.load`` of all of them (and one per district). Then, against the truth:

* ``payseg.segment`` (automatic k): ARI vs the planted behaviour and k vs 12, on the
  whole province and per district (the province's labels restricted to a district,
  and ``payseg.segment`` run on that district's export alone);
* beside it, the baseline: an independent hand-made 16-feature k-means at the
  planted k, its features written with plain pandas from the loaded tables (not
  payseg's features);
* early warning: precision at the planted count (share of the top-N
  ``warning_score`` that truly deteriorate, N = number planted) and ROC AUC vs
  ``truth.deteriorating``, beside a plain "recent 6 months vs the customer's own
  earlier months" score;
* where ARI is lost: for each behaviour, the payseg segment holding most of it;
  behaviours sharing one are merged, printed with the hand-made features that
  separate them best (standardised mean difference).

Seeds 0 and 1 are the tuning seeds, 2, 3 and 4 the held-out ones: the summary
reports both groups separately. Each stage is timed beside the baseline of the same
run (hand-made features + k-means vs ``payseg.segment``).

Usage::

    python benchmarks/bench_field.py                       # 20,000 customers, seeds 0-4
    python benchmarks/bench_field.py --customers 5000 --seeds 0 2 --no-districts
    python benchmarks/bench_field.py --no-districts --before   # also the old default

``--before`` runs ``payseg.segment`` a second time with the default feature set as
it was before ``amount_per_year`` joined it through its low tail
(:data:`BEFORE_FEATURES`; until then the set before ``channel_migration``) and
prints its ARI and k beside, in the same run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

import payseg
from payseg.cluster import _preprocess

TUNING = (0, 1)
#: The default feature set of payseg.segment before amount_per_year joined it (the
#: low-use shortfall, issue 16).
BEFORE_FEATURES = [
    "delay_days_median",
    "days_to_due_mean",
    "late_share",
    "unpaid_share",
    "pay_day_regularity",
    "payments_per_bill",
    "online_share",
    "self_service_share",
    "automatic_share",
    "prepaid_share",
    "counter_share",
    "agent_share",
    "channel_migration",
    "max_months_in_arrears",
    "topup_interval_mean",
    "topups_per_month",
    "payments_per_cycle",
    "fallback_share",
    "lump_share",
]
AUTO = {"card_debit", "entrusted_debit", "auto_topup"}
ONLINE = {
    "sgcc_app",
    "alipay",
    "wechat",
    "mobile_banking",
    "internet_banking",
    "unionpay",
    "ecommerce",
    "csg_app",
    "gov_app",
    "web",
}
COUNTER = {"counter", "bank_counter", "temp_point", "door_to_door"}
AGENT = {"agent_outlet", "postal", "partner_hall"}


# ------------------------------------------------------------------ hand-made model
def hand_features(data) -> pd.DataFrame:
    """16 features per customer with plain pandas (independent of payseg.features)."""
    p = data.payments[["customer_id", "paid_at", "channel", "amount", "period"]].copy()
    p["channel"] = p["channel"].astype(str)
    cid = p["customer_id"]
    g = p.groupby(cid)
    first, last = g["paid_at"].min(), g["paid_at"].max()
    end = p["paid_at"].max()
    months = ((end - first).dt.days / 30.44).clip(lower=1)
    # Months per bill from the bills table where there is one (else 1).
    b = data.bills
    if len(b):
        o = b["period"].array.asi8
        bb = pd.DataFrame({"customer_id": b["customer_id"].to_numpy(), "o": o})
        bb = bb.sort_values(["customer_id", "o"])
        step = bb.groupby("customer_id")["o"].diff()
        mpb = step.groupby(bb["customer_id"]).median()
    else:
        mpb = pd.Series(dtype=float)
    mpb = mpb.reindex(first.index).fillna(1.0)
    # Days after the start of the settlement month of the payment's period.
    per = p["period"].array.asi8.astype(float)
    per[p["period"].isna().to_numpy()] = np.nan
    settle = per + cid.map(mpb).to_numpy()
    settle_start = pd.to_datetime(
        pd.PeriodIndex.from_ordinals(np.nan_to_num(settle).astype(np.int64), freq="M")
        .to_timestamp()
        .to_numpy()
    )
    lag = (p["paid_at"].to_numpy() - settle_start.to_numpy()) / np.timedelta64(1, "D")
    lag[np.isnan(settle)] = np.nan
    p["lag"] = lag
    p["late"] = np.where(np.isnan(lag), np.nan, lag > 31)
    gap = g["paid_at"].diff().dt.total_seconds() / 86400
    p["gap"] = gap
    mid = first + (last - first) / 2
    early = p["paid_at"] <= cid.map(mid)
    is_counter = p["channel"].isin(COUNTER)
    top = p.groupby([cid, "channel"]).size().groupby(level=0).max()
    X = pd.DataFrame(
        {
            "log_pay_per_month": np.log(g.size() / months),
            "share_auto": p["channel"].isin(AUTO).groupby(cid).mean(),
            "share_online": p["channel"].isin(ONLINE).groupby(cid).mean(),
            "share_counter": is_counter.groupby(cid).mean(),
            "share_agent": p["channel"].isin(AGENT).groupby(cid).mean(),
            # the customer's own calendar: median lag above its earliest payments
            "lag_above_own_q10": g["lag"].median() - g["lag"].quantile(0.1),
            "log_amount_median": np.log1p(g["amount"].median().clip(lower=0)),
            "amount_cv": g["amount"].std() / g["amount"].mean().abs().clip(lower=1),
            "lag_median": g["lag"].median(),
            "lag_std": g["lag"].std(),
            "late_share": g["late"].mean(),
            "no_period_share": p["period"].isna().groupby(cid).mean(),
            "gap_cv": g["gap"].std() / g["gap"].mean().clip(lower=1),
            "counter_drop": is_counter[early].groupby(cid[early]).mean()
            - is_counter[~early].groupby(cid[~early]).mean(),
            "hour_mean": p["paid_at"].dt.hour.groupby(cid).mean(),
            "top_channel_share": top / g.size(),
        }
    )
    X.index.name = "customer_id"
    return X


def hand_kmeans(X: pd.DataFrame, k: int, seed: int) -> pd.Series:
    Z = X.copy()
    for c in Z:
        lo, hi = Z[c].quantile([0.01, 0.99])
        Z[c] = Z[c].clip(lo, hi).fillna(Z[c].median())
    Z = StandardScaler().fit_transform(Z.fillna(0))
    labels = KMeans(k, n_init=10, random_state=seed).fit_predict(Z)
    return pd.Series(labels, index=X.index)


def own_history_score(data) -> pd.Series:
    """Recent 6 months against the customer's own earlier months.

    Change in the mean lag (payment day after the start of its period) in units of
    the customer's own spread, plus twice the fall of the amount paid per month.
    Customers without any payment in the last 130 days are gone (closed), not
    deteriorating: lowest score.
    """
    p = data.payments
    end = p["paid_at"].max()
    cut = end - pd.Timedelta(days=183)
    recent = p["paid_at"] > cut
    lag = (
        p["paid_at"] - p["period"].dt.to_timestamp(how="start")
    ).dt.total_seconds() / 86400
    cid = p["customer_id"]
    f = pd.DataFrame({"lag": lag, "amount": p["amount"], "t": p["paid_at"]})
    a = (
        f[~recent.to_numpy()]
        .groupby(cid[~recent])
        .agg(
            lag=("lag", "mean"),
            sd=("lag", "std"),
            amt=("amount", "sum"),
            t0=("t", "min"),
        )
    )
    b = (
        f[recent.to_numpy()]
        .groupby(cid[recent])
        .agg(lag=("lag", "mean"), amt=("amount", "sum"))
    )
    b = b.reindex(a.index)
    span_a = ((cut - a["t0"]).dt.days / 30.44).clip(lower=1)
    rate_a, rate_b = a["amt"] / span_a, b["amt"].fillna(0) / 6
    z_lag = (b["lag"] - a["lag"]) / (a["sd"].fillna(0) + 3)
    drop = 1 - rate_b / rate_a.clip(lower=1)
    score = z_lag.fillna(0) + 2 * drop.clip(-1, 1)
    last = f.groupby(cid)["t"].max().reindex(score.index)
    gone = last < end - pd.Timedelta(days=130)
    return score.where(~gone, -10.0).rename("own_history")


# ------------------------------------------------------------------ diagnosis
def merges(seg: pd.Series, truth: pd.Series, X: pd.DataFrame) -> list[str]:
    """Behaviours whose majority payseg segment is shared, with separating features."""
    tab = pd.crosstab(truth, seg)
    major = tab.idxmax(axis=1)
    share = tab.max(axis=1) / tab.sum(axis=1)
    out = []
    Z = (X - X.mean()) / X.std()
    for s, group in major.groupby(major):
        behs = list(group.index)
        if len(behs) < 2:
            continue
        parts = ", ".join(f"{b} {share[b]:.0%}" for b in behs)
        a, b2 = behs[0], behs[1]
        za = Z.loc[truth.index[truth == a]].mean()
        zb = Z.loc[truth.index[truth == b2]].mean()
        d = (za - zb).abs().sort_values(ascending=False).head(3)
        sep = ", ".join(f"{k} {v:.1f} sd" for k, v in d.items())
        out.append(f"segment {s}: {parts} | {a} vs {b2} separated by {sep}")
    return out


def precision_at(score: pd.Series, truth: pd.Series) -> tuple[float, float, int]:
    s = score.reindex(truth.index).fillna(score.min())
    n = int(truth.sum())
    top = s.sort_values(ascending=False, kind="stable").index[:n]
    cut = s.sort_values(ascending=False).iloc[n - 1]
    ties = int((s == cut).sum())
    return float(truth.loc[top].mean()), float(roc_auc_score(truth, s)), ties


# ------------------------------------------------------------------ one seed
def run_seed(seed: int, n: int, districts: bool, before: bool = False) -> dict:
    t0 = time.perf_counter()
    data = payseg.synth.generate(n, seed=seed, scenario="field")
    t_gen = time.perf_counter() - t0
    truth = data.truth
    row = {"seed": seed, "group": "tuning" if seed in TUNING else "held-out"}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        files = payseg.synth.write_districts(data, tmp, seed=seed)
        t_write = time.perf_counter() - t
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = payseg.load(
                [f["payments"] for f in files.values()],
                bills=[f["bills"] for f in files.values() if f["bills"]],
                customers=[f["customers"] for f in files.values()],
            )
        t_load = time.perf_counter() - t
        alone = {}
        if districts:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for key, f in files.items():
                    alone[key] = payseg.load(
                        f["payments"], bills=f["bills"], customers=f["customers"]
                    )
    counts = loaded.counts
    read = sum(c["read"] for c in counts.values())
    kept = sum(c["kept"] for c in counts.values())
    assert read == kept + len(loaded.rejected), "ledger broken"

    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = payseg.segment(loaded, random_state=seed, migration=False)
    t_seg = time.perf_counter() - t
    seg = res.customers["segment"]
    beh = truth["behaviour"].reindex(seg.index)
    row.update(
        # segments proper: the no-data customers' -1 is not one (it was counted
        # before 2026-12-01, so earlier k figures here are one too high)
        k=int(seg[seg >= 0].nunique()),
        no_data=int((seg < 0).sum()),
        ari=adjusted_rand_score(beh, seg),
    )
    if before:
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # the default set swapped, not features=: named all-NaN or constant
            # columns are an error, while the default set skips them
            saved = _preprocess.DEFAULT_FEATURES
            _preprocess.DEFAULT_FEATURES = tuple(BEFORE_FEATURES)
            try:
                old = payseg.segment(loaded, random_state=seed, migration=False)
            finally:
                _preprocess.DEFAULT_FEATURES = saved
        row["before_s"] = time.perf_counter() - t
        s_old = old.customers["segment"]
        row["before_k"] = int(s_old[s_old >= 0].nunique())
        row["before_ari"] = adjusted_rand_score(
            truth["behaviour"].reindex(s_old.index), s_old
        )
    t = time.perf_counter()
    X = hand_features(loaded)
    hk = hand_kmeans(X, 12, seed)
    t_hand = time.perf_counter() - t
    row["hand_ari"] = adjusted_rand_score(truth["behaviour"].reindex(hk.index), hk)
    dist = truth["district"].reindex(seg.index)
    hd = truth["district"].reindex(hk.index)
    for key in ("A", "B", "C"):
        m = (dist == key).to_numpy()
        row[f"ari_{key}"] = adjusted_rand_score(beh[m], seg[m])
        mh = (hd == key).to_numpy()
        row[f"hand_ari_{key}"] = adjusted_rand_score(
            truth["behaviour"].reindex(hk.index)[mh], hk[mh]
        )
        if districts:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = payseg.segment(alone[key], random_state=seed, migration=False)
            s = r.customers["segment"]
            row[f"alone_k_{key}"] = int(s[s >= 0].nunique())
            row[f"alone_ari_{key}"] = adjusted_rand_score(
                truth["behaviour"].reindex(s.index), s
            )
    det = truth["deteriorating"].reindex(seg.index).astype(bool)
    prec, auc, ties = precision_at(res.customers["warning_score"], det)
    row.update(warn_precision=prec, warn_auc=auc, warn_ties=ties)
    own = own_history_score(loaded)
    prec2, auc2, _ = precision_at(own, det)
    row.update(own_precision=prec2, own_auc=auc2)
    row.update(
        gen_s=t_gen,
        write_s=t_write,
        load_s=t_load,
        segment_s=t_seg,
        hand_s=t_hand,
        n=len(seg),
        n_det=int(det.sum()),
    )
    row["merges"] = merges(seg, beh, X.reindex(seg.index))
    c = (dist == "C").to_numpy()
    row["merges_C"] = merges(seg[c], beh[c], X.reindex(seg.index)[c])
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--no-districts",
        dest="districts",
        action="store_false",
        help="skip payseg.segment on each district alone",
    )
    parser.add_argument(
        "--before",
        action="store_true",
        help="also run payseg.segment with the feature set before the low-use column",
    )
    parser.add_argument("--csv", default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    rows = []
    for seed in args.seeds:
        row = run_seed(seed, args.customers, args.districts, args.before)
        rows.append(row)
        print(
            f"seed {seed} ({row['group']}): n={row['n']:,} "
            f"(no data, segment -1: {row['no_data']}) k={row['k']}/12 "
            f"ARI {row['ari']:.3f} (A {row['ari_A']:.2f} B {row['ari_B']:.2f} "
            f"C {row['ari_C']:.2f}) | hand k-means@12 ARI {row['hand_ari']:.3f} "
            f"(A {row['hand_ari_A']:.2f} B {row['hand_ari_B']:.2f} "
            f"C {row['hand_ari_C']:.2f})",
            flush=True,
        )
        if args.before:
            print(
                f"   before (BEFORE_FEATURES): k={row['before_k']}/12 "
                f"ARI {row['before_ari']:.3f} ({row['before_s']:.1f} s; after: "
                f"{row['segment_s']:.1f} s, ratio "
                f"{row['segment_s'] / row['before_s']:.2f}x)"
            )
        if args.districts:
            print(
                "   district alone: "
                + ", ".join(
                    f"{d} k={row[f'alone_k_{d}']} ARI {row[f'alone_ari_{d}']:.2f}"
                    for d in "ABC"
                )
            )
        print(
            f"   warning: precision@{row['n_det']} {row['warn_precision']:.2f} "
            f"AUC {row['warn_auc']:.3f} (ties at cut {row['warn_ties']}) | "
            f"own-history baseline {row['own_precision']:.2f} / "
            f"{row['own_auc']:.3f}"
        )
        print(
            f"   time: generate {row['gen_s']:.1f} s, write {row['write_s']:.1f} s, "
            f"load {row['load_s']:.1f} s, payseg.segment {row['segment_s']:.1f} s vs "
            f"hand features + k-means {row['hand_s']:.1f} s "
            f"(ratio {row['segment_s'] / row['hand_s']:.1f}x)"
        )
        for line in row["merges"]:
            print("   merged:", line)
        for line in row["merges_C"]:
            print("   merged in district C:", line)
    df = pd.DataFrame(rows).drop(columns=["merges", "merges_C"])
    if args.csv:
        df.to_csv(args.csv, index=False)
    cols = [
        "k",
        "ari",
        "ari_A",
        "ari_B",
        "ari_C",
        "hand_ari",
        "hand_ari_A",
        "hand_ari_B",
        "hand_ari_C",
        "warn_precision",
        "warn_auc",
        "own_precision",
        "own_auc",
    ]
    cols += [c for c in df if c.startswith("alone_")]
    cols += [c for c in ("before_k", "before_ari") if c in df]
    summary = df.groupby("group", sort=False)[cols].mean().T
    print()
    print(summary.round(3).to_string())
    ks = df.groupby("group", sort=False)["k"].apply(lambda s: "/".join(map(str, s)))
    print("chosen k per seed:", ks.to_dict())
    if args.before:
        kb = df.groupby("group", sort=False)["before_k"].apply(
            lambda s: "/".join(map(str, s))
        )
        print("k per seed before (BEFORE_FEATURES):", kb.to_dict())


if __name__ == "__main__":
    main()
