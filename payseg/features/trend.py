"""Trend features: is a customer paying later, or less, than before (early warning)."""

from __future__ import annotations

import numpy as np

from ._block import Block
from ._grouping import segment_bounds
from ._reduce import seg_mean, seg_slope

COLUMNS = ("delay_trend", "recent_late_share", "amount_trend")

#: Bills (delay_trend) and months (amount_trend) in the trend window.
TREND_PERIODS = 12
#: Due bills in the recent_late_share window.
RECENT_PERIODS = 3


def _last_k(cust: np.ndarray, n: int, k: int) -> np.ndarray:
    """True on each customer's last ``k`` rows (``cust`` non-decreasing)."""
    bounds = segment_bounds(cust, n)
    from_end = bounds[cust + 1] - 1 - np.arange(len(cust))
    return from_end < k


def compute(
    block: Block,
    *,
    trend_periods: int = TREND_PERIODS,
    recent_periods: int = RECENT_PERIODS,
) -> dict[str, np.ndarray]:
    """Trend columns as arrays aligned with ``block.index``."""
    n, pay = block.n, block.pay
    out = {c: np.full(n, np.nan) for c in COLUMNS}
    if block.has_bills:
        b, mt = block.bills, block.match
        assert b is not None  # has_bills was checked by the caller
        done = np.flatnonzero(mt.settled & ~np.isnan(b.issue_day))
        keep = done[_last_k(b.cust[done], n, trend_periods)]
        delay = mt.settle_day[keep] - b.issue_day[keep]
        x = (b.period[keep] - block.as_of_month).astype(np.float64)
        out["delay_trend"] = seg_slope(x, delay, segment_bounds(b.cust[keep], n))
        due = np.flatnonzero(b.due_day < block.as_of_day)
        keep = due[_last_k(b.cust[due], n, recent_periods)]
        with np.errstate(invalid="ignore"):
            late = ~mt.settled[keep] | (mt.settle_day[keep] > b.due_day[keep])
        out["recent_late_share"] = seg_mean(late, segment_bounds(b.cust[keep], n))
    # Monthly amounts over the last `trend_periods` complete calendar months up to
    # as_of (zeros included); a partial as_of month would bias every slope down.
    k = int(trend_periods)
    month = block.pay_month
    last_month = block.as_of_month - (0 if block.as_of.is_month_end else 1)
    offset = month - (last_month - k + 1)
    inside = (offset >= 0) & (offset < k)
    monthly = np.bincount(
        pay.cust[inside] * k + offset[inside],
        weights=pay.amount[inside],
        minlength=n * k,
    ).reshape(n, k)
    x = np.arange(k) - (k - 1) / 2
    mean = monthly.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Row-wise sum, not the BLAS product `monthly @ x`: its blocking changes the
        # last bits with the number of customers computed together (buckets vs all).
        slope = (monthly * x).sum(axis=1) / (x @ x) if k > 1 else np.full(n, np.nan)
        out["amount_trend"] = np.where(mean > 0, slope / mean, np.nan)
    return out
