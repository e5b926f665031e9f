"""Channel features: shares, stickiness, switches, dominant channel."""

import numpy as np
import pandas as pd
import pytest
from _reference_features import check_family, random_data, reference_features
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg


def _payments(rows, categories=None):
    pay = pd.DataFrame(rows, columns=["customer_id", "paid_at", "channel", "amount"])
    pay = pay.astype(
        {"customer_id": "str", "paid_at": "datetime64[ns]", "amount": "float64"}
    )
    pay["channel"] = pd.Categorical(pay["channel"], categories=categories)
    return payseg.PaymentData(payments=pay)


def test_shares_entropy_and_switches_by_hand():
    data = _payments(
        [
            ("a", "2024-01-05", "alipay", 1.0),
            ("a", "2024-02-05", "alipay", 1.0),
            ("a", "2024-03-05", "counter", 1.0),
            ("a", "2024-04-05", "alipay", 1.0),
        ]
    )
    X = payseg.build_features(data, families=["channel"])
    row = X.loc["a"]
    assert row["online_share"] == 0.75
    assert row["counter_share"] == 0.25
    assert row["channel_share__alipay"] == 0.75
    assert row["top_channel_share"] == 0.75
    assert row["n_channels"] == 2
    assert row["channel_switch_rate"] == pytest.approx(2 / 3)
    assert row["channel_entropy"] == pytest.approx(
        -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    )
    groups = [f"{g}_share" for g in payseg.channels.GROUPS]
    assert X[groups].sum(axis=1).tolist() == [1.0]


def test_columns_only_for_channels_present_in_registry_order():
    data = _payments(
        [("a", "2024-01-05", "wechat", 1.0), ("b", "2024-01-05", "counter", 1.0)]
    )
    X = payseg.build_features(data, families=["channel"])
    shares = [c for c in X.columns if c.startswith("channel_share__")]
    assert shares == ["channel_share__counter", "channel_share__wechat"]


def test_no_channel_column_gives_nan_channel_features():
    data = _payments([("a", "2024-01-05", None, 1.0)])
    X, dominant = payseg.build_features(
        data, families=["channel"], return_dominant=True
    )
    assert X.loc["a"].isna().all()
    assert dominant.isna().all()
    no_col = payseg.PaymentData(payments=data.payments.drop(columns="channel"))
    assert payseg.build_features(no_col, families=["channel"]).isna().all().all()


def test_dominant_channel_function_matches_flag_and_is_not_a_column():
    data = random_data(3)
    X, dominant = payseg.build_features(data, return_dominant=True)
    assert "dominant_channel" not in X.columns
    assert all(t.kind == "f" for t in X.dtypes)
    pd.testing.assert_series_equal(payseg.features.dominant_channel(data), dominant)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    with_channel=st.booleans(),
    as_of=st.sampled_from([None, "2024-05-15"]),
)
def test_channel_matches_reference(seed, with_channel, as_of):
    data, fast = check_family("channel", seed, with_channel=with_channel, as_of=as_of)
    _, dominant = payseg.build_features(
        data, families=["channel"], as_of=as_of, return_dominant=True
    )
    _, expected = reference_features(data, as_of=as_of)
    assert dominant.fillna("-").tolist() == expected.fillna("-").tolist()


def _history(cid, channels):
    days = pd.date_range("2023-01-05", periods=len(channels), freq="MS")
    return [(cid, d + pd.Timedelta(days=4), c, 50.0) for d, c in zip(days, channels)]


def test_channel_migration_by_hand():
    # CUSUM of the online indicator, D_t = |s_t - t p| / sqrt(m p (1 - p)):
    # "move": 6 counter then 6 app, p = 1/2, D_6 = 3 / sqrt(3) = 1.73 > 1.36;
    # "late": 8 counter then 4 app, p = 1/3, D_8 = (8/3) / sqrt(8/3) = 1.63 > 1.36;
    # "back": app to counter, the same change signed the other way;
    # "mixed": counter and app taking turns, max D_t = 0.5 / sqrt(3) = 0.29;
    # "tail": 10 counter, 2 app at the end, D_10 = (10/6) / sqrt(5/3) = 1.29 < 1.36;
    # "short": 5 payments, too few to test.
    rows = (
        _history("move", ["counter"] * 6 + ["alipay"] * 6)
        + _history("late", ["counter"] * 8 + ["wechat"] * 4)
        + _history("back", ["alipay"] * 6 + ["counter"] * 6)
        + _history("mixed", ["counter", "alipay"] * 6)
        + _history("tail", ["counter"] * 10 + ["alipay"] * 2)
        + _history("short", ["counter"] * 2 + ["alipay"] * 3)
        + [("none", "2023-01-09", None, 50.0)]
    )
    X = payseg.build_features(_payments(rows), families=["channel"])
    got = X["channel_migration"]
    assert got["move"] == 1.0
    assert got["late"] == 1.0
    assert got["back"] == -1.0
    assert got["mixed"] == 0.0
    assert got["tail"] == 0.0
    assert got["short"] == 0.0
    assert np.isnan(got["none"])
    # the noise-corrected channel_shift moves for the steady mix as well
    assert X.loc["tail", "channel_shift"] > 0
