"""The field-realistic scenario: planted truth, district exports, loading them back."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import payseg
from payseg.synth import BEHAVIOURS, write_districts

N = 3000
AUTO = {"card_debit", "entrusted_debit"}
APPS = {"sgcc_app", "wechat", "alipay"}


@pytest.fixture(scope="module")
def field():
    return payseg.synth.generate(N, seed=11, months=24, scenario="field")


@pytest.fixture(scope="module")
def exported(field, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("field")
    return tmp, write_districts(field, tmp, seed=3)


def test_behaviour_shares_as_planted(field):
    truth = field.truth
    assert len(truth) == N
    assert truth["behaviour"].nunique() == 12
    share = truth["behaviour"].value_counts(normalize=True)
    planted = pd.Series({k: v[0] for k, v in BEHAVIOURS.items()})
    planted = planted / planted.sum()
    # 4 binomial standard deviations
    tol = 4 * np.sqrt(planted * (1 - planted) / N)
    assert ((share.reindex(planted.index) - planted).abs() <= tol).all()
    district = truth["district"].value_counts(normalize=True)
    assert abs(district["A"] - 0.4) < 0.04
    assert abs(district["B"] - 0.3) < 0.04


def test_deterioration_and_migration_truth(field):
    truth = field.truth
    det = truth["deteriorating"]
    assert 0.035 <= det.mean() <= 0.065
    assert (truth.loc[det, "meter"] == "postpaid").all()
    assert truth.loc[det, "closed"].isna().all()
    # deteriorating over the last 4-6 months of 2024-01 .. 2025-12
    start = truth.loc[det, "deteriorate_from"].map(lambda p: p.ordinal)
    months = pd.Period("2025-12", "M").ordinal - start + 1
    assert months.between(4, 6).all()
    assert truth.loc[~det, "deteriorate_from"].isna().all()
    assert (truth.loc[det, "symptoms"] != "").all()
    mig = truth["behaviour"] == "counter_to_app"
    assert truth.loc[mig, "migration_month"].notna().all()
    assert truth.loc[~mig, "migration_month"].isna().all()
    assert truth.loc[mig, "migration_month"].nunique() > 8  # different months


def test_migrators_switch_channel_at_their_month(field):
    pay = field.payments.dropna(subset=["period"])
    mig = field.truth.loc[field.truth["behaviour"] == "counter_to_app"]
    pay = pay[pay["customer_id"].isin(mig.index)]
    month = pay["customer_id"].map(mig["migration_month"])
    after = (pay["period"] >= month).to_numpy()
    app = pay["channel"].astype(str).isin(APPS).to_numpy()
    counter = pay["channel"].astype(str).isin({"counter", "bank_counter"}).to_numpy()
    assert counter[~after].mean() > 0.8
    assert app[after].mean() > 0.8


def test_favourite_channel_and_off_pattern_share(field):
    pay = field.payments
    prompt = field.truth.index[field.truth["behaviour"] == "prompt_app"]
    p = pay[pay["customer_id"].isin(prompt)]
    fav = p["customer_id"].map(field.truth["favourite_channel"].astype(str))
    off = (p["channel"].astype(str) != fav).mean()
    # 8-16% off-pattern payments, a few of which land on the favourite anyway
    assert 0.06 <= off <= 0.16


def test_bimonthly_district_bills_every_two_months(field):
    bills = field.bills.merge(
        field.truth[["district"]], left_on="customer_id", right_index=True
    )
    gaps = (
        bills.assign(o=bills["period"].map(lambda p: p.ordinal))
        .groupby("customer_id")["o"]
        .diff()
        .dropna()
    )
    by_district = bills.loc[gaps.index, "district"]
    assert set(gaps[by_district == "B"]) == {2}
    assert set(gaps[by_district == "A"]) == {1}
    # a bill of two months is about twice a monthly one
    postpaid = field.truth["behaviour"].isin(
        ["prompt_app", "deadline_app", "auto_debit"]
    )
    ok = bills["customer_id"].map(postpaid)
    med = bills[ok].groupby("district")["amount_due"].median()
    assert 1.6 < med["B"] / med["A"] < 2.5
    assert bills["district"].isin(["A", "B", "C"]).all()


def test_catch_up_payers_settle_several_bills(field):
    ids = field.truth.index[field.truth["behaviour"] == "catch_up"]
    paid = field.payments[field.payments["customer_id"].isin(ids)]
    billed = field.bills[field.bills["customer_id"].isin(ids)]
    ratio = len(billed) / (paid["amount"] > 0).sum()
    assert 2.0 < ratio < 4.5  # groups of 2-4 bills, plus off-pattern rows


def test_deterministic_per_seed():
    a = payseg.synth.generate(400, seed=5, months=12, scenario="field")
    b = payseg.synth.generate(400, seed=5, months=12, scenario="field")
    c = payseg.synth.generate(400, seed=6, months=12, scenario="field")
    for name in ("payments", "bills", "customers", "truth"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.payments.equals(c.payments)


def test_default_scenario_unchanged(tmp_path):
    # Hashes computed with payseg at commit d592281, before the field scenario.
    data = payseg.synth.generate(300, seed=3, months=8)
    expected = {
        "payments": 1065929432939875155,
        "bills": 10271231431242311053,
        "customers": 17019679338330261209,
        "truth": 16407919717998970406,
    }
    for name, value in expected.items():
        got = int(pd.util.hash_pandas_object(getattr(data, name), index=True).sum())
        assert got == value, name
    payseg.synth.write(data, tmp_path, defects=0.02, seed=5)
    files = {
        "bills.csv": "36372a11228e48cd",
        "customers.csv": "cc839958d40d621b",
        "defects.json": "c805ca0bb1d0f7b5",
        "payments.csv": "767fdd9e3e713d6d",
    }
    for name, digest in files.items():
        got = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()[:16]
        assert got == digest, name


def test_field_rejects_default_scenario_options():
    with pytest.raises(ValueError, match="scenario='field'"):
        payseg.synth.generate(10, scenario="field", market="us")
    with pytest.raises(ValueError, match="scenario must be"):
        payseg.synth.generate(10, scenario="fields")


def test_district_exports(exported):
    tmp, files = exported
    assert files["C"]["bills"] is None
    assert sorted(p.name for p in (tmp / "C").iterdir()) == [
        "customers.parquet",
        "payments.parquet",
    ]
    head_b = (tmp / "B" / "payments.csv").read_bytes().decode("gb18030").split("\n")[0]
    assert head_b.split(",")[0].strip('"') == "用户编号"
    head_a = (tmp / "A" / "payments.csv").read_text("utf-8").split("\n")[0]
    assert head_a.split(",")[0].strip('"') == "户号"
    import pyarrow.parquet as pq

    assert "电费年月" in pq.read_schema(files["C"]["payments"]).names


def _check_ledger(data):
    rejected = data.rejected.groupby("source").size()
    for source, c in data.counts.items():
        assert c["read"] == c["kept"] + rejected.get(source, 0), source


@pytest.mark.parametrize("district", ["A", "B", "C"])
def test_each_district_loads_alone(field, exported, district):
    _, files = exported
    f = files[district]
    data = payseg.load(f["payments"], bills=f["bills"], customers=f["customers"])
    _check_ledger(data)
    planted = field.truth.index[field.truth["district"] == district]
    assert set(data.customers.index) == set(planted)
    # Every planted payment row of the district is read; what is rejected is a
    # reversal pair, an unmatched reversal or a duplicate, never anything else.
    n_planted = field.payments["customer_id"].isin(planted).sum()
    assert data.counts[str(f["payments"])]["read"] == n_planted
    reasons = set(data.rejected["reason"])
    assert reasons <= {
        "reversed payment",
        "reversal",
        "negative amount without a matching payment",
        "exact duplicate row",
    }
    if district == "B":
        per = data.bills.groupby("customer_id")["period"].apply(
            lambda s: np.diff([p.ordinal for p in s.sort_values()])
        )
        assert {int(v) for arr in per for v in arr} == {2}


def test_three_districts_load_together(field, exported):
    _, files = exported
    data = payseg.load(
        [f["payments"] for f in files.values()],
        bills=[f["bills"] for f in files.values() if f["bills"] is not None],
        customers=[f["customers"] for f in files.values()],
    )
    _check_ledger(data)
    # several customers files keep their customer ids (was a RangeIndex)
    assert data.customers.index.name == "customer_id"
    assert set(data.customers.index) == set(field.truth.index)
    assert data.n_customers == N
    assert "payseg data" in data.summary()
    got = data.customers["region"].astype(str)
    want = field.customers["region"].astype(str).reindex(got.index)
    assert (got == want).all()


def test_date_only_reversal_cancels_a_timed_payment_of_its_day():
    # The negative row written with a date only (midnight) reverses the payment
    # of that day written with its time (it used to be left unmatched and the
    # payment kept twice).
    frame = pd.DataFrame(
        {
            "户号": ["001", "001", "001", "001"],
            "缴费时间": [
                "2025-03-05 10:00:00",
                "2025-04-07 14:57:14",
                "2025-04-07",
                "2025-04-07 15:40:06",
            ],
            "缴费方式": ["微信支付"] * 4,
            "实收金额": ["80.00", "59.28", "-59.28", "59.28"],
        }
    )
    data = payseg.load(frame)
    reasons = data.rejected.set_index("line")["reason"].to_dict()
    assert reasons[4] == "reversal"
    assert list(reasons.values()).count("reversed payment") == 1
    assert data.payments["amount"].tolist() == [80.0, 59.28]
    assert len(data.payments) + len(data.rejected) == 4


def test_loader_rejects_exactly_the_planted_reversals_and_duplicates(field):
    back = payseg.load(field.payments, bills=field.bills, customers=field.customers)
    reasons = back.rejected["reason"].value_counts()
    planted = field.health
    assert planted["planted_reversals"] > 0 and planted["planted_duplicates"] > 0
    assert reasons["reversed payment"] == planted["planted_reversals"]
    assert reasons["reversal"] == planted["planted_reversals"]
    assert reasons["exact duplicate row"] == planted["planted_duplicates"]
    assert len(back.payments) + len(back.rejected) == len(field.payments)
    assert (back.payments["amount"] >= 0).all()


def test_planted_deterioration_is_visible(field):
    truth = field.truth
    pay = field.payments[field.payments["amount"] > 0].dropna(subset=["period"])
    bills = field.bills.set_index(["customer_id", "period"])["due_on"]
    due = bills.reindex(pd.MultiIndex.from_arrays([pay["customer_id"], pay["period"]]))
    late = (pay["paid_at"].to_numpy() - due.to_numpy()) / np.timedelta64(1, "D")
    start = pay["customer_id"].map(truth["deteriorate_from"])
    after = (pay["period"] >= start).to_numpy()
    sym = pay["customer_id"].map(truth["symptoms"]).fillna("")
    # rising delay: days after the due date grow in the deteriorating months
    delay = sym.str.contains("delay").to_numpy()
    assert np.nanmean(late[delay & after]) > np.nanmean(late[delay & ~after]) + 5
    # auto-debit stopping: bank debits give way to manual payments
    stops = sym.str.contains("debit_stops").to_numpy()
    auto = pay["channel"].astype(str).isin(AUTO).to_numpy()
    assert auto[stops & ~after].mean() > 0.5
    assert auto[stops & after].mean() < 0.2
    # healthy customers: the same before and after a comparable month
    healthy = ~truth["deteriorating"]
    assert healthy.sum() > 0.9 * len(truth)
