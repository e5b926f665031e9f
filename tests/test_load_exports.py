"""payseg.load on real-format exports of other utilities, banks and spreadsheets.

Fixtures are written by the tests in the shapes these files really have: title rows
above the header, totals and footers below, GBK with Windows line endings, UTF-16
"Unicode text", HTML saved as .xls, Excel serial dates, accounting amounts, the
channel spellings of State Grid provinces, China Southern Grid, county bureaus and
bank reconciliation files.
"""

import datetime
import io
import re
import unicodedata
import warnings
import zoneinfo
from pathlib import Path

import pandas as pd
import pytest
from _loading import load_all
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import payseg
from payseg import channels
from payseg._schema import UNMATCHED_NEGATIVE
from payseg.data import check_ledger

TITLE = "title/notes row above the header"


def _load(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return payseg.load(*args, **kw)


def _reasons(data, source):
    rej = data.rejected[data.rejected["source"] == str(source)]
    return dict(zip(rej["line"], rej["reason"]))


# ------------------------------------------------------------ titles, totals, footers

SG186_CSV = (
    "国网XX县供电公司2025年4月电费实收明细表,,,,,,\r\n"
    "制表日期：2025-05-02,,,,,,\r\n"
    ",,,,,,\r\n"
    "序号,供电单位,户号,户名,电费年月,实收电费(元),收费方式,收费日期\r\n"
    '1,城关供电所,0012345601,张三,202503,"1,200.50",坐收,2025-04-01 08:15:00\r\n'
    "2,城关供电所,0012345602,李四,202503,88.00,走收,2025-04-02\r\n"
    "3,城关供电所,0012345603,王五,202503,95.00,银行代扣,2025-04-03\r\n"
    ',城关供电所小计,,,,"1,383.50",,\r\n'
    "4,河口供电所,0012345604,赵六,202503,70.00,网上国网,2025-04-05 10:00\r\n"
    ',合计,,,,"1,453.50",,\r\n'
    "制表人：张会计,,,,,,审核人：李主任,\r\n"
)


def test_gbk_crlf_export_with_title_total_and_footer(tmp_path):
    path = tmp_path / "实收明细.csv"
    path.write_bytes(SG186_CSV.replace(",,,,,,\r\n", ",,,,,,,\r\n").encode("gbk"))
    data = _load(path)
    check_ledger(data)
    p = data.payments
    assert p["customer_id"].tolist() == [
        "0012345601",
        "0012345602",
        "0012345603",
        "0012345604",
    ]
    assert p["amount"].tolist() == [1200.5, 88.0, 95.0, 70.0]
    assert p["channel"].tolist() == [
        "counter",
        "door_to_door",
        "card_debit",
        "sgcc_app",
    ]
    assert p["paid_at"].iloc[0] == pd.Timestamp("2025-04-01 08:15")
    assert (p["period"].astype(str) == "2025-03").all()
    assert p["region"].tolist() == ["城关供电所"] * 3 + ["河口供电所"]
    assert _reasons(data, path) == {
        1: TITLE,
        2: TITLE,
        3: TITLE,
        8: "summary row (小计)",
        10: "summary row (合计)",
        11: "notes row (制表人)",
    }
    rej = data.rejected.set_index("line")
    assert rej.loc[1, "value"] == "国网XX县供电公司2025年4月电费实收明细表"
    assert rej.loc[10, "column"] == "region" and rej.loc[10, "value"] == "合计"
    # every physical line but the header is a payment or a ledger entry
    assert data.counts[str(path)] == {"read": 10, "kept": 4}


def test_xlsx_with_title_rows_serial_dates_and_text_ids(tmp_path):
    rows = [
        ["XX供电局2025年4月电费回收明细", None, None, None, None],
        ["单位：元", None, None, None, None],
        ["用户编号", "交费时间", "缴费渠道", "本次实收", "所属期"],
        ["'0012345601", 45748.5, "微信缴费", "¥1,234.50", "2025年3月"],
        ["0012345602", "45749", "支付宝缴费", 88, 45717],
        ["0012345603", "2025年04月03日 10时30分", "南网在线", "(12.00)", "2025.03"],
        ["总计", None, None, 1310.5, None],
    ]
    path = tmp_path / "回收.xlsx"
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
    data = _load(path)
    check_ledger(data)
    p = data.payments
    assert p["customer_id"].tolist() == ["0012345601", "0012345602"]
    assert p["paid_at"].tolist() == [
        pd.Timestamp("2025-04-01 12:00"),
        pd.Timestamp("2025-04-02"),
    ]
    assert p["amount"].tolist() == [1234.5, 88.0]
    assert p["channel"].tolist() == ["wechat", "alipay"]
    assert p["period"].astype(str).tolist() == ["2025-03", "2025-03"]
    assert _reasons(data, path) == {
        1: TITLE,
        2: TITLE,
        6: UNMATCHED_NEGATIVE,
        7: "summary row (总计)",
    }


def test_utf16_tab_export_with_trailing_empty_columns(tmp_path):
    text = (
        "户号\t缴费时间\t缴费方式\t缴费金额\t\t\r\n"
        "0012345601\t2025/4/1 下午 3:05\t网上国网APP\t120.00\t\t\r\n"
        "0012345602\t20250402103000\t农商行代扣\t1234.50元\t\t\r\n"
    )
    path = tmp_path / "unicode.txt"
    path.write_bytes(text.encode("utf-16"))
    data = _load(path)
    check_ledger(data)
    p = data.payments
    assert p["customer_id"].tolist() == ["0012345601", "0012345602"]
    assert p["paid_at"].tolist() == [
        pd.Timestamp("2025-04-01 15:05"),
        pd.Timestamp("2025-04-02 10:30"),
    ]
    assert p["channel"].tolist() == ["sgcc_app", "card_debit"]
    assert p["amount"].tolist() == [120.0, 1234.5]
    assert len(data.rejected) == 0


def test_quoted_commas_and_trailing_delimiter_on_data_lines(tmp_path):
    text = (
        "户号,交易日期,交易渠道,交易金额\n"
        '="0012345601",2025-04-01,"建设银行,网银","1,000.00",\n'
        "'0012345602,2025-04-02,柜面,50,\n"
    )
    path = tmp_path / "bank.csv"
    path.write_text(text, encoding="utf-8")
    data = _load(path)
    check_ledger(data)
    p = data.payments
    assert p["customer_id"].tolist() == ["0012345601", "0012345602"]
    assert p["channel"].tolist() == ["internet_banking", "bank_counter"]
    assert p["amount"].tolist() == [1000.0, 50.0]


def test_repeated_header_and_blank_rows_between_pages(tmp_path):
    text = (
        "户号,缴费日期,实收金额\n001,2025-04-01,10\n\n,,\n"
        "户号,缴费日期,实收金额\n002,2025-04-02,20\n"
    )
    path = tmp_path / "pages.csv"
    path.write_text(text, encoding="utf-8")
    data = _load(path)
    check_ledger(data)
    assert data.payments["customer_id"].tolist() == ["001", "002"]
    assert _reasons(data, path) == {
        3: "empty row",
        4: "empty row",
        5: "repeated header row",
    }


def test_scientific_notation_ids_warn_and_are_rejected(tmp_path):
    text = "户号,缴费日期,实收金额\n1.234567E+09,2025-04-01,10\n0012,2025-04-01,5\n"
    path = tmp_path / "sci.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.warns(
        UserWarning,
        match=r"1 customer ids are in scientific notation "
        r"\(e\.g\. '1\.234567E\+09', lines 2\)",
    ):
        data = payseg.load(path)
    check_ledger(data)
    assert _reasons(data, path) == {
        2: "customer id in scientific notation (digits lost)"
    }
    assert data.payments["customer_id"].tolist() == ["0012"]


def test_bank_reconciliation_file_date_time_columns_and_fen(tmp_path):
    text = (
        "XX银行代收电费对账明细\n"
        "交易日期|交易时间|缴费号|交易金额(分)|交易渠道|流水号\n"
        "20250401|103000|0012345601|12050|手机银行|A001\n"
        "20250401|93005|0012345602|8800|柜面|A002\n"
        "20250402|10:00:00|0012345603|-500|ATM|A003\n"
        "合计||3笔|20350||\n"
    )
    path = tmp_path / "对账.txt"
    path.write_text(text, encoding="gb18030")
    data = _load(path)
    check_ledger(data)
    p = data.payments
    assert p["paid_at"].tolist() == [
        pd.Timestamp("2025-04-01 10:30"),
        pd.Timestamp("2025-04-01 09:30:05"),
    ]
    assert p["amount"].tolist() == [120.5, 88.0]
    assert p["channel"].tolist() == ["mobile_banking", "bank_counter"]
    assert _reasons(data, path) == {
        1: TITLE,
        5: UNMATCHED_NEGATIVE,
        6: "summary row (合计)",
    }


def test_time_column_is_not_joined_to_full_timestamps():
    raw = pd.DataFrame(
        {
            "户号": ["1"],
            "收费时间": ["2025-04-01 08:00"],
            "交易时间": ["10:00"],
            "金额": ["1"],
        }
    )
    assert _load(raw).payments["paid_at"].iloc[0] == pd.Timestamp("2025-04-01 08:00")


def test_float_ids_lose_their_point_zero():
    raw = pd.DataFrame(
        {
            "户号": ["12345601.0", "0012345602"],
            "缴费日期": ["2025-04-01"] * 2,
            "实收金额": ["1", "2"],
        }
    )
    assert _load(raw).payments["customer_id"].tolist() == ["12345601", "0012345602"]


def test_amounts_in_fen_are_converted_to_yuan():
    raw = pd.DataFrame(
        {
            "缴费号": ["001", "002"],
            "交易日期": ["20250401", "20250402"],
            "交易金额(分)": ["12050", "8800"],
        }
    )
    data = _load(raw)
    assert data.payments["amount"].tolist() == [120.5, 88.0]


def test_html_saved_as_xls(tmp_path):
    html = (
        "<html><head><meta charset='gbk'></head><body><table>"
        "<tr><td colspan=3>XX供电所缴费明细</td></tr>"
        "<tr><th>客户编号</th><th>收费时间</th><th>收费金额</th></tr>"
        "<tr><td>0012345601</td><td>2025-04-01</td><td>10.00</td></tr>"
        "<tr><td>合计</td><td></td><td>10.00</td></tr></table></body></html>"
    )
    path = tmp_path / "导出.xls"
    path.write_bytes(html.encode("gbk"))
    data = _load(path)
    check_ledger(data)
    assert data.payments["customer_id"].tolist() == ["0012345601"]
    assert _reasons(data, path) == {1: TITLE, 4: "summary row (合计)"}


def test_legacy_xls_without_reader_names_the_fix(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(
        payseg.PaymentDataError, match=r"legacy \.xls workbook.*(xlrd|save the sheet)"
    ):
        payseg.load(path)


def test_dataframe_read_with_title_as_header():
    # pd.read_excel(header=0) of a sheet whose first row is a title.
    raw = pd.DataFrame(
        {
            "XX供电公司电费实收明细表": ["制表日期：2025-05-02", "户号", "001", "合计"],
            "Unnamed: 1": [None, "收费日期", "2025-04-01", None],
            "Unnamed: 2": [None, "实收金额", "10", "10"],
        }
    )
    data = _load(raw)
    check_ledger(data)
    assert data.payments["customer_id"].tolist() == ["001"]
    assert _reasons(data, "payments") == {2: TITLE, 5: "summary row (合计)"}


def test_header_not_found_still_names_headers_of_first_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("标题\n甲,乙\n1,2\n", encoding="utf-8")
    with pytest.raises(payseg.PaymentDataError, match="required column 'customer_id'"):
        payseg.load(path)


def test_parquet_with_named_index_and_indexed_customer_frame(tmp_path):
    customers = pd.DataFrame(
        {"region": ["东", "西"]}, index=pd.Index(["001", "002"], name="customer_id")
    )
    customers.to_parquet(tmp_path / "c.parquet")
    pay = pd.DataFrame({"户号": ["001"], "缴费日期": ["2025-04-01"], "金额": ["1"]})
    for source in (tmp_path / "c.parquet", customers):
        data = _load(pay, customers=source)
        check_ledger(data)
        assert data.customers.index.tolist() == ["001", "002"]
        assert data.customers["region"].tolist() == ["东", "西"]


def test_placeholders_are_missing_not_unknown():
    pay = pd.DataFrame(
        {
            "户号": ["001", "002"],
            "缴费日期": ["2025-04-01"] * 2,
            "缴费方式": ["-", "NULL"],
            "金额": ["5", "6"],
            "电费年月": ["—", "202503"],
        }
    )
    bills = pd.DataFrame(
        {
            "户号": ["001"],
            "电费年月": ["202503"],
            "缴费截止日期": ["--"],
            "应收金额": ["5"],
        }
    )
    data = _load(pay, bills=bills)
    assert len(data.rejected) == 0
    assert data.payments["channel"].isna().all()
    assert data.payments["period"].isna().tolist() == [True, False]
    assert data.bills["due_on"].isna().all()


# ---------------------------------------------------------------- cell-level forms


@pytest.mark.parametrize(
    "header, canonical",
    [
        (h, "customer_id")
        for h in [
            "户号",
            "用户编号",
            "客户编号",
            "用户号",
            "电力户号",
            "户 号",
            "*户号",
            "缴费号",
            "Customer No",
        ]
    ]
    + [
        (h, "paid_at")
        for h in [
            "缴费时间",
            "收费日期",
            "实收日期",
            "交费时间",
            "到账时间",
            "收费时间",
            "交易日期",
            "入账时间",
            "Payment Date",
        ]
    ]
    + [
        (h, "channel")
        for h in [
            "收费方式",
            "缴费渠道",
            "缴费途径",
            "支付方式",
            "收费渠道",
            "缴费方式名称",
            "交易渠道",
            "Payment Method",
        ]
    ]
    + [
        (h, "amount")
        for h in [
            "实收电费",
            "实收金额",
            "缴费金额",
            "收费金额",
            "交费金额",
            "本次实收",
            "实收金额/元",
            "交易金额（元）",
            "Amount Paid",
        ]
    ]
    + [
        (h, "period")
        for h in [
            "电费年月",
            "应收年月",
            "账务年月",
            "电费月份",
            "所属期",
            "Billing Month",
        ]
    ],
)
def test_header_variants(header, canonical):
    from payseg._headers import HEADER_MAP, normalise_header

    assert HEADER_MAP[normalise_header(header)] == canonical


def test_first_mapped_header_wins_and_late_fee_stays_unmapped():
    raw = pd.DataFrame(
        {
            "户号": ["1"],
            "收费日期": ["2025-04-01"],
            "到账时间": ["2025-04-03"],
            "实收电费": ["9"],
            "违约金": ["1"],
            "应收电费": ["9"],
        }
    )
    data = _load(raw)
    assert data.payments["paid_at"].iloc[0] == pd.Timestamp("2025-04-01")
    assert data.payments["amount"].iloc[0] == 9.0
    assert "违约金" not in data.payments


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("45748", "2025-04-01 00:00:00"),
        ("45748.5", "2025-04-01 12:00:00"),
        ("2025.04.01", "2025-04-01 00:00:00"),
        ("2025-04-01T10:00:00", "2025-04-01 10:00:00"),
        ("2025-04-01 10:00:00.000", "2025-04-01 10:00:00"),
        ("2025-04-01 10:00:00.0", "2025-04-01 10:00:00"),
        ("20250401103000", "2025-04-01 10:30:00"),
        ("202504011030", "2025-04-01 10:30:00"),
        ("2025年04月01日 10时30分", "2025-04-01 10:30:00"),
        ("2025年4月1日10时30分15秒", "2025-04-01 10:30:15"),
        ("2025/4/1 下午 3:05:09", "2025-04-01 15:05:09"),
        ("2025/4/1 上午 12:05", "2025-04-01 00:05:00"),
        ("2025/04/01 03:05 PM", "2025-04-01 15:05:00"),
        ("'2025-04-01", "2025-04-01 00:00:00"),
    ],
)
def test_more_date_forms(raw, expected):
    data = _load(pd.DataFrame({"户号": ["1"], "缴费时间": [raw], "金额": ["1"]}))
    assert str(data.payments["paid_at"].iloc[0]) == expected


def test_serial_dates_from_numeric_cells_and_bad_serials():
    raw = pd.DataFrame(
        {
            "户号": ["1", "2", "3"],
            "缴费时间": [45748.25, 12.0, 99999.0],
            "金额": [1, 1, 1],
        }
    )
    data = _load(raw)
    assert data.payments["paid_at"].tolist() == [pd.Timestamp("2025-04-01 06:00")]
    assert data.rejected["reason"].tolist() == ["unparseable or impossible date"] * 2


@pytest.mark.parametrize(
    "raw",
    [
        "202504",
        "2025-04",
        "2025年4月",
        "2025.04",
        "2025/4",
        "2025年04月份",
        "45748",
        "2025-04-01 00:00:00",
        "202504.0",
    ],
)
def test_period_forms(raw):
    data = _load(
        pd.DataFrame(
            {
                "户号": ["1"],
                "缴费时间": ["2025-05-01"],
                "金额": ["1"],
                "电费年月": [raw],
            }
        )
    )
    assert str(data.payments["period"].iloc[0]) == "2025-04"


@pytest.mark.parametrize(
    "raw, value",
    [
        ("1,234.50", 1234.5),
        ("¥1,234.50", 1234.5),
        ("1234.50元", 1234.5),
        ("１，２３４．５０", 1234.5),
        ("'88", 88.0),
        ("人民币88元", 88.0),
    ],
)
def test_more_amount_forms(raw, value):
    data = _load(
        pd.DataFrame({"户号": ["1"], "缴费时间": ["2025-04-01"], "实收金额": [raw]})
    )
    assert data.payments["amount"].iloc[0] == value


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("(12.00)", UNMATCHED_NEGATIVE),
        ("12.00-", UNMATCHED_NEGATIVE),
        ("—", "non-numeric amount"),
        ("--", "non-numeric amount"),
        ("-", "non-numeric amount"),
        ("", "non-numeric amount"),
    ],
)
def test_accounting_negatives_and_missing_amounts(raw, reason):
    data = load_all(
        pd.DataFrame({"户号": ["1"], "缴费时间": ["2025-04-01"], "实收金额": [raw]})
    )
    assert data.rejected["reason"].tolist() == [reason]


@pytest.mark.parametrize(
    "raw, code",
    [
        ("银行代扣", "card_debit"),
        ("代扣", "card_debit"),
        ("批量代扣", "card_debit"),
        ("农信社代扣", "card_debit"),
        ("农商行代扣", "card_debit"),
        ("工商银行代扣", "card_debit"),
        ("微信支付", "wechat"),
        ("微信缴费", "wechat"),
        ("微信公众号", "wechat"),
        ("支付宝缴费", "alipay"),
        ("网上国网APP", "sgcc_app"),
        ("网上国网", "sgcc_app"),
        ("掌上电力", "sgcc_app"),
        ("电e宝", "sgcc_app"),
        ("95598", "sgcc_app"),
        ("银联", "unionpay"),
        ("云闪付", "unionpay"),
        ("柜台收费", "counter"),
        ("坐收", "counter"),
        ("POS刷卡", "counter"),
        ("现金", "counter"),
        ("走收", "door_to_door"),
        ("代收", "bank_counter"),
        ("农业银行代收", "bank_counter"),
        ("充值卡", "recharge_card"),
        ("自助终端", "utility_kiosk"),
        ("自助缴费机", "utility_kiosk"),
        ("银行自助终端", "bank_kiosk"),
        ("电话银行", "phone_banking"),
        ("网银", "internet_banking"),
        ("建行网银", "internet_banking"),
        ("手机银行", "mobile_banking"),
        ("工行手机银行", "mobile_banking"),
        ("京东", "ecommerce"),
        ("淘宝", "ecommerce"),
        ("拼多多", "ecommerce"),
        ("抖音", "ecommerce"),
        ("邮政代收", "postal"),
        ("超市代收", "agent_outlet"),
        ("南网在线", "csg_app"),
        ("南网网上营业厅", "csg_app"),
        ("特约委托收款", "entrusted_debit"),
        ("卡表购电", "ic_card"),
        ("负控购电", "load_control"),
        ("营业厅自助终端", "utility_kiosk"),
    ],
)
def test_channel_spellings_of_other_utilities(raw, code):
    data = payseg.load(
        pd.DataFrame(
            {
                "户号": ["1"],
                "缴费时间": ["2025-04-01"],
                "金额": ["1"],
                "收费方式": [raw],
            }
        )
    )
    assert data.payments["channel"].tolist() == [code]


def test_registered_alias_beats_keyword_rule():
    channels._reset()
    try:
        assert channels.get("建行代收").code == "bank_counter"
        channels.register("agent_outlet", aliases=["建行代收"])
        assert channels.get("建行代收").code == "agent_outlet"
    finally:
        channels._reset()


# ---------------------------------------------------------------- property test

_data_row = st.tuples(
    st.sampled_from(["0012345601", "'0012345602", '="0012345603"', "", "合计"]),
    st.sampled_from(["2025-04-01", "45748", "20250401103000", "2025年4月1日", "x"]),
    st.sampled_from(["坐收", "微信支付", "农商行代扣", "-", "比特币"]),
    st.sampled_from(["10", "1,234.50", "(5.00)", "—", "￥8"]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    titles=st.lists(
        st.sampled_from(
            ["XX供电公司电费实收明细表", "制表日期：2025-05-01", "", "单位：元"]
        ),
        max_size=4,
    ),
    rows=st.lists(_data_row, max_size=15),
    footer=st.booleans(),
    encoding=st.sampled_from(["gbk", "utf-8-sig", "utf-8"]),
)
def test_property_every_line_is_kept_or_in_the_ledger(
    tmp_path, titles, rows, footer, encoding
):
    lines = [t + ",,," for t in titles] + ["户号,收费日期,收费方式,实收电费"]
    lines += [",".join(f'"{c}"' if "," in c else c for c in r) for r in rows]
    if footer:
        lines.append("制表人：张三,,,")
    path = tmp_path / "p.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    data = load_all(path)
    check_ledger(data)
    assert data.counts[str(path)]["read"] == len(lines) - 1
    reasons = _reasons(data, path)
    assert [reasons[i + 1] for i in range(len(titles))] == [TITLE] * len(titles)
    assert len(data.rejected) == len(set(data.rejected["line"]))
    for i, r in enumerate(rows):
        line = len(titles) + 2 + i
        if r[0] == "合计":
            assert reasons[line] == "summary row (合计)"
    p = data.payments
    assert p["customer_id"].isin(["0012345601", "0012345602", "0012345603"]).all()
    assert (p["amount"] >= 0).all() and p["paid_at"].notna().all()
    assert set(p["channel"].dropna()) <= {"counter", "wechat", "card_debit"}
    if footer:
        assert reasons[len(lines)] == "notes row (制表人)"


@pytest.mark.parametrize(
    "text",
    ["户号,缴费日期,金额", "户号,缴费日期,金额\r\n", "明细表\n户号,缴费日期,金额"],
)
def test_header_only_files_load_empty(tmp_path, text):
    path = tmp_path / "h.csv"
    path.write_text(text, encoding="utf-8")
    data = payseg.load(path)
    check_ledger(data)
    assert len(data.payments) == 0


def test_empty_file_names_missing_column(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(b"")
    with pytest.raises(payseg.PaymentDataError, match=r"headers found: \(none\)"):
        payseg.load(path)


def test_reversed_and_failed_transactions_are_not_payments(tmp_path):
    text = (
        "流水号,缴费号,交易日期,交易金额,交易渠道,交易状态,冲正标志\n"
        "A1,001,2025-04-01,10,微信,成功,否\n"
        "A2,002,2025-04-01,20,微信,交易失败,否\n"
        "A3,003,2025-04-02,30,支付宝,成功,是\n"
        "A4,,,,,,\n"
        "A5,004,2025-04-03,40,支付宝,成功,\n"
    )
    path = tmp_path / "recon.csv"
    path.write_text(text, encoding="utf-8")
    data = _load(path)
    check_ledger(data)
    assert data.payments["customer_id"].tolist() == ["001", "004"]
    assert _reasons(data, path) == {
        3: "reversed or failed transaction (交易失败)",
        # Flagged as reversed, its reversal not in the file: cancelled.
        4: "reversed payment",
        5: "missing customer id",
    }


def test_bill_status_unpaid_is_kept():
    bills = pd.DataFrame({"户号": ["001"], "电费年月": ["202503"], "状态": ["未支付"]})
    pay = pd.DataFrame({"户号": ["001"], "缴费日期": ["2025-04-01"], "金额": ["1"]})
    assert len(_load(pay, bills=bills).bills) == 1


def test_workbook_with_monthly_sheets_and_a_totals_sheet(tmp_path):
    path = tmp_path / "2025.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"供电所": ["城东"], "合计金额": [30]}).to_excel(
            xw, sheet_name="汇总", index=False
        )
        for month, ids in (("4月", ["001", "002"]), ("5月", ["003"])):
            pd.DataFrame(
                {
                    "户号": ids,
                    "缴费日期": ["2025-04-01"] * len(ids),
                    "实收金额": [10] * len(ids),
                }
            ).to_excel(xw, sheet_name=month, index=False)
    data = _load(path)
    check_ledger(data)
    assert data.payments["customer_id"].tolist() == ["001", "002", "003"]
    assert set(data.counts) == {f"{path}[4月]", f"{path}[5月]"}


# ------------------------------------------------- stored fixtures (tests/data/exports)

EXPORTS = Path(__file__).parent / "data" / "exports"


def test_directory_of_mixed_exports():
    with pytest.warns(UserWarning, match="scientific notation"):
        data = payseg.load(EXPORTS)
    check_ledger(data)
    by_file = {Path(k).name: v for k, v in data.counts.items()}
    assert by_file == {
        "bank_duizhang_utf16.txt": {"read": 4, "kept": 2},
        "county_daochu.xls": {"read": 5, "kept": 2},
        "csg_huishou.xlsx": {"read": 7, "kept": 3},
        "sg186_shilou_gbk.csv": {"read": 11, "kept": 5},
    }
    reasons = data.rejected["reason"].value_counts().to_dict()
    assert reasons == {
        TITLE: 5,
        "summary row (小计)": 2,
        "summary row (合计)": 2,
        "summary row (总计)": 1,
        "notes row (制表人)": 1,
        "reversed or failed transaction (交易失败)": 1,
        "customer id in scientific notation (digits lost)": 1,
        UNMATCHED_NEGATIVE: 1,
        "non-numeric amount": 1,
    }
    p = data.payments
    assert p["amount"].sum() == pytest.approx(
        120.5 + 88 + 50 + 60 + 1234.5 + 88 + 95 + 120.5 + 88 + 95 + 1070 + 66.6
    )
    assert p["channel"].notna().all()
    assert p["customer_id"].str.fullmatch(r"\d{10}").all()
    sg = p[p["region"].notna()]
    assert sg["channel"].tolist() == [
        "counter",
        "door_to_door",
        "card_debit",
        "sgcc_app",
        "counter",
    ]


def test_stored_fixtures_match_their_generator(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_make", EXPORTS / "_make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.main()
    for name in (
        "sg186_shilou_gbk.csv",
        "bank_duizhang_utf16.txt",
        "county_daochu.xls",
    ):
        assert (tmp_path / name).read_bytes() == (EXPORTS / name).read_bytes(), name


_FORMS = st.sampled_from(
    [
        "45748",
        "45748.5",
        "2025.04.01",
        "2025-04-01T10:00:00",
        "20250401103000",
        "2025年04月01日 10时30分",
        "2025/4/1 下午 3:05",
        "2025-04-01 10:00:00.000",
        "x",
        "-",
        "",
        "2025-02-30",
        "99999",
    ]
)


@settings(max_examples=30, deadline=None)
@given(values=st.lists(_FORMS, min_size=1, max_size=12), n=st.integers(1000, 1500))
def test_property_dates_same_per_distinct_and_per_value(values, n):
    from payseg._parsers import parse_dates

    column = pd.Series([values[i % len(values)] for i in range(n)], dtype="str")
    fast = parse_dates(column)  # the factorised path (long, repetitive column)
    one_by_one = {
        v: parse_dates(pd.Series([v], dtype="str")).iloc[0] for v in set(values)
    }
    expected = column.map(one_by_one).astype("datetime64[ns]")
    pd.testing.assert_series_equal(fast, expected, check_names=False)


# parse_dates against an independent reference: datetime.strptime over the explicit
# formats the docstring promises, one value at a time.
_REF_DAYS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_REF_TIMES = (
    "",
    " %H:%M",
    " %H:%M:%S",
    "T%H:%M:%S",
    " %H:%M:%S.%f",
    " %H时%M分",
    " %H时%M分%S秒",
)
_REF_WINDOW = (datetime.datetime(1990, 1, 1), datetime.datetime(2100, 1, 1))


_SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")  # UTC+8, UTC+9 in summers 1986-91
_REF_OFFSETS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z")


def _reference_date(text: str, dayfirst: bool | None = None):
    """The date ``text`` spells, or NaT: slow and obvious, no payseg code.

    Times with a UTC offset are converted to Shanghai time (the standard library's
    zone database); the 1990-2100 window applies to the time as written and as converted.
    ``dayfirst`` reads 15/01/2013 (True) or 1/15/2013 (False).
    """
    s = unicodedata.normalize("NFKC", text).strip()
    value = None
    for fmt in _REF_OFFSETS:
        try:
            aware = datetime.datetime.strptime(s.replace("Z", "+0000"), fmt)
        except ValueError:
            continue
        written = aware.replace(tzinfo=None)
        if not _REF_WINDOW[0] <= written < _REF_WINDOW[1]:
            return pd.NaT
        value = aware.astimezone(_SHANGHAI).replace(tzinfo=None)
        break
    if value is not None:
        pass
    elif dayfirst is not None:
        for fmt in (
            ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")
            if dayfirst
            else ("%m/%d/%Y", "%m.%d.%Y", "%m-%d-%Y")
        ):
            for t in ("", " %H:%M", " %H:%M:%S"):
                try:
                    value = datetime.datetime.strptime(s, fmt + t)
                    break
                except ValueError:
                    continue
            if value is not None:
                break
    elif re.fullmatch(r"\d{5}(\.\d+)?", s):  # an Excel day serial
        seconds = round(float(s) * 86_400)
        value = datetime.datetime(1899, 12, 30) + datetime.timedelta(seconds=seconds)
    else:
        half = None
        for marker, pm in (
            ("下午", True),
            ("上午", False),
            ("pm", True),
            ("am", False),
        ):
            if marker in s:
                s, half = " ".join(s.replace(marker, " ").split()), pm
        formats = [d + t for d in _REF_DAYS for t in _REF_TIMES] + ["%Y%m%d%H%M%S"]
        for fmt in formats:
            try:
                value = datetime.datetime.strptime(s, fmt)
                break
            except ValueError:
                continue
        if value is not None and half is not None:
            if half and value.hour < 12:
                value += datetime.timedelta(hours=12)
            elif not half and value.hour == 12:
                value -= datetime.timedelta(hours=12)
    if value is None or not _REF_WINDOW[0] <= value < _REF_WINDOW[1]:
        return pd.NaT
    return pd.Timestamp(value)


@st.composite
def _date_text(draw):
    """A date-time spelled in one of the export forms (some outside 1990-2099)."""
    when = draw(
        st.datetimes(
            min_value=datetime.datetime(1980, 1, 1),
            max_value=datetime.datetime(2110, 12, 31),
        )
    )
    when = when.replace(microsecond=0)
    pad = draw(st.booleans())
    m, d = (f"{when.month:02d}", f"{when.day:02d}") if pad else (when.month, when.day)
    sep = draw(st.sampled_from(["-", "/", ".", "年"]))
    day = f"{when.year}年{m}月{d}日" if sep == "年" else f"{when.year}{sep}{m}{sep}{d}"
    h, mi, sec = when.hour, f"{when.minute:02d}", f"{when.second:02d}"
    h12, half = (h % 12 or 12), draw(st.sampled_from([("上午", "下午"), ("am", "pm")]))
    form = draw(
        st.sampled_from(
            [
                day,
                f"{when:%Y%m%d}",
                f"{day} {h}:{mi}",
                f"{day} {h:02d}:{mi}:{sec}",
                f"{when:%Y-%m-%d}T{when:%H:%M:%S}",
                f"{day} {h:02d}:{mi}:{sec}.000",
                f"{day} {h}时{mi}分",
                f"{day} {h}时{mi}分{sec}秒",
                f"{when:%Y%m%d%H%M%S}",
                f"{day} {half[h >= 12]} {h12}:{mi}"
                if half[0] == "上午"
                else f"{day} {h12}:{mi} {half[h >= 12]}",
                str((when - datetime.datetime(1899, 12, 30)).days),
                f"{(when - datetime.datetime(1899, 12, 30)).total_seconds() / 86_400:.6f}",
                f"{when:%Y-%m-%dT%H:%M:%S}+08:00",
                f"{when:%Y-%m-%d %H:%M:%S}+0800",
                f"{when:%Y-%m-%dT%H:%M:%S}Z",
                f"{when:%Y-%m-%dT%H:%M:%S}.000-05:00",
            ]
        )
    )
    if draw(st.booleans()):  # full-width digits, as some exports write them
        form = form.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return form


_NOT_DATES = st.sampled_from(
    [
        "",
        "x",
        "-",
        "NULL",
        "—",
        "2025-02-30",
        "2025-13-01",
        "2025/4/31",
        "99999",
        "12345",
        "2025-04-01 25:00",
        "1899-12-31",
        "2100-01-01",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.one_of(_date_text(), _NOT_DATES), min_size=1, max_size=15),
    long=st.booleans(),
)
def test_property_parse_dates_matches_strptime_reference(texts, long):
    from payseg._parsers import parse_dates

    # a long repetitive column takes the per-distinct path, a short one row by row
    values = texts * (1_200 // len(texts) + 1) if long else texts
    column = pd.Series(values, dtype="str")
    reference = {t: _reference_date(t) for t in set(values)}
    expected = pd.Series([reference[t] for t in values], dtype="datetime64[ns]")
    pd.testing.assert_series_equal(parse_dates(column), expected, check_names=False)


@st.composite
def _dmy_column(draw):
    """A column of dates written day first or month first (1/15/2013, 15.01.2013)."""
    dayfirst = draw(st.booleans())
    sep = draw(st.sampled_from(["/", ".", "-"]))
    pad = draw(st.booleans())
    days = draw(
        st.lists(
            st.datetimes(
                min_value=datetime.datetime(1991, 1, 1),
                max_value=datetime.datetime(2098, 12, 31),
            ),
            min_size=1,
            max_size=12,
        )
    )
    texts = []
    for when in days:
        m, d = (
            (f"{when.month:02d}", f"{when.day:02d}") if pad else (when.month, when.day)
        )
        first, second = (d, m) if dayfirst else (m, d)
        time = draw(st.sampled_from(["", f" {when.hour:02d}:{when.minute:02d}"]))
        texts.append(f"{first}{sep}{second}{sep}{when.year}{time}")
    return dayfirst, texts


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    column=_dmy_column(),
    extra=st.lists(st.one_of(_date_text(), _NOT_DATES), max_size=5),
    given_order=st.booleans(),
)
def test_property_parse_dates_day_or_month_first(column, extra, given_order):
    """The order of a column is found from values that read one way only; a column
    of ambiguous values is read month first; ``dayfirst`` given is obeyed."""
    from payseg._parsers import parse_dates

    dayfirst, texts = column
    nums = [[int(x) for x in re.split(r"[/.\-]", t.split()[0])[:2]] for t in texts]
    only_day = any(a > 12 for a, _ in nums)
    only_month = any(b > 12 for _, b in nums)
    order = dayfirst if (given_order or only_day or only_month) else False
    values = texts + extra
    expected = pd.Series(
        [
            _reference_date(t, dayfirst=order) if t in texts else _reference_date(t)
            for t in values
        ],
        dtype="datetime64[ns]",
    )
    info: dict = {}
    got = parse_dates(
        pd.Series(values, dtype="str"),
        info=info,
        dayfirst=dayfirst if given_order else None,
    )
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert info["order"] == ("day first" if order else "month first")


# ------------------------------------------------------------ issue 14: values

_REAL = Path(__file__).parent / "data" / "real"


def test_us_receivables_keep_every_row_month_first():
    """The IBM receivables sample writes US dates (1/15/2013): all 2,466 rows kept,
    dates equal to pandas' explicit month-first reading, the order in the summary."""
    path = _REAL / "WA_Fn-UseC_-Accounts-Receivable.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # detected, not assumed: no warning
        data = payseg.load(
            path,
            columns={
                "customerID": "customer_id",
                "SettledDate": "paid_at",
                "InvoiceAmount": "amount",
            },
        )
    raw = pd.read_csv(path, dtype=str)
    assert len(data.payments) == len(raw) == 2466 and len(data.rejected) == 0
    expected = pd.to_datetime(raw["SettledDate"], format="%m/%d/%Y")
    assert (data.payments["paid_at"].to_numpy() == expected.to_numpy()).all()
    text = data.summary(file=io.StringIO())
    assert "month first" in text


def _pay_frame(dates):
    return pd.DataFrame(
        {
            "户号": [f"00{i:08d}" for i in range(len(dates))],
            "缴费日期": dates,
            "实收金额": ["10"] * len(dates),
        }
    )


def test_ambiguous_date_order_warns_and_dayfirst_overrides():
    frame = _pay_frame(["01/02/2013", "03/04/2013", "05/06/2013"])
    with pytest.warns(UserWarning, match=r"dayfirst=True.*date_format"):
        data = payseg.load(frame)
    assert data.payments["paid_at"].dt.month.tolist() == [1, 3, 5]
    assert any("month first" in n for n in data.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = payseg.load(frame, dayfirst=True)
    assert data.payments["paid_at"].dt.month.tolist() == [2, 4, 6]
    data = payseg.load(frame, date_format="%d/%m/%Y")
    assert data.payments["paid_at"].dt.day.tolist() == [1, 3, 5]


def test_day_first_detected_from_one_value():
    data = payseg.load(_pay_frame(["02/03/2013", "15/01/2013"]))
    assert data.payments["paid_at"].tolist() == [
        pd.Timestamp("2013-03-02"),
        pd.Timestamp("2013-01-15"),
    ]
    assert "day first" in data.summary(file=io.StringIO())


def test_offsets_convert_to_tz_parameter():
    frame = _pay_frame(
        ["2025-04-01T02:00:00Z", "2025-04-01 10:00:00", "2025-04-01T10:00:00+0800"]
    )
    data = payseg.load(frame)
    assert data.payments["paid_at"].dt.hour.tolist() == [10, 10, 10]
    assert str(data.payments["paid_at"].dtype) == "datetime64[ns]"
    assert "converted to Asia/Shanghai" in data.summary(file=io.StringIO())
    data = payseg.load(frame, tz="UTC")
    assert data.payments["paid_at"].dt.hour.tolist() == [2, 10, 2]
    aware = frame.assign(
        缴费日期=pd.to_datetime(["2025-04-01 02:00"] * 3).tz_localize("UTC")
    )
    assert payseg.load(aware).payments["paid_at"].dt.hour.tolist() == [10] * 3


@pytest.mark.parametrize(
    "kwargs", [{"tz": "Mars/Olympus"}, {"dayfirst": "yes"}, {"date_format": 5}]
)
def test_bad_date_options_raise_payment_data_error(kwargs):
    with pytest.raises(payseg.PaymentDataError, match="expected"):
        payseg.load(_pay_frame(["2025-04-01"]), **kwargs)


def test_misread_amounts_rejected_with_reason():
    frame = _pay_frame(["2025-04-01"] * 6).assign(
        实收金额=["inf", "1e309", "12,34", "1.234,50", "-0", "9" * 400]
    )
    data = payseg.load(frame)
    assert data.payments["amount"].tolist() == [1234.5, 0.0]
    assert str(data.payments["amount"].tolist()[1]) == "0.0"
    reasons = data.rejected["reason"].tolist()
    assert reasons.count("non-finite or implausible amount") == 3
    assert any("thousands" in r for r in reasons)


@pytest.mark.parametrize("rows", [4, 250_000])  # in one thread, and with side threads
def test_bill_with_bad_period_and_bad_date_is_rejected_for_its_period(rows):
    # The ledger keeps a row's first reason, in column order: a bill whose period
    # and issue date are both unreadable is rejected for its period, whichever
    # parser finishes first.
    ids = [f"{i:08d}" for i in range(rows)]
    bills = pd.DataFrame(
        {
            "户号": ids,
            "电费年月": ["202401"] * rows,
            "发行日期": ["2024-02-03"] * rows,
            "应收金额": ["10.00"] * rows,
        }
    )
    bills.loc[1, ["电费年月", "发行日期"]] = ["2024-13", "2024-02-31"]
    bills.loc[2, "发行日期"] = "2024-02-31"
    pays = pd.DataFrame(
        {"户号": ids[:3], "缴费日期": ["2024-02-10"] * 3, "实收金额": ["10"] * 3}
    )
    data = payseg.load(pays, bills=bills)
    rej = data.rejected.set_index("line")
    assert rej.loc[3, "column"] == "period"
    assert rej.loc[4, "column"] == "issued_on"
    assert len(data.bills) == rows - 2
