"""Per-customer payment-behaviour features: timing, channel, value, arrears, prepaid, trend.

:func:`build_features` turns a :class:`payseg.PaymentData` into one row per customer;
every column is described in docs/features.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import arrears, channel, prepaid, timing, trend, value
from ._index import NS_PER_DAY, Block, Context, frame_latest_ns

__all__ = ["FAMILIES", "build_features", "default_as_of", "dominant_channel",
           "feature_names"]

#: Feature families in column order.
FAMILIES = ("timing", "channel", "value", "arrears", "prepaid", "trend")
_MODULES = {
    "timing": timing,
    "channel": channel,
    "value": value,
    "arrears": arrears,
    "prepaid": prepaid,
    "trend": trend,
}


def feature_names(families: Sequence[str] | None = None) -> list[str]:
    """Fixed column names of the given families (without ``channel_share__<code>``).

    Examples
    --------
    >>> feature_names(["arrears"])
    ['arrears_amount', 'max_months_in_arrears', 'late_fee_est']
    """
    return [c for f in _check_families(families) for c in _MODULES[f].COLUMNS]


def default_as_of(data) -> pd.Timestamp:
    """The reference day :func:`build_features` uses when ``as_of`` is None.

    The day of the latest payment, or of the latest bill issue when a bill was issued
    later. Only bills that take part in the features count: a known ``period`` and an
    ``amount_due`` that does not round to 0 cents (a missing amount counts). Payments
    without ``paid_at`` and bills without ``issued_on`` are ignored.

    Parameters
    ----------
    data : PaymentData
        Or any object with canonical ``payments`` and ``bills`` DataFrames.

    Returns
    -------
    Timestamp
        Midnight of that day; NaT when there is no dated payment or usable bill
        (:func:`build_features` then uses 1970-01-01).

    Examples
    --------
    >>> import pandas as pd, payseg
    >>> pay = pd.DataFrame({
    ...     "customer_id": pd.Series(["a", "b"], dtype="str"),
    ...     "paid_at": pd.to_datetime(["2024-03-05 18:30", "2024-03-09 08:00"]),
    ...     "amount": [100.0, 80.0]})
    >>> bills = pd.DataFrame({
    ...     "customer_id": pd.Series(["a", "b"], dtype="str"),
    ...     "period": pd.PeriodIndex(["2024-03", "2024-03"], freq="M"),
    ...     "issued_on": pd.to_datetime(["2024-04-12", "2024-04-15"]),
    ...     "due_on": pd.to_datetime(["2024-04-30", "2024-04-30"]),
    ...     "amount_due": [95.0, 0.0]})
    >>> data = payseg.PaymentData(payments=pay, bills=bills)
    >>> payseg.features.default_as_of(data)  # b's zero bill does not count
    Timestamp('2024-04-12 00:00:00')
    >>> payseg.features.default_as_of(payseg.PaymentData(payments=pay))
    Timestamp('2024-03-09 00:00:00')
    """
    ns = frame_latest_ns(data.payments, data.bills)
    if ns is None:
        return pd.NaT
    return pd.Timestamp(ns // NS_PER_DAY * NS_PER_DAY)


def _check_families(families) -> tuple[str, ...]:
    if families is None:
        return FAMILIES
    if isinstance(families, str):
        families = [families]
    unknown = [f for f in families if f not in _MODULES]
    if unknown:
        raise ValueError(
            f"unknown feature family {unknown[0]!r}; choose from {', '.join(FAMILIES)}"
        )
    return tuple(f for f in FAMILIES if f in set(families))


def _fill(frame: pd.DataFrame, fill) -> pd.DataFrame:
    if fill is None:
        return frame
    if isinstance(fill, str):
        if fill != "median":
            raise ValueError(f"fill must be None, a number, 'median' or a dict; "
                             f"got {fill!r}")
        return frame.fillna(frame.median().fillna(0.0))
    if isinstance(fill, Mapping):
        unknown = [c for c in fill if c not in frame.columns]
        if unknown:
            raise ValueError(f"fill names unknown column {unknown[0]!r}")
        return frame.fillna(dict(fill))
    return frame.fillna(float(fill))


check_families, fill_features = _check_families, _fill  # public for payseg.scale


def build_features(
    data,
    families: Sequence[str] | None = None,
    as_of=None,
    fill=None,
    *,
    late_fee_rate: float = arrears.LATE_FEE_RATE,
    late_fee_min: float = arrears.LATE_FEE_MIN,
    trend_periods: int = trend.TREND_PERIODS,
    recent_periods: int = trend.RECENT_PERIODS,
    return_dominant: bool = False,
    n_jobs: int | None = None,
):
    """One row of payment-behaviour features per customer.

    Parameters
    ----------
    data : PaymentData
        Payments (and optionally bills and customers) in canonical form.
    families : sequence of str, optional
        Subset of :data:`FAMILIES`; default all, in that order.
    as_of : date-like, optional
        Reference day for arrears, recency and "still unpaid". Default:
        :func:`default_as_of`, the latest payment or bill-issue date in the data.
        Payments after that day and bills issued after it are ignored.
    fill : None, float, "median" or dict, default None
        How to replace NaN (an undefined feature, see docs/features.md): None keeps
        NaN, a number fills every column, "median" fills each column with its median
        (0 when the whole column is NaN), a dict fills per column.
    late_fee_rate : float, default 0.001
        Late fee per day of arrears (0.1%/day for residents; 0.002 non-residential).
    late_fee_min : float, default 1.0
        Minimum late fee per overdue bill, in yuan.
    trend_periods : int, default 12
        Settled bills used by ``delay_trend`` and months used by ``amount_trend``.
    recent_periods : int, default 3
        Due bills used by ``recent_late_share``.
    return_dominant : bool, default False
        Also return the dominant channel code per customer (a str Series, NaN for
        customers without a known channel), which stays out of the numeric matrix.
    n_jobs : int, optional
        Threads building blocks of customers at once (large data only; a block is
        about a million rows). None means 1, -1 means every core. Results do not
        depend on it.

    Returns
    -------
    X : DataFrame of shape (n_customers, n_features)
        float64 columns, indexed by ``customer_id`` (every customer in payments,
        bills or customers, sorted).
    dominant : Series
        Only with ``return_dominant=True``.

    Examples
    --------
    >>> import pandas as pd, payseg
    >>> pay = pd.DataFrame({
    ...     "customer_id": pd.Series(["a", "a", "b"], dtype="str"),
    ...     "paid_at": pd.to_datetime(["2024-01-05", "2024-02-20", "2024-01-31"]),
    ...     "channel": pd.Categorical(["alipay", "counter", "alipay"]),
    ...     "amount": [100.0, 120.0, 80.0]})
    >>> X = payseg.build_features(payseg.PaymentData(payments=pay),
    ...                           families=["value", "channel"])
    >>> cols = ["amount_total", "online_share", "n_channels"]
    >>> X[cols]  # doctest: +NORMALIZE_WHITESPACE
                 amount_total  online_share  n_channels
    customer_id
    a                   220.0           0.5         2.0
    b                    80.0           1.0         1.0
    >>> X, dominant = payseg.build_features(payseg.PaymentData(payments=pay),
    ...                                     families=["channel"], return_dominant=True)
    >>> dominant.tolist()  # a tie goes to the first channel in registry order
    ['counter', 'alipay']
    """
    fams = _check_families(families)
    params = {"late_fee_rate": late_fee_rate, "late_fee_min": late_fee_min,
              "trend_periods": trend_periods, "recent_periods": recent_periods}
    ctx = Context(data, as_of=as_of)
    X, dominant = _build(ctx, fams, params, return_dominant=return_dominant,
                         n_jobs=n_jobs)
    X = _fill(X, fill)
    if not return_dominant:
        return X
    return X, dominant


def _build(ctx: Context, fams, params, *, return_dominant=False, n_jobs=None,
           timer=None):
    """Run the families block by block; ``timer(step, seconds)`` sees each step."""
    import time

    clock = time.perf_counter

    def run(edge):
        t = clock()
        block = Block(ctx, *edge)
        if timer:
            timer("blocks: slice and sort", clock() - t)
            t = clock()
            _ = block.match
            timer("blocks: match to bills", clock() - t)
        columns = {}
        for fam in fams:
            t = clock()
            columns.update(_compute_family(block, fam, **params))
            if timer:
                timer(f"family {fam}", clock() - t)
        found = channel.dominant_codes(block) if return_dominant else None
        return edge, columns, found

    edges = ctx.block_edges()
    workers = _n_threads(n_jobs, len(edges))
    values, names, dominant = None, [], []
    # Blocks of consecutive customers keep temporaries small (no loop per customer);
    # numpy releases the GIL in its kernels, so threads can overlap blocks.
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=workers)
        results = pool.map(run, edges)
    else:
        pool, results = None, map(run, edges)
    try:
        for (c0, c1), columns, found in results:
            t = clock()
            if values is None:
                # Fortran order: each column contiguous, pandas' own block layout.
                names = list(columns)
                values = np.empty((ctx.n, len(names)), dtype=np.float64, order="F")
            for j, name in enumerate(names):
                values[c0:c1, j] = columns[name]
            dominant.append(found)
            if timer:
                timer("assemble DataFrame", clock() - t)
    finally:
        if pool is not None:
            pool.shutdown()
    X = pd.DataFrame(values, index=ctx.index, columns=names, copy=False)
    if not return_dominant:
        return X, None
    return X, (pd.concat(dominant) if len(dominant) > 1 else dominant[0])


def _n_threads(n_jobs, n_blocks: int) -> int:
    """Threads for ``n_jobs`` (None: 1, -1: every core), at most one per block."""
    import os

    if n_jobs is None:
        return 1
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs must be None, a positive int or a negative int "
                         "(-1 for every core); got 0")
    cores = os.cpu_count() or 1
    wanted = n_jobs if n_jobs > 0 else max(cores + 1 + n_jobs, 1)
    return max(1, min(wanted, n_blocks))


def _compute_family(ctx: Block, family: str, **params) -> dict[str, np.ndarray]:
    """Columns of one family for one :class:`Block` of customers."""
    if family == "arrears":
        return arrears.compute(ctx, late_fee_rate=params.get("late_fee_rate",
                                                             arrears.LATE_FEE_RATE),
                               late_fee_min=params.get("late_fee_min",
                                                       arrears.LATE_FEE_MIN))
    if family == "trend":
        return trend.compute(ctx, trend_periods=params.get("trend_periods",
                                                           trend.TREND_PERIODS),
                             recent_periods=params.get("recent_periods",
                                                       trend.RECENT_PERIODS))
    return _MODULES[family].compute(ctx)


def dominant_channel(data, as_of=None) -> pd.Series:
    """The most used channel code per customer (ties: registry order).

    Parameters
    ----------
    data : PaymentData
    as_of : date-like, optional
        As in :func:`build_features`.

    Returns
    -------
    Series of str indexed by ``customer_id``, NaN for customers without a payment
    through a known channel.

    Examples
    --------
    >>> import pandas as pd, payseg
    >>> pay = pd.DataFrame({
    ...     "customer_id": pd.Series(["a", "a", "a"], dtype="str"),
    ...     "paid_at": pd.to_datetime(["2024-01-05", "2024-02-20", "2024-03-02"]),
    ...     "channel": pd.Categorical(["alipay", "counter", "counter"]),
    ...     "amount": [100.0, 120.0, 80.0]})
    >>> dominant_channel(payseg.PaymentData(payments=pay)).to_dict()
    {'a': 'counter'}
    """
    ctx = Context(data, as_of=as_of)
    found = [channel.dominant_codes(block) for block in ctx.blocks()]
    return pd.concat(found) if len(found) > 1 else found[0]
