"""Billing-cycle features: rates per billing cycle, fallback and catch-up payments.

A customer billed every two months pays half as often per month as a monthly one
with the same habit; counting per bill period (the customer's own cycle) makes both
look the same. The cycle is inferred per customer from the periods of their bills
(bills inferred from payment periods too, for a payments-only export).

- ``cycle_months``: median gap in months between the customer's consecutive distinct
  bill periods (1 monthly, 2 bimonthly); gaps over :data:`BREAK_MONTHS` (12) are
  breaks (an empty home, a dormant account), not a cycle, and do not count; NaN
  without a gap that counts.
- ``payments_per_cycle``: distinct payment days per distinct bill period (about 1
  for a customer paying every bill once, whatever the cycle; below 1 for catch-up
  payers, above 1 for split payers); NaN without bills.
- ``fallback_share``: share of the settled bills with a due date that were settled
  after it by a payment through a non-automatic channel, for customers with at least
  one automatic (代扣) payment: a failed debit, then a late payment at a counter or
  app. 0 for customers who never pay automatically; NaN without a known channel or
  without such a bill.
- ``lump_share``: share of the settled bills whose settling payment (the one that
  completes it, by the allocation rules of docs/features.md) is a catch-up payment:
  it settles bills of at least two different periods, or it is a lump by amount
  (:func:`lump_by_amount`: a payment tagged with the latest period only, paying
  that bill and about one more bill or more while another bill is open).
"""

from __future__ import annotations

import numpy as np

from .. import channels as _channels
from ._block import Block
from ._infer import BREAK_MONTHS
from ._reduce import seg_count, seg_mean, seg_quantiles

COLUMNS = ("cycle_months", "payments_per_cycle", "fallback_share", "lump_share")

#: A payment is a lump by amount when what it pays beyond the bills it settles
#: reaches ``1 - LUMP_TOLERANCE`` of the customer's median bill.
LUMP_TOLERANCE = 0.1


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
    # A gap over a year is a break, not a billing cycle (cycles are 1-12 months).
    is_cycle = is_gap & (gap <= BREAK_MONTHS)
    (out["cycle_months"],) = seg_quantiles(
        np.where(is_cycle, gap, 0), bounds, is_cycle, (0.5,)
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
        many = settled & ((n_per[row] >= 2) | lump_by_amount(block)[row])
        out["lump_share"] = seg_mean(many, bounds, settled)
    else:
        out["lump_share"] = seg_mean(settled, bounds, settled)
    return out


def _open_from(period: np.ndarray, issue_day: np.ndarray) -> np.ndarray:
    """Day from which each bill is open: its issue day, else its period's first day."""
    out = np.nan_to_num(issue_day, nan=0.0).astype(np.int64)
    none = np.isnan(issue_day)
    if none.any():
        first = period[none].astype("datetime64[M]").astype("datetime64[D]")
        out[none] = first.astype(np.int64)
    return out


def _count_upto(cust_b, key, cust_p, day) -> np.ndarray:
    """Per payment (customer ``cust_p``, day ``day``): bills of its customer whose
    ``key`` is on or before that day (one sort of packed (customer, key) keys, nearly
    sorted already, and two searchsorted)."""
    if not len(key) or not len(day):
        return np.zeros(len(day), dtype=np.int64)
    lo = min(int(key.min()), int(day.min())) - 1
    width = max(int(key.max()), int(day.max())) + 1 - lo + 1
    packed = np.sort(cust_b * width + (key - lo), kind="stable")
    probe = cust_p * width + (day - lo)
    return np.searchsorted(packed, probe, side="right") - np.searchsorted(
        packed, cust_p * width, side="left"
    )


def lump_by_amount(block: Block) -> np.ndarray:
    """bool per payment: a catch-up payment recognised by its amount.

    A payment that settles at least one bill, each with an amount due, is a lump
    when, beyond the amount due of the bills it settles, it pays at least
    ``1 - LUMP_TOLERANCE`` of the customer's median bill, and at least one other
    bill of the customer was open that day (open: issued on or before that day,
    else from its period's first day, and not settled before that day). This
    finds a payment of three bills' amount tagged with the latest period only,
    which pays that period's bill and leaves the others open (allocation rule 2 of
    docs/features.md).
    """
    pay, b, mt = block.pay, block.bills, block.match
    out = np.zeros(len(pay), dtype=bool)
    if b is None or not len(pay) or not len(b):
        return out
    settled = mt.settle_row >= 0
    if not settled.any():
        return out
    row = mt.settle_row[settled]
    n_by = np.bincount(row, minlength=len(pay))
    req = b.req_cents[settled]
    req_by = np.bincount(row, weights=np.maximum(req, 0), minlength=len(pay))
    # a bill without amount due: what the payment pays beyond it is unknown
    unknown_by = np.bincount(row[req < 0], minlength=len(pay)) > 0
    # Only payments paying more than the bills they settle can be lumps: the rest
    # is done on their customers' bills only (few, next to every bill).
    cand = (n_by > 0) & ~unknown_by & (pay.cents > req_by)
    if not cand.any():
        return out
    who = np.zeros(block.n, dtype=bool)
    who[pay.cust[cand]] = True
    mine = who[b.cust]
    b_cust, b_req = b.cust[mine], b.req_cents[mine]
    b_bounds = np.zeros(block.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(b_cust, minlength=block.n), out=b_bounds[1:])
    (median,) = seg_quantiles(b_req, b_bounds, b_req > 0, (0.5,))
    typical = median[pay.cust]
    with np.errstate(invalid="ignore"):
        cand &= (typical > 0) & (pay.cents >= req_by + (1 - LUMP_TOLERANCE) * typical)
    if not cand.any():
        return out
    # open that day = opened on or before it, minus those also settled before it
    cust, day = pay.cust[cand], pay.day[cand]
    open_from = _open_from(b.period[mine], b.issue_day[mine])
    n_open = _count_upto(b_cust, open_from, cust, day)
    settle_day = mt.settle_day[mine]
    done = ~np.isnan(settle_day)
    closed = np.maximum(open_from[done], settle_day[done].astype(np.int64) + 1)
    n_open -= _count_upto(b_cust[done], closed, cust, day)
    out[cand] = n_open - n_by[cand] >= 1
    return out
