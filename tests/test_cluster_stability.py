"""Bootstrap stability of segmentations."""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from payseg.cluster import Segmenter, StabilityResult, stability
from payseg.cluster._stability import _best_jaccard


def separated(n_per=80, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    X = rng.normal(size=(y.size, 3)) + 10 * np.eye(3)[y % 3] * (1 + y // 3)[:, None]
    index = pd.Index([f"c{i:05d}" for i in range(y.size)], name="customer_id")
    return pd.DataFrame(X, index=index, columns=["a", "b", "c"]), y


def test_well_separated_segments_are_stable():
    X, _ = separated()
    res = stability(
        Segmenter(n_clusters=3, random_state=0), X, n_boot=6, random_state=0
    )
    assert isinstance(res, StabilityResult)
    assert res.ari_mean == pytest.approx(1.0)
    assert (res.jaccard["mean"] > 0.99).all()
    assert (res.jaccard["dissolved"] == 0).all()
    assert res.boot_jaccard.shape == (6, 3)
    assert res.ari.shape == (6,)
    summary = res.summary()
    assert summary.loc["overall ARI", "mean"] == pytest.approx(1.0)
    assert "ari_mean=1.000" in repr(res)


def test_structureless_data_is_unstable():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(240, 4))
    res = stability(
        Segmenter(n_clusters=6, random_state=0), X, n_boot=6, random_state=1
    )
    assert res.ari_mean < 0.8
    assert res.jaccard["mean"].min() < 0.8


class CountingSegmenter(Segmenter):
    """A Segmenter that records the customers of every fit (clones share the log)."""

    fits: list = []

    def fit(self, X, y=None):
        type(self).fits.append(X.index.copy())
        return super().fit(X, y)


@pytest.fixture
def counting():
    CountingSegmenter.fits = []
    yield CountingSegmenter
    CountingSegmenter.fits = []


def test_fitted_segmenter_is_the_reference(counting):
    X, _ = separated()
    # fitted on half of X: a refit of the reference on X would change labels_
    seg = counting(n_clusters=3, random_state=0).fit(X.iloc[::2])
    labels = seg.labels_.copy()
    counting.fits.clear()
    res = stability(seg, X, n_boot=3, random_state=0)
    assert list(res.jaccard.index) == list(seg.profiles_.index)
    # the reference itself is not refitted ...
    pd.testing.assert_series_equal(seg.labels_, labels)
    # ... and each of the n_boot refits is a fit on its own bootstrap sample of X
    assert len(counting.fits) == 3
    for index in counting.fits:
        assert len(index) == len(X)
        assert index.isin(X.index).all()
        assert index.has_duplicates  # drawn with replacement
    assert len({tuple(index) for index in counting.fits}) == 3


def test_unfitted_segmenter_is_fitted_once_then_refitted(counting):
    X, _ = separated()
    stability(counting(n_clusters=3, random_state=0), X, n_boot=2, random_state=0)
    assert len(counting.fits) == 3
    assert counting.fits[0].equals(X.index)  # the reference, on X itself


def test_refits_can_disagree_with_the_reference():
    # with no structure, bootstrap refits find other segments: an ARI of 1 here
    # would mean the refits merely reused the reference model
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(240, 4)), columns=list("abcd"))
    seg = Segmenter(n_clusters=6, random_state=0).fit(X)
    res = stability(seg, X, n_boot=4, random_state=1)
    assert res.ari.max() < 0.95
    assert (res.boot_jaccard < 0.99).any().any()


def test_auto_k_and_hdbscan_refits():
    X, _ = separated(n_per=60)
    res = stability(Segmenter(random_state=0), X, n_boot=3, random_state=0)
    assert res.ari_mean == pytest.approx(1.0)
    res = stability(Segmenter(method="hdbscan"), X, n_boot=3, random_state=0)
    assert res.ari_mean > 0.9


def test_reproducible():
    X, _ = separated(seed=3)
    X.iloc[:20] += np.random.default_rng(0).normal(scale=4, size=(20, 3))
    a = stability(Segmenter(n_clusters=4, random_state=0), X, n_boot=4, random_state=7)
    b = stability(Segmenter(n_clusters=4, random_state=0), X, n_boot=4, random_state=7)
    pd.testing.assert_frame_equal(a.jaccard, b.jaccard)
    pd.testing.assert_series_equal(a.ari, b.ari)


def test_best_jaccard_reference():
    ref = np.array([0, 0, 0, 1, 1, 2])
    boot = np.array([5, 5, 7, 7, 7, 7])
    jac = _best_jaccard(ref, boot, np.array([0, 1, 2]))
    # segment 0 {0,1,2} vs boot 5 {0,1}: 2/3; segment 1 {3,4} vs 7 {2,3,4,5}: 2/4
    np.testing.assert_allclose(jac, [2 / 3, 0.5, 0.25])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"n_boot": 0},
            r"The 'n_boot' parameter of stability must be an int in the "
            r"range \[1, inf\)\. Got 0 instead\.",
        ),
        ({"n_boot": -1}, r"'n_boot' parameter of stability .* Got -1 instead"),
        ({"n_boot": 2.5}, r"'n_boot' parameter of stability .* Got 2\.5 instead"),
        ({"n_boot": True}, r"'n_boot' parameter of stability .* Got True instead"),
        ({"random_state": "x"}, r"'random_state' parameter of stability .* Got 'x'"),
        (
            {"segmenter": "kmeans"},
            r"'segmenter' parameter of stability must be an "
            r"object implementing 'fit' and 'predict'",
        ),
    ],
)
def test_wrong_params(params, match):
    X, _ = separated()
    kwargs = {"segmenter": Segmenter(n_clusters=3), "X": X, **params}
    with pytest.raises(InvalidParameterError, match=match):
        stability(**kwargs)
