"""Issue 14, the reading layer: bytes, lines, files, folders and API inputs."""

from __future__ import annotations

import io
import warnings

import pandas as pd
import pytest

import payseg

HEADER = "户号,缴费时间,缴费方式,实收金额\n"


def _row(i: int, channel: str = "支付宝") -> str:
    return f"00{1000 + i},2025-04-0{1 + i % 9} 10:00:00,{channel},{10 + i}.50\n"


def _load(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return payseg.load(*args, **kw)


def test_a_gbk_line_in_a_utf8_file_is_decoded_and_named(tmp_path):
    path = tmp_path / "p.csv"
    body = [_row(i).encode("utf-8") for i in range(5)]
    body[2] = _row(2, "微信").encode("gbk")
    path.write_bytes(HEADER.encode("utf-8") + b"".join(body))
    data = _load(path)
    assert len(data.payments) == 5 and data.payments["channel"].iloc[2] == "wechat"
    assert data.encodings[str(path)] == "UTF-8; 1 line in GB18030/GBK"
    assert "encoding UTF-8; 1 line in GB18030/GBK" in data.summary(file=io.StringIO())


def test_an_undecodable_line_goes_to_the_ledger_at_its_line(tmp_path):
    path = tmp_path / "p.csv"
    body = [_row(i).encode("utf-8") for i in range(6)]
    body[3] = b"00\xff\xfe1003,2025-04-04 10:00:00,\xe6\x94,13.50\n"
    path.write_bytes(HEADER.encode("utf-8") + b"".join(body))
    data = _load(path)
    assert len(data.payments) == 5
    assert data.rejected[["line", "reason"]].values.tolist() == [
        [5, "undecodable bytes"]
    ]
    assert "\\xff" in data.rejected["value"].iloc[0]


def test_quoted_line_breaks_keep_physical_line_numbers(tmp_path):
    path = tmp_path / "p.csv"
    rows = [_row(i).rstrip("\n") + ",\n" for i in range(6)]
    rows[1] = _row(1).rstrip("\n") + ',"第一行\n第二行\n第三行"\n'
    rows[4] = "001004,2025-04-05 10:00:00,支付宝,abc,\n"
    path.write_text(HEADER.rstrip("\n") + ",备注\n" + "".join(rows), "utf-8")
    data = _load(path)
    assert data.counts[str(path)] == {"read": 6, "kept": 5}
    # header 1, rows 2, 3 (3 lines: 3-5), 6, 7, 8 (the bad one), 9
    assert data.rejected[["line", "reason"]].values.tolist() == [
        [8, "non-numeric amount"]
    ]


def test_an_unclosed_quote_loses_only_its_line(tmp_path):
    path = tmp_path / "p.csv"
    rows = [_row(i) for i in range(300)]
    rows[10] = '001010,2025-04-01 10:00:00,"支付宝,10.50\n'
    path.write_text(HEADER + "".join(rows), "utf-8")
    data = _load(path)
    assert data.counts[str(path)] == {"read": 300, "kept": 299}
    assert data.rejected[["line", "reason"]].values.tolist() == [
        [12, "wrong number of fields"]
    ]


def test_a_huge_cell_does_not_lose_the_file(tmp_path):
    path = tmp_path / "p.csv"
    rows = [_row(i).rstrip("\n") + ",无\n" for i in range(4)]
    rows[0] = _row(0).rstrip("\n") + "," + "备" * (1 << 20) + "\n"
    path.write_text(HEADER.rstrip("\n") + ",备注\n" + "".join(rows), "utf-8")
    data = _load(path)
    assert data.counts[str(path)] == {"read": 4, "kept": 4}


@pytest.mark.parametrize(
    "content, seems",
    [
        (b"\x1f\x8b\x08\x00" + bytes(100), "gzip"),
        (b"PAR1" + bytes(100), "Parquet"),
        (b"%PDF-1.4\n" + bytes(100), "PDF"),
        (bytes(range(256)) * 8, "binary"),
    ],
)
def test_disguised_files_are_named(tmp_path, content, seems):
    path = tmp_path / "payments.csv"
    path.write_bytes(content)
    with pytest.raises(payseg.PaymentDataError, match=seems) as err:
        payseg.load(path)
    assert str(path) in str(err.value)


def test_a_csv_named_parquet_and_a_docx_named_xlsx(tmp_path):
    (tmp_path / "a.parquet").write_text(HEADER + _row(0), "utf-8")
    with pytest.raises(payseg.PaymentDataError, match="rename it to .csv"):
        payseg.load(tmp_path / "a.parquet")
    import zipfile

    with zipfile.ZipFile(tmp_path / "b.xlsx", "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(payseg.PaymentDataError, match="Word document"):
        payseg.load(tmp_path / "b.xlsx")


def test_a_folder_skips_lock_files_and_sub_folders_with_a_note(tmp_path):
    (tmp_path / "2025-04.csv").write_text(HEADER + _row(0), "utf-8")
    (tmp_path / "~$2025-04.xlsx").write_bytes(b"\x05zhang" + b"\x00" * 48)
    (tmp_path / "backup.csv").mkdir()
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    with pytest.warns(UserWarning, match=r"backup.csv/.*~\$2025-04.xlsx"):
        data = payseg.load(tmp_path)
    assert list(data.counts) == [str(tmp_path / "2025-04.csv")]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"payments": None}, "got None"),
        ({"payments": 5}, "got 5"),
        ({"payments": []}, "empty list"),
        ({"payments": {"户号": ["1"]}}, "DataFrame"),
        ({"payments": pd.DataFrame(), "columns": ["户号"]}, "columns: got"),
        ({"payments": pd.DataFrame(), "id_width": "x"}, "id_width: got 'x'"),
        ({"payments": pd.DataFrame(), "bills": 5}, "bills: got 5"),
    ],
)
def test_api_inputs_say_found_expected_fix(kwargs, match):
    with pytest.raises(payseg.PaymentDataError, match=match) as err:
        payseg.load(**kwargs)
    assert "expected" in str(err.value)


def test_a_dataframe_with_two_id_columns():
    df = pd.DataFrame(
        [["1", "2", "2025-04-01", "10"]],
        columns=["户号", "户号", "缴费时间", "实收金额"],
    )
    with pytest.raises(payseg.PaymentDataError, match="several columns named '户号'"):
        payseg.load(df)


def test_float_ids_with_a_fraction_are_rejected():
    df = pd.DataFrame(
        {
            "户号": [12345601.0, 12345602.5],
            "缴费时间": ["2025-04-01"] * 2,
            "实收金额": [1.0, 2.0],
        }
    )
    data = _load(df)
    assert data.payments["customer_id"].tolist() == ["12345601"]
    assert data.rejected[["line", "value"]].values.tolist() == [[3, "12345602.5"]]
    assert "fraction" in data.rejected["reason"].iloc[0]


def test_a_reason_above_5_percent_warns_with_the_fix(tmp_path):
    path = tmp_path / "p.csv"
    rows = [
        _row(i) if i % 10 else _row(i).replace("10:00:00", "10:00:00x")
        for i in range(40)
    ]
    path.write_text(HEADER + "".join(rows), "utf-8")
    with pytest.warns(
        UserWarning,
        match=r"p.csv: 4 of 40 rows \(10%\) rejected as "
        r"'unparseable or impossible date' \(lines 2, 12, 22, 32\)",
    ):
        payseg.load(path)


def test_nothing_kept_raises_with_the_ledger(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "".join(_row(i, "信鸽") for i in range(5)), "utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(
            payseg.PaymentDataError, match="'unknown channel': 5 rows"
        ) as err:
            payseg.load(path)
    assert err.value.rejected["line"].tolist() == [2, 3, 4, 5, 6]
    assert err.value.counts == {str(path): {"read": 5, "kept": 0}}


def test_a_gbk_header_over_utf8_rows(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(HEADER.encode("gbk") + "".join(_row(i) for i in range(4)).encode())
    data = _load(path)
    assert data.counts[str(path)] == {"read": 4, "kept": 4}
    assert data.payments["channel"].tolist() == ["alipay"] * 4


def _typed_workbook(path):
    """A sheet with a title, typed cells and an error cell, written by openpyxl."""
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "缴费明细"
    ws.append(["XX供电公司电费实收明细表"])
    ws.append(["户号", "缴费时间", "缴费方式", "实收金额", "电费年月"])
    ws.append(["0010001", dt.datetime(2025, 4, 1, 10, 30), "支付宝", 88.5, "202503"])
    ws.append(["0010002", dt.datetime(2025, 4, 2), "微信", 120.0, 202503])
    ws.append(["0010003", dt.datetime(2025, 4, 3, 9, 0, 5), "网银", "#N/A", "202503"])
    ws.append([12345678901234567890, dt.datetime(2025, 4, 4), "网银", True, "202503"])
    wb.save(path)


def test_calamine_cells_read_as_the_text_pandas_gives(tmp_path):
    from payseg import _read

    path = tmp_path / "book.xlsx"
    _typed_workbook(path)
    grid = _read._read_sheets(path)["缴费明细"]
    # Written by hand: whole floats without ".0", dates at midnight with a time,
    # the error cell's own text, a 20-digit number as the float openpyxl stored
    # (1.234567890123457e+19, 16 digits) written out whole.
    assert [list(r) for r in grid] == [
        ["XX供电公司电费实收明细表", "", "", "", ""],
        ["户号", "缴费时间", "缴费方式", "实收金额", "电费年月"],
        ["0010001", "2025-04-01 10:30:00", "支付宝", "88.5", "202503"],
        ["0010002", "2025-04-02 00:00:00", "微信", "120", "202503"],
        ["0010003", "2025-04-03 09:00:05", "网银", "#N/A", "202503"],
        ["12345678901234569216", "2025-04-04 00:00:00", "网银", "True", "202503"],
    ]
    assert grid.flags == [(5, 0, payseg._schema.INEXACT_ID, "1.234567890123457e+19")]


def test_calamine_and_openpyxl_read_the_same_cells(tmp_path, monkeypatch):
    from payseg import _read

    path = tmp_path / "book.xlsx"
    _typed_workbook(path)
    new = _read._read_sheets(path)["缴费明细"]
    monkeypatch.setattr(_read, "_EXCEL_ENGINE", "openpyxl")
    old = _read._read_sheets(path)["缴费明细"]
    # openpyxl reads the error cell as NaN (then read empty); calamine + the XML
    # give its text "#N/A".
    expected = [list(r) for r in old]
    assert pd.isna(expected[4][3])
    expected[4][3] = "#N/A"
    assert [list(r) for r in new] == expected
    assert new.flags == old.flags


def test_an_error_cell_is_rejected_with_its_text(tmp_path):
    path = tmp_path / "book.xlsx"
    _typed_workbook(path)
    data = _load(path)
    rejected = data.rejected.set_index("line")
    assert sorted(data.payments["customer_id"]) == ["0010001", "0010002"]
    assert rejected.loc[5, "column"] == "amount" and rejected.loc[5, "value"] == "#N/A"
    assert rejected.loc[6, "column"] == "customer_id"
    assert rejected.loc[1, "reason"].startswith("title")


def test_sheet_facts_flag_only_plain_big_numbers():
    from payseg._read import _sheet_facts
    from payseg._schema import INEXACT_ID

    xml = (
        b'<sheetData><row r="1"><c r="A1" t="n"><v>12345678901234567</v></c>'
        b'<c s="1" r="B1"><v>1.2345678901234568E+18</v></c>'
        b'<c r="C1"><f>A1*1</f><v>12345678901234567</v></c>'
        b'<c r="D1" t="s"><v>1234567890123456789</v></c>'
        b'<c r="E1"><v>123456789012345</v></c>'
        b'<c r="F1" t="e"><f>1/0</f><v>#DIV/0!</v></c></row></sheetData>'
    )
    flags, errors = _sheet_facts(xml)
    assert flags == [
        (0, 0, INEXACT_ID, "12345678901234567"),
        (0, 1, INEXACT_ID, "1.2345678901234568E+18"),
    ]
    assert errors == [(0, 5, "#DIV/0!")]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _progress_output(monkeypatch, tmp_path, progress, threshold):
    import sys

    from payseg import data as data_module

    path = tmp_path / "p.csv"
    path.write_text(HEADER + "".join(_row(i) for i in range(5)), encoding="utf-8")
    bills = tmp_path / "b.csv"
    bills.write_text("户号,电费年月,应收金额\n001000,202504,10\n", encoding="utf-8")
    monkeypatch.setattr(data_module, "_PROGRESS_BYTES", threshold)
    monkeypatch.setattr(data_module, "_PROGRESS_ROWS", threshold)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    data = _load(path, bills=bills, progress=progress)
    assert len(data.payments) == 5
    return terminal.getvalue()


def test_progress_bars_per_role_file_and_stage_on_a_terminal(monkeypatch, tmp_path):
    shown = _progress_output(monkeypatch, tmp_path, True, 0)
    for desc in ("reading payments", "checking payments", "reading bills"):
        assert desc in shown
    assert "p.csv: validation" in shown


def test_no_progress_when_not_asked_or_small(monkeypatch, tmp_path):
    assert _progress_output(monkeypatch, tmp_path, False, 0) == ""
    assert _progress_output(monkeypatch, tmp_path, True, 1 << 40) == ""


def test_a_real_legacy_xls_is_read_without_xlrd():
    # tests/data/legacy.xls: BIFF8 saved by LibreOffice ("MS Excel 97") from a sheet
    # 缴费明细 with a title, two payments (a datetime, a date; 88.5 and 120.0) and a
    # 合计 row.
    from pathlib import Path

    path = Path(__file__).parent / "data" / "legacy.xls"
    data = _load(path)
    assert data.payments["customer_id"].tolist() == ["0010001", "0010002"]
    assert data.payments["paid_at"].astype(str).tolist() == [
        "2025-04-01 10:30:00",
        "2025-04-02 00:00:00",
    ]
    assert data.payments["amount"].tolist() == [88.5, 120.0]
    assert data.rejected["line"].tolist() == [1, 5]
    assert data.rejected["reason"].iloc[1] == "summary row (合计)"


def _load_export(directory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return payseg.load(
            directory / "payments.parquet",
            bills=directory / "bills.parquet",
            customers=directory / "customers.parquet",
        )


def test_parquet_small_dictionaries_read_as_categories_same_result(
    tmp_path, monkeypatch
):
    # Channel, region, period and day-only dates are stored with small
    # dictionaries: they are read as categories (each text once) and the loaded
    # data, ledger included, is what reading every cell as text gives.
    from payseg import _read

    data = payseg.synth.generate(120, seed=5, months=12)
    payseg.synth.write(data, tmp_path, format="parquet", defects=0.03, seed=5)
    raw = _read.read_table(tmp_path / "payments.parquet")
    assert isinstance(raw["缴费方式"].dtype, pd.CategoricalDtype)
    assert isinstance(raw["电费年月"].dtype, pd.CategoricalDtype)
    bills = _read.read_table(tmp_path / "bills.parquet")
    assert isinstance(bills["缴费截止日期"].dtype, pd.CategoricalDtype)
    got = _load_export(tmp_path)
    monkeypatch.setattr(_read, "DICTIONARY_PAGE_BYTES", -1)
    monkeypatch.setattr(_read, "DICTIONARY_ROLES", frozenset())
    raw = _read.read_table(tmp_path / "payments.parquet")
    assert not any(isinstance(t, pd.CategoricalDtype) for t in raw.dtypes)
    want = _load_export(tmp_path)
    for name in ("payments", "bills", "customers", "rejected"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name))
    assert len(got.rejected) > 0


def test_parquet_amounts_read_as_one_dictionary_same_result(tmp_path, monkeypatch):
    # Amount columns are read as Arrow dictionaries whatever their size; a file of
    # many row groups has one dictionary per group, joined into one by hand. The
    # loaded data and ledger are what reading the amounts as text gives.
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from payseg import _read

    rng = np.random.default_rng(8)
    n = 4_000
    amounts = np.array(
        [f"{v:.2f}" for v in rng.integers(100, 900, n) / 4], dtype=object
    )
    amounts[::37] = "1,234.50元"
    amounts[::101] = "12,34"  # commas that group nothing: rejected
    amounts[::211] = None
    amounts[::307] = "(12.00)"
    pay = pa.table(
        {
            "户号": [f"{i:08d}" for i in np.sort(rng.integers(0, 300, n))],
            "缴费日期": [f"2024-{m:02d}-15" for m in rng.integers(1, 13, n)],
            "实收金额": amounts,
            "缴费方式": rng.choice(["微信", "支付宝", "柜台"], n),
        }
    )
    path = tmp_path / "payments.parquet"
    pq.write_table(pay, path, row_group_size=500)  # 8 groups, 8 dictionaries
    # No dictionary counts as small: only the amount rule reads one.
    monkeypatch.setattr(_read, "DICTIONARY_PAGE_BYTES", -1)
    raw = _read.read_table(path)
    assert not isinstance(raw["缴费方式"].dtype, pd.CategoricalDtype)
    assert isinstance(raw["实收金额"].dtype, pd.CategoricalDtype)
    table = pq.read_table(path, read_dictionary=["实收金额"])
    one = _read._one_dictionary(table.column("实收金额"))
    assert one is not None and one.to_pylist() == list(amounts)
    got = payseg.load(path)
    monkeypatch.setattr(_read, "DICTIONARY_ROLES", frozenset())
    raw = _read.read_table(path)
    assert not isinstance(raw["实收金额"].dtype, pd.CategoricalDtype)
    want = payseg.load(path)
    for name in ("payments", "rejected"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name))
    assert (got.rejected["column"] == "amount").sum() > 0


def test_line_numbers_are_not_copied_with_the_frame():
    import copy

    import numpy as np

    from payseg._read import LineNumbers

    lines = LineNumbers(np.arange(2, 12))
    assert copy.deepcopy(lines) is lines
    assert np.asarray(lines).tolist() == list(range(2, 12))
    assert lines[3] == 5 and len(lines) == 10
    frame = pd.DataFrame({"a": range(10)})
    frame.attrs["lines"] = lines
    assert frame[["a"]].attrs["lines"] is lines
