"""Lifecycle: stages from tenure, recency and trend; churn warning with reasons."""

import numpy as np
import pandas as pd
import pytest

from payseg.labels import LIFECYCLE_STAGES, Lifecycle
from payseg.labels._lifecycle import CHURN_REASONS


def _X(**cols):
    n = len(next(iter(cols.values())))
    return pd.DataFrame(
        cols, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id")
    )


def test_stages_hand_made():
    X = _X(
        tenure_days=[30, 300, 1000, 1000, 1000, 1000, 1000, np.nan, 50],
        recency_days=[5, 10, 10, 10, 10, 10, 119, 10, 500],
        amount_trend=[0.0, 0.0, 0.0, -0.03, 0.0, 0.05, 0.0, 0.0, 0.0],
        delay_trend=[0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0],
    )
    lc = Lifecycle().fit(X)
    assert lc.labels_.tolist() == [
        "new",
        "growing",
        "mature",
        "declining",
        "declining",
        "growing",
        "mature",
        "mature",
        "lost",
    ]
    assert lc.labels_zh_.tolist() == [LIFECYCLE_STAGES[k] for k in lc.labels_]
    assert set(lc.labels_zh_) <= {"新户", "成长", "成熟", "衰退", "流失"}
    assert lc.labels_.name == "lifecycle"


def test_rule_order_lost_before_new_before_declining():
    X = _X(tenure_days=[30, 30], recency_days=[200, 10], amount_trend=[-0.2, -0.2])
    assert Lifecycle().fit(X).labels_.tolist() == ["lost", "new"]


def test_churn_warning_and_reasons():
    X = _X(
        recency_days=[70, 10, 10, 10, 200],
        amount_trend=[-0.06, 0.0, 0.0, 0.0, -0.2],
        recent_late_share=[0.0, 0.0, 1.0, 0.0, 1.0],
        late_share=[0.0, 0.0, 0.2, 0.0, 0.0],
        max_months_in_arrears=[0.0, 0.0, 0.0, 2.5, 9.0],
        tenure_days=[1000] * 5,
    )
    lc = Lifecycle().fit(X)
    assert lc.churn_warning_.tolist() == [True, False, True, True, False]
    assert lc.churn_reasons_["c0"] == (
        "no payment for 70 days; amount falling 6.0%/month"
    )
    assert lc.churn_reasons_zh_["c0"] == "70 天未缴费；缴费金额每月下降 6.0%"
    assert lc.churn_reasons_["c2"] == "late on 100% of recent bills"
    assert lc.churn_reasons_["c3"] == "2.5 months in arrears"
    assert lc.churn_reasons_["c1"] == "" and lc.churn_reasons_["c4"] == ""  # lost


def test_every_reason_has_both_languages():
    for key, (en, zh) in CHURN_REASONS.items():
        assert en.format(v=1.0) != zh.format(v=1.0), key


def test_bad_input():
    with pytest.raises(ValueError, match="silent_days must be less than lost_days"):
        Lifecycle(silent_days=200).fit(_X(recency_days=[1.0]))
    with pytest.raises(ValueError, match="lost_days must be a number"):
        Lifecycle(lost_days=-1).fit(_X(recency_days=[1.0]))
    with pytest.raises(ValueError, match=r"Lifecycle.fit: X has none of the columns"):
        Lifecycle().fit(_X(amount=[1.0]))
    with pytest.raises(TypeError, match="DataFrame"):
        Lifecycle().fit(np.zeros((2, 2)))
