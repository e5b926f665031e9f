"""Tests for payseg.synth: determinism, shares, every planted rule, export round trip."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg
from payseg import channels, synth
from payseg.calendar import BillingCalendar, holidays, is_workday, spring_festival
from payseg.data import check_ledger
from payseg.synth import Archetype, default_archetypes

N = 4000
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def data():
    return synth.generate(N, seed=0)


@pytest.fixture(scope="module")
def matched(data):
    """Payments with their bill (by customer and period) and the customer's truth."""
    p = data.payments
    t = data.truth
    groups = channels.table()["group"]
    m = p.merge(data.bills, on=["customer_id", "period"], how="left")
    m["archetype"] = t["archetype"].reindex(m["customer_id"]).to_numpy()
    m["group"] = groups.reindex(m["channel"].astype(str)).to_numpy()
    day = m["paid_at"].dt.normalize()
    m["from_issue"] = (day - m["issued_on"]).dt.days
    m["to_due"] = (m["due_on"] - day).dt.days
    return m


def _of(frame, key):
    return frame[frame["archetype"] == key]


def _customers_of(data, key):
    return data.truth.index[data.truth["archetype"] == key]


# ---------------------------------------------------------------- schema, determinism


def test_canonical_dtypes(data):
    p, b, c = data.payments, data.bills, data.customers
    assert p.columns.tolist() == [
        "customer_id",
        "paid_at",
        "channel",
        "amount",
        "period",
        "region",
    ]
    assert str(p["customer_id"].dtype) == "str"
    assert p["paid_at"].dtype == "datetime64[ns]"
    assert isinstance(p["channel"].dtype, pd.CategoricalDtype)
    assert set(p["channel"].cat.categories) <= set(channels.codes())
    assert p["amount"].dtype == "float64" and (p["amount"] >= 0).all()
    assert p["period"].dtype == pd.PeriodDtype("M")
    assert isinstance(p["region"].dtype, pd.CategoricalDtype)
    assert isinstance(p.index, pd.RangeIndex)
    assert b.columns.tolist() == [
        "customer_id",
        "period",
        "issued_on",
        "due_on",
        "amount_due",
    ]
    assert str(b["customer_id"].dtype) == "str"
    assert b["period"].dtype == pd.PeriodDtype("M")
    assert b["issued_on"].dtype == b["due_on"].dtype == "datetime64[ns]"
    assert b["amount_due"].dtype == "float64"
    assert c.index.name == "customer_id" and str(c.index.dtype) == "str"
    assert set(c["meter"].astype(str)) == {"prepaid", "postpaid"}
    assert c["theft"].dtype == bool
    assert data.truth.index.equals(c.index)
    assert (c.index.str.len() == 10).all() and c.index.str.startswith("00").all()
    assert len(data.rejected) == 0


def test_sorted_by_customer_and_time(data):
    p = data.payments
    key = p["customer_id"].to_numpy()
    assert (key[1:] >= key[:-1]).all()
    same = key[1:] == key[:-1]
    t = p["paid_at"].to_numpy()
    assert (t[1:][same] >= t[:-1][same]).all()
    b = data.bills
    assert b["customer_id"].is_monotonic_increasing


def test_same_seed_same_data_bit_for_bit():
    a = synth.generate(500, seed=7, months=12)
    b = synth.generate(500, seed=7, months=12)
    for name in ("payments", "bills", "customers", "truth"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert np.array_equal(
        a.payments["amount"].to_numpy(), b.payments["amount"].to_numpy()
    )


def test_different_seed_differs():
    a = synth.generate(500, seed=7, months=12)
    b = synth.generate(500, seed=8, months=12)
    assert not a.truth["archetype"].equals(b.truth["archetype"])
    assert len(a.payments) != len(b.payments) or not a.payments.equals(b.payments)


# ----------------------------------------------------------------------- shares


def test_shares_within_sampling_error(data):
    shares = {k: a.share for k, a in default_archetypes().items()}
    got = data.truth["archetype"].value_counts(normalize=True)
    for key, p in shares.items():
        se = np.sqrt(p * (1 - p) / N)
        assert abs(got.get(key, 0.0) - p) < 4 * se, key


def test_default_shares_inside_domain_ranges():
    s = {k: a.share for k, a in default_archetypes().items()}
    assert 0.15 <= s["auto_debit"] <= 0.30
    assert 0.25 <= s["prompt_online"] <= 0.35
    assert 0.15 <= s["deadline"] <= 0.25
    assert 0.03 <= s["chronic_late"] <= 0.08
    assert 0.05 <= s["counter_loyal"] <= 0.10
    assert 0.02 <= s["dormant"] <= 0.05
    assert set(s) == set(synth.ARCHETYPE_KEYS)


def test_change_shares_without_code():
    d = synth.generate(
        2000, seed=1, months=6, archetypes={"auto_debit": 0.5, "chronic_late": 0.5}
    )
    got = d.truth["archetype"].value_counts(normalize=True)
    assert set(got.index) == {"auto_debit", "chronic_late"}
    assert abs(got["auto_debit"] - 0.5) < 0.05


def test_custom_archetype_specs():
    mine = Archetype(
        "night_owl",
        1.0,
        channels={"wechat": 1.0},
        anchor="issued",
        delay_days=(4.0, 4.0),
        delay_shape=50.0,
        late_prob=0.0,
    )
    d = synth.generate(300, seed=2, months=6, archetypes=[mine], noise=0.0)
    assert set(d.truth["archetype"]) == {"night_owl"}
    assert set(d.payments["channel"].astype(str)) == {"wechat"}


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"archetypes": {"vip": 1.0}},
            ValueError,
            "unknown archetype keys \\['vip'\\]",
        ),
        ({"archetypes": "deadline"}, TypeError, "archetypes must be a list"),
        ({"archetypes": {"deadline": 0.0}}, ValueError, "must add up to more than 0"),
        ({"market": "fr"}, ValueError, "market must be one of"),
        ({"n_customers": 0}, ValueError, "n_customers must be >= 1"),
        ({"months": 0}, ValueError, "months must be >= 1"),
        ({"noise": -1}, ValueError, "noise must be >= 0"),
        ({"missing_period": 2}, ValueError, "missing_period must be in"),
    ],
)
def test_generate_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        synth.generate(**{"n_customers": 10, **kwargs})


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"meter": "smart"}, "meter must be 'postpaid' or 'prepaid'"),
        ({"anchor": "read"}, "anchor must be 'issued' or 'due'"),
        ({"channels": {}}, "channels needs at least one code"),
        ({"migrate_share": 0.1}, "migrate_share > 0 needs migrate_to"),
        ({"meter": "prepaid"}, "prepaid needs topup_amount > 0"),
        ({"pay_every": (0, 1)}, "pay_every must be 1 <= lo <= hi"),
    ],
)
def test_archetype_validation(kwargs, match):
    base = {"channels": {"wechat": 1.0}}
    with pytest.raises(ValueError, match=match):
        Archetype("x", 0.1, **{**base, **kwargs})


def test_unknown_channel_in_spec_names_the_fix():
    bad = Archetype("x", 1.0, channels={"bitcoin": 1.0})
    with pytest.raises(ValueError, match="unknown channel codes \\['bitcoin'\\]"):
        synth.generate(10, archetypes=[bad])


# ------------------------------------------------------------------ planted rules


def test_auto_debit_pays_on_issue_with_automatic_channel(matched):
    a = _of(matched, "auto_debit")
    assert (a["group"] == "automatic").mean() > 0.9
    assert a["from_issue"].median() <= 1
    assert (a["from_issue"] <= 3).mean() > 0.95
    # Debits run overnight.
    auto = a[a["group"] == "automatic"]
    assert auto["paid_at"].dt.hour.between(1, 6).mean() > 0.7


def test_prompt_online_pays_early_online(matched):
    a = _of(matched, "prompt_online")
    assert (a["group"] == "online").mean() > 0.85
    assert a["from_issue"].median() <= 3
    assert (a["from_issue"] <= 7).mean() > 0.9
    assert (a["to_due"] < 0).mean() < 0.03


def test_deadline_pays_in_last_days_of_window(matched):
    a = _of(matched, "deadline").dropna(subset=["due_on"])
    assert a["to_due"].median() <= 2
    assert a["to_due"].between(0, 5).mean() > 0.85
    window = (a["due_on"] - a["issued_on"]).dt.days
    assert (a["from_issue"] > window / 2).mean() > 0.9
    assert (a["to_due"] < 0).mean() < 0.1


def test_chronic_late_pays_after_due_leaves_bills_unpaid_and_pays_fees(data, matched):
    a = _of(matched, "chronic_late").dropna(subset=["due_on"])
    assert (a["to_due"] < 0).mean() > 0.9
    # Late fee: 0.1% of the bill per overdue day, at least 1 yuan.
    late = a[a["to_due"] < 0]
    fee = np.maximum(late["amount_due"] * 0.001 * -late["to_due"], 1.0)
    assert np.allclose(late["amount"], (late["amount_due"] + fee).round(2), atol=0.011)
    # Bills without any payment: postpaid payers of other archetypes settle all but
    # the odd bill; chronic late payers leave some unpaid.
    paid = data.payments.dropna(subset=["period"])[["customer_id", "period"]]
    keys = pd.MultiIndex.from_frame(paid)
    bills = data.bills
    unpaid = ~pd.MultiIndex.from_frame(bills[["customer_id", "period"]]).isin(keys)
    arch = data.truth["archetype"].reindex(bills["customer_id"]).to_numpy()
    by_arch = pd.Series(unpaid).groupby(arch).mean()
    assert by_arch["chronic_late"] > 0.1
    for punctual in ("auto_debit", "prompt_online", "counter_loyal"):
        # 3% of payment rows have no period (missing_period), the rest match.
        assert by_arch[punctual] < 0.06
    per_customer = (
        pd.Series(unpaid[arch == "chronic_late"])
        .groupby(bills["customer_id"].to_numpy()[arch == "chronic_late"])
        .sum()
    )
    assert (per_customer > 0).mean() > 0.95


def test_counter_loyal_pays_at_counters_in_office_hours(matched):
    a = _of(matched, "counter_loyal")
    assert (a["group"] == "counter").mean() > 0.8
    counter = a[a["group"] == "counter"]
    assert counter["paid_at"].dt.hour.between(8, 17).all()
    assert (a["to_due"] < 0).mean() < 0.1


def test_agent_rural_uses_agents_in_rural_areas(data, matched):
    a = _of(matched, "agent_rural")
    assert (a["group"] == "agent").mean() > 0.75
    ids = _customers_of(data, "agent_rural")
    rural = set(synth.get_market("cn").rural_regions)
    assert data.customers.loc[ids, "region"].isin(rural).mean() > 0.8
    # Rural regions lean on agents and counters overall.
    p = matched
    is_rural = p["region"].isin(rural)
    offline = p["group"].isin(["agent", "counter"])
    assert offline[is_rural].mean() > offline[~is_rural].mean() + 0.2


@pytest.mark.parametrize("key", ["prepaid_frequent", "prepaid_occasional"])
def test_prepaid_have_no_bills_and_top_ups(data, key):
    ids = _customers_of(data, key)
    assert (data.customers.loc[ids, "meter"] == "prepaid").all()
    assert not data.bills["customer_id"].isin(ids).any()
    p = data.payments[data.payments["customer_id"].isin(ids)]
    assert p["period"].isna().all()
    assert len(p) > 0


def test_prepaid_frequent_small_and_often_occasional_large_and_rare(data):
    p = data.payments
    per_month = {}
    amount = {}
    for key in ("prepaid_frequent", "prepaid_occasional"):
        ids = _customers_of(data, key)
        sub = p[p["customer_id"].isin(ids)]
        per_month[key] = sub.groupby("customer_id").size().median() / 25
        amount[key] = sub["amount"].median()
    assert per_month["prepaid_frequent"] >= 1.5
    assert per_month["prepaid_occasional"] < 0.6
    assert amount["prepaid_frequent"] <= 100
    assert amount["prepaid_occasional"] >= 200


def test_prepaid_top_ups_follow_consumption(data):
    """The balance simulation: more consumption, more top-ups."""
    ids = _customers_of(data, "prepaid_frequent")
    t = data.truth.loc[ids]
    counts = (
        data.payments[data.payments["customer_id"].isin(ids)]
        .groupby("customer_id")
        .size()
        .reindex(ids)
    )
    spend_rate = t["kwh_month"] / t["topup_amount"]
    assert np.corrcoef(spend_rate, counts)[0, 1] > 0.8


def test_dormant_tiny_bills_few_payments(data):
    ids = _customers_of(data, "dormant")
    b = data.bills[data.bills["customer_id"].isin(ids)]
    assert b["amount_due"].median() < 20
    others = data.bills[~data.bills["customer_id"].isin(ids)]
    assert others["amount_due"].median() > 80
    n = (
        data.payments[data.payments["customer_id"].isin(ids)]
        .groupby("customer_id")
        .size()
        .reindex(ids, fill_value=0)
    )
    assert n.median() <= 8  # 25 months
    paid = data.payments[data.payments["customer_id"].isin(ids)]["amount"].sum()
    assert paid <= b["amount_due"].sum() * 1.05


def test_meter_matches_archetype(data):
    prepaid = data.truth["archetype"].str.startswith("prepaid")
    assert (data.customers["meter"].eq("prepaid") == prepaid).all()


# ---------------------------------------------------------------------- realism


def test_bills_monthly_issue_after_reading_due_at_month_end(data):
    b = data.bills
    assert b.groupby("customer_id").size().eq(24).all()
    reading = data.truth["reading_day"].reindex(b["customer_id"]).to_numpy()
    read_on = b["issued_on"].dt.to_period("M").dt.start_time + pd.to_timedelta(
        reading - 1, unit="D"
    )
    lag = (b["issued_on"] - read_on).dt.days.to_numpy()
    # Issued one to three days after the reading, or rolled off a weekend/holiday
    # to the next working day (readings themselves move off the Spring Festival).
    rolled = ~is_workday(b["issued_on"] - pd.Timedelta(days=1))
    read_on_holiday = read_on.isin(holidays("2024-01-01", "2026-12-31")["date"])
    assert (np.isin(lag, [1, 2, 3]) | rolled | read_on_holiday).all()
    assert np.isin(lag, [1, 2, 3]).mean() > 0.7
    assert is_workday(b["issued_on"]).all()
    settle = b["period"] + 1
    assert (b["issued_on"].dt.to_period("M") >= settle).all()
    month_end = settle.dt.end_time.dt.normalize()
    # Due at the end of the settlement month, or the next working day after it.
    slack = (b["due_on"] - month_end).dt.days
    assert slack.between(0, 7).all() and (slack == 0).mean() > 0.6


def test_seasonal_bills(data):
    b = data.bills[~data.bills["customer_id"].isin(_customers_of(data, "dormant"))]
    month = b["period"].dt.month
    summer = b.loc[month.isin([7, 8]), "amount_due"].mean()
    spring = b.loc[month.isin([4, 10]), "amount_due"].mean()
    assert 1.5 < summer / spring < 2.5


def test_weekends_quieter(data):
    p = data.payments
    weekend = (p["paid_at"].dt.day_of_week >= 5).mean()
    assert weekend < 2 / 7 - 0.05


def test_spring_festival_shift(matched):
    counter = matched[matched["group"].isin(["counter", "agent"])]
    day = counter["paid_at"].dt.normalize()
    sf = spring_festival([2024, 2025])
    inside = after = 0
    for _, row in sf.iterrows():
        inside += day.between(row["start"], row["end"]).sum()
        after += day.between(
            row["end"] + pd.Timedelta(days=1),
            row["end"] + pd.Timedelta(days=row["days"]),
        ).sum()
    assert after > 3 * inside


def test_paydays_move_payments(data):
    t = data.truth
    p = data.payments
    for payday in (10, 15):
        ids = t.index[t["payday"] == payday]
        dom = p.loc[p["customer_id"].isin(ids), "paid_at"].dt.day
        at = dom.isin([payday, payday + 1]).sum()
        before = dom.isin([payday - 3, payday - 2]).sum()
        assert at > 1.5 * before


def test_channel_migration_counter_to_app(data):
    t = data.truth
    mig = t[t["migrate_on"].notna() & (t["archetype"] == "counter_loyal")]
    assert 0.05 < len(mig) / (t["archetype"] == "counter_loyal").sum() < 0.2
    p = data.payments[data.payments["customer_id"].isin(mig.index)]
    when = mig["migrate_on"].reindex(p["customer_id"]).to_numpy()
    target = mig["migrate_to"].astype(str).reindex(p["customer_id"]).to_numpy()
    after = p["paid_at"].to_numpy() >= when
    on_target = p["channel"].astype(str).to_numpy() == target
    assert on_target[after].mean() > 0.85
    assert on_target[~after].mean() < 0.1


def test_missing_period_fraction(data):
    post = data.payments[
        ~data.payments["customer_id"].isin(
            data.customers.index[data.customers["meter"] == "prepaid"]
        )
    ]
    share = post["period"].isna().mean()
    assert 0.02 < share < 0.04


def test_noise_zero_gives_textbook_channels():
    d = synth.generate(800, seed=3, months=6, noise=0.0)
    fav = d.truth["favourite_channel"].astype(str).reindex(d.payments["customer_id"])
    assert (d.payments["channel"].astype(str).to_numpy() == fav.to_numpy()).all()


def test_bimonthly_calendar():
    cal = BillingCalendar(frequency="bimonthly")
    d = synth.generate(300, seed=4, months=12, calendar=cal)
    assert d.bills.groupby("customer_id").size().eq(6).all()
    assert set(d.bills["period"].dt.month) == {1, 3, 5, 7, 9, 11}


# ----------------------------------------------------------------------- markets


def test_us_market_channel_shares():
    d = synth.generate(4000, seed=5, market="us", months=6)
    fav = d.truth["favourite_channel"].astype(str).value_counts(normalize=True)
    # DOMAIN.md: autopay 35%, website 33%, mail 21%, walk-in 14% (sum 103%).
    for code, share in (
        ("card_debit", 0.35),
        ("web", 0.33),
        ("mail", 0.21),
        ("counter", 0.14),
    ):
        assert abs(fav[code] - share / 1.03) < 0.04, code
    assert (d.customers["meter"] == "postpaid").all()


def test_uk_market_shares():
    d = synth.generate(4000, seed=6, market="uk", months=6)
    t = d.truth
    assert (t["favourite_channel"] == "entrusted_debit").mean() > 0.5
    assert abs((d.customers["meter"] == "prepaid").mean() - 0.15) < 0.03
    assert abs((t["archetype"] == "chronic_late").mean() - 0.05) < 0.015


# --------------------------------------------------------------------- export


def _assert_same_rows(original, loaded):
    """Loaded good rows equal the generated ones (dates at day precision)."""
    assert len(original) == len(loaded)
    assert (
        original["customer_id"].to_numpy() == loaded["customer_id"].to_numpy()
    ).all()
    assert (
        original["paid_at"].dt.normalize().to_numpy()
        == loaded["paid_at"].dt.normalize().to_numpy()
    ).all()
    assert (
        original["channel"].astype(str).to_numpy()
        == loaded["channel"].astype(str).to_numpy()
    ).all()
    assert np.allclose(original["amount"].to_numpy(), loaded["amount"].to_numpy())
    pd.testing.assert_series_equal(
        original["period"], loaded["period"], check_names=False
    )
    assert (
        original["region"].astype(str).to_numpy()
        == loaded["region"].astype(str).to_numpy()
    ).all()


@pytest.fixture(scope="module")
def small():
    return synth.generate(1500, seed=11, months=12)


@pytest.mark.parametrize(
    "fmt, encoding", [("csv", "utf-8"), ("csv", "gb18030"), ("parquet", "utf-8")]
)
def test_round_trip_rejects_exactly_the_injected_defects(
    small, tmp_path, fmt, encoding
):
    ledger = synth.write(
        small, tmp_path, format=fmt, defects=0.01, seed=3, encoding=encoding
    )
    assert set(ledger["file"]) == {
        f"payments.{fmt}",
        f"bills.{fmt}",
        f"customers.{fmt}",
    }
    # Every kind of defect is there.
    for table, kinds in synth.DEFECT_KINDS.items():
        got = set(ledger.loc[ledger["file"] == f"{table}.{fmt}", "reason"])
        assert got >= {reason for _, reason in kinds.values()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unknown channel warning
        back = payseg.load(
            tmp_path / f"payments.{fmt}",
            bills=tmp_path / f"bills.{fmt}",
            customers=tmp_path / f"customers.{fmt}",
        )
    check_ledger(back)
    rej = back.rejected.assign(
        file=back.rejected["source"].map(
            lambda s: s.replace("\\", "/").rsplit("/", 1)[-1]
        )
    )
    want = ledger[["file", "line", "reason"]].sort_values(["file", "line"])
    got = rej[["file", "line", "reason"]].sort_values(["file", "line"])
    pd.testing.assert_frame_equal(
        want.reset_index(drop=True), got.reset_index(drop=True), check_dtype=False
    )
    _assert_same_rows(small.payments, back.payments)
    pd.testing.assert_frame_equal(
        small.bills,
        back.bills[small.bills.columns],
        check_dtype=False,
        check_categorical=False,
    )
    assert back.customers.index.equals(small.customers.index)
    assert (
        back.customers["meter"].astype(str) == small.customers["meter"].astype(str)
    ).all()
    assert (back.customers["theft"] == small.customers["theft"]).all()
    if fmt == "csv":
        assert json.loads((tmp_path / "defects.json").read_text("utf-8"))


def test_export_looks_like_a_marketing_system_file(small, tmp_path):
    synth.write(small, tmp_path)
    raw = pd.read_csv(tmp_path / "payments.csv", dtype=str, keep_default_na=False)
    assert raw.columns.tolist() == [
        "户号",
        "缴费时间",
        "缴费方式",
        "实收金额",
        "电费年月",
        "供电单位",
    ]
    spellings = raw["缴费方式"]
    assert spellings.nunique() > 3 * small.payments["channel"].nunique()
    assert spellings.str.contains("缴费").any() and spellings.str.isdigit().any()
    assert spellings.str.contains("[\uff10-\uff5a]").any()  # full-width
    amounts = raw["实收金额"]
    assert amounts.str.endswith("元").any() and amounts.str.startswith("¥").any()
    dates = raw["缴费时间"]
    assert dates.str.fullmatch(r"\d{8}").any()
    assert dates.str.fullmatch(r"\d{4}/\d{1,2}/\d{1,2} \d{2}:\d{2}").any()
    assert dates.str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").any()
    assert raw["电费年月"].str.fullmatch(r"\d{4}年\d{1,2}月").any()
    assert (raw["电费年月"] == "").mean() > 0.01
    bills = pd.read_csv(tmp_path / "bills.csv", dtype=str, nrows=3)
    assert bills.columns.tolist() == [
        "户号",
        "电费年月",
        "发行日期",
        "缴费截止日期",
        "应收金额",
    ]


def test_large_amounts_with_thousands_separators_round_trip(small, tmp_path):
    big = payseg.PaymentData(
        payments=small.payments.assign(amount=small.payments["amount"] * 100),
        customers=small.customers,
    )
    ledger = synth.write(big, tmp_path, seed=1)
    raw = pd.read_csv(tmp_path / "payments.csv", dtype=str, keep_default_na=False)
    assert raw["实收金额"].str.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}").any()
    back = payseg.load(tmp_path / "payments.csv")
    # Two top-ups of one amount on one day, exported as a date only, are exact
    # duplicates: the writer lists them as the loader will reject them.
    dup = ledger[ledger["file"] == "payments.csv"]
    assert set(dup["kind"]) <= {"natural_duplicate"}
    assert back.rejected["line"].tolist() == dup["line"].tolist()
    kept = np.setdiff1d(np.arange(len(raw)), dup["line"].to_numpy() - 2)
    assert np.allclose(back.payments["amount"], big.payments["amount"].iloc[kept])


def test_clean_export_loads_without_rejections(small, tmp_path):
    ledger = synth.write(small, tmp_path, style="canonical")
    assert ledger.empty
    assert not (tmp_path / "defects.json").exists()
    raw = pd.read_csv(tmp_path / "payments.csv", dtype=str, nrows=2)
    assert raw.columns.tolist() == [
        "customer_id",
        "paid_at",
        "channel",
        "amount",
        "period",
        "region",
    ]
    back = payseg.load(tmp_path / "payments.csv", bills=tmp_path / "bills.csv")
    assert back.rejected.empty
    _assert_same_rows(small.payments, back.payments)


def test_write_is_deterministic(small, tmp_path):
    a = synth.write(small, tmp_path / "a", defects=0.01, seed=5)
    b = synth.write(small, tmp_path / "b", defects=0.01, seed=5)
    pd.testing.assert_frame_equal(a.drop(columns="source"), b.drop(columns="source"))
    assert (tmp_path / "a" / "payments.csv").read_bytes() == (
        tmp_path / "b" / "payments.csv"
    ).read_bytes()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"format": "xlsx"}, "format must be 'csv' or 'parquet'"),
        ({"style": "pretty"}, "style must be 'export' or 'canonical'"),
        ({"defects": 1.5}, "defects must be a fraction"),
        ({"encoding": "latin-1"}, "encoding must be"),
    ],
)
def test_write_rejects_bad_arguments(small, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        synth.write(small, tmp_path, **kwargs)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 60),
    months=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    defects=st.sampled_from([0.0, 0.02, 0.2]),
    market=st.sampled_from(["cn", "us", "uk"]),
    fmt=st.sampled_from(["csv", "parquet"]),
)
def test_round_trip_property(tmp_path_factory, n, months, seed, defects, market, fmt):
    """Any small data set, any defect rate: the loader keeps the good rows and
    rejects exactly the rows of the ledger."""
    data = synth.generate(n, seed=seed, months=months, market=market)
    out = tmp_path_factory.mktemp("rt")
    ledger = synth.write(data, out, format=fmt, defects=defects, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        back = payseg.load(
            out / f"payments.{fmt}",
            bills=out / f"bills.{fmt}",
            customers=out / f"customers.{fmt}",
        )
    check_ledger(back)
    got = back.rejected.assign(
        file=back.rejected["source"].map(
            lambda s: s.replace("\\", "/").rsplit("/", 1)[-1]
        )
    )
    want = ledger[["file", "line", "reason"]].sort_values(["file", "line"])
    got = got[["file", "line", "reason"]].sort_values(["file", "line"])
    assert want.values.tolist() == got.values.tolist()
    natural = int((ledger["kind"] == "natural_duplicate").sum())
    assert len(back.payments) + len(back.bills) == (
        len(data.payments) + len(data.bills) - natural
    )


def test_uk_has_no_late_fee_us_a_small_one():
    for market, rate, floor in (("uk", 0.0, 0.0), ("us", 0.0005, 0.0)):
        d = synth.generate(
            1500, seed=9, market=market, months=6, archetypes={"chronic_late": 1.0}
        )
        m = d.payments.merge(d.bills, on=["customer_id", "period"])
        late = (m["paid_at"].dt.normalize() - m["due_on"]).dt.days
        m, late = m[late > 0], late[late > 0]
        assert len(m) > 100
        fee = np.maximum(m["amount_due"] * rate * late, floor)
        assert np.allclose(m["amount"], (m["amount_due"] + fee).round(2), atol=0.011)


def test_write_real_loaded_data_round_trips(tmp_path):
    """write() also takes data that came from a real file (no truth, no channel)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        real = payseg.load(
            DATA / "export_payments.csv",
            bills=DATA / "export_bills.csv",
            customers=DATA / "export_customers.csv",
        )
    raw = real.payments.copy()
    raw.loc[raw.index[:2], "channel"] = np.nan  # a file without channel on some rows
    data = payseg.PaymentData(payments=raw, bills=real.bills, customers=real.customers)
    ledger = synth.write(data, tmp_path, defects=0.0)
    back = payseg.load(
        tmp_path / "payments.csv",
        bills=tmp_path / "bills.csv",
        customers=tmp_path / "customers.csv",
    )
    assert back.rejected.empty and ledger.empty
    assert back.payments["customer_id"].tolist() == raw["customer_id"].tolist()
    assert back.payments["channel"].isna().tolist() == raw["channel"].isna().tolist()
    assert np.allclose(back.payments["amount"], raw["amount"])
    assert back.customers.index.tolist() == real.customers.index.tolist()
