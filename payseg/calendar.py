"""Billing calendars: when each account's bill is issued and when it falls due.

The China default (DOMAIN.md): the meter is read on a fixed day per account, the bill
is issued one to three days after the reading, and it is due on the last day of the
settlement month. A billing *period* is the consumption month the bill charges
(电费年月); the settlement month is the month after it, so the bill for 2025-03 is read
and issued in early April and due on 30 April.

Holidays come from the maintained ``chinese_calendar`` package (public holidays, the
Spring Festival week and the in-lieu working weekends). Outside the years it covers,
only weekends count as days off and a warning says so.

Everything is vectorised over accounts x periods: the only Python loops run over
calendar days (a few hundred) or years.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "BillingCalendar",
    "bimonthly",
    "holidays",
    "is_workday",
    "month_start_days",
    "monthly",
    "next_workday",
    "schedule",
    "spring_festival",
]

_EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class BillingCalendar:
    """A billing schedule: how often bills are issued, when and when they fall due.

    Parameters
    ----------
    frequency : {"monthly", "bimonthly"} or int, default "monthly"
        Months between two bills. A bill's ``period`` is the first month it charges.
    reading_days : (int, int), default (1, 15)
        Inclusive range of the per-account meter-reading day in the settlement month;
        each account draws one day and keeps it (pass ``reading_day=`` to
        :meth:`schedule` to fix it per account).
    issue_lag : (int, int), default (1, 3)
        Inclusive range of days between reading and issue, drawn per bill.
    due : "month_end" or int, default "month_end"
        "month_end" makes the bill due on the last day of the settlement month (the
        China rule); an int makes it due that many days after the issue date.
    settlement_lag : int or None, default None
        Months from ``period`` to the settlement month (the month of reading, issue
        and, with ``due="month_end"``, the due date). None means one bill length
        (1 for monthly, 2 for bimonthly).
    roll_issue : bool, default True
        Move a reading that falls on a public holiday (e.g. the Spring Festival) to
        the next working day, and an issue date that falls on any day off (weekend
        or holiday) to the next working day.
    roll_due : bool, default False
        Move a due date that falls on a day off to the next working day.
    holidays : {"cn", None}, default "cn"
        "cn" uses Chinese public holidays and in-lieu working days; None only
        weekends.

    Examples
    --------
    >>> cal = BillingCalendar()
    >>> s = cal.schedule(["001", "002"], start="2025-03", months=2, reading_day=[3, 9])
    >>> s.columns.tolist()
    ['customer_id', 'period', 'issued_on', 'due_on']
    >>> s["due_on"].dt.strftime("%Y-%m-%d").unique().tolist()
    ['2025-04-30', '2025-05-31']
    >>> BillingCalendar(frequency="bimonthly").months_per_bill
    2
    """

    frequency: str | int = "monthly"
    reading_days: tuple[int, int] = (1, 15)
    issue_lag: tuple[int, int] = (1, 3)
    due: str | int = "month_end"
    settlement_lag: int | None = None
    roll_issue: bool = True
    roll_due: bool = False
    holidays: str | None = "cn"

    def __post_init__(self):
        _ = self.months_per_bill  # validates frequency
        lo, hi = self.reading_days
        if not 1 <= lo <= hi <= 28:
            raise ValueError(
                f"reading_days must satisfy 1 <= lo <= hi <= 28, got {self.reading_days}"
            )
        lo, hi = self.issue_lag
        if not 0 <= lo <= hi:
            raise ValueError(
                f"issue_lag must satisfy 0 <= lo <= hi, got {self.issue_lag}"
            )
        if self.due != "month_end" and not (
            isinstance(self.due, (int, np.integer)) and self.due > 0
        ):
            raise ValueError(
                f"due must be 'month_end' or a positive int, got {self.due!r}"
            )
        if self.holidays not in ("cn", None):
            raise ValueError(f"holidays must be 'cn' or None, got {self.holidays!r}")

    @property
    def months_per_bill(self) -> int:
        """Months between two bills (1 monthly, 2 bimonthly)."""
        f = self.frequency
        if f == "monthly":
            return 1
        if f == "bimonthly":
            return 2
        if isinstance(f, (int, np.integer)) and not isinstance(f, bool) and f >= 1:
            return int(f)
        raise ValueError(
            f"frequency must be 'monthly', 'bimonthly' or a positive int, got {f!r}"
        )

    def periods(self, start, months: int) -> pd.PeriodIndex:
        """Billing periods of ``months`` calendar months from ``start``.

        Examples
        --------
        >>> BillingCalendar(frequency="bimonthly").periods("2025-01", 6).astype(str).tolist()
        ['2025-01', '2025-03', '2025-05']
        """
        first = pd.Period(start, freq="M")
        return pd.period_range(first, periods=months, freq="M")[:: self.months_per_bill]

    def draw_reading_days(self, n: int, random_state=None) -> np.ndarray:
        """Draw one meter-reading day per account from ``reading_days``."""
        rng = np.random.default_rng(random_state)
        lo, hi = self.reading_days
        return rng.integers(lo, hi + 1, size=n)

    def schedule(
        self,
        customer_ids,
        start,
        months: int,
        *,
        reading_day=None,
        random_state=None,
    ) -> pd.DataFrame:
        """Issue and due date of every bill of every account.

        Parameters
        ----------
        customer_ids : array-like of str
            Accounts to bill.
        start : str or Period
            First billing period, e.g. "2025-01".
        months : int
            Calendar months covered (monthly: this many bills per account).
        reading_day : int or array-like of int, optional
            Meter-reading day per account; drawn from ``reading_days`` when None.
        random_state : int or numpy Generator, optional
            Seeds the reading-day and issue-lag draws.

        Returns
        -------
        DataFrame
            ``customer_id`` (str), ``period`` (period[M]), ``issued_on``, ``due_on``
            (datetime64[ns]), one row per account and period, account-major.

        Examples
        --------
        >>> s = BillingCalendar(roll_due=True).schedule(
        ...     ["7"], start="2025-01", months=1, reading_day=2, random_state=0)
        >>> s.loc[0, "due_on"]  # 2025-02-28 is a Friday, a working day
        Timestamp('2025-02-28 00:00:00')
        """
        ids = np.asarray(customer_ids, dtype=object).astype(str)
        rng = np.random.default_rng(random_state)
        n = len(ids)
        if reading_day is None:
            rday = self.draw_reading_days(n, rng)
        else:
            rday = np.broadcast_to(np.asarray(reading_day, dtype=np.int64), (n,))
        periods = self.periods(start, months)
        issued, due = self.dates(periods.asi8, rday, rng)
        p = len(periods)
        return pd.DataFrame(
            {
                "customer_id": pd.array(np.repeat(ids, p), dtype="str"),
                "period": pd.PeriodIndex.from_ordinals(
                    np.tile(periods.asi8, n), freq="M"
                ),
                "issued_on": _days_to_datetime(issued.ravel()),
                "due_on": _days_to_datetime(due.ravel()),
            }
        )

    def dates(self, period_ordinals, reading_day, random_state=None):
        """Issue and due dates as day numbers (days since 1970-01-01), vectorised.

        Parameters
        ----------
        period_ordinals : array of int of shape (n_periods,)
            Monthly period ordinals (``PeriodIndex.asi8``).
        reading_day : array of int of shape (n_accounts,)
            Meter-reading day of each account.
        random_state : int or numpy Generator, optional
            Seeds the issue lags.

        Returns
        -------
        issued, due : arrays of int64 of shape (n_accounts, n_periods)

        Examples
        --------
        >>> cal = BillingCalendar(issue_lag=(2, 2))
        >>> ordinals = pd.period_range("2025-03", periods=1, freq="M").asi8
        >>> issued, due = cal.dates(ordinals, np.array([3]))
        >>> str(np.datetime64(int(issued[0, 0]), "D")), str(np.datetime64(int(due[0, 0]), "D"))
        ('2025-04-07', '2025-04-30')
        """
        rng = np.random.default_rng(random_state)
        ordinals = np.asarray(period_ordinals, dtype=np.int64)
        rday = np.asarray(reading_day, dtype=np.int64)
        lag = self.settlement_lag
        lag = self.months_per_bill if lag is None else int(lag)
        settle = ordinals + lag
        month_start = month_start_days(settle)  # (p,)
        month_end = month_start_days(settle + 1) - 1
        read = month_start[None, :] + rday[:, None] - 1
        if self.roll_issue:
            # Readings move off public holidays (the Spring Festival week), not
            # off ordinary weekends; the issue date moves off any day off.
            read = next_workday(read, holidays=self.holidays, weekends=False)
        lo, hi = self.issue_lag
        issued = read + rng.integers(lo, hi + 1, size=read.shape)
        if self.roll_issue:
            issued = next_workday(issued, holidays=self.holidays)
        if self.due == "month_end":
            due = np.broadcast_to(month_end[None, :], issued.shape).copy()
            # A reading late in a short month can push the issue past month end.
            due = np.maximum(due, issued + 7)
        else:
            due = issued + int(self.due)
        if self.roll_due:
            due = next_workday(due, holidays=self.holidays)
        return issued, due


def monthly(**kwargs) -> BillingCalendar:
    """The China default: monthly bills due at the end of the settlement month.

    Examples
    --------
    >>> monthly().months_per_bill
    1
    """
    return BillingCalendar(frequency="monthly", **kwargs)


def bimonthly(**kwargs) -> BillingCalendar:
    """Bills every two months (common for water and gas, some electricity).

    Examples
    --------
    >>> bimonthly(due=20).schedule(["a"], "2025-01", 4, reading_day=5,
    ...                            random_state=0)["period"].astype(str).tolist()
    ['2025-01', '2025-03']
    """
    return BillingCalendar(frequency="bimonthly", **kwargs)


def schedule(customer_ids, start, months: int, calendar=None, **kwargs) -> pd.DataFrame:
    """Shortcut for ``(calendar or BillingCalendar()).schedule(...)``.

    Examples
    --------
    >>> s = schedule(["001", "002", "003"], "2024-01", 12, random_state=0)
    >>> len(s), bool((s["due_on"] > s["issued_on"]).all())
    (36, True)
    """
    calendar = BillingCalendar() if calendar is None else calendar
    return calendar.schedule(customer_ids, start, months, **kwargs)


# --------------------------------------------------------------------------- days off


def month_start_days(ordinals) -> np.ndarray:
    """Day number (days since 1970-01-01) of the first day of each month.

    Parameters
    ----------
    ordinals : array-like of int
        Monthly period ordinals: months since 1970-01 (``pd.Period.ordinal``).

    Returns
    -------
    ndarray of int64, of shape (n_months,)

    Examples
    --------
    >>> import pandas as pd
    >>> month_start_days([0, 1, pd.Period("2024-03", "M").ordinal]).tolist()
    [0, 31, 19783]
    """
    months = np.asarray(ordinals, dtype=np.int64).astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64)


def _days_to_datetime(days) -> np.ndarray:
    return (np.asarray(days, dtype=np.int64) * 86_400_000_000_000).view(
        "datetime64[ns]"
    )


def _as_days(dates) -> tuple[np.ndarray, tuple]:
    """Dates (any array-like a pandas user has) as int64 day numbers plus shape."""
    if isinstance(dates, np.ndarray) and dates.dtype.kind in "iu":
        return dates.astype(np.int64), dates.shape
    arr = np.asarray(pd.to_datetime(np.asarray(dates).ravel())).astype("datetime64[D]")
    return arr.astype(np.int64), np.shape(dates)


_COVERED: tuple[int, int] | None = None


def _covered_years() -> tuple[int, int]:
    global _COVERED
    if _COVERED is None:
        import chinese_calendar as cc

        years = [d.year for d in cc.holidays]
        _COVERED = (min(years), max(years))
    return _COVERED


def _off_table(first: int, last: int, holidays, weekends: bool = True) -> np.ndarray:
    """Boolean "day off" for each day number in [first, last]."""
    days = np.arange(first, last + 1, dtype=np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    off = weekday >= 5 if weekends else np.zeros(days.size, dtype=bool)
    if holidays == "cn":
        import chinese_calendar as cc

        lo, hi = _covered_years()
        y0 = (
            int(np.datetime64(int(first), "D").astype("datetime64[Y]").astype(int))
            + 1970
        )
        y1 = (
            int(np.datetime64(int(last), "D").astype("datetime64[Y]").astype(int))
            + 1970
        )
        if y0 < lo or y1 > hi:
            warnings.warn(
                f"chinese_calendar knows holidays for {lo}-{hi} only; days in "
                f"{y0}-{y1} outside that range count weekends as the only days off",
                UserWarning,
                stacklevel=3,
            )
        hol = _day_numbers(cc.holidays)
        work = _day_numbers(cc.workdays)
        off[np.isin(days, hol)] = True
        if weekends:
            off[np.isin(days, work)] = False
    return off


_DAY_CACHE: dict[int, np.ndarray] = {}


def _day_numbers(table: dict) -> np.ndarray:
    key = id(table)
    if key not in _DAY_CACHE:
        _DAY_CACHE[key] = np.array(
            [(d - _dt.date(1970, 1, 1)).days for d in table], dtype=np.int64
        )
    return _DAY_CACHE[key]


def is_workday(dates, *, holidays: str | None = "cn") -> np.ndarray:
    """True for working days (Chinese public holidays and in-lieu days respected).

    Parameters
    ----------
    dates : array-like of dates, or int day numbers
        Anything ``pandas.to_datetime`` reads.
    holidays : {"cn", None}, default "cn"
        None: only weekends are days off.

    Returns
    -------
    ndarray of bool, same shape as ``dates``

    Examples
    --------
    >>> is_workday(["2024-02-10", "2024-02-18", "2024-02-19"]).tolist()  # Spring Festival
    [False, True, True]
    """
    days, shape = _as_days(dates)
    if days.size == 0:
        return np.zeros(shape, dtype=bool)
    first, last = int(days.min()), int(days.max())
    off = _off_table(first, last, holidays)
    return ~off[days - first].reshape(shape)


def next_workday(dates, *, holidays: str | None = "cn", weekends: bool = True):
    """Roll each date forward to the next working day (unchanged if it is one).

    Integer input (day numbers since 1970-01-01) gives integers back; other input
    gives ``datetime64[ns]``. With ``weekends=False`` only public holidays count as
    days off (remote meter reading runs on weekends, not through the Spring
    Festival).

    Examples
    --------
    >>> next_workday(["2025-01-31", "2025-02-05"]).astype("datetime64[D]").astype(str).tolist()
    ['2025-02-05', '2025-02-05']
    """
    as_int = isinstance(dates, np.ndarray) and dates.dtype.kind in "iu"
    days, shape = _as_days(dates)
    if days.size == 0:
        return days.reshape(shape) if as_int else _days_to_datetime(days).reshape(shape)
    first, last = int(days.min()), int(days.max())
    # No holiday block is longer than ~10 days: 40 days of slack is plenty.
    off = _off_table(first, last + 40, holidays, weekends)
    idx = np.arange(off.size)
    nxt = np.where(off, off.size, idx)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]
    rolled = (first + nxt[days - first]).reshape(shape)
    return rolled if as_int else _days_to_datetime(rolled)


def holidays(start, end) -> pd.DataFrame:
    """Chinese public holidays between two dates (weekends inside blocks included).

    Examples
    --------
    >>> h = holidays("2025-01-01", "2025-02-28")
    >>> h["name"].unique().tolist()
    ["New Year's Day", 'Spring Festival']
    """
    import chinese_calendar as cc

    lo, hi = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    rows = sorted((d, n) for d, n in cc.holidays.items() if lo <= d <= hi)
    return pd.DataFrame(
        {
            "date": pd.to_datetime([d for d, _ in rows]).astype("datetime64[ns]"),
            "name": pd.array([n for _, n in rows], dtype="str"),
        }
    )


def spring_festival(years) -> pd.DataFrame:
    """The official Spring Festival holiday block of each year.

    Parameters
    ----------
    years : int or iterable of int
        Years within the range ``chinese_calendar`` covers.

    Returns
    -------
    DataFrame
        Indexed by ``year``: ``start``, ``end`` (datetime64[ns], inclusive) and
        ``days``.

    Raises
    ------
    ValueError
        For a year the holiday data does not cover.

    Examples
    --------
    >>> sf = spring_festival([2024, 2025])
    >>> sf["start"].dt.strftime("%Y-%m-%d").tolist(), sf["days"].tolist()
    (['2024-02-10', '2025-01-28'], [8, 8])
    """
    import chinese_calendar as cc

    years = [int(years)] if np.isscalar(years) else [int(y) for y in years]  # type: ignore[arg-type]
    lo, hi = _covered_years()
    bad = [y for y in years if not lo <= y <= hi]
    if bad:
        raise ValueError(
            f"no Spring Festival data for {bad}: chinese_calendar covers {lo}-{hi}; "
            "upgrade the chinese-calendar package for later years"
        )
    by_year: dict[int, list[_dt.date]] = {}
    for d, name in cc.holidays.items():
        if name == "Spring Festival" and d.year in years:
            by_year.setdefault(d.year, []).append(d)
    start = [min(by_year[y]) for y in years]
    end = [max(by_year[y]) for y in years]
    out = pd.DataFrame(
        {
            "start": pd.to_datetime(start).astype("datetime64[ns]"),
            "end": pd.to_datetime(end).astype("datetime64[ns]"),
        },
        index=pd.Index(years, name="year"),
    )
    out["days"] = (out["end"] - out["start"]).dt.days + 1
    return out
