"""Bills inferred from the payments' billing periods when there is no bills table.

A payments-only export (a district whose system exports no 应收 table, only the
billing month 电费年月 on each payment) gets one bill per customer and period that
received a payment, dated with the utility's standard calendar
(:class:`payseg.calendar.BillingCalendar`): read on the first day of the calendar's
``reading_days`` in the settlement month, issued ``issue_lag[0]`` days later (rolled
off days off as the calendar says), due as the calendar says (the China default: the
last day of the settlement month). Its amount due is the total paid for that period,
so the bill is settled by the last of that period's payments. Vectorised: one
factorisation of the customer ids and one ``np.unique`` of (customer, period) keys.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..calendar import BillingCalendar
from ._arrays import PERIOD_NAT, period_ordinals


def describe(calendar: BillingCalendar) -> str:
    """The calendar rule used, in words, for notes and docs."""
    due = (
        "the last day of the settlement month"
        if calendar.due == "month_end"
        else f"{calendar.due} days after issue"
    )
    return (
        f"{calendar.frequency} bills read on day {calendar.reading_days[0]} of the "
        f"settlement month, issued {calendar.issue_lag[0]} day(s) later, due "
        f"{due}"
    )


def inferred_bills(payments: pd.DataFrame, calendar: BillingCalendar | None):
    """Canonical bills (one per customer and period paid) or None when the payments
    carry no period."""
    if not len(payments) or "period" not in payments:
        return None
    ordinal = period_ordinals(payments["period"])
    known = (ordinal != PERIOD_NAT) & payments["paid_at"].notna().to_numpy()
    amount = payments["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    known &= ~np.isnan(amount)
    if not known.any():
        return None
    cal = BillingCalendar() if calendar is None else calendar
    fixed = dataclasses.replace(cal, issue_lag=(cal.issue_lag[0],) * 2)
    codes, ids = pd.factorize(payments["customer_id"].to_numpy()[known], sort=False)
    ordinal = ordinal[known]
    lo = int(ordinal.min())
    span = int(ordinal.max()) - lo + 1
    keys, inverse = np.unique(
        codes.astype(np.int64) * span + (ordinal - lo), return_inverse=True
    )
    total = np.bincount(inverse, weights=amount[known], minlength=len(keys))
    cust, per = keys // span, keys % span + lo
    months = np.unique(per)
    issued, due = fixed.dates(months, np.array([cal.reading_days[0]]))
    pos = np.searchsorted(months, per)
    day = np.datetime64("1970-01-01", "D")
    return pd.DataFrame(
        {
            "customer_id": pd.array(np.asarray(ids, dtype=object)[cust], dtype="str"),
            "period": pd.PeriodIndex.from_ordinals(per, freq="M"),
            "issued_on": (day + issued[0][pos]).astype("datetime64[ns]"),
            "due_on": (day + due[0][pos]).astype("datetime64[ns]"),
            "amount_due": np.round(total, 2),
        }
    )
