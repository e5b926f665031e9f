"""Trend features: delay slope, recent lateness, amount slope."""

import pandas as pd
import pytest
from _reference_features import check_family
from hypothesis import given, settings
from hypothesis import strategies as st
from test_features_timing import _data

import payseg


def test_trends_by_hand():
    bills = [
        ("a", f"2024-{m:02d}", f"2024-{m:02d}-01", f"2024-{m:02d}-20", 10.0)
        for m in range(1, 7)
    ]
    # Delay grows by 2 days a month: 1, 3, 5, 7, 9, 11 -> slope 2 days/month.
    pays = [
        ("a", f"2024-{m:02d}-{2 * m:02d}", "alipay", 10.0 * m, f"2024-{m:02d}")
        for m in range(1, 7)
    ]
    data = _data(pays, bills)
    X = payseg.build_features(
        data, families=["trend"], as_of="2024-06-30", trend_periods=6, recent_periods=3
    )
    assert X.loc["a", "delay_trend"] == pytest.approx(2.0)
    assert X.loc["a", "recent_late_share"] == 0.0  # all paid before the 20th
    # Monthly amounts 10..60: slope 10/month over a mean of 35.
    assert X.loc["a", "amount_trend"] == pytest.approx(10 / 35)
    X3 = payseg.build_features(
        data, families=["trend"], as_of="2024-06-30", trend_periods=3
    )
    assert X3.loc["a", "delay_trend"] == pytest.approx(2.0)
    assert X3.loc["a", "amount_trend"] == pytest.approx(10 / 50)


def test_partial_as_of_month_is_left_out_of_amount_trend():
    pays = [("a", f"2024-{m:02d}-05", "alipay", 10.0, None) for m in range(1, 7)]
    data = _data(pays, [])
    X = payseg.build_features(
        data, families=["trend"], as_of="2024-06-05", trend_periods=5
    )
    assert X.loc["a", "amount_trend"] == 0.0  # Jan..May, flat
    assert pd.isna(X.loc["a", "delay_trend"])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    periods=st.sampled_from([1, 3, 12]),
    as_of=st.sampled_from([None, "2024-05-15", "2024-08-31"]),
)
def test_trend_matches_reference(seed, periods, as_of):
    check_family("trend", seed, as_of=as_of, trend_periods=periods)
