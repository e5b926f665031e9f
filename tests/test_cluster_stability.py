"""Bootstrap stability of segmentations."""

import numpy as np
import pandas as pd
import pytest

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


def test_fitted_segmenter_is_the_reference():
    X, _ = separated()
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    res = stability(seg, X, n_boot=3, random_state=0)
    assert list(res.jaccard.index) == list(seg.profiles_.index)
    # the segmenter itself is not refitted
    assert seg.n_clusters_ == 3


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


@pytest.mark.parametrize("n_boot", [0, -1, 2.5])
def test_bad_n_boot(n_boot):
    X, _ = separated()
    with pytest.raises(ValueError, match="n_boot must be a positive int"):
        stability(Segmenter(n_clusters=3), X, n_boot=n_boot)
