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
from ._schema import HEADER_MAP

# Reasons written to the ledger; tests and the synthetic defect injector rely on them.
MISSING_ID = "missing customer id"
BAD_DATE = "unparseable or impossible date"
UNKNOWN_CHANNEL = "unknown channel"
NEGATIVE_AMOUNT = "negative amount"
NON_NUMERIC_AMOUNT = "non-numeric amount"
DUPLICATE_ROW = "exact duplicate row"
MISSING_PERIOD = "missing period"
BAD_PERIOD = "unparseable period"
BAD_FIELDS = "wrong number of fields"
DUPLICATE_CUSTOMER = "duplicate customer id"

# Dates outside this window are typing errors, not payments.
_MIN_DATE = pd.Timestamp("1990-01-01")
_MAX_DATE = pd.Timestamp("2100-01-01")

_BRACKETS = re.compile(r"[\(（\[【].*?[\)）\]】]")


def normalise_header(name: object) -> str:
    """Lookup key of a header: NFKC, no spaces, lower case, units in brackets dropped.

    >>> normalise_header(" 缴费金额（元） ")
    '缴费金额'
    """
    text = unicodedata.normalize("NFKC", str(name))
    text = _BRACKETS.sub("", text)
    return "".join(text.split()).lower().lstrip("\ufeff")


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
    return np.array(
        [unicodedata.normalize("NFKC", str(v)).strip() for v in values], dtype=object
    )


def _text(series: pd.Series) -> pd.Series:
    """Series as stripped, NFKC-folded strings ('' for missing)."""
    s = series.astype("str").fillna("")
    if not s.str.isascii().all():
        # Fold each distinct spelling once: exports repeat a few names many times.
        inverse, uniques = pd.factorize(s)
        folded = np.append(_fold(uniques), "")
        return pd.Series(folded[inverse], index=series.index, dtype="str")
    return s.str.strip()


def _per_distinct(series: pd.Series, parse, missing) -> np.ndarray:
    """Run ``parse`` (folded str Series -> ndarray) once per distinct raw value.

    Dates, periods, amounts and channels repeat heavily in exports, so parsing the
    distinct values and spreading them with the factorised codes is several times
    faster than parsing every row. Columns that barely repeat (time stamps with
    seconds) are parsed row by row, where factorising would only add work.
    """
    head = series.iloc[:20_000]
    if len(series) < 1_000 or head.nunique() > 0.2 * len(head):
        values = parse(_text(series))
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
        s = series.astype("str")
        s = s.str.strip() if s.str.isascii().all() else _text(s)
    return s.fillna("").replace({"<NA>": "", "nan": "", "None": ""})


_DATE_RE = (
    r"^(?P<y>\d{4})[-/.年]?(?P<m>\d{1,2})[-/.月]?(?P<d>\d{1,2})日?"
    r"(?:[ T]+(?P<H>\d{1,2})[:时](?P<M>\d{1,2})(?:[:分](?P<S>\d{1,2}(?:\.\d+)?))?秒?)?$"
)


def _parse_date_text(s: pd.Series) -> np.ndarray:
    # Fast path: ISO strings, the common case of machine exports.
    out = pd.to_datetime(s, format="ISO8601", errors="coerce")
    # Year 1 or 9999 parse at micro-second resolution; drop them before casting to ns.
    out = out.where((out >= _MIN_DATE) & (out < _MAX_DATE)).astype("datetime64[ns]")
    retry = (out.isna() & (s != "")).to_numpy()
    if retry.any():
        nums = s[retry].str.extract(_DATE_RE).apply(pd.to_numeric, errors="coerce")
        frame = pd.DataFrame(
            {
                "year": nums["y"], "month": nums["m"], "day": nums["d"],
                "hour": nums["H"].fillna(0), "minute": nums["M"].fillna(0),
                "second": nums["S"].fillna(0),
            }
        )
        parsed = pd.to_datetime(frame, errors="coerce")
        parsed = parsed.where((parsed >= _MIN_DATE) & (parsed < _MAX_DATE))
        out[retry] = parsed.astype("datetime64[ns]").to_numpy()
    return out.to_numpy(dtype="datetime64[ns]")


def parse_dates(series: pd.Series) -> pd.Series:
    """Parse dates or date-times of the forms found in exports; NaT where impossible.

    Handles 2025-04-01, 2025/4/1, 2025.4.1, 20250401, 2025年4月1日, each with an
    optional time with or without seconds. Datetime columns pass through.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series.astype("datetime64[ns]")
        out = out.where((out >= _MIN_DATE) & (out < _MAX_DATE))
        return out
    values = _per_distinct(series, _parse_date_text, np.datetime64("NaT", "ns"))
    return pd.Series(values, index=series.index, dtype="datetime64[ns]")


_PERIOD_RE = r"^(?P<y>\d{4})\s*[-/.年]?\s*(?P<m>\d{1,2})\s*月?(?:[-/.]?\d{1,2}日?)?$"
_NAT_ORDINAL = np.iinfo(np.int64).min
_BAD_ORDINAL = _NAT_ORDINAL + 1  # marks "present but unparseable"


def _parse_period_text(s: pd.Series) -> np.ndarray:
    parts = s.str.replace(r"\.0$", "", regex=True).str.extract(_PERIOD_RE)
    year = pd.to_numeric(parts["y"], errors="coerce")
    month = pd.to_numeric(parts["m"], errors="coerce")
    ok = (year.between(1990, 2099) & month.between(1, 12)).to_numpy()
    ordinal = ((year - 1970) * 12 + month - 1).fillna(0).to_numpy(dtype=np.int64)
    blank = (s == "").to_numpy()
    return np.where(ok, ordinal, np.where(blank, _NAT_ORDINAL, _BAD_ORDINAL))


def parse_periods(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Billing months from 202401, 2024-01, 2024/1, 2024年1月 or a date.

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


_AMOUNT_JUNK = r"[,\s元¥￥$]|RMB|CNY"


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
        out[retry] = pd.to_numeric(cleaned, errors="coerce")
    return out.to_numpy(dtype="float64")


def parse_amounts(series: pd.Series) -> pd.Series:
    """Amounts in yuan: '1,000元', '¥88', full-width digits; NaN where not a number."""
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    values = _per_distinct(series, _parse_amount_text, np.nan)
    return pd.Series(values, index=series.index, dtype="float64")


# ------------------------------------------------------------------------ validation


class _Ledger:
    """Collects rejected rows: every row is charged to the first rule it breaks."""

    def __init__(self, raw: pd.DataFrame, source: str, offset: int):
        self.raw = raw
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
            self.parts.append(
                _entries(self.source, self.lines[mask], column, vals, reason)
            )
            self.alive &= ~mask
        return mask

    def frame(self) -> pd.DataFrame:
        from .data import empty_rejected

        if not self.parts:
            return empty_rejected()
        out = pd.concat(self.parts, ignore_index=True)
        return out.sort_values("line", kind="stable", ignore_index=True)


def _entries(source, lines, column, values, reason) -> pd.DataFrame:
    n = len(lines)
    return pd.DataFrame(
        {
            "source": pd.Series([source] * n, dtype="str"),
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
    with np.errstate(over="ignore"):
        key = _row_key(parsed)
    candidate = pd.Series(key).duplicated(keep=False).to_numpy()
    if not candidate.any():
        return
    subset = raw[candidate]
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
        warnings.warn(
            f"{source}: unknown channel spellings rejected: {'; '.join(details)}. "
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


def clean_payments(raw, *, source, offset, drop_duplicates=True):
    """Validate payment rows; return (kept payments, rejected ledger)."""
    ledger = _Ledger(raw, source, offset)
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


def clean_bills(raw, *, source, offset, drop_duplicates=True):
    """Validate bill rows; return (kept bills, rejected ledger)."""
    ledger = _Ledger(raw, source, offset)
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


def clean_customers(raw, *, source, offset):
    """Validate customer rows; return (customers indexed by customer_id, ledger)."""
    ledger = _Ledger(raw, source, offset)
    ids = parse_ids(raw["customer_id"])
    ledger.reject((ids == "").to_numpy(), "customer_id", MISSING_ID)
    ledger.reject(ids.duplicated(keep="first").to_numpy(), "customer_id",
                  DUPLICATE_CUSTOMER)
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
