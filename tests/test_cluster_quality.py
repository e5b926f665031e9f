"""Quality bar on harder planted data than the default generator (bench_quality.py).

Seeds differ from the benchmark's (0-2) so that these check the defaults on data
they were not chosen on. The previous defaults (full feature set, highest
silhouette) averaged below every floor on the benchmark seeds: noise 3 gave ARI
0.71, uk 0.59, us 0.71, 12 months 0.83, the imbalanced mix 0.68, and the
three-archetype subset at its planted k 0.59.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import payseg
from payseg.cluster import Segmenter, _select_k
from payseg.cluster._preprocess import DEFAULT_FEATURES

CN = {
    "auto_debit": 0.18,
    "prompt_online": 0.28,
    "deadline": 0.17,
    "chronic_late": 0.05,
    "counter_loyal": 0.07,
    "agent_rural": 0.08,
    "prepaid_frequent": 0.08,
    "prepaid_occasional": 0.05,
    "dormant": 0.04,
}
IMBALANCED = {**CN, "chronic_late": 0.015, "prompt_online": 0.40}

# (generate() arguments, seeds, ARI floor). The floors sit below the lowest ARI seen on
# seeds 4-8 with the current defaults (noise3 0.962, months12 0.979, us 0.859, uk
# 0.748, imbalanced 0.785) and above the previous defaults' mean on seeds 0-2 (noise3
# 0.707, months12 0.830, us 0.710, uk 0.585, imbalanced 0.680). uk and imbalanced
# are still fragile: on 2 of 5 seeds k-means splits the dominant archetype (auto
# debit at 55%, prompt online at 40%) and merges two small ones.
HARD = {
    "noise3": ({"noise": 3.0}, (4, 8), 0.93),
    "months12": ({"months": 12}, (4, 5), 0.93),
    "us": ({"market": "us"}, (4, 5), 0.80),
    "uk": ({"market": "uk"}, (4, 5), 0.70),
    "imbalanced": ({"archetypes": IMBALANCED}, (4, 6), 0.75),
}


def _planted(n, seed, **kwargs):
    data = payseg.synth.generate(n, seed=seed, **kwargs)
    X = payseg.build_features(data)
    return X, data.truth["archetype"].reindex(X.index)


@pytest.mark.parametrize(
    ("scenario", "seed"), [(name, seed) for name in HARD for seed in HARD[name][1]]
)
def test_auto_k_recovers_hard_planted_archetypes(scenario, seed):
    kwargs, _, floor = HARD[scenario]
    X, truth = _planted(3000, seed, **kwargs)
    seg = Segmenter(random_state=seed).fit(X)
    ari = payseg.evaluate.ari(seg.labels_, truth)
    assert ari >= floor, (scenario, ari, seg.k_reason_)
    assert abs(seg.n_clusters_ - truth.nunique()) <= 2, seg.k_reason_


def test_extract_end_artefacts_do_not_split_an_archetype():
    # deadline payers differ in recency_days only by whether they have paid this
    # month's bill before the extract ends; with that column in the default set
    # k-means split them in two and merged the rest (ARI 0.59 at the planted k)
    X, truth = _planted(
        2000, 9, archetypes={"prompt_online": 0.6, "deadline": 0.3, "chronic_late": 0.1}
    )
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    assert payseg.evaluate.ari(seg.labels_, truth) >= 0.95
    assert "recency_days" not in DEFAULT_FEATURES


def _scores(sil):
    ks = pd.Index(range(2, 2 + len(sil)), name="k")
    return pd.DataFrame({"silhouette": sil}, index=ks)


@pytest.mark.parametrize(
    ("sil", "expected"),
    [
        # the best is k=6, but k=5 is within 5% of it: take the smaller
        ([0.30, 0.40, 0.50, 0.60, 0.62, 0.40], 5),
        # k=4 (0.55) is not within 5% of 0.62
        ([0.30, 0.40, 0.55, 0.50, 0.62, 0.40], 6),
        # a clear best at the smallest k
        ([0.70, 0.40, 0.50, 0.60, 0.62, 0.40], 2),
        # all negative: within 5% of the (negative) best
        ([-0.50, -0.20, -0.205, -0.30], 3),
        # k=2 is within 5% of the best (k=8) but k=3..7 are not: stepping down from
        # the best stops at k=8 (imbalanced seed 4 with the low-use column: a 4%
        # group of empty homes far from the rest gives k=2 a silhouette of its own)
        ([0.579, 0.428, 0.405, 0.462, 0.531, 0.557, 0.605, 0.554], 8),
    ],
)
def test_parsimonious_rule(sil, expected):
    k, reason = _select_k.choose_k(_scores(sil), "parsimonious", "test")
    assert k == expected
    assert reason.startswith(f"k={expected}: smallest k whose silhouette")


def test_parsimonious_rule_needs_silhouettes():
    with pytest.raises(ValueError, match="no silhouette scores"):
        _select_k.choose_k(_scores([np.nan, np.nan]), "parsimonious", "test")


def test_silhouette_rule_still_takes_the_maximum():
    k, reason = _select_k.choose_k(
        _scores([0.30, 0.40, 0.50, 0.60, 0.62, 0.40]), "silhouette", "test"
    )
    assert k == 6
    assert reason.startswith("k=6: highest silhouette")


def _gap_scores(gap, sil, se=0.05):
    ks = pd.Index(range(2, 2 + len(gap)), name="k")
    return pd.DataFrame(
        {"gap": gap, "gap_se": [se] * len(gap), "silhouette": sil}, index=ks
    )


def test_gap_parsimonious_takes_the_gap_where_it_levels_off():
    # gap(4) = 0.50 >= gap(5) - se = 0.47: Tibshirani's rule stops at 4, although
    # the silhouette of 3 is within 5% of the best (the parsimonious rule's 3)
    scores = _gap_scores([0.1, 0.3, 0.5, 0.52, 0.53], [0.5, 0.60, 0.62, 0.55, 0.5])
    assert _select_k.choose_k(scores, "parsimonious", "t")[0] == 3
    k, reason = _select_k.choose_k(scores, "gap_parsimonious", "t")
    assert k == 4
    assert "gap statistic levels off" in reason


def test_gap_parsimonious_falls_back_when_the_gap_keeps_rising():
    # behaviour features: the gap grows over the whole range, the rule never stops
    scores = _gap_scores([0.1, 0.3, 0.5, 0.7, 0.9], [0.5, 0.60, 0.62, 0.55, 0.5])
    k, reason = _select_k.choose_k(scores, "gap_parsimonious", "t")
    assert k == 3
    assert "kept rising to the largest k" in reason
    assert _select_k.choose_k(scores, "gap", "t")[0] == 6


def test_default_rule_finds_seven_separated_blobs():
    # issue 16: the parsimonious default returned 6 on 7 well-separated blobs. A seed
    # outside benchmarks/bench_select_k.py's tuning (0-2) and held-out (10-14) ones.
    from sklearn.datasets import make_blobs

    found = []
    for seed in (31, 32):
        X, _ = make_blobs(
            n_samples=1000,
            n_features=8,
            centers=7,
            cluster_std=1.0,
            center_box=(-10, 10),
            random_state=seed,
        )
        seg = Segmenter(k_range=(2, 12), random_state=seed).fit(X)
        assert not seg.no_structure_
        found.append(seg.n_clusters_)
    assert found == [7, 7], found


def test_gap_parsimonious_ignores_a_gap_that_crept_past_the_groups():
    # four separated blobs: the gap jumps into k=4, then creeps up by less than its
    # (tiny) standard error only from k=6 on; the silhouette there is 0.43 of the best
    gap = [0.5, 0.9, 1.96, 2.01, 2.07, 2.071, 2.08]
    sil = [0.45, 0.59, 0.72, 0.63, 0.31, 0.30, 0.29]
    scores = _gap_scores(gap, sil, se=0.005)
    assert _select_k.choose_k(scores, "gap", "t")[0] == 6
    k, reason = _select_k.choose_k(scores, "gap_parsimonious", "t")
    assert k == 4
    assert "below 60% of the highest" in reason


def test_gap_rule_can_stop_at_the_largest_k():
    # gap 0.1, 0.3, 0.5 at k = 2..4 (se 0.05) keeps rising inside the range; with
    # the gap of k_max + 1 = 5 at 0.52, gap(4) = 0.50 >= 0.52 - 0.05: stop at 4
    scores = _gap_scores([0.1, 0.3, 0.5], [0.5, 0.60, 0.62])
    assert _select_k._gap_stop(scores) is None
    scores.attrs["gap_next"] = (0.52, 0.05)
    assert _select_k._gap_stop(scores) == 4
    k, reason = _select_k.choose_k(scores, "gap_parsimonious", "t")
    assert k == 4
    assert "gap statistic levels off" in reason
    # still rising into k_max + 1 (0.70 - 0.05 > 0.50): no stop, silhouette decides
    scores.attrs["gap_next"] = (0.70, 0.05)
    assert _select_k._gap_stop(scores) is None
    assert _select_k.choose_k(scores, "gap_parsimonious", "t")[0] == 3


def test_default_rule_finds_twelve_blobs_at_the_top_of_the_range():
    # 12 overlapping blobs with k_range=(2, 12): before k_max + 1 was scored the gap
    # rule could not stop at 12 and the silhouette rule chose 10. Seed 41 is outside
    # benchmarks/bench_select_k.py's tuning (0-2) and held-out (10-14) seeds.
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=1200,
        n_features=8,
        centers=12,
        cluster_std=2.5,
        center_box=(-10, 10),
        random_state=41,
    )
    seg = Segmenter(k_range=(2, 12), random_state=41).fit(X)
    assert seg.n_clusters_ == 12, seg.k_reason_
    assert "gap statistic levels off" in seg.k_reason_
    assert seg.k_scores_.index.tolist() == list(range(2, 13))  # 13 not kept
    assert adjusted_rand_score(y, seg.labels_) > 0.95
