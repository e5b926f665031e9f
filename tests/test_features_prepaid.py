"""Prepaid (top-up) features."""

import numpy as np
import pandas as pd
import pytest
from _reference_features import check_family
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg


def test_topups_by_hand_and_nan_free_without_bills():
    pay = pd.DataFrame(
        {
            "customer_id": pd.Series(["p"] * 4 + ["q"], dtype="str"),
            "paid_at": pd.to_datetime(
                [
                    "2024-01-01 00:00:00",
                    "2024-01-11 00:00:00",
                    "2024-01-11 20:00:00",
                    "2024-01-31 00:00:00",
                    "2024-01-31 00:00:00",
                ]
            ),
            "channel": pd.Categorical(["ic_card"] * 5),
            "amount": [50.0, 100.0, 50.0, 100.0, 80.0],
        }
    )
    X = payseg.build_features(
        payseg.PaymentData(payments=pay), families=["prepaid"], as_of="2024-03-01"
    )
    p = X.loc["p"]
    assert p["topup_interval_mean"] == 15  # same-day payments are one top-up
    assert p["topup_interval_cv"] == pytest.approx(5 / 15)
    assert p["topup_amount_mean"] == 100
    assert p["topups_per_month"] == pytest.approx(3 / (60 / 30.4375))
    q = X.loc["q"]  # one top-up: intervals undefined, the rest defined
    assert np.isnan(q["topup_interval_mean"]) and np.isnan(q["topup_interval_cv"])
    assert q["topup_amount_mean"] == 80 and q["topups_per_month"] == 1.0


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    with_bills=st.booleans(),
    as_of=st.sampled_from([None, "2024-05-15"]),
)
def test_prepaid_matches_reference(seed, with_bills, as_of):
    data, fast = check_family("prepaid", seed, with_bills=with_bills, as_of=as_of)
    paying = fast.index.isin(
        data.payments["customer_id"][
            data.payments["paid_at"]
            < (
                pd.Timestamp(as_of) + pd.Timedelta(days=1)
                if as_of
                else pd.Timestamp.max
            )
        ]
    )
    assert (
        fast.loc[paying, ["topup_amount_mean", "topups_per_month"]].notna().all().all()
    )
