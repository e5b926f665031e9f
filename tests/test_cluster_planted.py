"""Quality bar: the default pipeline recovers the generator's planted archetypes."""

import pytest

import payseg
from payseg import evaluate
from payseg.cluster import Segmenter

SEEDS = [0, 1, 2]


@pytest.fixture(scope="module", params=SEEDS)
def planted(request):
    data = payseg.synth.generate(5000, seed=request.param)
    X = payseg.build_features(data)
    return request.param, X, data.truth["archetype"]


def test_default_pipeline_recovers_archetypes(planted):
    seed, X, truth = planted
    seg = Segmenter(n_clusters="auto", random_state=seed).fit(X)
    planted_k = truth.reindex(X.index).nunique()
    assert abs(seg.n_clusters_ - planted_k) <= 1, seg.k_reason_
    scores = evaluate.score(seg.labels_, truth)
    assert scores["ari"] >= 0.9, scores.to_dict()
    assert scores["purity"] >= 0.9, scores.to_dict()
    # every archetype is the majority of some segment
    table = evaluate.confusion_table(seg.labels_, truth)
    assert set(table.idxmax(axis=1)) == set(table.columns)
    # new customers go to the same segments
    assert (seg.predict(X) == seg.labels_).mean() > 0.99
