"""Timing features: when, relative to the billing window, a customer pays.

Bill-based columns use the matching and settlement rules of ``_match`` (see
docs/features.md); ``weekend_share`` and ``evening_share`` read every payment and are
defined without bills.
"""

from __future__ import annotations

import numpy as np

from ._block import Block
from ._reduce import seg_count, seg_mean, seg_moments, seg_quantiles, zero_unless

COLUMNS = (
    "delay_days_mean",
    "delay_days_median",
    "delay_days_std",
    "delay_days_p90",
    "days_to_due_mean",
    "late_share",
    "unpaid_share",
    "pay_day_regularity",
    "weekend_share",
    "evening_share",
    "payments_per_bill",
)

#: Payments at or after this hour (and before midnight) are "evening" payments.
EVENING_HOUR = 18


def compute(block: Block) -> dict[str, np.ndarray]:
    """Timing columns as arrays aligned with ``block.index``."""
    n, pay = block.n, block.pay
    out = {c: np.full(n, np.nan) for c in COLUMNS}
    weekday = (pay.day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    out["weekend_share"] = seg_mean(weekday >= 5, pay.bounds)
    # A customer whose payments all sit at 00:00:00 has no time of day on record.
    timed = seg_count(pay.sec > 0, pay.bounds) > 0
    evening = seg_mean(pay.sec >= EVENING_HOUR * 3600, pay.bounds)
    out["evening_share"] = np.where(timed, evening, np.nan)
    if not block.has_bills:
        return out
    b, mt = block.bills, block.match
    assert b is not None  # has_bills was checked by the caller
    bounds = b.bounds
    done = mt.settled & ~np.isnan(b.issue_day)
    delay = mt.settle_day - b.issue_day
    _, out["delay_days_mean"], out["delay_days_std"] = seg_moments(delay, bounds, done)
    out["delay_days_median"], out["delay_days_p90"] = seg_quantiles(
        zero_unless(delay, done), bounds, done, (0.5, 0.9)
    )

    with_due = mt.settled & ~np.isnan(b.due_day)
    out["days_to_due_mean"] = seg_mean(b.due_day - mt.settle_day, bounds, with_due)

    window = b.due_day - b.issue_day
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = done & (window > 0)
        position = (mt.settle_day - b.issue_day) / window
    _, _, out["pay_day_regularity"] = seg_moments(position, bounds, inside)

    overdue = b.due_day < block.as_of_day  # NaN due -> False
    with np.errstate(invalid="ignore"):
        late = ~mt.settled | (mt.settle_day > b.due_day)
    out["late_share"] = seg_mean(late, bounds, overdue)
    if not block.calendar_inferred:  # inferred bills are all paid: unknown
        out["unpaid_share"] = seg_mean(~mt.settled, bounds, overdue)
    out["payments_per_bill"] = seg_mean(mt.n_matched, bounds, mt.n_matched > 0)
    return out
