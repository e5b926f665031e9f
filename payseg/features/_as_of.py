"""The ``as_of`` rule: the reference day of ``build_features``.

By default the day of the latest payment, or of the latest issue of a bill that takes
part in the features when it is later (:func:`default_as_of`); the whole ``as_of`` day
counts and rows after it are ignored. The out-of-core back-ends apply the same rule
per bucket and take the maximum (:func:`frame_latest_ns`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._arrays import NS_PER_DAY, PERIOD_NAT, ns_view, zero_cents


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
    pay_ns = ns_view(payments["paid_at"]) if len(payments) else np.zeros(0, np.int64)
    if not len(bills) or "issued_on" not in bills:
        return latest_ns(pay_ns, np.zeros(0, np.int64), None)
    amount = (bills["amount_due"].to_numpy(dtype=np.float64, na_value=np.nan)
              if "amount_due" in bills else np.full(len(bills), np.nan))
    return latest_ns(pay_ns, ns_view(bills["issued_on"]), lambda: (
        bills["period"].notna().to_numpy() & ~zero_cents(amount)))


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
