"""Quality bar: the default pipeline recovers the generator's planted archetypes."""

import pytest

import payseg
from payseg import evaluate
from payseg.cluster import Segmenter

# Held-out seeds: benchmarks/bench_quality.py tuned the defaults (features, the
# parsimonious rule, and in 0.3.0 the gap_parsimonious rule, which equals it on this
# data: the gap never levels off) on seeds 0-2, and docs/segmenter.md reports seeds
# 0-13; these were never looked at while choosing them. On 102 auto-k picks 8 (prepaid
# occasional merged into another segment: silhouette 0.588 at k=8 against 0.616 at 9),
# inside the +-1 tolerance below.
SEEDS = [101, 102, 103]


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
    # no two segments share a majority archetype, and with k >= the planted k every
    # archetype is the majority of some segment
    table = evaluate.confusion_table(seg.labels_, truth)
    majority = table.idxmax(axis=1)
    assert majority.nunique() == min(seg.n_clusters_, planted_k), majority.to_dict()
    # new customers go to the same segments
    assert (seg.predict(X) == seg.labels_).mean() > 0.99
