"""Invoice-level bills, allocation, inferred calendars, bills-only data, the robust
as_of and late fees by customer type, on small hand-written canonical tables with
hand-computed values; and the public IBM receivables sample against the independent
pandas computation of tests/data/real/expected.py."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _reference_features import (
    assert_frame_close,
    assume_as_of_not_before_data,
    random_data,
    reference_features,
    with_invoices,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg
from payseg._schema import empty
from payseg.calendar import BillingCalendar
from payseg.exceptions import PaymentDataError

MONTH = 30.4375
REAL = Path(__file__).parent / "data" / "real"


def _pay(rows, cols=("customer_id", "paid_at", "amount", "period")):
    df = pd.DataFrame(rows, columns=list(cols))
    df = df.astype(
        {"customer_id": "str", "paid_at": "datetime64[ns]", "amount": "float64"}
    )
    if "period" in df:
        df["period"] = pd.PeriodIndex(df["period"], freq="M")
    if "bill_id" in df:
        df["bill_id"] = df["bill_id"].astype("str")
    return df


def _bills(rows, cols=("customer_id", "period", "issued_on", "due_on", "amount_due")):
    df = pd.DataFrame(rows, columns=list(cols))
    df = df.astype(
        {
            "customer_id": "str",
            "issued_on": "datetime64[ns]",
            "due_on": "datetime64[ns]",
            "amount_due": "float64",
        }
    )
    df["period"] = pd.PeriodIndex(df["period"], freq="M")
    for c in ("arrears", "late_fee"):
        if c in df:
            df[c] = df[c].astype("float64")
    if "bill_id" in df:
        df["bill_id"] = df["bill_id"].astype("str")
    return df


def _no_warning(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------ invoices in one month
INVOICES = _bills(
    [
        ("a", "2024-01", "2024-01-05", "2024-02-04", 100.0, "A1"),
        ("a", "2024-01", "2024-01-15", "2024-02-14", 50.0, "A2"),
        ("a", "2024-01", "2024-01-25", "2024-02-24", 30.0, "A3"),
    ],
    cols=("customer_id", "period", "issued_on", "due_on", "amount_due", "bill_id"),
)
INVOICE_PAYMENTS = [  # paid one by one, not in issue order
    ("a", "2024-01-20", 50.0, "2024-01", "A2"),
    ("a", "2024-02-10", 100.0, "2024-01", "A1"),  # 6 days late
    ("a", "2024-02-20", 30.0, "2024-01", "A3"),
]


def test_invoices_paid_one_by_one_with_bill_ids():
    pay = _pay(
        INVOICE_PAYMENTS, cols=("customer_id", "paid_at", "amount", "period", "bill_id")
    )
    X = _no_warning(
        payseg.build_features,
        payseg.PaymentData(payments=pay, bills=INVOICES),
        as_of="2024-03-31",
    )
    a = X.loc["a"]
    # delays 36 (A1), 5 (A2), 26 (A3); days to due -6, 25, 4
    assert a["delay_days_mean"] == pytest.approx(67 / 3)
    assert a["delay_days_median"] == 26
    assert a["days_to_due_mean"] == pytest.approx(23 / 3)
    assert a["late_share"] == pytest.approx(1 / 3)
    assert a["unpaid_share"] == 0
    assert a["payments_per_bill"] == 1
    assert a["arrears_amount"] == 0
    assert a["max_months_in_arrears"] == pytest.approx(6 / MONTH)
    assert a["late_fee_est"] == pytest.approx(1.0)  # 100 x 0.1% x 6 = 0.6 -> min 1


def test_invoices_with_periods_only_are_settled_oldest_first_with_a_warning():
    pay = _pay([r[:4] for r in INVOICE_PAYMENTS])
    data = payseg.PaymentData(payments=pay, bills=INVOICES.drop(columns="bill_id"))
    with pytest.warns(
        UserWarning,
        match=r"1 customer\(s\) have several bills in one "
        r"period .*e\.g\. a 2024-01",
    ):
        X = payseg.build_features(data, as_of="2024-03-31")
    a = X.loc["a"]
    # 50 then 100 fill A1 (100, settled 02-10) and A2 (50, settled 02-10); 30 -> A3
    assert a["delay_days_mean"] == pytest.approx((36 + 26 + 26) / 3)
    assert a["late_share"] == pytest.approx(1 / 3)
    assert a["unpaid_share"] == 0
    assert a["payments_per_bill"] == pytest.approx(4 / 3)  # the 100 pays A1 and A2
    assert "several bills in one period" in X.attrs["notes"][0]


def test_several_bills_note_lists_customers_in_index_order_with_threads(monkeypatch):
    # Each customer in its own block, built by two threads; the first block is made
    # to finish last. The note must still name the customers in index order (it
    # used to follow the order in which the threads finished).
    import time

    from payseg.features import _block

    pay = _pay([r[:4] for r in INVOICE_PAYMENTS])
    ids = ["a", "b", "c"]
    pays = pd.concat([pay.assign(customer_id=c) for c in ids], ignore_index=True)
    bills = INVOICES.drop(columns="bill_id")
    bills = pd.concat([bills.assign(customer_id=c) for c in ids], ignore_index=True)
    data = payseg.PaymentData(
        payments=pays.astype({"customer_id": "str"}),
        bills=bills.astype({"customer_id": "str"}),
    )
    original = _block.Block.multi_bill_periods

    def slow_first(self):
        if self.index[0] == "a":
            time.sleep(0.3)
        return original(self)

    monkeypatch.setattr(_block, "BLOCK_ROWS", 1)
    monkeypatch.setattr(_block.Block, "multi_bill_periods", slow_first)
    notes = {}
    for n_jobs in (None, 2):
        with pytest.warns(UserWarning, match="several bills in one period"):
            X = payseg.build_features(data, as_of="2024-03-31", n_jobs=n_jobs)
        notes[n_jobs] = [n for n in X.attrs["notes"] if "several bills" in n]
    assert notes[None] == notes[2]
    assert "e.g. a 2024-01, b 2024-01, c 2024-01" in notes[2][0]


LUMP_BILLS = _bills(
    [
        ("c", "2024-01", "2024-02-01", "2024-02-20", 100.0),
        ("c", "2024-02", "2024-03-01", "2024-03-20", 120.0),
        ("c", "2024-03", "2024-04-01", "2024-04-20", 80.0),
    ]
)


def test_one_lump_payment_settles_three_bills():
    pay = _pay([("c", "2024-04-25", 300.0, None)])
    X = _no_warning(
        payseg.build_features,
        payseg.PaymentData(payments=pay, bills=LUMP_BILLS),
        as_of="2024-04-30",
    )
    c = X.loc["c"]
    assert c["unpaid_share"] == 0
    assert c["late_share"] == 1
    assert c["delay_days_mean"] == pytest.approx((84 + 55 + 24) / 3)
    assert c["payments_per_bill"] == 1
    assert c["arrears_amount"] == 0
    assert c["max_months_in_arrears"] == pytest.approx(65 / MONTH)
    # 100 x 0.1% x 65 + 120 x 0.1% x 36 + max(80 x 0.1% x 5, 1)
    assert c["late_fee_est"] == pytest.approx(6.5 + 4.32 + 1.0)


def test_partial_payments_leave_the_rest_open():
    bills = LUMP_BILLS.iloc[:2]
    pay = _pay(
        [
            ("c", "2024-02-10", 60.0, None),  # January: 40 still open
            ("c", "2024-03-05", 70.0, None),
        ]
    )  # 40 to January, 30 to February
    X = payseg.build_features(
        payseg.PaymentData(payments=pay, bills=bills), as_of="2024-03-31"
    )
    c = X.loc["c"]
    assert c["delay_days_mean"] == 33  # January settled 03-05; February still open
    assert c["unpaid_share"] == 0.5
    assert c["late_share"] == 1
    assert c["arrears_amount"] == pytest.approx(90.0)  # February: 120 - 30
    assert c["payments_per_bill"] == 1.5
    assert c["max_months_in_arrears"] == pytest.approx(14 / MONTH)
    assert c["late_fee_est"] == pytest.approx(2.0)  # 40 x 14 and 90 x 11: min 1 each


def test_partial_payment_within_a_period_of_several_bills():
    bills = _bills(
        [
            ("d", "2024-01", "2024-02-01", "2024-02-20", 100.0),
            ("d", "2024-01", "2024-02-03", "2024-02-20", 40.0),  # supplementary bill
        ]
    )
    pay = _pay([("d", "2024-02-10", 120.0, "2024-01")])
    with pytest.warns(UserWarning, match="several bills"):
        X = payseg.build_features(
            payseg.PaymentData(payments=pay, bills=bills), as_of="2024-03-31"
        )
    assert X.loc["d", "arrears_amount"] == pytest.approx(20.0)
    assert X.loc["d", "unpaid_share"] == 0.5
    assert X.loc["d", "delay_days_mean"] == 9


# ----------------------------------------------------------- payments-only exports
PERIOD_PAYMENTS = [
    ("p", "2025-04-10", 100.0, "2025-03"),
    ("p", "2025-05-31", 120.0, "2025-04"),
    ("p", "2025-07-02", 90.0, "2025-05"),  # due 06-30: 2 days late
]
# Inferred bills are read on the middle reading day (8 of 1-15) and issued on day 9.
PLAIN = BillingCalendar(holidays=None, roll_issue=False)


def test_payments_only_data_gets_timing_from_the_calendar():
    data = payseg.PaymentData(payments=_pay(PERIOD_PAYMENTS))
    with pytest.warns(UserWarning, match="no bills table: 3 bills of 1 customers"):
        X = payseg.build_features(data, calendar=PLAIN)
    p = X.loc["p"]
    # issued 04-09, 05-09, 06-09; due 04-30, 05-31, 06-30
    assert p["delay_days_mean"] == pytest.approx((1 + 22 + 23) / 3)
    assert p["days_to_due_mean"] == pytest.approx((20 + 0 - 2) / 3)
    assert p["late_share"] == pytest.approx(1 / 3)
    assert p["max_months_in_arrears"] == pytest.approx(2 / MONTH)
    assert np.isnan(p["unpaid_share"]) and np.isnan(p["arrears_amount"])
    assert X.attrs["calendar_inferred"] is True
    assert X.attrs["as_of"] == pd.Timestamp("2025-07-02")  # from the payments
    # the default calendar gives timing too; calendar=False turns inference off
    with pytest.warns(UserWarning, match="no bills table"):
        assert payseg.build_features(data)["delay_days_mean"].notna().all()
    off = _no_warning(payseg.build_features, data, calendar=False)
    assert np.isnan(off.loc["p", "delay_days_mean"])
    assert off.attrs["calendar_inferred"] is False


def test_payments_only_customers_beside_billed_ones_get_inferred_bills():
    # A province extract: one district exports bills, another only payments with
    # 电费年月. The payments-only customer must get the same timing as when its
    # payments are read alone (the no-bills path above), not NaN; the billed
    # customer keeps its own bills, and as_of comes from data, not inferred dates.
    billed = [("b", "2025-04-20", 100.0, "2025-04")]
    pay = _pay(PERIOD_PAYMENTS + billed)
    bills = _bills([("b", "2025-04", "2025-04-05", "2025-04-30", 100.0)])
    data = payseg.PaymentData(payments=pay, bills=bills)
    with pytest.warns(UserWarning, match="1 customers have payments with periods"):
        X = payseg.build_features(data, calendar=PLAIN)
    assert X.attrs["as_of"] == pd.Timestamp("2025-07-02")
    with pytest.warns(UserWarning, match="no bills table"):
        alone = payseg.build_features(
            payseg.PaymentData(payments=_pay(PERIOD_PAYMENTS)),
            calendar=PLAIN,
            as_of="2025-07-02",
        )
    cols = ["delay_days_mean", "days_to_due_mean", "late_share"]
    pd.testing.assert_series_equal(X.loc["p", cols], alone.loc["p", cols])
    assert X.loc["b", "delay_days_mean"] == 15  # its own bill: issued 04-05
    # calendar=False: no inference, the payments-only customer has no timing
    off = payseg.build_features(data, calendar=False)
    assert np.isnan(off.loc["p", "delay_days_mean"])


def test_bimonthly_calendar_inference():
    cal = BillingCalendar(frequency="bimonthly", holidays=None, roll_issue=False)
    data = payseg.PaymentData(payments=_pay([("q", "2025-05-10", 80.0, "2025-03")]))
    with pytest.warns(UserWarning, match="bimonthly"):
        X = payseg.build_features(data, calendar=cal, as_of="2025-06-30")
    assert X.loc["q", "delay_days_mean"] == 1  # read 05-08, issued 05-09, due 05-31
    assert X.loc["q", "days_to_due_mean"] == 21


# ------------------------------------------------------------------ bills only
def test_bills_only_data_uses_reported_arrears_and_late_fees():
    bills = _bills(
        [
            ("a", "2025-01", "2025-02-05", "2025-02-28", 100.0, 0.0, 0.0),
            ("a", "2025-02", "2025-03-05", "2025-03-31", 50.0, 50.0, 2.5),
            ("a", "2025-03", "2025-04-05", "2025-04-30", 120.0, 120.0, None),
            ("b", "2025-01", "2025-02-05", "2025-02-28", 80.0, None, None),
        ],
        cols=(
            "customer_id",
            "period",
            "issued_on",
            "due_on",
            "amount_due",
            "arrears",
            "late_fee",
        ),
    )
    data = payseg.PaymentData(payments=empty("payments"), bills=bills)
    X = payseg.build_features(data)
    assert X.attrs["as_of"] == pd.Timestamp("2025-04-05")  # latest bill issue
    assert X.loc["a", "arrears_amount"] == 170.0  # reported, not 100 + 50 computed
    assert X.loc["a", "late_fee_est"] == pytest.approx(2.5)  # bill 3 not yet due
    assert X.loc["b", "arrears_amount"] == 80.0  # computed: nothing paid
    assert X.loc["b", "late_fee_est"] == pytest.approx(80 * 0.001 * 36)


def test_no_date_at_all_is_an_error_not_1970():
    bills = _bills([("a", "2025-01", None, "2025-02-28", 100.0)])
    data = payseg.PaymentData(payments=empty("payments"), bills=bills)
    with pytest.raises(PaymentDataError, match="as_of cannot be inferred.*as_of="):
        payseg.build_features(data)
    assert pd.isna(payseg.features.default_as_of(data))
    X = payseg.build_features(data, as_of="2025-03-31")
    assert X.loc["a", "arrears_amount"] == 100.0


# ------------------------------------------------------------------- robust as_of
def _monthly_payers(extra=()):
    rows = [
        (f"c{i}", f"2024-{m:02d}-10", 100.0, None)
        for i in range(5)
        for m in range(1, 13)
    ]
    return payseg.PaymentData(payments=_pay(rows + list(extra)))


def test_one_mistyped_date_does_not_move_as_of():
    data = _monthly_payers([("c0", "2025-09-03", 100.0, None)])  # 267 days later
    with pytest.warns(UserWarning, match=r"1 isolated row.*2025-09-03 \(1 row\)"):
        X = payseg.build_features(data, families=["value"])
    assert X.attrs["as_of"] == pd.Timestamp("2024-12-10")
    assert X.attrs["as_of_rule"] == "default, outliers ignored"
    assert X.attrs["extract_days"] == 335  # 2024-01-10 to 2024-12-10
    assert (X["recency_days"] == 0).all()
    assert X.loc["c0", "amount_total"] == 1200.0  # the outlier is after as_of
    assert payseg.features.default_as_of(data) == pd.Timestamp("2024-12-10")
    given = _no_warning(
        payseg.build_features, data, families=["value"], as_of="2025-09-03"
    )
    assert given.loc["c1", "recency_days"] == 267
    assert given.attrs["as_of_rule"] == "given"


def test_small_or_regular_data_keeps_its_latest_date():
    small = payseg.PaymentData(
        payments=_pay([("a", "2024-01-10", 1.0, None), ("a", "2024-09-10", 1.0, None)])
    )
    assert payseg.features.default_as_of(small) == pd.Timestamp("2024-09-10")
    regular = _monthly_payers([("c0", "2025-01-20", 100.0, None)])  # 41 days: no gap
    X = _no_warning(payseg.build_features, regular, families=["value"])
    assert X.attrs["as_of"] == pd.Timestamp("2025-01-20")


# ------------------------------------------------------- late fee by customer type
def test_late_fee_by_customer_type():
    bills = _bills(
        [(c, "2024-11", "2024-12-01", "2024-12-20", 1000.0) for c in ("n", "r", "u")]
    )
    customers = pd.DataFrame(
        {
            "region": pd.Categorical(["x"] * 3),
            "meter": pd.Categorical(["postpaid"] * 3),
            "customer_type": ["non-residential", "residential", None],
        },
        index=pd.Index(["n", "r", "u"], dtype="str", name="customer_id"),
    )
    data = payseg.PaymentData(
        payments=empty("payments"), bills=bills, customers=customers
    )
    X = payseg.build_features(data, families=["arrears"], as_of="2025-01-10")
    # 21 days overdue: 11 in 2024 at 0.2 %, 10 after the year end at 0.3 %
    assert X.loc["n", "late_fee_est"] == pytest.approx(1000 * (0.002 * 11 + 0.003 * 10))
    assert X.loc["r", "late_fee_est"] == pytest.approx(1000 * 0.001 * 21)
    assert X.loc["u", "late_fee_est"] == pytest.approx(1000 * 0.001 * 21)
    chinese = customers.assign(customer_type=["非居民", "居民", None])
    Y = payseg.build_features(
        payseg.PaymentData(payments=empty("payments"), bills=bills, customers=chinese),
        families=["arrears"],
        as_of="2025-01-10",
    )
    pd.testing.assert_frame_equal(X, Y)


# ------------------------------------------------- public invoice-level receivables
def _receivables():
    df = pd.read_csv(
        REAL / "WA_Fn-UseC_-Accounts-Receivable.csv",
        dtype={"invoiceNumber": str, "customerID": str},
    )
    for col in ["InvoiceDate", "DueDate", "SettledDate"]:
        df[col] = pd.to_datetime(df[col], format="%m/%d/%Y")
    period = df["InvoiceDate"].dt.to_period("M")
    ids = df["customerID"].astype("str")
    bills = pd.DataFrame(
        {
            "customer_id": ids,
            "period": period,
            "issued_on": df["InvoiceDate"],
            "due_on": df["DueDate"],
            "amount_due": df["InvoiceAmount"],
            "bill_id": df["invoiceNumber"].astype("str"),
        }
    )
    pay = pd.DataFrame(
        {
            "customer_id": ids,
            "paid_at": df["SettledDate"],
            "amount": df["InvoiceAmount"],
            "period": period,
            "bill_id": df["invoiceNumber"].astype("str"),
        }
    )
    expected = pd.read_csv(
        REAL / "receivables_expected.csv", dtype={"customerID": str}
    ).set_index("customerID")
    return pay, bills, expected


def _compare(X, expected):
    X = X.reindex(expected.index)
    pairs = {
        "delay_days_mean": expected["mean_days_to_settle"],
        "delay_days_median": expected["median_days_to_settle"],
        "days_to_due_mean": -expected["mean_days_past_due"],
        "late_share": expected["late_share"],
        "unpaid_share": expected["late_share"] * 0,
        "payments_per_bill": expected["late_share"] * 0 + 1,
        "amount_total": expected["total_amount"],
    }
    return {
        col: ~np.isclose(X[col].to_numpy(), exp.to_numpy(), rtol=0, atol=1e-6)
        for col, exp in pairs.items()
    }


def test_receivables_with_invoice_numbers_match_the_independent_computation():
    pay, bills, expected = _receivables()
    data = payseg.PaymentData(payments=pay, bills=bills)
    X = _no_warning(payseg.build_features, data)  # dates as in the file
    assert len(X) == len(expected) == 100
    for col, bad in _compare(X, expected).items():
        assert not bad.any(), (col, list(expected.index[bad][:5]))


def test_receivables_with_periods_only_warn_naming_the_duplicated_bills():
    pay, bills, expected = _receivables()
    data = payseg.PaymentData(
        payments=pay.drop(columns="bill_id"), bills=bills.drop(columns="bill_id")
    )
    with pytest.warns(
        UserWarning,
        match=r"100 customer\(s\) have several bills in "
        r"one period \(686 customer-periods, e\.g\. "
        r"0187-ERLSR 2012-05",
    ):
        X = payseg.build_features(data)
    # no invoice is left unpaid and nothing is lost, whatever the allocation
    bad = _compare(X, expected)
    assert not bad["unpaid_share"].any() and not bad["amount_total"].any()
    # customers without two invoices in one month get exactly the same values
    month = bills["period"]
    several = bills.groupby(["customer_id", month]).size().gt(1).groupby(level=0).any()
    single = ~several.reindex(expected.index).to_numpy()
    for col, wrong in bad.items():
        assert not (wrong & single).any(), col


# ------------------------------------------- invoice-level random data vs reference
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    payment_ids=st.booleans(),
    with_period=st.booleans(),
    as_of=st.sampled_from([None, "2024-05-15"]),
)
def test_allocation_matches_the_reference_on_random_invoices(
    seed, payment_ids, with_period, as_of
):
    data = with_invoices(
        random_data(seed, with_period=with_period), seed, payment_ids=payment_ids
    )
    assume_as_of_not_before_data(data, as_of)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # several bills per period
        fast = payseg.build_features(data, as_of=as_of, calendar=False)
    ref, _ = reference_features(data, as_of=as_of)
    assert_frame_close(fast, ref)


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", "object", "category"])
def test_unbilled_check_agrees_with_pandas_isin(dtype):
    # The Arrow kernel that finds customers with payments but no bill gives what
    # pandas' isin gives, missing ids and every id dtype included.
    from payseg.features._build import _isin

    values = pd.Series(["a", "b", None, "c", "a", "d"], dtype=dtype)
    among = pd.Series(["a", None, "c", "x"], dtype=dtype)
    expected = values.isin(among).to_numpy()
    assert expected.tolist() == [True, False, True, True, True, False]
    np.testing.assert_array_equal(_isin(values, among), expected)
    assert not _isin(values, among[:0]).any()


@pytest.mark.parametrize("ids", ["digits", "text"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_unbilled_payments_agree_with_pandas_isin(ids, shuffle):
    # build_features finds the payments of customers without any bill from the
    # customer grouping it makes anyway; the same rows as pandas' isin of the ids,
    # for payments sorted by customer or not, digit ids or not, and customers
    # known only from the customers table.
    from payseg.features._build import unbilled_payments
    from payseg.features._grouping import customer_index

    rng = np.random.default_rng(7)
    names = [f"{i:05d}" if ids == "digits" else f"k{i}" for i in range(40)]
    pay_ids = np.repeat(names[:30], rng.integers(1, 4, 30))
    if shuffle:
        pay_ids = rng.permutation(pay_ids)
    bill_ids = sorted(rng.choice(names, 25, replace=False))
    pay = pd.DataFrame(
        {
            "customer_id": pd.Series(pay_ids, dtype="str"),
            "paid_at": pd.Timestamp("2024-01-05"),
            "amount": 1.0,
        }
    )
    bills = _bills([(c, "2024-01", "2024-01-01", "2024-01-31", 5.0) for c in bill_ids])
    customers = pd.DataFrame(index=pd.Index(names, name="customer_id"))
    data = payseg.PaymentData(payments=pay, bills=bills, customers=customers)
    expected = ~pay["customer_id"].isin(bills["customer_id"]).to_numpy()
    assert 0 < expected.sum() < len(expected)  # both kinds of rows
    got = unbilled_payments(customer_index(data))
    np.testing.assert_array_equal(got, expected)


def test_unbilled_customer_without_periods_infers_no_calendar():
    # Customer "z" has payments but no bill and no period on them: nothing can be
    # inferred, so the billed customer keeps its real-bill columns (unpaid_share is
    # NaN only when bills were inferred) and no calendar note is raised.
    pay = _pay(
        [
            ("a", "2024-01-20", 50.0, "2024-01"),
            ("z", "2024-01-21", 10.0, None),
            ("z", "2024-02-21", 10.0, None),
        ]
    )
    bills = _bills(
        [
            ("a", "2024-01", "2024-01-05", "2024-02-04", 50.0),
            ("a", "2024-02", "2024-02-05", "2024-03-04", 60.0),
        ]
    )
    X = _no_warning(
        payseg.build_features,
        payseg.PaymentData(payments=pay, bills=bills),
        as_of="2024-03-31",
    )
    assert X.attrs["calendar_inferred"] is False
    assert X.loc["a", "unpaid_share"] == 0.5  # February's bill is overdue, unpaid
    assert np.isnan(X.loc["z", "unpaid_share"])
    assert X.loc["z", "amount_total"] == 20.0


@pytest.mark.parametrize("seed", range(5))
def test_any_period_of_unbilled_rows_agrees_with_pandas(seed):
    # build_features skips the inference (and the subset of the payments it takes)
    # when no unbilled row has a period; the check agrees with pandas' notna.
    from payseg.features._build import _any_period

    rng = np.random.default_rng(seed)
    n = 50
    months = pd.period_range("2024-01", periods=6, freq="M")
    period = pd.Series(months[rng.integers(0, 6, n)])
    period[rng.random(n) < 0.8] = pd.NaT
    pay = pd.DataFrame({"period": period})
    rows = rng.random(n) < 0.3
    expected = bool(pay["period"][rows].notna().any())
    assert _any_period(pay, rows) is expected
    assert _any_period(pay, np.zeros(n, dtype=bool)) is False
    assert _any_period(pay.drop(columns="period"), rows) is False
