"""Text folding of raw cells: NFKC, stripped, placeholders blanked, once per spelling.

Every parser and cleaner of the loader reads cells through these helpers, so that
full-width digits, ideographic spaces, Excel's ``="..."`` and ``'`` text markers and
"no value" placeholders ('-', 'NULL', '无', ...) are handled in one place.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "PLACEHOLDERS",
    "STRIP",
    "arrow_text",
    "as_text",
    "compact_codes",
    "decode_categoricals",
    "fold",
    "factorize_text",
    "merge_codes",
    "per_distinct",
    "repeats",
    "run_codes",
]

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


def repeats(series: pd.Series) -> bool:
    """Whether a column repeats enough (its first 20,000 values are at most 20%
    distinct, 1,000 rows or more) that parsing each distinct value once pays."""
    head = series.iloc[:20_000]
    return len(series) >= 1_000 and head.nunique() <= 0.2 * len(head)


def per_distinct(series: pd.Series, parse, missing) -> np.ndarray:
    """Run ``parse`` (folded str Series -> ndarray) once per distinct raw value.

    Dates, periods, amounts and channels repeat heavily in exports, so parsing the
    distinct values and spreading them with the factorised codes is several times
    faster than parsing every row. Columns that barely repeat (time stamps with
    seconds) are parsed row by row, where factorising would only add work.
    """
    if not repeats(series):
        values = parse(as_text(series, placeholders=False))
        return np.asarray(values)
    if isinstance(series.dtype, pd.CategoricalDtype):
        # The categorical's own narrow codes: the used categories in order of
        # first appearance (as factorize lists them) without factorize's
        # row-sized int64 codes (21M bill dates: 0.4 s of fresh memory).
        codes = series.cat.codes.to_numpy()
        used = pd.unique(codes)
        used = used[used >= 0]
        labels = series.cat.categories.take(used)
        parsed = np.asarray(parse(as_text(pd.Series(labels, dtype="str"))))
        fill = np.array([missing], dtype=parsed.dtype)
        table = np.repeat(fill, len(series.cat.categories) + 1)  # -1: missing
        table[used] = parsed
        return table[codes]
    codes, uniques = pd.factorize(series)
    parsed = np.asarray(parse(as_text(pd.Series(uniques, dtype="str"))))
    return np.append(parsed, np.array([missing], dtype=parsed.dtype))[codes]


def arrow_text(series: pd.Series, placeholders: bool = False):
    """``series`` as an Arrow string column folded like :func:`as_text`.

    Missing cells are '', values that are not all ASCII are NFKC-folded (Arrow's
    ``utf8_normalize``), and both ends are stripped of :data:`STRIP`, all in
    vectorised kernels over the whole column. ``placeholders=True`` also blanks
    '-', 'NULL' and the other :data:`PLACEHOLDERS`.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = series if isinstance(series.dtype, pd.StringDtype) else series.astype("str")
    arr = pa.array(text.array)  # pandas' Arrow-backed strings: no copy
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr])
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    other = pc.invert(pc.string_is_ascii(arr))
    if pc.any(other).as_py():
        # Fold only the values that are not ASCII (NFKC leaves ASCII unchanged).
        arr = arr.combine_chunks()
        other = other.combine_chunks()
        folded = pc.utf8_normalize(arr.filter(other), form="NFKC")
        arr = pa.chunked_array([pc.replace_with_mask(arr, other, folded)])
    if _ends_to_strip(arr):  # exports rarely pad: skip the copy of every value
        arr = pc.utf8_trim(arr, characters=STRIP)
    if placeholders:
        blank = pc.is_in(
            arr, value_set=pa.array(sorted(PLACEHOLDERS), pa.large_string())
        )
        arr = pc.if_else(blank, "", arr)
    return arr


#: Bytes of the ASCII characters of :data:`STRIP`; after NFKC folding every
#: character of it is ASCII (U+3000 folds to a space).
_STRIP_BYTES = np.zeros(256, dtype=bool)
_STRIP_BYTES[[ord(c) for c in STRIP if ord(c) < 128]] = True


def _ends_to_strip(arr) -> bool:
    """Whether a value of a folded Arrow string column (no nulls) starts or ends
    with a :data:`STRIP` character: two byte lookups per value, read from the
    column's offsets and data buffers."""
    import pyarrow as pa

    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        if not len(chunk):
            continue
        offsets_buf, data_buf = chunk.buffers()[1:3]
        if data_buf is None:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(offsets_buf, dtype=width)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        data = np.frombuffer(data_buf, dtype=np.uint8)
        start, stop = offsets[:-1], offsets[1:]
        filled = stop > start
        if (
            _STRIP_BYTES[data[start[filled]]].any()
            or _STRIP_BYTES[data[stop[filled] - 1]].any()
        ):
            return True
    return False


def run_codes(values) -> tuple[np.ndarray, Any]:
    """Integer codes of a string column, equal for equal values, and the distinct
    values (an Arrow array) they index.

    Exports list a customer's rows together, so the column is first cut into runs
    of equal neighbours (one Arrow comparison of the column with itself shifted by
    a row) and only the first value of each run is hashed: 24M ids of 1M customers
    are 1M hash lookups instead of 24M. Any order gives the same codes as a
    dictionary encoding of the whole column (tests/test_load_kernels.py); a column
    with missing values is encoded whole, with code -1 for them.

    >>> codes, uniques = run_codes(pd.Series(["b", "b", "a", "b"], dtype="str"))
    >>> codes.tolist(), uniques.to_pylist()
    ([0, 0, 1, 0], ['b', 'a'])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pd.Series):
        values = pa.array(values.astype("str").array)
    n = len(values)
    if n == 0 or values.null_count:
        if isinstance(values, pa.ChunkedArray):
            values = (
                values.combine_chunks()
                if values.num_chunks
                else pa.array([], values.type)
            )
        encoded = pc.dictionary_encode(values)
        codes = pc.fill_null(encoded.indices, -1)  # missing: -1
        return np.asarray(codes, dtype=np.int64), encoded.dictionary
    # The chunks of a Parquet read are compared and filtered as they are (joining
    # them first would copy the column); only the runs' first values are joined.
    change = np.ones(n, dtype=bool)
    if n > 1:
        change[1:] = np.asarray(
            pc.not_equal(values.slice(1), values.slice(0, n - 1)), dtype=bool
        )
    heads = values.filter(pa.array(change))
    if isinstance(heads, pa.ChunkedArray):
        heads = heads.combine_chunks()
    encoded = pc.dictionary_encode(heads)
    # Each run's code repeated over its rows: no row-sized running count and take.
    starts = np.flatnonzero(change)
    lengths = np.diff(starts, append=n)
    codes = np.repeat(np.asarray(encoded.indices), lengths)
    return compact_codes(codes, len(encoded.dictionary)), encoded.dictionary


def factorize_text(series: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``pd.factorize`` of a text column: codes (-1 for missing) and the distinct
    values in order of first appearance, as a ``str`` Series; a categorical gives
    its own codes and categories.

    Arrow-backed strings (a Parquet or CSV read) are hashed by Arrow's dictionary
    encoding chunk by chunk: pandas' own path joins the chunks first and took 3.3 s
    for 24M amounts where this takes 1.4 s.

    >>> codes, uniques = factorize_text(pd.Series(["b", None, "a", "b"], dtype="str"))
    >>> codes.tolist(), uniques.tolist()
    ([0, -1, 1, 0], ['b', 'a'])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        # A Parquet dictionary (amounts): its codes and categories as they are
        # (unused categories included: only parsed, never counted).
        # Arrow-backed categories as they are: 250k amounts as Python str took
        # 0.2 s and fresh memory.
        cats = dtype.categories
        values = (
            cats.array
            if isinstance(cats.dtype, pd.StringDtype)
            else np.asarray(cats, dtype=object)
        )
        return series.cat.codes.to_numpy(), pd.Series(values, dtype="str")
    chunks: list = []
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        encoded = pc.dictionary_encode(pa.array(series.array))
        chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    # The chunks of one encoding share its dictionary: checked, not assumed.
    if not chunks or not all(
        _same(c.dictionary, chunks[-1].dictionary) for c in chunks
    ):
        codes, uniques = pd.factorize(series)
        return codes, pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    dictionary = chunks[-1].dictionary
    codes = np.concatenate([np.asarray(pc.fill_null(c.indices, -1)) for c in chunks])
    return codes, pd.Series(pd.array(dictionary, dtype="str"))


def _same(a, b) -> bool:
    """Whether two Arrow arrays are equal, by their buffers first (no comparison of
    the values when they are the same memory)."""
    same = len(a) == len(b) and a.offset == b.offset
    if same and all(
        x is y or (x is not None and y is not None and x.address == y.address)
        for x, y in zip(a.buffers(), b.buffers(), strict=True)
    ):
        return True
    return a.equals(b)


def merge_codes(parts) -> tuple[np.ndarray, Any]:
    """One coding of several :func:`run_codes` results: ``parts`` is a list of
    ``(codes, distinct values)``; returns the codes of all parts, concatenated, into
    one list of distinct values (equal values, equal codes; -1 stays -1), int32
    when the distinct values allow it.

    Only the distinct values are hashed again, not the rows.

    >>> import pyarrow as pa
    >>> codes, uniques = merge_codes([(np.array([0, 1, 0]), pa.array(["b", "a"])),
    ...                               (np.array([1, -1]), pa.array(["c", "b"]))])
    >>> codes.tolist(), uniques.to_pylist()
    ([0, 1, 0, 0, -1], ['b', 'a', 'c'])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not parts:
        return np.array([], dtype=np.int64), pa.array([], pa.large_string())
    if len(parts) == 1:  # the values of one run_codes are distinct already
        codes, distinct = parts[0]
        return compact_codes(codes, len(distinct)), distinct
    dictionaries = [d.cast(pa.large_string()) for _, d in parts]
    encoded = pc.dictionary_encode(pa.concat_arrays(dictionaries))
    remap = compact_codes(encoded.indices, len(encoded.dictionary))
    out, start = [], 0
    for (codes, _), d in zip(parts, dictionaries, strict=True):
        codes = np.asarray(codes)
        if start == 0:
            # The first part's values are distinct and come first in the joined
            # dictionary: its codes stay as they are (no pass over its rows).
            out.append(codes)
        elif len(codes) and codes.min() < 0:
            out.append(np.where(codes >= 0, remap[start + np.maximum(codes, 0)], -1))
        else:
            out.append(remap[start + codes])
        start += len(d)
    return compact_codes(
        np.concatenate(out), len(encoded.dictionary)
    ), encoded.dictionary


def compact_codes(codes, n_distinct: int) -> np.ndarray:
    """``codes`` as int32 when ``n_distinct`` values fit (half the memory of int64
    for codes kept until the health checks), else int64; no copy when already so.

    >>> compact_codes(np.array([0, 2, -1]), 3).dtype
    dtype('int32')
    """
    dtype = np.int32 if n_distinct < 2**31 else np.int64
    return np.asarray(codes).astype(dtype, copy=False)


def decode_categoricals(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each categorical column replaced by its values (missing: NA).

    For comparing and grouping a few rows: pandas turns every category into a
    Python object first (250k amounts of a Parquet dictionary), where taking the
    rows' own categories is a gather.

    >>> f = pd.DataFrame({"x": pd.Categorical(["b", None, "a"])})
    >>> decode_categoricals(f)["x"].tolist()
    ['b', nan, 'a']
    """
    out = frame.copy(deep=False)
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        if isinstance(col.dtype, pd.CategoricalDtype):
            values = col.cat.categories.array.take(
                col.cat.codes.to_numpy(), allow_fill=True
            )
            out.isetitem(j, pd.Series(values, index=col.index, copy=False))
    return out


def take_rows(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """``frame.iloc[positions]`` (positions ascending, index reset), Arrow-backed
    text columns taken chunk by chunk.

    pandas joins a chunked Arrow column (a Parquet read: one chunk per row group)
    into one before a take: 2.8 s to take 222 of 25M rows of an export.

    >>> import pyarrow as pa
    >>> col = pd.Series(pd.array(pa.chunked_array([["a", "b"], ["c"]]), dtype="str"))
    >>> take_rows(pd.DataFrame({"x": col, "y": [1, 2, 3]}), np.array([0, 2])).values.tolist()
    [['a', 1], ['c', 3]]
    """
    import pyarrow as pa

    positions = np.asarray(positions, dtype=np.int64)
    columns = {}
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        data = col.array
        chunked = getattr(data, "_pa_array", None)
        if isinstance(chunked, pa.ChunkedArray) and chunked.num_chunks > 1:
            starts = np.cumsum([0] + [len(c) for c in chunked.chunks])
            which = np.searchsorted(starts, positions, side="right") - 1
            cut = np.flatnonzero(np.diff(which)) + 1
            parts = [
                chunked.chunk(int(which[a])).take(
                    pa.array(positions[a:b] - starts[which[a]])
                )
                for a, b in zip(np.r_[0, cut], np.r_[cut, len(positions)], strict=True)
                if b > a
            ]
            taken = pa.chunked_array(parts, type=chunked.type)
            columns[j] = pd.Series(pd.array(taken, dtype=col.dtype), copy=False)
        else:
            columns[j] = col.iloc[positions].reset_index(drop=True)
    out = pd.DataFrame(columns, copy=False)
    out.columns = frame.columns
    return out
