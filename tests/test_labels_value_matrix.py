"""ValueMatrix, task 1 and task 3 of the China Software Cup sample."""

import csv
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg
from payseg.labels import (
    VALUE_CLASSES,
    ValueMatrix,
    backtest_high_value,
    payment_stats,
    rank_high_value,
    value_metrics,
)

CPH = Path(__file__).resolve().parents[1] / "examples" / "data" / "cph.csv"


def _payments(rows):
    cid, day, amount = zip(*rows)
    return pd.DataFrame(
        {
            "customer_id": list(cid),
            "paid_at": pd.to_datetime(list(day), format="mixed"),
            "amount": np.asarray(amount, dtype="float64"),
        }
    )


def _reference_counts(per):
    """Slow, obvious reading of cph.csv with the csv module and plain loops."""
    pays = defaultdict(list)
    with open(CPH, encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            d = date.fromisoformat(row["缴费日期"])
            pays[row["用户编号"]].append((d, float(row["缴费金额（元）"])))
    count, amount = {}, {}
    for cid, rows in pays.items():
        total = sum(a for _, a in rows)
        if per == "year":
            years = len({d.year for d, _ in rows})
            count[cid] = len({d for d, _ in rows}) / years
            amount[cid] = total / years
        else:
            count[cid] = len(rows)
            amount[cid] = total
    c_mean = sum(count.values()) / len(count)
    a_mean = sum(amount.values()) / len(amount)
    out = dict.fromkeys(VALUE_CLASSES.index, 0)
    for cid in count:
        hc, ha = count[cid] > c_mean, amount[cid] > a_mean
        key = (
            "high_value"
            if hc and ha
            else "mass"
            if hc
            else "potential"
            if ha
            else "low_value"
        )
        out[key] += 1
    return out


@pytest.fixture(scope="module")
def cph():
    return payseg.load(CPH)


def test_cph_per_year_reproduces_published_counts(cph):
    vm = ValueMatrix().fit(cph)
    assert vm.counts_.to_dict() == {
        "high_value": 39,
        "mass": 34,
        "potential": 3,
        "low_value": 24,
    }
    assert vm.counts_.to_dict() == _reference_counts("year")
    assert len(vm.labels_) == 100
    assert vm.names_.value_counts()["高价值型"] == 39


def test_cph_per_extract_matches_reference(cph):
    vm = ValueMatrix(per=None).fit(cph)
    ref = _reference_counts(None)
    assert vm.counts_.to_dict() == ref
    assert ref == {"high_value": 41, "mass": 29, "potential": 4, "low_value": 26}


def test_raw_export_frame_is_refused_with_the_fix():
    # Labellers read canonical tables: the loader (and its rejected-row ledger) is
    # the user's call, not a silent step inside a labeller.
    raw = pd.read_csv(CPH, dtype=str)
    with pytest.raises(
        payseg.PaymentDataError,
        match=r"value_metrics: the payments table lacks "
        r"the canonical columns \['customer_id', 'paid_at', 'amount'\] "
        r"\(found \['用户编号', .*\); expected .* Read a raw export with "
        r"payseg.load\(frame\) first",
    ):
        ValueMatrix().fit(raw)
    for func in (value_metrics, payment_stats, rank_high_value, backtest_high_value):
        with pytest.raises(payseg.PaymentDataError, match=func.__name__):
            func(raw)
    with pytest.raises(TypeError, match="expected PaymentData or a canonical payments"):
        value_metrics(raw.to_numpy())
    vm = ValueMatrix().fit(payseg.load(raw))
    assert vm.counts_["high_value"] == 39
    assert vm.labels_.index[0] == "1000000001"


def test_value_equal_to_mean_is_not_above():
    # count: a=2, b=2, c=2 -> mean 2, nobody above; amount 10, 20, 30 -> mean 20:
    # b sits on the mean (not above), only c is above.
    p = _payments(
        [
            ("a", "2020-01-01", 10),
            ("a", "2020-02-01", 0),
            ("b", "2020-01-01", 10),
            ("b", "2020-03-01", 10),
            ("c", "2020-01-01", 15),
            ("c", "2020-04-01", 15),
        ]
    )
    vm = ValueMatrix(per=None).fit(p)
    assert vm.count_threshold_ == 2.0 and vm.amount_threshold_ == 20.0
    assert vm.labels_.to_dict() == {
        "a": "low_value",
        "b": "low_value",
        "c": "potential",
    }
    # Empty classes are reported with 0.
    assert vm.counts_.to_dict() == {
        "high_value": 0,
        "mass": 0,
        "potential": 1,
        "low_value": 2,
    }


def test_per_year_counts_distinct_dates_over_distinct_years():
    p = _payments(
        [
            ("a", "2018-01-05 09:00", 10),
            ("a", "2018-01-05 17:00", 20),
            ("a", "2019-06-01", 30),
            ("b", "2018-02-01", 5),
        ]
    )
    m = value_metrics(p)
    assert m.loc["a"].tolist() == [1.0, 30.0]  # 2 dates / 2 years, 60 / 2
    m = value_metrics(p, per=None)
    assert m.loc["a"].tolist() == [3.0, 60.0]


def test_all_four_classes_and_predict():
    p = _payments(
        [
            ("hv", "2020-01-01", 100),
            ("hv", "2020-02-01", 100),
            ("hv", "2020-03-01", 100),
            ("mass", "2020-01-01", 1),
            ("mass", "2020-02-01", 1),
            ("mass", "2020-03-01", 1),
            ("pot", "2020-01-01", 500),
            ("low", "2020-01-01", 1),
        ]
    )
    vm = ValueMatrix(per=None).fit(p)
    assert vm.labels_.to_dict() == {
        "hv": "high_value",
        "low": "low_value",
        "mass": "mass",
        "pot": "potential",
    }
    new = _payments(
        [
            ("x", "2020-01-01", 1000),
            ("x", "2020-02-01", 1000),
            ("x", "2020-03-01", 1000),
        ]
    )
    assert vm.predict(new).tolist() == ["high_value"]


def test_median_and_number_thresholds():
    p = _payments(
        [("a", "2020-01-01", 1), ("b", "2020-01-01", 2), ("c", "2020-01-01", 100)]
    )
    vm = ValueMatrix(per=None, amount_threshold="median", count_threshold=0).fit(p)
    assert vm.amount_threshold_ == 2.0
    assert vm.labels_.to_dict() == {"a": "mass", "b": "mass", "c": "high_value"}


@pytest.mark.parametrize(
    "params, match",
    [
        ({"per": "month"}, "per must be 'year' or None"),
        ({"count_threshold": "mode"}, "count_threshold must be 'mean'"),
        ({"amount_threshold": True}, "amount_threshold must be 'mean'"),
    ],
)
def test_bad_params(params, match):
    p = _payments([("a", "2020-01-01", 1)])
    with pytest.raises(ValueError, match=match):
        ValueMatrix(**params).fit(p)


def test_bad_input_type():
    with pytest.raises(TypeError, match="expected PaymentData or a canonical payments"):
        ValueMatrix().fit([1, 2, 3])


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        ValueMatrix().predict(_payments([("a", "2020-01-01", 1)]))


def test_task1_payment_stats(cph):
    stats = payment_stats(cph)
    assert len(stats) == 100
    assert stats["pay_count"].sum() == 664
    raw = pd.read_csv(CPH, dtype={"用户编号": str})
    ref = raw.groupby("用户编号")["缴费金额（元）"].mean()
    np.testing.assert_allclose(stats["amount_mean"].to_numpy(), ref.to_numpy())
    assert stats.attrs["mean"]["pay_count"] == pytest.approx(6.64)
    assert stats.attrs["mean"]["amount_per_payment"] == pytest.approx(
        raw["缴费金额（元）"].mean()
    )


def _ramp_payments():
    """10 steady customers and 2 'risers' whose payments grow in the recent months."""
    rows = []
    months = pd.date_range("2020-01-01", periods=12, freq="MS")
    for i in range(10):
        for j, m in enumerate(months):
            # Steady: amount 100 every month; the first 3 are large (high value).
            amt = 300 if i < 3 else 100
            if i >= 8 and j % 2:  # two customers skip every other month
                continue
            rows.append((f"s{i}", m, amt))
    for k in range(2):
        for j, m in enumerate(months):
            if j < 6 and j % 2:
                continue
            rows.append((f"r{k}", m + pd.Timedelta(days=3 + k), 50 if j < 6 else 260))
    return _payments(rows)


def test_task3_gap_ranks_risers_first():
    p = _ramp_payments()
    top = rank_high_value(p, n=2, per=None)
    assert set(top.index) == {"r0", "r1"}
    assert top["rank"].tolist() == [1, 2]
    assert not (top["value_class"] == "high_value").any()
    full = rank_high_value(p, n=None, per=None)
    assert "s0" not in full.index  # already high value: not a candidate


def test_task3_backtest_on_constructed_data():
    p = _ramp_payments()
    bt = backtest_high_value(p, split="2020-09-01", k=(2,))
    # Risers are high value after the split and were not before.
    assert bt["positives"].iloc[0] == 2
    assert bt.loc["gap", "precision@2"] == 1.0
    assert bt.loc["random", "precision@2"] < 1.0
    assert bt.attrs["split"] == pd.Timestamp("2020-09-01")


def test_task3_backtest_on_cph_is_reported(cph):
    bt = backtest_high_value(cph)
    assert set(bt.index) == {"gap", "logistic", "amount", "random"}
    assert bt["candidates"].iloc[0] > 0
    assert ((bt["precision@5"] >= 0) & (bt["precision@5"] <= 1)).all()
    top5 = rank_high_value(cph)
    assert len(top5) == 5 and (top5["value_class"] != "high_value").all()
    assert rank_high_value(cph, method="logistic").shape[0] == 5


def test_task3_errors():
    p = _ramp_payments()
    with pytest.raises(ValueError, match="method must be"):
        rank_high_value(p, method="magic")
    with pytest.raises(ValueError, match="leaves no payments on one side"):
        backtest_high_value(p, split="2030-01-01")


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from("abcde"), st.integers(0, 800), st.integers(0, 300)),
        min_size=1,
        max_size=40,
    )
)
def test_property_matches_loop_reference(rows):
    base = pd.Timestamp("2018-06-01")
    p = _payments([(c, base + pd.Timedelta(days=d), a) for c, d, a in rows])
    for per in ("year", None):
        vm = ValueMatrix(per=per).fit(p)
        ref = {}
        for cid in sorted({c for c, _, _ in rows}):
            mine = [(base + pd.Timedelta(days=d), a) for c, d, a in rows if c == cid]
            years = len({t.year for t, _ in mine}) if per == "year" else 1
            dates = len({t for t, _ in mine}) if per == "year" else len(mine)
            ref[cid] = (dates / years, sum(a for _, a in mine) / years)
        cm = sum(v[0] for v in ref.values()) / len(ref)
        am = sum(v[1] for v in ref.values()) / len(ref)
        for cid, (c, a) in ref.items():
            hc, ha = c > cm + 1e-9, a > am + 1e-9
            want = (
                "high_value"
                if hc and ha
                else "mass"
                if hc
                else "potential"
                if ha
                else "low_value"
            )
            if abs(c - cm) > 1e-9 and abs(a - am) > 1e-9:  # off the float edge
                assert vm.labels_[cid] == want
