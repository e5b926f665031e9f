"""Billing-cycle features: per-cycle rates, fallback and catch-up (lump) payments."""

import warnings

import numpy as np
import pandas as pd
import pytest
from _reference_features import check_family
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg


def _bill(cid, period, amount=100.0):
    p = pd.Period(period, freq="M")
    issued = p.to_timestamp() + pd.Timedelta(days=4)
    return (cid, p, issued, p.to_timestamp(how="end").normalize(), amount)


def _data():
    """Hand-made: monthly and bimonthly on-time payers, an auto-debit customer with
    two late fallback payments, a catch-up payer settling two bills per payment."""
    bills = [_bill("m", f"2024-0{i}") for i in range(1, 7)]
    bills += [_bill("b", f"2024-0{i}", 200.0) for i in (1, 3, 5)]
    bills += [_bill("f", f"2024-0{i}") for i in range(1, 5)]
    bills += [_bill("l", f"2024-0{i}") for i in range(1, 5)]
    pays = [("m", f"2024-0{i}-10", "alipay", 100.0, f"2024-0{i}") for i in range(1, 7)]
    pays += [("b", f"2024-0{i}-12", "alipay", 200.0, f"2024-0{i}") for i in (1, 3, 5)]
    pays += [
        ("f", "2024-01-08", "card_debit", 100.0, "2024-01"),
        ("f", "2024-03-05", "counter", 100.0, "2024-02"),  # debit failed: late
        ("f", "2024-03-08", "card_debit", 100.0, "2024-03"),
        ("f", "2024-05-03", "alipay", 100.0, "2024-04"),  # late, through an app
        # catch-up payments without a period: each settles two bills
        ("l", "2024-02-20", "counter", 200.0, None),
        ("l", "2024-04-20", "counter", 200.0, None),
    ]
    b = pd.DataFrame(
        bills, columns=["customer_id", "period", "issued_on", "due_on", "amount_due"]
    )
    b["customer_id"] = b["customer_id"].astype("str")
    b["period"] = pd.PeriodIndex(b["period"], freq="M")
    p = pd.DataFrame(
        pays, columns=["customer_id", "paid_at", "channel", "amount", "period"]
    )
    p["customer_id"] = p["customer_id"].astype("str")
    p["paid_at"] = pd.to_datetime(p["paid_at"])
    p["channel"] = pd.Categorical(p["channel"])
    p["period"] = pd.PeriodIndex(pd.to_datetime(p["period"]), freq="M")
    return payseg.PaymentData(payments=p, bills=b)


def test_cycle_features_by_hand():
    X = payseg.build_features(_data(), families=["cycle"], as_of="2024-06-30")
    # a bimonthly customer paying every bill once is as frequent per cycle as a
    # monthly one (per month they differ by half)
    assert X.loc["m", "cycle_months"] == 1
    assert X.loc["b", "cycle_months"] == 2
    assert X.loc["m", "payments_per_cycle"] == 1
    assert X.loc["b", "payments_per_cycle"] == 1
    # f: bills 02 and 04 settled after their due date by counter / app
    assert X.loc["f", "fallback_share"] == pytest.approx(2 / 4)
    # never automatic: no debit to fail
    assert X.loc["m", "fallback_share"] == 0
    assert X.loc["l", "fallback_share"] == 0
    # l: each payment settles two bills; 2 payment days over 4 bill periods
    assert X.loc["l", "lump_share"] == 1
    assert X.loc["l", "payments_per_cycle"] == 0.5
    assert X.loc[["m", "b", "f"], "lump_share"].eq(0).all()


def test_a_gap_over_a_year_is_a_break_not_a_cycle():
    # Bill periods 2023-01, 2023-02 and 2024-06 (16 months later: the home stood
    # empty): the cycle is 1 month, not the median of 1 and 16. Periods only 14
    # months apart: no cycle at all, rather than a 14-month one.
    bills = [_bill("v", p) for p in ("2023-01", "2023-02", "2024-06")]
    bills += [_bill("d", p) for p in ("2023-01", "2024-03")]
    bills += [_bill("y", p) for p in ("2023-01", "2024-01")]  # 12: still a cycle
    b = pd.DataFrame(
        bills, columns=["customer_id", "period", "issued_on", "due_on", "amount_due"]
    ).astype({"customer_id": "str"})
    b["period"] = pd.PeriodIndex(b["period"], freq="M")
    p = pd.DataFrame(
        {
            "customer_id": pd.Series(["v", "d", "y"], dtype="str"),
            "paid_at": pd.to_datetime(["2024-06-10", "2024-03-10", "2024-01-10"]),
            "amount": [100.0, 100.0, 100.0],
        }
    )
    data = payseg.PaymentData(payments=p, bills=b)
    X = payseg.build_features(data, families=["cycle"], as_of="2024-06-30")
    assert X.loc["v", "cycle_months"] == 1
    assert np.isnan(X.loc["d", "cycle_months"])
    assert X.loc["y", "cycle_months"] == 12


def test_cycle_features_nan_without_bills():
    data = _data()
    data = payseg.PaymentData(payments=data.payments)
    X = payseg.build_features(data, families=["cycle"], calendar=False)
    assert X.isna().all().all()


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    with_period=st.booleans(),
    with_channel=st.booleans(),
    as_of=st.sampled_from([None, "2024-05-15", "2024-03-31"]),
)
def test_cycle_matches_reference(seed, with_period, with_channel, as_of):
    check_family(
        "cycle", seed, with_period=with_period, with_channel=with_channel, as_of=as_of
    )


def test_bimonthly_half_as_frequent_per_year_but_not_per_cycle():
    # the same habit (one payment per bill) on a monthly and a bimonthly calendar
    data = _data()
    X = payseg.build_features(data, families=["cycle", "value"], as_of="2024-06-30")
    per_year = X["pay_count_per_year"]
    assert per_year["b"] == pytest.approx(per_year["m"] / 2)
    assert np.isclose(
        X.loc["b", "payments_per_cycle"], X.loc["m", "payments_per_cycle"]
    )


def _catch_up_data(tagged: bool):
    """Three unpaid monthly bills of 100 settled by one payment of 300 tagged with
    the latest period only (or carrying no period), beside a prompt payer."""
    bills = [_bill("c", f"2024-0{i}") for i in range(1, 7)]
    bills += [_bill("p", f"2024-0{i}") for i in range(1, 7)]
    pays = [("c", "2024-01-10", "counter", 100.0, "2024-01")]
    pays += [("c", "2024-04-20", "counter", 300.0, "2024-04" if tagged else None)]
    pays += [("c", f"2024-0{i}-10", "counter", 100.0, f"2024-0{i}") for i in (5, 6)]
    # p pays a little more than each bill (rounding up): no lump
    pays += [("p", f"2024-0{i}-10", "alipay", 105.0, f"2024-0{i}") for i in range(1, 7)]
    b = pd.DataFrame(
        bills, columns=["customer_id", "period", "issued_on", "due_on", "amount_due"]
    )
    b["customer_id"] = b["customer_id"].astype("str")
    b["period"] = pd.PeriodIndex(b["period"], freq="M")
    p = pd.DataFrame(
        pays, columns=["customer_id", "paid_at", "channel", "amount", "period"]
    )
    p["customer_id"] = p["customer_id"].astype("str")
    p["paid_at"] = pd.to_datetime(p["paid_at"])
    p["channel"] = pd.Categorical(p["channel"])
    p["period"] = pd.PeriodIndex(pd.to_datetime(p["period"]), freq="M")
    return payseg.PaymentData(payments=p, bills=b)


def test_lump_tagged_with_one_period_found_by_amount():
    X = payseg.build_features(
        _catch_up_data(tagged=True), families=["cycle"], as_of="2024-06-30"
    )
    # the 300 payment tagged 2024-04 settles the April bill only (02 and 03 stay
    # open): 4 settled bills (01, 04, 05, 06), one of them by the lump
    assert X.loc["c", "lump_share"] == pytest.approx(1 / 4)
    assert X.loc["p", "lump_share"] == 0
    # the same payment without a period settles 02, 03 and 04: counted once each
    X = payseg.build_features(
        _catch_up_data(tagged=False), families=["cycle"], as_of="2024-06-30"
    )
    assert X.loc["c", "lump_share"] == pytest.approx(3 / 6)


@st.composite
def _catch_up_frames(draw):
    """Monthly bills of varied amounts; each customer pays some bills one by one and
    others in catch-up payments (tagged with the latest period, or untagged) of
    roughly the skipped bills' sum."""
    n_cust = draw(st.integers(1, 4))
    bills, pays = [], []
    for c in range(n_cust):
        cid = f"c{c}"
        n = draw(st.integers(1, 8))
        amounts = draw(
            st.lists(st.sampled_from([0, 40, 80, 100, 250, -1]), min_size=n, max_size=n)
        )  # -1: a bill without amount due (paid as if it were 100)
        skipped = []
        for m in range(n):
            per = pd.Period("2024-01", "M") + m
            issued = per.to_timestamp() + pd.Timedelta(days=2)
            due = np.nan if amounts[m] < 0 else float(amounts[m])
            amounts[m] = 100 if amounts[m] < 0 else amounts[m]
            bills.append((cid, per, issued, issued + pd.Timedelta(days=20), due))
            how = draw(
                st.sampled_from(["pay", "skip", "catch_up", "catch_up_untagged"])
            )
            if how == "skip":
                skipped.append(amounts[m])
                continue
            owed = amounts[m] + (sum(skipped) if how != "pay" else 0)
            scale = draw(st.sampled_from([0.8, 0.95, 1.0, 1.1]))
            tag = None if how == "catch_up_untagged" else str(per)
            day = issued + pd.Timedelta(days=draw(st.integers(0, 40)))
            pays.append((cid, day, "counter", round(owed * scale, 2), tag))
            if how != "pay":
                skipped = []
    b = pd.DataFrame(
        bills, columns=["customer_id", "period", "issued_on", "due_on", "amount_due"]
    )
    b["customer_id"] = b["customer_id"].astype("str")
    b["period"] = pd.PeriodIndex(b["period"], freq="M")
    p = pd.DataFrame(
        pays, columns=["customer_id", "paid_at", "channel", "amount", "period"]
    )
    p["customer_id"] = p["customer_id"].astype("str")
    p["paid_at"] = pd.to_datetime(p["paid_at"])
    p["channel"] = pd.Categorical(p["channel"])
    p["period"] = pd.PeriodIndex(pd.to_datetime(p["period"]), freq="M")
    p = p[p["amount"] > 0]
    return payseg.PaymentData(payments=p.reset_index(drop=True), bills=b)


@settings(max_examples=40, deadline=None)
@given(data=_catch_up_frames())
def test_lump_share_matches_slow_reference_on_catch_up_payers(data):
    from _reference_features import reference_features

    if not len(data.payments):
        return
    as_of = "2024-12-31"
    fast = payseg.build_features(data, families=["cycle"], as_of=as_of)
    ref, _ = reference_features(data, as_of=as_of)
    np.testing.assert_allclose(
        fast["lump_share"].to_numpy(),
        ref.loc[fast.index, "lump_share"].to_numpy(),
        equal_nan=True,
    )


# ---------------------------------------------------------------- a given cycle


def _notes(record):
    return [str(w.message) for w in record if "billing cycle" in str(w.message)]


def test_given_cycle_argument_wins_and_contradictions_are_named():
    data = _data()
    with pytest.warns(UserWarning) as record:
        X = payseg.build_features(
            data, families=["cycle"], as_of="2024-06-30", cycle_months=2
        )
    # every customer gets the given cycle ...
    assert X["cycle_months"].eq(2).all()
    # ... and the three monthly ones (m, f, l: bills one month apart) are named
    (note,) = _notes(record)
    assert "contradicts the bill periods of 3 customer(s)" in note
    assert "f given 2 month(s), bill periods 1 month(s) apart" in note
    assert "b given" not in note
    assert note in X.attrs["notes"]
    # the other cycle columns do not depend on it
    ref = payseg.build_features(data, families=["cycle"], as_of="2024-06-30")
    cols = ["payments_per_cycle", "fallback_share", "lump_share"]
    pd.testing.assert_frame_equal(X[cols], ref[cols])


def test_given_cycle_series_partial_and_consistent():
    data = _data()
    given = pd.Series({"b": 2, "m": np.nan, "zz": 1})
    with pytest.warns(
        UserWarning, match=r"1 customer id\(s\) that are not in the data \(zz\)"
    ) as record:
        X = payseg.build_features(
            data, families=["cycle"], as_of="2024-06-30", cycle_months=given
        )
    assert not _notes(record)  # b's bills are two months apart: no contradiction
    # b given, m NaN and f, l absent: inferred
    assert X["cycle_months"].to_dict() == {"b": 2.0, "f": 1.0, "l": 1.0, "m": 1.0}


def test_given_cycle_for_a_customer_with_one_bill_fills_the_gap():
    data = _data()
    bills = data.bills[
        ~(
            (data.bills["customer_id"] == "b")
            & (data.bills["period"] > pd.Period("2024-01", "M"))
        )
    ]
    data = payseg.PaymentData(
        payments=data.payments, bills=bills.reset_index(drop=True)
    )
    X = payseg.build_features(data, families=["cycle"], as_of="2024-06-30")
    assert np.isnan(X.loc["b", "cycle_months"])  # one period: nothing to infer
    X = payseg.build_features(
        data, families=["cycle"], as_of="2024-06-30", cycle_months=pd.Series({"b": 2})
    )
    assert X.loc["b", "cycle_months"] == 2


@pytest.mark.parametrize(
    "bad", [0, 13, pd.Series({"m": 1.5}), pd.Series({"m": "双月"})]
)
def test_given_cycle_argument_checked(bad):
    with pytest.raises(ValueError, match="cycle_months"):
        payseg.build_features(_data(), families=["cycle"], cycle_months=bad)


def test_given_cycle_payments_only_longer_gap_is_no_contradiction():
    # payments-only: the bimonthly customer pays every other month, so the periods
    # inferred from payments are 2 apart; another customer skipped a period
    pay = _data().payments
    data = payseg.PaymentData(payments=pay[pay["customer_id"].isin(["b", "m"])])
    given = pd.Series({"b": 1, "m": 2})
    with pytest.warns(UserWarning) as record:
        X = payseg.build_features(data, families=["cycle"], cycle_months=given)
    (note,) = _notes(record)
    # m's paid periods are 1 month apart, less than the given 2: named; b's gap of 2
    # over a given 1 can be unpaid periods: not named
    assert "of 1 customer(s)" in note and "m given 2" in note
    assert X["cycle_months"].to_dict() == {"b": 1.0, "m": 2.0}


def test_cycle_column_of_the_customers_table_loaded_and_used():
    # an export with Chinese headers: 抄表周期 in the customers table
    pay = pd.DataFrame(
        {
            "户号": ["1"] * 3 + ["2"] * 6 + ["3"] * 3,
            "缴费日期": ["2024-01-20", "2024-03-20", "2024-05-20"]
            + [f"2024-0{i}-20" for i in range(1, 7)]
            + ["2024-01-20", "2024-03-20", "2024-05-20"],
            "实收金额": [100.0] * 12,
        }
    )
    bills = pd.DataFrame(
        {
            "户号": ["1"] * 3 + ["2"] * 6 + ["3"] * 3,
            "电费年月": ["202401", "202403", "202405"]
            + [f"20240{i}" for i in range(1, 7)]
            + ["202401", "202403", "202405"],
            "应收金额": [100.0] * 12,
        }
    )
    customers = pd.DataFrame(
        {
            "用户编号": ["1", "2", "3", "4"],
            "抄表周期（月）": ["双月", "每月", "每周", "1"],
        }
    )
    with pytest.warns(
        UserWarning, match=r"1 billing-cycle value\(s\) not read.*'每周' \(line 4\)"
    ):
        data = payseg.load(pay, bills=bills, customers=customers)
    assert data.customers["cycle_months"].to_dict() == pytest.approx(
        {"1": 2.0, "2": 1.0, "3": np.nan, "4": 1.0}, nan_ok=True
    )
    assert len(data.rejected) == 0  # the row is kept, not rejected
    X = payseg.build_features(data, families=["cycle"])
    # 1 given 2 (agrees), 2 given 1 (agrees), 3 unreadable: inferred 2, 4 no data
    assert X["cycle_months"].to_dict() == pytest.approx(
        {"1": 2.0, "2": 1.0, "3": 2.0, "4": 1.0}
    )
    # the argument wins over the column
    X = payseg.build_features(
        data, families=["cycle"], cycle_months=pd.Series({"4": 3})
    )
    assert X.loc["4", "cycle_months"] == 3


def test_given_cycle_out_of_core_equals_in_memory():
    from payseg.scale import dask_build_features

    data = _data()
    customers = pd.DataFrame(
        {"cycle_months": [2.0, np.nan, 1.0, 1.0]},
        index=pd.Index(["b", "f", "l", "m"], dtype="str", name="customer_id"),
    )
    data = payseg.PaymentData(
        payments=data.payments, bills=data.bills, customers=customers
    )
    given = pd.Series({"f": 2})  # f's bills are monthly: a contradiction
    with pytest.warns(UserWarning, match="contradicts the bill periods"):
        ref = payseg.build_features(
            data, families=["cycle"], as_of="2024-06-30", cycle_months=given
        )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        X = dask_build_features(
            data.payments,
            data.bills,
            data.customers,
            families=["cycle"],
            as_of="2024-06-30",
            npartitions=2,
            cycle_months=given,
        ).compute()
    # the ids of the other partition are no cause for a warning
    assert not [w for w in record if "not in the data" in str(w.message)]
    pd.testing.assert_frame_equal(
        X.sort_index()[ref.columns], ref, check_dtype=False, check_freq=False
    )
    assert X.loc["f", "cycle_months"] == 2
