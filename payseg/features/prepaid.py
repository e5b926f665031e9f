"""Prepaid (top-up) features: the rhythm and size of a customer's payments.

Every payment counts as a top-up, so these columns are defined for customers without
bills (prepaid meters); payments on the same calendar day form one top-up.
"""

from __future__ import annotations

import numpy as np

from ._arrays import DAYS_PER_MONTH
from ._block import Block
from ._reduce import seg_moments

COLUMNS = (
    "topup_interval_mean",
    "topup_interval_cv",
    "topup_amount_mean",
    "topups_per_month",
)


def compute(block: Block) -> dict[str, np.ndarray]:
    """Prepaid columns as arrays aligned with ``block.index``."""
    pay = block.pay
    # Rows are in time order per customer, so the gaps between distinct top-up days
    # are exactly the non-zero day differences between consecutive payments.
    gap = np.zeros(len(pay), dtype=np.float64)
    gap[1:] = pay.day[1:] - pay.day[:-1]
    is_gap = np.zeros(len(pay), dtype=bool)
    is_gap[1:] = (pay.cust[1:] == pay.cust[:-1]) & (gap[1:] > 0)
    _, mean, std = seg_moments(gap, pay.bounds, is_gap)
    n_dates = block.n_dates.astype(np.float64)
    total = block.amount_total
    has = n_dates > 0
    months = np.maximum((block.as_of_day - block.first_day) / DAYS_PER_MONTH, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "topup_interval_mean": mean,
            "topup_interval_cv": std / mean,
            "topup_amount_mean": np.where(has, total / np.maximum(n_dates, 1), np.nan),
            "topups_per_month": np.where(has, n_dates / months, np.nan),
        }
