import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _loading import load_all
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import payseg
from payseg.data import check_ledger

DATA = Path(__file__).parent / "data"
CPH = Path(__file__).parents[1] / "examples" / "data" / "cph.csv"  # public sample


def _load_export():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return payseg.load(
            DATA / "export_payments.csv",
            bills=DATA / "export_bills.csv",
            customers=DATA / "export_customers.csv",
        )


def test_export_file_row_by_row():
    data = _load_export()
    check_ledger(data)
    src = str(DATA / "export_payments.csv")
    rej = data.rejected[data.rejected["source"] == src]
    got = dict(zip(rej["line"], rej["reason"]))
    assert got == {
        6: "missing customer id",
        7: "unparseable or impossible date",
        8: "unknown channel",
        9: "negative amount without a matching payment",
        10: "non-numeric amount",
        11: "exact duplicate row",
        12: "wrong number of fields",
        14: "unparseable period",
    }
    assert rej.set_index("line").loc[11, "value"] == "same as line 2"
    assert rej.set_index("line").loc[8, "value"] == "比特币"
    assert rej.set_index("line").loc[8, "column"] == "channel"
    p = data.payments
    assert p["customer_id"].tolist() == [
        "0012345601",
        "0012345601",
        "0012345602",
        "0012345602",
        "0012345604",
        "0012345605",
        "0012345605",
    ]
    assert p["amount"].tolist() == [1200.5, 88.0, 120.0, 95.0, 70.0, 45.0, 45.5]
    assert p["channel"].tolist()[:5] == [
        "internet_banking",
        "alipay",
        "internet_banking",
        "counter",
        "sgcc_app",
    ]
    assert pd.isna(p["channel"].iloc[5])  # an empty channel cell is kept as unknown
    assert p["paid_at"].iloc[0] == pd.Timestamp("2025-04-01 08:15")
    assert p["paid_at"].iloc[6] == pd.Timestamp("2025-04-10")
    assert [str(x) for x in p["period"]] == [
        "2025-03",
        "2025-04",
        "2025-03",
        "NaT",
        "2025-03",
        "2025-03",
        "2025-03",
    ]
    assert p["region"].iloc[2] == "城西供电所"


def test_export_bills_and_customers():
    data = _load_export()
    b = data.bills
    assert b["customer_id"].tolist() == ["0012345601", "0012345602", "0012345604"]
    assert b["amount_due"].tolist() == [1200.5, 120.0, 130.0]
    assert (b["due_on"] == pd.Timestamp("2025-04-30")).all()
    src = str(DATA / "export_bills.csv")
    rej = data.rejected[data.rejected["source"] == src]
    assert dict(zip(rej["line"], rej["reason"])) == {
        4: "missing period",
        5: "unparseable or impossible date",
        7: "exact duplicate row",
    }
    c = data.customers
    assert c.index.tolist() == ["0012345601", "0012345602", "0012345603", "0012345604"]
    assert c["meter"].tolist() == ["postpaid", "postpaid", "postpaid", "prepaid"]
    assert c["theft"].tolist() == [False, False, True, False]
    assert data.counts[str(DATA / "export_customers.csv")] == {"read": 5, "kept": 4}


def test_unknown_channel_warning_names_value_lines_and_fix():
    with pytest.warns(UserWarning, match=r"1 rows '比特币' \(lines 8\).*register"):
        payseg.load(DATA / "export_payments.csv")


def test_summary_counts_by_reason(capsys):
    data = _load_export()
    text = data.summary()
    assert capsys.readouterr().out == ""  # returned, not printed
    assert repr(data) == text
    data.summary(file=sys.stdout)
    assert "read 15, kept 7, rejected 8" in text
    assert "unknown channel: 1" in text
    assert "payments whose period has no bill: 3" in text
    assert capsys.readouterr().out.startswith("payseg data")


def test_cph_sample_loads_without_channel():
    data = payseg.load(CPH)
    check_ledger(data)
    assert len(data.payments) == 664
    assert data.n_customers == 100
    assert data.payments["channel"].isna().all()
    assert data.payments["customer_id"].str.len().eq(10).all()
    assert data.payments["amount"].sum() == pytest.approx(70524.0)


def test_missing_required_column_names_it_and_headers_found():
    raw = pd.DataFrame({"户号": ["1"], "金额": ["5"]})
    with pytest.raises(
        payseg.PaymentDataError,
        match=r"required column 'paid_at' not found; headers found: "
        r"户号, 金额",
    ):
        payseg.load(raw)


def test_columns_override_maps_own_headers():
    raw = pd.DataFrame(
        {"acct": ["01"], "when": ["2024-01-05"], "paid": ["3"], "how": ["alipay"]}
    )
    data = payseg.load(
        raw,
        columns={
            "acct": "customer_id",
            "when": "paid_at",
            "paid": "amount",
            "how": "channel",
        },
    )
    assert data.payments["customer_id"].tolist() == ["01"]
    assert data.payments["channel"].tolist() == ["alipay"]


def test_missing_file_and_empty_glob(tmp_path):
    with pytest.raises(payseg.PaymentDataError, match="file not found"):
        payseg.load(tmp_path / "nope.csv")
    with pytest.raises(payseg.PaymentDataError, match="no CSV, Parquet or Excel"):
        payseg.load(str(tmp_path / "*.csv"))


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2025-04-01", "2025-04-01 00:00:00"),
        ("2025/4/1", "2025-04-01 00:00:00"),
        ("2025.4.1", "2025-04-01 00:00:00"),
        ("20250401", "2025-04-01 00:00:00"),
        ("2025年4月1日", "2025-04-01 00:00:00"),
        ("2025-04-01 08:05", "2025-04-01 08:05:00"),
        ("2025/4/1 8:05:09", "2025-04-01 08:05:09"),
        ("２０２５-０４-０１", "2025-04-01 00:00:00"),
        # an Excel serial of 2050 with a time: exact to the second
        ("54789.438391204", "2050-01-01 10:31:17"),
    ],
)
def test_date_forms(raw, expected):
    data = payseg.load(pd.DataFrame({"户号": ["1"], "缴费时间": [raw], "金额": ["1"]}))
    assert str(data.payments["paid_at"].iloc[0]) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "2025-02-30",
        "2025-13-01",
        "1899-01-01",
        "abc",
        "",
        "2025-04-01 25:00",
        "2025/4/1 10:61",
        "20250401240000",
    ],
)
def test_impossible_dates_rejected(raw):
    data = load_all(pd.DataFrame({"户号": ["1"], "缴费时间": [raw], "金额": ["1"]}))
    assert data.rejected["reason"].tolist() == ["unparseable or impossible date"]


@pytest.mark.parametrize(
    "raw, value",
    [
        ("1,000元", 1000.0),
        ("¥88", 88.0),
        ("￥ 88.5", 88.5),
        ("１２０", 120.0),
        ("0", 0.0),
        ("RMB 12", 12.0),
    ],
)
def test_amount_forms(raw, value):
    data = payseg.load(
        pd.DataFrame(
            {"户号": ["1"], "缴费时间": ["2024-01-01"], "缴费金额（元）": [raw]}
        )
    )
    assert data.payments["amount"].iloc[0] == value


def test_gb18030_and_bom_files(tmp_path):
    text = "户号,缴费日期,缴费方式,实收金额\n001,2025-04-01,网银,10\n"
    (tmp_path / "gbk.csv").write_bytes(text.encode("gb18030"))
    (tmp_path / "bom.csv").write_bytes(text.encode("utf-8-sig"))
    for name in ("gbk.csv", "bom.csv"):
        data = payseg.load(tmp_path / name)
        assert data.payments["customer_id"].tolist() == ["001"]
        assert data.payments["channel"].tolist() == ["internet_banking"]


def test_parquet_excel_and_list_of_paths(tmp_path):
    frame = pd.DataFrame(
        {
            "户号": ["001", "002"],
            "缴费日期": ["2025-04-01", "2025-04-02"],
            "实收金额": [10.0, 20.0],
        }
    )
    frame.to_parquet(tmp_path / "a.parquet")
    frame.to_excel(tmp_path / "b.xlsx", index=False)
    data = payseg.load([tmp_path / "a.parquet", tmp_path / "b.xlsx"])
    check_ledger(data)
    assert data.payments["customer_id"].tolist() == ["001", "002", "001", "002"]
    assert set(data.counts) == {str(tmp_path / "a.parquet"), str(tmp_path / "b.xlsx")}
    data = payseg.load(tmp_path)  # a directory
    assert len(data.payments) == 4


def test_dataframe_lines_are_position_plus_two():
    raw = pd.DataFrame(
        {
            "户号": ["1", "", "3"],
            "缴费日期": ["2024-01-01"] * 3,
            "金额": ["1", "2", "3"],
        }
    )
    data = payseg.load(raw)
    assert data.rejected["line"].tolist() == [3]


def test_memory_conscious_dtypes():
    data = _load_export()
    p = data.payments
    assert isinstance(p["channel"].dtype, pd.CategoricalDtype)
    assert isinstance(p["region"].dtype, pd.CategoricalDtype)
    assert p["paid_at"].dtype == "datetime64[ns]"
    assert p["amount"].dtype == np.float64
    assert isinstance(p["period"].dtype, pd.PeriodDtype)


# ---------------------------------------------------------------- property tests

_GOOD = {
    "户号": ["001", "002", "1003"],
    "缴费时间": ["2024-01-03", "2024/2/4", "20240305 10:00"],
    "缴费方式": ["网银", "支付宝", "7", "营业厅", ""],
    "实收金额": ["10", "1,000元", "¥5.5", "0"],
    "电费年月": ["202401", "2024-02", ""],
}
_HEADERS = list(_GOOD)
# Cells that no rule lets through, per column: the row must be rejected.
_SURELY_BAD = {
    "户号": {"", "nan", "None", "\u3000"},
    "缴费时间": {"", "2024-99-99", "比特币", "nan", "None", "\u3000"},
    "缴费方式": {"比特币"},
    "实收金额": {"", "-5", "2024-99-99", "比特币", "nan", "None", "\u3000"},
    "电费年月": {"2024-99-99", "比特币"},
}
_good = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _GOOD.items()})
_bad_cell = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", "-5", "2024-99-99", "比特币", "nan", "None", "\u3000"]),
)
_row = st.one_of(
    _good,
    st.builds(lambda g, k, v: {**g, k: v}, _good, st.sampled_from(_HEADERS), _bad_cell),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(_row, min_size=0, max_size=30),
    dropped=st.sampled_from([None, *_HEADERS]),
)
def test_property_rows_read_equal_kept_plus_rejected(rows, dropped):
    raw = pd.DataFrame(rows, columns=_HEADERS)
    if dropped is not None:
        raw = raw.drop(columns=dropped)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if dropped in ("户号", "缴费时间", "实收金额"):
            # the only input that cannot be read: a required column is missing
            canonical = {
                "户号": "customer_id",
                "缴费时间": "paid_at",
                "实收金额": "amount",
            }[dropped]
            with pytest.raises(
                payseg.PaymentDataError,
                match=f"required column '{canonical}' not found",
            ):
                payseg.load(raw)
            return
        data = load_all(raw)  # anything else loads, bad cells and all
    check_ledger(data)
    assert data.counts["payments"] == {"read": len(raw), "kept": len(data.payments)}
    assert len(data.payments) + len(data.rejected) == len(raw)
    rejected = data.rejected["line"]
    assert rejected.is_unique and rejected.between(2, len(raw) + 1).all()
    assert (data.payments["amount"] >= 0).all()
    assert data.payments["paid_at"].notna().all()
    # An oracle independent of the loader: the first of identical rows made only of
    # good cells is kept; a row with a surely bad cell is rejected.
    seen = set()
    for line, row in enumerate(raw.itertuples(index=False, name=None), start=2):
        cells = dict(zip(raw.columns, row, strict=True))
        if all(v in _GOOD[k] for k, v in cells.items()) and row not in seen:
            assert line not in set(rejected), (line, cells)
        if any(v in _SURELY_BAD[k] for k, v in cells.items()):
            assert line in set(rejected), (line, cells)
        seen.add(row)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(_row, min_size=1, max_size=20),
    damaged=st.lists(st.integers(0, 19), max_size=3),
)
def test_property_csv_file_lines(tmp_path, rows, damaged):
    header = "户号,缴费时间,缴费方式,实收金额,电费年月"
    lines = []
    for i, r in enumerate(rows):
        cells = [
            str(r[k])
            .replace(",", "")
            .replace("\n", " ")
            .replace("\r", " ")
            .replace('"', "")
            for k in header.split(",")
        ]
        if i in damaged:
            cells = cells[:2]  # too few fields
        lines.append(",".join(cells))
    path = tmp_path / "p.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    data = load_all(path)
    check_ledger(data)
    assert data.counts[str(path)]["read"] == len(rows)
    rej = data.rejected
    assert rej["line"].between(2, len(rows) + 1).all()
    bad = set(rej.loc[rej["reason"] == "wrong number of fields", "line"])
    assert bad == {i + 2 for i in set(damaged) if i < len(rows)}


def test_id_width_restores_leading_zeros_across_tables():
    pay = pd.DataFrame(
        {
            "户号": ["12345", "0000012345", "A77"],
            "缴费日期": ["2024-01-01", "2024-02-01", "2024-01-05"],
            "金额": ["1", "2", "3"],
        }
    )
    bills = pd.DataFrame({"户号": [12345], "电费年月": ["202401"]})
    data = payseg.load(pay, bills=bills, id_width=10)
    assert data.payments["customer_id"].tolist() == ["0000012345", "0000012345", "A77"]
    assert data.bills["customer_id"].tolist() == ["0000012345"]
    assert data.n_customers == 2
