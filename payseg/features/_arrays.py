"""The per-block arrays the families read, and the units they are written in.

Times are int64 nanoseconds or day numbers since 1970-01-01, periods int64 month
ordinals (months since 1970-01, :data:`PERIOD_NAT` when unknown), amounts int64 cents
or float64 yuan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Nanoseconds per second and per day (timestamps are int64 ns since the epoch).
NS_PER_SECOND = 10**9
NS_PER_DAY = 86_400 * NS_PER_SECOND
#: Missing period ordinal (pandas' iNaT).
PERIOD_NAT = np.iinfo(np.int64).min
#: Days per month used to turn day counts into months.
DAYS_PER_MONTH = 30.4375


def ns_view(values) -> np.ndarray:
    """int64 nanoseconds of a datetime column, zero-copy when already ns (NaT -> min)."""
    s = pd.Series(values, copy=False)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    if s.dtype != "datetime64[ns]":
        s = s.astype("datetime64[ns]")
    return s.to_numpy().view(np.int64)


def period_ordinals(values) -> np.ndarray:
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
    bill: np.ndarray | None = None  # int64 bill id code, -1 unknown; None: no ids

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
    bill: np.ndarray | None = None  # int64 bill id code, -1 unknown; None: no ids
    rows: np.ndarray | None = None  # int64 row of each bill in ``data.bills``

    def __len__(self) -> int:
        return len(self.cust)


def zero_cents(amount: np.ndarray, chunk: int = 1 << 18) -> np.ndarray:
    """True where an amount rounds to 0 cents (round half to even, like np.round).

    ``abs(amount) * 100 <= 0.5`` in chunks of ``chunk`` values: the temporaries stay
    in cache instead of two fresh row-sized float arrays (0.45 s of page faults for
    the 21M bills at 1M customers).
    """
    amount = np.asarray(amount, dtype=np.float64)
    out = np.empty(len(amount), dtype=bool)
    buf = np.empty(min(chunk, len(amount)), dtype=np.float64)
    for start in range(0, len(amount), chunk):
        part = amount[start : start + chunk]
        tmp = buf[: len(part)]
        np.abs(part, out=tmp)
        np.multiply(tmp, 100, out=tmp)
        np.less_equal(tmp, 0.5, out=out[start : start + chunk])
    return out


def dated_bounds(values: np.ndarray, chunk: int = 1 << 20) -> tuple[int, int] | None:
    """The smallest and the largest of int64 ``values`` other than
    :data:`PERIOD_NAT` (None when there are none), read in chunks of ``chunk``.

    A mask of the known values would be a row-sized temporary (the 25M payment
    times at 1M customers: 0.7 s with the copy it selects). NaT is the smallest
    int64, so a chunk whose minimum is not NaT has none and needs no mask.

    >>> dated_bounds(np.array([5, PERIOD_NAT, 2, 9]), chunk=2)
    (2, 9)
    """
    lo = hi = None
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        low = part.min() if len(part) else PERIOD_NAT
        if low == PERIOD_NAT:
            part = part[part != PERIOD_NAT]
            if not len(part):
                continue
            low = part.min()
        high = part.max()
        lo = int(low) if lo is None else min(lo, int(low))
        hi = int(high) if hi is None else max(hi, int(high))
    return None if lo is None else (lo, hi)


def day_numbers(ns: np.ndarray) -> np.ndarray:
    """float64 day numbers of int64 ns (NaN for NaT)."""
    out = np.floor_divide(ns, NS_PER_DAY).astype(np.float64)
    out[ns == PERIOD_NAT] = np.nan
    return out
