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


def overdue_days(block: Block) -> np.ndarray:
    """Days each bill was (or still is, at ``as_of``) past its due date; 0 if never."""
    b, mt = block.bills, block.match
    end = np.where(mt.settled, mt.settle_day, block.as_of_day)
    with np.errstate(invalid="ignore"):
        days = end - b.due_day
    return zero_unless(days, days > 0)  # NaN due -> 0


def compute(block: Block, *, late_fee_rate: float = LATE_FEE_RATE,
            late_fee_min: float = LATE_FEE_MIN) -> dict[str, np.ndarray]:
    """Arrears columns as arrays aligned with ``block.index``."""
    n = block.n
    out = {c: np.full(n, np.nan) for c in COLUMNS}
    if not block.has_bills:
        return out
    b, mt = block.bills, block.match
    known = b.req_cents >= 0
    overdue = b.due_day < block.as_of_day
    owed = zero_unless(np.maximum(b.req_cents - mt.paid_cents, 0), known & overdue)
    billed = block.billed
    arrears = seg_sum(owed, b.bounds) / 100.0
    days = overdue_days(block)
    starts = b.bounds[:-1][billed]
    months = np.full(n, np.nan)
    months[billed] = np.maximum.reduceat(days, starts) / DAYS_PER_MONTH
    base = zero_unless(np.maximum(b.req_cents - mt.paid_by_due_cents, 0), known) / 100.0
    fee = zero_unless(np.maximum(late_fee_rate * base * days, late_fee_min),
               (days > 0) & (base > 0))
    out["arrears_amount"] = np.where(billed, arrears, np.nan)
    out["max_months_in_arrears"] = months
    out["late_fee_est"] = np.where(billed, seg_sum(fee, b.bounds), np.nan)
    return out
