"""Segmenter: fitting, back-ends, automatic k, profiles, prediction, bad input."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN, Birch, KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_param_validation

from payseg.cluster import (
    NOISE,
    ClippedRobustScaler,
    NoStructureWarning,
    Segmenter,
    SegmentInputError,
)
from payseg.cluster._preprocess import DEFAULT_FEATURES


def blobs(n=600, centers=4, n_features=5, seed=0, std=1.0):
    X, y = make_blobs(
        n,
        n_features=n_features,
        centers=centers,
        cluster_std=std,
        center_box=(-20.0, 20.0),
        random_state=seed,
    )
    index = pd.Index([f"{i:06d}" for i in range(n)], name="customer_id")
    frame = pd.DataFrame(X, index=index, columns=[f"f{j}" for j in range(n_features)])
    return frame, pd.Series(y, index=index)


METHODS = ["kmeans", "minibatch_kmeans", "gmm", "agglomerative", "hdbscan"]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_recovers_blobs(method):
    X, y = blobs()
    seg = Segmenter(method=method, random_state=0).fit(X)
    assert isinstance(seg.labels_, pd.Series)
    assert seg.labels_.name == "segment"
    assert seg.labels_.index.equals(X.index)
    assert adjusted_rand_score(y, seg.labels_) > 0.95
    assert seg.n_clusters_ == 4
    pred = seg.predict(X)
    assert (pred == seg.labels_).mean() > 0.97
    proba = seg.predict_proba(X)
    assert proba.shape == (len(X), seg.n_clusters_)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba.to_numpy() >= 0).all()
    # the most probable segment is the predicted one for almost everyone
    agree = (proba.columns.to_numpy()[proba.to_numpy().argmax(axis=1)] == pred).mean()
    assert agree > 0.95
    dist = seg.transform(X)
    assert dist.shape == (len(X), seg.n_clusters_)
    assert (dist.to_numpy() >= 0).all()


def test_kprototypes_uses_dominant_channel():
    X, y = blobs(n=300, centers=3, seed=1)
    # a categorical signal from the channel shares: one channel per blob
    for j, code in enumerate(["alipay", "counter", "card_debit"]):
        X[f"channel_share__{code}"] = (y == j).astype(float)
    seg = Segmenter(
        method="kprototypes", n_clusters=3, features=["f0", "f1", "f2"], random_state=0
    ).fit(X)
    assert adjusted_rand_score(y, seg.labels_) > 0.95
    np.testing.assert_allclose(seg.predict_proba(X).sum(axis=1), 1.0)
    assert (seg.predict(X) == seg.labels_).mean() > 0.97
    assert set(seg.profiles_["dominant_channel"]) == {"alipay", "counter", "card_debit"}


def test_kprototypes_named_categorical_column():
    X, y = blobs(n=200, centers=2, seed=2)
    X["region"] = np.where(y == 0, "north", "south")
    seg = Segmenter(
        method="kprototypes",
        n_clusters=2,
        features=["f0", "f1"],
        method_params={"categorical": ["region"]},
        random_state=0,
    ).fit(X)
    assert adjusted_rand_score(y, seg.labels_) > 0.95


@pytest.mark.parametrize(
    "estimator", [KMeans(n_init=2), Birch(threshold=0.05)], ids=["KMeans", "Birch"]
)
def test_sklearn_instance_with_k(estimator):
    X, y = blobs(n=400)
    seg = Segmenter(method=estimator, random_state=0).fit(X)
    assert seg.n_clusters_ == 4
    assert adjusted_rand_score(y, seg.labels_) > 0.95
    np.testing.assert_allclose(seg.predict_proba(X).sum(axis=1), 1.0)
    # the instance given is left untouched (cloned)
    assert (
        "n_clusters" not in str(estimator) or estimator.get_params()["n_clusters"] != 4
    )


def test_sklearn_instance_without_k_keeps_noise():
    X, y = blobs(n=400, std=0.5)
    X.iloc[0] = 100.0  # a far outlier
    seg = Segmenter(method=DBSCAN(eps=2.0), scaler="none", random_state=0).fit(X)
    assert seg.labels_.iloc[0] == NOISE
    assert seg.n_clusters_ == 4
    assert seg.k_scores_ is None
    assert "DBSCAN" in seg.k_reason_


def test_hdbscan_noise_is_minus_one():
    X, _ = blobs(n=500, std=0.5)
    rng = np.random.default_rng(0)
    X.iloc[:10] = rng.uniform(-60, 60, size=(10, X.shape[1]))
    seg = Segmenter(method="hdbscan", random_state=0).fit(X)
    assert NOISE == -1
    assert (seg.labels_.iloc[:10] == NOISE).sum() >= 8
    assert NOISE not in seg.profiles_.index[seg.profiles_.index >= 0]
    assert NOISE in seg.profiles_.index
    assert "noise" in seg.k_reason_
    # approximate_predict sends far points to noise as well
    assert (seg.predict(X.iloc[:10]) == NOISE).sum() >= 8


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("centers", [3, 6])
def test_auto_k_finds_planted_blobs(seed, centers):
    # centres at equal distances (no blobs nested in pairs, where the silhouette
    # rightly prefers the coarser split)
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(centers), 150)
    X = rng.normal(size=(y.size, 6)) + 12 * np.eye(6)[y] + rng.uniform(-5, 5, 6)
    seg = Segmenter(random_state=seed).fit(X)
    assert seg.n_clusters_ == centers, seg.k_reason_
    assert adjusted_rand_score(y, seg.labels_) > 0.95


def test_k_scores_and_reason():
    X, _ = blobs()
    seg = Segmenter(k_range=(2, 7), random_state=0).fit(X)
    scores = seg.k_scores_
    assert scores.index.tolist() == [2, 3, 4, 5, 6, 7]
    assert scores.index.name == "k"
    expected = ["silhouette", "calinski_harabasz", "davies_bouldin", "bic", "gap"]
    assert set(expected) <= set(scores.columns)
    assert scores["bic"].isna().all()  # BIC only for gmm
    assert scores["silhouette"].between(-1, 1).all()
    assert seg.k_reason_.startswith("k=4:")
    assert "k=2..7" in seg.k_reason_


@pytest.mark.parametrize(
    ("method", "selection"),
    [
        ("kmeans", "silhouette"),
        ("kmeans", "calinski_harabasz"),
        ("kmeans", "davies_bouldin"),
        ("kmeans", "gap"),
        ("kmeans", "elbow"),
        ("gmm", "bic"),
    ],
)
def test_every_selection_rule_finds_clear_blobs(method, selection):
    X, _ = blobs(n=500, std=0.6)
    seg = Segmenter(
        method=method, selection=selection, k_range=(2, 8), random_state=0
    ).fit(X)
    assert seg.n_clusters_ == 4, seg.k_reason_
    if selection == "bic":
        assert seg.k_scores_["bic"].notna().all()
        assert "bic" in seg.k_reason_


def test_separated_blobs_have_structure():
    X, y = blobs(n=400, std=0.8)
    seg = Segmenter(k_range=(2, 8), random_state=0).fit(X)
    assert seg.n_clusters_ == 4, seg.k_reason_
    assert seg.no_structure_ is False
    assert seg.structure_["structured"]
    assert seg.structure_["silhouette_excess"] > 0.3
    assert seg.structure_["reason"].startswith("segment structure:")
    assert "No clear segment structure" not in seg.k_reason_
    table = seg.null_scores_
    assert table.index.tolist() == seg.k_scores_.index.tolist()
    assert {"log_w", "null_silhouette", "silhouette_excess"} <= set(table.columns)
    assert not {"log_w", "null_silhouette"} & set(seg.k_scores_.columns)


@pytest.mark.parametrize("n_features", [2, 6])
def test_uniform_noise_has_no_structure(n_features):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, n_features))
    with pytest.warns(NoStructureWarning, match="no clear segment structure"):
        seg = Segmenter(k_range=(2, 8), random_state=0).fit(X)
    assert seg.no_structure_ is True
    assert not seg.structure_["structured"]
    assert "No clear segment structure" in seg.k_reason_
    assert seg.n_clusters_ >= 2  # segments are still returned


def test_one_gaussian_has_no_structure():
    X = np.random.default_rng(1).normal(size=(400, 4))
    with pytest.warns(NoStructureWarning, match="no clear segment structure"):
        seg = Segmenter(k_range=(2, 6), random_state=0).fit(X)
    assert seg.no_structure_ is True


def test_structure_not_tested_for_a_given_k():
    X, _ = blobs(n=200)
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    assert seg.structure_ is None
    assert seg.no_structure_ is None
    assert seg.null_scores_ is None


def test_elbow_reason():
    X, _ = blobs(n=400, std=0.6)
    seg = Segmenter(selection="elbow", k_range=(2, 8), random_state=0).fit(X)
    assert seg.n_clusters_ == 4
    assert seg.k_reason_.startswith("k=4: elbow")


def test_auto_k_uses_a_subsample_when_large():
    X, y = blobs(n=1000)
    seg = Segmenter(sample_size=200, k_range=(2, 6), random_state=0).fit(X)
    assert "sample of 200" in seg.k_reason_
    assert seg.n_clusters_ == 4
    assert adjusted_rand_score(y, seg.labels_) > 0.95


def test_fixed_k_and_reproducibility():
    X, _ = blobs()
    a = Segmenter(n_clusters=5, random_state=3).fit(X)
    b = Segmenter(n_clusters=5, random_state=3).fit(X)
    assert a.n_clusters_ == 5
    assert a.k_scores_ is None
    assert a.k_reason_ == "k=5: n_clusters=5 was given."
    pd.testing.assert_series_equal(a.labels_, b.labels_)


def test_profiles():
    X, y = blobs(n=300, centers=3)
    X["channel_share__alipay"] = (y == 0).astype(float)
    X["channel_share__counter"] = (y != 0).astype(float)
    seg = Segmenter(n_clusters=3, features=["f0", "f1"], random_state=0).fit(X)
    prof = seg.profiles_
    assert prof.index.name == "segment"
    assert prof["size"].sum() == 300
    assert prof["share"].sum() == pytest.approx(1.0)
    expected_median = X.groupby(seg.labels_)["f0"].median()
    np.testing.assert_allclose(prof["median__f0"], expected_median)
    expected_mean = X.groupby(seg.labels_)["f1"].mean()
    np.testing.assert_allclose(prof["mean__f1"], expected_mean)
    assert "median__f2" not in prof  # only the features used
    assert sorted(prof["dominant_channel"].value_counts().tolist()) == [1, 2]


def test_nan_features_and_preprocessor():
    X, y = blobs(n=400)
    # scattered NaN (the indicator column is unscaled 0/1, so a small share of
    # missing values does not make a segment of its own at fixed k)
    X.iloc[::20, 1] = np.nan
    seg = Segmenter(n_clusters=4, random_state=0).fit(X)
    assert isinstance(seg.preprocessor_, Pipeline)
    Z = seg.preprocessor_.transform(X.to_numpy())
    assert not np.isnan(Z).any()
    assert Z.shape[1] == X.shape[1] + 1  # one indicator column for f1
    np.testing.assert_array_equal(np.unique(Z[:, -1]), [0.0, 1.0])
    assert adjusted_rand_score(y, seg.labels_) > 0.9
    assert seg.predict(X.iloc[:5]).notna().all()


@pytest.mark.parametrize("scaler", ["robust", "standard", "none"])
def test_scalers_and_pca(scaler):
    X, y = blobs(n=400)
    seg = Segmenter(n_clusters=4, scaler=scaler, pca=3, random_state=0).fit(X)
    assert seg.preprocessor_.named_steps["pca"].n_components_ == 3
    assert seg.transform(X).shape == (400, 4)
    assert adjusted_rand_score(y, seg.labels_) > 0.95


def test_clipped_robust_scaler_spread_never_collapses():
    X = np.zeros((100, 3))
    X[:10, 0] = 1.0  # IQR 0: sklearn's RobustScaler would leave it unscaled
    X[:, 1] = np.arange(100)
    X[99, 1] = 1e6  # one far outlier must not set the scale
    X[:, 2] = 7.0  # constant: scale 1
    sc = ClippedRobustScaler(clip=None).fit(X)
    q5, q95 = np.percentile(X[:, 0], [5, 95])
    assert sc.scale_[0] == pytest.approx((q95 - q5) / 3.290)
    q = np.percentile(X[:, 1], [1, 5, 25, 75, 95, 99])
    expected = max((q[3] - q[2]) / 1.349, (q[4] - q[1]) / 3.290, (q[5] - q[0]) / 4.653)
    assert sc.scale_[1] == pytest.approx(expected)
    assert sc.scale_[2] == 1.0
    np.testing.assert_allclose(sc.center_, np.median(X, axis=0))
    Z = ClippedRobustScaler().fit(X).transform(X)
    assert Z.max() == 2.0
    assert Z[99, 1] == 2.0
    assert Z[:, 2].tolist() == [0.0] * 100


def test_scaler_instance():
    X, y = blobs(n=300, centers=3)
    seg = Segmenter(
        n_clusters=3, scaler=ClippedRobustScaler(clip=None), random_state=0
    ).fit(X)
    step = seg.preprocessor_.named_steps["features"].transformer_list[0][1]
    assert step.named_steps["scale"].clip is None
    assert adjusted_rand_score(y, seg.labels_) > 0.95


def test_numpy_in_numpy_out():
    X, y = blobs(n=300, centers=3)
    seg = Segmenter(n_clusters=3, random_state=0).fit(X.to_numpy())
    assert isinstance(seg.labels_, np.ndarray)
    assert isinstance(seg.predict(X.to_numpy()), np.ndarray)
    assert isinstance(seg.predict_proba(X.to_numpy()), np.ndarray)
    assert not hasattr(seg, "feature_names_in_")
    assert seg.n_features_in_ == 5
    assert list(seg.profiles_.columns[:3]) == ["size", "share", "median__x0"]


def test_default_features_on_a_payseg_table():
    X, y = blobs(n=300, centers=3, n_features=4)
    X.columns = ["late_share", "online_share", "delay_days_median", "amount_total"]
    X["customer_note"] = "text is fine when not selected"
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    # n_features_in_/feature_names_in_ describe X; features_used_ the selection
    assert seg.n_features_in_ == 5
    assert list(seg.feature_names_in_) == list(X.columns)
    assert list(seg.features_used_) == [c for c in DEFAULT_FEATURES if c in X.columns]
    assert "amount_total" not in seg.features_used_
    # predict needs only the used columns, in any order
    assert (
        seg.predict(X[["online_share", "delay_days_median", "late_share"]])
        == seg.labels_
    ).all()


def test_constant_and_nan_columns_are_inert_by_default():
    X, y = blobs(n=300, centers=3)
    X["const"] = 1.0
    X["empty"] = np.nan
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    assert adjusted_rand_score(y, seg.labels_) > 0.95


def test_bool_columns_count_as_numbers():
    X, y = blobs(n=200, centers=2)
    X["flag"] = y.astype(bool)
    seg = Segmenter(n_clusters=2, random_state=0).fit(X)
    assert "flag" in seg.features_used_
    assert adjusted_rand_score(y, seg.labels_) > 0.95


# -- bad input -----------------------------------------------------------------------
def _table():
    X, _ = blobs(n=60, centers=2)
    return X


BAD_FIT = [
    (lambda X: X.iloc[:0], {}, "feature table is empty"),
    (lambda X: X.iloc[:, :0], {}, "feature table is empty"),
    (lambda X: X.iloc[:3], {"n_clusters": 4}, "fewer than n_clusters=4"),
    (lambda X: X.iloc[:1], {}, "n_samples=1"),
    (lambda X: X.iloc[:2], {"k_range": (3, 5)}, "too few for k_range"),
    (
        lambda X: X.assign(f1=np.nan),
        {"features": ["f0", "f1"]},
        r"no information \(all-NaN: \['f1'\]",
    ),
    (
        lambda X: X.assign(f2=3.0),
        {"features": ["f0", "f2"]},
        r"constant: \['f2'\]",
    ),
    (
        lambda X: X.assign(f0=1.0, f1=1.0, f2=1.0, f3=1.0, f4=np.nan),
        {},
        "every feature column is all-NaN or constant",
    ),
    (
        lambda X: X.assign(region="north"),
        {},
        r"non-numeric feature column\(s\): 'region' \(str\)",
    ),
    (
        lambda X: X.assign(when=pd.Timestamp("2024-01-01")),
        {},
        r"'when' \(datetime64",
    ),
    (lambda X: X, {"features": ["f0", "f9"]}, r"not in X: \['f9'\]"),
    (
        lambda X: X,
        {"method": "kprototypes"},
        "kprototypes' needs categorical columns",
    ),
]


@pytest.mark.parametrize(("make", "params", "match"), BAD_FIT)
def test_fit_errors(make, params, match):
    X = make(_table())
    with pytest.raises(SegmentInputError, match=match):
        Segmenter(**params).fit(X)


def test_infinity_is_refused():
    # payseg's own check before scikit-learn's: names the column and the row count
    # (NaN is allowed, infinity is not); all 60 rows of f0 are inf
    with pytest.raises(SegmentInputError, match=r"inf or -inf in 1 column\(s\): f0 "):
        Segmenter().fit(_table().assign(f0=np.inf))


def _must(param, what, got):
    return re.escape(
        f"The '{param}' parameter of Segmenter must be {what}. Got {got} instead."
    )


# as sklearn/cluster/tests/test_k_means.py::test_wrong_params: the parameter, what it
# accepts and the value given, refused at fit with InvalidParameterError
WRONG_PARAMS = [
    (
        {"n_clusters": True},
        _must(
            "n_clusters", "an int in the range [1, inf) or a str among {'auto'}", "True"
        ),
    ),
    (
        {"n_clusters": 0},
        _must(
            "n_clusters", "an int in the range [1, inf) or a str among {'auto'}", "0"
        ),
    ),
    (
        {"n_clusters": 2.0},
        r"'n_clusters' parameter of Segmenter must be an int .* "
        r"Got 2\.0 instead",
    ),
    ({"n_clusters": "many"}, r"'n_clusters' .* Got 'many' instead"),
    (
        {"pca": "x"},
        r"The 'pca' parameter of Segmenter must be an int in the range "
        r"\[1, inf\), a float in the range \(0\.0, 1\.0\), a str "
        r"among \{'mle'\} or None\. Got 'x' instead\.",
    ),
    ({"pca": True}, r"'pca' parameter of Segmenter .* Got True instead"),
    ({"pca": 1.5}, r"'pca' parameter of Segmenter .* Got 1\.5 instead"),
    ({"pca": 0}, r"'pca' parameter of Segmenter .* Got 0 instead"),
    (
        {"method": "kmean"},
        r"'method' parameter of Segmenter must be a str among "
        r"\{.*'kmeans'.*\} or an object implementing 'fit' and "
        r"'get_params'\. Got 'kmean' instead",
    ),
    ({"method": 42}, r"'method' parameter .* Got 42 instead"),
    (
        {"scaler": "minmax"},
        r"'scaler' parameter of Segmenter must be a str among "
        r"\{.*'robust'.*\} or an object implementing 'fit' and "
        r"'transform'\. Got 'minmax' instead",
    ),
    ({"scaler": 3}, r"'scaler' parameter .* Got 3 instead"),
    (
        {"selection": "knee"},
        r"'selection' parameter of Segmenter must be a str "
        r"among \{.*'parsimonious'.*\}\. Got 'knee' instead",
    ),
    (
        {"k_range": 5},
        r"'k_range' parameter of Segmenter must be an instance of "
        r"'tuple' or an instance of 'list'\. Got 5 instead",
    ),
    (
        {"k_range": (1, 5)},
        _must(
            "k_range",
            "a pair (k_min, k_max) of ints with 2 <= k_min <= k_max",
            "(1, 5)",
        ),
    ),
    ({"k_range": (6, 5)}, r"'k_range' .* Got \(6, 5\) instead"),
    ({"k_range": (2, 5, 8)}, r"'k_range' .* Got \(2, 5, 8\) instead"),
    ({"k_range": (2.0, 5)}, r"'k_range' .* Got \(2\.0, 5\) instead"),
    ({"sample_size": 10}, _must("sample_size", "an int in the range [100, inf)", "10")),
    (
        {"method_params": [1]},
        r"'method_params' parameter of Segmenter must be an "
        r"instance of 'dict' or None\. Got \[1\] instead",
    ),
    (
        {"features": 3},
        r"'features' parameter of Segmenter must be an array-like, "
        r"an instance of 'str' or None\. Got 3 instead",
    ),
    ({"random_state": "seed"}, r"'random_state' parameter .* Got 'seed' instead"),
    ({"selection": "bic"}, "selection='bic' needs method='gmm'"),
    ({"method": "hdbscan", "n_clusters": 3}, "finds the number of segments itself"),
    # back-end parameters are validated by the back-end estimator (nested
    # validation is not skipped: see Segmenter.fit)
    ({"method_params": {"n_init": 0}}, r"The 'n_init' parameter of KMeans must be"),
]


@pytest.mark.parametrize(("params", "match"), WRONG_PARAMS)
def test_wrong_params(params, match):
    X = _table()
    with pytest.raises(InvalidParameterError, match=match):
        Segmenter(**params).fit(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"clip": 0},
            r"The 'clip' parameter of ClippedRobustScaler must be a float "
            r"in the range \(0\.0, inf\) or None\. Got 0 instead\.",
        ),
        ({"clip": -1.0}, r"'clip' parameter .* Got -1\.0 instead"),
        ({"clip": "2"}, r"'clip' parameter .* Got '2' instead"),
    ],
)
def test_wrong_params_clipped_robust_scaler(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        ClippedRobustScaler(**params).fit(np.ones((5, 2)))


def test_parameter_constraints_pass_sklearn_param_validation_check():
    # the check scikit-learn runs on its own estimators: every constraint is
    # enforced at fit and each invalid value gives InvalidParameterError
    for est in (Segmenter(n_clusters=2, random_state=0), ClippedRobustScaler()):
        check_param_validation(type(est).__name__, est)


def test_features_with_numpy_input():
    with pytest.raises(SegmentInputError, match="X must be a DataFrame"):
        Segmenter(features=["f0"]).fit(_table().to_numpy())


def test_parameter_errors_are_value_errors():
    # InvalidParameterError is a ValueError (and a TypeError), so code catching
    # ValueError keeps working; input errors stay SegmentInputError
    with pytest.raises(ValueError, match="'method' parameter of Segmenter"):
        Segmenter(method="nope").fit(_table())
    assert issubclass(SegmentInputError, ValueError)


def test_predict_on_other_columns_shows_the_difference():
    X = _table()
    seg = Segmenter(n_clusters=2, random_state=0).fit(X)
    other = X.rename(columns={"f1": "f_1"}).drop(columns="f4")
    with pytest.raises(
        SegmentInputError,
        match=r"differ from fit: missing \['f1', 'f4'\]; not seen at fit \['f_1'\] "
        r"\(did you mean 'f1' -> 'f_1'\?\)",
    ):
        seg.predict(other)
    with pytest.raises(SegmentInputError, match="differ from fit"):
        seg.predict_proba(other)
    with pytest.raises(SegmentInputError, match="differ from fit"):
        seg.transform(other)


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        Segmenter().predict(_table())


@pytest.mark.parametrize("as_frame", [False, True])
def test_hdbscan_all_noise_is_a_result(as_frame):
    # as scikit-learn's HDBSCAN: every customer labelled NOISE, no error
    X = np.random.default_rng(0).uniform(size=(40, 5))
    if as_frame:
        X = pd.DataFrame(X, columns=[f"f{j}" for j in range(5)])
    seg = Segmenter(method="hdbscan", method_params={"min_cluster_size": 30}).fit(X)
    assert (np.asarray(seg.labels_) == NOISE).all()
    assert seg.n_clusters_ == 0
    assert seg.k_reason_.startswith("k=0: found by hdbscan (40 customers left as noise")
    assert "lower min_cluster_size" in seg.k_reason_
    assert seg.profiles_.index.tolist() == [NOISE]
    assert (np.asarray(seg.predict(X)) == NOISE).all()
    assert seg.transform(X).shape == (40, 0)
    assert seg.predict_proba(X).shape == (40, 0)
    assert seg.get_feature_names_out().tolist() == []


def test_transform_columns_are_feature_names_out():
    X, _ = blobs(n=200, centers=3)
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    dist = seg.transform(X)
    names = seg.get_feature_names_out()
    assert names.tolist() == ["segmenter0", "segmenter1", "segmenter2"]
    assert dist.columns.tolist() == names.tolist()
    assert dist.index.equals(X.index)
    # the same names through scikit-learn's set_output, for array input too
    seg = Segmenter(n_clusters=3, random_state=0).fit(X.to_numpy())
    seg.set_output(transform="pandas")
    assert seg.transform(X.to_numpy()).columns.tolist() == names.tolist()


def test_n_features_in_is_the_width_of_x():
    X, _ = blobs(n=200, centers=3)
    X["note"] = "text, not used"
    seg = Segmenter(n_clusters=3, features=["f0", "f2"], random_state=0).fit(X)
    assert seg.n_features_in_ == 6
    assert seg.feature_names_in_.tolist() == [*(f"f{j}" for j in range(5)), "note"]
    assert seg.features_used_.tolist() == ["f0", "f2"]
    # a DataFrame at predict needs the used columns only, in any order
    pd.testing.assert_series_equal(seg.predict(X[["f2", "f0"]]), seg.labels_)
    # an array needs every column seen at fit
    with (
        pytest.warns(UserWarning, match="X does not have valid feature names"),
        pytest.raises(
            ValueError,
            match="X has 2 features, but Segmenter is expecting 6 features as input",
        ),
    ):
        seg.predict(X[["f0", "f2"]].to_numpy())


def test_n_features_in_with_array_input():
    X, _ = blobs(n=200, centers=3)
    seg = Segmenter(n_clusters=3, random_state=0).fit(X.to_numpy())
    assert seg.n_features_in_ == 5
    assert seg.features_used_.tolist() == ["x0", "x1", "x2", "x3", "x4"]
