"""Customer index, row grouping and the per-block arrays every feature family reads.

:class:`Context` makes one global pass per :func:`build_features` call: the customer
index (every customer of payments, bills and customers, sorted), the grouping of
payment and bill rows by customer (a no-op for files sorted by account) and ``as_of``.
:class:`Block` then prepares the rows of a run of consecutive customers: payments sorted
by (customer, time, channel), bills sorted by (customer, period). Families reduce these
arrays with ``np.bincount`` and sorted-segment arithmetic, never with a Python loop
over customers or rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

NS_PER_SECOND = 10**9
NS_PER_DAY = 86_400 * NS_PER_SECOND
#: Missing period ordinal (pandas' iNaT).
PERIOD_NAT = np.iinfo(np.int64).min
#: Days per month used to turn day counts into months.
DAYS_PER_MONTH = 30.4375


# --------------------------------------------------------------------------- codes


def _local_groups(ids: pd.Series):
    """Group rows by id: (code of each row's id among the sorted unique ids, or None
    when rows are already grouped in id order; rows per id; sorted unique ids).

    Files are usually sorted by account; then one run-length pass finds the groups and
    no row permutation is needed. Runs are only accepted when their first ids are
    strictly increasing, i.e. every customer's rows are contiguous and in order.
    Unsorted rows (exports sorted by date) are factorised once; :class:`Context`
    then groups them by customer block by block.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _arrow_strings(ids)
    n = len(arr)
    if n == 0:
        return None, np.zeros(0, np.int64), pa.array([], pa.large_string())
    if arr.null_count == 0:
        change = pc.not_equal(arr.slice(1), arr.slice(0, n - 1))
        first = np.concatenate([[True], change.to_numpy(zero_copy_only=False)])
        starts = np.flatnonzero(first)
        m = len(starts)
        # Sorted iff the run heads strictly increase; with many runs (unsorted rows,
        # or one row per id) compare neighbours instead of copying the heads out.
        if m * 4 <= n:
            heads = pa.concat_arrays(arr.filter(pa.array(first)).chunks)
            ordered = m == 1 or not pc.any(
                pc.less_equal(heads.slice(1), heads.slice(0, m - 1))).as_py()
        else:
            ordered = n == 1 or not pc.any(
                pc.less(arr.slice(1), arr.slice(0, n - 1))).as_py()
            heads = pa.concat_arrays(arr.filter(pa.array(first)).chunks) \
                if ordered else None
        if ordered:
            return None, np.diff(starts, append=n), heads.cast(pa.large_string())
    keys = _digit_keys(arr)
    if keys is not None:
        return _key_groups(arr, keys)
    return _string_groups(arr)


def _digit_keys(arr) -> np.ndarray | None:
    """int64 keys ordered and equal exactly as the ids, for ids made of 1 to 17 ASCII
    digits (account numbers, leading zeros kept); None otherwise.

    Parsing digits is ~10x cheaper than hashing strings. For ids of one width the key
    is the number; with several widths it is the number right-padded with zeros to the
    widest id, times 32, plus the width: string order compares right-padded digits,
    and a tie means one id is the other followed by zeros, the shorter first.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if arr.null_count:
        return None
    lens = pc.binary_length(arr)
    lo, hi = (v.as_py() for v in pc.min_max(lens).values())
    if lo < 1 or hi > 17 or not pc.all(pc.ascii_is_decimal(arr)).as_py():
        return None
    value = pc.cast(arr, pa.int64()).to_numpy()
    if lo == hi:
        return value
    width = lens.to_numpy().astype(np.int64)
    return (value * 10 ** (hi - width)) * 32 + width


def _key_groups(arr, keys: np.ndarray):
    """``_local_groups`` of unsorted rows through the ``_digit_keys`` integers."""
    lo = int(keys.min())
    span = int(keys.max()) - lo + 1
    if span <= max(4 * len(keys), 1 << 22):
        # Account numbers are usually dense: a presence table over the key range
        # ranks them without hashing (~10x cheaper than factorize on 25M rows).
        offset = keys - lo
        present = np.zeros(span, dtype=bool)
        present[offset] = True
        rank = np.cumsum(present, dtype=np.int64) - 1
        codes = rank[offset]
        m = int(rank[-1]) + 1
    else:
        codes, uniques = pd.factorize(keys, sort=True)
        m = len(uniques)
    counts = np.bincount(codes, minlength=m)
    # One row of each id, in code order: its first occurrence.
    first = np.zeros(m, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return codes, counts, _take_strings(arr, first)


def _take_strings(arr, rows: np.ndarray):
    """Rows of a string ChunkedArray as one large_string Array."""
    import pyarrow as pa

    taken = arr.take(pa.array(rows))
    return pa.concat_arrays(taken.chunks).cast(pa.large_string()) if taken.num_chunks \
        else pa.array([], pa.large_string())


def _stable_order(codes: np.ndarray, m: int) -> np.ndarray:
    """Stable argsort of codes in ``[0, m)`` as an LSD radix sort on 16-bit digits
    (numpy's stable argsort is a radix sort for 16-bit types, timsort for wider ones:
    two radix passes are ~2.5x faster than one timsort on shuffled rows)."""
    if m <= 1 << 8:
        return np.argsort(codes.astype(np.uint8), kind="stable")
    if m <= 1 << 16:
        return np.argsort(codes.astype(np.uint16), kind="stable")
    if m > 1 << 32:  # pragma: no cover - more than 4e9 customers
        return np.argsort(codes, kind="stable")
    order = np.argsort((codes & 0xFFFF).astype(np.uint16), kind="stable")
    high = (codes[order] >> 16).astype(np.uint16)
    return order[np.argsort(high, kind="stable")]


def _string_groups(arr):
    """``_local_groups`` for unsorted ids that are not plain digit strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Unsorted rows: hash, renumber the uniques in sorted order, sort rows by it.
    encoded = pc.dictionary_encode(arr).combine_chunks()
    dictionary = encoded.dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    counts = np.bincount(codes, minlength=len(order))
    return codes, counts, dictionary.take(pa.array(order)).cast(pa.large_string())


def _arrow_strings(ids):
    """The ids as a pyarrow string ChunkedArray (zero-copy when Arrow-backed)."""
    import pyarrow as pa

    values = pd.Series(ids, copy=False)
    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype("str")
    arr = pa.array(values.array)
    if not isinstance(arr, pa.ChunkedArray):
        arr = pa.chunked_array([arr])
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.large_string())
    return arr


def customer_index(data):
    """The sorted customer index, and for payments and bills: each row's position in
    the index (None when rows are already grouped in index order) and the offsets of
    each customer's rows (length n + 1) once grouped."""

    pay_codes, pay_counts, pay_u = _local_groups(data.payments["customer_id"])
    bill_codes, bill_counts, bill_u = _local_groups(data.bills["customer_id"])
    _, _, cust_u = _local_groups(pd.Series(data.customers.index, dtype="str"))
    index, (pay_pos, bill_pos, _) = _union((pay_u, bill_u, cust_u))
    n = len(index)

    def bounds(counts, position):
        out = np.zeros(n + 1, dtype=np.int64)
        if position is None:
            np.cumsum(counts, out=out[1:])
        elif len(position):
            # Customers absent from this table get no rows (bounds repeat).
            full = np.zeros(n, dtype=np.int64)
            full[position] = counts
            np.cumsum(full, out=out[1:])
        return out

    def positions(codes, position):
        return codes if codes is None or position is None else position[codes]

    out = pd.Index(pd.array(index, dtype="str"), dtype="str", name="customer_id")
    return (out, (positions(pay_codes, pay_pos), bounds(pay_counts, pay_pos)),
            (positions(bill_codes, bill_pos), bounds(bill_counts, bill_pos)))


def _union(parts):
    """Sorted union of sorted unique id arrays, and each part's positions in it (None
    when the part is the union itself).

    Usually one part (customers, or payments) holds every id; then the union is that
    part and no string hashing or sorting is needed. Digit ids are located with
    ``np.searchsorted`` on ``_digit_keys`` (strictly increasing along sorted ids).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    full = max(parts, key=len)
    if not len(full):
        return pa.array([], pa.large_string()), [None] * len(parts)
    if all(p is full or p.equals(full) for p in parts):
        return full, [None] * len(parts)
    nonempty = [p for p in parts if len(p)]
    keys = _digit_keys(pa.chunked_array(nonempty, type=pa.large_string()))
    if keys is not None:
        split = np.cumsum([len(p) for p in nonempty])[:-1]
        part_keys = iter(np.split(keys, split))
        keys = [next(part_keys) if len(p) else keys[:0] for p in parts]
        full_keys = keys[max(range(len(parts)), key=lambda i: len(parts[i]))]
        pos = [np.searchsorted(full_keys, k) for k in keys]
        if all((p < len(full_keys)).all() and (full_keys[np.minimum(
                p, len(full_keys) - 1)] == k).all() for p, k in zip(pos, keys)):
            return full, [None if p is full else q for p, q in zip(parts, pos)]
        union, first = np.unique(np.concatenate(keys), return_index=True)
        index = _take_strings(pa.chunked_array(nonempty, type=pa.large_string()),
                              first)
        return index, [np.searchsorted(union, k) for k in keys]
    index = pc.unique(pa.concat_arrays(nonempty))
    index = index.take(pc.sort_indices(index))
    return index, [pc.index_in(p, value_set=index).to_numpy(
        zero_copy_only=False).astype(np.int64) for p in parts]


# --------------------------------------------------------------------------- sorting


def _is_sorted(*keys: np.ndarray) -> bool:
    """True when rows are sorted lexicographically by ``keys`` (first key major)."""
    if len(keys[0]) < 2:
        return True
    ok = np.zeros(len(keys[0]) - 1, dtype=bool)  # strictly ordered by an earlier key
    tied = np.ones(len(keys[0]) - 1, dtype=bool)
    for key in keys:
        d = np.diff(key)
        if np.any(tied & (d < 0)):
            return False
        ok |= tied & (d > 0)
        tied &= d == 0
    return True


def lex_order(*keys: np.ndarray) -> np.ndarray | None:
    """Stable order sorting rows by ``keys`` (first key major); None if already sorted.

    Non-negative integer keys are packed into one int64 when their ranges fit, so a
    single adaptive (stable) argsort replaces ``np.lexsort``.
    """
    if len(keys[0]) < 2:
        return None
    shifted, bits = [], 0
    for key in keys:
        lo = int(key.min())
        span = int(key.max()) - lo
        shifted.append((key, lo, span.bit_length()))
        bits += span.bit_length()
    if bits > 62:
        return None if _is_sorted(*keys) else np.lexsort(keys[::-1])
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    for key, lo, width in shifted:
        packed <<= width
        packed |= key.astype(np.int64) - lo
    if not np.any(packed[1:] < packed[:-1]):
        return None
    return np.argsort(packed, kind="stable")


def segment_bounds(codes: np.ndarray, n: int) -> np.ndarray:
    """Start offsets (length n + 1) of each customer's rows in code-sorted arrays."""
    bounds = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=n), out=bounds[1:])
    return bounds


def zero_unless(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``np.where(mask, values, 0)``, branch-free for bool and 8-byte values.

    8-byte values are ANDed with the mask widened to all-ones bits (0 where False,
    +0.0 for floats), the same result bit for bit; ``np.where`` mispredicts branches
    on irregular masks and costs about 5x more.
    """
    values = np.asarray(values)
    if values.dtype == bool:
        return values & mask
    if values.dtype.itemsize != 8 or values.shape != np.shape(mask):
        return np.where(mask, values, 0)
    wide = np.asarray(mask).astype(np.int64)
    np.negative(wide, out=wide)
    np.bitwise_and(wide, values.view(np.int64), out=wide)
    return wide.view(values.dtype)


def first_in_group(new_group: np.ndarray) -> np.ndarray:
    """For each row, the position of the first row of its run (``new_group`` marks starts)."""
    pos = zero_unless(np.arange(len(new_group)), new_group)
    return np.maximum.accumulate(pos) if len(pos) else pos


# --------------------------------------------------------------------------- tables

#: Payment rows per block: families run block by block over consecutive customers so
#: temporaries stay small (tens of MB) and memory is reused instead of page-faulted.
BLOCK_ROWS = 1_000_000


def _ns_view(values) -> np.ndarray:
    """int64 nanoseconds of a datetime column, zero-copy when already ns (NaT -> min)."""
    s = pd.Series(values, copy=False)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    if s.dtype != "datetime64[ns]":
        s = s.astype("datetime64[ns]")
    return s.to_numpy().view(np.int64)


def _period_ordinals(values) -> np.ndarray:
    """Months since 1970-01 of a period[M] column (NaT -> PERIOD_NAT), zero-copy."""
    s = pd.Series(values, copy=False)
    if not isinstance(s.dtype, pd.PeriodDtype):
        s = pd.Series(pd.PeriodIndex(pd.to_datetime(s), freq="M"))
    elif s.dtype != "period[M]":  # pragma: no cover - canonical data is monthly
        s = s.dt.asfreq("M")
    return s.array.asi8


@dataclass
class PaymentArrays:
    """One block's payments sorted by (customer, day, second, channel name)."""

    cust: np.ndarray  # int64 customer code within the block
    day: np.ndarray  # int64 days since epoch
    sec: np.ndarray  # int64 seconds since midnight
    cents: np.ndarray  # int64 amount in cents
    amount: np.ndarray  # float64 yuan
    chan: np.ndarray  # int64 index into Context.channels, -1 unknown
    period: np.ndarray  # int64 month ordinal, PERIOD_NAT unknown
    bounds: np.ndarray  # customer segment offsets

    def __len__(self) -> int:
        return len(self.cust)


@dataclass
class BillArrays:
    """One block's bills sorted by (customer, period, issue day); zero bills removed."""

    cust: np.ndarray
    period: np.ndarray  # int64 month ordinal
    issue_day: np.ndarray  # float64 days since epoch, NaN unknown
    due_day: np.ndarray  # float64 days since epoch, NaN unknown
    req_cents: np.ndarray  # int64 amount due in cents, -1 when unknown
    bounds: np.ndarray

    def __len__(self) -> int:
        return len(self.cust)


def _zero_cents(amount: np.ndarray) -> np.ndarray:
    """True where an amount rounds to 0 cents (round half to even, like np.round)."""
    return np.abs(amount) * 100 <= 0.5


def _days(ns: np.ndarray) -> np.ndarray:
    out = np.floor_divide(ns, NS_PER_DAY).astype(np.float64)
    out[ns == PERIOD_NAT] = np.nan
    return out


def latest_ns(pay_ns: np.ndarray, issue_ns: np.ndarray, bill_usable) -> int | None:
    """The default ``as_of`` rule, in ns: the latest payment time, or the latest issue
    date of a usable bill (known period, amount due not rounding to 0 cents) when
    later; None without either. ``bill_usable()`` gives the usable-bill mask (only
    called when a bill was issued after the last payment)."""
    last = None
    if len(pay_ns):
        top = int(pay_ns.max())  # NaT is the smallest int64
        if top != PERIOD_NAT:
            last = top
    if len(issue_ns) and (last is None or int(issue_ns.max()) > last):
        usable = bill_usable() & (issue_ns != PERIOD_NAT)
        if usable.any():
            top = int(issue_ns[usable].max())
            last = top if last is None else max(last, top)
    return last


def frame_latest_ns(payments: pd.DataFrame, bills: pd.DataFrame) -> int | None:
    """:func:`latest_ns` of canonical payments and bills tables."""
    pay_ns = _ns_view(payments["paid_at"]) if len(payments) else np.zeros(0, np.int64)
    if not len(bills) or "issued_on" not in bills:
        return latest_ns(pay_ns, np.zeros(0, np.int64), None)
    amount = (bills["amount_due"].to_numpy(dtype=np.float64, na_value=np.nan)
              if "amount_due" in bills else np.full(len(bills), np.nan))
    return latest_ns(pay_ns, _ns_view(bills["issued_on"]), lambda: (
        bills["period"].notna().to_numpy() & ~_zero_cents(amount)))


def _channel_codes(present: np.ndarray, categories):
    """Channels present (registry order), code lookup and tie rank by code name.

    The tie rank orders payments at one timestamp by channel code name (no channel
    first), so the order never depends on row order or on the registry.
    """
    from .. import channels

    cats = [str(c) for c in categories]
    order = {c: i for i, c in enumerate(channels.codes())}
    used = sorted((cats[i] for i in present),
                  key=lambda c: (order.get(c, len(order)), c))
    pos = {c: i for i, c in enumerate(used)}
    # Indexed by category code + 1 (slot 0 is the missing value, code -1).
    lookup = np.array([-1] + [pos.get(c, -1) for c in cats], dtype=np.int64)
    by_name = np.argsort(np.argsort(np.array(used, dtype=object))) if used else \
        np.zeros(0, np.int64)
    rank = np.concatenate([[0], by_name + 1])[lookup + 1]
    return used, lookup, rank


def _chunks(n: int, size: int = 4_000_000):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


class Context:
    """Customer index, as_of and per-block arrays shared by the feature families.

    The global pass only factorises customer ids, groups rows by customer (a no-op
    for files sorted by account) and takes a few maxima; everything row-sized is done
    in :meth:`blocks` of consecutive customers.
    """

    def __init__(self, data, *, as_of=None):
        self.index, pay, bill = customer_index(data)
        self.n = len(self.index)
        p, b = data.payments, data.bills
        np_, nb = len(p), len(b)
        self._pay_codes, self._pay_bounds = pay
        self._bill_codes, self._bill_bounds = bill
        self._ns = _ns_view(p["paid_at"]) if np_ else np.zeros(0, np.int64)
        self._amount = (p["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
                        if np_ else np.zeros(0))
        has_chan = "channel" in p and np_ > 0
        cat = pd.Categorical(p["channel"]) if has_chan else None
        self._chan_codes = cat.codes if has_chan else np.full(np_, -1, np.int8)
        self._period = (_period_ordinals(p["period"]) if "period" in p and np_
                        else None)
        if nb:
            self._b_issue = (_ns_view(b["issued_on"]) if "issued_on" in b
                             else np.full(nb, PERIOD_NAT, np.int64))
            self._b_due = (_ns_view(b["due_on"]) if "due_on" in b
                           else np.full(nb, PERIOD_NAT, np.int64))
            self._b_period = _period_ordinals(b["period"])
            self._b_amount = (b["amount_due"].to_numpy(dtype=np.float64,
                                                       na_value=np.nan)
                              if "amount_due" in b else np.full(nb, np.nan))

        # as_of: latest payment or bill-issue date; data after it is ignored.
        if as_of is None:
            last = latest_ns(self._ns, self._b_issue if nb else self._ns[:0],
                             self._bill_usable)
            as_of_ns = 0 if last is None else last
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
                ns = self._ns[sl]
                kept = ((ns < self._cutoff) & (ns != PERIOD_NAT)
                        & ~np.isnan(self._amount[sl]))
                counts += np.bincount(self._chan_codes[sl][kept].astype(np.int64) + 1,
                                      minlength=len(counts))
            present = np.flatnonzero(counts[1:] > 0)
            self.channels, self._chan_lookup, self._chan_rank = _channel_codes(
                present, cat.categories)
        else:
            self.channels, self._chan_lookup, self._chan_rank = [], \
                np.array([-1], np.int64), np.array([0], np.int64)
        self.has_bills = nb > 0
        # Unsorted files: group rows by block once (blocks are cut by BLOCK_ROWS now).
        self._pay_group = self._group(self._pay_codes)
        self._bill_group = self._group(self._bill_codes) if nb else None
        from .. import channels

        attrs = channels.attributes(self.channels)
        #: (n_channels, n_groups) one-hot of each present channel's group.
        self.group_matrix = attrs[[f"group_{g}" for g in channels.GROUPS]].to_numpy()

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
        return _stable_order(block, len(starts) - 1), starts

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
        rows = perm[int(bounds[e0]):int(bounds[e1])]
        local = codes[rows] - c0
        if (e0, e1) != (c0, c1):  # another block size: keep this range only
            inside = (local >= 0) & (local < c1 - c0)
            rows, local = rows[inside], local[inside]
        return rows[_stable_order(local, c1 - c0)]

    def _bill_usable(self) -> np.ndarray:
        """Bills that take part: known period and an amount due that is not zero."""
        return (self._b_period != PERIOD_NAT) & ~_zero_cents(self._b_amount)

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
        cuts = np.searchsorted(load, np.arange(rows, int(load[-1]) + rows, rows),
                               side="right")
        edges = np.unique(np.concatenate([[0], np.minimum(cuts + 1, self.n),
                                          [self.n]]))
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
        if self.has_bills:
            self.billed = np.diff(self.bills.bounds) > 0
        else:
            self.bills = None
            self.billed = np.zeros(self.n, dtype=bool)

    def _payments(self, ctx: Context, c0: int, c1: int) -> PaymentArrays:
        rows = ctx.rows("pay", c0, c1)
        counts = np.diff(ctx._pay_bounds[c0:c1 + 1])
        cust = np.repeat(np.arange(self.n, dtype=np.int64), counts)
        ns = ctx._ns[rows]
        amount = ctx._amount[rows]
        chan_code = ctx._chan_codes[rows].astype(np.int64) + 1
        period = (ctx._period[rows] if ctx._period is not None
                  else np.full(len(ns), PERIOD_NAT, np.int64))
        keep = (ns != PERIOD_NAT) & (ns < ctx._cutoff) & ~np.isnan(amount)
        # Offsets of each customer's rows: the global ones unless rows were dropped.
        bounds = ctx._pay_bounds[c0:c1 + 1] - ctx._pay_bounds[c0]
        if not keep.all():
            cust, ns, amount, chan_code, period = (
                a[keep] for a in (cust, ns, amount, chan_code, period))
            bounds = segment_bounds(cust, self.n)
        day = np.floor_divide(ns, NS_PER_DAY)
        sec = (ns - day * NS_PER_DAY) // NS_PER_SECOND
        order = lex_order(cust, day * 86_400 + sec, ctx._chan_rank[chan_code])
        if order is not None:
            cust, day, sec, amount, chan_code, period = (
                a[order] for a in (cust, day, sec, amount, chan_code, period))
        return PaymentArrays(
            cust=cust, day=day, sec=sec, cents=np.round(amount * 100).astype(np.int64),
            amount=np.asarray(amount, dtype=np.float64),
            chan=ctx._chan_lookup[chan_code], period=np.asarray(period, np.int64),
            bounds=bounds,
        )

    def _bills(self, ctx: Context, c0: int, c1: int) -> BillArrays:
        rows = ctx.rows("bill", c0, c1)
        counts = np.diff(ctx._bill_bounds[c0:c1 + 1])
        cust = np.repeat(np.arange(self.n, dtype=np.int64), counts)
        issue, due = ctx._b_issue[rows], ctx._b_due[rows]
        period, amount = ctx._b_period[rows], ctx._b_amount[rows]
        keep = ((period != PERIOD_NAT) & ~_zero_cents(amount)
                & ((issue == PERIOD_NAT) | (issue < ctx._cutoff))
                # Bills without an issue date count once their period has started.
                & ((issue != PERIOD_NAT) | (period <= ctx.as_of_month)))
        bounds = ctx._bill_bounds[c0:c1 + 1] - ctx._bill_bounds[c0]
        if not keep.all():
            cust, issue, due, period, amount = (
                a[keep] for a in (cust, issue, due, period, amount))
            bounds = segment_bounds(cust, self.n)
        issue_key = zero_unless(issue // NS_PER_DAY, issue != PERIOD_NAT)
        order = lex_order(cust, period, issue_key)
        if order is not None:
            cust, issue, due, period, amount = (
                a[order] for a in (cust, issue, due, period, amount))
        req = np.where(np.isnan(amount), -1, np.round(amount * 100))
        return BillArrays(
            cust=cust, period=np.asarray(period, np.int64), issue_day=_days(issue),
            due_day=_days(due), req_cents=req.astype(np.int64),
            bounds=bounds,
        )

    @cached_property
    def match(self):
        """Payment -> bill matching and per-bill settlement (see ``_match``)."""
        from ._match import match_payments

        return match_payments(self.pay, self.bills, self.n)

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


def _calendar(day: np.ndarray, unit: str) -> np.ndarray:
    """Month or year ordinal of day numbers through a small lookup table."""
    if len(day) == 0:
        return day.copy()
    lo, hi = int(day.min()), int(day.max())
    table = np.arange(lo, hi + 1).astype("datetime64[D]").astype(f"datetime64[{unit}]")
    return table.astype(np.int64)[day - lo]


def seg_sum(values, bounds, mask=None, dtype=np.float64) -> np.ndarray:
    """Sum of ``values`` (where ``mask``) over each segment ``bounds[i]:bounds[i+1]``.

    Rows must be grouped by customer; ``np.add.reduceat`` over the segment starts is a
    sequential pass, cheaper than a weighted ``np.bincount`` or a boolean compress.
    """
    n = len(bounds) - 1
    if mask is not None:
        values = zero_unless(values, mask)
    # reduceat over every start below the end (a view, no boolean compress): a
    # non-empty segment sums exactly its rows; an empty one (start == next start)
    # returns the single value at its start, zeroed below; trailing empty segments
    # (start == len) are left at 0.
    m = int(np.searchsorted(bounds[:-1], len(values), side="left"))
    out = np.zeros(n, dtype)
    if m:
        out[:m] = np.add.reduceat(values, bounds[:m], dtype=dtype)
        empty = bounds[1:m + 1] == bounds[:m]
        if empty.any():
            out[:m][empty] = 0
    return out


def seg_count(mask, bounds) -> np.ndarray:
    """Number of rows where ``mask`` per segment."""
    return seg_sum(mask, bounds, dtype=np.int64)


def seg_moments(values, bounds, mask=None):
    """Count, mean and population std (ddof=0) of ``values`` (where ``mask``).

    The variance is the mean of squared deviations from the segment mean (two passes),
    which avoids the cancellation of the E[x^2] - E[x]^2 shortcut. Mean and std are NaN
    for segments without rows.
    """
    count = np.diff(bounds) if mask is None else seg_count(mask, bounds)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = seg_sum(values, bounds, mask) / count
        dev = values - np.repeat(mean, np.diff(bounds))
        var = seg_sum(dev * dev, bounds, mask) / count
    return count, mean, np.sqrt(var)


def seg_mean(values, bounds, mask=None) -> np.ndarray:
    """Mean of ``values`` (where ``mask``) per segment; NaN without rows."""
    count = np.diff(bounds) if mask is None else seg_count(mask, bounds)
    with np.errstate(invalid="ignore", divide="ignore"):
        return seg_sum(values, bounds, mask) / count


def seg_slope(x, y, bounds, mask=None) -> np.ndarray:
    """Least-squares slope of y on x per segment (NaN with fewer than 2 distinct x)."""
    _, mx, _ = seg_moments(x, bounds, mask)
    my = seg_mean(y, bounds, mask)
    sizes = np.diff(bounds)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = x - np.repeat(mx, sizes)
        sxx = seg_sum(dx * dx, bounds, mask)
        sxy = seg_sum(dx * (y - np.repeat(my, sizes)), bounds, mask)
        slope = sxy / sxx
    slope[~(sxx > 0)] = np.nan
    return slope


def seg_quantiles(values, bounds, mask, qs) -> list[np.ndarray]:
    """Linear-interpolation quantiles (numpy's default) of integer ``values`` where
    ``mask``, per segment; one array per q in ``qs``.

    Values are sorted within segments by sorting packed (segment, value) int64 keys
    once (adaptive stable sort: segments are already in order); rows outside ``mask``
    get a key above every value so they sit at the end of their segment.
    """
    n = len(bounds) - 1
    count = seg_count(mask, bounds)
    out = [np.full(n, np.nan) for _ in qs]
    if not count.any():
        return out
    v = zero_unless(values, mask).astype(np.int64)
    lo = int(v[mask].min()) if len(v) else 0
    top = int(v[mask].max()) - lo + 1  # the key of rows outside mask
    width = top.bit_length()
    seg = np.repeat(np.arange(n, dtype=np.int64), np.diff(bounds))
    key = zero_unless(v - lo - top, mask) + top
    if n.bit_length() + width > 62:  # pragma: no cover - absurd ranges
        order = np.lexsort((key, seg))
        ordered = key[order]
    else:
        ordered = np.sort((seg << width) | key, kind="stable") & ((1 << width) - 1)
    has = count > 0
    start = bounds[:-1][has]
    c = count[has]
    for q, res in zip(qs, out):
        h = (c - 1) * q
        k = np.floor(h).astype(np.int64)
        frac = h - k
        x_lo = ordered[start + k] + lo
        x_hi = ordered[start + np.minimum(k + 1, c - 1)] + lo
        res[has] = x_lo + frac * (x_hi - x_lo)
    return out
