"""Loading each kind of real export (issue 15, loader half), on hand-written files.

Every file here is written by hand (openpyxl or plain text), never by payseg's
generator, and every expected table and ledger row is derived by hand.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import payseg
from payseg._schema import empty
from payseg.data import check_ledger

TITLE = "title/notes row above the header"

PAY_ROWS = [
    ["XX供电公司 2025年1月-2025年3月 居民缴费明细"],
    ["制表日期：2025-04-05"],
    ["户号", "户名", "缴费日期", "缴费方式", "实收金额（元）", "电费年月"],
    ["0001", "张三", "2025-02-10", "支付宝", 120.5, "202501"],
    ["0001", "张三", "2025-03-12", "微信", 98, "202502"],
    ["0002", "李四", "2025-02-28", "营业厅", 200, "202501"],
    ["0003", "王五", "2025-03-01", "网银", 75, "202502"],
    ["合计", "", "", "", 493.5, ""],
    ["制表人：赵六"],
]
BILL_ROWS = [
    ["XX供电公司 应收明细"],
    ["户号", "电费年月", "发行日期", "缴费截止日期", "应收金额"],
    ["0001", "202501", "2025-02-03", "2025-02-28", 120.5],
    ["0001", "202502", "2025-03-03", "2025-03-31", 98],
    ["0002", "202501", "2025-02-03", "2025-02-28", 200],
    ["0003", "202502", "2025-03-03", "2025-03-31", 75],
    ["合计", "", "", "", 493.5],
]


def _workbook(path, sheets):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _csv(path, rows):
    # As Excel saves a sheet: every row as wide as the widest.
    width = max(len(r) for r in rows)
    text = (
        "\n".join(
            ",".join(str(c) for c in [*row, *[""] * (width - len(row))]) for row in rows
        )
        + "\n"
    )
    path.write_text(text, encoding="utf-8")
    return path


def _quiet(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return payseg.load(*args, **kw)


def test_two_sheet_workbook_reads_each_sheet_in_its_own_role(tmp_path):
    wb = _workbook(tmp_path / "wb.xlsx", {"缴费明细": PAY_ROWS, "应收明细": BILL_ROWS})
    data = _quiet(wb, bills=wb)
    check_ledger(data)
    p, b = data.payments, data.bills
    assert p["customer_id"].tolist() == ["0001", "0001", "0002", "0003"]
    assert p["amount"].tolist() == [120.5, 98.0, 200.0, 75.0]
    assert p["channel"].tolist() == ["alipay", "wechat", "counter", "internet_banking"]
    assert b["customer_id"].tolist() == ["0001", "0001", "0002", "0003"]
    assert b["period"].astype(str).tolist() == [
        "2025-01",
        "2025-02",
        "2025-01",
        "2025-02",
    ]
    assert b["amount_due"].tolist() == [120.5, 98.0, 200.0, 75.0]
    assert b["due_on"].notna().all() and b["issued_on"].notna().all()
    pay_src, bill_src = f"{wb}[缴费明细]", f"{wb}[应收明细]"
    assert data.sources == {
        pay_src: {"role": "payments", "encoding": "excel"},
        bill_src: {"role": "bills", "encoding": "excel"},
    }
    assert data.counts == {
        pay_src: {"read": 8, "kept": 4},
        bill_src: {"read": 6, "kept": 4},
    }
    rej = data.rejected
    assert rej[["source", "line", "reason"]].values.tolist() == [
        [pay_src, 1, TITLE],
        [pay_src, 2, TITLE],
        [pay_src, 8, "summary row (合计)"],
        [pay_src, 9, "notes row (制表人)"],
        [bill_src, 1, TITLE],
        [bill_src, 7, "summary row (合计)"],
    ]
    # 户名 on payment rows goes to the customers table.
    assert data.customers["customer_name"].to_dict() == {
        "0001": "张三",
        "0002": "李四",
        "0003": "王五",
    }
    text = data.summary()
    assert f"{pay_src}: payments, read 8, kept 4" in text
    assert f"{bill_src}: bills, read 6, kept 4" in text


def test_workbook_equals_the_two_sheets_as_csv_files(tmp_path):
    wb = _workbook(tmp_path / "wb.xlsx", {"缴费明细": PAY_ROWS, "应收明细": BILL_ROWS})
    from_wb = _quiet(wb, bills=wb)
    pay_csv = _csv(tmp_path / "pay.csv", PAY_ROWS)
    bill_csv = _csv(tmp_path / "bill.csv", BILL_ROWS)
    from_csv = _quiet(pay_csv, bills=bill_csv)
    pd.testing.assert_frame_equal(from_wb.payments, from_csv.payments)
    pd.testing.assert_frame_equal(from_wb.bills, from_csv.bills)
    pd.testing.assert_frame_equal(from_wb.customers, from_csv.customers)
    rename = {str(pay_csv): f"{wb}[缴费明细]", str(bill_csv): f"{wb}[应收明细]"}
    want = from_csv.rejected.assign(source=from_csv.rejected["source"].map(rename))
    pd.testing.assert_frame_equal(from_wb.rejected, want)
    # Passed for payments only, the bills sheet is not read as payments either.
    only = _quiet(wb)
    pd.testing.assert_frame_equal(only.payments, from_csv.payments)
    assert len(only.bills) == 0


def test_sheet_argument_names_the_sheets(tmp_path):
    wb = _workbook(tmp_path / "wb.xlsx", {"缴费明细": PAY_ROWS, "应收明细": BILL_ROWS})
    data = _quiet(wb, bills=wb, sheet={"payments": "缴费明细", "bills": 1})
    assert len(data.payments) == 4 and len(data.bills) == 4
    with pytest.raises(payseg.PaymentDataError, match="no sheet '月报'"):
        payseg.load(wb, sheet="月报")


def test_cli_reads_a_workbook_for_two_roles(tmp_path):
    from click.testing import CliRunner

    from payseg.cli import main

    wb = _workbook(tmp_path / "wb.xlsx", {"缴费明细": PAY_ROWS, "应收明细": BILL_ROWS})
    res = CliRunner().invoke(
        main,
        [
            "segment",
            str(wb),
            "--bills",
            str(wb),
            "--sheet",
            "缴费明细",
            "--bills-sheet",
            "应收明细",
            "--k",
            "2",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert f"{wb}[应收明细]: bills, read 6, kept 4" in res.output


# ------------------------------------------------------------------ reversals
def _pay(rows, cols=("户号", "缴费时间", "实收金额")):
    return pd.DataFrame(rows, columns=list(cols), dtype="str")


def _ledger(data):
    return data.rejected[["line", "value", "reason"]].values.tolist()


def test_status_column_reversal_pair_cancels_both_rows():
    raw = _pay(
        [
            ["1", "2025-04-01 10:00:00", "100", "正常"],
            ["1", "2025-04-01 10:05:00", "-100", "冲正"],
            ["2", "2025-04-02 09:00:00", "50", "已冲正"],
            ["2", "2025-04-02 09:30:00", "50", "冲正"],
            ["3", "2025-04-03 08:00:00", "60", "正常"],
        ],
        ("户号", "缴费时间", "实收金额", "交易状态"),
    )
    data = payseg.load(raw)
    check_ledger(data)
    assert data.payments["customer_id"].tolist() == ["3"]
    assert _ledger(data) == [
        [2, "reversed by line 3", "reversed payment"],
        [3, "reverses line 2", "reversal"],
        [4, "reversed by line 5", "reversed payment"],
        [5, "reverses line 4", "reversal"],
    ]
    assert data.health["reversed_pairs"] == 2
    assert "reversed payments cancelled by a reversal or refund row" in data.summary()


def test_negative_amount_matches_latest_earlier_payment_within_window():
    raw = _pay(
        [
            ["1", "2025-01-05", "80"],  # line 2: too early for the -80 of line 6
            ["1", "2025-05-01", "80"],  # line 3: reversed by line 6
            ["1", "2025-05-02", "30"],  # line 4: kept
            ["2", "2025-05-01", "40"],  # line 5: other customer, kept
            ["1", "2025-05-03", "-80"],  # line 6
            ["2", "2025-05-04", "-15"],  # line 7: no payment of 15
        ]
    )
    data = payseg.load(raw)
    check_ledger(data)
    assert data.payments[["customer_id", "amount"]].values.tolist() == [
        ["1", 80.0],
        ["1", 30.0],
        ["2", 40.0],
    ]
    assert _ledger(data) == [
        [3, "reversed by line 6", "reversed payment"],
        [6, "reverses line 3", "reversal"],
        [7, "-15", "negative amount without a matching payment"],
    ]
    # With a window of 200 days the -80 still takes the latest payment.
    assert _ledger(payseg.load(raw, reversal_window=200))[0][0] == 3


def test_refund_after_double_payment_keeps_one_payment():
    raw = _pay(
        [
            ["7", "2025-04-01", "120", "缴费"],
            ["7", "2025-04-01", "120", "缴费"],  # same day, no time: a second payment
            ["7", "2025-04-06", "120", "退费"],  # refund (positive amount, status 退费)
        ],
        ("户号", "缴费日期", "缴费金额", "收费类型"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = payseg.load(raw)
    check_ledger(data)
    assert data.payments["amount"].tolist() == [120.0]
    assert _ledger(data) == [
        [3, "reversed by line 4", "reversed payment"],
        [4, "reverses line 3", "reversal"],
    ]


def test_transaction_id_matches_a_reversal_with_a_mistyped_amount():
    raw = _pay(
        [
            ["1", "2025-04-01 10:00:01", "105", "T1"],
            ["1", "2025-04-01 11:00:02", "-150", "T1"],  # typed 150 for 105
            ["1", "2025-04-02 10:00:03", "150", "T2"],
        ],
        ("户号", "缴费时间", "实收金额", "交易流水号"),
    )
    data = payseg.load(raw)
    assert data.payments["txn_id"].tolist() == ["T2"]
    assert _ledger(data) == [
        [2, "reversed by line 3", "reversed payment"],
        [3, "reverses line 2", "reversal"],
    ]


def test_reversal_matching_is_one_to_one():
    raw = _pay(
        [
            ["1", "2025-04-01", "50"],
            ["1", "2025-04-02", "50"],
            ["1", "2025-04-03", "-50"],
            ["1", "2025-04-04", "-50"],
            ["1", "2025-04-05", "-50"],
        ]
    )
    # every row cancels or is cancelled: nothing is kept, so load refuses the file
    # and the error carries the ledger
    with pytest.raises(payseg.PaymentDataError, match="every one of the 5 rows") as err:
        payseg.load(raw)
    data = payseg.PaymentData(
        payments=empty("payments"), rejected=err.value.rejected, counts=err.value.counts
    )
    check_ledger(data)
    assert _ledger(data) == [
        [2, "reversed by line 5", "reversed payment"],
        [3, "reversed by line 4", "reversed payment"],
        [4, "reverses line 3", "reversal"],
        [5, "reverses line 2", "reversal"],
        [6, "-50", "negative amount without a matching payment"],
    ]


# ---------------------------------------------------------------- duplicates
def test_same_day_repeats_without_time_are_kept_and_counted():
    raw = _pay(
        [
            ["1", "2025-04-01", "50"],
            ["1", "2025-04-01", "50"],
            ["2", "2025-04-01 10:00", "60"],
            ["2", "2025-04-01 10:00", "60"],
        ]
    )
    with pytest.warns(UserWarning, match="1 rows repeat another row of the same day"):
        data = payseg.load(raw)
    check_ledger(data)
    assert data.payments["amount"].tolist() == [50.0, 50.0, 60.0]
    assert _ledger(data) == [[5, "same as line 4", "exact duplicate row"]]
    assert data.health["same_day_kept"] == 1
    assert "same-day repeats kept as second payments" in data.summary()


def test_transaction_ids_make_repeats_export_duplicates():
    raw = _pay(
        [
            ["1", "2025-04-01", "50", "T1"],
            ["1", "2025-04-01", "50", "T1"],
            ["1", "2025-04-01", "50", "T2"],
        ],
        ("户号", "缴费日期", "金额", "流水号"),
    )
    data = payseg.load(raw)
    assert data.payments["txn_id"].tolist() == ["T1", "T2"]
    assert _ledger(data) == [[3, "same as line 2", "exact duplicate row"]]


# ----------------------------------------------------------------- customers
def test_customer_attributes_meter_theft_and_type(tmp_path):
    path = _csv(
        tmp_path / "cust.csv",
        [
            [
                "户号",
                "户名",
                "用电地址",
                "供电单位",
                "收费员",
                "用户类型",
                "电压等级",
                "表计类型",
                "用电量",
                "窃电标志",
            ],
            [
                "01",
                "张三",
                "东街1号",
                "城东供电所",
                "刘",
                "城镇居民",
                "220V",
                "智能费控表",
                "210",
                "√",
            ],
            [
                "02",
                "某厂",
                "西路2号",
                "城西供电所",
                "陈",
                "一般工商业",
                "10kV",
                "普通表",
                "1500元",
                "有窃电",
            ],
            [
                "03",
                "李四",
                "北巷3号",
                "城东供电所",
                "刘",
                "居民",
                "220V",
                "预付费表",
                "",
                "无",
            ],
        ],
    )
    pay = _pay([["01", "2025-04-01", "50"]])
    data = payseg.load(pay, customers=path)
    c = data.customers
    assert c.index.tolist() == ["01", "02", "03"]
    assert c["customer_name"].tolist() == ["张三", "某厂", "李四"]
    assert c["address"].tolist() == ["东街1号", "西路2号", "北巷3号"]
    assert c["collector"].tolist() == ["刘", "陈", "刘"]
    assert c["customer_type"].tolist() == [
        "residential",
        "non_residential",
        "residential",
    ]
    assert c["voltage"].tolist() == ["220V", "10kV", "220V"]
    assert c["meter"].tolist() == ["prepaid", "postpaid", "prepaid"]
    np.testing.assert_array_equal(c["kwh"].to_numpy(), [210.0, 1500.0, np.nan])
    assert c["theft"].tolist() == [True, True, False]


@pytest.mark.parametrize(
    "flag, want",
    [
        ("√", True),
        ("有窃电", True),
        ("窃电", True),
        ("是", True),
        ("Y", True),
        ("1", True),
        ("否", False),
        ("", False),
        ("无窃电", False),
    ],
)
def test_theft_flag_spellings(flag, want):
    cust = pd.DataFrame({"户号": ["1"], "窃电": [flag]})
    data = payseg.load(_pay([["1", "2025-04-01", "5"]]), customers=cust)
    assert data.customers["theft"].tolist() == [want]


def test_id_reused_across_supply_units_warns_and_composite_key():
    raw = _pay(
        [
            ["100", "2025-04-01", "50", "城东供电所"],
            ["100", "2025-04-02", "70", "城西供电所"],
            ["200", "2025-04-03", "30", "城西供电所"],
        ],
        ("户号", "缴费日期", "金额", "供电单位"),
    )
    with pytest.warns(
        UserWarning,
        match=r"1 customer ids appear in more than one "
        r"供电单位 \(e.g. 100\).*id_with_region=True",
    ):
        data = payseg.load(raw)
    assert data.health["reused_ids"] == 1 and data.n_customers == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keyed = payseg.load(raw, id_with_region=True)
    assert keyed.payments["customer_id"].tolist() == [
        "城东供电所/100",
        "城西供电所/100",
        "城西供电所/200",
    ]
    assert keyed.n_customers == 3


# ----------------------------------------------------------- invoice-level bills
def test_invoice_level_bills_with_arrears_and_late_fees():
    bills = pd.DataFrame(
        {
            "户号": ["1", "1", "2"],
            "发票号码": ["INV-1", "INV-2", "INV-3"],
            "发行日期": ["2025-03-02", "2025-03-20", "2025-03-05"],
            "缴费截止日期": ["2025-03-31", "2025-04-19", "2025-04-04"],
            "应收金额": ["100", "20", "300"],
            "欠费金额": ["0", "20", "-5"],
            "滞纳金": ["", "0.4", "0"],
        }
    )
    pay = _pay(
        [["1", "2025-03-10", "100", "INV-1"]], ("户号", "缴费日期", "金额", "账单编号")
    )
    data = payseg.load(pay, bills=bills)
    b = data.bills
    assert b["bill_id"].tolist() == ["INV-1", "INV-2", "INV-3"]
    assert b["period"].astype(str).tolist() == ["2025-03"] * 3  # the issue month
    assert b["amount_due"].tolist() == [100.0, 20.0, 300.0]
    assert b["arrears"].tolist() == [0.0, 20.0, 0.0]  # a credit is no arrears
    np.testing.assert_array_equal(b["late_fee"].to_numpy(), [np.nan, 0.4, 0.0])
    assert data.payments["bill_id"].tolist() == ["INV-1"]
    assert "duplicated_bills" not in data.health


def test_bills_without_period_id_or_issue_date_are_refused():
    bills = pd.DataFrame({"户号": ["1"], "应收金额": ["5"]})
    with pytest.raises(payseg.PaymentDataError, match="period"):
        payseg.load(_pay([["1", "2025-04-01", "5"]]), bills=bills)


def test_duplicated_bills_per_period_are_counted():
    bills = pd.DataFrame(
        {
            "户号": ["1", "1", "2"],
            "电费年月": ["202503"] * 3,
            "应收金额": ["100", "30", "50"],
        }
    )
    data = payseg.load(_pay([["1", "2025-04-01", "5"]]), bills=bills)
    assert data.health["duplicated_bills"] == 2
    assert data.health["customers_with_duplicated_bills"] == 1
    assert "bills sharing a (customer, period) with another bill" in data.summary()


# ------------------------------------------------------------- other systems
def test_english_headers_of_receivables_software(tmp_path):
    pay = _csv(
        tmp_path / "payments.csv",
        [
            ["Account Number", "Payment Date", "Amount Paid", "Invoice Number"],
            ["A-1", "2013-01-15", "45.10", "I-9"],
        ],
    )
    bills = _csv(
        tmp_path / "invoices.csv",
        [
            [
                "Customer ID",
                "Invoice Number",
                "Invoice Date",
                "Due Date",
                "Invoice Amount",
            ],
            ["A-1", "I-9", "2013-01-02", "2013-02-01", "45.10"],
        ],
    )
    data = payseg.load(pay, bills=bills)
    assert data.payments[["customer_id", "amount", "bill_id"]].values.tolist() == [
        ["A-1", 45.1, "I-9"]
    ]
    assert data.bills[["customer_id", "bill_id", "amount_due"]].values.tolist() == [
        ["A-1", "I-9", 45.1]
    ]
    other = payseg.load(
        pd.DataFrame(
            {"user_id": ["u1"], "record_date": ["2020-01-02"], "payment_amount": ["7"]}
        )
    )
    assert other.payments["amount"].tolist() == [7.0]


def test_headerless_space_separated_file(tmp_path):
    path = tmp_path / "pay.txt"
    path.write_text(
        "0001 2025-04-01 120.5\n"
        "0002   2025-04-02  88\n"
        "0003 2025-04-03\n"
        "\n"
        "0004 2025-04-04 10\n",
        encoding="utf-8",
    )
    data = payseg.load(
        path, header=None, names=["户号", "缴费日期", "实收金额"], sep=r"\s+"
    )
    check_ledger(data)
    assert data.payments[["customer_id", "amount"]].values.tolist() == [
        ["0001", 120.5],
        ["0002", 88.0],
        ["0004", 10.0],
    ]
    assert data.rejected[["line", "reason"]].values.tolist() == [
        [3, "wrong number of fields"],
        [4, "empty row"],
    ]


def test_headerless_semicolon_file_with_canonical_names(tmp_path):
    path = tmp_path / "pay.csv"
    path.write_text("7;2025-04-01;5\n8;2025-04-02;6\n", encoding="gb18030")
    data = payseg.load(
        path, header=None, names=["customer_id", "paid_at", "amount"], sep=";"
    )
    assert data.payments["customer_id"].tolist() == ["7", "8"]
    with pytest.raises(payseg.PaymentDataError, match="names"):
        payseg.load(path, header=None)
