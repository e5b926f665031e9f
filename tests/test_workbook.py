"""The field-staff workbook (issue 17): lists people act on, read back as staff would."""

import numpy as np
import openpyxl
import pandas as pd
import pytest

import payseg
from payseg.report import write_workbook


@pytest.fixture(scope="module")
def result():
    data = payseg.synth.generate(1200, seed=2, months=24)
    data.customers["customer_name"] = "户" + data.customers.index.str[-4:]
    data.customers["address"] = "幸福路" + data.customers.index.str[-3:] + "号"
    return payseg.segment(data, n_clusters=9, random_state=0)


@pytest.fixture(scope="module")
def book(result, tmp_path_factory):
    path = tmp_path_factory.mktemp("wb") / "workbook.xlsx"
    write_workbook(result, path)
    return path


def _read(path, sheet):
    return pd.read_excel(path, sheet_name=sheet, dtype=object)


def test_sheets_headers_frozen_and_filtered(book, result):
    wb = openpyxl.load_workbook(book)
    names = wb.sheetnames
    assert names[0] == "说明"
    for want in ("全部客户", "VIP客户", "失信客户", "缴费提醒", "预警名单", "分群迁移"):
        assert want in names, names
    regions = sorted(result.customers["region"].dropna().astype(str).unique())
    assert all(f"供电单位-{r}"[:31] in names for r in regions)
    n_actions = result.customers["action"].nunique()
    assert sum(n.startswith("措施-") for n in names) == n_actions
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref, ws.title
    ws = wb["全部客户"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["户号", "户名", "用电地址", "供电单位"]
    assert isinstance(ws["A2"].value, str) and ws["A2"].value.startswith("00")


def test_ids_are_text_and_every_customer_is_on_one_action_sheet(book, result):
    all_ = _read(book, "全部客户")
    assert all_["户号"].map(type).eq(str).all()
    assert all_["户号"].str.len().eq(10).all()
    sheets = pd.read_excel(book, sheet_name=None, dtype={"户号": str})
    listed = pd.concat([f for n, f in sheets.items() if n.startswith("措施-")])
    assert sorted(listed["户号"]) == sorted(result.customers.index)
    # the segment names are those of segments.csv
    assert set(all_["分群名称"]) <= set(result.segments["name_zh"])


def test_vip_sub_tiers_and_bad_credit(book, result):
    vip = _read(book, "VIP客户")
    n_a = int((result.customers["pyramid_tier"] == "A").sum())
    assert len(vip) == n_a
    assert vip["VIP等级"].iloc[0] == "钻石卡" and vip["VIP等级"].iloc[-1] == "金卡"
    assert vip["年缴费金额（元）"].astype(float).is_monotonic_decreasing
    bad = _read(book, "失信客户")
    d = result.customers.index[result.customers["credit_grade"] == "D"]
    assert set(d) <= set(bad["户号"])
    assert bad["失信原因"].str.len().gt(0).all()
    assert bad["建议缴费方式"].str.contains("预付费").all()


def test_reminder_dates_come_before_the_due_date(book, result):
    rem = _read(book, "缴费提醒")
    assert len(rem)
    remind = pd.to_datetime(rem["提醒日期"])
    due = pd.to_datetime(rem["下次截止日"])
    end = result.data.payments["paid_at"].max().normalize()
    assert (remind > end).all() and (remind <= due).all()
    assert rem["提醒渠道"].str.len().gt(0).all()
    auto = result.customers.index[result.customers["archetype"] == "auto_debit"]
    assert not set(auto) & set(rem["户号"])


def test_movers_and_english(result, tmp_path):
    path = write_workbook(
        result, tmp_path / "en.xlsx", lang="en", sheets={"all", "movers", "vip"}
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "read me",
        "all customers",
        "VIP customers",
        "segment moves",
    ]
    mv = pd.read_excel(path, sheet_name="segment moves", dtype=object)
    assert len(mv) == len(result.migration.movers_)
    assert set(mv["to segment"]) <= set(result.segments["name_en"])
    with pytest.raises(ValueError, match="unknown sheets"):
        write_workbook(result, tmp_path / "x.xlsx", sheets={"nope"})


def test_custom_vip_tiers(result, tmp_path):
    tiers = [
        ("甲", "first", 0.5, "走访", "visit"),
        ("乙", "second", 1.0, "电话", "call"),
    ]
    path = write_workbook(result, tmp_path / "v.xlsx", vip_tiers=tiers, sheets={"vip"})
    vip = _read(path, "VIP客户")
    assert set(vip["VIP等级"]) == {"甲", "乙"}
    assert np.isclose((vip["VIP等级"] == "甲").mean(), 0.5, atol=0.1)


def test_code_values_are_words_in_the_language_of_the_book(book, result, tmp_path):
    # A Chinese book shows 高/中/低 and 高价值型..., never the codes 'medium' or
    # 'low_value'; the English book shows the English words.
    all_ = _read(book, "全部客户")
    want_level = {"high": "高", "medium": "中", "low": "低"}
    want_class = {
        "high_value": "高价值型",
        "mass": "大众型",
        "potential": "潜力型",
        "low_value": "低价值型",
    }
    c = result.customers.reindex(all_["户号"])
    assert list(all_["预警等级"]) == [want_level[v] for v in c["warning_level"]]
    assert list(all_["价值类型"]) == [want_class[v] for v in c["value_class"]]
    warn = _read(book, "预警名单")
    assert len(warn) and set(warn["预警等级"]) <= {"高", "中"}
    path = write_workbook(result, tmp_path / "en.xlsx", lang="en", sheets=["all"])
    en = pd.read_excel(path, sheet_name="all customers", dtype={"customer id": str})
    assert set(en["warning level"]) <= {"high", "medium", "low"}
    assert set(en["value class"]) <= {"high value", "mass", "potential", "low value"}


def test_columns_are_wide_enough_to_read(book):
    # Widths follow the contents, not only the header: the read-me's descriptions
    # (about 20 Chinese characters, 2 columns each) are not cut at 8 columns.
    ws = openpyxl.load_workbook(book)["说明"]
    longest = max(len(str(c.value)) for c in ws["B"][1:])
    assert ws.column_dimensions["B"].width >= min(60, 2 * longest)
    assert ws.column_dimensions["C"].width >= 8  # numbers: header 客户数 + margin


def test_sheets_print_one_page_wide_with_the_header_on_every_page(book):
    wb = openpyxl.load_workbook(book)
    fitted = set()
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.print_title_rows == "$1:$1", ws.title
        width = sum(d.width for d in ws.column_dimensions.values())
        if ws.sheet_properties.pageSetUpPr.fitToPage:
            assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
            assert width <= 220, ws.title
            fitted.add(ws.title)
        else:
            assert width > 220, ws.title
    # the lists staff print fit one page wide; the full list with explanations not
    assert {"VIP客户", "失信客户", "缴费提醒", "预警名单"} <= fitted
    assert "全部客户" not in fitted
