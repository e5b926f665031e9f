"""The ``as_of`` rule: the reference day of ``build_features``.

By default the day of the latest payment, or of the latest issue of a bill that takes
part in the features when it is later (:func:`default_as_of`); the whole ``as_of`` day
counts and rows after it are ignored. The out-of-core back-ends apply the same rule
per bucket and take the maximum (:func:`frame_latest_ns`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._arrays import (
    NS_PER_DAY,
    PERIOD_NAT,
    dated_bounds,
    ns_view,
    period_ordinals,
    zero_cents,
)


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


#: Isolated latest dates (:func:`robust_latest`): at most this share of the dated
#: rows (at least one row) ...
OUTLIER_SHARE = 0.001
#: ... later than every other row by more than this many days ...
OUTLIER_GAP_DAYS = 62
#: ... in data of at least this many dated rows.
OUTLIER_MIN_ROWS = 50


@dataclass
class Latest:
    """The default ``as_of`` in ns (None without dated rows) and the isolated
    outlier rows it ignores (their day numbers, one per row, sorted)."""

    ns: int | None
    outlier_days: np.ndarray

    def describe(self) -> str:
        """The warning text naming the outlier dates, '' when there are none."""
        if not len(self.outlier_days):
            return ""
        days, counts = np.unique(self.outlier_days, return_counts=True)
        shown = ", ".join(
            f"{pd.Timestamp(int(d) * NS_PER_DAY):%Y-%m-%d} ({c} row"
            f"{'s' if c > 1 else ''})"
            for d, c in zip(days[:5], counts[:5])
        )
        more = ", ..." if len(days) > 5 else ""
        as_of = pd.Timestamp(self.ns // NS_PER_DAY * NS_PER_DAY)
        return (
            f"default as_of is {as_of:%Y-%m-%d}: {len(self.outlier_days):,} "
            f"isolated row(s) dated more than {OUTLIER_GAP_DAYS} days after all "
            f"other data are ignored as outliers (mistyped dates?): {shown}{more}. "
            "Pass as_of= to keep them."
        )


def robust_latest(*ns_arrays: np.ndarray) -> Latest:
    """The latest of the dated rows (int64 ns, NaT ignored) once isolated outliers
    are set aside: in data of at least :data:`OUTLIER_MIN_ROWS` rows, the latest
    rows, at most :data:`OUTLIER_SHARE` of them, that come more than
    :data:`OUTLIER_GAP_DAYS` days after every other row (one mistyped date a year
    ahead), are outliers. One ``np.partition``: no sort of the data."""
    none = np.zeros(0, np.int64)
    arrays = [a for a in ns_arrays if len(a)]
    tops = [int(a.max()) for a in arrays]  # NaT is the smallest int64
    if not tops or max(tops) == PERIOD_NAT:
        return Latest(None, none)
    latest = max(tops)
    n = sum(int(np.count_nonzero(a != PERIOD_NAT)) for a in arrays)
    k = max(1, int(n * OUTLIER_SHARE))
    if n < OUTLIER_MIN_ROWS or n <= k:
        return Latest(latest, none)
    # More than k rows within the gap of the latest: no gap among the k + 1 latest.
    near = latest - OUTLIER_GAP_DAYS * NS_PER_DAY
    if sum(int(np.count_nonzero(a >= near)) for a in arrays) >= k + 1:
        return Latest(latest, none)
    values = np.concatenate([a[a != PERIOD_NAT] for a in arrays])
    top = np.sort(np.partition(values, n - k - 1)[n - k - 1 :])  # the k + 1 latest
    days = np.floor_divide(top, NS_PER_DAY)
    big = np.flatnonzero(np.diff(days) > OUTLIER_GAP_DAYS)
    if not len(big):
        return Latest(int(top[-1]), none)
    cut = int(big[0])  # the earliest such gap: every row after it is an outlier
    return Latest(int(top[cut]), days[cut + 1 :])


def usable_issue_ns(bills: pd.DataFrame) -> np.ndarray:
    """Issue dates (ns) of the bills that take part (NaT for the others)."""
    if not len(bills) or "issued_on" not in bills:
        return np.zeros(0, np.int64)
    amount = (
        bills["amount_due"].to_numpy(dtype=np.float64, na_value=np.nan)
        if "amount_due" in bills
        else np.full(len(bills), np.nan)
    )
    usable = bills["period"].notna().to_numpy() & ~zero_cents(amount)
    return np.where(usable, ns_view(bills["issued_on"]), PERIOD_NAT)


def frame_latest(payments: pd.DataFrame, bills: pd.DataFrame) -> Latest:
    """:func:`robust_latest` of canonical payments and bills tables."""
    pay_ns = ns_view(payments["paid_at"]) if len(payments) else np.zeros(0, np.int64)
    return robust_latest(pay_ns, usable_issue_ns(bills))


def frame_latest_ns(payments: pd.DataFrame, bills: pd.DataFrame) -> int | None:
    """The default ``as_of`` of canonical payments and bills tables, in ns."""
    return frame_latest(payments, bills).ns


def as_of_day(as_of, latest) -> int:
    """Day number of ``as_of``; with None, of ``latest()`` (ns from :func:`latest_ns`),
    or 0 (1970-01-01) when that is None too."""
    if as_of is None:
        last = latest()
        as_of_ns = 0 if last is None else last
    else:
        as_of_ns = int(pd.Timestamp(as_of).value)
    return as_of_ns // NS_PER_DAY


def default_as_of(data) -> pd.Timestamp:
    """The reference day :func:`build_features` uses when ``as_of`` is None.

    The day of the latest payment, or of the latest bill issue when a bill was issued
    later. Only bills that take part in the features count: a known ``period`` and an
    ``amount_due`` that does not round to 0 cents (a missing amount counts). Payments
    without ``paid_at`` and bills without ``issued_on`` are ignored. Isolated outlier
    dates are ignored too (:func:`robust_latest`: in data of at least 50 dated rows,
    the latest rows, at most 0.1 % of them, that come more than 62 days after every
    other row); :func:`build_features` warns naming them.

    Parameters
    ----------
    data : PaymentData
        Or any object with canonical ``payments`` and ``bills`` DataFrames.

    Returns
    -------
    Timestamp
        Midnight of that day; NaT when there is no dated payment or usable bill
        (:func:`build_features` then raises ``PaymentDataError``).

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


def dated_range(
    pay_ns: np.ndarray, issue_ns: np.ndarray, bill_periods: np.ndarray
) -> tuple[int, int] | None:
    """Midnights (ns) of the first and the last dated row: payment times, bill issue
    dates, and the first day of the period for a bill without one; None without any.

    ``pay_ns`` and ``issue_ns`` are int64 ns (NaT as ``PERIOD_NAT``), ``bill_periods``
    months since 1970-01 (``PERIOD_NAT`` unknown). The one rule behind
    ``Context.date_range`` and :func:`first_day`.
    """
    parts = [dated_bounds(pay_ns)]
    if len(issue_ns):
        start = np.where(
            bill_periods != PERIOD_NAT,
            bill_periods.astype("datetime64[M]")
            .astype("datetime64[ns]")
            .view(np.int64),
            PERIOD_NAT,
        )
        parts.append(dated_bounds(np.where(issue_ns != PERIOD_NAT, issue_ns, start)))
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    lo = min(p[0] for p in parts) // NS_PER_DAY * NS_PER_DAY
    hi = max(p[1] for p in parts) // NS_PER_DAY * NS_PER_DAY
    return lo, hi


def first_day(data) -> pd.Timestamp:
    """The day of the first dated payment or bill: the first day of the data.

    Payment times count, and bill issue dates (the first day of the bill's period
    when it has no issue date). :func:`build_features` refuses an ``as_of`` before
    this day; the out-of-core back-ends take the minimum over their parts.

    Parameters
    ----------
    data : PaymentData
        Or any object with canonical ``payments`` and ``bills`` DataFrames
        (``bills`` may be None or empty).

    Returns
    -------
    Timestamp
        Midnight of that day; NaT when no row is dated.

    Examples
    --------
    >>> import pandas as pd, payseg
    >>> pay = pd.DataFrame({
    ...     "customer_id": pd.Series(["a"], dtype="str"),
    ...     "paid_at": pd.to_datetime(["2024-03-05 18:30"]),
    ...     "amount": [100.0]})
    >>> bills = pd.DataFrame({
    ...     "customer_id": pd.Series(["a", "b"], dtype="str"),
    ...     "period": pd.PeriodIndex(["2024-02", "2024-02"], freq="M"),
    ...     "issued_on": pd.to_datetime(["2024-03-02", None]),
    ...     "amount_due": [95.0, 80.0]})
    >>> data = payseg.PaymentData(payments=pay, bills=bills)
    >>> payseg.features.first_day(data)  # b's bill has no issue date: 1 February
    Timestamp('2024-02-01 00:00:00')
    >>> payseg.features.first_day(payseg.PaymentData(payments=pay))
    Timestamp('2024-03-05 00:00:00')
    """
    pay, bills = data.payments, getattr(data, "bills", None)
    none = np.zeros(0, np.int64)
    pay_ns = ns_view(pay["paid_at"]) if pay is not None and len(pay) else none
    issue_ns, periods = none, none
    if bills is not None and len(bills):
        n = len(bills)
        issue_ns = (
            ns_view(bills["issued_on"])
            if "issued_on" in bills
            else np.full(n, PERIOD_NAT, np.int64)
        )
        periods = (
            period_ordinals(bills["period"])
            if "period" in bills
            else np.full(n, PERIOD_NAT, np.int64)
        )
    span = dated_range(pay_ns, issue_ns, periods)
    return pd.NaT if span is None else pd.Timestamp(span[0])
