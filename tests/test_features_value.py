"""Value features, including the China Software Cup sample (no channel, no bills)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _reference_features import check_family
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg

CPH = Path(__file__).parents[1] / "examples" / "data" / "cph.csv"  # public sample


def test_per_year_definitions_by_hand():
    pay = pd.DataFrame(
        {
            "customer_id": pd.Series(["a"] * 4, dtype="str"),
            # two payments on one day count as one payment date
            "paid_at": pd.to_datetime(
                [
                    "2018-03-01 00:00:00",
                    "2018-03-01 15:00:00",
                    "2018-09-01 00:00:00",
                    "2019-02-01 00:00:00",
                ]
            ),
            "amount": [100.0, 50.0, 30.0, 20.0],
        }
    )
    X = payseg.build_features(
        payseg.PaymentData(payments=pay), families=["value"], as_of="2019-03-01"
    )
    row = X.loc["a"]
    assert row["pay_count_per_year"] == 3 / 2  # 3 distinct dates, 2 calendar years
    assert row["amount_per_year"] == 200 / 2
    assert row["amount_total"] == 200
    assert row["amount_mean"] == 50
    assert row["recency_days"] == 28
    assert row["tenure_days"] == 365


def _cph():
    raw = pd.read_csv(CPH, dtype=str)
    pay = pd.DataFrame(
        {
            "customer_id": raw["用户编号"].astype("str"),
            "paid_at": pd.to_datetime(raw["缴费日期"]),
            "amount": raw["缴费金额（元）"].astype(float),
        }
    )
    return payseg.PaymentData(payments=pay), raw


def test_cph_value_defined_timing_channel_arrears_nan():
    data, raw = _cph()
    # One payment of the sample is dated 2019-12-04, 267 days after all the others:
    # the default as_of leaves it out, with a warning naming it.
    with pytest.warns(UserWarning, match=r"2019-12-04 \(1 row\)"):
        X = payseg.build_features(data)
    assert X.attrs["as_of"] == pd.Timestamp("2019-03-12")
    assert X.attrs["as_of_rule"] == "default, outliers ignored"
    raw = raw[pd.to_datetime(raw["缴费日期"]) <= X.attrs["as_of"]]
    assert len(X) == raw["用户编号"].nunique() == 100
    value = payseg.features.feature_names(["value", "prepaid"])
    assert (
        X[
            [
                "pay_count_per_year",
                "amount_per_year",
                "amount_total",
                "amount_mean",
                "recency_days",
                "tenure_days",
                "topup_amount_mean",
                "topups_per_month",
            ]
        ]
        .notna()
        .all()
        .all()
    )
    assert X[value].notna().any().all()
    nan_cols = [
        c
        for c in payseg.features.feature_names(["timing", "channel", "arrears"])
        if c not in ("weekend_share",)
    ]
    assert X[nan_cols].isna().all().all()
    # The Software Cup's per-year units, straight from the raw file.
    day = pd.to_datetime(raw["缴费日期"])
    frame = raw.assign(
        day=day, year=day.dt.year, amount=raw["缴费金额（元）"].astype(float)
    )
    g = frame.groupby("用户编号")
    expected = g["day"].nunique() / g["year"].nunique()
    np.testing.assert_allclose(X["pay_count_per_year"], expected.to_numpy())
    np.testing.assert_allclose(
        X["amount_per_year"], (g["amount"].sum() / g["year"].nunique()).to_numpy()
    )
    assert X["amount_total"].sum() == pytest.approx(frame["amount"].sum())


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    with_bills=st.booleans(),
    as_of=st.sampled_from([None, "2024-05-15", "2024-12-31"]),
)
def test_value_matches_reference(seed, with_bills, as_of):
    check_family("value", seed, with_bills=with_bills, as_of=as_of)
