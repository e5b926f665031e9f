"""Text files the sniffing reader cannot lay out: no header line, or a given separator.

Some systems write files without a header line (the columns are documented
elsewhere) or separate fields by runs of spaces. ``load(..., header=None,
names=[...], sep=...)`` reads them here: every line is a row, a line with another
number of fields goes to the ledger ("wrong number of fields").
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._read import sniff_encoding, unique_names

__all__ = ["read_plain"]

_WHITESPACE = {r"\s+", " ", r"\s", "whitespace"}


def read_plain(path, *, header=0, names=None, sep=None) -> pd.DataFrame:
    """Read a text file with an explicit layout into a raw frame of strings.

    Parameters
    ----------
    header : 0 or None
        0: the first line is the header (``names`` then replace it); None: no
        header line, ``names`` are required.
    names : list of str, optional
        Column names (file headers or canonical names).
    sep : str, optional
        Field separator; ``r"\\s+"`` (or " ") for runs of spaces and tabs. Sniffed
        among , tab ; | when None.
    """
    path = Path(path)
    encoding = sniff_encoding(path)
    text = path.read_bytes().decode(encoding, errors="replace").lstrip("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    if sep is None:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
        sep = max(counts, key=counts.get) if max(counts.values()) else ","
    if sep in _WHITESPACE:
        rows = [line.split() for line in lines]
    else:
        rows = list(csv.reader(lines, delimiter=sep))
    start = 0 if header is None else 1
    if header is not None and rows:
        head = unique_names(rows[0])
    else:
        head = []
    if names is not None:
        head = unique_names(names)
    if not head:
        raise ValueError(f"{path}: header=None needs names=[...] (one per column)")
    width = len(head)
    body = rows[start:]
    numbers = np.arange(start + 1, start + 1 + len(body), dtype=np.int64)
    blank = np.array([not any(c.strip() for c in r) for r in body], dtype=bool)
    ok = np.array([len(r) == width for r in body], dtype=bool) | blank
    good = [r if len(r) == width else [""] * width for r, k in zip(body, ok) if k]
    frame = (
        pd.DataFrame(good, columns=head, dtype="str")
        if good
        else pd.DataFrame({h: pd.Series(dtype="str") for h in head})
    )
    frame.attrs["lines"] = numbers[ok]
    frame.attrs["bad_lines"] = [(int(n), lines[n - 1]) for n in numbers[~ok]]
    frame.attrs["title_lines"] = []
    frame.attrs["encoding"] = encoding
    return frame
