"""Planted check: channel_migration separates counter-to-app migrators (field scenario).

Seeds 7 and 8 were not used to design or tune the feature (benchmarks/bench_field.py
tuning seeds are 0 and 1). Before channel_migration joined the default feature set,
63-67% of the migrators shared the counter-loyal payers' segment at k = 12 on these
seeds, and the ARI was 0.72-0.77.
"""

import warnings

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import payseg
from payseg.cluster import Segmenter


@pytest.fixture(scope="module", params=[7, 8])
def field(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # inferred calendars, no-data customers
        data = payseg.synth.generate(3000, seed=request.param, scenario="field")
        X = payseg.build_features(data)
    return request.param, X, data.truth["behaviour"].reindex(X.index)


def test_channel_migration_fires_for_migrators_only(field):
    _, X, beh = field
    fired = (X["channel_migration"].fillna(0) != 0).groupby(beh).mean()
    assert fired["counter_to_app"] >= 0.7, fired.to_dict()
    assert fired.drop("counter_to_app").max() <= 0.05, fired.to_dict()
    # the migrators move towards the app: the change is positive
    moved = X.loc[beh == "counter_to_app", "channel_migration"]
    assert (moved[moved != 0] > 0).mean() >= 0.95


def test_default_segments_keep_migrators_apart_from_counter_loyal(field):
    seed, X, beh = field
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = Segmenter(n_clusters=12, random_state=seed).fit(X)
    tab = pd.crosstab(beh, seg.labels_)
    home = tab.loc["counter_loyal"].idxmax()
    shared = tab.loc["counter_to_app", home] / tab.loc["counter_to_app"].sum()
    assert shared < 0.3, tab.to_string()
    assert adjusted_rand_score(beh, seg.labels_) >= 0.8
