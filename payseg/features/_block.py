"""Context and Block: the global pass of one :func:`build_features` call, and the
rows of one run of consecutive customers prepared for the feature families.

:class:`Context` makes one global pass: the customer index (every customer of
payments, bills and customers, sorted), the grouping of payment and bill rows by
customer (a no-op for files sorted by account) and ``as_of``. :class:`Block` then
prepares the rows of a run of consecutive customers: payments sorted by (customer,
time, channel), bills sorted by (customer, period). Families reduce these arrays with
``np.bincount`` and sorted-segment arithmetic, never with a Python loop over customers
or rows.
"""

from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np
import pandas as pd

from .. import channels
from ..exceptions import PaymentDataError
from ._arrays import (
    NS_PER_DAY,
    NS_PER_SECOND,
    PERIOD_NAT,
    BillArrays,
    PaymentArrays,
    dated_bounds,
    day_numbers,
    ns_view,
    period_ordinals,
    zero_cents,
)
from ._as_of import dated_range, robust_latest
from ._grouping import customer_index, lex_order, segment_bounds, stable_order
from ._match import Matching, match_payments
from ._reduce import seg_count, seg_sum, zero_unless

#: Payment rows per block: families run block by block over consecutive customers so
#: temporaries stay small (tens of MB) and memory is reused instead of page-faulted.
BLOCK_ROWS = 1_000_000


def _channel_codes(present: np.ndarray, categories):
    """Channels present (registry order), code lookup and tie rank by code name.

    The tie rank orders payments at one timestamp by channel code name (no channel
    first), so the order never depends on row order or on the registry.
    """
    cats = [str(c) for c in categories]
    order = {c: i for i, c in enumerate(channels.codes())}
    used = sorted(
        (cats[i] for i in present), key=lambda c: (order.get(c, len(order)), c)
    )
    pos = {c: i for i, c in enumerate(used)}
    # Indexed by category code + 1 (slot 0 is the missing value, code -1).
    lookup = np.array([-1] + [pos.get(c, -1) for c in cats], dtype=np.int64)
    by_name = (
        np.argsort(np.argsort(np.array(used, dtype=object)))
        if used
        else np.zeros(0, np.int64)
    )
    rank = np.concatenate([[0], by_name + 1])[lookup + 1]
    return used, lookup, rank


def kept_payments(ns: np.ndarray, amount: np.ndarray, cutoff: int) -> np.ndarray:
    """Payments the features use: dated, not after the ``as_of`` day, with an amount."""
    return (ns != PERIOD_NAT) & (ns < cutoff) & ~np.isnan(amount)


def kept_bills(issue, period, amount, cutoff: int, as_of_month: int) -> np.ndarray:
    """Bills the features use: a known period, an amount due that is not 0, issued
    by the ``as_of`` day (without an issue date: the period has started)."""
    return (
        (period != PERIOD_NAT)
        & ~zero_cents(amount)
        & ((issue == PERIOD_NAT) | (issue < cutoff))
        & ((issue != PERIOD_NAT) | (period <= as_of_month))
    )


def _per_customer_any(mask: np.ndarray, codes, bounds: np.ndarray, n: int):
    """bool per customer: any row of ``mask`` (rows in file order) is True.

    ``codes`` maps each row to its customer (None: rows already grouped in index
    order, ``bounds`` the offsets of each customer's rows)."""
    if codes is None:
        cum = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
        return (cum[bounds[1:]] - cum[bounds[:-1]]) > 0
    return np.bincount(codes[mask], minlength=n)[:n] > 0


def _chunks(n: int, size: int = 4_000_000):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


class Context:
    """Customer index, as_of and per-block arrays shared by the feature families.

    The global pass only factorises customer ids, groups rows by customer (a no-op
    for files sorted by account) and takes a few maxima; everything row-sized is done
    in :meth:`blocks` of consecutive customers.
    """

    def __init__(self, data, *, as_of=None, as_of_bills=True, grouped=None):
        # grouped: customer_index(data) when the caller has it already.
        self.index, pay, bill = customer_index(data) if grouped is None else grouped
        self.n = len(self.index)
        p, b = data.payments, data.bills
        np_, nb = len(p), len(b)
        self._pay_codes, self._pay_bounds = pay
        self._bill_codes, self._bill_bounds = bill
        self._ns = ns_view(p["paid_at"]) if np_ else np.zeros(0, np.int64)
        self._amount = (
            p["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
            if np_
            else np.zeros(0)
        )
        has_chan = "channel" in p and np_ > 0
        cat = pd.Categorical(p["channel"]) if has_chan else None
        self._chan_codes = cat.codes if has_chan else np.full(np_, -1, np.int8)
        self._period = period_ordinals(p["period"]) if "period" in p and np_ else None
        if nb:
            self._b_issue = (
                ns_view(b["issued_on"])
                if "issued_on" in b
                else np.full(nb, PERIOD_NAT, np.int64)
            )
            self._b_due = (
                ns_view(b["due_on"])
                if "due_on" in b
                else np.full(nb, PERIOD_NAT, np.int64)
            )
            self._b_period = period_ordinals(b["period"])
            self._b_amount = (
                b["amount_due"].to_numpy(dtype=np.float64, na_value=np.nan)
                if "amount_due" in b
                else np.full(nb, np.nan)
            )
        self._pay_bill, self._b_bill = bill_id_codes(p, b)
        #: Reported per-bill amounts (欠费金额, 滞纳金) when the bills carry them.
        self._b_reported = {
            col: b[col].to_numpy(dtype=np.float64, na_value=np.nan)
            for col in REPORTED
            if nb and col in b and b[col].notna().any()
        }

        #: Data-health notes of this run (each also a UserWarning), see attrs().
        self.notes: list[str] = []
        self.as_of_rule = "given"
        # as_of: latest payment or bill-issue date; data after it is ignored.
        if as_of is None:
            # as_of_bills: True, False or a mask of the bills that are data (not
            # inferred from the payments' periods).
            use = self._bill_usable() & as_of_bills if nb else None
            issue = (
                np.where(use, self._b_issue, PERIOD_NAT)
                if nb and np.any(as_of_bills)
                else self._ns[:0]
            )
            latest = robust_latest(self._ns, issue)
            if latest.ns is None:
                if self.n:
                    raise PaymentDataError(
                        "as_of cannot be inferred: no payment has a date and no bill "
                        "has an issue date (with a period and an amount due that is "
                        "not 0). Pass as_of= to build_features, e.g. the extract date."
                    )
                latest.ns = 0
            self.as_of_rule = "default"
            if len(latest.outlier_days):
                self.as_of_rule = "default, outliers ignored"
                self.note(latest.describe())
            as_of_ns = latest.ns
        else:
            as_of_ns = int(pd.Timestamp(as_of).value)
        self.as_of_day = as_of_ns // NS_PER_DAY
        self.as_of = pd.Timestamp(self.as_of_day * NS_PER_DAY)
        self.as_of_month = int(pd.Period(self.as_of, freq="M").ordinal)
        self._cutoff = (self.as_of_day + 1) * NS_PER_DAY  # the whole as_of day counts

        # Channels present among the payments kept (in chunks: small temporaries).
        if has_chan:
            counts = np.zeros(len(cat.categories) + 1, np.int64)
            for sl in _chunks(np_):
                kept = kept_payments(self._ns[sl], self._amount[sl], self._cutoff)
                counts += np.bincount(
                    self._chan_codes[sl][kept].astype(np.int64) + 1,
                    minlength=len(counts),
                )
            present = np.flatnonzero(counts[1:] > 0)
            self.channels, self._chan_lookup, self._chan_rank = _channel_codes(
                present, cat.categories
            )
        else:
            self.channels, self._chan_lookup, self._chan_rank = (
                [],
                np.array([-1], np.int64),
                np.array([0], np.int64),
            )
        self.has_bills = nb > 0
        self.nonresidential = nonresidential(data.customers, self.index)
        #: Payments carry bill ids (then several bills per period are expected).
        self.pay_bill_ids = self._pay_bill is not None
        # Unsorted files: group rows by block once (blocks are cut by BLOCK_ROWS now).
        self._pay_group = self._group(self._pay_codes)
        self._bill_group = self._group(self._bill_codes) if nb else None
        attrs = channels.attributes(self.channels)
        #: (n_channels, n_groups) one-hot of each present channel's group.
        self.group_matrix = attrs[[f"group_{g}" for g in channels.GROUPS]].to_numpy()

    def coverage(self) -> tuple[np.ndarray, np.ndarray]:
        """Two bools per customer of ``index``: has any payment or bill row, and has
        one the features use (:func:`kept_payments`, :func:`kept_bills`)."""
        pay_any = np.diff(self._pay_bounds) > 0
        used = _per_customer_any(
            kept_payments(self._ns, self._amount, self._cutoff),
            self._pay_codes,
            self._pay_bounds,
            self.n,
        )
        if not self.has_bills:
            return pay_any, used
        bill_kept = kept_bills(
            self._b_issue,
            self._b_period,
            self._b_amount,
            self._cutoff,
            self.as_of_month,
        )
        bill_used = _per_customer_any(
            bill_kept, self._bill_codes, self._bill_bounds, self.n
        )
        return pay_any | (np.diff(self._bill_bounds) > 0), used | bill_used

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """Days of the first and the last dated row: payment times, bill issue
        dates (the period's first day for a bill without one); None without any."""
        none = np.zeros(0, np.int64)
        span = dated_range(
            self._ns,
            self._b_issue if self.has_bills else none,
            self._b_period if self.has_bills else none,
        )
        return None if span is None else (pd.Timestamp(span[0]), pd.Timestamp(span[1]))

    def note(self, text: str) -> None:
        """Record a data-health note and warn with it (UserWarning)."""
        self.notes.append(text)
        warnings.warn(text, UserWarning, stacklevel=4)

    def attrs(self) -> dict:
        """What ``X.attrs`` records about this run: ``as_of`` (Timestamp),
        ``as_of_rule`` ("given", "default" or "default, outliers ignored"),
        ``extract_days`` (float, first dated row to ``as_of``),
        ``calendar_inferred`` (bool) and ``notes`` (the warnings, as text)."""
        return {
            "as_of": self.as_of,
            "as_of_rule": self.as_of_rule,
            "extract_days": self.extract_days(),
            "calendar_inferred": bool(getattr(self, "calendar_inferred", False)),
            "notes": list(self.notes),
        }

    def extract_days(self) -> float:
        """Days from the first dated payment or bill issue to ``as_of`` (NaN
        without any): the length of the extract, for the credit grade's "new"."""
        bounds = [
            dated_bounds(a)
            for a in (self._ns, self._b_issue if self.has_bills else self._ns[:0])
        ]
        firsts = [b[0] for b in bounds if b is not None]
        if not firsts:
            return float("nan")
        return float(self.as_of_day - min(firsts) // NS_PER_DAY)

    def _group(self, codes: np.ndarray | None):
        """Rows grouped by default block (file order within a block) and the first
        customer of each block; None for rows already grouped by customer.

        A stable radix sort on the block number (one byte for up to 256 blocks) is
        cheap; :meth:`rows` then sorts each block's rows by customer in cache.
        """
        if codes is None:
            return None
        starts = np.array([c0 for c0, _ in self.block_edges()] + [self.n])
        block = np.repeat(np.arange(len(starts) - 1), np.diff(starts))[codes]
        return stable_order(block, len(starts) - 1), starts

    def rows(self, table: str, c0: int, c1: int):
        """Rows of ``table`` ("pay" or "bill") of customers ``c0 .. c1 - 1``, grouped by
        customer in index order, each customer's rows in file order (a slice when the
        file is sorted by account)."""
        codes = getattr(self, f"_{table}_codes")
        bounds = getattr(self, f"_{table}_bounds")
        if codes is None:
            return slice(int(bounds[c0]), int(bounds[c1]))
        perm, starts = getattr(self, f"_{table}_group")
        # The default blocks covering c0 .. c1 - 1 hold a contiguous run of perm.
        e0 = int(starts[np.searchsorted(starts, c0, side="right") - 1])
        e1 = int(starts[np.searchsorted(starts, c1, side="left")])
        rows = perm[int(bounds[e0]) : int(bounds[e1])]
        local = codes[rows] - c0
        if (e0, e1) != (c0, c1):  # another block size: keep this range only
            inside = (local >= 0) & (local < c1 - c0)
            rows, local = rows[inside], local[inside]
        return rows[stable_order(local, c1 - c0)]

    def _bill_usable(self) -> np.ndarray:
        """Bills that take part: known period and an amount due that is not zero."""
        return (self._b_period != PERIOD_NAT) & ~zero_cents(self._b_amount)

    def blocks(self, block_rows: int | None = None):
        """Yield :class:`Block` objects covering consecutive customers."""
        for c0, c1 in self.block_edges(block_rows):
            yield Block(self, c0, c1)

    def block_edges(self, block_rows: int | None = None) -> list[tuple[int, int]]:
        """Customer ranges ``(c0, c1)`` of about ``block_rows`` payment + bill rows."""
        rows = BLOCK_ROWS if block_rows is None else block_rows
        if self.n == 0:
            return [(0, 0)]
        # Cut where the running count of payment + bill rows crosses multiples of rows.
        load = self._pay_bounds[1:] + (self._bill_bounds[1:] if self.has_bills else 0)
        cuts = np.searchsorted(
            load, np.arange(rows, int(load[-1]) + rows, rows), side="right"
        )
        edges = np.unique(np.concatenate([[0], np.minimum(cuts + 1, self.n), [self.n]]))
        return [(int(c0), int(c1)) for c0, c1 in zip(edges[:-1], edges[1:])]


class Block:
    """Payments and bills of customers ``c0 .. c1 - 1``, prepared for the families."""

    def __init__(self, ctx: Context, c0: int, c1: int):
        self.n = c1 - c0
        self.index = ctx.index[c0:c1]
        self.as_of_day, self.as_of_month = ctx.as_of_day, ctx.as_of_month
        self.as_of, self.channels = ctx.as_of, ctx.channels
        self.group_matrix = ctx.group_matrix
        self.pay = self._payments(ctx, c0, c1)
        self.bills = self._bills(ctx, c0, c1) if ctx.has_bills else None
        self.has_bills = self.bills is not None and len(self.bills) > 0
        self.reported = {}
        #: Bills inferred from payment periods (no bills table): nothing unpaid is
        #: visible, so unpaid_share and arrears_amount are NaN.
        self.calendar_inferred = bool(getattr(ctx, "calendar_inferred", False))
        self.nonresidential = (
            None if ctx.nonresidential is None else ctx.nonresidential[c0:c1]
        )
        if self.bills is not None and self.has_bills:
            self.billed = np.diff(self.bills.bounds) > 0
            self.reported = {
                col: v[self.bills.rows] for col, v in ctx._b_reported.items()
            }
        else:
            self.bills = None
            self.billed = np.zeros(self.n, dtype=bool)

    def _payments(self, ctx: Context, c0: int, c1: int) -> PaymentArrays:
        rows = ctx.rows("pay", c0, c1)
        counts = np.diff(ctx._pay_bounds[c0 : c1 + 1])
        cust = np.repeat(np.arange(self.n, dtype=np.int64), counts)
        ns = ctx._ns[rows]
        amount = ctx._amount[rows]
        chan_code = ctx._chan_codes[rows].astype(np.int64) + 1
        period = (
            ctx._period[rows]
            if ctx._period is not None
            else np.full(len(ns), PERIOD_NAT, np.int64)
        )
        bill = (
            ctx._pay_bill[rows] if ctx._pay_bill is not None else np.zeros(0, np.int64)
        )
        keep = kept_payments(ns, amount, ctx._cutoff)
        # Offsets of each customer's rows: the global ones unless rows were dropped.
        bounds = ctx._pay_bounds[c0 : c1 + 1] - ctx._pay_bounds[c0]
        cols = [cust, ns, amount, chan_code, period]
        if len(bill):
            cols.append(bill)
        if not keep.all():
            cols = [a[keep] for a in cols]
            bounds = segment_bounds(cols[0], self.n)
        cust, ns, amount, chan_code = cols[:4]
        day = np.floor_divide(ns, NS_PER_DAY)
        sec = (ns - day * NS_PER_DAY) // NS_PER_SECOND
        cents = np.round(amount * 100).astype(np.int64)
        rank = ctx._chan_rank[chan_code]
        # Both orders below sort within customers only: ``cust`` (non-decreasing)
        # stays as it is, so it and ``ns`` (no longer needed) are not permuted.
        cols = [day, sec, cents, amount, chan_code, rank, *cols[4:]]
        order = lex_order(cust, day * 86_400 + sec, rank)
        if order is not None:
            cols = [a[order] for a in cols]
        order = _tie_order(cust, cols[0], cols[1], cols[5], cols[2])
        if order is not None:
            cols = [a[order] for a in cols]
        day, sec, cents, amount, chan_code, _, period = cols[:7]
        return PaymentArrays(
            cust=cust,
            day=day,
            sec=sec,
            cents=cents,
            amount=np.asarray(amount, dtype=np.float64),
            chan=ctx._chan_lookup[chan_code],
            period=np.asarray(period, np.int64),
            bounds=bounds,
            bill=cols[7] if len(cols) > 7 else None,
        )

    def _bills(self, ctx: Context, c0: int, c1: int) -> BillArrays:
        rows = ctx.rows("bill", c0, c1)
        counts = np.diff(ctx._bill_bounds[c0 : c1 + 1])
        cust = np.repeat(np.arange(self.n, dtype=np.int64), counts)
        issue, due = ctx._b_issue[rows], ctx._b_due[rows]
        period, amount = ctx._b_period[rows], ctx._b_amount[rows]
        keep = kept_bills(issue, period, amount, ctx._cutoff, ctx.as_of_month)
        bounds = ctx._bill_bounds[c0 : c1 + 1] - ctx._bill_bounds[c0]
        if isinstance(rows, slice):
            rows = np.arange(rows.start, rows.stop, dtype=np.int64)
        cols = [cust, issue, due, period, amount, rows]
        if ctx._b_bill is not None:
            cols.append(ctx._b_bill[rows])
        if not keep.all():
            cols = [a[keep] for a in cols]
            bounds = segment_bounds(cols[0], self.n)
        cust, issue, period = cols[0], cols[1], cols[3]
        issue_key = zero_unless(issue // NS_PER_DAY, issue != PERIOD_NAT)
        order = lex_order(cust, period, issue_key)
        if order is not None:
            cols = [a[order] for a in cols]
        cust, issue, due, period, amount, rows = cols[:6]
        req = np.where(np.isnan(amount), -1, np.round(amount * 100))
        return BillArrays(
            cust=cust,
            period=np.asarray(period, np.int64),
            issue_day=day_numbers(issue),
            due_day=day_numbers(due),
            req_cents=req.astype(np.int64),
            bounds=bounds,
            bill=cols[6] if len(cols) > 6 else None,
            rows=rows,
        )

    def multi_bill_periods(self):
        """(customer ids, periods) with several bills in one period, one row each."""
        if not self.has_bills:
            return self.index[:0], np.zeros(0, np.int64)
        b = self.bills
        dup = np.zeros(len(b), dtype=bool)
        dup[1:] = (b.cust[1:] == b.cust[:-1]) & (b.period[1:] == b.period[:-1])
        first = dup & ~np.concatenate([[False], dup[:-1]])  # second bill of a run
        return self.index[b.cust[first]], b.period[first]

    @cached_property
    def match(self) -> Matching:
        """Payment -> bill matching and per-bill settlement (see ``_match``)."""
        return match_payments(self.pay, self.bills, self.n)

    @cached_property
    def channel_counts(self) -> np.ndarray:
        """(n, n_channels) payment counts per present channel (``channels`` order)."""
        pay, k = self.pay, len(self.channels)
        known = pay.chan >= 0
        flat = pay.cust[known] * k + pay.chan[known]
        return np.bincount(flat, minlength=self.n * k).reshape(self.n, k)

    @cached_property
    def pay_month(self) -> np.ndarray:
        """Month ordinal (months since 1970-01) of each payment."""
        return _calendar(self.pay.day, "M")

    @cached_property
    def pay_year(self) -> np.ndarray:
        """Calendar year (minus 1970) of each payment."""
        return _calendar(self.pay.day, "Y")

    @cached_property
    def amount_total(self) -> np.ndarray:
        """Sum of payment amounts per customer (value and prepaid families)."""
        return seg_sum(self.pay.amount, self.pay.bounds)

    @cached_property
    def first_day(self) -> np.ndarray:
        """Day number of each customer's first payment (NaN without payments)."""
        pay = self.pay
        has = np.diff(pay.bounds) > 0
        first = np.full(self.n, np.nan)
        first[has] = pay.day[pay.bounds[:-1][has]]
        return first

    @cached_property
    def n_dates(self) -> np.ndarray:
        """Distinct payment days per customer (int64)."""
        pay = self.pay
        new = np.ones(len(pay), dtype=bool)
        new[1:] = (pay.cust[1:] != pay.cust[:-1]) | (pay.day[1:] != pay.day[:-1])
        return seg_count(new, pay.bounds)


def _tie_order(cust, day, sec, rank, cents):
    """Order putting payments of one customer, second and channel by amount (None
    when no such tie or already in that order), so that allocation never depends on
    row order."""
    if len(cust) < 2:
        return None
    tie = (
        (cust[1:] == cust[:-1])
        & (day[1:] == day[:-1])
        & (sec[1:] == sec[:-1])
        & (rank[1:] == rank[:-1])
    )
    if not tie.any() or not np.any(tie & (cents[1:] < cents[:-1])):
        return None
    group = np.concatenate([[0], np.cumsum(~tie)])
    return lex_order(group, cents)


#: Optional bill columns reported by the billing system: arrears (欠费金额) and late
#: fee (滞纳金) per bill, in yuan; the arrears family uses them when known.
REPORTED = ("arrears", "late_fee")

#: ``customers["customer_type"]`` values (lower case, stripped) that mean a
#: non-residential customer (late fee 0.2 %/day, 0.3 %/day across a year end);
#: anything else, or no such column, is residential (0.1 %/day).
NONRESIDENTIAL = frozenset(
    {
        "non-residential",
        "nonresidential",
        "non_residential",
        "non residential",
        "非居民",
        "commercial",
        "industrial",
        "business",
        "工商业",
        "一般工商业",
        "大工业",
    }
)


def nonresidential(customers: pd.DataFrame, index: pd.Index) -> np.ndarray | None:
    """bool per customer of ``index``: non-residential by ``customer_type``; None
    when no customer is."""
    if "customer_type" not in customers or not len(customers):
        return None
    kind = customers["customer_type"]
    if not kind.index.is_unique:
        kind = kind[~kind.index.duplicated()]
    flag = kind.astype("str").str.strip().str.lower().isin(NONRESIDENTIAL)
    out = flag.reindex(index, fill_value=False).to_numpy(dtype=bool)
    return out if out.any() else None


def bill_id_codes(payments: pd.DataFrame, bills: pd.DataFrame):
    """int64 codes of the ``bill_id`` columns of payments and bills (one code per
    distinct id over both, -1 for a missing id), or None for a table without ids."""
    has_p = (
        "bill_id" in payments and len(payments) and payments["bill_id"].notna().any()
    )
    has_b = "bill_id" in bills and len(bills) and bills["bill_id"].notna().any()
    if not (has_p and has_b):
        return None, None
    both = pd.concat([payments["bill_id"], bills["bill_id"]], ignore_index=True)
    both = both.astype("str").str.strip().replace("", None)
    codes, _ = pd.factorize(both)
    codes = codes.astype(np.int64)
    return codes[: len(payments)], codes[len(payments) :]


def _calendar(day: np.ndarray, unit: str) -> np.ndarray:
    """Month or year ordinal of day numbers through a small lookup table."""
    if len(day) == 0:
        return day.copy()
    lo, hi = int(day.min()), int(day.max())
    table = np.arange(lo, hi + 1).astype("datetime64[D]").astype(f"datetime64[{unit}]")
    return table.astype(np.int64)[day - lo]
