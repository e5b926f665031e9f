"""Value parsers of the loader: customer ids, dates, billing periods, amounts.

Each takes a raw column (text of any export spelling, or already typed) and returns
it typed, with a missing value where the text cannot be read; the cleaners turn those
into ledger entries. Text is parsed once per distinct spelling (:func:`per_distinct`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._text import PLACEHOLDERS, STRIP, as_text, per_distinct

__all__ = ["id_key", "parse_amounts", "parse_dates", "parse_ids", "parse_periods"]

# Dates outside this window are typing errors, not payments.
_MIN_DATE = pd.Timestamp("1990-01-01")
_MAX_DATE = pd.Timestamp("2100-01-01")


def id_key(ids: pd.Series) -> np.ndarray:
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
        s = s.str.strip(STRIP) if s.str.isascii().all() else as_text(s)
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
    # Round to the second: Excel stores times as fractions of a day. Whole seconds
    # are exact in float64; nanoseconds of 2050 are not (a float has 53 bits).
    seconds = (days * 86_400).round().to_numpy()
    out = _EXCEL_EPOCH + seconds.astype("timedelta64[s]")
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
    # pandas rolls 25:00 or 10:61 over into the next hour or day: impossible times
    # are not dates.
    impossible = ((frame["hour"] > 23) | (frame["minute"] > 59)
                  | (frame["second"] >= 60)).to_numpy()
    return pd.to_datetime(frame, errors="coerce").where(~impossible)


def _in_window(dates: pd.Series) -> pd.Series:
    """``dates`` in [1990, 2100) as datetime64[ns]; NaT elsewhere."""
    return dates.where((dates >= _MIN_DATE) & (dates < _MAX_DATE)).astype(
        "datetime64[ns]")


def _parse_date_text(s: pd.Series) -> np.ndarray:
    # Fast path: ISO strings, the common case of machine exports.
    out = pd.to_datetime(s, format="ISO8601", errors="coerce")
    # Year 1 or 9999 parse at micro-second resolution; drop them before casting to ns.
    out = out.where((out >= _MIN_DATE) & (out < _MAX_DATE)).astype("datetime64[ns]")
    retry = (out.isna() & (s != "")).to_numpy()
    if retry.any():
        rest = s[retry]
        parsed = _from_parts(rest.str.extract(_DATE_RE, flags=re.IGNORECASE))
        parsed = _in_window(parsed)
        again = parsed.isna()
        if again.any():
            compact = _in_window(_from_parts(rest[again].str.extract(_COMPACT_RE)))
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
    values = per_distinct(series, _parse_date_text, np.datetime64("NaT", "ns"))
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
    blank = ((s == "") | s.isin(PLACEHOLDERS)).to_numpy()
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
    ordinals = per_distinct(series, _parse_period_text, _NAT_ORDINAL)
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
    values = per_distinct(series, _parse_amount_text, np.nan)
    return pd.Series(values, index=series.index, dtype="float64")

