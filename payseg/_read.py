"""Read one CSV / Parquet / Excel file into a raw DataFrame, keeping damaged lines.

CSV cells are read as strings so that ids keep their leading zeros and messy amounts
and dates reach validation untouched. Lines with too few or too many fields cannot be
a row of the table; they come back in ``frame.attrs["bad_lines"]`` as
``(line, text)`` pairs so the loader can put them in the rejected-row ledger.
``frame.attrs["lines"]`` holds the 1-based file line of each row.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd

_ENCODINGS = ("utf-8", "gb18030")


def sniff_encoding(path: Path, size: int = 1 << 20) -> str:
    """Guess UTF-8 (with or without BOM) or GB18030 from the first megabyte."""
    head = path.read_bytes()[:size] if path.stat().st_size <= size else _head(path, size)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # A multi-byte character may be cut at the end of the sample: ignore that tail.
    for enc in _ENCODINGS:
        try:
            head.decode(enc)
            return enc
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:
                return enc
    return "gb18030"


def _head(path: Path, size: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(size)


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, errors="replace") as fh:
        header = fh.readline()
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    return max(counts, key=counts.get) if max(counts.values()) else ","


def read_csv(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    encoding = sniff_encoding(path)
    delimiter = _sniff_delimiter(path, encoding)
    with open(path, encoding=encoding, errors="replace") as fh:
        header = fh.readline().rstrip("\r\n").lstrip("\ufeff")
    names = [h.strip().strip('"') for h in header.split(delimiter)]
    bad: list[tuple[int, str]] = []

    def keep_bad(row):
        bad.append((row.number, row.text))
        return "skip"

    def read(use_threads: bool):
        bad.clear()
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding.startswith("utf-8") else encoding,
                use_threads=use_threads,
                column_names=names,
                skip_rows=1,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                invalid_row_handler=keep_bad,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
            ),
        )

    table = read(use_threads=True)
    if bad and any(number is None for number, _ in bad):
        # Line numbers of damaged rows are only known when reading on one thread.
        table = read(use_threads=False)
    frame = table.to_pandas()
    n_lines = len(frame) + len(bad)
    lines = np.arange(2, n_lines + 2, dtype=np.int64)
    if bad:
        # pyarrow numbers physical lines from 1, the header included: file lines.
        bad = [(int(number), text) for number, text in bad]
        lines = lines[~np.isin(lines, [b[0] for b in bad])]
    frame.attrs["lines"] = lines
    frame.attrs["bad_lines"] = bad
    return frame


def read_table(path) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel file into a raw DataFrame (see module docstring)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    elif suffix in (".xlsx", ".xls", ".xlsm"):
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    else:
        return read_csv(path)
    frame.attrs["lines"] = np.arange(2, len(frame) + 2, dtype=np.int64)
    frame.attrs["bad_lines"] = []
    return frame
