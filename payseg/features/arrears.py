"""Arrears features: what a customer owes at ``as_of`` and the late fees it implies."""

from __future__ import annotations

import numpy as np

from ._arrays import DAYS_PER_MONTH
from ._block import Block
from ._reduce import seg_sum, zero_unless

COLUMNS = ("arrears_amount", "max_months_in_arrears", "late_fee_est")

#: Residential late fee per day of arrears (DOMAIN.md: 0.1%/day, at least 1 yuan).
LATE_FEE_RATE = 0.001
LATE_FEE_MIN = 1.0
#: Non-residential late fee per day: 0.2 %/day on arrears of the due date's year,
#: 0.3 %/day from the first day of the next year on (arrears carried across a year
#: end).
NONRESIDENTIAL_RATE = 0.002
CARRIED_RATE = 0.003


def overdue_days(block: Block) -> np.ndarray:
    """Days each bill was (or still is, at ``as_of``) past its due date; 0 if never."""
    b, mt = block.bills, block.match
    assert b is not None  # has_bills was checked by the caller
    end = np.where(mt.settled, mt.settle_day, block.as_of_day)
    with np.errstate(invalid="ignore"):
        days = end - b.due_day
    return zero_unless(days, days > 0)  # NaN due -> 0


def _year_end(day: np.ndarray) -> np.ndarray:
    """Day number of 31 December of the year of each day number (NaN stays NaN)."""
    out = np.full(len(day), np.nan)
    ok = ~np.isnan(day)
    year = day[ok].astype(np.int64).astype("datetime64[D]").astype("datetime64[Y]")
    out[ok] = (year + 1).astype("datetime64[D]").astype(np.int64) - 1
    return out


def daily_rate_days(
    block: Block,
    days: np.ndarray,
    late_fee_rate: float,
    nonresidential_rate: float,
    carried_rate: float,
) -> np.ndarray:
    """Σ rate × day over each bill's overdue days: ``late_fee_rate`` for residential
    customers; for non-residential ones ``nonresidential_rate`` up to 31 December of
    the due date's year and ``carried_rate`` after it."""
    out = late_fee_rate * days
    if block.nonresidential is None:
        return out
    b = block.bills
    assert b is not None  # has_bills was checked by the caller
    nr = block.nonresidential[b.cust] & (days > 0)
    if nr.any():
        due, d = b.due_day[nr], days[nr]
        this_year = np.clip(_year_end(due) - due, 0, d)
        out[nr] = nonresidential_rate * this_year + carried_rate * (d - this_year)
    return out


def compute(
    block: Block,
    *,
    late_fee_rate: float = LATE_FEE_RATE,
    late_fee_min: float = LATE_FEE_MIN,
    nonresidential_rate: float = NONRESIDENTIAL_RATE,
    carried_rate: float = CARRIED_RATE,
) -> dict[str, np.ndarray]:
    """Arrears columns as arrays aligned with ``block.index``."""
    n = block.n
    out = {c: np.full(n, np.nan) for c in COLUMNS}
    if not block.has_bills:
        return out
    b, mt = block.bills, block.match
    assert b is not None  # has_bills was checked by the caller
    known = b.req_cents >= 0
    overdue = b.due_day < block.as_of_day
    owed = zero_unless(np.maximum(b.req_cents - mt.paid_cents, 0), known & overdue)
    reported = block.reported.get("arrears")
    if reported is not None:  # the system's own arrears per bill win when known
        owed = np.where(
            np.isnan(reported), owed, np.round(np.nan_to_num(reported) * 100)
        ).astype(np.int64)
    billed = block.billed
    arrears = seg_sum(owed, b.bounds) / 100.0
    days = overdue_days(block)
    starts = b.bounds[:-1][billed]
    months = np.full(n, np.nan)
    months[billed] = np.maximum.reduceat(days, starts) / DAYS_PER_MONTH
    base = zero_unless(np.maximum(b.req_cents - mt.paid_by_due_cents, 0), known) / 100.0
    rate_days = daily_rate_days(
        block, days, late_fee_rate, nonresidential_rate, carried_rate
    )
    fee = zero_unless(
        np.maximum(base * rate_days, late_fee_min), (days > 0) & (base > 0)
    )
    reported = block.reported.get("late_fee")
    if reported is not None:  # the system's own late fee per bill wins when known
        fee = np.where(np.isnan(reported), fee, reported)
    out["arrears_amount"] = np.where(billed & ~block.calendar_inferred, arrears, np.nan)
    out["max_months_in_arrears"] = months
    out["late_fee_est"] = np.where(billed, seg_sum(fee, b.bounds), np.nan)
    return out
