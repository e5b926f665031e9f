"""Billing-cycle features: rates per billing cycle, fallback and catch-up payments.

A customer billed every two months pays half as often per month as a monthly one
with the same habit; counting per bill period (the customer's own cycle) makes both
look the same. The cycle is inferred per customer from the periods of their bills
(bills inferred from payment periods too, for a payments-only export).

- ``cycle_months``: median gap in months between the customer's consecutive distinct
  bill periods (1 monthly, 2 bimonthly); NaN with fewer than two periods.
- ``payments_per_cycle``: distinct payment days per distinct bill period (about 1
  for a customer paying every bill once, whatever the cycle; below 1 for catch-up
  payers, above 1 for split payers); NaN without bills.
- ``fallback_share``: share of the settled bills with a due date that were settled
  after it by a payment through a non-automatic channel, for customers with at least
  one automatic (代扣) payment: a failed debit, then a late payment at a counter or
  app. 0 for customers who never pay automatically; NaN without a known channel or
  without such a bill.
- ``lump_share``: share of the settled bills whose settling payment (the one that
  completes it, by the allocation rules of docs/features.md) settles bills of at
  least two different periods: one payment catching up on several bills. A payment
  tagged with one period pays that period's bills only, so a catch-up payment counts
  here when it carries no period (or a bill id per bill it settles).
"""

from __future__ import annotations

import numpy as np

from .. import channels as _channels
from ._block import Block
from ._reduce import seg_count, seg_mean, seg_quantiles

COLUMNS = ("cycle_months", "payments_per_cycle", "fallback_share", "lump_share")


def compute(block: Block) -> dict[str, np.ndarray]:
    """Cycle columns as arrays aligned with ``block.index``."""
    n, pay = block.n, block.pay
    out = {c: np.full(n, np.nan) for c in COLUMNS}
    if not block.has_bills:
        return out
    b, mt = block.bills, block.match
    assert b is not None  # has_bills was checked
    bounds = b.bounds
    new = np.ones(len(b), dtype=bool)
    new[1:] = (b.cust[1:] != b.cust[:-1]) | (b.period[1:] != b.period[:-1])
    n_periods = seg_count(new, bounds)
    # gap to the previous distinct period (rows sorted by customer, then period)
    start = np.zeros(len(b), dtype=bool)
    start[bounds[:-1][bounds[:-1] < len(b)]] = True
    is_gap = new & ~start
    gap = np.zeros(len(b), dtype=np.int64)
    gap[1:] = b.period[1:] - b.period[:-1]
    (out["cycle_months"],) = seg_quantiles(
        np.where(is_gap, gap, 0), bounds, is_gap, (0.5,)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["payments_per_cycle"] = np.where(
            n_periods > 0, block.n_dates / n_periods, np.nan
        )

    settled = mt.settle_row >= 0
    row = np.where(settled, mt.settle_row, 0)
    if block.channels:
        auto_group = block.group_matrix[:, _channels.GROUPS.index("automatic")]
        known = pay.chan >= 0
        pay_auto = np.zeros(len(pay), dtype=bool)
        pay_auto[known] = auto_group[pay.chan[known]].astype(bool)
        has_auto = seg_count(pay_auto, pay.bounds) > 0
        has_known = seg_count(known, pay.bounds) > 0
        with_due = settled & ~np.isnan(b.due_day)
        with np.errstate(invalid="ignore"):
            after_due = mt.settle_day > b.due_day
        by_other = known[row] & ~pay_auto[row] if len(pay) else settled
        fallback = with_due & after_due & by_other
        share = seg_mean(fallback, bounds, with_due)
        share = np.where(has_auto, share, np.where(np.isnan(share), np.nan, 0.0))
        out["fallback_share"] = np.where(has_known, share, np.nan)

    # bills of distinct periods per settling payment
    if settled.any():
        span = int(b.period.max() - b.period.min()) + 1
        keys = np.sort(row[settled] * span + (b.period[settled] - b.period.min()))
        distinct = np.ones(len(keys), dtype=bool)
        distinct[1:] = keys[1:] != keys[:-1]
        # np.sort + bincount: np.unique's hash path is several times slower here
        n_per = np.bincount(keys[distinct] // span, minlength=len(pay))
        many = settled & (n_per[row] >= 2)
        out["lump_share"] = seg_mean(many, bounds, settled)
    else:
        out["lump_share"] = seg_mean(settled, bounds, settled)
    return out
