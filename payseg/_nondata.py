"""Rows of an export that are not data rows: titles, summaries, notes, void rows.

Staff-saved exports carry summary rows (合计, 小计), footers (制表人：...), blank
lines and repeated headers; bank and marketing-system files keep reversed or failed
transactions with a status column. :func:`non_data_rows` and :func:`void_rows` find
them so the loader can put each in the ledger with its reason instead of reading it
as a payment.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._headers import HEADER_MAP, normalise_header
from ._schema import EMPTY_ROW, HEADER_ROW, SCIENTIFIC_ID, VOID_ROW
from ._text import as_text, fold

__all__ = [
    "REVERSAL_ACTIONS",
    "REVERSED_MARKS",
    "non_data_rows",
    "reversal_kind",
    "void_rows",
]

# 合计 / 总计 / 小计 / 本页合计 / "城东供电所小计" ... in any cell of a row without an id.
_SUMMARY_RE = (
    r"^(?:.{0,12}?)(合计|总计|小计|累计|汇总|grand\s*total|sub\s*total|total)"
    r"(?:$|[:：(（\s\d])"
)
_NOTES_RE = (
    r"^(制表人|制表日期|制表时间|制表|审核人|审核|复核人|复核|打印人|打印时间|打印日期|"
    r"导出人|导出时间|导出日期|统计时间|统计日期|统计人|报表日期|备注|说明|注|负责人|"
    r"经办人|填报人|填表人|数据来源|单位负责人|收费员)\s*[:：]"
)
_SCIENTIFIC_RE = r"^\d(?:\.\d+)?e\+?\d+$"


def non_data_rows(raw: pd.DataFrame, id_header=None):
    """Find the lines of a report that are not payment rows.

    Staff-saved exports end with a summary row (合计/总计, or 小计 per unit), a
    footer ("制表人：..."), blank lines, or repeat the header where two pages were
    pasted together. Only rows whose ``customer_id`` is empty, non-ASCII or in
    scientific notation are looked at, so the pass costs three string operations on
    the id column.

    Parameters
    ----------
    raw : DataFrame
        Mapped raw frame (canonical headers).
    id_header : str, optional
        The file's own header of the id column, to spot repeated header rows.

    Returns
    -------
    mask : ndarray of bool
        Rows that are not data.
    entries : DataFrame
        One row per masked row, in order: ``column``, ``value``, ``reason``.

    Examples
    --------
    >>> raw = pd.DataFrame({"customer_id": ["001", "合计", ""],
    ...                     "amount": ["5", "5", ""]})
    >>> mask, entries = non_data_rows(raw)
    >>> mask.tolist(), entries["reason"].tolist()
    ([False, True, True], ['summary row (合计)', 'empty row'])
    """
    empty = pd.DataFrame({"column": [], "value": [], "reason": []}, dtype="str")
    mask = np.zeros(len(raw), dtype=bool)
    if "customer_id" not in raw or not len(raw):
        return mask, empty
    ids = raw["customer_id"]
    if pd.api.types.is_numeric_dtype(ids) or pd.api.types.is_datetime64_any_dtype(ids):
        return mask, empty
    import pyarrow as pa
    import pyarrow.compute as pc

    s = ids.astype("str")
    # Ids of letters and digits only (nearly every row) need no closer look.
    alnum = pc.fill_null(pc.ascii_is_alnum(pa.array(s.array)), False)
    cand = ~np.asarray(alnum, dtype=bool)
    if not cand.any():
        return mask, empty
    t = s[cand].fillna("")
    cand[cand] = (
        (t.str.strip() == "")
        | ~t.str.isascii()
        | t.str.contains("e", case=False, regex=False)
    ).to_numpy(dtype=bool, na_value=False)
    if not cand.any():
        return mask, empty
    sub = raw[cand]
    cells = {c: as_text(sub[c].astype("str").fillna("")) for c in sub.columns}
    n = len(sub)
    reason = np.full(n, "", dtype=object)
    column = np.full(n, "", dtype=object)
    value = np.full(n, "", dtype=object)

    def mark(hit, col, val, why):
        hit = np.asarray(hit, dtype=bool) & (reason == "")
        for out, x in ((column, col), (value, val), (reason, why)):
            out[hit] = x if isinstance(x, str) else np.asarray(x, dtype=object)[hit]

    sid = cells["customer_id"]
    blank = np.logical_and.reduce([(v == "").to_numpy() for v in cells.values()])
    mark(blank, "", "", EMPTY_ROW)
    keys = {k for k, v in HEADER_MAP.items() if v == "customer_id"} | {"customer_id"}
    if id_header is not None:
        keys.add(normalise_header(id_header))
    is_header = sid.map(normalise_header).isin(keys).to_numpy()
    mark(is_header, "customer_id", sid.to_numpy(), HEADER_ROW)
    for col, v in cells.items():
        # "合  计", "合　计": spaced out to fill a wide cell.
        squeezed = v.str.replace(r"(?<=\S)\s+(?=\S)", "", regex=True)
        word = squeezed.str.extract(_SUMMARY_RE, flags=re.IGNORECASE)[0]
        hit = word.notna().to_numpy()
        if hit.any():
            why = ("summary row (" + word.fillna("").str.lower() + ")").to_numpy()
            mark(hit, col, v.to_numpy(), why)
    first = pd.Series("", index=sub.index, dtype="str")
    first_col = pd.Series("", index=sub.index, dtype="str")
    for col, v in reversed(list(cells.items())):
        first = first.where(v == "", v)
        first_col = first_col.where(v == "", col)
    label = first.str.extract(_NOTES_RE)[0]
    why = ("notes row (" + label.fillna("") + ")").to_numpy()
    mark(label.notna().to_numpy(), first_col.to_numpy(), first.to_numpy(), why)
    sci = sid.str.fullmatch(_SCIENTIFIC_RE, case=False).fillna(False).to_numpy()
    mark(sci, "customer_id", sid.to_numpy(), SCIENTIFIC_ID)
    hit = reason != ""
    mask[np.flatnonzero(cand)[hit]] = True
    entries = pd.DataFrame(
        {"column": column[hit], "value": value[hit], "reason": reason[hit]},
        dtype="str",
    )
    return mask, entries


_STATUS_HEADERS = frozenset(
    {
        "交易状态",
        "状态",
        "缴费状态",
        "收费状态",
        "处理状态",
        "对账结果",
        "对账状态",
        "记录状态",
        "支付状态",
        "到账状态",
        "交易结果",
        "缴费结果",
        "status",
        "收费类型",
        "交易类型",
        "缴费类型",
        "业务类型",
        "收费状态名称",
        "type",
    }
)
_FLAG_HEADERS = frozenset(
    {
        "冲正标志",
        "冲正标识",
        "是否冲正",
        "撤销标志",
        "是否撤销",
        "作废标志",
        "是否作废",
        "退费标志",
        "是否退费",
        "冲红标志",
        "红冲标志",
        "是否冲红",
    }
)
_VOID_WORDS = frozenset(
    {
        "失败",
        "交易失败",
        "支付失败",
        "缴费失败",
        "冲正",
        "已冲正",
        "被冲正",
        "冲红",
        "已冲红",
        "红冲",
        "撤销",
        "已撤销",
        "作废",
        "已作废",
        "退款",
        "已退款",
        "退费",
        "已退费",
        "无效",
        "未成功",
        "未到账",
        "未支付",
        "已关闭",
        "failed",
        "fail",
        "reversed",
        "cancelled",
        "canceled",
        "refunded",
        "void",
        "reversal",
        "refund",
    }
)
_FLAG_YES = frozenset({"是", "1", "y", "yes", "true", "t"})
#: Status words of a row that reverses or refunds an earlier payment (its amount
#: may be negative or not): the loader pairs it with that payment.
REVERSAL_ACTIONS = frozenset(
    {
        "冲正",
        "冲红",
        "红冲",
        "撤销",
        "作废",
        "退款",
        "退费",
        "reversal",
        "refund",
        "void",
    }
)
#: Status words of a payment that was reversed or refunded later (and flag columns
#: such as 是否冲正 = 是): the payment of a pair, or cancelled on its own.
REVERSED_MARKS = frozenset(
    {
        "已冲正",
        "被冲正",
        "已冲红",
        "已撤销",
        "已作废",
        "已退款",
        "已退费",
        "reversed",
        "cancelled",
        "canceled",
        "refunded",
    }
)


def void_rows(raw: pd.DataFrame):
    """Rows a status column marks as reversed, cancelled or failed.

    Bank reconciliation files list failed transactions, and marketing-system exports
    keep a payment that was reversed (冲正) with a status or a flag column; such a
    row is not a payment. Looked at per distinct status value.

    Returns ``(mask, entries)`` like :func:`non_data_rows`.

    Examples
    --------
    >>> raw = pd.DataFrame({"customer_id": ["1", "2"], "交易状态": ["成功", "已冲正"]})
    >>> mask, entries = void_rows(raw)
    >>> mask.tolist(), entries["reason"].tolist()
    ([False, True], ['reversed or failed transaction (已冲正)'])
    """
    mask = np.zeros(len(raw), dtype=bool)
    why = where = None
    for col in raw.columns:
        key = normalise_header(col)
        words = (
            _VOID_WORDS
            if key in _STATUS_HEADERS
            else _FLAG_YES
            if key in _FLAG_HEADERS
            else None
        )
        if words is None or not len(raw):
            continue
        if why is None:
            why = np.full(len(raw), "", dtype=object)
            where = np.full(len(raw), "", dtype=object)
        inverse, uniques = pd.factorize(raw[col].astype("str"))
        folded = np.append(fold(uniques), "")
        hit_u = np.array([str(u).lower() in words for u in folded], dtype=bool)
        hit = hit_u[inverse] & ~mask
        label = col if words is _VOID_WORDS else key
        why[hit] = folded[inverse][hit] if words is _VOID_WORDS else label
        where[hit] = col
        mask |= hit
    if why is None:
        return mask, pd.DataFrame(
            {"column": [], "value": [], "reason": []}, dtype="str"
        )
    values = np.array([str(v) for v in why[mask]], dtype=object)
    entries = pd.DataFrame(
        {
            "column": where[mask],
            "value": values,
            "reason": [f"{VOID_ROW} ({v})" for v in values],
        },
        dtype="str",
    )
    return mask, entries


def reversal_kind(values) -> np.ndarray:
    """Per void row (the ``value`` of :func:`void_rows`' entries): "action" for a
    row that reverses or refunds (冲正, 撤销, 退费), "reversed" for a payment marked
    as reversed (已冲正, or a flag column such as 是否冲正), "" for a failed one.

    >>> reversal_kind(["冲正", "已冲正", "是否冲正", "失败"]).tolist()
    ['action', 'reversed', 'reversed', '']
    """
    low = np.array([str(v).lower() for v in values], dtype=object)
    flag = ~np.isin(low, list(_VOID_WORDS))  # the value is a flag column's name
    return np.where(
        np.isin(low, list(REVERSAL_ACTIONS)),
        "action",
        np.where(np.isin(low, list(REVERSED_MARKS)) | flag, "reversed", ""),
    ).astype(object)
