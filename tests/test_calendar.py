"""Tests for payseg.calendar: schedules, reading days, due rules and holidays."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payseg import calendar as cal
from payseg.calendar import BillingCalendar


def _days(series):
    return series.to_numpy().astype("datetime64[D]")


def test_monthly_schedule_shape_and_dtypes():
    ids = ["001", "002", "003"]
    s = cal.schedule(ids, "2024-01", 12, random_state=0)
    assert len(s) == 36
    assert s.columns.tolist() == ["customer_id", "period", "issued_on", "due_on"]
    assert str(s["customer_id"].dtype) == "str"
    assert s["customer_id"].tolist()[:13] == ["001"] * 12 + ["002"]
    assert isinstance(s["period"].dtype, pd.PeriodDtype)
    assert s["issued_on"].dtype == "datetime64[ns]"
    assert s["due_on"].dtype == "datetime64[ns]"
    assert s["period"].astype(str).tolist()[:3] == ["2024-01", "2024-02", "2024-03"]


def test_china_rule_due_at_end_of_settlement_month():
    s = BillingCalendar(roll_issue=False).schedule(
        ["a"] * 1, "2025-01", 12, reading_day=5, random_state=1
    )
    settle = s["period"] + 1
    month_end = settle.dt.end_time.dt.normalize()
    assert (s["due_on"] == month_end).all()
    # Issued in the settlement month, one to three days after the reading (5th).
    assert (s["issued_on"].dt.to_period("M") == settle).all()
    assert s["issued_on"].dt.day.between(6, 8).all()
    window = (s["due_on"] - s["issued_on"]).dt.days
    assert window.between(14, 30).all()


def test_reading_day_is_fixed_per_account():
    c = BillingCalendar(roll_issue=False, issue_lag=(0, 0))
    s = c.schedule([f"{i}" for i in range(50)], "2025-03", 6, random_state=3)
    per_account = s.groupby("customer_id")["issued_on"].agg(
        lambda d: d.dt.day.nunique()
    )
    assert (per_account == 1).all()
    assert s["issued_on"].dt.day.between(1, 15).all()
    assert s["issued_on"].dt.day.nunique() > 5


def test_issue_lag_and_explicit_reading_days():
    c = BillingCalendar(roll_issue=False, issue_lag=(1, 3))
    s = c.schedule(["x", "y"], "2025-03", 24, reading_day=[2, 10], random_state=0)
    lag_x = s.loc[s["customer_id"] == "x", "issued_on"].dt.day - 2
    lag_y = s.loc[s["customer_id"] == "y", "issued_on"].dt.day - 10
    assert set(lag_x) <= {1, 2, 3} and set(lag_y) <= {1, 2, 3}
    assert len(set(lag_x)) == 3  # the lag varies per bill


def test_bimonthly_and_custom_due():
    s = cal.bimonthly(due=20, roll_issue=False).schedule(
        ["a"], "2025-01", 12, reading_day=3, random_state=0
    )
    assert s["period"].astype(str).tolist() == [
        "2025-01",
        "2025-03",
        "2025-05",
        "2025-07",
        "2025-09",
        "2025-11",
    ]
    # Settlement two months after the first month billed.
    assert (s["issued_on"].dt.to_period("M") == s["period"] + 2).all()
    assert ((s["due_on"] - s["issued_on"]).dt.days == 20).all()
    quarterly = BillingCalendar(frequency=3)
    assert len(quarterly.periods("2025-01", 12)) == 4


def test_roll_due_moves_holiday_due_dates_to_next_working_day():
    # 2025-01 bills are due 2025-02-28 (Friday); 2024-12 bills 2025-01-31 which is
    # inside the Spring Festival holiday (2025-01-28 .. 2025-02-04).
    plain = BillingCalendar().schedule(
        ["a"], "2024-12", 1, reading_day=3, random_state=0
    )
    rolled = BillingCalendar(roll_due=True).schedule(
        ["a"], "2024-12", 1, reading_day=3, random_state=0
    )
    assert plain.loc[0, "due_on"] == pd.Timestamp("2025-01-31")
    assert rolled.loc[0, "due_on"] == pd.Timestamp("2025-02-05")


def test_roll_issue_skips_spring_festival():
    # Readings on 2024-02-10 (first day of the Spring Festival holiday) move to the
    # first working day after it, 2024-02-18 (an in-lieu working Sunday).
    c = BillingCalendar(issue_lag=(1, 1))
    s = c.schedule(["a"], "2024-01", 1, reading_day=10, random_state=0)
    assert s.loc[0, "issued_on"] == pd.Timestamp("2024-02-19")
    assert cal.is_workday(s["issued_on"]).all()


def test_issue_dates_are_working_days_when_rolled():
    s = BillingCalendar().schedule(
        [str(i) for i in range(40)], "2024-01", 24, random_state=0
    )
    assert cal.is_workday(s["issued_on"]).all()


def test_is_workday_knows_in_lieu_days_and_weekends():
    got = cal.is_workday(
        ["2024-02-04", "2024-02-12", "2024-10-01", "2024-10-12", "2025-03-08"]
    )
    # In-lieu working Sunday, Spring Festival Monday, National Day, in-lieu Saturday,
    # ordinary Saturday.
    assert got.tolist() == [True, False, False, True, False]
    weekends_only = cal.is_workday(["2024-02-12", "2024-02-04"], holidays=None)
    assert weekends_only.tolist() == [True, False]


def test_next_workday_keeps_int_and_shape():
    days = np.array([[19_754, 19_755]], dtype=np.int64)  # 2024-02-01/02
    out = cal.next_workday(days)
    assert out.dtype.kind == "i" and out.shape == (1, 2)
    assert out.tolist() == [[19_754, 19_755]]


def test_spring_festival_dates():
    sf = cal.spring_festival(range(2020, 2026))
    assert sf.index.tolist() == list(range(2020, 2026))
    assert (sf["start"].dt.month <= 2).all()
    assert sf["days"].between(7, 10).all()  # 2020 was extended (COVID-19)
    assert sf.loc[2024, "start"] == pd.Timestamp("2024-02-10")
    # Every day of a block is a holiday.
    for _, row in sf.iterrows():
        days = pd.date_range(row["start"], row["end"])
        assert not cal.is_workday(days).any()


def test_spring_festival_outside_data_raises():
    with pytest.raises(ValueError, match="no Spring Festival data for \\[1999\\]"):
        cal.spring_festival([1999])


def test_holidays_frame():
    h = cal.holidays("2024-09-01", "2024-10-31")
    assert set(h["name"]) == {"Mid-autumn Festival", "National Day"}
    assert h["date"].dtype == "datetime64[ns]"


def test_outside_covered_years_warns_and_uses_weekends():
    with pytest.warns(UserWarning, match="chinese_calendar knows holidays for"):
        out = cal.is_workday(["2035-01-01", "2035-01-06"])
    assert out.tolist() == [True, False]  # a Monday and a Sunday


@pytest.mark.parametrize(
    "params, match",
    [
        ({"frequency": "weekly"}, "frequency must be"),
        ({"frequency": 0}, "frequency must be"),
        ({"reading_days": (0, 5)}, "reading_days must satisfy"),
        ({"reading_days": (10, 30)}, "reading_days must satisfy"),
        ({"issue_lag": (3, 1)}, "issue_lag must satisfy"),
        ({"due": "soon"}, "due must be 'month_end' or a positive int"),
        ({"due": -3}, "due must be 'month_end' or a positive int"),
        ({"holidays": "us"}, "holidays must be 'cn' or None"),
    ],
)
def test_invalid_calendar(params, match):
    with pytest.raises(ValueError, match=match):
        BillingCalendar(**params)


def _reference(period: pd.Period, reading_day: int, lag: int) -> tuple:
    """Slow, obvious China rule without holidays."""
    settle = period + 1
    read = dt.date(settle.year, settle.month, reading_day)
    issued = read + dt.timedelta(days=lag)
    due = settle.end_time.date()
    return pd.Timestamp(issued), pd.Timestamp(max(due, issued + dt.timedelta(days=7)))


@settings(max_examples=40, deadline=None)
@given(
    start=st.integers(2005 * 12, 2025 * 12),
    day=st.integers(1, 28),
    lag=st.integers(0, 5),
)
def test_dates_match_reference(start, day, lag):
    period = pd.Period(year=start // 12, month=start % 12 + 1, freq="M")
    c = BillingCalendar(roll_issue=False, issue_lag=(lag, lag), reading_days=(1, 28))
    s = c.schedule(["a"], period, 1, reading_day=day, random_state=0)
    issued, due = _reference(period, day, lag)
    assert s.loc[0, "issued_on"] == issued
    assert s.loc[0, "due_on"] == due


def test_schedule_is_deterministic():
    a = cal.schedule([str(i) for i in range(30)], "2024-01", 6, random_state=5)
    b = cal.schedule([str(i) for i in range(30)], "2024-01", 6, random_state=5)
    c = cal.schedule([str(i) for i in range(30)], "2024-01", 6, random_state=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
