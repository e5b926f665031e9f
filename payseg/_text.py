"""Text folding of raw cells: NFKC, stripped, placeholders blanked, once per spelling.

Every parser and cleaner of the loader reads cells through these helpers, so that
full-width digits, ideographic spaces, Excel's ``="..."`` and ``'`` text markers and
"no value" placeholders ('-', 'NULL', '无', ...) are handled in one place.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

__all__ = ["PLACEHOLDERS", "STRIP", "as_text", "fold", "per_distinct"]

# Cells that mean "no value" in exports: dashes, slashes, NULL markers.
PLACEHOLDERS = frozenset(
    {
        "-",
        "--",
        "---",
        "—",
        "——",
        "–",
        "/",
        "\\N",
        "null",
        "NULL",
        "Null",
        "None",
        "none",
        "nan",
        "NaN",
        "NaT",
        "N/A",
        "n/a",
        "#N/A",
        "无",
        "空",
    }
)
# Stripped from both ends of every cell: spaces, and the apostrophe, quotes and ="..."
# that exporters add to force Excel to keep a number as text ('0012345, ="0012345").
STRIP = " \t\r\n\u3000'\"="


def fold(values) -> np.ndarray:
    """NFKC-fold and strip each value (full-width digits, ideographic spaces)."""
    out = np.array(
        [unicodedata.normalize("NFKC", str(v)).strip(STRIP) for v in values],
        dtype=object,
    )
    if len(out):
        out[np.isin(out, list(PLACEHOLDERS))] = ""
    return out


def as_text(series: pd.Series, placeholders: bool = True) -> pd.Series:
    """Series as stripped, NFKC-folded strings ('' for missing).

    ``placeholders=False`` keeps '-', 'NULL' and the like in ASCII text (one pass
    less, for parsers that turn them into NaN anyway).
    """
    s = series.astype("str").fillna("")
    if not s.str.isascii().all():
        # Fold each distinct spelling once: exports repeat a few names many times.
        inverse, uniques = pd.factorize(s)
        folded = np.append(fold(uniques), "")
        return pd.Series(folded[inverse], index=series.index, dtype="str")
    s = s.str.strip(STRIP)
    return s.where(~s.isin(PLACEHOLDERS), "") if placeholders else s


def per_distinct(series: pd.Series, parse, missing) -> np.ndarray:
    """Run ``parse`` (folded str Series -> ndarray) once per distinct raw value.

    Dates, periods, amounts and channels repeat heavily in exports, so parsing the
    distinct values and spreading them with the factorised codes is several times
    faster than parsing every row. Columns that barely repeat (time stamps with
    seconds) are parsed row by row, where factorising would only add work.
    """
    head = series.iloc[:20_000]
    if len(series) < 1_000 or head.nunique() > 0.2 * len(head):
        values = parse(as_text(series, placeholders=False))
        return np.asarray(values)
    codes, uniques = pd.factorize(series)
    parsed = np.asarray(parse(as_text(pd.Series(uniques, dtype="str"))))
    return np.append(parsed, np.array([missing], dtype=parsed.dtype))[codes]
