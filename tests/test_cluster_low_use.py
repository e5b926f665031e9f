"""LowUseShortfall: the default set's money column, taken through its low tail only."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.metrics import adjusted_rand_score

from payseg.cluster import LowUseShortfall, Segmenter
from payseg.cluster._preprocess import DEFAULT_FEATURES, LOW_USE_COLUMN


def reference(train, test, margin=1.0, slope=3.5, floor=4.0):
    """Slow, obvious version: one value at a time with math and statistics."""
    logs = [math.log1p(max(v, 0.0)) for v in train if not math.isnan(v)]
    med = statistics.median(logs) if logs else 0.0
    out = []
    for v in test:
        if math.isnan(v):
            out.append(0.0)
            continue
        short = med - margin - math.log1p(max(v, 0.0))
        out.append(-min(floor, slope * max(short, 0.0)))
    return out


def test_hand_worked_values():
    # median of log1p(900, 1000, 1100, 50) = (log1p(900) + log1p(1000)) / 2 = 6.8561
    X = np.array([[900.0], [1000.0], [1100.0], [50.0], [np.nan]])
    t = LowUseShortfall().fit(X)
    assert t.median_[0] == pytest.approx((math.log(901) + math.log(1001)) / 2)
    Z = t.transform(np.array([[1000.0], [400.0], [300.0], [50.0], [np.nan], [-5.0]]))
    # 400: log1p(400) = 5.994 > 6.856 - 1, no shortfall; 300: 3.5 * (5.856 - 5.707)
    assert Z[:, 0].tolist()[:2] == [0.0, 0.0]
    assert Z[2, 0] == pytest.approx(-3.5 * (6.856130 - 1 - math.log(301)), abs=1e-5)
    assert Z[3, 0] == -4.0  # 50 yuan: far below, at the floor
    assert Z[4, 0] == 0.0  # NaN: no evidence
    assert Z[5, 0] == -4.0  # a negative total (reversals) counts as nothing paid


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_slow_reference(seed):
    rng = np.random.default_rng(seed)
    n = 300
    X = rng.lognormal(6.5, 1.2, size=(n, 2))
    X[rng.random((n, 2)) < 0.1] = np.nan
    X[rng.random((n, 2)) < 0.05] = 0.0
    X[:5, 1] = -rng.random(5) * 10
    params = {"margin": 0.5 + seed, "slope": 1.0 + seed, "floor": 2.0 + seed}
    got = LowUseShortfall(**params).fit(X[:200]).transform(X[200:])
    for j in range(2):
        want = reference(X[:200, j].tolist(), X[200:, j].tolist(), **params)
        np.testing.assert_allclose(got[:, j], want, rtol=0, atol=1e-12)


def test_only_the_low_tail_moves():
    rng = np.random.default_rng(3)
    usual = rng.lognormal(6.7, 0.4, 5000)  # consumption differs within a behaviour
    Z = LowUseShortfall().fit(usual[:, None]).transform(usual[:, None])[:, 0]
    med = np.median(usual)
    # nobody paying at least exp(-1) = 37% of the median is moved
    assert (Z[usual >= med * math.exp(-1)] == 0).all()
    assert (Z <= 0).all() and (Z >= -4).all()
    # and about 0.6% of a lognormal(sd 0.4) population is below 37% of its median
    assert (Z < 0).mean() < 0.01


def test_all_nan_column():
    X = np.full((4, 1), np.nan)
    t = LowUseShortfall().fit(X)
    assert t.median_.tolist() == [0.0]
    assert t.transform(X).ravel().tolist() == [0.0] * 4


@pytest.mark.parametrize("bad", [{"margin": -1}, {"slope": 0}, {"floor": 0}])
def test_parameters_checked(bad):
    with pytest.raises(ValueError, match="parameter"):
        LowUseShortfall(**bad).fit(np.ones((3, 1)))


def payseg_like_table(seed=0, n_per=150):
    """Three behaviours: app payers, counter payers, and app payers in empty homes
    (5% of the usual amount), on four default columns plus amount_per_year."""
    rng = np.random.default_rng(seed)
    parts, truth = [], []
    for code, (online, late, amount) in enumerate(
        [(0.95, 0.05, 900.0), (0.05, 0.05, 900.0), (0.95, 0.05, 45.0)]
    ):
        parts.append(
            pd.DataFrame(
                {
                    "online_share": np.clip(rng.normal(online, 0.05, n_per), 0, 1),
                    "counter_share": np.clip(rng.normal(1 - online, 0.05, n_per), 0, 1),
                    "late_share": np.clip(rng.normal(late, 0.03, n_per), 0, 1),
                    "delay_days_median": rng.normal(5, 2, n_per),
                    "amount_per_year": amount * rng.lognormal(0, 0.3, n_per),
                }
            )
        )
        truth += [code] * n_per
    X = pd.concat(parts, ignore_index=True)
    X.index = pd.Index([f"{i:05d}" for i in range(len(X))], name="customer_id")
    return X, pd.Series(truth, index=X.index)


def test_default_set_takes_the_money_column_through_the_shortfall():
    assert DEFAULT_FEATURES[-1] == LOW_USE_COLUMN
    X, y = payseg_like_table()
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    assert list(seg.features_used_)[-1] == LOW_USE_COLUMN
    values = seg.preprocessor_.named_steps["features"].transformer_list[0][1]
    assert isinstance(values, ColumnTransformer)
    assert adjusted_rand_score(y, seg.labels_) == 1.0
    # the shortfall column is the last one of the preprocessed matrix, in its units
    Z = seg.preprocessor_.transform(X[list(seg.features_used_)].to_numpy())
    want = LowUseShortfall().fit(X[[LOW_USE_COLUMN]].to_numpy())
    np.testing.assert_allclose(
        Z[:, len(seg.features_used_) - 1],
        want.transform(X[[LOW_USE_COLUMN]].to_numpy())[:, 0],
    )
    # predict on new rows agrees with the fitted labels
    assert (seg.predict(X) == seg.labels_).all()


def test_named_features_keep_the_plain_scaling():
    X, _ = payseg_like_table()
    seg = Segmenter(n_clusters=3, random_state=0, features=list(X.columns)).fit(X)
    values = seg.preprocessor_.named_steps["features"].transformer_list[0][1]
    assert not isinstance(values, ColumnTransformer)


def test_plain_scaling_merges_the_empty_homes():
    """Why the shortfall: scaled like the other columns, the yearly amount is clipped
    at 2 units and the empty homes go with their channel peers at k = 2."""
    X, y = payseg_like_table()
    named = Segmenter(n_clusters=2, random_state=0, features=list(X.columns)).fit(X)
    default = Segmenter(n_clusters=2, random_state=0).fit(X)
    apps = (y != 1).to_numpy()
    # plain: apps and empty homes together, counter apart
    assert named.labels_[apps].nunique() == 1
    # shortfall: the empty homes stand further apart than the counter payers
    assert default.labels_[(y == 2).to_numpy()].nunique() == 1
    assert set(default.labels_[(y == 2).to_numpy()]) != set(
        default.labels_[(y == 0).to_numpy()]
    )


def test_save_and_load(tmp_path):
    X, _ = payseg_like_table()
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    path = tmp_path / "m.payseg"
    seg.save(path)
    back = Segmenter.load(path)
    assert (back.predict(X) == seg.predict(X)).all()
