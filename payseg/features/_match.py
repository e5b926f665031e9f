"""Payment -> bill matching and bill settlement, vectorised.

Matching rule (documented in docs/features.md):

1. A payment whose ``period`` is known pays the customer's bill of that period; when
   the customer has no bill of that period the payment is unmatched.
2. A payment whose ``period`` is NaT pays the customer's *oldest bill still unpaid at
   the payment time*, read as a running account: bills are queued by period, and the
   payment goes to the first bill whose cumulative amount due exceeds everything the
   customer paid strictly before this payment (all payments, with or without period;
   payments at the same timestamp count as simultaneous). When every bill is already
   covered, the payment is unmatched (a credit). Amounts are compared in whole cents;
   a bill without ``amount_due`` adds nothing to the queue.
3. A bill is *settled* by the matched payment (in time order) at which the amount
   matched to it reaches its amount due; a bill without ``amount_due`` is settled by
   its first matched payment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import PERIOD_NAT, BillArrays, PaymentArrays
from ._reduce import first_in_group, seg_total, zero_unless

# Dense (customer x month) lookup tables up to this many cells, else searchsorted.
_DENSE_LIMIT = 300_000_000


@dataclass
class Matching:
    """Result of :func:`match_payments` (per-payment and per-bill arrays)."""

    pay_bill: np.ndarray  # int64 matched bill per payment, -1 unmatched
    n_matched: np.ndarray  # int64 per bill
    paid_cents: np.ndarray  # int64 per bill, all matched payments
    paid_by_due_cents: np.ndarray  # int64 per bill, matched payments on/before due
    settled: np.ndarray  # bool per bill
    settle_day: np.ndarray  # float64 per bill, NaN when not settled


def _tagged(pay: PaymentArrays, bills: BillArrays, n: int, rows: np.ndarray):
    """Bill index of each tagged payment in ``rows`` (by customer and period)."""
    cust, per = pay.cust[rows], pay.period[rows]
    lo, hi = int(bills.period.min()), int(bills.period.max())
    span = hi - lo + 1
    inside = (per >= lo) & (per <= hi)
    out = np.full(len(rows), -1, dtype=np.int64)
    if n * span <= _DENSE_LIMIT:
        table = np.full(n * span, -1, dtype=np.int64)
        # Duplicate (customer, period) bills: the first in sort order wins.
        flat = bills.cust * span + (bills.period - lo)
        table[flat[::-1]] = np.arange(len(bills))[::-1]
        out[inside] = table[cust[inside] * span + (per[inside] - lo)]
        return out
    keys = bills.cust * span + (bills.period - lo)
    probe = cust[inside] * span + (per[inside] - lo)
    pos = np.searchsorted(keys, probe)
    pos_c = np.minimum(pos, len(keys) - 1)
    out[inside] = np.where(keys[pos_c] == probe, pos_c, -1)
    return out


def match_payments(pay: PaymentArrays, bills: BillArrays | None, n: int) -> Matching:
    """Match each payment to one bill and settle bills; see the module docstring."""
    if bills is None:
        z = np.zeros(0, dtype=np.int64)
        return Matching(np.full(len(pay), -1, np.int64), z, z, z,
                        np.zeros(0, bool), np.zeros(0))
    nb = len(bills)
    pay_bill = np.full(len(pay), -1, dtype=np.int64)
    tagged = pay.period != PERIOD_NAT
    rows = np.flatnonzero(tagged)
    if len(rows):
        pay_bill[rows] = _tagged(pay, bills, n, rows)
    rows = np.flatnonzero(~tagged)
    if len(rows):
        # Amount paid strictly before each payment (ties = simultaneous).
        cum = np.cumsum(pay.cents)
        excl = cum - pay.cents
        new_group = np.ones(len(pay), dtype=bool)
        new_group[1:] = ((pay.cust[1:] != pay.cust[:-1]) | (pay.day[1:] != pay.day[:-1])
                         | (pay.sec[1:] != pay.sec[:-1]))
        head = first_in_group(new_group)[rows]  # first payment at the same time
        start = pay.bounds[:-1][pay.cust[rows]]  # the customer's first payment
        before = excl[head] - excl[start]
        due = np.cumsum(np.maximum(bills.req_cents, 0))
        due_excl = np.concatenate([[0], due])[bills.bounds[:-1]]
        target = before + due_excl[pay.cust[rows]]
        pos = np.searchsorted(due, target, side="right")
        pay_bill[rows] = np.where(pos < bills.bounds[1:][pay.cust[rows]], pos, -1)

    m_rows = np.flatnonzero(pay_bill >= 0)
    m = pay_bill[m_rows]
    # Matched payments grouped by bill, in time order (stable, adaptive sort).
    if len(m) > 1 and np.any(m[1:] < m[:-1]):
        m_rows = m_rows[np.argsort(m, kind="stable")]
        m = pay_bill[m_rows]
    cents = pay.cents[m_rows]
    day = pay.day[m_rows]
    n_matched = np.bincount(m, minlength=nb)
    starts = np.zeros(nb + 1, dtype=np.int64)  # matched rows of bill i: starts[i:i+2]
    np.cumsum(n_matched, out=starts[1:])
    # Per-bill integer sums as differences of one running sum (bills hold one or two
    # payments: cheaper than reduceat or weighted bincount over so many segments).
    cum = np.zeros(len(m) + 1, dtype=np.int64)
    np.cumsum(cents, out=cum[1:])
    paid = cum[starts[1:]] - cum[starts[:-1]]
    on_time = day <= np.repeat(bills.due_day, n_matched)  # NaN due -> False
    paid_by_due = seg_total(zero_unless(cents, on_time), starts)
    # Running amount per bill; the settling payment is the first reaching the due.
    run = cum[1:] - np.repeat(cum[starts[:-1]], n_matched)
    reached = run >= np.repeat(np.maximum(bills.req_cents, 0), n_matched)
    n_reached = seg_total(reached, starts)
    settled = n_reached > 0
    # Once reached, the running amount stays reached: the settling payment is the
    # n_reached-th from the end of the bill's rows.
    first = np.minimum(starts[1:] - n_reached, max(len(day) - 1, 0))
    settle_day = np.where(settled, day[first] if len(day) else 0, np.nan)
    return Matching(pay_bill, n_matched, paid, paid_by_due, settled, settle_day)
