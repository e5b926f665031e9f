"""ValuePyramid: shares, amount cut points, ties, profit weights."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg
from payseg.labels import ValuePyramid


def _amounts(values):
    return pd.Series(
        values, index=[f"c{i:03d}" for i in range(len(values))], dtype="float64"
    )


def test_default_shares_on_100_distinct_amounts():
    s = _amounts(np.arange(100.0, 0.0, -1.0))  # c000 pays most
    pyr = ValuePyramid().fit(s)
    assert pyr.counts_.to_dict() == {"A": 1, "B": 4, "C": 15, "D": 80}
    assert pyr.labels_["c000"] == "A"
    assert pyr.labels_.iloc[1:5].eq("B").all()
    assert pyr.labels_.iloc[5:20].eq("C").all()
    assert pyr.thresholds_.tolist() == [100.0, 96.0, 81.0, 1.0]


def test_sizes_round_up_so_top_tier_is_not_empty():
    pyr = ValuePyramid().fit(_amounts(np.arange(10.0)))
    # ceil(0.1)=1 A, ceil(0.5)=1 -> no B, ceil(2)=2 -> 1 C.
    assert pyr.counts_.to_dict() == {"A": 1, "B": 0, "C": 1, "D": 8}
    assert np.isnan(pyr.thresholds_["B"])


def test_ties_share_a_tier_and_go_up():
    # Top 20% = 1 customer, but two tie at the top: both A.
    s = _amounts([50.0, 50.0, 10.0, 10.0, 10.0])
    pyr = ValuePyramid(shares=(0.2, 0.2), tiers=("A", "B", "C")).fit(s)
    assert pyr.labels_.tolist() == ["A", "A", "C", "C", "C"]
    # Equal amounts always the same tier, whatever the input order.
    shuffled = pyr.fit(s.iloc[[3, 0, 4, 1, 2]]).labels_
    assert shuffled.sort_index().tolist() == ["A", "A", "C", "C", "C"]


def test_all_equal_amounts_all_top():
    pyr = ValuePyramid().fit(_amounts([5.0] * 7))
    assert pyr.counts_.to_dict() == {"A": 7, "B": 0, "C": 0, "D": 0}


def test_amount_thresholds():
    s = _amounts([5000.0, 1000.0, 999.99, 100.0, 0.0])
    pyr = ValuePyramid(thresholds=(5000, 1000, 100)).fit(s)
    assert pyr.labels_.tolist() == ["A", "B", "C", "C", "D"]
    new = _amounts([6000.0, 150.0])
    assert pyr.predict(new).tolist() == ["A", "C"]


def test_predict_skips_empty_tiers():
    pyr = ValuePyramid().fit(_amounts(np.arange(10.0)))  # B empty
    # 9.5 >= cut of A (9) -> A; 8.5 reaches C (8) -> C; below -> D.
    assert pyr.predict(_amounts([9.5, 8.5, 1.0])).tolist() == ["A", "C", "D"]


def test_profit_weights_per_tariff():
    s = _amounts([1000.0, 400.0, 300.0])
    tariff = pd.Series(["preferential", "residential", "unknown"], index=s.index)
    pyr = ValuePyramid(
        shares=(0.3,),
        tiers=("A", "B"),
        weights={"preferential": 0.2, "residential": 1.0},
        default_weight=0.5,
    ).fit(s, tariff=tariff)
    assert pyr.values_.tolist() == [200.0, 400.0, 150.0]
    assert pyr.labels_.tolist() == ["B", "A", "B"]


def test_weights_without_tariff():
    with pytest.raises(ValueError, match="weights are set but no tariff is known"):
        ValuePyramid(weights={"x": 1.0}).fit(_amounts([1.0]))


def test_from_payment_data_and_features():
    data = payseg.synth.generate(300, seed=1)
    pyr = ValuePyramid().fit(data)
    total = data.payments.groupby("customer_id")["amount"].sum()
    assert pyr.values_.sort_index().equals(total.sort_index().rename("value"))
    assert pyr.counts_["A"] == 3 and pyr.counts_.sum() == len(total)
    # Tariff weights are read from data.customers when present.
    weights = dict.fromkeys(data.customers["tariff"].unique(), 1.0)
    pyr = ValuePyramid(weights=weights).fit(data)
    assert pyr.counts_["A"] == 3
    X = pd.DataFrame({"amount_per_year": [3.0, np.nan, 1.0]}, index=list("abc"))
    pyr = ValuePyramid(shares=(0.3,), tiers=("A", "B")).fit(X)
    assert pyr.labels_.tolist() == ["A", "B", "B"]  # NaN counts as 0


@pytest.mark.parametrize(
    "params, match",
    [
        ({"shares": (0.5, 0.6, 0.1)}, "shares must be 3 positive shares summing"),
        ({"shares": (0.1,)}, "shares must be 3 positive"),
        ({"thresholds": (1, 2, 3)}, "thresholds must be 3 strictly decreasing"),
        ({"tiers": ("A",)}, "tiers must be >= 2 distinct names"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        ValuePyramid(**params).fit(_amounts([1.0, 2.0]))


def test_bad_inputs():
    with pytest.raises(ValueError, match="X has no column 'amount_per_year'"):
        ValuePyramid().fit(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(TypeError, match="X must be a Series of amounts"):
        ValuePyramid().fit([1.0, 2.0])


def _slow_tiers(values, shares, tiers):
    """Loop reference: tier by the number of customers strictly above."""
    import math

    n = len(values)
    sizes = [math.ceil(sum(shares[: i + 1]) * n - 1e-9) for i in range(len(shares))]
    out = []
    for v in values:
        rank = 1 + sum(1 for w in values if w > v)
        k = 0
        while k < len(sizes) and rank > sizes[k]:
            k += 1
        out.append(tiers[k])
    return out


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(0, 20).map(float), min_size=1, max_size=60))
def test_property_matches_loop_reference(values):
    s = _amounts(values)
    pyr = ValuePyramid().fit(s)
    assert pyr.labels_.tolist() == _slow_tiers(
        values, (0.01, 0.04, 0.15), ("A", "B", "C", "D")
    )
    # Equal values share a tier; a higher value never gets a lower tier.
    order = {"A": 0, "B": 1, "C": 2, "D": 3}
    t = pyr.labels_.map(order)
    assert (t.groupby(s).nunique() == 1).all()
    srt = t[s.sort_values(ascending=False, kind="stable").index]
    assert srt.is_monotonic_increasing


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.integers(-5, 30).map(float), st.floats(-1e6, 1e6)),
        min_size=1,
        max_size=80,
    ),
    shares=st.sampled_from([(0.01, 0.04, 0.15), (0.2, 0.3, 0.3), (0.5, 0.1, 0.1)]),
)
def test_property_cuts_and_counts_match_loop_reference(values, shares):
    tiers = ("A", "B", "C", "D")
    pyr = ValuePyramid(shares=shares).fit(_amounts(values))
    want = _slow_tiers(values, shares, tiers)
    assert pyr.labels_.tolist() == want
    for tier in tiers:
        mine = [v for v, t in zip(values, want, strict=True) if t == tier]
        assert pyr.counts_[tier] == len(mine)
        got = pyr.thresholds_[tier]
        assert (np.isnan(got) and not mine) or got == min(mine)
    assert list(pyr.counts_.index) == list(tiers) == list(pyr.thresholds_.index)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.just(np.nan), st.integers(0, 9).map(float)), max_size=50
    )
)
def test_share_positions_equal_the_rank_rule_with_missing_values(values):
    # The rule before the partial sort, with pandas' rank (NaN ranks NaN).
    from payseg.labels._pyramid import _share_positions

    v = pd.Series(values, dtype="float64")
    shares = (0.1, 0.2, 0.3)
    sizes = np.ceil(np.cumsum(shares) * len(v) - 1e-9).astype(int)
    rank = v.rank(method="min", ascending=False).to_numpy()
    want = (rank[:, None] > sizes[None, :]).sum(axis=1)
    np.testing.assert_array_equal(_share_positions(v.to_numpy(), shares), want)
