"""ArchetypeLabeller: rules on hand-made profiles and on generated data."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import payseg
from payseg.labels import ARCHETYPES, ArchetypeLabeller

# One hand-made customer per archetype; columns as in payseg.build_features.
_COLS = [
    "amount_per_year",
    "pay_count_per_year",
    "prepaid_share",
    "topup_interval_mean",
    "topup_amount_mean",
    "automatic_share",
    "late_share",
    "unpaid_share",
    "counter_share",
    "agent_share",
    "online_share",
    "delay_days_median",
    "days_to_due_mean",
]
_ROWS = {
    "dormant": [50, 2, 0, 180, 25, 0, 0.8, 0.8, 0, 0, 1, 5, 12],
    "prepaid_frequent": [
        1000,
        18,
        0,
        14,
        60,
        0,
        np.nan,
        np.nan,
        0,
        0,
        1,
        np.nan,
        np.nan,
    ],
    "prepaid_occasional": [
        1400,
        2.5,
        0.6,
        120,
        550,
        0,
        np.nan,
        np.nan,
        0.3,
        0,
        0.1,
        np.nan,
        np.nan,
    ],
    "auto_debit": [1000, 8, 0, 30, 120, 0.95, 0, 0, 0, 0, 0.05, 0, 20],
    "chronic_late": [1000, 7, 0, 37, 150, 0, 1.0, 0.1, 0.2, 0, 0.8, 41, -25],
    "counter_loyal": [830, 8, 0, 30, 100, 0, 0, 0, 0.96, 0, 0, 7.5, 11],
    "agent_rural": [860, 8, 0, 30, 100, 0, 0.04, 0, 0, 0.96, 0, 9, 9],
    "prompt_online": [1040, 8, 0, 30, 130, 0, 0, 0, 0, 0, 1, 1, 18],
    "deadline": [1270, 11, 0, 30, 120, 0, 0.04, 0, 0, 0, 1, 18, 1.2],
    "mixed": [900, 8, 0, 30, 100, 0.3, 0.1, 0, 0.3, 0.2, 0.4, 10, 10],
}


def _table(keys=None, copies=1):
    keys = list(_ROWS) if keys is None else keys
    rows = [_ROWS[k] for k in keys for _ in range(copies)]
    ids = [f"{k}_{i}" for k in keys for i in range(copies)]
    X = pd.DataFrame(rows, columns=_COLS, index=pd.Index(ids, name="customer_id"))
    truth = pd.Series([k for k in keys for _ in range(copies)], index=X.index)
    return X, truth


def test_each_rule_on_hand_made_profiles():
    X, truth = _table(copies=3)
    lab = ArchetypeLabeller().fit(X, truth)
    assert (lab.archetypes_ == lab.archetypes_.index).all()
    assert (lab.labels_ == truth).all()
    assert lab.names_zh_["counter_loyal"] == "柜台忠实型"
    assert lab.names_en_["auto_debit"] == "auto-debit"
    assert lab.rules_["auto_debit"] == "automatic_share 0.95 >= 0.5"
    assert lab.rules_["mixed"] == "no rule held"
    assert lab.rules_["prepaid_occasional"].endswith("and not frequent")
    assert set(lab.profiles_.columns) >= {"size", "no_bill_share", *_COLS}


def test_rule_order_and_thresholds_are_parameters():
    X, truth = _table(["counter_loyal", "agent_rural"])
    # Raise counter_min above the profile: counter_loyal is no longer named.
    lab = ArchetypeLabeller(counter_min=0.99).fit(X, truth)
    assert lab.archetypes_["counter_loyal"] != "counter_loyal"
    lab = ArchetypeLabeller(agent_min=0.97).fit(X, truth)
    assert lab.archetypes_["agent_rural"] == "mixed"


def test_threshold_equality_fires():
    X = pd.DataFrame({"automatic_share": [0.5]}, index=pd.Index(["a"]))
    assert ArchetypeLabeller().fit(X, [0]).names_[0] == "auto_debit"
    X = pd.DataFrame({"automatic_share": [0.4999]}, index=pd.Index(["a"]))
    assert ArchetypeLabeller().fit(X, [0]).names_[0] == "mixed"


def test_duplicates_get_a_suffix_largest_first():
    X, _ = _table(["deadline"], copies=5)
    labels = pd.Series([7, 3, 3, 3, 7], index=X.index)
    lab = ArchetypeLabeller().fit(X, labels)
    # Segment 3 is larger: it keeps the plain name.
    assert lab.names_.to_dict() == {3: "deadline", 7: "deadline 2"}
    assert lab.names_zh_[7] == "截止日前缴费型 2"
    assert lab.names_en_[7] == "deadline-driven 2"
    assert lab.archetypes_.tolist() == ["deadline", "deadline"]
    assert lab.names_.is_unique


def test_empty_segment_and_noise():
    X, _ = _table(["auto_debit", "auto_debit", "counter_loyal"])
    labels = pd.Series(pd.Categorical([0, 0, -1], categories=[-1, 0, 5]), index=X.index)
    lab = ArchetypeLabeller().fit(X, labels)
    assert lab.names_.to_dict() == {-1: "mixed", 0: "auto_debit", 5: "mixed 2"}
    assert lab.rules_[5] == "empty segment"
    assert lab.rules_[-1].startswith("noise label -1")
    assert lab.profiles_.loc[5, "size"] == 0


def test_missing_columns_do_not_fire():
    # cph.csv-like: no channel, no bills. Only the value rule can fire.
    X = pd.DataFrame(
        {
            "amount_per_year": [60.0, 900.0],
            "pay_count_per_year": [2.0, 7.0],
            "topups_per_month": [0.2, 0.6],
        },
        index=pd.Index(["a", "b"]),
    )
    lab = ArchetypeLabeller().fit(X, [0, 1])
    # Without any bill in X, missing bills do not mean prepaid.
    assert lab.names_.tolist() == ["dormant", "mixed"]
    assert lab.profiles_["no_bill_share"].tolist() == [0.0, 0.0]


def test_mean_statistic():
    X = pd.DataFrame(
        {"counter_share": [1.0, 1.0, 0.0, 0.0, 0.0]}, index=pd.Index(list("abcde"))
    )
    assert ArchetypeLabeller().fit(X, [0] * 5).names_[0] == "mixed"  # median 0
    lab = ArchetypeLabeller(statistic="mean", counter_min=0.4).fit(X, [0] * 5)
    assert lab.names_[0] == "counter_loyal"


def test_transform_maps_segment_ids():
    X, truth = _table(["auto_debit", "counter_loyal"])
    lab = ArchetypeLabeller().fit(X, [10, 20])
    assert lab.transform([20, 10, 20]).tolist() == [
        "counter_loyal",
        "auto_debit",
        "counter_loyal",
    ]
    with pytest.raises(ValueError, match=r"segment ids \[30\] were not seen"):
        lab.transform([30])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"statistic": "mode"}, "statistic must be 'median' or 'mean'"),
        ({"late_min": 1.5}, r"late_min must be a number in \[0, 1\]"),
        ({"dormant_amount_max": -1}, "dormant_amount_max must be a number"),
        ({"deadline_days_min": 5, "deadline_days_max": 1}, "deadline_days_max must be"),
    ],
)
def test_bad_params(params, match):
    X, truth = _table(["auto_debit"])
    with pytest.raises(ValueError, match=match):
        ArchetypeLabeller(**params).fit(X, truth)


def test_bad_inputs():
    X, truth = _table(["auto_debit", "dormant"])
    with pytest.raises(ValueError, match="labels has no segment for 1 customers"):
        ArchetypeLabeller().fit(X, truth.iloc[:1])
    with pytest.raises(ValueError, match="labels has 1 entries but X has 2 rows"):
        ArchetypeLabeller().fit(X, [0])
    with pytest.raises(TypeError, match="X must be a pandas DataFrame"):
        ArchetypeLabeller().fit(X.to_numpy(), [0, 1])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ArchetypeLabeller().transform([0])
    with pytest.raises(
        ValueError,
        match=r"ArchetypeLabeller.fit: X has none of the "
        r"columns it reads \(amount_per_year, .*\); found \['x'\]",
    ):
        ArchetypeLabeller().fit(pd.DataFrame({"x": [0.0, 1.0]}, index=X.index), [0, 1])


def test_generator_plants_the_shared_vocabulary():
    from payseg.synth import ARCHETYPE_KEYS, default_archetypes

    assert set(ARCHETYPE_KEYS) | {"mixed"} == set(ARCHETYPES.index)
    assert set(default_archetypes()) == set(ARCHETYPE_KEYS)


@pytest.fixture(scope="module")
def generated():
    data = payseg.synth.generate(3000, seed=0)
    return payseg.build_features(data), data.truth["archetype"]


def test_generated_truth_segments_are_named_exactly(generated):
    X, truth = generated
    lab = ArchetypeLabeller().fit(X, truth)
    assert (lab.archetypes_ == lab.archetypes_.index).all()
    assert (lab.labels_ == truth).mean() == 1.0


def test_generated_customers_named_one_by_one(generated):
    # Each customer its own segment: the rules on noisy individual profiles.
    X, truth = generated
    lab = ArchetypeLabeller().fit(X, pd.Series(np.arange(len(X)), index=X.index))
    named = lab.archetypes_.to_numpy()
    hit = pd.Series(named == truth.to_numpy(), index=X.index)
    assert hit.mean() >= 0.9
    per = hit.groupby(truth).mean()
    assert per.min() >= 0.8, per


def test_generated_segmenter_segments_named(generated):
    # End to end: clusters of a Segmenter, named by their profiles.
    X, truth = generated
    seg = payseg.Segmenter(method="kmeans", n_clusters=9, random_state=0).fit(X)
    lab = ArchetypeLabeller().fit(X, seg.labels_)
    named = lab.archetypes_.reindex(seg.labels_.to_numpy()).to_numpy()
    assert (named == truth.to_numpy()).mean() >= 0.9
    assert set(lab.archetypes_) == set(truth)
