"""Saving and loading a Segmenter: round trip, version warning, tampering, trust."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import Birch, KMeans

import payseg._version
from payseg.cluster import ModelFileError, ModelVersionWarning, Segmenter
from payseg.cluster._persist import read_manifest


class MyKMeans(KMeans):
    """A user's own clusterer class: not on payseg's trust list."""


def table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n // 3)
    X = rng.normal(size=(y.size, 4)) + 8 * np.eye(4)[y]
    index = pd.Index([f"{i:07d}" for i in range(y.size)], name="customer_id")
    frame = pd.DataFrame(X, index=index, columns=["late_share", "a", "b", "c"])
    frame.iloc[::10, 1] = np.nan
    frame["channel_share__alipay"] = (y == 0).astype(float)
    frame["channel_share__counter"] = (y != 0).astype(float)
    return frame


@pytest.mark.parametrize(
    "params",
    [
        {"method": "kmeans"},
        {"method": "minibatch_kmeans", "n_clusters": 3},
        {"method": "gmm", "n_clusters": 3},
        {"method": "agglomerative", "n_clusters": 3},
        {"method": "hdbscan"},
        {"method": "kprototypes", "n_clusters": 3, "features": ["a", "b", "c"]},
        {"method": "kmeans", "n_clusters": 3, "pca": 2, "scaler": "standard"},
    ],
    ids=lambda p: "-".join(f"{v}" for v in p.values()),
)
def test_round_trip(tmp_path, params):
    X = table()
    seg = Segmenter(random_state=0, **params).fit(X)
    path = tmp_path / "model.payseg"
    seg.save(path)
    back = Segmenter.load(path)
    assert back.get_params() == seg.get_params()
    pd.testing.assert_series_equal(back.labels_, seg.labels_)
    pd.testing.assert_series_equal(back.predict(X), seg.predict(X))
    pd.testing.assert_frame_equal(back.predict_proba(X), seg.predict_proba(X))
    pd.testing.assert_frame_equal(back.transform(X), seg.transform(X))
    pd.testing.assert_frame_equal(back.profiles_, seg.profiles_)
    assert back.k_reason_ == seg.k_reason_
    assert list(back.feature_names_in_) == list(seg.feature_names_in_)
    assert back.labels_.index.dtype == seg.labels_.index.dtype
    if seg.k_scores_ is not None:
        pd.testing.assert_frame_equal(back.k_scores_, seg.k_scores_)


def test_manifest_carries_version_and_features(tmp_path):
    X = table()
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    seg.save(tmp_path / "m.payseg")
    manifest = read_manifest(tmp_path / "m.payseg")
    assert manifest["payseg_version"] == payseg.__version__
    assert manifest["feature_names"] == list(seg.feature_names_in_)
    assert manifest["method"] == "kmeans"
    assert manifest["n_clusters"] == 3
    with zipfile.ZipFile(tmp_path / "m.payseg") as zf:
        assert sorted(zf.namelist()) == ["manifest.json", "segmenter.skops"]


def test_segment_names_live_in_the_manifest(tmp_path):
    X = table()
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    assert seg.segment_names_ is None
    names = pd.DataFrame(
        {"name_en": ["Online", "Counter", "Late"], "name_zh": ["线上", "柜台", "逾期"]},
        index=pd.Index([0, 1, 2], name="segment"),
    )
    path = tmp_path / "m.payseg"
    seg.save(path, segment_names=names)
    # the estimator saved is not changed by saving
    assert seg.segment_names_ is None
    manifest = read_manifest(path)
    assert manifest["segment_names"]["segment"] == [0, 1, 2]
    assert manifest["segment_names"]["columns"]["name_zh"] == ["线上", "柜台", "逾期"]
    assert manifest["features_used"] == list(seg.features_used_)
    back = Segmenter.load(path)
    pd.testing.assert_frame_equal(back.segment_names_, names, check_dtype=False)
    assert Segmenter.load(tmp_path / "m.payseg").segment_names_.index.dtype == "int64"
    seg.save(tmp_path / "plain.payseg")
    assert Segmenter.load(tmp_path / "plain.payseg").segment_names_ is None


@pytest.mark.parametrize(
    ("names", "error", "match"),
    [
        (
            pd.Series(["a"], index=[7]),
            ValueError,
            r"segment ids the model does not "
            r"have: \[7\]",
        ),
        (pd.Series(["a"], index=["x"]), ValueError, "indexed by segment id"),
        ({0: "a"}, TypeError, "segment_names must be a DataFrame or Series"),
    ],
)
def test_bad_segment_names(tmp_path, names, error, match):
    seg = Segmenter(n_clusters=3, random_state=0).fit(table())
    with pytest.raises(error, match=match):
        seg.save(tmp_path / "m.payseg", segment_names=names)


def test_numpy_fitted_round_trip(tmp_path):
    X = table().to_numpy()
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    seg.save(tmp_path / "m.payseg")
    back = Segmenter.load(tmp_path / "m.payseg")
    np.testing.assert_array_equal(back.predict(X), seg.predict(X))
    assert read_manifest(tmp_path / "m.payseg")["feature_names"] is None


def test_other_version_warns(tmp_path, monkeypatch):
    seg = Segmenter(n_clusters=3, random_state=0).fit(table())
    monkeypatch.setattr(payseg._version, "__version__", "0.0.1")
    seg.save(tmp_path / "old.payseg")
    monkeypatch.undo()
    with pytest.warns(ModelVersionWarning, match=r"saved by payseg 0\.0\.1"):
        back = Segmenter.load(tmp_path / "old.payseg")
    assert back.n_clusters_ == 3


def _rewrite(path, member, change):
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    items[member] = change(items[member])
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in items.items():
            zf.writestr(name, data)


def test_tampered_payload_is_refused(tmp_path):
    path = tmp_path / "m.payseg"
    Segmenter(n_clusters=3, random_state=0).fit(table()).save(path)

    def flip(data):
        # change one byte inside the skops zip
        i = len(data) // 2
        return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]

    _rewrite(path, "segmenter.skops", flip)
    with pytest.raises(ModelFileError, match="payload was modified or damaged"):
        Segmenter.load(path)


def test_tampered_manifest_is_refused(tmp_path):
    path = tmp_path / "m.payseg"
    Segmenter(n_clusters=3, random_state=0).fit(table()).save(path)

    def edit(data):
        manifest = json.loads(data)
        manifest["feature_names"] = ["something", "else"]
        return json.dumps(manifest).encode()

    _rewrite(path, "manifest.json", edit)
    with pytest.raises(ModelFileError, match="manifest was modified"):
        Segmenter.load(path)


def test_not_a_model_file(tmp_path):
    path = tmp_path / "x.payseg"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match="not a payseg model file"):
        Segmenter.load(path)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("other.txt", "hello")
    with pytest.raises(ModelFileError, match="not a payseg model file"):
        Segmenter.load(path)


def test_untrusted_type_needs_explicit_trust(tmp_path):
    X = table()
    seg = Segmenter(method=MyKMeans(n_init=2), n_clusters=3, random_state=0).fit(X)
    path = tmp_path / "custom.payseg"
    seg.save(path)
    with pytest.raises(
        ModelFileError, match=r"types payseg does not trust: .*MyKMeans"
    ):
        Segmenter.load(path)
    trusted = [f"{MyKMeans.__module__}.MyKMeans"]
    back = Segmenter.load(path, trusted=trusted)
    pd.testing.assert_series_equal(back.predict(X), seg.predict(X))


def test_unstorable_method_instance():
    seg = Segmenter(method=Birch(), n_clusters=3, random_state=0).fit(table())
    with pytest.raises(ModelFileError, match="skops cannot store part of it"):
        seg.save("never.payseg")


def test_save_unfitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        Segmenter().save("never.payseg")
