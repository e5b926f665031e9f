"""build_features API: families, fill, as_of, errors, invariances, blocks, synth."""

from unittest import mock

import numpy as np
import pandas as pd
import pytest
from _reference_features import (
    assert_frame_close,
    assume_as_of_not_before_data,
    random_data,
    reference_features,
)
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import payseg
from payseg import channels
from payseg._sklearn_compat import InvalidParameterError
from payseg.features import _arrays, _block, _grouping


def _shuffled(data, seed):
    rng = np.random.default_rng(seed)
    pay = data.payments.iloc[rng.permutation(len(data.payments))]
    bills = data.bills.iloc[rng.permutation(len(data.bills))]
    return payseg.PaymentData(
        payments=pay.reset_index(drop=True),
        bills=bills.reset_index(drop=True),
        customers=data.customers.iloc[::-1],
    )


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
    assume_as_of_not_before_data(data, as_of)  # refused (tests/test_degenerate.py)
    both = payseg.PaymentData(
        payments=pd.concat([data.payments, extra.payments], ignore_index=True),
        bills=pd.concat([data.bills, extra.bills], ignore_index=True),
        customers=data.customers,
    )
    X = payseg.build_features(data, as_of=as_of, calendar=False)
    Y = payseg.build_features(both, as_of=as_of, calendar=False)
    assert "zz_new" in Y.index or (len(extra.payments) + len(extra.bills) == 0)
    assert_frame_close(Y.loc[X.index], X)


def test_channel_alias_renaming_does_not_change_features():
    data = random_data(11, n_customers=5)
    X = payseg.build_features(data)
    raw = (
        data.payments["channel"]
        .astype(object)
        .map(
            {"alipay": "支付宝生活缴费", "counter": "营业厅", "card_debit": "银行代扣"}
        )
        .fillna(data.payments["channel"].astype(object))
    )
    resolved, unknown = channels.resolve(raw)
    assert not unknown[data.payments["channel"].notna().to_numpy()].any()
    renamed = payseg.PaymentData(
        payments=data.payments.assign(channel=resolved),
        bills=data.bills,
        customers=data.customers,
    )
    pd.testing.assert_frame_equal(payseg.build_features(renamed), X)


def test_registering_a_new_alias_then_loading_gives_same_features():
    channels.register("alipay", aliases=["支付宝APP缴费测试"])
    data = random_data(5)
    raw = (
        data.payments["channel"].astype(object).replace({"alipay": "支付宝APP缴费测试"})
    )
    resolved, _ = channels.resolve(raw)
    renamed = payseg.PaymentData(
        payments=data.payments.assign(channel=resolved),
        bills=data.bills,
        customers=data.customers,
    )
    pd.testing.assert_frame_equal(
        payseg.build_features(renamed), payseg.build_features(data)
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), rows=st.integers(1, 12))
def test_blocks_of_customers_give_the_same_result(seed, rows):
    data = random_data(seed)
    X, dom = payseg.build_features(data, return_dominant=True)
    with mock.patch.object(_block, "BLOCK_ROWS", rows):
        Y, dom_y = payseg.build_features(data, return_dominant=True)
        Z, dom_z = payseg.build_features(data, return_dominant=True, n_jobs=2)
    pd.testing.assert_frame_equal(X, Y)
    pd.testing.assert_series_equal(dom, dom_y)
    pd.testing.assert_frame_equal(X, Z)
    pd.testing.assert_series_equal(dom, dom_z)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    rows=st.integers(1, 8),
    shuffle=st.booleans(),
    as_of=st.sampled_from([None, "2024-05-15"]),
)
def test_small_blocks_match_the_reference(seed, rows, shuffle, as_of):
    # The oracle tests run on a few customers, all in one default block; here blocks
    # of a few rows cut between customers (and, for unsorted files, through the
    # grouping of rows by block), and every family is compared with the slow loop.
    data = random_data(seed, n_customers=8)
    if shuffle:
        data = _shuffled(data, seed)
    with mock.patch.object(_block, "BLOCK_ROWS", rows):
        edges = _block.Context(data, as_of=as_of).block_edges()
        X, dominant = payseg.build_features(
            data, as_of=as_of, return_dominant=True, calendar=False
        )
    assume(sum(c1 > c0 for c0, c1 in edges) > 2)
    ref, ref_dominant = reference_features(data, as_of=as_of)
    assert sorted(X.columns) == sorted(ref.columns)
    assert_frame_close(X, ref)
    assert dominant.index.equals(X.index)
    assert dominant.fillna("-").tolist() == ref_dominant.fillna("-").tolist()


def test_index_is_all_customers_sorted_and_columns_are_float():
    data = random_data(2, n_customers=5)
    X = payseg.build_features(data)
    ids = sorted(
        set(data.payments["customer_id"])
        | set(data.bills["customer_id"])
        | set(data.customers.index)
    )
    assert X.index.tolist() == ids
    assert X.index.name == "customer_id"
    assert (X.dtypes == "float64").all()
    fixed = payseg.features.feature_names()
    shares = [c for c in X.columns if c.startswith("channel_share__")]
    assert [c for c in X.columns if c not in shares] == fixed
    # per-channel shares follow the channel family's fixed columns
    start = X.columns.get_loc("channel_migration") + 1
    assert X.columns.tolist()[start : start + len(shares)] == shares


def test_families_subset_keeps_family_order():
    data = random_data(4)
    X = payseg.build_features(data, families=["value", "timing"])
    names = payseg.features.feature_names(["timing", "value"])
    assert X.columns.tolist() == names
    full = payseg.build_features(data)
    pd.testing.assert_frame_equal(X, full[names])


_DATA = random_data(1)


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"data": _DATA.payments},
            r"The 'data' parameter of build_features must be a payseg.PaymentData; got a "
            r"pandas DataFrame with columns \[customer_id, paid_at, .*\]\. Call "
            r"payseg.load\(df\) first",
        ),
        (
            {"data": {"payments": None}},
            r"must be a payseg.PaymentData; got an object of type dict\. Build one with "
            r"payseg.load",
        ),
        (
            {"families": ["timing", "astrology"]},
            "unknown feature family 'astrology'; choose from timing, channel",
        ),
        (
            {"families": "astrology"},
            r"The 'families' parameter of build_features must be None, a str among .*"
            r"Got 'astrology' instead",
        ),
        ({"families": 3}, r"The 'families' parameter .* Got 3 instead"),
        (
            {"as_of": "not a date"},
            r"The 'as_of' parameter of build_features must be a date such as "
            r"'2024-06-30' or a Timestamp; got 'not a date'",
        ),
        (
            {"as_of": 20240101},
            r"The 'as_of' parameter of build_features must be None, an instance of "
            r"'str'.* Got 20240101 instead",
        ),
        ({"as_of": pd.NaT}, r"'as_of' parameter of build_features is NaT; pass None"),
        (
            {"fill": "mean"},
            r"The 'fill' parameter of build_features must be None, an instance of "
            r"'float', a str among \{'median'\} .* Got 'mean' instead",
        ),
        ({"fill": {"no_such_column": 0}}, "fill names unknown column 'no_such_column'"),
        (
            {"late_fee_rate": -0.001},
            r"The 'late_fee_rate' parameter of build_features must be a float in the "
            r"range \[0.0, inf\)\. Got -0.001 instead",
        ),
        ({"late_fee_min": "1"}, r"The 'late_fee_min' parameter .* Got '1' instead"),
        (
            {"trend_periods": -1},
            r"The 'trend_periods' parameter of build_features must be an int in the "
            r"range \[1, inf\)\. Got -1 instead",
        ),
        ({"trend_periods": 2.5}, r"The 'trend_periods' parameter .* Got 2.5 instead"),
        ({"recent_periods": 0}, r"The 'recent_periods' parameter .* Got 0 instead"),
        (
            {"return_dominant": "yes"},
            r"The 'return_dominant' parameter of build_features must be an instance of "
            r"'bool'.* Got 'yes' instead",
        ),
        (
            {"n_jobs": 0},
            r"The 'n_jobs' parameter of build_features must be None, a positive int or "
            r"a negative int \(-1 for every core\); got 0",
        ),
        (
            {"n_jobs": 1.5},
            r"The 'n_jobs' parameter of build_features must be an instance of 'int' or "
            r"None\. Got 1.5 instead",
        ),
    ],
)
def test_wrong_params(params, match):
    params = {"data": _DATA, **params}
    # scikit-learn's error is both a ValueError and a TypeError
    with pytest.raises(InvalidParameterError, match=match) as info:
        payseg.build_features(**params)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_dominant_channel_refuses_a_dataframe_with_the_fix():
    with pytest.raises(
        InvalidParameterError,
        match=r"'data' parameter of dominant_channel .* Call "
        r"payseg.load\(df\) first",
    ):
        payseg.features.dominant_channel(_DATA.payments)


def test_fill_options():
    data = random_data(7, n_customers=5, with_bills=False)
    X = payseg.build_features(data, calendar=False)
    assert X.isna().any().any()
    assert not payseg.build_features(data, fill=0.0, calendar=False).isna().any().any()
    med = payseg.build_features(data, fill="median", calendar=False)
    col = "weekend_share"
    expected = X[col].fillna(X[col].median() if X[col].notna().any() else 0.0)
    pd.testing.assert_series_equal(med[col], expected)
    assert med["delay_days_mean"].eq(0.0).all()  # an all-NaN column becomes 0
    one = payseg.build_features(data, fill={"late_share": -1.0}, calendar=False)
    assert one["late_share"].eq(-1.0).all()
    assert one["delay_days_mean"].isna().all()


def test_as_of_default_is_latest_payment_or_issue_and_cuts_later_rows():
    data = random_data(9, n_customers=4)
    latest = max(
        data.payments["paid_at"].max().normalize(),
        data.bills.loc[data.bills["amount_due"].ne(0), "issued_on"].max(),
    )
    pd.testing.assert_frame_equal(
        payseg.build_features(data), payseg.build_features(data, as_of=latest)
    )
    early = payseg.build_features(data, as_of="2024-02-01", families=["value"])
    kept = data.payments[data.payments["paid_at"] < "2024-02-02"]
    totals = kept.groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(early["amount_total"].reindex(totals.index), totals)


def test_empty_data_gives_empty_frame_with_columns():
    data = random_data(1)
    empty = payseg.PaymentData(
        payments=data.payments.iloc[:0], bills=data.bills.iloc[:0]
    )
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
    assert (
        means.loc["chronic_late", "late_share"]
        > means.loc["prompt_online", "late_share"]
    )
    assert means.loc["counter_loyal", "counter_share"] > 0.5
    assert means[["delay_days_mean"]].loc[["prepaid_frequent"]].isna().all().all()
    assert (
        dominant[arch == "auto_debit"].isin(["card_debit", "entrusted_debit"]).mean()
        > 0.8
    )


def test_loaded_export_files_build_features():
    import warnings
    from pathlib import Path

    data_dir = Path(__file__).parent / "data"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        data = payseg.load(
            data_dir / "export_payments.csv",
            bills=data_dir / "export_bills.csv",
            customers=data_dir / "export_customers.csv",
        )
    X, dominant = payseg.build_features(data, return_dominant=True)
    assert X.index.equals(data.customer_ids)
    paying = data.payments["customer_id"].unique()
    assert X.loc[paying, "amount_total"].gt(0).all()
    expected = data.payments.groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(X.loc[expected.index, "amount_total"], expected)
    with_channel = data.payments.dropna(subset=["channel"])["customer_id"].unique()
    assert dominant.loc[with_channel].notna().all()


def _exactly_equal(a: pd.DataFrame, b: pd.DataFrame):
    """Same index, columns and float64 bits (NaN == NaN): no tolerance at all."""
    assert a.index.equals(b.index)
    assert a.columns.tolist() == b.columns.tolist()
    x, y = a.to_numpy(dtype=np.float64), b.to_numpy(dtype=np.float64)
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    bad = [c for c, ok in zip(a.columns, same.all(axis=0)) if not ok]
    assert not bad, f"columns differ in value or last bits: {bad}"


def _customers_subset(data, keep):
    return payseg.PaymentData(
        payments=data.payments[data.payments["customer_id"].isin(keep)].reset_index(
            drop=True
        ),
        bills=data.bills[data.bills["customer_id"].isin(keep)].reset_index(drop=True),
        customers=data.customers.loc[data.customers.index.isin(keep)],
    )


@pytest.mark.parametrize("block_rows", [None, 500])
def test_subset_of_customers_gives_bit_identical_rows(block_rows):
    # Out-of-core buckets compute features for a subset of customers; every column,
    # amount_trend included, must not depend on which other customers were computed
    # alongside (no BLAS or blocked reductions across customers).
    data = payseg.synth.generate(400, seed=5, months=14)
    as_of = payseg.features.default_as_of(data)
    rng = np.random.default_rng(0)
    ids = data.customers.index.to_numpy()
    X = payseg.build_features(data, as_of=as_of, calendar=False)
    with mock.patch.object(_block, "BLOCK_ROWS", block_rows or _block.BLOCK_ROWS):
        for size in (1, 7, 150):
            keep = rng.choice(ids, size=size, replace=False)
            Y = payseg.build_features(
                _customers_subset(data, keep), as_of=as_of, calendar=False
            )
            assert Y["amount_trend"].notna().any() or size == 1
            shares = [c for c in X.columns if c.startswith("channel_share__")]
            # The subset has only its own channel columns; the others are 0 or NaN.
            missing = [c for c in shares if c not in Y.columns]
            assert X.loc[Y.index, missing].fillna(0).eq(0).all().all()
            _exactly_equal(Y, X.loc[Y.index, Y.columns])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), size=st.integers(1, 3))
def test_subset_of_random_customers_is_bit_identical(seed, size):
    data = random_data(seed, n_customers=4)
    as_of = "2024-09-30"
    X = payseg.build_features(data, as_of=as_of, calendar=False)
    keep = X.index[:size]
    sub = _customers_subset(data, keep)
    dated = [sub.payments["paid_at"]]
    if len(sub.bills):
        start = sub.bills["period"].dt.to_timestamp()
        dated.append(sub.bills["issued_on"].fillna(start))
    if len(sub.payments) + len(sub.bills) and pd.concat(dated).min() > pd.Timestamp(
        as_of
    ):
        # every row of the subset comes after as_of: refused (issue 18), not all-NaN
        with pytest.raises(InvalidParameterError, match="before every payment and"):
            payseg.build_features(sub, as_of=as_of, calendar=False)
        return
    Y = payseg.build_features(sub, as_of=as_of, calendar=False)
    _exactly_equal(Y, X.loc[Y.index, Y.columns])


def _with_ids(data, mapping):
    def rename(frame):
        return frame.assign(customer_id=frame["customer_id"].map(mapping).astype("str"))

    customers = data.customers.rename(index=mapping)
    customers.index = customers.index.astype("str").rename("customer_id")
    return payseg.PaymentData(
        payments=rename(data.payments), bills=rename(data.bills), customers=customers
    )


@pytest.mark.parametrize(
    "new_ids",
    [
        ["7", "07", "70", "007", "1", "10", "100", "0"],  # digits of several widths
        ["00012", "00003", "10000", "00100", "99999", "00000", "01000", "00010"],
        ["b", "a1", "A", "é", "a", "10", "1a", "Z9"],  # not digits: hashed strings
        # digits spread too widely for a dense table: hashed integer keys
        [
            "12345678901234",
            "00000000000001",
            "99999999999999",
            "5",
            "50000000000000",
            "12345678901233",
            "7",
            "70",
        ],
    ],
)
def test_unsorted_rows_with_any_id_shape_give_the_sorted_result(new_ids):
    data = random_data(21, n_customers=8)
    old = sorted(
        set(data.payments["customer_id"])
        | set(data.bills["customer_id"])
        | set(data.customers.index)
    )
    data = _with_ids(data, dict(zip(old, new_ids)))
    by_customer = payseg.PaymentData(
        payments=data.payments.sort_values(
            "customer_id", kind="stable", ignore_index=True
        ),
        bills=data.bills.sort_values("customer_id", kind="stable", ignore_index=True),
        customers=data.customers.sort_index(),
    )
    X = payseg.build_features(by_customer)
    assert X.index.tolist() == sorted(new_ids[: len(old)])
    by_date = payseg.PaymentData(
        payments=data.payments.sort_values("paid_at", kind="stable", ignore_index=True),
        bills=data.bills.sort_values("issued_on", kind="stable", ignore_index=True),
        customers=data.customers,
    )
    pd.testing.assert_frame_equal(payseg.build_features(by_date), X)
    pd.testing.assert_frame_equal(payseg.build_features(_shuffled(data, 3)), X)


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(
        st.text("0123456789", min_size=1, max_size=17), min_size=1, max_size=40
    )
)
def test_digit_keys_order_and_equality_match_the_strings(ids):
    import pyarrow as pa

    keys = _grouping._digit_keys(pa.chunked_array([pa.array(ids, pa.string())]))
    assert keys is not None
    # sorting by key sorts the strings; equal keys are equal strings
    assert [ids[i] for i in np.argsort(keys, kind="stable")] == sorted(ids)
    assert len(set(keys.tolist())) == len(set(ids))


def test_digit_keys_refuse_other_ids():
    import pyarrow as pa

    for ids in (["12", "1a"], ["12", ""], ["1" * 18], ["12", None], ["-1", "2"]):
        assert (
            _grouping._digit_keys(pa.chunked_array([pa.array(ids, pa.string())]))
            is None
        )


@pytest.mark.parametrize("prefix", ["", "c"])  # digit ids, hashed strings
@pytest.mark.parametrize("threaded", [False, True])
def test_customer_index_unions_tables_without_a_superset(prefix, threaded, monkeypatch):
    # threaded: the bills' ids are grouped in a second thread (large tables).
    monkeypatch.setattr(_grouping, "THREAD_ROWS", 1 if threaded else 10**9)
    data = random_data(4, n_customers=12)
    every = (
        set(data.payments["customer_id"])
        | set(data.bills["customer_id"])
        | set(data.customers.index)
    )
    data = _with_ids(data, {i: prefix + i for i in every})
    ids = sorted(set(data.payments["customer_id"]) & set(data.bills["customer_id"]))
    assert len(ids) >= 5
    pay = data.payments[data.payments["customer_id"].isin(ids[:3])]
    bills = data.bills[data.bills["customer_id"].isin(ids[2:-1])]
    customers = data.customers.iloc[[0, -1]]
    sub = payseg.PaymentData(
        payments=pay.reset_index(drop=True),
        bills=bills.reset_index(drop=True),
        customers=customers,
    )
    index, (_, pay_bounds), (_, bill_bounds) = _grouping.customer_index(sub)
    expected = sorted(
        set(pay["customer_id"]) | set(bills["customer_id"]) | set(customers.index)
    )
    assert len(expected) > max(
        pay["customer_id"].nunique(), bills["customer_id"].nunique(), len(customers)
    )
    assert index.tolist() == expected
    counts = pay["customer_id"].value_counts().reindex(expected, fill_value=0)
    assert np.diff(pay_bounds).tolist() == counts.tolist()
    counts = bills["customer_id"].value_counts().reindex(expected, fill_value=0)
    assert np.diff(bill_bounds).tolist() == counts.tolist()


def test_default_as_of_is_the_rule_build_features_uses():
    data = random_data(9, n_customers=4)
    day = payseg.features.default_as_of(data)
    assert day == day.normalize()
    pd.testing.assert_frame_equal(
        payseg.build_features(data), payseg.build_features(data, as_of=day)
    )
    # A later bill issue moves it; a zero bill or one without period does not.
    bills = data.bills.copy()
    late = pd.Timestamp("2031-05-06 13:00")
    extra = bills.iloc[:3].assign(issued_on=late, due_on=late)
    extra["amount_due"] = [0.0, 10.0, 10.0]
    extra["period"] = extra["period"].astype(object)
    extra.loc[extra.index[2], "period"] = None
    extra["period"] = extra["period"].astype(bills["period"].dtype)
    moved = payseg.PaymentData(
        payments=data.payments, bills=pd.concat([bills, extra], ignore_index=True)
    )
    assert payseg.features.default_as_of(moved) == pd.Timestamp("2031-05-06")
    zero_only = payseg.PaymentData(
        payments=data.payments,
        bills=pd.concat([bills, extra.iloc[[0, 2]]], ignore_index=True),
    )
    assert payseg.features.default_as_of(zero_only) == day
    empty = payseg.PaymentData(
        payments=data.payments.iloc[:0], bills=data.bills.iloc[:0]
    )
    assert pd.isna(payseg.features.default_as_of(empty))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    rows=st.integers(1, 40),
    cut=st.tuples(st.integers(0, 12), st.integers(0, 12)),
)
def test_context_rows_group_unsorted_files_for_any_customer_range(seed, rows, cut):
    data = _shuffled(random_data(seed, n_customers=12), seed)
    with mock.patch.object(_block, "BLOCK_ROWS", rows):
        ctx = _block.Context(data)
    c0, c1 = min(cut[0], ctx.n), min(max(cut), ctx.n)
    ids = ctx.index[c0:c1]
    for table, frame in (("pay", data.payments), ("bill", data.bills)):
        got = np.arange(len(frame))[ctx.rows(table, c0, c1)]
        position = pd.Series(np.arange(ctx.n), index=ctx.index)
        mine = frame["customer_id"].isin(ids).to_numpy()
        expected = np.flatnonzero(mine)
        # by customer in index order, each customer's rows in file order
        key = position[frame["customer_id"].to_numpy()[expected]].to_numpy()
        expected = expected[np.argsort(key, kind="stable")]
        assert got.tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just(_arrays.PERIOD_NAT),
            st.integers(min_value=-(2**62), max_value=2**62),
        ),
        max_size=40,
    ),
    st.integers(min_value=1, max_value=7),
)
def test_dated_bounds_is_the_min_and_max_of_known_values(values, chunk):
    # The obvious reference: drop the unknown values, then min and max.
    known = [v for v in values if v != _arrays.PERIOD_NAT]
    expected = (min(known), max(known)) if known else None
    got = _arrays.dated_bounds(np.array(values, dtype=np.int64), chunk=chunk)
    assert got == expected
