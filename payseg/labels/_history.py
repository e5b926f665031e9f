"""Each customer's recent bills against their own earlier bills (early warning).

From the payments and bills of a :class:`payseg.PaymentData`, one row per bill (the
payments of its period summed; a payment without a period pays the latest bill
issued before it), then per customer: the last ``recent`` bills issued by
``as_of`` (the recent window) against every earlier bill (the customer's own past).
Everything is a pandas groupby over rows; no loop over customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import channels
from ..features import inferred_bills

#: Columns of :func:`own_history`.
HISTORY_COLUMNS = (
    "delay_z",
    "late_z",
    "unpaid_z",
    "partial_z",
    "auto_stop",
    "use_change",
    "recent_bills",
    "earlier_bills",
    "late_recent",
    "late_earlier",
    "unpaid_recent",
    "unpaid_earlier",
    "partial_recent",
    "partial_earlier",
    "late_surprise",
    "unpaid_surprise",
    "partial_surprise",
    "silent_surprise",
    "auto_surprise",
    "delay_surprise",
    "fall_surprise",
    "open_surprise",
    "open_days",
    "silent_days",
)

#: A bill is paid in part when its payments cover less than this share of it.
PARTIAL_BELOW = 0.95
#: Quantile of a customer's earlier days paid after the due date that says how long
#: a recent bill may stay open before its state is news.
USUAL_OVERDUE_Q = 0.9
#: 10-90% range over the MAD for normal data (2.563 sd over 0.674 sd).
WIDE_TO_MAD = 3.8
#: Fewest earlier bills for a customer's own past to count.
MIN_EARLIER = 3
#: Weight, in bills, of the population's rate in each customer's prior (the
#: customer's earlier bills add to it): a customer with few earlier bills is
#: judged mostly by the population's rate, one with many by their own.
PRIOR_BILLS = 4.0
#: A bill is paid clearly later than usual at least this many days after the
#: customer's earlier median delay.
LATER_DAYS = 4.0
#: Floor of a customer's year-on-year noise in use (log ratio sd).
FALL_SD_MIN = 0.1
#: Bills below this many yuan count as this many in the fall in use.
FALL_FLOOR_YUAN = 10.0


def surprise(k_recent, n_recent, k_earlier, n_earlier, rate, prior=PRIOR_BILLS):
    """``-log10 P(K >= k_recent)``: how surprising ``k_recent`` events in
    ``n_recent`` bills are for a customer with ``k_earlier`` in ``n_earlier``.

    ``K`` is beta-binomial: the customer's own rate is Beta(``rate * prior +
    k_earlier``, ``(1 - rate) * prior + n_earlier - k_earlier``), the population's
    ``rate`` worth ``prior`` bills plus the customer's own earlier bills. 0 when
    ``k_recent`` is 0 (nothing happened); NaN where an input is NaN. Vectorised
    over arrays (scipy's beta-binomial survival function).

    Examples
    --------
    >>> from payseg.labels._history import surprise
    >>> # one late bill of five: news for a payer never late in 19 bills, ...
    >>> round(float(surprise(1, 5, 0, 19, 0.1)), 2)
    1.11
    >>> # ... not for one late on 3 of 19 (16%); three in five are
    >>> [round(float(surprise(k, 5, 3, 19, 0.1)), 2) for k in (1, 3)]
    [0.28, 1.41]
    """
    from scipy.stats import betabinom

    k = np.asarray(k_recent, dtype=float)
    n = np.asarray(n_recent, dtype=float)
    ke = np.asarray(k_earlier, dtype=float)
    ne = np.asarray(n_earlier, dtype=float)
    a = rate * prior + ke
    b = (1.0 - rate) * prior + ne - ke
    bad = np.isnan(k) | np.isnan(n) | np.isnan(a) | np.isnan(b)
    ok = ~bad & (k > 0) & (n > 0)
    out = np.where(bad, np.nan, 0.0)
    if ok.any():
        sf = betabinom.sf(k[ok] - 1, n[ok], a[ok], b[ok])
        out[ok] = -np.log10(np.clip(sf, 1e-300, 1.0))
    return out


def _billed(pay, bills) -> np.ndarray:
    """Payments of customers with a bill (``isin`` against the distinct ids: the
    string column ``isin`` is ten times slower against all bill rows)."""
    billed = pd.Index(pd.unique(bills["customer_id"].to_numpy()))
    return billed.get_indexer(pay["customer_id"].to_numpy()) >= 0


def _with_inferred(data) -> pd.DataFrame:
    """``data.bills`` plus bills inferred from the payments' periods for customers
    without any bill (a payments-only district beside billed ones), as
    :func:`payseg.build_features` does: their delay, lateness and billed amount
    count; their bills are never unpaid or paid in part (amount due = amount paid).
    """
    bills = data.bills
    pay = data.payments
    unbilled = ~_billed(pay, bills)
    if not unbilled.any():
        return bills
    # The older rule (paid periods only, read on the first reading day) that the
    # early-warning evidence was tuned with; build_features infers skipped periods.
    extra = inferred_bills(pay.loc[unbilled], None, reading_day="first")
    if extra is None:
        return bills
    return pd.concat([bills, extra], ignore_index=True)


#: Silence (days since the last payment) beyond which a payments-only customer is
#: gone (account closed or moved away: the churn flag's business), not a warning.
GONE_AFTER_DAYS = 180


def _silence(data, as_of) -> pd.Series:
    """Payments-only customers: how surprising their silence since the last payment
    is, ``-log10((k + 0.5) / (n + 1))`` with ``k`` of their ``n`` earlier gaps
    between payment days at least as long. Their unpaid bills are invisible (bills
    are inferred from paid periods only); a long silence is what shows them. 0
    unless the silence exceeds 1.5 of their median gap (a cycle missed) and is
    under :data:`GONE_AFTER_DAYS`; empty without such customers.
    """
    pay = data.payments
    pay = pay.loc[pay["paid_at"] <= as_of, ["customer_id", "paid_at"]]
    pay = pay.loc[~_billed(pay, data.bills)]
    if not len(pay):
        return pd.DataFrame(columns=["surprise", "days"], dtype="float64")
    day = pay["paid_at"].dt.floor("D")
    d = pd.DataFrame({"customer_id": pay["customer_id"].to_numpy(), "day": day})
    d = d.drop_duplicates().sort_values(["customer_id", "day"], kind="stable")
    gap = d.groupby("customer_id", sort=False)["day"].diff().dt.days
    d["gap"] = gap.to_numpy(float)
    last = d.groupby("customer_id", sort=False)["day"].max()
    quiet = (as_of.floor("D") - last).dt.days.astype(float)
    d["quiet"] = d["customer_id"].map(quiet).to_numpy(float)
    d["longer"] = (d["gap"] >= d["quiet"]).astype(float).where(d["gap"].notna())
    g = d.groupby("customer_id", sort=False)
    n = g["gap"].count()
    k = g["longer"].sum()
    med = g["gap"].median()
    out = -np.log10((k + 0.5) / (n + 1.0))
    fires = (quiet > 1.5 * med) & (quiet < GONE_AFTER_DAYS) & (n >= MIN_EARLIER)
    return pd.DataFrame(
        {"surprise": out.where(fires, 0.0).astype("float64"), "days": quiet}
    )


def _bill_rows(data, as_of) -> pd.DataFrame:
    """One row per bill issued by ``as_of``: delay, late, unpaid, partial, auto."""
    bills = _with_inferred(data)
    cols = ["customer_id", "period", "issued_on", "due_on", "amount_due"]
    b = bills.loc[bills["issued_on"] <= as_of, cols].copy()
    pay = data.payments
    pay = pay.loc[
        pay["paid_at"] <= as_of,
        ["customer_id", "paid_at", "channel", "amount", "period"],
    ]
    lost = pay["period"].isna().to_numpy()
    if lost.any():
        # a payment without its period pays the customer's latest bill issued
        # before it
        left = pay.loc[lost].sort_values("paid_at", kind="stable")
        right = b.sort_values("issued_on", kind="stable")
        found = pd.merge_asof(
            left.drop(columns="period").reset_index(),
            right[["customer_id", "issued_on", "period"]],
            left_on="paid_at",
            right_on="issued_on",
            by="customer_id",
        ).set_index("index")["period"]
        pay = pay.copy()
        pay.loc[found.index, "period"] = found
        pay = pay.loc[pay["period"].notna()]
    auto = channels.table()["automatic"].astype(float)
    chan = pay["channel"].astype("object")
    is_auto = chan.map(auto).fillna(0.0).to_numpy() >= 1.0
    per = (
        pd.DataFrame(
            {
                "customer_id": pay["customer_id"].to_numpy(),
                "period": pay["period"].array,
                "paid": pay["amount"].to_numpy(float),
                "auto_paid": np.where(is_auto, pay["amount"].to_numpy(float), 0.0),
                "last_paid": pay["paid_at"].to_numpy(),
            }
        )
        .groupby(["customer_id", "period"], sort=False, observed=True)
        .agg(
            paid=("paid", "sum"),
            auto_paid=("auto_paid", "sum"),
            last_paid=("last_paid", "max"),
        )
    )
    b = b.join(per, on=["customer_id", "period"])
    b["paid"] = b["paid"].fillna(0.0)
    due = b["amount_due"].to_numpy(float)
    paid = b["paid"].to_numpy(float)
    is_due = (b["due_on"] < as_of).to_numpy()
    b["unpaid"] = np.where(is_due, paid <= 0, np.nan)
    b["partial"] = np.where(is_due, (paid > 0) & (paid < PARTIAL_BELOW * due), np.nan)
    settled = paid >= PARTIAL_BELOW * due
    b["delay"] = np.where(
        settled, (b["last_paid"] - b["issued_on"]).dt.days.to_numpy(float), np.nan
    )
    late = np.where(settled, (b["last_paid"] > b["due_on"]).to_numpy(), True)
    b["late"] = np.where(is_due, late, np.nan)
    b["settled"] = settled
    b["overdue"] = np.where(
        settled, (b["last_paid"] - b["due_on"]).dt.days.to_numpy(float), np.nan
    )
    b["open_days"] = (as_of - b["due_on"]).dt.days.to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        b["auto"] = np.where(paid > 0, b["auto_paid"].to_numpy(float) / paid, np.nan)
    return b.sort_values(["customer_id", "period"], kind="stable")


def _open_surprise(b, as_of) -> pd.Series:
    """How surprising the oldest recent bill still open is, given how long the
    customer's earlier bills took to be paid: ``-log10((k + 0.5) / (n + 1))``,
    ``k`` of their ``n`` earlier bills paid at least as many days after issue as
    this one has been open, or never settled. A prompt payer's bill open for four weeks is
    news before its due date; a deadline payer's is not."""
    open_ = b.loc[b["recent"] & ~b["settled"], ["customer_id", "issued_on"]]
    if not len(open_):
        return pd.DataFrame(columns=["surprise", "days"], dtype="float64")
    days = (as_of - open_["issued_on"]).dt.days.astype(float)
    oldest = days.groupby(open_["customer_id"], sort=False).max()
    old = b.loc[~b["recent"], ["customer_id", "delay", "settled"]]
    old = old.loc[old["customer_id"].isin(oldest.index)]
    # an earlier bill never settled took longer than any
    took = old["delay"].where(old["settled"], np.inf)
    k = (took >= old["customer_id"].map(oldest)).astype(float)
    g = k.groupby(old["customer_id"], sort=False)
    n = g.count().reindex(oldest.index).fillna(0.0)
    k = g.sum().reindex(oldest.index).fillna(0.0)
    out = -np.log10((k + 0.5) / (n + 1.0))
    return pd.DataFrame({"surprise": out.where(n >= MIN_EARLIER, 0.0), "days": oldest})


def _fall_surprise(b, amount) -> pd.Series:
    """How surprising the recent bills' fall against a year earlier is, given how
    much the customer's bills usually move year on year.

    Per bill with one 12 months earlier: ``r = log(max(now, f) / max(then, f))``,
    ``f`` = :data:`FALL_FLOOR_YUAN` (a vacant home's bill going from 5 to 0 yuan is
    no fall in use). The customer's usual year-on-year noise is the robust sd
    (1.4826 MAD) of ``r`` over their earlier bills, shrunk towards the
    population's median sd with the weight of :data:`MIN_EARLIER` bills, at least
    :data:`FALL_SD_MIN`; the recent bills' mean ``r`` over its standard error is a
    t statistic with (earlier pairs + :data:`MIN_EARLIER` - 1) degrees of freedom,
    and the result is ``-log10`` of its two-sided p for a fall (0 for a rise). A
    vacant or seasonal home, whose bills swing, needs a far larger fall to be news
    than a steady household.
    """
    from scipy.stats import t as student

    then = amount.reindex(
        pd.MultiIndex.from_arrays([b["customer_id"], b["period"] - 12])
    ).to_numpy()
    ok = ~np.isnan(then)
    now = b["amount_due"].to_numpy(float)
    f = FALL_FLOOR_YUAN
    r = pd.DataFrame(
        {
            "customer_id": b["customer_id"].to_numpy()[ok],
            "recent": b["recent"].to_numpy()[ok],
            "r": np.log(np.maximum(now[ok], f) / np.maximum(then[ok], f)),
        }
    )
    old = r.loc[~r["recent"]]
    og = old.groupby("customer_id", sort=False)["r"]
    dev = (old["r"] - old["customer_id"].map(og.median())).abs()
    sd = 1.4826 * dev.groupby(old["customer_id"], sort=False).median()
    n_old = og.count()
    pop = (
        float(sd[n_old >= MIN_EARLIER].median())
        if (n_old >= MIN_EARLIER).any()
        else 0.2
    )
    pop = pop if np.isfinite(pop) else 0.2
    new = r.loc[r["recent"]]
    ng = new.groupby("customer_id", sort=False)["r"]
    mean, n = ng.mean(), ng.count()
    k = n_old.reindex(mean.index).fillna(0.0)
    own = sd.reindex(mean.index).fillna(pop)
    var = (k * own**2 + MIN_EARLIER * pop**2) / (k + MIN_EARLIER)
    sd = np.sqrt(var).clip(lower=FALL_SD_MIN)
    z = -mean / (sd / np.sqrt(n))
    dof = (k + MIN_EARLIER - 1).to_numpy(float)
    logp = np.minimum(student.logsf(z.to_numpy(float), dof) + np.log(2.0), 0.0)
    return pd.Series(-logp / np.log(10), index=mean.index)


def own_history(data, *, recent=5, as_of=None, index=None) -> pd.DataFrame:
    """Recent window against the customer's own earlier bills, one row per customer.

    Parameters
    ----------
    data : PaymentData
        With bills; payments matched to bills by ``(customer_id, period)``.
    recent : int, default 5
        Bills in the recent window (the last ones issued by ``as_of``).
    as_of : date or None
        End of the data; default the latest payment or bill issue date.
    index : Index or None
        Customers of the result (default: every customer with a bill).

    Returns
    -------
    DataFrame indexed by customer_id with :data:`HISTORY_COLUMNS`: ``delay_z``
    (median days from issue to payment, recent minus earlier, over the earlier
    spread: ``/ max(MAD, 2 days)``), ``late_z``, ``unpaid_z``, ``partial_z``
    (share of due bills paid late or not at all, not at all, in part: recent
    minus earlier, over the binomial standard deviation of the recent share at the
    earlier rate ``(k + 0.5) / (n + 1)``), ``auto_stop`` (share paid by automatic channels,
    earlier minus recent, >= 0), ``use_change`` (billed amount of the recent bills
    over the same periods a year earlier, minus 1; NaN without a year of history),
    ``recent_bills`` and ``earlier_bills``, and the shares behind the z-scores
    (``late_recent``, ``late_earlier``, ``unpaid_recent``, ...); the evidence of
    :class:`payseg.labels.EarlyWarning`, in bans (``-log10 p``):
    ``late_surprise``, ``unpaid_surprise``, ``partial_surprise``,
    ``auto_surprise`` (bills paid by hand, auto-debit payers) and
    ``delay_surprise`` (bills paid clearly later than usual), each
    :func:`surprise` of the recent count given the earlier one;
    ``open_surprise`` / ``open_days`` (the oldest recent bill still open),
    ``silent_surprise`` / ``silent_days`` (payments-only customers: days since
    the last payment), ``fall_surprise`` (year-on-year fall against the
    customer's own noise). The recent window holds ``recent`` bills of a monthly
    customer, ``ceil(recent / cycle)`` for a cycle of ``cycle`` months. NaN where
    a customer has fewer than ``MIN_EARLIER`` earlier bills.

    Examples
    --------
    >>> import payseg
    >>> from payseg.labels._history import own_history
    >>> h = own_history(payseg.synth.generate(50, seed=0))
    >>> int(h["recent_bills"].max())
    5
    """
    if data.bills is None or not len(data.bills):
        raise ValueError("own_history needs bills; this data has none.")
    if as_of is None:
        as_of = max(data.payments["paid_at"].max(), data.bills["issued_on"].max())
    as_of = pd.Timestamp(as_of)
    b = _bill_rows(data, as_of)
    g = b.groupby("customer_id", sort=False)
    from_end = g.cumcount(ascending=False).to_numpy()
    # the window covers ``recent`` months of monthly bills: fewer bills of a longer
    # billing cycle (months between the customer's bills, median), so a bimonthly
    # customer's recent window is as long in time as a monthly one's
    ordinal = pd.Series(b["period"].array.asi8, index=b.index).where(
        b["period"].notna()
    )
    cycle = ordinal.groupby(b["customer_id"], sort=False).diff()
    cycle = cycle.groupby(b["customer_id"], sort=False).transform("median")
    size = np.ceil(recent / cycle.fillna(1.0).clip(lower=1.0).to_numpy())
    b["recent"] = from_end < size
    # Not yet news: a recent bill still open fewer days after its due date than the
    # customer usually pays after it (90th percentile of their earlier bills), e.g.
    # a chronic late payer's or a failed-debit fallback payer's last bill at the end
    # of the extract; its unpaid / partial / late state is unknown, not a change.
    old = b.loc[~b["recent"]]
    usual = old["overdue"].groupby(old["customer_id"]).quantile(USUAL_OVERDUE_Q)
    usual = b["customer_id"].map(usual.clip(lower=0.0)).fillna(0.0).to_numpy()
    pending = (
        b["recent"].to_numpy()
        & ~b["settled"].to_numpy()
        & (b["open_days"].to_numpy() < usual)
    )
    b.loc[pending, ["late", "unpaid", "partial"]] = np.nan
    open_s = _open_surprise(b, as_of)
    win = b.groupby(["customer_id", "recent"], sort=False)
    means = win[["late", "unpaid", "partial", "auto"]].mean().unstack("recent")
    med = win["delay"].median().unstack("recent")
    count = win.size().unstack("recent")
    early = b.loc[~b["recent"]]
    mad = (early["delay"] - early["customer_id"].map(med.get(False))).abs()
    # the MAD, or the 10-90% range in MAD units when wider: an auto-debit payer
    # whose debits sometimes fail pays on the debit day (MAD 0) and now and then
    # weeks later; three fallbacks in a five-bill window are their normal
    eg = early["delay"].groupby(early["customer_id"])
    wide = (eg.quantile(0.9) - eg.quantile(0.1)) / WIDE_TO_MAD
    spread = np.maximum(mad.groupby(early["customer_id"]).median(), wide)
    spread = spread.clip(lower=2.0)

    def part(frame, col, flag):
        if (col, flag) in frame.columns:
            return frame[(col, flag)]
        return pd.Series(np.nan, index=frame.index)

    def side(frame, flag):
        return (
            frame[flag]
            if flag in frame.columns
            else pd.Series(np.nan, index=frame.index)
        )

    out = pd.DataFrame(index=count.index)
    out["delay_z"] = (side(med, True) - side(med, False)) / spread.reindex(out.index)
    # bills paid clearly later than the customer's usual (earlier median + 2 robust
    # sds, at least LATER_DAYS): recent count against their own earlier count, so a
    # customer whose off-pattern payments are often late is not news for one more
    sd = (1.4826 * mad.groupby(early["customer_id"]).median()).reindex(out.index)
    bar = side(med, False) + np.maximum(2.0 * sd.fillna(0.0), LATER_DAYS)
    later = (b["delay"] > b["customer_id"].map(bar)).astype(float)
    later = later.where(b["delay"].notna())
    lg = later.groupby([b["customer_id"], b["recent"]], sort=False)
    k_l, n_l = lg.sum().unstack("recent"), lg.count().unstack("recent")
    ke, ne = side(k_l, False), side(n_l, False)
    pool = (ne >= MIN_EARLIER).to_numpy()
    tot = float(ne[pool].sum())
    rate = float(ke[pool].sum()) / tot if tot > 0 else 0.5
    rate = min(max(rate, 1e-3), 1 - 1e-3)
    out["delay_surprise"] = surprise(
        side(k_l, True).fillna(0.0), side(n_l, True).fillna(0.0), ke, ne, rate
    )
    # shares: recent minus earlier over the binomial sd of the recent share at the
    # earlier rate (smoothed by half a bill), so that a deadline payer's usual
    # coin-flip lateness is not news and a prompt payer's first late bill is
    n_rec = win["late"].count().unstack("recent")
    n_early = side(n_rec, False)
    for c in ("late", "unpaid", "partial"):
        k_early = part(means, c, False) * n_early
        p0 = (k_early + 0.5) / (n_early + 1.0)
        sd = np.sqrt(p0 * (1 - p0) / side(n_rec, True).clip(lower=1))
        out[f"{c}_z"] = (part(means, c, True) - part(means, c, False)) / sd
        out[f"{c}_recent"] = part(means, c, True)
        out[f"{c}_earlier"] = part(means, c, False)
        # the same change as a tail probability under the customer's own rate
        n_r = side(n_rec, True).fillna(0.0)
        k_r = (part(means, c, True) * n_r).round()
        k_e = k_early.round()
        pool = (k_e.notna() & (n_early >= MIN_EARLIER)).to_numpy()
        tot = float(n_early[pool].sum())
        rate = float(k_e[pool].sum()) / tot if tot > 0 else 0.5
        rate = min(max(rate, 1e-3), 1 - 1e-3)
        out[f"{c}_surprise"] = surprise(k_r.fillna(0.0), n_r, k_e, n_early, rate)
    out["auto_stop"] = (part(means, "auto", False) - part(means, "auto", True)).clip(
        lower=0.0
    )
    # auto-debit payers (at least half of the earlier amount automatic): recent
    # bills paid by hand, against their own earlier rate of bills paid by hand (a
    # payer whose debits often fail pays by hand now and then)
    manual = b["auto"].lt(0.5).astype(float).where(b["auto"].notna())
    mg = manual.groupby([b["customer_id"], b["recent"]], sort=False)
    k_m = mg.sum().unstack("recent")
    n_m = mg.count().unstack("recent")
    payer = part(means, "auto", False) >= 0.5
    ke, ne = side(k_m, False).where(payer), side(n_m, False).where(payer)
    kr, nr = side(k_m, True).where(payer), side(n_m, True).where(payer)
    pool = (ne >= MIN_EARLIER).to_numpy()
    tot = float(ne[pool].sum())
    rate = float(ke[pool].sum()) / tot if tot > 0 else 0.5
    rate = min(max(rate, 1e-3), 1 - 1e-3)
    out["auto_surprise"] = np.nan_to_num(
        surprise(kr.fillna(0.0), nr.fillna(0.0), ke, ne, rate), nan=0.0
    )
    # billed amount: recent bills against the same periods a year earlier
    amount = b.set_index(["customer_id", "period"])["amount_due"]
    rec = b.loc[b["recent"], ["customer_id", "period", "amount_due"]]
    before = amount.reindex(
        pd.MultiIndex.from_arrays([rec["customer_id"], rec["period"] - 12])
    ).to_numpy()
    ok = ~np.isnan(before)
    sums = (
        pd.DataFrame(
            {
                "customer_id": rec["customer_id"].to_numpy()[ok],
                "now": rec["amount_due"].to_numpy(float)[ok],
                "then": before[ok],
            }
        )
        .groupby("customer_id")[["now", "then"]]
        .sum()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = sums["now"] / sums["then"].where(sums["then"] > 0)
    out["use_change"] = (ratio - 1.0).reindex(out.index)
    out["fall_surprise"] = _fall_surprise(b, amount).reindex(out.index)
    silent = _silence(data, as_of).reindex(out.index)
    open_s = open_s.reindex(out.index)
    out["open_surprise"] = open_s["surprise"].fillna(0.0)
    out["open_days"] = open_s["days"]
    out["silent_surprise"] = silent["surprise"].fillna(0.0)
    out["silent_days"] = silent["days"]
    out["recent_bills"] = side(count, True).fillna(0.0).astype(float)
    out["earlier_bills"] = side(count, False).fillna(0.0).astype(float)
    thin = out["earlier_bills"] < MIN_EARLIER
    out.loc[thin, [c for c in HISTORY_COLUMNS if "bills" not in c]] = np.nan
    out.index.name = "customer_id"
    if index is not None:
        out = out.reindex(index)
    return out[list(HISTORY_COLUMNS)]
