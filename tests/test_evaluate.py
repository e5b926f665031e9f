"""payseg.evaluate: agreement with truth and between segmentations."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from payseg import evaluate

IDS = [f"{i:04d}" for i in range(8)]


def series(values, ids=IDS):
    return pd.Series(values, index=pd.Index(ids, name="customer_id"))


TRUTH = series(["a", "a", "a", "b", "b", "b", "c", "c"])
LABELS = series([0, 0, 1, 1, 1, 1, 2, 2])


def test_hand_computed_values():
    assert evaluate.purity(LABELS, TRUTH) == pytest.approx(7 / 8)
    assert evaluate.ari(LABELS, TRUTH) == pytest.approx(
        adjusted_rand_score(TRUTH, LABELS)
    )
    assert evaluate.nmi(LABELS, TRUTH) == pytest.approx(
        normalized_mutual_info_score(TRUTH, LABELS)
    )
    table = evaluate.confusion_table(LABELS, TRUTH)
    assert table.index.name == "segment"
    assert table.columns.name == "truth"
    assert table.loc[1].tolist() == [1, 3, 0]
    assert table.to_numpy().sum() == 8


def test_alignment_is_by_customer_id_not_position():
    shuffled = LABELS.iloc[::-1]
    assert evaluate.ari(shuffled, TRUTH) == pytest.approx(evaluate.ari(LABELS, TRUTH))
    # truth may hold more customers than the segmentation (e.g. no payments)
    more = pd.concat([TRUTH, series(["d"], ["9999"])])
    assert evaluate.purity(LABELS, more) == pytest.approx(7 / 8)


def test_perfect_and_relabelled():
    codes = TRUTH.map({"a": 7, "b": 3, "c": 0})
    s = evaluate.score(codes, TRUTH)
    assert s["ari"] == 1.0 and s["nmi"] == pytest.approx(1.0) and s["purity"] == 1.0
    assert s["n_customers"] == 8 and s["n_segments"] == 3 and s["n_truth_classes"] == 3


def test_truth_as_dataframe_column():
    frame = TRUTH.to_frame("archetype")
    assert evaluate.purity(LABELS, frame) == pytest.approx(7 / 8)


def test_noise_counts_as_a_segment():
    labels = series([0, 0, -1, 1, 1, 1, -1, -1])
    table = evaluate.confusion_table(labels, TRUTH)
    assert -1 in table.index
    assert evaluate.purity(labels, TRUTH) == pytest.approx(7 / 8)


def test_agreement_and_matching():
    a = series([0, 0, 0, 1, 1, 1, 2, 2])
    b = series([5, 5, 5, 9, 9, 4, 4, 4])
    agr = evaluate.agreement(a, b)
    assert agr["matched_share"] == pytest.approx(7 / 8)
    assert agr["ari"] == pytest.approx(adjusted_rand_score(a, b))
    m = evaluate.match_segments(a, b)
    assert m.loc[0, "match"] == 5 and m.loc[1, "match"] == 9 and m.loc[2, "match"] == 4
    assert m.loc[1, "jaccard"] == pytest.approx(2 / 3)
    assert m["customers"].tolist() == [3, 2, 2]


def test_matching_with_more_segments_on_one_side():
    a = series([0, 0, 1, 1, 2, 2, 3, 3])
    b = series([0, 0, 0, 0, 1, 1, 1, 1])
    m = evaluate.match_segments(a, b)
    assert m["match"].notna().sum() == 2
    assert m["customers"].sum() == 4
    assert evaluate.agreement(a, b)["matched_share"] == 0.5


BAD = [
    (series([0] * 8).iloc[:0], TRUTH, "labels is empty"),
    (series([0, 1], ["x", "y"]), TRUTH, r"2 of 2 customers in labels have no value"),
    (
        pd.Series([0, 1], index=["0000", "0000"]),
        TRUTH,
        "labels has duplicated customer ids",
    ),
    (LABELS, TRUTH.where(TRUTH != "c"), "truth has 2 missing values"),
    (LABELS, pd.DataFrame({"x": TRUTH, "y": TRUTH}), "one-column DataFrame"),
]


@pytest.mark.parametrize(("labels", "truth", "match"), BAD)
def test_bad_input(labels, truth, match):
    with pytest.raises(ValueError, match=match):
        evaluate.score(labels, truth)


def test_numpy_input_aligns_by_position():
    assert evaluate.ari(np.array([0, 0, 1]), np.array(["x", "x", "y"])) == 1.0
