"""Degenerate data says so (issue 18): customers without data, rows without any
feature, an as_of before the data, infinite values, too few customers."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import payseg
from payseg import PaymentData
from payseg.cluster import NOISE, NoFeatureWarning, Segmenter, SegmentInputError
from payseg.exceptions import PaymentDataError
from payseg.features import build_features, has_data
from payseg.features._build import check_finite


def _ids(*ids):
    return pd.Index(list(ids), dtype="str", name="customer_id")


def _payments(rows):
    """rows: (customer, paid_at, amount)."""
    cust, when, amount = zip(*rows)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(cust, dtype="str"),
            "paid_at": pd.to_datetime(list(when)),
            "channel": pd.Categorical(["alipay"] * len(rows)),
            "amount": list(amount),
        }
    )


def _blobs(n=40, seed=0):
    """Two well-separated groups of n/2 customers on three columns."""
    rng = np.random.default_rng(seed)
    values = np.r_[rng.normal(0, 1, (n // 2, 3)), rng.normal(10, 1, (n // 2, 3))]
    return pd.DataFrame(
        values,
        columns=["f0", "f1", "f2"],
        index=_ids(*[f"c{i:03d}" for i in range(n)]),
    )


# -- Segmenter: rows without any usable feature ---------------------------------------
def test_predict_rows_without_any_feature_get_noise_and_a_warning():
    X = _blobs()
    seg = Segmenter(n_clusters=2, random_state=0).fit(X)
    expected = seg.predict(X.iloc[:5]).to_numpy().copy()
    Xn = X.iloc[:5].copy()
    Xn.iloc[[0, 2]] = np.nan  # rows 0 and 2: every column NaN
    expected[[0, 2]] = NOISE
    with pytest.warns(NoFeatureWarning, match="2 of 5 rows have no usable feature"):
        got = seg.predict(Xn)
    assert got.tolist() == expected.tolist()
    assert (got.iloc[[1, 3, 4]] >= 0).all()


@pytest.mark.parametrize("method", ["kmeans", "gmm", "agglomerative"])
def test_proba_and_distances_of_rows_without_any_feature_are_nan(method):
    X = _blobs()
    seg = Segmenter(n_clusters=2, method=method, random_state=0).fit(X)
    Xn = X.iloc[:5].copy()
    Xn.iloc[[0, 2]] = np.nan  # no data: every column NaN
    full_p, full_d = seg.predict_proba(X.iloc[:5]), seg.transform(X.iloc[:5])
    with pytest.warns(NoFeatureWarning, match="2 of 5 rows .* given a row of NaN"):
        proba = seg.predict_proba(Xn)
    with pytest.warns(NoFeatureWarning, match="2 of 5 rows .* given a row of NaN"):
        dist = seg.transform(Xn)
    for got, full in ((proba, full_p), (dist, full_d)):
        assert got.shape == (5, 2)
        assert got.iloc[[0, 2]].isna().all().all()
        # the other rows are what they are without the empty ones
        np.testing.assert_allclose(got.iloc[[1, 3, 4]], full.iloc[[1, 3, 4]])
    np.testing.assert_allclose(proba.iloc[[1, 3, 4]].sum(axis=1), 1.0)
    # an array in, an array out, with the same NaN rows
    with pytest.warns(NoFeatureWarning):
        arr = seg.predict_proba(Xn.to_numpy())
    assert np.isnan(arr[[0, 2]]).all() and not np.isnan(arr[[1, 3, 4]]).any()
    # predict agrees: the NaN rows are exactly the NOISE ones
    with pytest.warns(NoFeatureWarning):
        labels = seg.predict(Xn)
    assert (labels == NOISE).tolist() == proba.isna().all(axis=1).tolist()


def test_predict_a_row_with_one_value_is_assigned():
    # one usable value is enough: the other columns are imputed, no warning
    X = _blobs()
    seg = Segmenter(n_clusters=2, random_state=0).fit(X)
    row = X.iloc[:1].copy()
    row.iloc[0, 1:] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoFeatureWarning)
        assert seg.predict(row).iloc[0] >= 0


def test_fit_leaves_rows_without_any_feature_out():
    X = _blobs()
    Xn = X.copy()
    Xn.iloc[[3, 30]] = np.nan
    with pytest.warns(NoFeatureWarning, match="2 of 40 rows .* left out of the fit"):
        seg = Segmenter(n_clusters=2, random_state=0).fit(Xn)
    # the same fit as without those rows, which get NOISE
    ref = Segmenter(n_clusters=2, random_state=0).fit(X.drop(index=X.index[[3, 30]]))
    assert seg.labels_.iloc[[3, 30]].tolist() == [NOISE, NOISE]
    pd.testing.assert_series_equal(
        seg.labels_.drop(index=X.index[[3, 30]]), ref.labels_
    )
    assert int(seg.profiles_["size"].sum()) == 38


# -- infinity ------------------------------------------------------------------------
def test_inf_in_fit_names_columns_and_rows():
    X = _blobs()
    X.iloc[0:3, 1] = np.inf  # f1: 3 rows
    X.iloc[5, 2] = -np.inf  # f2: 1 row
    msg = re.escape("2 column(s): f1 (3 row(s)), f2 (1 row(s)); 4 row(s) in all")
    with pytest.raises(SegmentInputError, match=msg):
        Segmenter(n_clusters=2).fit(X)
    with pytest.raises(SegmentInputError, match=re.escape("x1 (3 row(s))")):
        Segmenter(n_clusters=2).fit(X.to_numpy())


def test_inf_in_predict_names_the_column_and_customer():
    X = _blobs()
    seg = Segmenter(n_clusters=2, random_state=0).fit(X)
    Xi = X.iloc[:4].copy()
    Xi.loc["c002", "f0"] = -np.inf
    with pytest.raises(SegmentInputError, match=r"f0 \(1 row\(s\)\).*customers c002"):
        seg.predict(Xi)


def test_inf_only_in_an_unused_column_is_ignored():
    X = _blobs().assign(other=np.inf)
    seg = Segmenter(n_clusters=2, features=["f0", "f1", "f2"], random_state=0).fit(X)
    assert seg.labels_.nunique() == 2


# -- too few customers ---------------------------------------------------------------
TOO_FEW = [
    # 5 customers, hdbscan's default min_cluster_size max(10, 5 // 100) = 10
    (5, {"method": "hdbscan"}, r"needs at least 10 customers here .* got 5"),
    (
        5,
        {
            "method": "hdbscan",
            "method_params": {"min_cluster_size": 3, "min_samples": 7},
        },
        r"needs at least 7 customers here .*min_samples=7.* got 5",
    ),
    (5, {"n_clusters": 6}, "n_samples=5 customers is fewer than n_clusters=6"),
    (1, {}, "n_samples=1: 1 customer"),
    (0, {}, r"feature table is empty \(0 rows"),
]


@pytest.mark.parametrize(("n", "params", "match"), TOO_FEW)
def test_too_few_customers_say_how_many_and_what_is_needed(n, params, match):
    with pytest.raises(SegmentInputError, match=match):
        Segmenter(random_state=0, **params).fit(_blobs().iloc[:n])


def test_hdbscan_with_a_small_min_cluster_size_fits_five_customers():
    seg = Segmenter(
        method="hdbscan", method_params={"min_cluster_size": 2}, random_state=0
    ).fit(_blobs().iloc[[0, 1, 2, 20, 21]])
    assert len(seg.labels_) == 5


def test_one_customer_with_values_among_empty_rows_is_too_few():
    X = _blobs().iloc[:4].copy()
    X.iloc[1:] = np.nan
    with (
        pytest.warns(NoFeatureWarning),
        pytest.raises(SegmentInputError, match=r"n_samples=1: .*\(4 row\(s\) in X\)"),
    ):
        Segmenter(n_clusters=2).fit(X)


# -- build_features: as_of and infinite amounts -------------------------------------------
def _dated_data():
    """a: 2024-01-05 and 2024-02-20; b, c, d: March; one bill issued 2023-12-28."""
    pay = _payments(
        [
            ("a", "2024-01-05", 100.0),
            ("a", "2024-02-20", 120.0),
            ("b", "2024-03-01", 80.0),
            ("c", "2024-03-05", 60.0),
            ("d", "2024-03-09", 90.0),
        ]
    )
    bills = pd.DataFrame(
        {
            "customer_id": pd.Series(["a"], dtype="str"),
            "period": pd.PeriodIndex(["2023-12"], freq="M"),
            "issued_on": pd.to_datetime(["2023-12-28"]),
            "due_on": pd.to_datetime(["2024-01-25"]),
            "amount_due": [100.0],
        }
    )
    customers = pd.DataFrame(index=_ids("a", "b", "c", "d", "e"))  # e: no rows
    return PaymentData(payments=pay, bills=bills, customers=customers)


def test_as_of_before_every_row_is_an_error_naming_the_range():
    msg = re.escape(
        "The 'as_of' parameter of build_features is 2023-12-01, before every "
        "payment and bill in the data (2023-12-28 to 2024-03-09)"
    )
    with pytest.raises(InvalidParameterError, match=msg):
        build_features(_dated_data(), as_of="2023-12-01")


def test_as_of_on_the_first_day_is_accepted():
    # the bill issued 2023-12-28 counts on its issue day: a has data, b c d not yet
    with pytest.warns(UserWarning, match=r"leaves 3 of the 4 customers .*\(75%\)"):
        X = build_features(_dated_data(), as_of="2023-12-28")
    assert X.index.tolist() == ["a", "b", "c", "d", "e"]


def test_as_of_leaving_most_customers_without_data_warns():
    # on 2024-02-29 only a has paid: 3 of the 4 customers with rows have none yet
    with pytest.warns(UserWarning, match="leaves 3 of the 4 customers"):
        build_features(_dated_data(), as_of="2024-02-29")


def test_as_of_leaving_half_the_customers_does_not_warn():
    # on 2024-03-01 a and b have data, c and d not: 2 of 4 is not "most"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        build_features(_dated_data(), as_of="2024-03-01")
        build_features(_dated_data())  # e (customers table only) is not counted


def test_has_data():
    data = _dated_data()
    assert has_data(data).to_dict() == {
        "a": True,
        "b": True,
        "c": True,
        "d": True,
        "e": False,
    }
    got = has_data(data, as_of="2024-03-01")
    assert got[got].index.tolist() == ["a", "b"]


@pytest.mark.parametrize("as_of", [None, "2024-03-01"])
@pytest.mark.parametrize("seed", range(12))
def test_build_features_has_data_is_has_data(seed, as_of):
    # payseg.segment takes has_data from the build's own pass over the data: the
    # same Series as the separate has_data call, also when bills are inferred
    # (random_data has customers without bills and without payments).
    from _reference_features import random_data

    data = random_data(seed, n_customers=8, with_bills=seed % 3 != 0)
    if as_of is not None and data.payments["paid_at"].min() >= pd.Timestamp(as_of):
        as_of = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, present = build_features(data, as_of=as_of, _return_has_data=True)
        want = has_data(data, as_of=X.attrs["as_of"])
        X2 = build_features(data, as_of=as_of)
    pd.testing.assert_series_equal(present, want)
    pd.testing.assert_frame_equal(X, X2)


def test_build_features_has_data_of_a_customers_only_row():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, present = build_features(
            _dated_data(), return_dominant=True, _return_has_data=True
        )
    assert present.to_dict() == {"a": True, "b": True, "c": True, "d": True, "e": False}


def test_infinite_amount_in_a_hand_made_payment_data_is_refused():
    pay = _payments(
        [
            ("a", "2024-01-05", 100.0),
            ("b", "2024-01-06", np.inf),
            ("b", "2024-02-01", 5),
        ]
    )
    msg = re.escape("payments.amount holds 1 infinite value(s) (customers b)")
    with pytest.raises(PaymentDataError, match=msg):
        build_features(PaymentData(payments=pay))


def test_check_finite_names_the_feature_columns():
    X = pd.DataFrame(
        {"late_share": [0.1, np.inf, np.nan], "amount_total": [1.0, 2.0, -np.inf]},
        index=_ids("a", "b", "c"),
    )
    msg = re.escape(
        "2 column(s): late_share (1 row(s)), amount_total (1 row(s)); 2 customers (b, c)"
    )
    with pytest.raises(ValueError, match=msg):
        check_finite(X, "build_features")
    check_finite(X.iloc[:1], "build_features")  # finite and NaN pass


# -- segment(): customers without any payment or bill ---------------------------------
EXTRA = ["zz1", "zz2", "zz3"]  # known only from the customers table


@pytest.fixture(scope="module")
def runs():
    import dataclasses

    data = payseg.synth.generate(300, seed=1, months=12)
    extra = pd.DataFrame(index=_ids(*EXTRA))
    with_extra = dataclasses.replace(data, customers=pd.concat([data.customers, extra]))
    kw = {"n_clusters": 4, "random_state": 0, "migration": False}
    plain = payseg.segment(data, **kw)
    with pytest.warns(UserWarning, match="3 of 303 customers have no payment or bill"):
        res = payseg.segment(with_extra, **kw)
    return data, with_extra, plain, res


def test_no_data_customers_are_flagged_not_segmented(runs):
    _, _, plain, res = runs
    c = res.customers
    assert c["no_data"].dtype == bool
    assert c.index[c["no_data"]].tolist() == EXTRA
    nd = c.loc[EXTRA]
    assert (nd["segment"] == -1).all()
    for col in ("archetype", "value_class", "pyramid_tier", "credit_grade"):
        assert nd[col].isna().all(), col
    for col in ("credit_score", "warning_score", "warning_level"):
        assert nd[col].isna().all(), col
    assert nd["action"].tolist() == ["data_check"] * 3
    assert nd["name_en"].tolist() == ["no data"] * 3
    assert nd["explanation_en"].str.startswith("no data: no payment or bill").all()
    seg = res.segments
    assert seg.loc[-1, "name_en"] == "no data" and seg.loc[-1, "size"] == 3
    assert seg.loc[-1, "action"] == "data_check"
    assert res.n_no_data == 3 and "3 without data" in repr(res)
    # the clusterer never saw them: the other 300 customers are segmented,
    # graded and named exactly as without the three
    others = c.drop(index=EXTRA)
    assert not others["no_data"].any()
    assert len(res.segmenter.labels_) == 300
    for col in ("segment", "credit_grade", "name_en", "action"):
        pd.testing.assert_series_equal(others[col], plain.customers[col], obj=col)
    assert plain.n_no_data == 0 and "no_data" in plain.customers


def test_no_data_in_summary_and_report(runs, tmp_path):
    _, _, plain, res = runs
    line = "3 customers without any payment or bill (no data: not segmented)"
    assert line in res._repr_html_()
    assert "without any payment or bill" not in plain._repr_html_()
    text = res.report(tmp_path / "r.md").read_text(encoding="utf-8")
    assert "3 customers (1.0%) have no payment or bill in the data" in text


def test_predict_saved_reports_no_data(runs, tmp_path):
    from payseg._pipeline import predict_saved

    _, with_extra, _, res = runs
    res.save_model(tmp_path / "m.zip")
    got = predict_saved(tmp_path / "m.zip", with_extra)
    assert got.loc[EXTRA, "segment"].tolist() == [-1] * 3
    assert got.loc[EXTRA, "name_en"].tolist() == ["no data"] * 3
    assert got["no_data"].sum() == 3
    others = got.drop(index=EXTRA)
    assert (others["segment"] == res.customers["segment"].drop(index=EXTRA)).all()


def test_no_data_shares_the_row_with_hdbscan_noise(runs):
    _, with_extra, _, _ = runs
    with pytest.warns(UserWarning, match="3 of 303 customers"):
        res = payseg.segment(with_extra, method="hdbscan", migration=False)
    c = res.customers
    noise = (c["segment"] == -1) & ~c["no_data"]
    assert noise.sum() > 0  # this seed leaves some customers as noise
    assert c.loc[EXTRA, "segment"].tolist() == [-1] * 3
    assert res.segments.loc[-1, "name_en"] == "noise or no data"
    assert res.segments.loc[-1, "size"] == noise.sum() + 3
    # noise customers keep their grade and action; no-data ones have neither
    assert c.loc[noise, "credit_grade"].notna().all()
    assert c.loc[EXTRA, "credit_grade"].isna().all()
