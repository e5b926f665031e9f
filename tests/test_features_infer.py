"""Bills inferred for payments-only data (issue 16): skipped periods between two paid
ones are arrears, each billed an even share of the lump paid after the gap (which
pays only its own period's bill, so they stay open); the export cycle is the
region's modal gap unless the user gives one; gaps over 12 months are breaks.
Expected bills and features are computed by hand in the comments, and against a
slow per-customer reference on random data."""

import warnings

import numpy as np
import pandas as pd
import pytest

import payseg
from payseg.calendar import BillingCalendar
from payseg.features import inferred_bills
from payseg.features._infer import BREAK_MONTHS

MONTH = 30.4375
# No holidays, no rolling: read on the middle reading day 8, issued on day 9, due at
# the end of the settlement month (one cycle after the period).
PLAIN = BillingCalendar(holidays=None, roll_issue=False)


def _pay(rows, cols=("customer_id", "paid_at", "amount", "period")):
    df = pd.DataFrame(rows, columns=list(cols))
    df = df.astype(
        {"customer_id": "str", "paid_at": "datetime64[ns]", "amount": "float64"}
    )
    df["period"] = pd.PeriodIndex(df["period"], freq="M")
    return df


def _bills_of(bills, cid):
    b = bills[bills["customer_id"] == cid]
    return [
        (
            str(r.period),
            f"{r.issued_on:%Y-%m-%d}",
            f"{r.due_on:%Y-%m-%d}",
            r.amount_due,
        )
        for r in b.itertuples()
    ]


def _build(data, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X = payseg.build_features(data, **kw)
    return X, [str(w.message) for w in caught]


# "m" pays every month (gaps of 1: the region's cycle); "a" pays January, then
# nothing until a lump of 100.01 tagged April on 20 May: February and March were
# skipped. 10001 cents over three bills: 3333, 3333 and 3335 (remainder on April).
LUMP = [
    ("m", "2024-02-12", 80.0, "2024-01"),
    ("m", "2024-03-12", 80.0, "2024-02"),
    ("m", "2024-04-12", 80.0, "2024-03"),
    ("m", "2024-05-12", 80.0, "2024-04"),
    ("a", "2024-02-12", 100.0, "2024-01"),
    ("a", "2024-05-20", 100.01, "2024-04"),
]


def test_skipped_periods_get_bills_split_evenly_and_paid_late():
    bills = inferred_bills(_pay(LUMP), PLAIN, skipped=True)
    assert _bills_of(bills, "a") == [
        ("2024-01", "2024-02-09", "2024-02-29", 100.0),
        ("2024-02", "2024-03-09", "2024-03-31", 33.33),
        ("2024-03", "2024-04-09", "2024-04-30", 33.33),
        ("2024-04", "2024-05-09", "2024-05-31", 33.35),
    ]
    a = bills[bills["customer_id"] == "a"]
    assert round(a["amount_due"].iloc[1:].sum() * 100) == 10001  # cent-exact
    assert len(bills[bills["customer_id"] == "m"]) == 4  # nothing skipped
    assert bills.attrs["inference"]["skipped"] == 2

    X, notes = _build(payseg.PaymentData(payments=_pay(LUMP)), calendar=PLAIN)
    a = X.loc["a"]
    # January's bill (issued 02-09) is settled 02-12, April's (issued 05-09) by the
    # lump on 05-20, which keeps its 66.66 beyond it: delays 3 and 11 days. February
    # and March stay open: as_of is the last payment, 05-20, before April's due date
    # 05-31, so 2 late (open) of the 3 bills due, February open 50 days since 03-31.
    assert a["delay_days_mean"] == pytest.approx((3 + 11) / 2)
    assert a["late_share"] == pytest.approx(2 / 3)
    assert a["max_months_in_arrears"] == pytest.approx(50 / MONTH)
    # the lump pays 66.66 beyond its bill, over 90% of the median bill (33.34),
    # while other bills are open: a lump, settling one of the two settled bills
    assert a["lump_share"] == pytest.approx(1 / 2)
    assert a["payments_per_cycle"] == pytest.approx(2 / 4)
    assert a["cycle_months"] == 1
    assert X.loc["m", "late_share"] == 0 and X.loc["m", "lump_share"] == 0
    (note,) = [n for n in notes if "no bills table" in n]
    assert "8 bills of 2 customers" in note  # 4 of "m", 4 of "a"
    assert "2 of them for periods skipped" in note
    assert "(no region) 1 month(s) (given)" in note  # the calendar's frequency
    assert note in X.attrs["notes"]


def test_region_cycle_is_the_modal_gap_a_tie_goes_to_the_shorter():
    rows = [
        # region 东: "e1" gaps 2, 2 and "e2" gaps 1, 1: a tie, so the cycle is 1
        ("e1", "2024-02-10", 60.0, "2024-01"),
        ("e1", "2024-04-10", 60.0, "2024-03"),
        ("e1", "2024-06-10", 60.0, "2024-05"),
        ("e2", "2024-02-10", 50.0, "2024-01"),
        ("e2", "2024-03-10", 50.0, "2024-02"),
        ("e2", "2024-04-10", 50.0, "2024-03"),
        # region 西: "w1" gaps 2, 2, 2 and "w2" gap 4: the cycle is 2, so "w2"
        # skipped one bill (2024-03), not three
        ("w1", "2024-03-10", 90.0, "2024-01"),
        ("w1", "2024-05-10", 90.0, "2024-03"),
        ("w1", "2024-07-10", 90.0, "2024-05"),
        ("w1", "2024-09-10", 90.0, "2024-07"),
        ("w2", "2024-03-10", 70.0, "2024-01"),
        ("w2", "2024-07-10", 140.0, "2024-05"),
    ]
    pay = _pay(rows)
    # e1, e2 and w1 take their region from the customers table, w2 from its
    # payments (a customers table without it)
    pay["region"] = pd.Categorical(["东"] * 6 + ["西"] * 4 + ["西"] * 2)
    pay.loc[pay["customer_id"] != "w2", "region"] = np.nan
    regions = pd.Series(["东", "东", "西"], index=["e1", "e2", "w1"])
    bills = inferred_bills(pay, None, skipped=True, regions=regions)
    assert bills.attrs["inference"]["cycles"] == {
        "东": (1, "modal gap"),
        "西": (2, "modal gap"),
    }
    e1 = bills[bills["customer_id"] == "e1"]
    assert [str(p) for p in e1["period"]] == [f"2024-{m:02d}" for m in range(1, 6)]
    assert e1["amount_due"].tolist() == [60.0, 30.0, 30.0, 30.0, 30.0]
    # bimonthly: the 2024-01 bill is settled in March (read 03-08 on the default
    # calendar, a Friday, issued 03-09, a Saturday, rolled to Monday 03-11)
    w2 = bills[bills["customer_id"] == "w2"]
    assert [str(p) for p in w2["period"]] == ["2024-01", "2024-03", "2024-05"]
    assert w2["amount_due"].tolist() == [70.0, 70.0, 70.0]
    assert f"{w2['issued_on'].iloc[0]:%Y-%m-%d}" == "2024-03-11"
    assert f"{w2['due_on'].iloc[1]:%Y-%m-%d}" == "2024-05-31"

    data = payseg.PaymentData(
        payments=pay,
        customers=pd.DataFrame(
            {"region": regions}, index=pd.Index(regions.index, name="customer_id")
        ),
    )
    X, notes = _build(data)
    assert X.loc["w2", "cycle_months"] == 2 and X.loc["e1", "cycle_months"] == 1
    assert any(
        "东 1 month(s) (modal gap), 西 2 month(s) (modal gap)" in n for n in notes
    )


def test_a_gap_over_twelve_months_is_a_break_not_arrears():
    rows = [
        ("b", "2022-02-10", 40.0, "2022-01"),
        ("b", "2023-03-10", 40.0, "2023-02"),  # 13 months later: a break
        ("b", "2023-06-10", 90.0, "2023-05"),  # 3 months later: 2 skipped
        ("c", "2022-02-10", 40.0, "2022-01"),
        ("c", "2023-02-10", 120.0, "2023-01"),  # exactly 12: arrears, 11 skipped
        ("m", "2022-02-10", 40.0, "2022-01"),
        ("m", "2022-03-10", 40.0, "2022-02"),
        ("m", "2022-04-10", 40.0, "2022-03"),
    ]
    bills = inferred_bills(_pay(rows), PLAIN, skipped=True)
    b = bills[bills["customer_id"] == "b"]
    assert [str(p) for p in b["period"]] == [
        "2022-01",
        "2023-02",
        "2023-03",
        "2023-04",
        "2023-05",
    ]
    assert b["amount_due"].tolist() == [40.0, 40.0, 30.0, 30.0, 30.0]
    c = bills[bills["customer_id"] == "c"]
    assert len(c) == 13 and c["amount_due"].iloc[1:].tolist() == [10.0] * 12
    info = bills.attrs["inference"]
    assert info["breaks"] == 1 and info["skipped"] == 2 + 11
    assert BREAK_MONTHS == 12


def test_a_given_calendar_or_cycle_wins_over_the_modal_gap():
    # Everyone pays every other month: the modal gap is 2, nothing is skipped.
    rows = [
        (cid, f"2024-{m + 1:02d}-10", 50.0, f"2024-{m:02d}")
        for cid in ("x", "y")
        for m in (1, 3, 5)
    ]
    pay = _pay(rows)
    inferred = inferred_bills(pay, None, skipped=True)
    assert len(inferred) == 6 and inferred.attrs["inference"]["skipped"] == 0
    # A monthly calendar given by the user: 02 and 04 were skipped by both.
    given = inferred_bills(pay, PLAIN, skipped=True)
    assert len(given) == 10 and given.attrs["inference"]["skipped"] == 4
    assert given.attrs["inference"]["cycles"] == {"(no region)": (1, "given")}
    x = given[given["customer_id"] == "x"]
    assert x["amount_due"].tolist() == [50.0, 25.0, 25.0, 25.0, 25.0]
    # An integer cycle_months given to build_features: the same five bills, and a
    # cycle per customer beats the calendar's. February and April are paid 04-10
    # and 06-10, after their due dates 03-31 and 05-31; as_of is 06-10, before
    # May's due date: 2 late of 4 due.
    X, notes = _build(payseg.PaymentData(payments=pay), cycle_months=1)
    assert X.loc["x", "late_share"] == pytest.approx(2 / 4)
    assert any("4 of them for periods skipped" in n for n in notes)
    per_customer = pd.Series([1.0, np.nan], index=["x", "y"])
    mixed = inferred_bills(
        pay,
        BillingCalendar(frequency="bimonthly"),
        skipped=True,
        cycle_months=per_customer,
    )
    assert (mixed["customer_id"] == "x").sum() == 5
    assert (mixed["customer_id"] == "y").sum() == 3


def test_billed_customers_keep_their_bills_beside_payments_only_ones():
    bills = pd.DataFrame(
        {
            "customer_id": pd.array(["r", "r", "r"], dtype="str"),
            "period": pd.PeriodIndex(["2024-01", "2024-02", "2024-03"], freq="M"),
            "issued_on": pd.to_datetime(["2024-02-05", "2024-03-05", "2024-04-05"]),
            "due_on": pd.to_datetime(["2024-02-29", "2024-03-31", "2024-04-30"]),
            "amount_due": [100.0, 100.0, 100.0],
        }
    )
    # "r" has real bills and skips February: its February bill stays unpaid (its
    # own bills say so), no bill is inferred for it: three bills, two paid 5 days
    # after issue, none by a lump.
    rows = [
        ("r", "2024-02-10", 100.0, "2024-01"),
        ("r", "2024-04-10", 100.0, "2024-03"),
    ] + LUMP
    data = payseg.PaymentData(payments=_pay(rows), bills=bills)
    X, notes = _build(data, calendar=PLAIN, as_of="2024-06-30")
    assert X.loc["r", "payments_per_cycle"] == pytest.approx(2 / 3)
    assert X.loc["r", "delay_days_mean"] == 5
    assert X.loc["r", "lump_share"] == 0
    assert X.loc["a", "late_share"] == pytest.approx(2 / 4)
    (note,) = [n for n in notes if "have payments with periods but no bill" in n]
    assert "8 bills of 2 customers" in note and "2 of them for periods" in note
    # calendar=False: no inference at all
    off = payseg.build_features(data, calendar=False, as_of="2024-06-30")
    assert np.isnan(off.loc["a", "late_share"])


def test_a_payment_without_period_in_the_gap_may_have_paid_it():
    # "g" paid January on 02-10, something without 电费年月 on 03-12, then March
    # on 04-10: February may be that payment, no bill is inferred for it. The gap
    # from March to June (paid 07-10) has no such payment: April and May are
    # skipped, 90 split into three 30s. A payment without period before the first
    # paid period (01-05) explains no gap.
    rows = [
        ("g", "2024-01-05", 20.0, None),
        ("g", "2024-02-10", 40.0, "2024-01"),
        ("g", "2024-03-12", 40.0, None),
        ("g", "2024-04-10", 40.0, "2024-03"),
        ("g", "2024-07-10", 90.0, "2024-06"),
        ("m", "2024-02-10", 40.0, "2024-01"),
        ("m", "2024-03-10", 40.0, "2024-02"),
    ]
    bills = inferred_bills(_pay(rows), PLAIN, skipped=True)
    g = bills[bills["customer_id"] == "g"]
    assert [str(p) for p in g["period"]] == [
        "2024-01",
        "2024-03",
        "2024-04",
        "2024-05",
        "2024-06",
    ]
    assert g["amount_due"].tolist() == [40.0, 40.0, 30.0, 30.0, 30.0]
    info = bills.attrs["inference"]
    assert info["skipped"] == 2 and info["paid_gaps"] == 1


def test_lump_too_small_to_split_and_the_first_reading_day_rule():
    # 2 cents cannot pay three bills a cent or more each: nothing is inferred.
    rows = [
        ("t", "2024-02-10", 5.0, "2024-01"),
        ("t", "2024-05-10", 0.02, "2024-04"),
        ("m", "2024-02-10", 5.0, "2024-01"),
        ("m", "2024-03-10", 5.0, "2024-02"),
    ]
    cal = BillingCalendar(reading_days=(3, 9), holidays=None, roll_issue=False)
    bills = inferred_bills(_pay(rows), cal, skipped=True)
    assert (bills["customer_id"] == "t").sum() == 2
    assert bills.attrs["inference"]["skipped"] == 0
    # read on day 6, the middle of 3-9, issued a day later; the old rule (the
    # first reading day, still used by payseg.labels) reads on day 3
    assert f"{bills['issued_on'].iloc[0]:%Y-%m-%d}" == "2024-02-07"
    old = inferred_bills(_pay(rows), cal, reading_day="first")
    assert f"{old['issued_on'].iloc[0]:%Y-%m-%d}" == "2024-02-04"
    assert len(old) == 4


def _reference(pay: pd.DataFrame, cycle: int) -> pd.DataFrame:
    """Slow, obvious version of the rule for one cycle: a loop over customers and
    their paid periods, in integer cents."""
    out = []
    for cid, g in pay.groupby("customer_id", sort=False):
        loose = g.loc[g["period"].isna(), "paid_at"].tolist()
        g = g[g["period"].notna()]
        if not len(g):
            continue
        cents = (g.groupby("period")["amount"].sum() * 100).round()
        first = g.groupby("period")["paid_at"].min()
        last = g.groupby("period")["paid_at"].max()
        months = sorted(cents.index)
        prev = None
        for p in months:
            total = int(cents[p])
            gap = None if prev is None else (p - prev).n
            skipped = []
            explained = prev is not None and any(
                last[prev] < t < first[p] for t in loose
            )
            if gap is not None and cycle < gap <= BREAK_MONTHS and not explained:
                skipped = [prev + cycle * j for j in range(1, -(-gap // cycle))]
                if total < len(skipped) + 1:
                    skipped = []
            share = total // (len(skipped) + 1)
            for s in skipped:
                out.append((cid, str(s), share))
            out.append((cid, str(p), total - share * len(skipped)))
            prev = p
    return pd.DataFrame(out, columns=["customer_id", "period", "cents"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_a_slow_reference_on_random_payments(seed):
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2022-01-01")
    for i in range(40):
        months = np.sort(rng.choice(30, size=rng.integers(1, 12), replace=False))
        for m in months:
            for d in range(rng.integers(1, 3)):  # sometimes two payments a period
                amount = round(float(rng.uniform(0.01, 300)), 2)
                paid = start + pd.DateOffset(months=int(m) + 1, days=3 * d)
                rows.append((f"c{i:02d}", paid, amount, pd.Period("2022-01", "M") + m))
        # a few payments without period, anywhere (some inside gaps)
        for m in rng.choice(31, size=rng.integers(0, 3), replace=False):
            paid = start + pd.DateOffset(months=int(m), days=14)
            rows.append((f"c{i:02d}", paid, 25.0, None))
    rows.append(("loose_only", start, 10.0, None))  # no paid period: no bills
    pay = _pay(rows)
    for cycle in (1, 2, 3):
        got = inferred_bills(
            pay,
            BillingCalendar(frequency=cycle, holidays=None, roll_issue=False),
            skipped=True,
        )
        want = _reference(pay, cycle)
        assert got["customer_id"].tolist() == want["customer_id"].tolist()
        assert got["period"].astype(str).tolist() == want["period"].tolist()
        assert np.round(got["amount_due"] * 100).astype(int).tolist() == (
            want["cents"].tolist()
        )
        info = got.attrs["inference"]
        assert info["skipped"] > 0 and info["paid_gaps"] > 0  # both rules at work
