"""Arrears features: amount owed at as_of, months in arrears, late-fee estimate."""

import numpy as np
import pytest
from _reference_features import check_family
from hypothesis import given, settings
from hypothesis import strategies as st
from test_features_timing import BILLS, _data

import payseg


def test_arrears_and_late_fee_by_hand():
    # January (100, due 02-20) paid 03-01: 10 days late -> fee max(0.1%*100*10, 1) = 1.
    # February (50, due 03-20) half paid on time, rest never: at as_of 04-19 the
    # remaining 25 is 30 days overdue -> fee 0.1% * 25 * 30 = 0.75 -> minimum 1.
    data = _data(
        [
            ("a", "2024-03-01", "alipay", 100.0, "2024-01"),
            ("a", "2024-03-10", "alipay", 25.0, "2024-02"),
        ],
        BILLS[:2],
    )
    X = payseg.build_features(data, families=["arrears"], as_of="2024-04-19")
    assert X.loc["a", "arrears_amount"] == 25.0
    assert X.loc["a", "max_months_in_arrears"] == pytest.approx(30 / 30.4375)
    assert X.loc["a", "late_fee_est"] == pytest.approx(2.0)
    # A higher rate (non-residential, 0.2%/day) and no minimum.
    X = payseg.build_features(
        data,
        families=["arrears"],
        as_of="2024-04-19",
        late_fee_rate=0.002,
        late_fee_min=0.0,
    )
    assert X.loc["a", "late_fee_est"] == pytest.approx(
        0.002 * 100 * 10 + 0.002 * 25 * 30
    )


def test_no_bills_means_nan_arrears():
    data = _data([("a", "2024-03-01", "alipay", 100.0, None)], [])
    X = payseg.build_features(data, families=["arrears"])
    assert X.loc["a"].isna().all()


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    with_period=st.booleans(),
    as_of=st.sampled_from([None, "2024-05-15", "2024-03-31"]),
    rate=st.sampled_from([(0.001, 1.0), (0.003, 0.0)]),
)
def test_arrears_matches_reference(seed, with_period, as_of, rate):
    from _reference_features import (
        assert_frame_close,
        assume_as_of_not_before_data,
        random_data,
        reference_features,
    )

    data = random_data(seed, with_period=with_period)
    assume_as_of_not_before_data(data, as_of)
    fast = payseg.build_features(
        data,
        families=["arrears"],
        as_of=as_of,
        late_fee_rate=rate[0],
        late_fee_min=rate[1],
        calendar=False,
    )
    ref, _ = reference_features(
        data, as_of=as_of, late_fee_rate=rate[0], late_fee_min=rate[1]
    )
    assert_frame_close(fast, ref, columns=list(fast.columns))
    assert (fast.dropna() >= 0).all().all()
    assert np.isnan(fast.to_numpy()).any(axis=1).sum() <= len(fast)
    check_family("arrears", seed, with_period=with_period, as_of=as_of)
