"""build_features API: families, fill, as_of, errors, invariances, blocks, synth."""

from unittest import mock

import numpy as np
import pandas as pd
import pytest
from _reference_features import assert_frame_close, random_data
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg
from payseg import channels
from payseg.features import _index


def _shuffled(data, seed):
    rng = np.random.default_rng(seed)
    pay = data.payments.iloc[rng.permutation(len(data.payments))]
    bills = data.bills.iloc[rng.permutation(len(data.bills))]
    return payseg.PaymentData(payments=pay.reset_index(drop=True),
                              bills=bills.reset_index(drop=True),
                              customers=data.customers.iloc[::-1])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), shuffle_seed=st.integers(0, 2**31))
def test_shuffling_rows_does_not_change_features(seed, shuffle_seed):
    data = random_data(seed)
    X = payseg.build_features(data)
    Y = payseg.build_features(_shuffled(data, shuffle_seed))
    pd.testing.assert_frame_equal(X, Y)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), other=st.integers(0, 2**31))
def test_adding_a_customer_does_not_change_existing_rows(seed, other):
    data = random_data(seed)
    extra = random_data(other, n_customers=1)
    extra.payments["customer_id"] = "zz_new"
    extra.bills["customer_id"] = "zz_new"
    # Keep as_of fixed: a later payment of the newcomer would move the default.
    as_of = "2024-09-30"
    both = payseg.PaymentData(
        payments=pd.concat([data.payments, extra.payments], ignore_index=True),
        bills=pd.concat([data.bills, extra.bills], ignore_index=True),
        customers=data.customers)
    X = payseg.build_features(data, as_of=as_of)
    Y = payseg.build_features(both, as_of=as_of)
    assert "zz_new" in Y.index or (len(extra.payments) + len(extra.bills) == 0)
    assert_frame_close(Y.loc[X.index], X)


def test_channel_alias_renaming_does_not_change_features():
    data = random_data(11, n_customers=5)
    X = payseg.build_features(data)
    raw = data.payments["channel"].astype(object).map(
        {"alipay": "支付宝生活缴费", "counter": "营业厅", "card_debit": "银行代扣"}
    ).fillna(data.payments["channel"].astype(object))
    resolved, unknown = channels.resolve(raw)
    assert not unknown[data.payments["channel"].notna().to_numpy()].any()
    renamed = payseg.PaymentData(payments=data.payments.assign(channel=resolved),
                                 bills=data.bills, customers=data.customers)
    pd.testing.assert_frame_equal(payseg.build_features(renamed), X)


def test_registering_a_new_alias_then_loading_gives_same_features():
    channels.register("alipay", aliases=["支付宝APP缴费测试"])
    data = random_data(5)
    raw = data.payments["channel"].astype(object).replace({"alipay": "支付宝APP缴费测试"})
    resolved, _ = channels.resolve(raw)
    renamed = payseg.PaymentData(payments=data.payments.assign(channel=resolved),
                                 bills=data.bills, customers=data.customers)
    pd.testing.assert_frame_equal(payseg.build_features(renamed),
                                  payseg.build_features(data))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), rows=st.integers(1, 12))
def test_blocks_of_customers_give_the_same_result(seed, rows):
    data = random_data(seed)
    X, dom = payseg.build_features(data, return_dominant=True)
    with mock.patch.object(_index, "BLOCK_ROWS", rows):
        Y, dom_y = payseg.build_features(data, return_dominant=True)
        Z, dom_z = payseg.build_features(data, return_dominant=True, n_jobs=2)
    pd.testing.assert_frame_equal(X, Y)
    pd.testing.assert_series_equal(dom, dom_y)
    pd.testing.assert_frame_equal(X, Z)
    pd.testing.assert_series_equal(dom, dom_z)


def test_index_is_all_customers_sorted_and_columns_are_float():
    data = random_data(2, n_customers=5)
    X = payseg.build_features(data)
    ids = sorted(set(data.payments["customer_id"]) | set(data.bills["customer_id"])
                 | set(data.customers.index))
    assert X.index.tolist() == ids
    assert X.index.name == "customer_id"
    assert (X.dtypes == "float64").all()
    fixed = payseg.features.feature_names()
    shares = [c for c in X.columns if c.startswith("channel_share__")]
    assert [c for c in X.columns if c not in shares] == fixed
    # per-channel shares follow the channel family's fixed columns
    start = X.columns.get_loc("channel_switch_rate") + 1
    assert X.columns.tolist()[start:start + len(shares)] == shares


def test_families_subset_keeps_family_order():
    data = random_data(4)
    X = payseg.build_features(data, families=["value", "timing"])
    names = payseg.features.feature_names(["timing", "value"])
    assert X.columns.tolist() == names
    full = payseg.build_features(data)
    pd.testing.assert_frame_equal(X, full[names])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"families": ["timing", "astrology"]}, "unknown feature family 'astrology'"),
        ({"fill": "mean"}, "fill must be None, a number, 'median' or a dict"),
        ({"fill": {"no_such_column": 0}}, "fill names unknown column 'no_such_column'"),
        ({"n_jobs": 0}, "n_jobs must be None, a positive int or a negative int"),
    ],
)
def test_wrong_params(kwargs, match):
    with pytest.raises(ValueError, match=match):
        payseg.build_features(random_data(1), **kwargs)


def test_fill_options():
    data = random_data(7, n_customers=5, with_bills=False)
    X = payseg.build_features(data)
    assert X.isna().any().any()
    assert not payseg.build_features(data, fill=0.0).isna().any().any()
    med = payseg.build_features(data, fill="median")
    col = "weekend_share"
    expected = X[col].fillna(X[col].median() if X[col].notna().any() else 0.0)
    pd.testing.assert_series_equal(med[col], expected)
    assert med["delay_days_mean"].eq(0.0).all()  # an all-NaN column becomes 0
    one = payseg.build_features(data, fill={"late_share": -1.0})
    assert one["late_share"].eq(-1.0).all()
    assert one["delay_days_mean"].isna().all()


def test_as_of_default_is_latest_payment_or_issue_and_cuts_later_rows():
    data = random_data(9, n_customers=4)
    latest = max(data.payments["paid_at"].max().normalize(),
                 data.bills.loc[data.bills["amount_due"].ne(0), "issued_on"].max())
    pd.testing.assert_frame_equal(payseg.build_features(data),
                                  payseg.build_features(data, as_of=latest))
    early = payseg.build_features(data, as_of="2024-02-01", families=["value"])
    kept = data.payments[data.payments["paid_at"] < "2024-02-02"]
    totals = kept.groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(early["amount_total"].reindex(totals.index), totals)


def test_empty_data_gives_empty_frame_with_columns():
    data = random_data(1)
    empty = payseg.PaymentData(payments=data.payments.iloc[:0],
                               bills=data.bills.iloc[:0])
    X = payseg.build_features(empty)
    assert len(X) == 0
    assert X.columns.tolist() == payseg.features.feature_names()


def test_synthetic_data_features_separate_archetypes():
    data = payseg.synth.generate(600, seed=3, months=12)
    X, dominant = payseg.build_features(data, return_dominant=True)
    assert X.index.equals(data.customers.index.sort_values())
    arch = data.truth["archetype"].reindex(X.index)
    means = X.groupby(arch.to_numpy()).mean()
    assert means.loc["auto_debit", "automatic_share"] > 0.8
    assert means.loc["chronic_late", "late_share"] > means.loc["prompt_online",
                                                               "late_share"]
    assert means.loc["counter_loyal", "counter_share"] > 0.5
    assert means[["delay_days_mean"]].loc[["prepaid_frequent"]].isna().all().all()
    assert dominant[arch == "auto_debit"].isin(["card_debit", "entrusted_debit"]).mean() \
        > 0.8


def test_loaded_export_files_build_features():
    import warnings
    from pathlib import Path

    data_dir = Path(__file__).parent / "data"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        data = payseg.load(data_dir / "export_payments.csv",
                           bills=data_dir / "export_bills.csv",
                           customers=data_dir / "export_customers.csv")
    X, dominant = payseg.build_features(data, return_dominant=True)
    assert X.index.equals(data.customer_ids)
    paying = data.payments["customer_id"].unique()
    assert X.loc[paying, "amount_total"].gt(0).all()
    expected = data.payments.groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(X.loc[expected.index, "amount_total"], expected)
    with_channel = data.payments.dropna(subset=["channel"])["customer_id"].unique()
    assert dominant.loc[with_channel].notna().all()
