"""CreditGrade: score, cuts, new customers, forced lowest grade."""

import numpy as np
import pandas as pd
import pytest

from payseg.labels import CreditGrade


def _X(**cols):
    n = len(next(iter(cols.values())))
    cols.setdefault("tenure_days", [700] * n)
    return pd.DataFrame(
        cols, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id")
    )


def test_score_and_grades_known_answers():
    X = _X(
        late_share=[0.0, 0.25, 0.5, 1.0, 0.0],
        recent_late_share=[0.0, 0.5, 0.5, 1.0, 0.0],
        unpaid_share=[0.0, 0.0, 0.0, 0.5, 0.0],
        max_months_in_arrears=[0, 0, 1, 2, 0],
    )
    cg = CreditGrade().fit(X)
    # 100; 100-10-10=80; 100-20-10-10=60; 100-40-20-15-20=5; 100
    assert cg.scores_.tolist() == [100.0, 80.0, 60.0, 5.0, 100.0]
    assert cg.labels_.tolist() == ["A", "B", "C", "D", "A"]
    assert cg.counts_.to_dict() == {"A": 2, "B": 1, "C": 1, "D": 1}


def test_score_on_a_cut_gets_the_higher_grade():
    X = _X(late_share=[0.375, 0.3751])  # 85 exactly, just below
    assert CreditGrade().fit(X).labels_.tolist() == ["A", "B"]


def test_new_customers_start_in_the_middle():
    X = _X(late_share=[1.0, 0.0, 0.0], tenure_days=[30, 30, np.nan])
    cg = CreditGrade(extract_days=730).fit(X)  # two years of data
    assert cg.scores_.tolist() == [75.0, 75.0, 75.0]
    assert cg.labels_.tolist() == ["B", "B", "B"]
    assert cg.new_.all()
    assert cg.new_threshold_days_ == 180


def test_new_is_relative_to_the_length_of_the_extract():
    # A 6-month extract: customers seen from its first two months are not new;
    # the threshold is min(180, 182 - 62) = 120 days of tenure.
    X = _X(late_share=[0.0, 0.0, 0.0, 0.0], tenure_days=[182, 150, 119, np.nan])
    cg = CreditGrade().fit(X)
    assert cg.new_threshold_days_ == 120
    assert cg.new_.tolist() == [False, False, True, True]
    assert cg.labels_.tolist() == ["A", "A", "B", "B"]
    X.attrs["extract_days"] = 730.0  # build_features writes it: two years of data
    assert CreditGrade().fit(X).new_.tolist() == [False, True, True, True]
    # two months of data: nobody can be told new, except without any payment
    short = _X(late_share=[0.0, 0.0], tenure_days=[60, 5])
    assert CreditGrade().fit(short).new_.tolist() == [False, False]


def test_theft_and_arrears_force_lowest():
    X = _X(
        late_share=[0.0, 0.0, 0.0],
        max_months_in_arrears=[0, 3, 2.9],
        tenure_days=[700, 30, 700],
    )
    theft = pd.Series([True], index=["c0"])
    cg = CreditGrade().fit(X, theft=theft)
    assert cg.labels_.tolist() == ["D", "D", "B"]  # 100 - 29 = 71
    assert cg.forced_.tolist() == ["theft", "arrears", ""]
    assert cg.scores_["c0"] == 100.0  # the score stays visible


def test_theft_column_and_three_grades():
    X = _X(late_share=[0.0, 0.5, 0.0], theft=[False, False, True])
    cg = CreditGrade(grades=("A", "B", "C"), cuts=(85, 60)).fit(X)
    assert cg.labels_.tolist() == ["A", "B", "C"]


def test_nan_features_cost_nothing_and_custom_penalties():
    X = _X(late_share=[np.nan, 0.5])
    cg = CreditGrade(penalties={"late_share": 100}).fit(X)
    assert cg.scores_.tolist() == [100.0, 50.0]
    assert cg.labels_.tolist() == ["A", "C"]


def test_empty_table():
    cg = CreditGrade().fit(_X(late_share=[]))
    assert len(cg.labels_) == 0 and cg.counts_.sum() == 0


@pytest.mark.parametrize(
    "params, match",
    [
        ({"cuts": (50, 70, 85)}, "cuts must be 3 strictly decreasing"),
        ({"grades": ("A", "A")}, "grades must be >= 2 distinct"),
        ({"cuts": (85, float("nan"), 50)}, "cuts must be 3 strictly decreasing"),
        ({"new_score": 120}, r"new_score must be a number in \[0, 100\]"),
        ({"arrears_months": -1}, "arrears_months must be a number"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        CreditGrade(**params).fit(_X(late_share=[0.0]))


def test_bad_input():
    with pytest.raises(TypeError, match="X must be a pandas DataFrame"):
        CreditGrade().fit(np.zeros((2, 2)))


def test_none_of_its_columns_is_an_error_not_grade_b():
    # Without any column it grades on, every customer used to get the same grade.
    X = pd.DataFrame(
        {"amount": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="customer_id")
    )
    with pytest.raises(
        ValueError,
        match=r"CreditGrade.fit: X has none of the columns "
        r"it reads \(late_share, .*tenure_days\); found \['amount'\]\. "
        r"Pass the feature table of payseg.build_features\(data\)",
    ):
        CreditGrade().fit(X)
    # One of them is enough: a missing column costs nothing.
    X = X.assign(late_share=[0.0, 1.0], tenure_days=[1000.0, 1000.0])
    assert CreditGrade().fit(X).labels_.nunique() == 2
