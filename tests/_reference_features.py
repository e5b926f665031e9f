"""Slow, obvious reference implementations of the feature families (one loop per
customer, plain Python) and a random PaymentData generator for property tests.

The rules are the ones written in docs/features.md; nothing here reuses
payseg.features internals.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

import payseg
from payseg import channels

DAYS_PER_MONTH = 30.4375
NAN = float("nan")


def _cents(x):
    return None if pd.isna(x) else int(round(float(x) * 100))


def _mean(xs):
    return float(np.mean(xs)) if len(xs) else NAN


def _std(xs):
    return float(np.std(xs)) if len(xs) else NAN


def _slope(xs, ys):
    if len(set(xs)) < 2:
        return NAN
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    dx = xs - xs.mean()
    return float((dx * (ys - ys.mean())).sum() / (dx * dx).sum())


def _day(ts):
    return ts.normalize()


def _robust_max(dates):
    """Latest date, leaving out isolated outliers: with 50 rows or more, the latest
    rows (at most 0.1 %, at least one) coming > 62 days after every other row."""
    dates = sorted(dates)
    k = max(1, int(len(dates) * 0.001))
    if len(dates) < 50:
        return dates[-1]
    tail = dates[-(k + 1) :]
    for i in range(k):
        if (tail[i + 1].normalize() - tail[i].normalize()).days > 62:
            return tail[i]
    return dates[-1]


def _bill_id(x):
    if x is None or pd.isna(x) or str(x).strip() == "":
        return None
    return str(x).strip()


def _allocate(queue, p, pos, *, overflow):
    """Give payment ``p`` the stretch [pos, pos + amount) of the bill queue, bills
    lying end to end (a bill without amount has length 0 and takes nothing unless it
    is the first reached); with ``overflow`` the excess stays on the last bill."""
    end = pos + p["cents"]
    start = 0
    first = True
    for i, b in enumerate(queue):
        width = b["req"] if b["req"] is not None else 0
        stop = start + width
        last = i == len(queue) - 1
        if first and stop <= pos and not (overflow and last):
            start = stop
            continue
        if not first and (start >= end or width == 0):
            if not (overflow and last and width and start < end):
                start = stop
                continue
        top = end if (overflow and last) else min(end, stop)
        b["pays"].append((p, top - max(pos, start)))
        first = False
        start = stop
    return not first


def _lump_by_amount(p, bl) -> bool:
    """Payment ``p`` pays, beyond the bills it settles (each with an amount due), at
    least 90% of the customer's median bill, and another bill was open that day (issued on or
    before it, else from its period's first day, and not settled before it)."""
    known = [b["req"] for b in bl if b["req"] is not None and b["req"] > 0]
    if not known:
        return False
    by = [b for b in bl if b["settle_p"] is p]
    if not by or any(b["req"] is None for b in by):
        return False
    opened = [
        b
        for b in bl
        if (b["issue"] if b["issue"] is not None else b["period"].start_time)
        <= p["day"]
        and (b["settle"] is None or b["settle"] >= p["day"])
    ]
    beyond = p["cents"] - sum(max(b["req"] or 0, 0) for b in by)
    return len(opened) - len(by) >= 1 and beyond >= 0.9 * float(np.median(known))


def reference_features(
    data,
    as_of=None,
    *,
    late_fee_rate=0.001,
    late_fee_min=1.0,
    trend_periods=12,
    recent_periods=3,
):
    pay = data.payments
    bills = data.bills
    has_channel = "channel" in pay
    has_period = "period" in pay
    has_ids = (
        "bill_id" in pay
        and pay["bill_id"].notna().any()
        and "bill_id" in bills
        and bills["bill_id"].notna().any()
    )
    # Bills that take part: known period, amount due not zero.
    kept_bills = []
    for b in bills.itertuples(index=False):
        if pd.isna(b.period):
            continue
        amount_due = getattr(b, "amount_due", NAN)
        if _cents(amount_due) == 0:
            continue
        kept_bills.append(b)
    if as_of is None:
        dates = [d for d in pay["paid_at"] if not pd.isna(d)]
        dates += [b.issued_on for b in kept_bills if not pd.isna(b.issued_on)]
        as_of = _robust_max(dates) if dates else pd.Timestamp(0)
    as_of = _day(pd.Timestamp(as_of))
    as_of_month = pd.Period(as_of, freq="M")
    kept_bills = [
        b
        for b in kept_bills
        if (
            b.period <= as_of_month
            if pd.isna(b.issued_on)
            else _day(b.issued_on) <= as_of
        )
    ]
    ids = sorted(
        set(pay["customer_id"]) | set(bills["customer_id"]) | set(data.customers.index)
    )
    present = [
        c for c in channels.codes() if has_channel and (pay["channel"] == c).any()
    ]
    if has_channel:
        present = [
            c
            for c in channels.codes()
            if c
            in set(pay.loc[pay["paid_at"].dt.normalize() <= as_of, "channel"].dropna())
        ]
    groups = channels.table()["group"]
    rows, dominant = {}, {}
    for cid in ids:
        ps = []
        for p in pay[pay["customer_id"] == cid].itertuples(index=False):
            if _day(p.paid_at) > as_of:
                continue
            ch = p.channel if has_channel and not pd.isna(p.channel) else None
            per = p.period if has_period and not pd.isna(p.period) else None
            ps.append(
                {
                    "t": p.paid_at,
                    "day": _day(p.paid_at),
                    "ch": ch,
                    "amount": float(p.amount),
                    "cents": _cents(p.amount),
                    "period": per,
                    "bill": _bill_id(getattr(p, "bill_id", None)),
                }
            )
        # Time order; at equal seconds, no channel first, then by code name, then
        # by amount.
        ps.sort(
            key=lambda p: (
                p["t"].floor("s"),
                p["ch"] is not None,
                p["ch"] or "",
                p["cents"],
            )
        )
        bs = [b for b in kept_bills if b.customer_id == cid]
        bs.sort(
            key=lambda b: (
                b.period,
                _day(b.issued_on).value if not pd.isna(b.issued_on) else 0,
            )
        )
        bl = [
            {
                "period": b.period,
                "issue": None if pd.isna(b.issued_on) else _day(b.issued_on),
                "due": None if pd.isna(b.due_on) else _day(b.due_on),
                "req": _cents(getattr(b, "amount_due", NAN)),
                "id": _bill_id(getattr(b, "bill_id", None)),
                "pays": [],
            }
            for b in bs
        ]
        # Allocation: by bill id, else over the period's bills; then the running
        # account over what those leave open.
        for i, p in enumerate(ps):
            by_id = [
                k
                for k, b in enumerate(bl)
                if has_ids and p["bill"] is not None and b["id"] == p["bill"]
            ]
            p["kind"] = (
                "id" if by_id else ("period" if p["period"] is not None else "account")
            )
            if by_id:
                bl[by_id[0]]["pays"].append((p, p["cents"]))
            elif p["kind"] == "period":
                queue = [b for b in bl if b["period"] == p["period"]]
                pos = sum(
                    q["cents"]
                    for q in ps[:i]
                    if q.get("kind") == "period" and q["period"] == p["period"]
                )
                _allocate(queue, p, pos, overflow=True)
        left = [
            dict(b, req=max((b["req"] or 0) - sum(c for _, c in b["pays"]), 0), pays=[])
            for b in bl
        ]
        for i, p in enumerate(ps):
            if p["kind"] == "account":
                pos = sum(q["cents"] for q in ps[:i] if q["kind"] == "account")
                _allocate(left, p, pos, overflow=False)
        order = {id(q): i for i, q in enumerate(ps)}
        for b, lb in zip(bl, left):
            b["pays"] = sorted(b["pays"] + lb["pays"], key=lambda pc: order[id(pc[0])])
        for b in bl:
            run, b["settle"], b["settle_p"] = 0, None, None
            need = b["req"] if b["req"] is not None else 0
            for p, cents in b["pays"]:
                run += cents
                if run >= need:
                    b["settle"], b["settle_p"] = p["day"], p
                    break
            b["paid"] = sum(cents for _, cents in b["pays"])
            b["paid_by_due"] = sum(
                cents
                for p, cents in b["pays"]
                if b["due"] is not None and p["day"] <= b["due"]
            )
        f = {}
        # ---- timing
        f["weekend_share"] = _mean([p["day"].weekday() >= 5 for p in ps])
        timed = any(p["t"] != p["day"] for p in ps)
        f["evening_share"] = _mean([p["t"].hour >= 18 for p in ps]) if timed else NAN
        settled = [b for b in bl if b["settle"] is not None and b["issue"] is not None]
        delays = [(b["settle"] - b["issue"]).days for b in settled]
        f["delay_days_mean"] = _mean(delays)
        f["delay_days_median"] = float(np.median(delays)) if delays else NAN
        f["delay_days_std"] = _std(delays)
        f["delay_days_p90"] = float(np.percentile(delays, 90)) if delays else NAN
        f["days_to_due_mean"] = _mean(
            [
                (b["due"] - b["settle"]).days
                for b in bl
                if b["settle"] is not None and b["due"] is not None
            ]
        )
        f["pay_day_regularity"] = _std(
            [
                (b["settle"] - b["issue"]).days / (b["due"] - b["issue"]).days
                for b in settled
                if b["due"] is not None and b["due"] > b["issue"]
            ]
        )
        overdue = [b for b in bl if b["due"] is not None and b["due"] < as_of]

        def is_late(b):
            return b["settle"] is None or b["settle"] > b["due"]

        f["late_share"] = _mean([is_late(b) for b in overdue])
        f["unpaid_share"] = _mean([b["settle"] is None for b in overdue])
        f["payments_per_bill"] = _mean([len(b["pays"]) for b in bl if b["pays"]])
        if not bl:
            for c in (
                "delay_days_mean",
                "late_share",
                "unpaid_share",
                "payments_per_bill",
            ):
                assert math.isnan(f[c])
        # ---- channel
        known = [p for p in ps if p["ch"] is not None]
        counts = {c: sum(p["ch"] == c for p in known) for c in present}
        total = len(known)
        if total:
            shares = {c: counts[c] / total for c in present}
            for g in channels.GROUPS:
                f[f"{g}_share"] = sum(s for c, s in shares.items() if groups[c] == g)
            f["channel_entropy"] = -sum(
                s * math.log2(s) for s in shares.values() if s > 0
            )
            f["top_channel_share"] = max(shares.values())
            f["n_channels"] = float(sum(v > 0 for v in counts.values()))
            best = max(counts.values())
            dominant[cid] = next(c for c in present if counts[c] == best)
        else:
            shares = dict.fromkeys(present, NAN)
            for g in channels.GROUPS:
                f[f"{g}_share"] = NAN
            f["channel_entropy"] = f["top_channel_share"] = f["n_channels"] = NAN
            dominant[cid] = None
        pairs = list(zip(known[:-1], known[1:]))
        f["channel_switch_rate"] = (
            _mean([a["ch"] != b["ch"] for a, b in pairs]) if pairs else NAN
        )
        # first vs last m // 2 known-channel payments: total-variation distance
        # of their channel-group mixes, less what sampling alone gives
        m, h = len(known), len(known) // 2
        if m >= 4:
            first = [groups[p["ch"]] for p in known[:h]]
            last = [groups[p["ch"]] for p in known[m - h :]]
            tv = 0.5 * sum(
                abs(first.count(g) - last.count(g)) / h for g in channels.GROUPS
            )
            pooled = [
                (first.count(g) + last.count(g)) / (2 * h) for g in channels.GROUPS
            ]
            noise = sum(math.sqrt(q * (1 - q) / (math.pi * h)) for q in pooled)
            f["channel_shift"] = max(tv - noise, 0.0)
        else:
            f["channel_shift"] = NAN
        # online share after the change point t* (largest |CUSUM| of the online
        # indicator) less the share up to it, kept when max |D_t| > 1.36
        xs = [1.0 if groups[p["ch"]] == "online" else 0.0 for p in known]
        f["channel_migration"] = NAN if m == 0 else 0.0
        q = sum(xs) / m if m else 0.0
        if m >= 6 and 0 < q < 1:
            ds = [
                abs(sum(xs[:t]) - t * q) / math.sqrt(m * q * (1 - q))
                for t in range(1, m)
            ]
            best = max(ds)
            at = 1 + next(i for i, d in enumerate(ds) if d >= best - 1e-9)
            if best > 1.36:
                f["channel_migration"] = _mean(xs[at:]) - _mean(xs[:at])
        for c in present:
            f[f"channel_share__{c}"] = shares[c]
        # ---- value
        dates = sorted({p["day"] for p in ps})
        years = {d.year for d in dates}
        total_amount = sum(p["amount"] for p in ps)
        f["pay_count_per_year"] = len(dates) / len(years) if years else NAN
        f["amount_per_year"] = total_amount / len(years) if years else NAN
        f["amount_total"] = float(total_amount)
        f["amount_mean"] = total_amount / len(ps) if ps else NAN
        f["recency_days"] = float((as_of - dates[-1]).days) if dates else NAN
        f["tenure_days"] = float((as_of - dates[0]).days) if dates else NAN
        # ---- arrears
        if bl:
            arrears, months, fee = 0, 0.0, 0.0
            for b in bl:
                if b["due"] is None:
                    continue
                end = b["settle"] if b["settle"] is not None else as_of
                days = max((end - b["due"]).days, 0)
                months = max(months, days / DAYS_PER_MONTH)
                if b["req"] is None:
                    continue
                if b["due"] < as_of:
                    arrears += max(b["req"] - b["paid"], 0)
                base = max(b["req"] - b["paid_by_due"], 0) / 100
                if days > 0 and base > 0:
                    fee += max(late_fee_rate * base * days, late_fee_min)
            f["arrears_amount"] = arrears / 100
            f["max_months_in_arrears"] = months
            f["late_fee_est"] = fee
        else:
            f["arrears_amount"] = f["max_months_in_arrears"] = f["late_fee_est"] = NAN
        # ---- prepaid
        gaps = [(b - a).days for a, b in zip(dates[:-1], dates[1:])]
        f["topup_interval_mean"] = _mean(gaps)
        f["topup_interval_cv"] = _std(gaps) / _mean(gaps) if gaps else NAN
        f["topup_amount_mean"] = total_amount / len(dates) if dates else NAN
        f["topups_per_month"] = (
            len(dates) / max((as_of - dates[0]).days / DAYS_PER_MONTH, 1.0)
            if dates
            else NAN
        )
        # ---- trend
        last = settled[-trend_periods:]
        f["delay_trend"] = _slope(
            [(b["period"] - as_of_month).n for b in last],
            [(b["settle"] - b["issue"]).days for b in last],
        )
        recent = overdue[-recent_periods:]
        f["recent_late_share"] = _mean([is_late(b) for b in recent])
        last_month = as_of_month if as_of.is_month_end else as_of_month - 1
        months_back = [
            last_month - (trend_periods - 1 - i) for i in range(trend_periods)
        ]
        monthly = [
            sum(p["amount"] for p in ps if pd.Period(p["day"], "M") == m)
            for m in months_back
        ]
        mean = float(np.mean(monthly))
        f["amount_trend"] = (
            _slope(list(range(trend_periods)), monthly) / mean
            if mean > 0 and trend_periods > 1
            else NAN
        )
        # ---- cycle
        periods = sorted({b["period"] for b in bl})
        gaps = [(b - a).n for a, b in zip(periods[:-1], periods[1:])]
        gaps = [g for g in gaps if g <= 12]  # longer: a break, not a cycle
        f["cycle_months"] = float(np.median(gaps)) if gaps else NAN
        f["payments_per_cycle"] = (
            len({p["day"] for p in ps}) / len(periods) if periods else NAN
        )
        done = [b for b in bl if b["settle_p"] is not None]
        with_due = [b for b in done if b["due"] is not None]
        if known and with_due:
            uses_auto = any(groups[p["ch"]] == "automatic" for p in known)
            f["fallback_share"] = (
                _mean(
                    [
                        b["settle"] > b["due"]
                        and b["settle_p"]["ch"] is not None
                        and groups[b["settle_p"]["ch"]] != "automatic"
                        for b in with_due
                    ]
                )
                if uses_auto
                else 0.0
            )
        else:
            f["fallback_share"] = NAN
        f["lump_share"] = _mean(
            [
                len({c["period"] for c in done if c["settle_p"] is b["settle_p"]}) >= 2
                or _lump_by_amount(b["settle_p"], bl)
                for b in done
            ]
        )
        rows[cid] = f
    names = payseg.features.feature_names() + [f"channel_share__{c}" for c in present]
    X = pd.DataFrame.from_dict(rows, orient="index", columns=names, dtype=float)
    X.index = pd.Index(X.index, dtype="str", name="customer_id")
    dom = pd.Series(dominant, dtype="str", name="dominant_channel")
    dom.index = pd.Index(dom.index, dtype="str", name="customer_id")
    return X, dom


# --------------------------------------------------------------------------- data

CHANNELS = ["alipay", "counter", "card_debit", "agent_outlet", "ic_card"]


def random_data(
    seed: int,
    *,
    n_customers=None,
    with_bills=True,
    with_channel=True,
    with_period=True,
    times=True,
) -> payseg.PaymentData:
    """Small random PaymentData with the awkward cases the rules must handle.

    One-payment customers, customers without bills or without payments, split
    payments, payments before issue, payments without period, periods without a bill,
    unknown amounts due, zero bills, equal timestamps.
    """
    rng = np.random.default_rng(seed)
    n = n_customers or int(rng.integers(1, 6))
    ids = [f"{int(i):03d}" for i in rng.choice(200, size=n, replace=False)]
    base = pd.Timestamp("2024-01-01")
    bill_rows, pay_rows = [], []
    for cid in ids:
        kind = rng.integers(0, 5)  # 0: no bills, 1: no payments, else both
        n_bills = 0 if (kind == 0 or not with_bills) else int(rng.integers(0, 7))
        periods = sorted(rng.choice(9, size=n_bills, replace=False))
        for m in periods:
            period = pd.Period("2024-01", "M") + int(m)
            issue = period.to_timestamp() + pd.Timedelta(days=int(rng.integers(0, 4)))
            due = issue + pd.Timedelta(days=int(rng.choice([0, 10, 20, 25])))
            amount = float(rng.choice([0, 50, 120.5, 99.99, 200]))
            if rng.random() < 0.1:
                amount = np.nan
            bill_rows.append(
                {
                    "customer_id": cid,
                    "period": period,
                    "issued_on": pd.NaT if rng.random() < 0.08 else issue,
                    "due_on": pd.NaT if rng.random() < 0.08 else due,
                    "amount_due": amount,
                }
            )
        n_pay = 0 if kind == 1 else int(rng.choice([1, 1, 2, 4, 7, 10]))
        bill_periods = [pd.Period("2024-01", "M") + int(m) for m in periods]
        stamps = []
        for _ in range(n_pay):
            if stamps and rng.random() < 0.2:
                t = stamps[int(rng.integers(len(stamps)))]  # a tie
            else:
                t = base + pd.Timedelta(days=int(rng.integers(-20, 300)))
                if times and rng.random() < 0.7:
                    t += pd.Timedelta(seconds=int(rng.integers(0, 86_400)))
            stamps.append(t)
            r = rng.random()
            if bill_periods and r < 0.45:
                period = bill_periods[int(rng.integers(len(bill_periods)))]
            elif r < 0.55:
                period = pd.Period("2023-06", "M")  # no such bill
            else:
                period = pd.NaT
            pay_rows.append(
                {
                    "customer_id": cid,
                    "paid_at": t,
                    "channel": (
                        CHANNELS[int(rng.integers(len(CHANNELS)))]
                        if rng.random() < 0.9
                        else None
                    ),
                    "amount": float(rng.choice([50, 60.25, 100, 120.5, 99.99, 200, 0])),
                    "period": period,
                }
            )
        # Payments that follow the bills: whole, split in two, early or late.
        for m in periods if kind != 1 else []:
            bill = next(
                r
                for r in bill_rows
                if r["customer_id"] == cid
                and r["period"] == pd.Period("2024-01", "M") + int(m)
            )
            if rng.random() < 0.3 or pd.isna(bill["amount_due"]):
                continue
            t = (pd.Period("2024-01", "M") + int(m)).to_timestamp() + pd.Timedelta(
                days=int(rng.integers(-5, 45)), seconds=int(rng.integers(0, 86_400))
            )
            cents = int(round(bill["amount_due"] * 100))
            parts = [cents] if rng.random() < 0.7 else [cents // 2, cents - cents // 2]
            for i, part in enumerate(parts):
                pay_rows.append(
                    {
                        "customer_id": cid,
                        "paid_at": t + pd.Timedelta(days=3 * i),
                        "channel": CHANNELS[int(rng.integers(len(CHANNELS)))],
                        "amount": part / 100,
                        "period": bill["period"] if rng.random() < 0.6 else pd.NaT,
                    }
                )
    if not pay_rows and not any(
        not pd.isna(r["issued_on"]) and r["amount_due"] != 0 for r in bill_rows
    ):
        # No dated row at all: as_of could not be inferred (an error); add one.
        pay_rows.append(
            {
                "customer_id": ids[0],
                "paid_at": base,
                "channel": None,
                "amount": 10.0,
                "period": pd.NaT,
            }
        )
    payments = pd.DataFrame(
        pay_rows, columns=["customer_id", "paid_at", "channel", "amount", "period"]
    )
    payments = payments.astype(
        {"customer_id": "str", "paid_at": "datetime64[ns]", "amount": "float64"}
    )
    payments["channel"] = pd.Categorical(
        payments["channel"], categories=channels.codes()
    )
    payments["period"] = pd.PeriodIndex(payments["period"], freq="M")
    if not with_channel:
        payments["channel"] = pd.Categorical(
            [None] * len(payments), categories=channels.codes()
        )
    if not with_period:
        payments = payments.drop(columns="period")
    bills = pd.DataFrame(
        bill_rows,
        columns=["customer_id", "period", "issued_on", "due_on", "amount_due"],
    )
    bills = bills.astype(
        {
            "customer_id": "str",
            "issued_on": "datetime64[ns]",
            "due_on": "datetime64[ns]",
            "amount_due": "float64",
        }
    )
    bills["period"] = pd.PeriodIndex(bills["period"], freq="M")
    extra = [f"x{int(i)}" for i in range(int(rng.integers(0, 2)))]
    customers = pd.DataFrame(
        {
            "region": pd.Categorical(["r"] * len(extra)),
            "meter": pd.Categorical(["postpaid"] * len(extra)),
        },
        index=pd.Index(extra, dtype="str", name="customer_id"),
    )
    return payseg.PaymentData(
        payments=payments.reset_index(drop=True),
        bills=bills.reset_index(drop=True),
        customers=customers,
    )


def assert_frame_close(fast: pd.DataFrame, ref: pd.DataFrame, columns=None):
    """Same index, and every column equal up to float rounding (NaN == NaN)."""
    assert list(fast.index) == list(ref.index)
    columns = list(ref.columns) if columns is None else columns
    for c in columns:
        a = fast[c].to_numpy(dtype=float)
        b = ref[c].to_numpy(dtype=float)
        np.testing.assert_allclose(
            a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=c
        )


def assume_as_of_not_before_data(data, as_of) -> None:
    """Hypothesis ``assume``: ``as_of`` is not before every dated row of ``data``.

    build_features refuses such an as_of (issue 18, tests/test_degenerate.py) where
    the reference would return all-NaN features.
    """
    from hypothesis import assume

    if as_of is None:
        return
    dated = [data.payments["paid_at"]]
    if len(data.bills):
        start = data.bills["period"].dt.to_timestamp()
        dated.append(data.bills["issued_on"].fillna(start))
    first = pd.concat(dated).min()
    assume(pd.isna(first) or first.normalize() <= pd.Timestamp(as_of))


def check_family(
    family,
    seed,
    *,
    with_period=True,
    with_channel=True,
    with_bills=True,
    times=True,
    as_of=None,
    trend_periods=12,
):
    """Assert build_features(families=[family]) equals the reference on random data."""
    data = random_data(
        seed,
        with_period=with_period,
        with_channel=with_channel,
        with_bills=with_bills,
        times=times,
    )
    assume_as_of_not_before_data(data, as_of)
    # calendar=False: the reference has no calendar inference for payments-only data
    fast = payseg.build_features(
        data,
        families=[family],
        as_of=as_of,
        trend_periods=trend_periods,
        calendar=False,
    )
    ref, _ = reference_features(data, as_of=as_of, trend_periods=trend_periods)
    expected = payseg.features.feature_names([family])
    if family == "channel":
        expected += [c for c in ref.columns if c.startswith("channel_share__")]
    assert sorted(fast.columns) == sorted(expected)
    assert_frame_close(fast, ref, columns=expected)
    return data, fast


def with_invoices(data, seed: int, *, payment_ids=True) -> payseg.PaymentData:
    """``data`` with invoice-level bills: a second bill in some periods (issued up to
    10 days later, some without amount), a ``bill_id`` on most bills and, with
    ``payment_ids``, on some payments (a few naming no bill)."""
    rng = np.random.default_rng(seed + 1_000_003)
    bills = data.bills
    second = bills[rng.random(len(bills)) < 0.4].copy()
    second["issued_on"] = second["issued_on"] + pd.to_timedelta(
        rng.integers(0, 11, len(second)), unit="D"
    )
    second["amount_due"] = rng.choice([30.0, 45.5, 80.0, np.nan], len(second))
    bills = pd.concat([bills, second], ignore_index=True)
    bills = bills.iloc[np.argsort(bills["customer_id"].to_numpy(), kind="stable")]
    ids = pd.Series(
        [f"B{i}" if r > 0.2 else None for i, r in enumerate(rng.random(len(bills)))],
        dtype="str",
    )
    bills = bills.reset_index(drop=True).assign(bill_id=ids)
    pay = data.payments.copy()
    if payment_ids:
        own = bills.dropna(subset=["bill_id"]).groupby("customer_id")["bill_id"]
        own = {c: list(v) for c, v in own}
        choice = []
        for cid in pay["customer_id"]:
            r = rng.random()
            if r < 0.45 and own.get(cid):
                choice.append(own[cid][int(rng.integers(len(own[cid])))])
            else:
                choice.append("nope" if r < 0.55 else None)
        pay["bill_id"] = pd.Series(choice, dtype="str")
    return payseg.PaymentData(payments=pay, bills=bills, customers=data.customers)
