"""Value parsers of the loader: customer ids, dates, billing periods, amounts.

Each takes a raw column (text of any export spelling, or already typed) and returns
it typed, with a missing value where the text cannot be read; the cleaners turn those
into ledger entries. Text is parsed once per distinct spelling (:func:`per_distinct`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._text import (
    PLACEHOLDERS,
    STRIP,
    arrow_text,
    as_text,
    factorize_text,
    per_distinct,
    repeats,
)
from ._vocab import CYCLE_WORDS

__all__ = [
    "bad_grouping",
    "id_key",
    "id_problems",
    "implausible_amounts",
    "parse_amounts",
    "parse_cycle_months",
    "parse_dates",
    "parse_ids",
    "parse_periods",
]

# Dates outside this window are typing errors, not payments.
_MIN_DATE = pd.Timestamp("1990-01-01")
_MAX_DATE = pd.Timestamp("2100-01-01")


def id_key(ids: pd.Series) -> np.ndarray:
    """Cheap per-row number from the id text, equal for equal ids (collisions allowed).

    All-digit ids of up to 18 digits (account numbers, the common case) are their
    number and length, from one Arrow cast; other ids only their length (hashing
    text per row is costly). A key of the length alone made every pair of bills of
    the same month and amount a candidate of the duplicate check (a third of them).

    >>> id_key(pd.Series(["0012", "12", "ab", ""])).tolist()
    [772, 770, 2, 0]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(ids.astype("str").fillna("").array)
    length = pc.utf8_length(arr)
    digits = pc.and_(
        pc.ascii_is_decimal(arr),
        pc.and_(pc.greater(length, 0), pc.less_equal(length, 18)),
    )
    number = pc.cast(pc.if_else(digits, arr, pa.scalar(None, arr.type)), pa.int64())
    num = np.asarray(pc.fill_null(number, 0).to_numpy(zero_copy_only=False))
    size = np.asarray(length.to_numpy(zero_copy_only=False), dtype=np.int64)
    return num.astype(np.int64) * 64 + size


def parse_ids(series: pd.Series) -> pd.Series:
    """Customer ids as strings; numeric columns lose a spurious '.0', zeros are kept."""
    if pd.api.types.is_float_dtype(series):
        # Only whole numbers a 64-bit integer holds are ids; others are rejected
        # (:func:`id_problems`) and read as missing here.
        whole = (series % 1 == 0) & (series.abs() < 2.0**63)
        s = series.where(whole).astype("Int64").astype("str")
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


_AMPM = (
    r"(?:[ T]*(?P<ap>上午|下午|am|pm)?\s*(?P<H>\d{1,2})[:时点](?P<M>\d{1,2})分?"
    r"(?::?(?P<S>\d{1,2}(?:\.\d+)?)秒?)?\s*(?P<ap2>am|pm)?)?$"
)
_DATE_RE = r"^(?P<y>\d{4})[-/.年]?(?P<m>\d{1,2})[-/.月]?(?P<d>\d{1,2})[日号]?" + _AMPM
# 1/15/2013 (month first, US) or 15/01/2013 (day first): the order is per column.
_DMY_RE = r"^(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})" + _AMPM
# A UTC offset after a time: +08:00, +0800, Z, UTC.
_OFFSET_RE = (
    r"^(?P<body>.*\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*"
    r"(?:(?P<z>Z|UTC|GMT)|(?P<sign>[+-])(?P<oh>\d{2}):?(?P<om>\d{2}))$"
)
# 20250401103000 (database time stamps without separators).
_COMPACT_RE = (
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})[ T]?(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?$"
)
# Excel day serials (45748 = 2025-04-01, 45748.5 = noon) of 1990-01-01 .. 2099-12-31.
_SERIAL_RE = r"^\d{5}(?:\.\d+)?$"
_SERIAL_MIN, _SERIAL_MAX = 32874, 73051
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")

#: Time zone of the market: times with a UTC offset are converted to it.
DEFAULT_TZ = "Asia/Shanghai"
MONTH_FIRST, DAY_FIRST = "month first", "day first"


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
    # 下午 13:05 or 13:05 pm: a 12-hour marker on a 24-hour time is not a time.
    bad_ap = np.zeros(len(nums), dtype=bool)
    for col in ("ap", "ap2"):
        if col in nums:
            ap = nums[col].astype("str").str.lower()
            marked = ap.isin(["pm", "下午", "am", "上午"]).to_numpy()
            bad_ap |= marked & (hour > 12).to_numpy()
            pm = ap.isin(["pm", "下午"]).to_numpy() & (hour < 12).to_numpy()
            am12 = ap.isin(["am", "上午"]).to_numpy() & (hour == 12).to_numpy()
            hour = hour.where(~pm, hour + 12).where(~am12, 0)
    num = {k: pd.to_numeric(nums[k], errors="coerce") for k in "ymdMS"}
    frame = pd.DataFrame(
        {
            "year": num["y"],
            "month": num["m"],
            "day": num["d"],
            "hour": pd.to_numeric(hour, errors="coerce"),
            "minute": num["M"].fillna(0),
            "second": num["S"].fillna(0),
        }
    )
    # pandas rolls 25:00 or 10:61 over into the next hour or day: impossible times
    # are not dates.
    impossible = (
        (frame["hour"] > 23) | (frame["minute"] > 59) | (frame["second"] >= 60)
    ).to_numpy() | bad_ap
    return pd.to_datetime(frame, errors="coerce").where(~impossible)


def _in_window(dates: pd.Series) -> pd.Series:
    """``dates`` in [1990, 2100) as datetime64[ns]; NaT elsewhere."""
    return dates.where((dates >= _MIN_DATE) & (dates < _MAX_DATE)).astype(
        "datetime64[ns]"
    )


def _nat(index) -> pd.Series:
    return pd.Series(np.datetime64("NaT", "ns"), index=index, dtype="datetime64[ns]")


def _parse_dmy(rest: pd.Series, opts: dict) -> pd.Series:
    """1/15/2013 or 15/01/2013 in the order of the column (detected or given)."""
    parts = rest.str.extract(_DMY_RE, flags=re.IGNORECASE)
    a = pd.to_numeric(parts["a"], errors="coerce")
    b = pd.to_numeric(parts["b"], errors="coerce")
    if a.isna().all():
        return _nat(rest.index)
    info = opts["info"]
    dayfirst = opts["dayfirst"]
    only_day, only_month = bool((a > 12).any()), bool((b > 12).any())
    if dayfirst is None:
        if only_day and only_month:
            # Both orders in one column: read each value the one way it can be
            # read, reject the ambiguous ones.
            info["order"] = "mixed"
            first = rest[(a > 12) | (b > 12)].iloc[0]
            info["example"] = first
            day_first = (a > 12).to_numpy()
            month_first = (b > 12).to_numpy()
            nums = parts.assign(
                m=np.where(day_first, parts["b"], parts["a"]),
                d=np.where(day_first, parts["a"], parts["b"]),
            )
            return _in_window(_from_parts(nums).where(day_first | month_first))
        dayfirst = only_day
        info["ambiguous"] = not (only_day or only_month)
        example = (
            rest[(a > 12) | (b > 12)] if not info["ambiguous"] else rest[a.notna()]
        )
        info["example"] = example.iloc[0]
    info["order"] = DAY_FIRST if dayfirst else MONTH_FIRST
    nums = parts.assign(
        m=parts["b"] if dayfirst else parts["a"],
        d=parts["a"] if dayfirst else parts["b"],
    )
    return _in_window(_from_parts(nums))


def _parse_offsets(s: pd.Series, opts: dict) -> pd.Series:
    """Times with a UTC offset (+08:00, +0800, Z) in the local time of ``opts['tz']``;
    text without an offset is local already."""
    parts = s.str.extract(_OFFSET_RE, flags=re.IGNORECASE)
    has = parts["body"].notna().to_numpy()
    body = s.where(~has, parts["body"])
    local = pd.Series(_parse_date_text(body, opts, offsets=False), index=s.index)
    if has.any():
        p = parts[has]
        sign = np.where(p["sign"] == "-", -1, 1)
        minutes = (
            pd.to_numeric(p["oh"], errors="coerce").fillna(0) * 60
            + pd.to_numeric(p["om"], errors="coerce").fillna(0)
        ) * sign
        utc = local[has] - pd.to_timedelta(minutes.to_numpy(), unit="m")
        converted = (
            utc.dt.tz_localize("UTC").dt.tz_convert(opts["tz"]).dt.tz_localize(None)
        )
        local[has] = _in_window(converted).to_numpy()
        opts["info"]["offsets"] = opts["info"].get("offsets", 0) + int(has.sum())
    return local


def _with_format(s: pd.Series, opts: dict) -> np.ndarray:
    fmt = opts["date_format"]
    out = pd.to_datetime(s, format=fmt, errors="coerce", utc="%z" in fmt)
    if isinstance(out.dtype, pd.DatetimeTZDtype):
        out = out.dt.tz_convert(opts["tz"]).dt.tz_localize(None)
    return _in_window(out).to_numpy(dtype="datetime64[ns]")


def _parse_date_text(s: pd.Series, opts: dict, offsets: bool = True) -> np.ndarray:
    if opts["date_format"]:
        return _with_format(s, opts)
    # Fast path: ISO strings, the common case of machine exports.
    try:
        out = pd.to_datetime(s, format="ISO8601", errors="coerce")
        aware = isinstance(out.dtype, pd.DatetimeTZDtype)
    except (ValueError, TypeError):  # offsets mixed with plain times
        out, aware = None, True
    if aware:
        if offsets:
            return _parse_offsets(s, opts).to_numpy(dtype="datetime64[ns]")
        out = _nat(s.index)
    # Year 1 or 9999 parse at micro-second resolution; drop them before casting to ns.
    out = _in_window(out)
    first = (out.dt.day == 1).to_numpy().copy()
    if first.any():
        # '2025' and '2025-04' parse as the first day: a payment date needs a day.
        first[first] = (s[first].str.len() <= 7).to_numpy()
        out[first] = np.datetime64("NaT", "ns")
    retry = (out.isna() & (s != "")).to_numpy()
    if retry.any():
        rest = s[retry]
        # 2025/4/1 10:30 and the other unambiguous year-first forms: each distinct
        # date and time part once (what _DATE_RE would read, without a regex per row).
        fast, left = _fast_dates(arrow_text(rest))
        parsed = pd.Series(fast, index=rest.index)
        if left.any():
            other = rest[left]
            parsed[left] = _in_window(
                _from_parts(other.str.extract(_DATE_RE, flags=re.IGNORECASE))
            ).to_numpy(dtype="datetime64[ns]")
        again = parsed.isna()
        if again.any():
            compact = _in_window(_from_parts(rest[again].str.extract(_COMPACT_RE)))
            serial = _excel_serial(rest[again])
            parsed[again] = compact.fillna(serial)
            again = parsed.isna()
        if again.any():
            parsed[again] = _parse_dmy(rest[again], opts)
        out[retry] = parsed.astype("datetime64[ns]").to_numpy()
    return out.to_numpy(dtype="datetime64[ns]")


def parse_dates(
    series: pd.Series,
    *,
    tz: str = DEFAULT_TZ,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    info: dict | None = None,
) -> pd.Series:
    """Parse dates or date-times of the forms found in exports; NaT where impossible.

    Handles 2025-04-01, 2025/4/1, 2025.4.1, 20250401, 2025年4月1日, each with an
    optional time with or without seconds (10:30, 10时30分, 下午 3:05, 10:00:00.000),
    20250401103000, Excel day serials (45748, 45748.5 for noon), and 1/15/2013 or
    15/01/2013 in the order of the column: day first when a value can only be read
    day first, month first when one can only be read month first (``dayfirst``
    overrides, ``date_format`` replaces all of this). Times with a UTC offset
    (+08:00, +0800, Z) and time-zone-aware columns are converted to the local time
    of ``tz``. Datetime columns pass through. ``info`` (a dict, optional) receives
    ``order`` ("month first", "day first" or "mixed"), ``ambiguous``, ``example``
    and ``offsets`` (how many values had an offset).

    >>> parse_dates(pd.Series(["45748.5", "2025年04月01日 10时30分"])).tolist()
    [Timestamp('2025-04-01 12:00:00'), Timestamp('2025-04-01 10:30:00')]
    >>> parse_dates(pd.Series(["2025-04-01T02:30:00Z", "1/15/2025"])).tolist()
    [Timestamp('2025-04-01 10:30:00'), Timestamp('2025-01-15 00:00:00')]
    """
    info = {} if info is None else info
    if pd.api.types.is_datetime64_any_dtype(series):
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            info["offsets"] = int(series.notna().sum())
            series = series.dt.tz_convert(tz).dt.tz_localize(None)
        # Year 1 or 9999 (micro-second columns) are out of the ns range: window first.
        return series.where((series >= _MIN_DATE) & (series < _MAX_DATE)).astype(
            "datetime64[ns]"
        )
    opts = {"tz": tz, "dayfirst": dayfirst, "date_format": date_format, "info": info}
    if date_format is None and not repeats(series):
        values = _parse_date_rows(series, opts)
    else:
        values = per_distinct(
            series, lambda s: _parse_date_text(s, opts), np.datetime64("NaT", "ns")
        )
    return pd.Series(values, index=series.index, dtype="datetime64[ns]")


def _parse_date_rows(series: pd.Series, opts: dict) -> np.ndarray:
    """Dates of a column that barely repeats (times to the second), row by row.

    The unambiguous year-first forms (2025-04-01 10:30:00, 2025/4/1 10:30, ...) are
    read first by :func:`_fast_dates` in Arrow kernels, each distinct date part and
    time part once; only the other non-empty values go through
    :func:`_parse_date_text`. The result is that of ``_parse_date_text`` on the
    whole column (tests/test_load_kernels.py), without turning every row into a
    Python string: ``pd.to_datetime`` of an Arrow string column makes one, so at
    24M payment times it was the loader's peak memory.
    """
    values, rest = _fast_dates(arrow_text(series))
    if rest.any():
        values[rest] = _parse_date_text(as_text(series[rest], placeholders=False), opts)
    return values


# Year-first dates that read one way only (separators -, / or ., one kind per
# value; 年月日; 8 digits), optionally followed by one space and a time to the
# second. Each distinct date part and time part is parsed once and spread over the
# rows; every other value goes to :func:`_parse_date_text`.
_FAST_DAY_RE = re.compile(
    r"^(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|\.(\d{1,2})\.(\d{1,2})"
    r"|年(\d{1,2})月(\d{1,2})[日号]|(\d{2})(\d{2}))$",
    re.ASCII,
)
_FAST_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$", re.ASCII)
_NS_PER_S = 1_000_000_000
_NAT_NS = np.iinfo(np.int64).min


def _day_parts(values) -> dict:
    """Year, month, day integer arrays of distinct date texts (0 where no match)."""
    y, m, d = (np.zeros(len(values), dtype=np.int64) for _ in range(3))
    for i, v in enumerate(values):
        hit = _FAST_DAY_RE.match(v)
        if hit:
            g = [x for x in hit.groups()[1:] if x is not None]
            y[i], m[i], d[i] = int(hit.group(1)), int(g[0]), int(g[1])
    zero = np.zeros(len(values), dtype=np.int64)
    return {"y": y, "m": m, "d": d, "H": zero, "M": zero, "S": zero}


def _time_seconds(values) -> np.ndarray:
    """Seconds of the day of distinct time texts; -1 where not a real time."""
    out = np.full(len(values), -1, dtype=np.int64)
    for i, v in enumerate(values):
        hit = _FAST_TIME_RE.match(v)
        if hit:
            h, mi, s = int(hit.group(1)), int(hit.group(2)), int(hit.group(3) or 0)
            if h <= 23 and mi <= 59 and s <= 59:
                out[i] = (h * 60 + mi) * 60 + s
    return out


#: Rows per slice of :func:`_fast_dates`: its temporaries (the split pieces, their
#: codes, row indices) are several times the column; slices keep them small.
_FAST_SLICE = 1 << 21


def _fast_dates(text) -> tuple[np.ndarray, np.ndarray]:
    """Dates of the unambiguous year-first forms, parsed per distinct part.

    ``text`` is a folded Arrow string column (:func:`arrow_text`). Returns
    ``(values, rest)``: datetime64[ns] (NaT where not parsed) and the mask of
    non-empty values left for the general parser. The column is read in slices of
    :data:`_FAST_SLICE` rows (a distinct date part is parsed once for all of them,
    the times of day of each slice by Arrow kernels).
    """
    import pyarrow as pa

    n = len(text)
    stamps = np.empty(n, dtype=np.int64)
    rest = np.zeros(n, dtype=bool)
    days: dict = {}

    def read_slice(at):
        stop = min(at + _FAST_SLICE, n)
        part = text.slice(at, stop - at)
        # The fixed-width forms straight from the bytes; the others split and parsed
        # per distinct part.
        fixed, done = _fixed_width_dates(part)
        stamps[at:stop] = fixed
        if not done.all():
            left = np.flatnonzero(~done)
            sub = part.take(pa.array(left)) if len(left) < len(part) else part
            stamps[at + left], rest[at + left] = _fast_dates_slice(sub, days)

    starts = range(0, n, _FAST_SLICE)
    if len(starts) > 1:
        # Slices in two threads (their kernels release the GIL; each writes its
        # own rows; ``days`` is only added to, the same value for a text).
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(read_slice, starts))
    else:
        for at in starts:
            read_slice(at)
    return stamps.view("datetime64[ns]"), rest


#: Fixed-width year-first forms read from the bytes of the column: length and the
#: positions of year, month, day, hour, minute, second (None: absent) and of the
#: date separators (one of - / . used twice) and the time separators (' ', ':').
_FIXED_FORMS = (
    (19, (0, 5, 8, 11, 14, 17), (4, 7), ((10, 32), (13, 58), (16, 58))),
    (16, (0, 5, 8, 11, 14, None), (4, 7), ((10, 32), (13, 58))),
    (10, (0, 5, 8, None, None, None), (4, 7), ()),
    (8, (0, 4, 6, None, None, None), (), ()),
)


_DAY_TABLE: list = []


def _day_table() -> np.ndarray:
    """Days since 1970 of every (year, month, day) of [1990, 2100) at
    ``((year - 1990) * 12 + month - 1) * 31 + day - 1``; -1 where no such day."""
    if not _DAY_TABLE:
        y, m, d = np.meshgrid(
            np.arange(1990, 2100), np.arange(1, 13), np.arange(1, 32), indexing="ij"
        )
        zero = np.zeros(y.size, dtype=np.int64)
        parts = {"y": y.ravel(), "m": m.ravel(), "d": d.ravel()}
        ok, ns = _stamps_from_parts({**parts, "H": zero, "M": zero, "S": zero})
        _DAY_TABLE.append(np.where(ok, ns // (86_400 * _NS_PER_S), -1))
    return _DAY_TABLE[0]


def _day_table_stamps(num: dict) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_stamps_from_parts` of small integer arrays through :func:`_day_table`
    (a lookup instead of the calendar arithmetic per row)."""
    y, m, d, hh, mm, ss = (num[k] for k in "ymdHMS")
    inside = (
        (y >= 1990)
        & (y < 2100)
        & (m >= 1)
        & (m <= 12)
        & (d >= 1)
        & (d <= 31)
        & (hh <= 23)
        & (mm <= 59)
        & (ss <= 59)
    )
    at = np.where(inside, ((y - 1990) * 12 + m - 1) * 31 + d - 1, 0)
    days = _day_table()[at]
    ok = inside & (days >= 0)
    secs = days * 86_400 + ((hh * 60 + mm) * 60 + ss).astype(np.int64)
    return ok, secs * _NS_PER_S


_TWO_DIGIT_TABLE: list = []


def _two_digits() -> np.ndarray:
    """The number 0-99 of two ASCII digits read as one little-endian uint16 (first
    byte low), 255 for any other pair of bytes: one lookup per field instead of a
    subtraction, a test and a multiply per digit."""
    if not _TWO_DIGIT_TABLE:
        first, second = np.arange(1 << 16) % 256 - 48, np.arange(1 << 16) // 256 - 48
        ok = (first >= 0) & (first <= 9) & (second >= 0) & (second <= 9)
        _TWO_DIGIT_TABLE.append(np.where(ok, first * 10 + second, 255).astype(np.int32))
    return _TWO_DIGIT_TABLE[0]


def _fixed_width_dates(text) -> tuple[np.ndarray, np.ndarray]:
    """Nanosecond stamps of the values of a fixed-width year-first form, and the
    mask of the values read.

    ``2025-04-01 10:30:00``, ``2025/04/01 10:30``, ``2025.04.01`` and ``20250401``
    (two-digit month, day, hour, minute and second) are read in numpy from the
    bytes of the Arrow column: the values of one length are taken out by an Arrow
    filter into one contiguous block, a (rows x length) byte matrix, with no
    Python string per row. A value is read only when it is a real date and time in
    the window of :func:`_stamps_from_parts`; every other value (``2025/4/1 7:05``,
    ``2025-02-30``, text) is left for :func:`_fast_dates_slice`, which reads these
    forms to the same stamps (tests/test_load_kernels.py).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(text)
    stamps = np.full(n, _NAT_NS, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    if n == 0:
        return stamps, done
    length = np.asarray(pc.fill_null(pc.binary_length(text), -1), dtype=np.int64)
    for size, fields, date_seps, time_seps in _FIXED_FORMS:
        hit = length == size
        if not hit.any():
            continue
        rows = np.flatnonzero(hit)
        # One form throughout (the usual export): the column itself, not a copy.
        block = text if len(rows) == n else pc.filter(text, pa.array(hit))
        if isinstance(block, pa.ChunkedArray):
            block = block.combine_chunks()
        bufs = block.buffers()
        width = np.int64 if pa.types.is_large_string(block.type) else np.int32
        first = int(np.frombuffer(bufs[1], dtype=width)[block.offset])
        raw = np.frombuffer(bufs[2], dtype=np.uint8)[first : first + len(rows) * size]
        byte = raw.reshape(len(rows), size)
        iso = _iso_block(block, byte, size)
        if iso is not None:
            ok, ns = iso
            if len(rows) == n:
                stamps, done = np.where(ok, ns, _NAT_NS), ok
            else:
                stamps[rows[ok]], done[rows[ok]] = ns[ok], True
            continue
        # In blocks that stay in the core's cache: a dozen passes over each block.
        for lo in range(0, len(rows), _CACHE_ROWS):
            ok, ns = _fixed_width_block(
                byte[lo : lo + _CACHE_ROWS], fields, date_seps, time_seps
            )
            at = rows[lo : lo + _CACHE_ROWS][ok]
            stamps[at] = ns[ok]
            done[at] = True
    return stamps, done


def _iso_block(block, byte, size) -> tuple[np.ndarray, np.ndarray] | None:
    """``(ok, ns)`` of a block of ``2025-04-01 10:30:00``, ``2025-04-01 10:30`` or
    ``2025-04-01`` values by Arrow's ISO 8601 cast, or None when some value is not
    of that form (the cast refuses the whole block; the byte kernel reads it).

    The cast is a tight C++ loop, several times faster than the byte kernel's dozen
    numpy passes; it checks the calendar (no 2025-02-30, 24:00 or :60) and, with the
    space required at position 10, reads exactly the values the byte kernel reads,
    to the same stamps (tests/test_load_kernels.py). Only the window of
    :func:`_stamps_from_parts` is applied here.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if size not in (10, 16, 19):
        return None
    # A failed cast costs a full one: rule out other separators from the bytes.
    if not ((byte[:, 4] == 45).all() and (byte[:, 7] == 45).all()):
        return None
    if size > 10 and not (byte[:, 10] == 32).all():
        return None
    try:
        secs = pc.cast(block, pa.timestamp("s")).cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    secs = np.asarray(secs, dtype=np.int64)
    ok = (secs >= _MIN_SECOND) & (secs < _MAX_SECOND)
    return ok, secs * _NS_PER_S


#: The window of :func:`_stamps_from_parts` in seconds since 1970.
_MIN_SECOND = _MIN_DATE.value // _NS_PER_S
_MAX_SECOND = _MAX_DATE.value // _NS_PER_S


#: Rows per block of :func:`_fixed_width_dates` (a few hundred kB of temporaries).
_CACHE_ROWS = 1 << 15


def _fixed_width_block(byte, fields, date_seps, time_seps):
    """``(ok, ns)`` of a (rows x length) byte matrix of one fixed-width form."""
    n = len(byte)
    good = np.ones(n, dtype=bool)
    num = {}
    for key, at, w in zip("ymdHMS", fields, (4, 2, 2, 2, 2, 2), strict=True):
        value = np.zeros(n, dtype=np.int32)
        if at is not None:
            for k in range(at, at + w, 2):
                pair = _two_digits()[byte[:, k : k + 2].view("<u2")[:, 0]]
                good &= pair <= 99
                value = value * np.int32(100) + pair
        num[key] = value
    if date_seps:
        sep, other = byte[:, date_seps[0]], byte[:, date_seps[1]]
        good &= (sep == other) & ((sep == 45) | (sep == 46) | (sep == 47))  # - . /
    for at, want in time_seps:
        good &= byte[:, at] == want
    ok, ns = _day_table_stamps(num)
    return ok & good, ns


def _parsed_parts(values: list, cache: dict, parse) -> np.ndarray:
    """``parse(values)`` (an array per value) through ``cache`` (text -> value)."""
    new = [v for v in values if v not in cache]
    if new:
        cache.update(zip(new, parse(new)))
    return np.array([cache[v] for v in values])


def _time_seconds_arrow(values) -> np.ndarray:
    """:func:`_time_seconds` of an Arrow string array, in Arrow kernels (a slice of
    payment times holds up to 86,400 distinct times of day)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = pc.extract_regex(
        values, r"^(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2}))?$"
    )
    hit = np.asarray(parts.is_valid(), dtype=bool)
    out = np.full(len(values), -1, dtype=np.int64)
    if not hit.any():
        return out
    parts = parts.filter(pa.array(hit))

    def num(name):
        text = pc.struct_field(parts, name)
        text = pc.if_else(pc.equal(text, ""), "0", text)
        return np.asarray(pc.cast(text, pa.int64()), dtype=np.int64)

    h, m, sec = num("h"), num("m"), num("s")
    real = (h <= 23) & (m <= 59) & (sec <= 59)
    out[hit] = np.where(real, (h * 60 + m) * 60 + sec, -1)
    return out


def _fast_dates_slice(text, days: dict) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(text)
    parts = pc.split_pattern(text, " ", max_splits=1)
    if isinstance(parts, pa.ChunkedArray):
        parts = parts.combine_chunks()
    row = np.asarray(pc.list_parent_indices(parts), dtype=np.int64)
    flat = pc.list_flatten(parts)
    del parts
    first = np.ones(len(row), dtype=bool)
    first[1:] = row[1:] != row[:-1]
    # Date parts (first piece of each row), once per distinct spelling.
    day = pc.dictionary_encode(flat.filter(pa.array(first)))

    def day_stamps(values):
        ok, ns = _stamps_from_parts(_day_parts(values))
        return np.where(ok, ns, _NAT_NS)

    ns_day = _parsed_parts(day.dictionary.to_pylist(), days, day_stamps)
    stamps = np.full(n, _NAT_NS, dtype=np.int64)
    stamps[row[first]] = ns_day[np.asarray(day.indices, dtype=np.int64)]
    del day
    if not first.all():
        # Time parts (the piece after the first space).
        timed = pc.dictionary_encode(flat.filter(pa.array(~first)))
        secs = _time_seconds_arrow(timed.dictionary)
        t = secs[np.asarray(timed.indices, dtype=np.int64)]
        time_row = row[~first]
        bad = (t < 0) | (stamps[time_row] == _NAT_NS)
        stamps[time_row] = np.where(bad, _NAT_NS, stamps[time_row] + t * _NS_PER_S)
    ok = stamps != _NAT_NS
    rest = ~ok & np.asarray(pc.not_equal(text, ""), dtype=bool)
    return stamps, rest


def _stamps_from_parts(num: dict) -> tuple[np.ndarray, np.ndarray]:
    """Nanoseconds since 1970 of year/month/day/hour/minute/second integer arrays,
    with the mask of real dates and times in [1990, 2100)."""
    y, m, d, hh, mm, ss = (num[k] for k in "ymdHMS")
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    last = _MONTH_DAYS[np.clip(m, 1, 12) - 1] + (leap & (m == 2))
    ok = (
        (y >= 1990)
        & (y < 2100)
        & (m >= 1)
        & (m <= 12)
        & (d >= 1)
        & (d <= last)
        & (hh <= 23)
        & (mm <= 59)
        & (ss <= 59)
    )
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    # days_from_civil), in integer arithmetic.
    yy = y - (m <= 2)
    era = yy // 400
    yoe = yy - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146_097 + doe - 719_468
    return ok, ((days * 24 + hh) * 60 + mm) * 60 * _NS_PER_S + ss * _NS_PER_S


_PERIOD_RE = (
    r"^(?P<y>\d{4})\s*[-/.年]?\s*(?P<m>\d{1,2})\s*月?份?(?:[-/.]?(?P<d>\d{1,2})[日号]?)?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
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
    day = pd.to_numeric(parts["d"], errors="coerce")
    if day.notna().any():
        # A period written as a date must be a real one: 2025-04-31 is not.
        leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
        last = pd.Series(
            np.take(
                _MONTH_DAYS, month.fillna(1).clip(1, 12).astype("int64").to_numpy() - 1
            ),
            index=s.index,
        ) + (leap & (month == 2))
        ok = ok & ~(day.notna() & ((day < 1) | (day > last))).to_numpy()
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
    return (pd.Series(periods, index=series.index), pd.Series(bad, index=series.index))


_AMOUNT_JUNK = r"[\s元¥￥$']|RMB|CNY|人民币"
# 1,234.50 and 1,234,567: commas group thousands. 12,34 or 1,2,3 do not (a decimal
# comma, or a typing error): they are rejected, never read as 1234 or 123.
_THOUSANDS_RE = r"^[-+(]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\)?-?$"
# 1.234,50 (European): dots group thousands, the comma is the decimal mark.
_EURO_RE = r"^[-+]?\d{1,3}(?:\.\d{3})+,\d{1,2}$"
#: Amounts at or above this many yuan are typing or export errors, not payments.
MAX_AMOUNT = 1e12


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
        euro = cleaned.str.fullmatch(_EURO_RE)
        if euro.any():
            cleaned = cleaned.where(
                ~euro,
                cleaned.str.replace(".", "", regex=False).str.replace(
                    ",", ".", regex=False
                ),
            )
        comma = cleaned.str.contains(",", regex=False)
        if comma.any():
            grouped = cleaned.str.fullmatch(_THOUSANDS_RE)
            cleaned = cleaned.where(~comma | grouped, "x").str.replace(
                ",", "", regex=False
            )
        # Accounting negatives (12.00) and trailing minus 12.00- become -12.00.
        cleaned = cleaned.str.replace(r"^\((.*)\)$|^(.*\d)-$", r"-\1\2", regex=True)
        cleaned = cleaned.str.replace("\u2212", "-", regex=False)
        out[retry] = pd.to_numeric(cleaned, errors="coerce")
    return out.to_numpy(dtype="float64")


def parse_amounts(series: pd.Series) -> pd.Series:
    """Amounts in yuan: '1,000元', '¥88', full-width digits; NaN where not a number.

    Accounting negatives '(12.00)' and '12.00-' are negative; '-', '—' and 'NULL'
    are missing; '1.234,50' (European) is 1234.5; commas that do not group
    thousands ('12,34', '1,2,3') give NaN; '-0' is 0. Infinite values stay
    infinite (:func:`implausible_amounts` finds them).

    >>> parse_amounts(pd.Series(["¥1,234.50", "(12.00)", "—", "１２０元", "12,34"])).tolist()
    [1234.5, -12.0, nan, 120.0, nan]
    """
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64") + 0.0  # + 0.0 turns -0.0 into 0.0
    if len(series) < 1_000:
        values = per_distinct(series, _parse_amount_text, np.nan)
    else:
        values = _amount_values(series)
    return pd.Series(values + 0.0, index=series.index, dtype="float64")


def _amount_values(series: pd.Series) -> np.ndarray:
    """Amounts of a long column, each distinct text parsed once.

    Exports repeat amounts (25M payments of 1M customers hold a few hundred
    thousand distinct texts), so one hash of the column and the Arrow kernels over
    the distinct texts cost a third of running the kernels over every row.
    """
    plain = _cast_plain(series)
    if plain is not None:
        return plain
    codes, distinct = factorize_text(series)  # missing: code -1
    values, rest = _fast_amounts(arrow_text(distinct))
    if rest.any():
        values[rest] = per_distinct(distinct[rest], _parse_amount_text, np.nan)
    return np.append(values, np.nan)[codes]


def _cast_plain(series: pd.Series) -> np.ndarray | None:
    """A text column whose every value Arrow reads as a number ('129.28', '-0',
    '1e5'; missing cells NaN), cast in one pass; None when a value is anything else
    (the first such value stops the cast). The general parser reads these values the
    same way: its first step is this cast (tests/test_load_kernels.py)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(series.dtype, pd.StringDtype) and series.dtype != object:
        return None
    try:
        arr = pa.array(series.array)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        return None
    try:
        values = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


# Plain decimals, and the currency marks and spaces taken off before reading one.
_PLAIN_AMOUNT = r"^-?\d+(?:\.\d+)?$"
_AMOUNT_JUNK_RE2 = r"(?i)[\s元¥￥$']|RMB|CNY|人民币"


def _fast_amounts(text) -> tuple[np.ndarray, np.ndarray]:
    """Plain decimals (after dropping 元, ¥, RMB and spaces) cast by Arrow in one
    pass; returns ``(values, rest)``: float64 (NaN where not read) and the mask of
    non-empty values left for :func:`_parse_amount_text`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    plain = pc.match_substring_regex(text, _PLAIN_AMOUNT)
    if not pc.all(plain).as_py():
        # Currency marks and spaces come off the other values only.
        other = pc.invert(plain)
        cleaned = pc.replace_substring_regex(text.filter(other), _AMOUNT_JUNK_RE2, "")
        text = pc.replace_with_mask(text, other, cleaned)
        plain = pc.or_(
            plain,
            pc.replace_with_mask(
                plain, other, pc.match_substring_regex(cleaned, _PLAIN_AMOUNT)
            ),
        )
    numbers = pc.cast(pc.if_else(plain, text, pa.scalar(None, text.type)), pa.float64())
    values = np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.float64).copy()
    rest = ~np.asarray(plain, dtype=bool) & np.asarray(
        pc.not_equal(text, ""), dtype=bool
    )
    return values, rest


def implausible_amounts(amount: pd.Series) -> np.ndarray:
    """Mask of amounts that are infinite (inf, 1e309, 400 nines) or >= MAX_AMOUNT."""
    values = amount.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.abs(values) >= MAX_AMOUNT


def bad_grouping(raw: pd.Series, amount: pd.Series) -> np.ndarray:
    """Mask of unparsed amounts whose text has commas that group no thousands."""
    miss = amount.isna().to_numpy()
    out = np.zeros(len(raw), dtype=bool)
    if miss.any() and not pd.api.types.is_numeric_dtype(raw):
        text = raw[miss].astype("str").fillna("")
        out[miss] = text.str.contains(",", regex=False).to_numpy(
            dtype=bool, na_value=False
        )
    return out


_SCI_ID_RE = r"^\d(?:\.\d+)?e[+-]?\d+$"
# Control characters, zero-width spaces, direction marks, BOM.
_INVISIBLE_RE = "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"


def id_problems(raw: pd.Series, ids: pd.Series) -> list[tuple[np.ndarray, str]]:
    """Ids that cannot be trusted, as ``(mask, reason)`` pairs for the ledger.

    A list or record instead of one value (Parquet list or struct columns); a
    number too large for a float to hold every digit (19-digit ids stored as numbers
    in Excel: several customers round to one id); scientific notation (4E9); control
    or invisible characters (a zero-width space makes two ids of one customer).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from ._schema import (
        FRACTION_ID,
        INEXACT_ID,
        INVISIBLE_ID,
        NESTED_ID,
        SCIENTIFIC_ID,
    )

    out = []
    kind = pd.api.types.infer_dtype(raw, skipna=True) if raw.dtype == object else None
    if kind is not None and kind not in (
        "string",
        "empty",
        "integer",
        "floating",
        "mixed-integer-float",
    ):
        nested = raw.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray)))
        out.append((nested.to_numpy(dtype=bool), NESTED_ID))
    numbers = None
    if pd.api.types.is_float_dtype(raw):
        numbers = raw
    elif kind is not None and kind not in ("string", "empty", "integer", "boolean"):
        numbers = pd.to_numeric(
            raw.where(raw.map(lambda v: isinstance(v, float))), errors="coerce"
        )
    if numbers is not None:
        values = numbers.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            out.append((np.abs(values) >= 2.0**53, INEXACT_ID))
            out.append((np.isfinite(values) & (values % 1 != 0), FRACTION_ID))
    arr = pa.array(ids.array)
    odd = ~np.asarray(pc.fill_null(pc.ascii_is_decimal(arr), True), dtype=bool)
    if odd.any():
        t = ids[odd]
        sci = np.zeros(len(ids), dtype=bool)
        sci[odd] = t.str.fullmatch(_SCI_ID_RE, case=False).to_numpy(
            dtype=bool, na_value=False
        )
        out.append((sci, SCIENTIFIC_ID))
        inv = np.zeros(len(ids), dtype=bool)
        inv[odd] = t.str.contains(_INVISIBLE_RE, regex=True).to_numpy(
            dtype=bool, na_value=False
        )
        out.append((inv, INVISIBLE_ID))
    return out


_CN_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "六": 6, "十二": 12}
_CYCLE_NUMBER = re.compile(
    r"^(?:每|every|per)?(\d+(?:\.0+)?|十二|[一二两三四六])?"
    r"(?:个)?(?:月|months?|mo)?(?:一次|抄表|抄表一次|结算|一抄)?$"
)


def _cycle_text(values: pd.Series) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, text in enumerate(values):  # distinct spellings only (per_distinct)
        key = "".join(str(text).lower().split())
        if not key:
            continue
        if key in CYCLE_WORDS:
            out[i] = CYCLE_WORDS[key]
            continue
        m = _CYCLE_NUMBER.match(key)
        if m is None or not m.group(1):
            out[i] = -1.0
            continue
        num = m.group(1)
        months = _CN_NUMBERS[num] if num in _CN_NUMBERS else float(num)
        out[i] = months if 1 <= months <= 12 else -1.0
    return out


def parse_cycle_months(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Billing cycle in months (float, NaN unknown) and a bool Series of the cells
    that hold text but cannot be read as one (a cycle outside 1-12 months too).

    >>> cycle, bad = parse_cycle_months(pd.Series(["1", "双月", "每两个月", "monthly",
    ...                                            "", "2个月", "weekly", "13"]))
    >>> cycle.tolist()
    [1.0, 2.0, 2.0, 1.0, nan, 2.0, nan, nan]
    >>> bad.tolist()
    [False, False, False, False, False, False, True, True]
    """
    raw = per_distinct(series, _cycle_text, np.nan)
    bad = raw == -1.0
    cycle = np.where(bad, np.nan, raw)
    return (
        pd.Series(cycle, index=series.index, dtype="float64"),
        pd.Series(bad, index=series.index),
    )
