"""EarlyWarning: signals, weights, reasons, complaints, top-N."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from payseg.labels import EarlyWarning


def _X(**cols):
    n = len(next(iter(cols.values())))
    return pd.DataFrame(cols, index=pd.Index([f"c{i}" for i in range(n)],
                                             name="customer_id"))


def test_signals_known_answers():
    X = _X(delay_trend=[10.0, 1.0, 2.5, np.nan],
           late_share=[0.0, 0.0, 0.5, np.nan],
           recent_late_share=[1.0, 0.0, 0.6, np.nan],
           arrears_amount=[50.0, 0.0, 0.0, np.nan],
           amount_trend=[-0.08, 0.1, -0.029, np.nan])
    ew = EarlyWarning().fit(X)
    sig = ew.signals_
    assert sig["rising_delay"].tolist() == [1.0, 0.0, 0.5, 0.0]  # 1.0 is not > 1
    assert sig["more_late"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert sig["arrears"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert sig["falling_amount"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert ew.scores_.round(6).tolist() == [0.9, 0.0, 0.125, 0.0]
    assert ew.labels_.tolist() == ["high", "low", "low", "low"]
    assert ew.reasons_["c0"] == ("delay rising 10 days/bill; late on 100% of recent "
                                 "bills vs 0%; arrears 50 yuan; amount falling "
                                 "8.0%/month")
    assert ew.reasons_["c1"] == ""


def test_complaints_and_levels():
    X = _X(arrears_amount=[0.0, 0.0, 10.0])
    complaints = pd.DataFrame({"customer_id": ["c0", "c0", "c0", "c1", "zz"]})
    ew = EarlyWarning(levels=(0.3, 0.05)).fit(X, complaints=complaints)
    assert ew.signals_["complaints"].tolist() == [1.0, pytest.approx(1 / 3), 0.0]
    assert ew.labels_.tolist() == ["medium", "low", "high"]
    assert ew.reasons_["c0"] == "3 complaints"


def test_custom_weights():
    X = _X(arrears_amount=[10.0])
    ew = EarlyWarning(weights={"arrears": 1.0}).fit(X)
    assert ew.scores_.tolist() == [1.0]


def test_top_n_ties_keep_table_order_and_drop_zero():
    X = _X(arrears_amount=[0.0, 5.0, 5.0, 9.0], delay_trend=[0, 0, 0, 3.0])
    ew = EarlyWarning().fit(X)
    top = ew.top(10)
    assert top.index.tolist() == ["c3", "c1", "c2"]
    assert ew.top(1).index.tolist() == ["c3"]
    assert list(top.columns) == ["warning_score", "warning_level", "reasons"]


@pytest.mark.parametrize(
    "params, match",
    [({"weights": {"bogus": 1.0}}, r"unknown signals in weights: \['bogus'\]"),
     ({"levels": (0.1, 0.5)}, r"levels must be 2 strictly decreasing scores \(the "
                              r"high cut, then the medium cut\), got \(0.1, 0.5\)"),
     ({"levels": (0.5,)}, "levels must be 2 strictly decreasing"),
     ({"delay_trend_full": 0}, "delay_trend_full must be a number")],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        EarlyWarning(**params).fit(_X(arrears_amount=[0.0]))


def test_bad_inputs():
    with pytest.raises(ValueError, match="complaints needs a 'customer_id' column"):
        EarlyWarning().fit(_X(arrears_amount=[0.0]),
                           complaints=pd.DataFrame({"id": ["c0"]}))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        EarlyWarning().top()
    X = pd.DataFrame({"amount": [1.0]}, index=pd.Index(["c0"], name="customer_id"))
    with pytest.raises(ValueError, match=r"EarlyWarning.fit: X has none of the columns "
                       r"it reads \(delay_trend, .*\); found \['amount'\]"):
        EarlyWarning().fit(X)


def test_reasons_in_chinese_too():
    """Issue 17: early-warning signals were in English only."""
    import pandas as pd

    from payseg.labels import EarlyWarning

    X = pd.DataFrame({"delay_trend": [6.0, 0.0], "late_share": [0.1, 0.0],
                      "recent_late_share": [0.6, 0.0], "arrears_amount": [120.0, 0.0],
                      "amount_trend": [-0.1, 0.0]},
                     index=pd.Index(["a", "b"], name="customer_id"))
    ew = EarlyWarning().fit(X)
    zh = ew.reasons_zh_
    assert zh["a"] == ("缴费延迟上升，每期增加 6 天；近期逾期比例 60%，历史为 10%；"
                       "欠费 120 元；缴费金额下降，每月 10.0%")
    assert zh["b"] == ""
    assert ew.reasons_["a"].startswith("delay rising 6 days/bill; ")
