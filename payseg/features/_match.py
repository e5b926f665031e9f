"""Payment -> bill allocation and bill settlement, vectorised.

Allocation rule (documented in docs/features.md):

1. A payment with a ``bill_id`` that is one of its customer's bills pays that bill.
2. Otherwise a payment whose ``period`` is known pays the customer's bills of that
   period: when there are several (invoice-level bills, split or supplementary bills)
   that period's payments settle them oldest first (issue date, then file order), each
   payment's amount going to the first bill still open until it is used. Anything
   paid beyond the period's bills stays on its last bill. When the customer has no
   bill of that period the payment is unmatched.
3. A payment without period or bill id (a file without a ``period`` column, or a
   lump payment) settles the customer's open bills oldest first (period, then issue
   date) until its amount is used, read as a running account: the bills queue up in
   that order, each as long as what the payments of rules 1 and 2 leave open on it
   (all of them, whenever made: a bill paid with its period takes nothing here), and
   the payment covers the stretch of the queue from everything the customer paid
   without period or bill id before it (in payment order) to that plus its own
   amount. A payment can so settle several bills (a catch-up payment) or leave the
   last one partly open; an amount beyond every open bill is unmatched (a credit). A
   bill without ``amount_due`` takes nothing in such a queue.
4. A bill is *settled* by the allocated payment (in time order) at which the amount
   allocated to it reaches its amount due; a bill without ``amount_due`` is settled by
   its first payment.

Amounts are compared in whole cents. Every step is a cumulative sum, a searchsorted or
a bincount: no loop over customers or payments.
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

    pay_bill: np.ndarray  # int64 first bill each payment goes to, -1 unmatched
    n_matched: np.ndarray  # int64 per bill: payments allocated to it
    paid_cents: np.ndarray  # int64 per bill, all allocated amounts
    paid_by_due_cents: np.ndarray  # int64 per bill, allocated on/before due
    settled: np.ndarray  # bool per bill
    settle_day: np.ndarray  # float64 per bill, NaN when not settled
    settle_row: np.ndarray | None = None  # int64 per bill: settling payment, -1 none


def _tagged(pay: PaymentArrays, bills: BillArrays, n: int, rows: np.ndarray):
    """First bill (sort order) of each tagged payment's customer and period, or -1."""
    cust, per = pay.cust[rows], pay.period[rows]
    lo, hi = int(bills.period.min()), int(bills.period.max())
    span = hi - lo + 1
    inside = (per >= lo) & (per <= hi)
    out = np.full(len(rows), -1, dtype=np.int64)
    if n * span <= _DENSE_LIMIT:
        table = np.full(n * span, -1, dtype=np.int64)
        # Several bills of one (customer, period): the first in sort order.
        flat = bills.cust * span + (bills.period - lo)
        table[flat[::-1]] = np.arange(len(bills))[::-1]
        out[inside] = table[cust[inside] * span + (per[inside] - lo)]
        return out
    keys = bills.cust * span + (bills.period - lo)
    probe = cust[inside] * span + (per[inside] - lo)
    pos = np.searchsorted(keys, probe)  # left: the first of equal keys
    pos_c = np.minimum(pos, len(keys) - 1)
    out[inside] = np.where(keys[pos_c] == probe, pos_c, -1)
    return out


def _by_bill_id(pay: PaymentArrays, bills: BillArrays, rows: np.ndarray):
    """Bill of each payment in ``rows`` with the same customer and bill id, or -1."""
    out = np.full(len(rows), -1, dtype=np.int64)
    has = bills.bill >= 0
    if not has.any():
        return out
    width = int(max(bills.bill.max(), pay.bill[rows].max())) + 1
    idx = np.flatnonzero(has)
    keys = bills.cust[idx] * width + bills.bill[idx]
    order = np.argsort(keys, kind="stable")  # equal ids: the first bill wins
    keys, idx = keys[order], idx[order]
    probe = pay.cust[rows] * width + pay.bill[rows]
    pos = np.minimum(np.searchsorted(keys, probe), len(keys) - 1)
    return np.where(keys[pos] == probe, idx[pos], -1)


def period_runs(bills: BillArrays) -> np.ndarray:
    """For each bill, the end (exclusive) of its run of bills of one customer and
    period (bills are sorted by customer and period)."""
    nb = len(bills)
    new = np.ones(nb, dtype=bool)
    new[1:] = (bills.cust[1:] != bills.cust[:-1]) | (
        bills.period[1:] != bills.period[:-1]
    )
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], nb)
    return np.repeat(ends, ends - starts)


def _queues(pay: PaymentArrays, bills: BillArrays, n: int, cum: np.ndarray):
    """The first bill of the queue each payment pays into (``qlo``, -1: unmatched)
    and, for the payments whose queue has several bills or is the running account
    (the only ones that need more), their rows (ascending), the end of their queue,
    where on the bill axis they start and whether they are on the running account.
    """
    npay = len(pay)
    qlo = np.full(npay, -1, dtype=np.int64)
    by_id = None
    if pay.bill is not None and bills.bill is not None:
        rows = np.flatnonzero(pay.bill >= 0)
        if len(rows):
            k = _by_bill_id(pay, bills, rows)
            ok = k >= 0
            rows, k = rows[ok], k[ok]
            by_id = np.zeros(npay, dtype=bool)
            by_id[rows] = True
            qlo[rows] = k
    tagged = pay.period != PERIOD_NAT
    if by_id is not None:
        tagged &= ~by_id
    rows = np.flatnonzero(tagged)
    parts = []  # (rows, queue end, start, on the running account)
    if len(rows):
        k = _tagged(pay, bills, n, rows)
        ok = k >= 0
        rows, k = rows[ok], k[ok]
        qlo[rows] = k
        end = period_runs(bills)[k]
        several = end - k > 1
        if several.any():
            # Several bills in one (customer, period): that period's payments fill
            # them in time order (payment rows are sorted by customer and time).
            multi, k, end = rows[several], k[several], end[several]
            order = np.argsort(k, kind="stable")
            c = pay.cents[multi[order]]
            excl = np.cumsum(c) - c
            new_q = np.ones(len(c), dtype=bool)
            new_q[1:] = k[order][1:] != k[order][:-1]
            start = np.empty(len(c), dtype=np.int64)
            start[order] = cum[k[order]] + excl - excl[first_in_group(new_q)]
            parts.append((multi, end, start, np.zeros(len(multi), dtype=bool)))
    acct = ~tagged
    if by_id is not None:
        acct &= ~by_id
    return qlo, (parts[0] if parts else None), acct


def _running_account(pay, bills, cum, acct):
    """First bill, rows, queue end and start of the payments without period or bill
    id that find an open bill: the customer's bills as left open by the payments
    with period or bill id (``cum`` over those open amounts), from everything the
    customer paid without period or bill id before (in payment order)."""
    rows = np.flatnonzero(acct)
    cust = pay.cust[rows]
    lo_b, hi_b = bills.bounds[:-1][cust], bills.bounds[1:][cust]
    u = zero_unless(pay.cents, acct)
    u_excl = np.cumsum(u)
    u_excl -= u
    pos = cum[lo_b] + (u_excl[rows] - u_excl[pay.bounds[:-1][cust]])
    open_ = pos < cum[hi_b]  # else every bill is covered: a credit
    rows = rows[open_]
    return lo_b[open_], (rows, hi_b[open_], pos[open_], np.ones(len(rows), bool))


def _allocate(
    pay: PaymentArrays, cum: np.ndarray, width: np.ndarray, rows, k1, complex_
):
    """(first bill of each payment of ``rows``, bill of each allocation, its payment
    row, its cents, whether some payment was split over several bills).

    ``rows`` (ascending) pay into queues starting at bill ``k1``; ``complex_``
    (rows, queue end, start, on the running account) lists those whose queue has
    several bills. Each such payment covers [start, start + cents) of the bill axis
    ``cum``, clipped to its queue; tagged payments keep any excess on their queue's
    last bill. A payment with a one-bill queue (the usual case) simply pays that
    bill. One allocation per payment comes first, in payment order; the further bills
    of a payment that settles several follow at the end.
    """
    row_cents = pay.cents[rows]
    if complex_ is None:
        return k1, k1, rows, row_cents, False
    k1 = k1.copy()
    c_rows, c_end, s, on_acct = complex_
    cx = np.searchsorted(rows, c_rows)  # their positions in rows
    e = s + row_cents[cx]
    lo_q, hi_q = k1[cx], c_end - 1
    over_ok = ~on_acct  # tagged: the excess stays on the last bill
    first = np.clip(np.searchsorted(cum[1:], s, side="right"), lo_q, hi_q)
    last = np.clip(np.searchsorted(cum[:-1], e, side="left") - 1, first, hi_q)
    k1[cx] = first

    def part(m, s, e, at_end):
        top = np.where(at_end, e, np.minimum(e, cum[m + 1]))
        return top - np.maximum(s, cum[m])

    cents = row_cents.copy()
    cents[cx] = part(first, s, e, over_ok & (first == hi_q))
    spread = last - first
    if not spread.any():
        return k1, k1, rows, cents, False
    ex = np.flatnonzero(spread)  # positions in cx of payments settling several bills
    reps = spread[ex]
    pe = np.repeat(ex, reps)
    m_e = np.repeat(first[ex] + 1, reps) + (
        np.arange(len(pe)) - np.repeat(np.cumsum(reps) - reps, reps)
    )
    keep = width[m_e] > 0  # bills with nothing to take are skipped
    pe, m_e = pe[keep], m_e[keep]
    c_e = part(m_e, s[pe], e[pe], over_ok[pe] & (m_e == hi_q[pe]))
    return (
        k1,
        np.concatenate([k1, m_e]),
        np.concatenate([rows, c_rows[pe]]),
        np.concatenate([cents, c_e]),
        True,
    )


def match_payments(pay: PaymentArrays, bills: BillArrays | None, n: int) -> Matching:
    """Allocate payments to bills and settle bills; see the module docstring."""
    npay = len(pay)
    if bills is None:
        z = np.zeros(0, dtype=np.int64)
        return Matching(
            np.full(npay, -1, np.int64), z, z, z, np.zeros(0, bool), np.zeros(0), z
        )
    nb = len(bills)
    width = np.maximum(bills.req_cents, 0)
    cum = np.zeros(nb + 1, dtype=np.int64)  # bill k spans [cum[k], cum[k + 1])
    np.cumsum(width, out=cum[1:])
    # Payments with a bill id or a period first.
    qlo, complex_, acct = _queues(pay, bills, n, cum)
    rows = np.flatnonzero(qlo >= 0)
    first, m, m_rows, cents, split = _allocate(
        pay, cum, width, rows, qlo[rows], complex_
    )
    pay_bill = qlo
    pay_bill[rows] = first
    if acct.any():
        # The running account: what those payments leave open, oldest first.
        tagged_paid = np.rint(np.bincount(m, weights=cents, minlength=nb))
        open_ = np.maximum(width - tagged_paid.astype(np.int64), 0)
        cum_o = np.zeros(nb + 1, dtype=np.int64)
        np.cumsum(open_, out=cum_o[1:])
        lo_b, queue = _running_account(pay, bills, cum_o, acct)
        if len(lo_b):
            a_first, a_m, a_rows, a_cents, _ = _allocate(
                pay, cum_o, open_, queue[0], lo_b, queue
            )
            pay_bill[queue[0]] = a_first
            m = np.concatenate([m, a_m])
            m_rows = np.concatenate([m_rows, a_rows])
            cents = np.concatenate([cents, a_cents])
            split = True

    # Allocations grouped by bill, in time order (stable, adaptive sort; by bill and
    # payment row when split payments put allocations out of payment order).
    if split:
        order = np.argsort(m * max(npay, 1) + m_rows, kind="stable")  # nearly sorted
        m, m_rows, cents = m[order], m_rows[order], cents[order]
    elif len(m) > 1 and np.any(m[1:] < m[:-1]):
        order = np.argsort(m, kind="stable")
        m, m_rows, cents = m[order], m_rows[order], cents[order]
    day = pay.day[m_rows]
    n_matched = np.bincount(m, minlength=nb)
    starts = np.zeros(nb + 1, dtype=np.int64)  # allocations of bill i: starts[i:i+2]
    np.cumsum(n_matched, out=starts[1:])
    # Per-bill integer sums as differences of one running sum (bills hold one or two
    # payments: cheaper than reduceat or weighted bincount over so many segments).
    run_all = np.zeros(len(m) + 1, dtype=np.int64)
    np.cumsum(cents, out=run_all[1:])
    paid = run_all[starts[1:]] - run_all[starts[:-1]]
    on_time = day <= np.repeat(bills.due_day, n_matched)  # NaN due -> False
    paid_by_due = seg_total(zero_unless(cents, on_time), starts)
    # Running amount per bill; the settling payment is the first reaching the due.
    run = run_all[1:] - np.repeat(run_all[starts[:-1]], n_matched)
    reached = run >= np.repeat(width, n_matched)
    n_reached = seg_total(reached, starts)
    settled = n_reached > 0
    # Once reached, the running amount stays reached: the settling payment is the
    # n_reached-th from the end of the bill's rows.
    first = np.minimum(starts[1:] - n_reached, max(len(day) - 1, 0))
    settle_day = np.where(settled, day[first] if len(day) else 0, np.nan)
    settle_row = np.where(settled, m_rows[first] if len(m_rows) else 0, -1)
    return Matching(
        pay_bill, n_matched, paid, paid_by_due, settled, settle_day, settle_row
    )
