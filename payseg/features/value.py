"""Value features: how much and how often a customer pays (no bills needed)."""

from __future__ import annotations

import numpy as np

from ._block import Block
from ._reduce import seg_count

COLUMNS = (
    "pay_count_per_year",
    "amount_per_year",
    "amount_total",
    "amount_mean",
    "recency_days",
    "tenure_days",
)


def compute(block: Block) -> dict[str, np.ndarray]:
    """Value columns as arrays aligned with ``block.index``."""
    n, pay = block.n, block.pay
    count = np.diff(pay.bounds)
    has = count > 0
    total = block.amount_total
    n_dates = block.n_dates
    year = block.pay_year
    new_year = np.ones(len(pay), dtype=bool)
    new_year[1:] = (pay.cust[1:] != pay.cust[:-1]) | (year[1:] != year[:-1])
    n_years = seg_count(new_year, pay.bounds).astype(np.float64)
    n_years[~has] = np.nan
    last = np.full(n, np.nan)
    last[has] = pay.day[pay.bounds[1:][has] - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "pay_count_per_year": n_dates / n_years,
            "amount_per_year": total / n_years,
            "amount_total": total,
            "amount_mean": np.where(has, total / np.maximum(count, 1), np.nan),
            "recency_days": block.as_of_day - last,
            "tenure_days": block.as_of_day - block.first_day,
        }
