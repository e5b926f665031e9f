"""Column mapping and row validation for the loader (vectorised, one pass per column).

Each ``clean_*`` function takes a raw frame whose headers are already canonical and
returns ``(kept, rejected)``. A row is rejected for the first rule it breaks, in the
order the rules are listed in ``clean_payments``, so every rejected row appears in the
ledger exactly once.
"""

from __future__ import annotations

import re
import unicodedata
import warnings

import numpy as np
import pandas as pd

from . import channels as _channels
from ._headers import HEADER_MAP
from ._schema import (
    BAD_DATE,
    BAD_FIELDS,
    BAD_PERIOD,
    DUPLICATE_CUSTOMER,
    DUPLICATE_ROW,
    EMPTY_ROW,
    HEADER_ROW,
    MISSING_ID,
    MISSING_PERIOD,
    NEGATIVE_AMOUNT,
    NON_NUMERIC_AMOUNT,
    SCIENTIFIC_ID,
    UNKNOWN_CHANNEL,
    VOID_ROW,
    empty_rejected,
)

# Dates outside this window are typing errors, not payments.
_MIN_DATE = pd.Timestamp("1990-01-01")
_MAX_DATE = pd.Timestamp("2100-01-01")

_BRACKETS = re.compile(r"[\(（\[【<《].*?[\)）\]】>》]")
# A unit written after a slash ("金额/元"), required-field stars, a trailing colon.
_HEADER_JUNK = re.compile(r"^[*＊]+|[*＊:：]+$")
_HEADER_UNIT = re.compile(r"[/／](元|万元|分|yuan|rmb|cny)$")
# Cells that mean "no value" in exports: dashes, slashes, NULL markers.
_PLACEHOLDERS = frozenset({
    "-", "--", "---", "—", "——", "–", "/", "\\N", "null", "NULL", "Null", "None",
    "none", "nan", "NaN", "NaT", "N/A", "n/a", "#N/A", "无", "空",
})
# Stripped from both ends of every cell: spaces, and the apostrophe, quotes and ="..."
# that exporters add to force Excel to keep a number as text ('0012345, ="0012345").
_STRIP = " \t\r\n\u3000'\"="


def normalise_header(name: object) -> str:
    """Lookup key of a header: NFKC, no spaces, lower case, units in brackets dropped.

    >>> normalise_header(" 缴费金额（元） ")
    '缴费金额'
    >>> normalise_header("*实收金额/元：")
    '实收金额'
    """
    text = unicodedata.normalize("NFKC", str(name))
    text = _BRACKETS.sub("", text)
    text = "".join(text.split()).lower().lstrip("\ufeff")
    return _HEADER_UNIT.sub("", _HEADER_JUNK.sub("", text))


def header_unit(name: object) -> str | None:
    """The money unit a header states, when it is not yuan: '分' or '万元'.

    >>> header_unit("交易金额(分)"), header_unit("实收金额（元）")
    ('分', None)
    """
    text = "".join(unicodedata.normalize("NFKC", str(name)).split()).lower()
    unit = re.search(r"[\(\[【/](分|万元|cents?|fen)[\)\]】]?$", text)
    if unit is None:
        return None
    return "万元" if unit.group(1) == "万元" else "分"


def map_columns(raw, columns, required, optional, *, source, error):
    """Rename ``raw``'s headers to canonical names; raise ``error`` if one is missing."""
    user = {normalise_header(k): v for k, v in (columns or {}).items()}
    wanted = set(required) | set(optional)
    rename, taken = {}, set()
    for header in raw.columns:
        key = normalise_header(header)
        target = user.get(key) or HEADER_MAP.get(key)
        if target is None and key in wanted:
            target = key
        # The first header that maps to a canonical name wins; later ones stay raw.
        if target in wanted and target not in taken:
            rename[header] = target
            taken.add(target)
    missing = [c for c in required if c not in taken]
    if missing:
        found = ", ".join(map(str, raw.columns)) or "(none)"
        raise error(
            f"{source}: required column {missing[0]!r} not found; headers found: "
            f"{found}. Pass columns={{'<your header>': {missing[0]!r}}} to map it."
        )
    out = raw.rename(columns=rename)
    out.attrs = raw.attrs
    return out


# --------------------------------------------------------------------------- parsing


def _fold(values) -> np.ndarray:
    """NFKC-fold and strip each value (full-width digits, ideographic spaces)."""
    out = np.array(
        [unicodedata.normalize("NFKC", str(v)).strip(_STRIP) for v in values],
        dtype=object,
    )
    if len(out):
        out[np.isin(out, list(_PLACEHOLDERS))] = ""
    return out


def _text(series: pd.Series, placeholders: bool = True) -> pd.Series:
    """Series as stripped, NFKC-folded strings ('' for missing).

    ``placeholders=False`` keeps '-', 'NULL' and the like in ASCII text (one pass
    less, for parsers that turn them into NaN anyway).
    """
    s = series.astype("str").fillna("")
    if not s.str.isascii().all():
        # Fold each distinct spelling once: exports repeat a few names many times.
        inverse, uniques = pd.factorize(s)
        folded = np.append(_fold(uniques), "")
        return pd.Series(folded[inverse], index=series.index, dtype="str")
    s = s.str.strip(_STRIP)
    return s.where(~s.isin(_PLACEHOLDERS), "") if placeholders else s


def _per_distinct(series: pd.Series, parse, missing) -> np.ndarray:
    """Run ``parse`` (folded str Series -> ndarray) once per distinct raw value.

    Dates, periods, amounts and channels repeat heavily in exports, so parsing the
    distinct values and spreading them with the factorised codes is several times
    faster than parsing every row. Columns that barely repeat (time stamps with
    seconds) are parsed row by row, where factorising would only add work.
    """
    head = series.iloc[:20_000]
    if len(series) < 1_000 or head.nunique() > 0.2 * len(head):
        values = parse(_text(series, placeholders=False))
        return np.asarray(values)
    codes, uniques = pd.factorize(series)
    parsed = np.asarray(parse(_text(pd.Series(uniques, dtype="str"))))
    return np.append(parsed, np.array([missing], dtype=parsed.dtype))[codes]


def _id_key(ids: pd.Series) -> np.ndarray:
    """Cheap per-row number from the id text; only its length (hashing is costly)."""
    return ids.str.len().to_numpy(dtype=np.int64)


def parse_ids(series: pd.Series) -> pd.Series:
    """Customer ids as strings; numeric columns lose a spurious '.0', zeros are kept."""
    if pd.api.types.is_float_dtype(series):
        s = series.astype("Int64").astype("str")
    elif pd.api.types.is_integer_dtype(series):
        s = series.astype("str")
    else:
        import pyarrow as pa
        import pyarrow.compute as pc

        s = series.astype("str")
        if pc.all(pc.ascii_is_decimal(pa.array(s.array))).as_py() is not False:
            # All digits (the common case): nothing to strip, fold or blank out.
            return s.fillna("") if s.hasnans else s
        s = s.str.strip(_STRIP) if s.str.isascii().all() else _text(s)
        if s.str.endswith(".0").any():
            # Ids that went through a float column: '12345601.0'.
            s = s.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    s = s.fillna("")
    null = s.isin(_NULL_IDS)
    return s.where(~null, "") if null.any() else s


_NULL_IDS = ("<NA>", "nan", "None", "-", "--", "NULL", "null")


_DATE_RE = (
    r"^(?P<y>\d{4})[-/.年]?(?P<m>\d{1,2})[-/.月]?(?P<d>\d{1,2})[日号]?"
    r"(?:[ T]*(?P<ap>上午|下午|am|pm)?\s*(?P<H>\d{1,2})[:时点](?P<M>\d{1,2})分?"
    r"(?::?(?P<S>\d{1,2}(?:\.\d+)?)秒?)?\s*(?P<ap2>am|pm)?)?$"
)
# 20250401103000 (database time stamps without separators).
_COMPACT_RE = (
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})[ T]?(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?$"
)
# Excel day serials (45748 = 2025-04-01, 45748.5 = noon) of 1990-01-01 .. 2099-12-31.
_SERIAL_RE = r"^\d{5}(?:\.\d+)?$"
_SERIAL_MIN, _SERIAL_MAX = 32874, 73051
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")


def _excel_serial(s: pd.Series) -> pd.Series:
    """Excel day serials as datetime64[ns]; NaT for text that is not one."""
    days = pd.to_numeric(s.where(s.str.fullmatch(_SERIAL_RE), ""), errors="coerce")
    days = days.where(days.between(_SERIAL_MIN, _SERIAL_MAX - 1))
    # Round to the second: Excel stores times as fractions of a day.
    ns = (days * 86_400).round() * 1_000_000_000
    out = _EXCEL_EPOCH + ns.to_numpy().astype("timedelta64[ns]")
    return pd.Series(out, index=s.index, dtype="datetime64[ns]")


def _from_parts(nums: pd.DataFrame) -> pd.Series:
    hour = pd.to_numeric(nums["H"], errors="coerce").fillna(0)
    for col in ("ap", "ap2"):
        if col in nums:
            ap = nums[col].astype("str").str.lower()
            pm = ap.isin(["pm", "下午"]).to_numpy() & (hour < 12).to_numpy()
            am12 = ap.isin(["am", "上午"]).to_numpy() & (hour == 12).to_numpy()
            hour = hour.where(~pm, hour + 12).where(~am12, 0)
    num = {k: pd.to_numeric(nums[k], errors="coerce") for k in "ymdMS"}
    frame = pd.DataFrame(
        {
            "year": num["y"], "month": num["m"], "day": num["d"],
            "hour": pd.to_numeric(hour, errors="coerce"),
            "minute": num["M"].fillna(0), "second": num["S"].fillna(0),
        }
    )
    return pd.to_datetime(frame, errors="coerce")


def _parse_date_text(s: pd.Series) -> np.ndarray:
    # Fast path: ISO strings, the common case of machine exports.
    out = pd.to_datetime(s, format="ISO8601", errors="coerce")
    # Year 1 or 9999 parse at micro-second resolution; drop them before casting to ns.
    out = out.where((out >= _MIN_DATE) & (out < _MAX_DATE)).astype("datetime64[ns]")
    retry = (out.isna() & (s != "")).to_numpy()
    if retry.any():
        rest = s[retry]
        parsed = _from_parts(rest.str.extract(_DATE_RE, flags=re.IGNORECASE))
        parsed = parsed.where((parsed >= _MIN_DATE) & (parsed < _MAX_DATE))
        again = parsed.isna()
        if again.any():
            compact = _from_parts(rest[again].str.extract(_COMPACT_RE))
            serial = _excel_serial(rest[again])
            parsed[again] = compact.fillna(serial)
        parsed = parsed.where((parsed >= _MIN_DATE) & (parsed < _MAX_DATE))
        out[retry] = parsed.astype("datetime64[ns]").to_numpy()
    return out.to_numpy(dtype="datetime64[ns]")


def parse_dates(series: pd.Series) -> pd.Series:
    """Parse dates or date-times of the forms found in exports; NaT where impossible.

    Handles 2025-04-01, 2025/4/1, 2025.4.1, 20250401, 2025年4月1日, each with an
    optional time with or without seconds (10:30, 10时30分, 下午 3:05, 10:00:00.000),
    20250401103000, and Excel day serials (45748, 45748.5 for noon). Datetime
    columns pass through.

    >>> parse_dates(pd.Series(["45748.5", "2025年04月01日 10时30分"])).tolist()
    [Timestamp('2025-04-01 12:00:00'), Timestamp('2025-04-01 10:30:00')]
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series.astype("datetime64[ns]")
        out = out.where((out >= _MIN_DATE) & (out < _MAX_DATE))
        return out
    values = _per_distinct(series, _parse_date_text, np.datetime64("NaT", "ns"))
    return pd.Series(values, index=series.index, dtype="datetime64[ns]")


_PERIOD_RE = (
    r"^(?P<y>\d{4})\s*[-/.年]?\s*(?P<m>\d{1,2})\s*月?份?(?:[-/.]?\d{1,2}[日号]?)?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_NAT_ORDINAL = np.iinfo(np.int64).min
_BAD_ORDINAL = _NAT_ORDINAL + 1  # marks "present but unparseable"


def _parse_period_text(s: pd.Series) -> np.ndarray:
    parts = s.str.replace(r"\.0$", "", regex=True).str.extract(_PERIOD_RE)
    year = pd.to_numeric(parts["y"], errors="coerce")
    month = pd.to_numeric(parts["m"], errors="coerce")
    serial = _excel_serial(s)  # a month typed as a date in Excel: 45748
    if serial.notna().any():
        year = year.where(serial.isna(), serial.dt.year)
        month = month.where(serial.isna(), serial.dt.month)
    ok = (year.between(1990, 2099) & month.between(1, 12)).to_numpy()
    ordinal = ((year - 1970) * 12 + month - 1).fillna(0).to_numpy(dtype=np.int64)
    blank = ((s == "") | s.isin(_PLACEHOLDERS)).to_numpy()
    return np.where(ok, ordinal, np.where(blank, _NAT_ORDINAL, _BAD_ORDINAL))


def parse_periods(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Billing months from 202401, 2024-01, 2024.01, 2024/1, 2024年1月, a date or an
    Excel day serial.

    Returns ``(periods, bad)`` where ``bad`` marks non-empty values that do not parse.
    """
    if isinstance(series.dtype, pd.PeriodDtype):
        return series.astype("period[M]"), pd.Series(False, index=series.index)
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.to_period("M"), pd.Series(False, index=series.index)
    ordinals = _per_distinct(series, _parse_period_text, _NAT_ORDINAL)
    bad = ordinals == _BAD_ORDINAL
    ordinals = np.where(bad, _NAT_ORDINAL, ordinals)
    periods = pd.arrays.PeriodArray(ordinals, dtype=pd.PeriodDtype("M"))
    return (pd.Series(periods, index=series.index),
            pd.Series(bad, index=series.index))


_AMOUNT_JUNK = r"[,\s元¥￥$']|RMB|CNY|人民币"


def _parse_amount_text(s: pd.Series) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        # Clean numeric text (the common case) converts in C++ in one pass.
        return pc.cast(pa.array(s.array), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        pass
    out = pd.to_numeric(s, errors="coerce").astype("float64")
    retry = out.isna() & (s != "")
    if retry.any():
        cleaned = s[retry].str.replace(_AMOUNT_JUNK, "", regex=True, case=False)
        # Accounting negatives (12.00) and trailing minus 12.00- become -12.00.
        cleaned = cleaned.str.replace(r"^\((.*)\)$|^(.*\d)-$", r"-\1\2", regex=True)
        cleaned = cleaned.str.replace("\u2212", "-", regex=False)
        out[retry] = pd.to_numeric(cleaned, errors="coerce")
    return out.to_numpy(dtype="float64")


def parse_amounts(series: pd.Series) -> pd.Series:
    """Amounts in yuan: '1,000元', '¥88', full-width digits; NaN where not a number.

    Accounting negatives '(12.00)' and '12.00-' are negative; '-', '—' and 'NULL'
    are missing.

    >>> parse_amounts(pd.Series(["¥1,234.50", "(12.00)", "—", "１２０元"])).tolist()
    [1234.5, -12.0, nan, 120.0]
    """
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    values = _per_distinct(series, _parse_amount_text, np.nan)
    return pd.Series(values, index=series.index, dtype="float64")


# ------------------------------------------------------- rows that are not data rows

# Reasons for lines of a report that are not payment rows (read_table / non_data_rows).

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
        (t.str.strip() == "") | ~t.str.isascii()
        | t.str.contains("e", case=False, regex=False)
    ).to_numpy(dtype=bool, na_value=False)
    if not cand.any():
        return mask, empty
    sub = raw[cand]
    cells = {c: _text(sub[c].astype("str").fillna("")) for c in sub.columns}
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


_STATUS_HEADERS = frozenset({
    "交易状态", "状态", "缴费状态", "收费状态", "处理状态", "对账结果", "对账状态",
    "记录状态", "支付状态", "到账状态", "交易结果", "缴费结果", "status",
})
_FLAG_HEADERS = frozenset({
    "冲正标志", "冲正标识", "是否冲正", "撤销标志", "是否撤销", "作废标志", "是否作废",
    "退费标志", "是否退费", "冲红标志", "红冲标志", "是否冲红",
})
_VOID_WORDS = frozenset({
    "失败", "交易失败", "支付失败", "缴费失败", "冲正", "已冲正", "被冲正", "冲红",
    "已冲红", "红冲", "撤销", "已撤销", "作废", "已作废", "退款", "已退款", "退费",
    "已退费", "无效", "未成功", "未到账", "未支付", "已关闭", "failed", "fail",
    "reversed", "cancelled", "canceled", "refunded", "void",
})
_FLAG_YES = frozenset({"是", "1", "y", "yes", "true", "t"})


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
        words = (_VOID_WORDS if key in _STATUS_HEADERS
                 else _FLAG_YES if key in _FLAG_HEADERS else None)
        if words is None or not len(raw):
            continue
        if why is None:
            why = np.full(len(raw), "", dtype=object)
            where = np.full(len(raw), "", dtype=object)
        inverse, uniques = pd.factorize(raw[col].astype("str"))
        folded = np.append(_fold(uniques), "")
        hit_u = np.array([str(u).lower() in words for u in folded], dtype=bool)
        hit = hit_u[inverse] & ~mask
        label = col if words is _VOID_WORDS else key
        why[hit] = folded[inverse][hit] if words is _VOID_WORDS else label
        where[hit] = col
        mask |= hit
    if why is None:
        return mask, pd.DataFrame({"column": [], "value": [], "reason": []},
                                  dtype="str")
    values = np.array([str(v) for v in why[mask]], dtype=object)
    entries = pd.DataFrame(
        {"column": where[mask], "value": values,
         "reason": [f"{VOID_ROW} ({v})" for v in values]},
        dtype="str",
    )
    return mask, entries


# ------------------------------------------------------------------------ validation


class _Ledger:
    """Collects rejected rows: every row is charged to the first rule it breaks."""

    def __init__(self, raw: pd.DataFrame, source, offset: int, files=None):
        self.raw = raw
        # Rows of several files validated in one call (the out-of-core loader):
        # ``files`` holds each row's index into the ``source`` names.
        self.files = None if files is None else np.asarray(files)
        self.names = None if files is None else np.asarray(source, dtype=object)
        self.source = source
        lines = raw.attrs.get("lines")
        self.lines = (
            np.asarray(lines) if lines is not None and len(lines) == len(raw)
            else np.arange(len(raw), dtype=np.int64) + offset
        )
        self.alive = np.ones(len(raw), dtype=bool)
        self.parts: list[pd.DataFrame] = []
        for line, text in raw.attrs.get("bad_lines", []):
            self.parts.append(_entries(source, [line], "", [text], BAD_FIELDS))

    def reject(self, mask, column: str, reason: str, values=None) -> np.ndarray:
        mask = np.asarray(mask, dtype=bool) & self.alive
        if mask.any():
            if values is None:
                values = self.raw[column] if column in self.raw else ""
            vals = (
                pd.Series(values).astype("str").fillna("").to_numpy()[mask]
                if not isinstance(values, str) else [values] * int(mask.sum())
            )
            source = self.source if self.files is None else self.names[
                self.files[mask]]
            self.parts.append(
                _entries(source, self.lines[mask], column, vals, reason)
            )
            self.alive &= ~mask
        return mask

    def duplicated(self, ids: pd.Series) -> np.ndarray:
        """Rows whose id repeats an earlier row of the same file."""
        if self.files is None:
            return ids.duplicated(keep="first").to_numpy()
        return pd.DataFrame({"f": self.files, "id": ids.to_numpy()}).duplicated(
            keep="first").to_numpy()

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return empty_rejected()
        out = pd.concat(self.parts, ignore_index=True)
        if self.files is None:
            return out.sort_values("line", kind="stable", ignore_index=True)
        return sort_ledger(out, self.names)


def sort_ledger(ledger: pd.DataFrame, order) -> pd.DataFrame:
    """Ledger rows by file (in ``order``, a sequence of source names), then line."""
    rank = ledger["source"].map({s: i for i, s in enumerate(order)})
    key = rank.to_numpy(dtype=np.int64) * (1 << 40) + ledger["line"].to_numpy()
    return ledger.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)


def _entries(source, lines, column, values, reason) -> pd.DataFrame:
    n = len(lines)
    return pd.DataFrame(
        {
            "source": pd.Series(
                [source] * n if isinstance(source, str) else source, dtype="str"
            ),
            "line": np.asarray(lines, dtype=np.int64),
            "column": pd.Series([column] * n, dtype="str"),
            "value": pd.Series(np.asarray(values, dtype=object), dtype="str"),
            "reason": pd.Series([reason] * n, dtype="str"),
        }
    )


def _row_key(parsed) -> np.ndarray:
    """A 64-bit key per row from already parsed numeric columns (collisions allowed)."""
    key = np.zeros(len(parsed[0]), dtype=np.uint64)
    for values in parsed:
        v = np.asarray(values)
        if v.dtype.kind == "f":
            v = np.where(np.isnan(v), -1.0, v)
        bits = v.view(np.uint64) if v.dtype.itemsize == 8 else v.astype(np.uint64)
        key = (key ^ bits) * np.uint64(0x100000001B3)  # FNV-style mixing
    return key


def _duplicates(ledger: _Ledger, parsed) -> None:
    """Reject rows that repeat an earlier row exactly.

    Comparing raw text rows is costly on millions of rows, so rows are first grouped
    by a key of their parsed values (equal raw rows have equal parsed values) and only
    rows whose key repeats are compared as text.
    """
    raw = ledger.raw
    if ledger.files is not None:
        parsed = [*parsed, ledger.files]  # duplicates are found within a file
    with np.errstate(over="ignore"):
        key = _row_key(parsed)
    candidate = pd.Series(key).duplicated(keep=False).to_numpy()
    if not candidate.any():
        return
    subset = raw[candidate]
    if ledger.files is not None:
        subset = subset.assign(_payseg_file=ledger.files[candidate])
    dup_sub = subset.duplicated(keep="first").to_numpy()
    if not dup_sub.any():
        return
    dup = np.zeros(len(raw), dtype=bool)
    dup[np.flatnonzero(candidate)[dup_sub]] = True
    # Name the first occurrence so a reader can find the twin.
    groups = subset.groupby(list(subset.columns), dropna=False, sort=False).ngroup()
    first_pos = pd.Series(np.flatnonzero(candidate)).groupby(
        groups.to_numpy()).transform("min").to_numpy()
    twin_line = np.zeros(len(raw), dtype=np.int64)
    twin_line[candidate] = ledger.lines[first_pos]
    twin = np.char.add("same as line ", twin_line.astype(str))
    ledger.reject(dup, "", DUPLICATE_ROW, values=twin)


def _channel_column(raw, ledger, source):
    if "channel" not in raw:
        return None
    inverse, uniques = pd.factorize(raw["channel"])
    folded = np.append(_fold(uniques), "")
    u_codes, u_unknown = _channels.resolve(folded)
    # An empty cell is a payment of unknown channel, kept with NaN; only spellings
    # that are present but not registered are rejected.
    u_unknown &= folded != ""
    codes = pd.Categorical.from_codes(u_codes.codes[inverse],
                                      categories=u_codes.categories)
    unknown = u_unknown[inverse]
    text = folded[inverse] if unknown.any() else ""
    hits = unknown & ledger.alive
    if hits.any():
        bad = pd.Series(text[hits])
        lines = ledger.lines[hits]
        details = []
        for value, idx in list(bad.groupby(bad, sort=True).indices.items())[:5]:
            first = ", ".join(str(v) for v in lines[idx][:5])
            more = " ..." if len(idx) > 5 else ""
            details.append(f"{len(idx)} rows '{value}' (lines {first}{more})")
        where = source if isinstance(source, str) else "payments"
        warnings.warn(
            f"{where}: unknown channel spellings rejected: {'; '.join(details)}. "
            "Add them with payseg.channels.register(code, aliases=[...]).",
            UserWarning,
            stacklevel=5,
        )
    ledger.reject(unknown, "channel", UNKNOWN_CHANNEL, values=text)
    return codes


def _categorical(series: pd.Series, keep: np.ndarray) -> pd.Categorical:
    """Kept rows of a text column as a categorical of folded, non-empty labels."""
    inverse, uniques = pd.factorize(series)
    labels = np.append(_fold(uniques), "")
    categories, to_cat = np.unique(labels, return_inverse=True)
    codes = to_cat[inverse[keep]]
    empty = categories == ""
    if empty.any():
        # '' is the first category after sorting: drop it and shift the codes.
        codes = codes - 1
        categories = categories[1:]
    return pd.Categorical.from_codes(codes, categories=categories.astype(str))


def clean_payments(raw, *, source, offset, drop_duplicates=True, files=None):
    """Validate payment rows; return (kept payments, rejected ledger).

    ``files`` (optional) gives each row's index into ``source``, then a list of file
    names: rows of several files are validated in one call (one fixed cost instead
    of one per file) with the ledger and duplicate check still per file.
    """
    ledger = _Ledger(raw, source, offset, files)
    ids = parse_ids(raw["customer_id"])
    ledger.reject((ids == "").to_numpy(), "customer_id", MISSING_ID)
    paid_at = parse_dates(raw["paid_at"])
    ledger.reject(paid_at.isna().to_numpy(), "paid_at", BAD_DATE)
    amount = parse_amounts(raw["amount"])
    ledger.reject(amount.isna().to_numpy(), "amount", NON_NUMERIC_AMOUNT)
    ledger.reject((amount < 0).to_numpy(), "amount", NEGATIVE_AMOUNT)
    codes = _channel_column(raw, ledger, source)
    period = None
    if "period" in raw:
        period, bad_period = parse_periods(raw["period"])
        ledger.reject(bad_period.to_numpy(), "period", BAD_PERIOD)
    if drop_duplicates:
        _duplicates(ledger, [
            _id_key(ids), paid_at.to_numpy().view(np.int64), amount.to_numpy(),
            codes.codes if codes is not None else np.zeros(len(raw), np.int8),
            period.array.asi8 if period is not None else np.zeros(len(raw), np.int8),
        ])

    keep = ledger.alive
    n_kept = int(keep.sum())
    out = pd.DataFrame(
        {
            "customer_id": ids[keep].reset_index(drop=True),
            "paid_at": paid_at[keep].to_numpy(dtype="datetime64[ns]"),
            "channel": (
                codes[keep] if codes is not None
                else pd.Categorical.from_codes(
                    np.full(n_kept, -1), categories=_channels.codes()
                )
            ),
            "amount": amount[keep].to_numpy(dtype="float64"),
            "period": (
                period.array[keep] if period is not None
                else pd.array([pd.NaT] * n_kept, dtype="period[M]")
            ),
        }
    )
    if "region" in raw:
        out["region"] = _categorical(raw["region"], keep)
    return out, ledger.frame()


def clean_bills(raw, *, source, offset, drop_duplicates=True, files=None):
    """Validate bill rows; ``files`` as in :func:`clean_payments`."""
    ledger = _Ledger(raw, source, offset, files)
    ids = parse_ids(raw["customer_id"])
    ledger.reject((ids == "").to_numpy(), "customer_id", MISSING_ID)
    period, bad_period = parse_periods(raw["period"])
    ledger.reject(bad_period.to_numpy(), "period", BAD_PERIOD)
    ledger.reject(period.isna().to_numpy(), "period", MISSING_PERIOD)
    dates = {}
    for col in ("issued_on", "due_on"):
        if col in raw:
            text = _text(raw[col]) if not pd.api.types.is_datetime64_any_dtype(
                raw[col]) else None
            dates[col] = parse_dates(raw[col])
            given = (text != "") if text is not None else raw[col].notna()
            ledger.reject((dates[col].isna() & given).to_numpy(), col, BAD_DATE)
        else:
            dates[col] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if "amount_due" in raw:
        due = parse_amounts(raw["amount_due"])
        ledger.reject(due.isna().to_numpy(), "amount_due", NON_NUMERIC_AMOUNT)
        ledger.reject((due < 0).to_numpy(), "amount_due", NEGATIVE_AMOUNT)
    else:
        due = pd.Series(np.nan, index=raw.index)
    if drop_duplicates:
        _duplicates(ledger, [
            _id_key(ids), period.array.asi8, due.to_numpy(),
            dates["issued_on"].to_numpy().view(np.int64),
        ])
    keep = ledger.alive
    out = pd.DataFrame(
        {
            "customer_id": ids[keep].reset_index(drop=True),
            "period": period.array[keep],
            "issued_on": dates["issued_on"][keep].to_numpy(dtype="datetime64[ns]"),
            "due_on": dates["due_on"][keep].to_numpy(dtype="datetime64[ns]"),
            "amount_due": due[keep].to_numpy(dtype="float64"),
        }
    )
    if "region" in raw:
        out["region"] = _categorical(raw["region"], keep)
    return out, ledger.frame()


_METER = {
    "prepaid": "prepaid", "预付费": "prepaid", "费控": "prepaid", "远程费控": "prepaid",
    "本地费控": "prepaid", "智能费控": "prepaid", "卡表": "prepaid", "ic卡表": "prepaid",
    "prepayment": "prepaid",
    "postpaid": "postpaid", "后付费": "postpaid", "普通": "postpaid",
    "普通表": "postpaid", "credit": "postpaid",
}
_TRUE = {"1", "true", "yes", "y", "是", "有", "t"}


def clean_customers(raw, *, source, offset, files=None):
    """Validate customer rows (indexed by customer_id); ``files`` as for payments."""
    ledger = _Ledger(raw, source, offset, files)
    ids = parse_ids(raw["customer_id"])
    ledger.reject((ids == "").to_numpy(), "customer_id", MISSING_ID)
    ledger.reject(ledger.duplicated(ids), "customer_id", DUPLICATE_CUSTOMER)
    keep = ledger.alive
    out = pd.DataFrame(index=pd.Index(ids[keep].to_numpy(), dtype="str",
                                      name="customer_id"))
    for col in ("region", "tariff"):
        if col in raw:
            out[col] = _categorical(raw[col], keep)
    if "meter" in raw:
        meter = _text(raw["meter"])[keep].str.lower().map(_METER)
        out["meter"] = pd.Categorical(meter.to_numpy(),
                                      categories=["postpaid", "prepaid"])
    else:
        out["meter"] = pd.Categorical([np.nan] * len(out),
                                      categories=["postpaid", "prepaid"])
    if "theft" in raw:
        out["theft"] = _text(raw["theft"])[keep].str.lower().isin(_TRUE).to_numpy()
    extra = [c for c in raw.columns if c not in out.columns and c != "customer_id"]
    for col in extra:
        out[col] = raw[col][keep].to_numpy()
    return out, ledger.frame()
