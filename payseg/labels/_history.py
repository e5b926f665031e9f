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


def _with_inferred(data) -> pd.DataFrame:
    """``data.bills`` plus bills inferred from the payments' periods for customers
    without any bill (a payments-only district beside billed ones), as
    :func:`payseg.build_features` does: their delay, lateness and billed amount
    count; their bills are never unpaid or paid in part (amount due = amount paid).
    """
    bills = data.bills
    pay = data.payments
    unbilled = ~pay["customer_id"].isin(bills["customer_id"]).to_numpy()
    if not unbilled.any():
        return bills
    extra = inferred_bills(pay.loc[unbilled], None)
    if extra is None:
        return bills
    return pd.concat([bills, extra], ignore_index=True)


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
    (``late_recent``, ``late_earlier``, ``unpaid_recent``, ...). NaN where a
    customer has fewer than ``MIN_EARLIER`` earlier bills.

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
    b["recent"] = from_end < recent
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
    out["auto_stop"] = (part(means, "auto", False) - part(means, "auto", True)).clip(
        lower=0.0
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
    out["recent_bills"] = side(count, True).fillna(0.0).astype(float)
    out["earlier_bills"] = side(count, False).fillna(0.0).astype(float)
    thin = out["earlier_bills"] < MIN_EARLIER
    out.loc[thin, [c for c in HISTORY_COLUMNS if "bills" not in c]] = np.nan
    out.index.name = "customer_id"
    if index is not None:
        out = out.reindex(index)
    return out[list(HISTORY_COLUMNS)]
