"""The rejected-row ledger: every input row not kept, with its line and reason.

A :class:`Ledger` follows one validation pass: each rule rejects the rows it
catches among those still alive, so every row is charged to the first rule it
breaks and appears in the ledger exactly once. Rows read = rows kept + rows
rejected, always. Columns and reasons are those of :mod:`payseg._schema`.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from ._schema import BAD_FIELDS, DUPLICATE_ROW, empty_rejected
from ._text import decode_categoricals, take_rows

__all__ = [
    "Ledger",
    "ledger_entries",
    "reject_duplicates",
    "repeated_keys",
    "sort_ledger",
]


class Ledger:
    """Collects rejected rows: every row is charged to the first rule it breaks."""

    def __init__(self, raw: pd.DataFrame, source, offset: int, files=None):
        # pandas deep-copies ``attrs`` into every frame or column derived from a
        # frame: the row-sized line numbers are read here once and left out, so
        # cleaners work on ``ledger.raw`` without copying them on each step.
        self.raw = pd.DataFrame(raw, copy=False)
        self.raw.attrs = {
            k: v for k, v in raw.attrs.items() if k not in ("lines", "bad_lines")
        }
        # Rows of several files validated in one call (the out-of-core loader):
        # ``files`` holds each row's index into the ``source`` names.
        self.files = None if files is None else np.asarray(files)
        self.names = None if files is None else np.asarray(source, dtype=object)
        self.source = source
        lines = raw.attrs.get("lines")
        self.lines = (
            np.asarray(lines)
            if lines is not None and len(lines) == len(raw)
            else np.arange(len(raw), dtype=np.int64) + offset
        )
        self.alive = np.ones(len(raw), dtype=bool)
        self.parts: list[pd.DataFrame] = []
        for line, text, *why in raw.attrs.get("bad_lines", []):
            # (line, text) of a line with a wrong number of fields, or
            # (line, text, reason) when the reader knows better (undecodable).
            self.parts.append(
                ledger_entries(
                    source, [line], "", [text], why[0] if why else BAD_FIELDS
                )
            )

    def reject(self, mask, column: str, reason: str, values=None) -> np.ndarray:
        mask = np.asarray(mask, dtype=bool) & self.alive
        if mask.any():
            if values is None:
                values = self.raw[column] if column in self.raw else ""
            # Only the rejected cells become text (not the whole column); a
            # callable gets the rejected row positions and returns their values.
            vals = (
                values(np.flatnonzero(mask))
                if callable(values)
                else pd.Series(values)
                .iloc[np.flatnonzero(mask)]
                .astype("str")
                .fillna("")
                .to_numpy()
                if not isinstance(values, str)
                else [values] * int(mask.sum())
            )
            source = self.source if self.files is None else self.names[self.files[mask]]
            self.parts.append(
                ledger_entries(source, self.lines[mask], column, vals, reason)
            )
            self.alive &= ~mask
        return mask

    def duplicated(self, ids: pd.Series) -> np.ndarray:
        """Rows whose id repeats an earlier row of the same file."""
        if self.files is None:
            return ids.duplicated(keep="first").to_numpy()
        return (
            pd.DataFrame({"f": self.files, "id": ids.to_numpy()})
            .duplicated(keep="first")
            .to_numpy()
        )

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


def ledger_entries(source, lines, column, values, reason) -> pd.DataFrame:
    """Ledger rows (``REJECTED_COLUMNS``) for ``lines`` of ``source``.

    ``source`` is one name or one per line; ``column`` and ``reason`` are shared.

    >>> ledger_entries("a.csv", [3, 5], "amount", ["x", "-1"], "bad").values.tolist()
    [['a.csv', 3, 'amount', 'x', 'bad'], ['a.csv', 5, 'amount', '-1', 'bad']]
    """
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
    """A 64-bit key per row from already parsed numeric columns (collisions allowed).

    Mixed in slices of :data:`_KEY_SLICE` rows: the widened and NaN-free copies of
    each column are a few MB and reused, not row-sized (at 25M payments each was
    200 MB of fresh memory, 1.1 s of the load against 0.2 s for the mixing).
    """
    columns = [np.asarray(v) for v in parsed]
    n = len(columns[0]) if columns else 0
    key = np.empty(n, dtype=np.uint64)
    for start in range(0, n, _KEY_SLICE):
        part = key[start : start + _KEY_SLICE]
        for j, values in enumerate(columns):
            v = values[start : start + _KEY_SLICE]
            if v.dtype.kind == "f":
                v = np.where(np.isnan(v), -1.0, v)
            bits = v.view(np.uint64) if v.dtype.itemsize == 8 else _as_uint64(v)
            if j == 0:
                part[...] = bits
            else:
                part ^= bits  # FNV-style mixing, in place
            part *= np.uint64(0x100000001B3)
    return key


#: Rows per slice of :func:`_row_key` (2 MB per uint64 temporary).
_KEY_SLICE = 1 << 18


def repeated_keys(key: np.ndarray) -> np.ndarray:
    """Mask of the keys that occur more than once.

    One sort of the 64-bit keys (several times faster than a hash pass over
    millions of rows); the few repeated values are then looked up. Keys already in
    order (bills sorted by customer and period) are compared with their neighbours.

    >>> repeated_keys(np.array([5, 1, 5, 2, 1, 7], dtype=np.uint64)).tolist()
    [True, True, True, False, True, False]
    """
    if len(key) > 1 and (key[1:] >= key[:-1]).all():
        # Already in order (bills by customer and period): neighbours tell.
        return _beside_an_equal(key[1:] == key[:-1])
    ordered = np.sort(key)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return np.zeros(len(key), dtype=bool)
    repeated = np.unique(ordered[1:][same])
    # Most keys do not repeat: a table of the repeated keys' low bits rules them out
    # with one lookup each, and only the rest are binary-searched in the repeated
    # values (np.isin would sort the keys again).
    table = np.zeros(_TABLE_SIZE, dtype=bool)
    table[_low_bits(repeated)] = True
    maybe = np.flatnonzero(table[_low_bits(key)])
    out = np.zeros(len(key), dtype=bool)
    sub = key[maybe]
    at = np.searchsorted(repeated, sub)
    at[at == len(repeated)] = 0
    out[maybe] = repeated[at] == sub
    return out


#: Entries of the prefilter of :func:`repeated_keys` (4 MB of bools).
_TABLE_SIZE = 1 << 22


def _low_bits(key: np.ndarray) -> np.ndarray:
    """The low 22 bits of integer keys, signed ones by their two's-complement bits."""
    if key.dtype.itemsize == 8 and sys.byteorder == "little" and key.flags.c_contiguous:
        # The low 32-bit half of each key, as a strided view: numpy's cast of
        # uint64 to intp took 1.3 s for 24M keys, this masks 24M uint32 in 0.02 s.
        return key.view(np.uint32)[::2] & np.uint32(_TABLE_SIZE - 1)
    bits = key.view(np.uint64) if key.dtype.itemsize == 8 else _as_uint64(key)
    return (bits & np.uint64(_TABLE_SIZE - 1)).astype(np.intp)


def _as_uint64(values: np.ndarray) -> np.ndarray:
    """The two's-complement bits of narrower integers (or bools) as uint64; signed
    ones widen to int64 first (numpy's direct int32 -> uint64 cast is 30x slower)."""
    if values.dtype.kind == "i":
        return values.astype(np.int64).view(np.uint64)
    return values.astype(np.uint64)


def _neighbour_candidates(first, second) -> np.ndarray | None:
    """Rows whose (``first``, ``second``) equals a neighbour's, when the rows are in
    (first, second) order (payments sorted by customer and time, bills by customer
    and period); None when they are not.

    In that order equal pairs are contiguous, so every row that repeats another
    exactly is among them.

    >>> _neighbour_candidates(np.array([1, 1, 2, 2]), np.array([5, 5, 6, 7])).tolist()
    [True, True, False, False]
    >>> _neighbour_candidates(np.array([2, 1]), np.array([5, 5])) is None
    True
    """
    a, b = np.asarray(first), np.asarray(second)
    if len(a) < 2 or a.dtype.kind not in "iub" or b.dtype.kind not in "iub":
        return None
    same_a = a[1:] == a[:-1]
    if not (a[1:] >= a[:-1]).all() or not (b[1:] >= b[:-1])[same_a].all():
        return None
    return _beside_an_equal(same_a & (b[1:] == b[:-1]))


def _beside_an_equal(same: np.ndarray) -> np.ndarray:
    """Rows equal to the row before or after them, from ``same`` (row i + 1 equals
    row i, one shorter than the rows)."""
    out = np.zeros(len(same) + 1, dtype=bool)
    out[1:] = same
    out[:-1] |= same
    return out


def reject_duplicates(ledger: Ledger, parsed, reject=True, order=None) -> np.ndarray:
    """Reject rows that repeat an earlier row exactly; return the repeats.

    ``reject=False`` only finds them; a boolean array rejects only the repeats it
    marks (same-day repeats without a time or a transaction id are real second
    payments: counted, kept).

    Comparing raw text rows is costly on millions of rows, so rows are first grouped
    by a key of their parsed values (equal raw rows have equal parsed values) and only
    rows whose key repeats are compared as text. ``order`` (optional): two integer
    arrays, equal for equal rows (customer code, day of payment); when the rows are
    in their order (exports sorted by account and date) only rows whose pair equals
    a neighbour's are keyed.
    """
    raw = ledger.raw
    if ledger.files is not None:
        parsed = [*parsed, ledger.files]  # duplicates are found within a file
    near = None if order is None else _neighbour_candidates(*order)
    with np.errstate(over="ignore"):
        if near is None:
            candidate = repeated_keys(_row_key(parsed)) & ledger.alive
        else:
            # Rows in ``order``: a repeated row has a neighbour with its pair;
            # only those few are keyed (no sort of 25M keys).
            rows = np.flatnonzero(near)
            key = _row_key([np.asarray(p)[rows] for p in parsed])
            candidate = np.zeros(len(raw), dtype=bool)
            candidate[rows[repeated_keys(key)]] = True
            candidate &= ledger.alive
    none = np.zeros(len(raw), dtype=bool)
    if not candidate.any():
        return none
    # A boolean mask or iloc over the Arrow-backed frame went through every column
    # in full (1.3 s and 2.8 s for 222 of 25M rows).
    subset = decode_categoricals(take_rows(raw, np.flatnonzero(candidate)))
    if ledger.files is not None:
        subset = subset.assign(_payseg_file=ledger.files[candidate])
    dup_sub = subset.duplicated(keep="first").to_numpy()
    if not dup_sub.any():
        return none
    dup = np.zeros(len(raw), dtype=bool)
    dup[np.flatnonzero(candidate)[dup_sub]] = True
    if reject is False:
        return dup
    # Name the first occurrence so a reader can find the twin.
    groups = subset.groupby(list(subset.columns), dropna=False, sort=False).ngroup()
    first_pos = (
        pd.Series(np.flatnonzero(candidate))
        .groupby(groups.to_numpy())
        .transform("min")
        .to_numpy()
    )
    twin_line = np.zeros(len(raw), dtype=np.int64)
    twin_line[candidate] = ledger.lines[first_pos]
    # The text only for the rejected rows: a row-sized array of it was the load's
    # peak (7.5M strings of 20 characters, 1.2 GB with the lines as text).
    ledger.reject(
        dup if reject is True else dup & reject,
        "",
        DUPLICATE_ROW,
        values=lambda rows: np.char.add("same as line ", twin_line[rows].astype(str)),
    )
    return dup
