"""Timing features: matching rule, settlement, and fast == reference on random data."""

import numpy as np
import pandas as pd
import pytest
from _reference_features import check_family
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg
from payseg.features._block import Context


def _data(pay_rows, bill_rows):
    pay = pd.DataFrame(
        pay_rows, columns=["customer_id", "paid_at", "channel", "amount", "period"]
    )
    pay = pay.astype(
        {"customer_id": "str", "paid_at": "datetime64[ns]", "amount": "float64"}
    )
    pay["channel"] = pd.Categorical(pay["channel"], categories=payseg.channels.codes())
    pay["period"] = pd.PeriodIndex(pay["period"], freq="M")
    bills = pd.DataFrame(
        bill_rows,
        columns=["customer_id", "period", "issued_on", "due_on", "amount_due"],
    )
    bills = bills.astype(
        {
            "customer_id": "str",
            "issued_on": "datetime64[ns]",
            "due_on": "datetime64[ns]",
            "amount_due": "float64",
        }
    )
    bills["period"] = pd.PeriodIndex(bills["period"], freq="M")
    return payseg.PaymentData(payments=pay, bills=bills)


def _match(data, as_of=None):
    (block,) = Context(data, as_of=as_of).blocks()
    return block.match


BILLS = [
    ("a", "2024-01", "2024-02-01", "2024-02-20", 100.0),
    ("a", "2024-02", "2024-03-01", "2024-03-20", 50.0),
    ("a", "2024-03", "2024-04-01", "2024-04-20", 80.0),
]


def test_untagged_payment_pays_oldest_unpaid_bill():
    # 100 settles January; the next 50 must go to February, the last 80 to March.
    data = _data(
        [
            ("a", "2024-02-05", "alipay", 100.0, None),
            ("a", "2024-03-25", "alipay", 50.0, None),
            ("a", "2024-04-02", "alipay", 80.0, None),
        ],
        BILLS,
    )
    assert _match(data).pay_bill.tolist() == [0, 1, 2]
    X = payseg.build_features(data, families=["timing"])
    assert X.loc["a", "delay_days_mean"] == pytest.approx((4 + 24 + 1) / 3)
    assert X.loc["a", "late_share"] == pytest.approx(1 / 2)  # March not due yet
    assert X.loc["a", "days_to_due_mean"] == pytest.approx((15 - 5 + 18) / 3)


def test_split_payment_settles_on_last_part_and_counts_parts():
    data = _data(
        [
            ("a", "2024-02-03", "alipay", 60.0, "2024-01"),
            ("a", "2024-02-25", "counter", 40.0, "2024-01"),  # completes after due
            ("a", "2024-03-02", "alipay", 50.0, "2024-02"),
        ],
        BILLS,
    )
    assert _match(data, as_of="2024-03-31").settle_day.tolist()[:2] == [
        pd.Timestamp("2024-02-25").value // 86_400_000_000_000,
        pd.Timestamp("2024-03-02").value // 86_400_000_000_000,
    ]
    X = payseg.build_features(data, families=["timing"], as_of="2024-03-31")
    assert X.loc["a", "payments_per_bill"] == pytest.approx(1.5)
    assert X.loc["a", "late_share"] == pytest.approx(0.5)  # January late, Feb not
    assert X.loc["a", "delay_days_median"] == pytest.approx((24 + 1) / 2)


def test_payment_before_issue_gives_negative_delay_and_ties_follow_channel_order():
    data = _data(
        [
            (
                "a",
                "2024-01-20 09:00",
                "counter",
                50.0,
                None,
            ),  # same second: after alipay
            ("a", "2024-01-20 09:00", "alipay", 100.0, None),  # settles January
        ],
        BILLS,
    )
    assert sorted(_match(data).pay_bill.tolist()) == [0, 1]
    X = payseg.build_features(data, families=["timing"])
    assert X.loc["a", "delay_days_mean"] == (-12 + -41) / 2  # Feb issued 03-01
    assert X.loc["a", "payments_per_bill"] == 1


def test_tagged_payment_without_its_bill_is_unmatched():
    data = _data([("a", "2024-02-05", "alipay", 100.0, "2023-07")], BILLS)
    assert _match(data).pay_bill.tolist() == [-1]
    X = payseg.build_features(data, families=["timing"])
    assert np.isnan(X.loc["a", "delay_days_mean"])
    assert X.loc["a", "unpaid_share"] == 1.0


def test_weekend_and_evening_need_no_bills():
    data = _data(
        [
            ("b", "2024-06-01 19:30", "alipay", 10.0, None),  # Saturday evening
            ("b", "2024-06-03 08:00", "alipay", 10.0, None),  # Monday morning
        ],
        [],
    )
    X = payseg.build_features(data, families=["timing"])
    assert X.loc["b", "weekend_share"] == 0.5
    assert X.loc["b", "evening_share"] == 0.5
    assert np.isnan(X.loc["b", "delay_days_mean"])


def test_evening_share_is_nan_without_time_of_day():
    data = _data(
        [
            ("b", "2024-06-01", "alipay", 10.0, None),
            ("c", "2024-06-01 00:00:00", "alipay", 10.0, None),
            ("c", "2024-06-02 21:00:00", "alipay", 10.0, None),
        ],
        [],
    )
    X = payseg.build_features(data, families=["timing"])
    assert np.isnan(X.loc["b", "evening_share"])  # no time of day on record
    assert X.loc["b", "weekend_share"] == 1.0
    assert X.loc["c", "evening_share"] == 0.5


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    with_period=st.booleans(),
    times=st.booleans(),
    as_of=st.sampled_from([None, "2024-05-15", "2024-03-31"]),
)
def test_timing_matches_reference(seed, with_period, times, as_of):
    check_family("timing", seed, with_period=with_period, times=times, as_of=as_of)
