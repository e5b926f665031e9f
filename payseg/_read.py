"""Read one CSV / Parquet / Excel file into a raw DataFrame, keeping damaged lines.

CSV cells are read as strings so that ids keep their leading zeros and messy amounts
and dates reach validation untouched. Lines with too few or too many fields cannot be
a row of the table; they come back in ``frame.attrs["bad_lines"]`` as
``(line, text)`` pairs so the loader can put them in the rejected-row ledger.
``frame.attrs["lines"]`` holds the 1-based file line of each row.

Exports saved by staff often carry a title ("XX供电公司2025年4月电费实收明细表"), a date
line ("制表日期：...") or a blank line above the header. The header is the first of the
first 60 lines where every required column maps (:func:`find_header`); the lines above
it come back in ``frame.attrs["title_lines"]`` as ``(line, text)`` pairs.
"""

from __future__ import annotations

import codecs
import csv
import html.parser
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._headers import normalise_header

_ENCODINGS = ("utf-8", "gb18030")
_DELIMITERS = (",", "\t", ";", "|")
_HEAD_LINES = 60  # the header is looked for among this many first lines


class UnreadableFileError(ValueError):
    """A file that no reader can open (the loader turns it into PaymentDataError)."""


def sniff_encoding(path: Path, size: int = 1 << 20) -> str:
    """Guess UTF-8 (with or without BOM), UTF-16 or GB18030 from the first megabyte."""
    head = _head(path, size)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel "Unicode text": UTF-16 with BOM, tab separated
    if len(head) >= 4 and head[1:200:2].count(0) > 0.4 * len(head[1:200:2]):
        return "utf-16-le"  # UTF-16 without BOM: every other byte of ASCII is zero
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


def header_score(cells, keys) -> tuple[int, int]:
    """(required columns mapped, headers mapped) of one candidate header row.

    ``keys`` is ``(lookup, required)``: ``lookup`` maps a normalised header to its
    canonical name (built-in map, user ``columns`` and canonical names themselves).
    """
    lookup, required = keys
    targets = {lookup.get(normalise_header(c)) for c in cells if str(c).strip()}
    targets.discard(None)
    return len(targets & set(required)), len(targets)


def find_header(rows, keys) -> int:
    """Index of the header among ``rows`` (lists of cells).

    The first row where every required column maps; failing that the first row
    with the most (at least two) mapped headers; failing that row 0, so that the
    loader's "required column not found" error lists the first line's headers.

    >>> from payseg._headers import HEADER_MAP
    >>> find_header([["电费实收明细表"], ["户号", "缴费日期", "实收金额"]],
    ...             (HEADER_MAP, ("customer_id", "paid_at", "amount")))
    1
    """
    if keys is None:
        return 0
    best, best_n = 0, 1
    for i, cells in enumerate(rows[:_HEAD_LINES]):
        n_req, n = header_score(cells, keys)
        if n_req == len(keys[1]) and n_req:
            return i
        if n > best_n:
            best, best_n = i, n
    return best


def unique_names(cells) -> list[str]:
    """Header cells as unique names: blanks become 'Unnamed: i', repeats get '.k'."""
    names, seen = [], {}
    for i, cell in enumerate(cells):
        name = str(cell).strip().strip('"').lstrip("\ufeff").strip() or f"Unnamed: {i}"
        k = seen.get(name, 0)
        seen[name] = k + 1
        names.append(name if k == 0 else f"{name}.{k}")
    return names


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return line.split(delimiter)


def _sniff_layout(lines: list[str], keys) -> tuple[int, str]:
    """(header line index, delimiter) from the first lines of a text file."""
    if keys is not None:
        for i, line in enumerate(lines[:_HEAD_LINES]):
            for d in _DELIMITERS:
                if d in line and header_score(_split(line, d), keys)[0] == len(keys[1]):
                    return i, d
        scores = [
            (header_score(_split(line, d), keys)[1], -i, d)
            for i, line in enumerate(lines[:_HEAD_LINES]) for d in _DELIMITERS
            if d in line
        ]
        if scores and max(scores)[0] >= 2:
            n, i, d = max(scores)
            return -i, d
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in _DELIMITERS}
    return 0, (max(counts, key=counts.get) if max(counts.values()) else ",")


def read_csv(path: Path, keys=None) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    encoding = sniff_encoding(path)
    head = _head(path, 1 << 16)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    if len(lines) > 1 and len(head) == 1 << 16:
        lines = lines[:-1]  # the last line of the sample may be cut
    at, delimiter = _sniff_layout(lines, keys)
    names = unique_names(_split(lines[at], delimiter) if lines else [])
    # Some exporters end every data line (not the header) with a delimiter.
    sample = [_split(x, delimiter) for x in lines[at + 1:at + 21] if x.strip()]
    if sample and all(len(c) == len(names) + 1 and not c[-1].strip() for c in sample):
        names.append(f"Unnamed: {len(names)}")
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
                skip_rows=at + 1,
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

    try:
        table = read(use_threads=True)
    except pa.ArrowInvalid:
        if len([x for x in lines if x.strip()]) > at + 1:
            raise
        # Nothing under the header (or an empty file): an empty table.
        table = pa.table({n: pa.array([], pa.string()) for n in names})
    if bad and any(number is None for number, _ in bad):
        # Line numbers of damaged rows are only known when reading on one thread.
        table = read(use_threads=False)
    frame = table.to_pandas()
    n_lines = len(frame) + len(bad)
    first = at + 2  # 1-based file line of the first row under the header
    lines_no = np.arange(first, n_lines + first, dtype=np.int64)
    if bad:
        # pyarrow numbers physical lines from 1, the header included: file lines.
        bad = [(int(number), text) for number, text in bad]
        lines_no = lines_no[~np.isin(lines_no, [b[0] for b in bad])]
    frame.attrs["lines"] = lines_no
    frame.attrs["bad_lines"] = bad
    frame.attrs["title_lines"] = [
        (i + 1, line.strip().rstrip(delimiter).strip()) for i, line in
        enumerate(lines[:at])
    ]
    return frame


class _Tables(html.parser.HTMLParser):
    """Rows of the first HTML table: many '导出Excel' buttons write HTML as .xls."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell, self._tables = [], None, None, 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._tables += 1
        elif tag == "tr" and self._tables == 1:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


class _Grid(list):
    """Rows of a sheet; ``flags`` lists cells whose text is not their value."""

    flags: list = []


_XML_ATTR = r'\b{}="([^"]*)"'
_MERGE_RE = re.compile(r'<mergeCell\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
# A formula cell without a cached value: <c r="D4"><f>10*8.8</f><v /></c>.
_FORMULA_RE = re.compile(
    r'<c\b[^>]*\br="([A-Z]+)(\d+)"[^>]*>\s*<f\b[^>]*(?:/>|>([^<]*)</f>)\s*'
    r'(?:<v\s*/>|<v>\s*</v>)?\s*</c>')
# A number too large for a float to keep every digit (19-digit ids typed as numbers).
_BIG_NUMBER_RE = re.compile(
    r'<c\b[^>]*\br="([A-Z]+)(\d+)"(?:(?!\bt=)[^>])*(?:\bt="n")?(?:(?!\bt=)[^>])*>'
    r'\s*<v>(-?\d(?:\.\d+)?[eE]\+?(?:1[6-9]|[2-9]\d|\d{3,})|-?\d{16,}(?:\.\d*)?)</v>')


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _cell_flags(path: Path) -> dict[str, list[tuple[int, int, str, str]]]:
    """``{sheet: [(row, column, reason, value), ...]}`` (0-based) of the cells that
    pandas reads as something else: the covered cells of a merge (read empty), a
    formula without a cached value (read empty) and numbers of 2^53 or more (read
    rounded). Read from the sheet XML; {} when the workbook cannot be read so."""
    import zipfile

    from ._schema import FORMULA_NO_VALUE, INEXACT_ID, MERGED_CELL

    out: dict[str, list] = {}
    try:
        with zipfile.ZipFile(path) as z:
            book = z.read("xl/workbook.xml").decode("utf-8", "replace")
            rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            targets = {}
            for tag in re.findall(r"<Relationship\b[^>]*>", rels):
                rid = re.search(_XML_ATTR.format("Id"), tag)
                target = re.search(_XML_ATTR.format("Target"), tag)
                if rid and target:
                    t = target.group(1)
                    targets[rid.group(1)] = t.lstrip("/") if t.startswith("/") else (
                        "xl/" + t)
            for tag in re.findall(r"<sheet\b[^>]*>", book):
                name = re.search(_XML_ATTR.format("name"), tag)
                rid = re.search(_XML_ATTR.format("r:id"), tag)
                if not (name and rid and rid.group(1) in targets):
                    continue
                xml = z.read(targets[rid.group(1)]).decode("utf-8", "replace")
                flags = []
                if "<f" in xml:
                    for col, row, formula in _FORMULA_RE.findall(xml):
                        flags.append((int(row) - 1, _col_index(col), FORMULA_NO_VALUE,
                                      "=" + html.unescape(formula)))
                for col, row, value in _BIG_NUMBER_RE.findall(xml):
                    flags.append((int(row) - 1, _col_index(col), INEXACT_ID, value))
                for c0, r0, c1, r1 in _MERGE_RE.findall(xml):
                    ref = f"{c0}{r0}:{c1}{r1}"
                    for r in range(int(r0) - 1, int(r1)):
                        for c in range(_col_index(c0), _col_index(c1) + 1):
                            if (r, c) != (int(r0) - 1, _col_index(c0)):
                                flags.append((r, c, MERGED_CELL, f"merged {ref}"))
                out[html.unescape(name.group(1))] = flags
    except (KeyError, OSError, zipfile.BadZipFile, ValueError):
        return {}
    return out


def _read_sheets(path: Path) -> dict[str, list[list[str]]]:
    """Cells of every sheet as text rows, whatever the workbook really is."""
    magic = _head(path, 8)
    kw = {"sheet_name": None, "header": None, "dtype": str, "keep_default_na": False}
    if magic.startswith(b"PK"):
        sheets = pd.read_excel(path, engine="openpyxl", **kw)
        flags = _cell_flags(path)
        out = {}
        for k, v in sheets.items():
            out[str(k)] = grid = _Grid(v.to_numpy(dtype=object).tolist())
            grid.flags = flags.get(str(k), [])
        return out
    elif magic.startswith(b"\xd0\xcf\x11\xe0"):
        try:
            sheets = pd.read_excel(path, **kw)
        except ImportError as exc:
            raise UnreadableFileError(
                f"{path} is a legacy .xls workbook and the xlrd package is not "
                "installed: pip install xlrd, or save the sheet as .xlsx or CSV"
            ) from exc
    else:
        raise UnreadableFileError(f"{path} is not an Excel workbook")
    return {str(k): v.to_numpy(dtype=object).tolist() for k, v in sheets.items()}


def _pick_sheets(sheets: dict, keys, role=None, columns=None, sheet=None
                 ) -> list[tuple[str | None, list[list[str]]]]:
    """Sheets holding the table: every one whose header maps, else the first.

    Monthly workbooks keep one sheet per month with the same layout; a "汇总"
    (totals) sheet has no id column and is left out. With ``role`` (payments, bills
    or customers), a workbook whose sheets hold different tables gives only the
    sheets of that role (:func:`payseg._roles.sheet_role`): a 缴费明细 sheet is
    never read as bills. ``sheet`` (a name, a 0-based position or a list of them)
    names the sheets to read. The sheet name is returned when the workbook has
    more than one sheet with a table, None otherwise.
    """
    items = list(sheets.items())
    if sheet is not None:
        wanted = [sheet] if isinstance(sheet, (str, int)) else list(sheet)
        picked = []
        for w in wanted:
            if isinstance(w, int) and not isinstance(w, bool) and w < len(items):
                picked.append(items[w])
            elif str(w) in sheets:
                picked.append((str(w), sheets[str(w)]))
            else:
                raise UnreadableFileError(
                    f"no sheet {w!r}; sheets: {', '.join(sheets) or '(none)'}")
        named = len(items) > 1
        return [(name if named else None, grid) for name, grid in picked]
    if keys is not None and role is not None:
        from ._roles import sheet_role

        roles = {name: sheet_role(grid, columns, role, find_header) if grid else None
                 for name, grid in items}
        tables = [name for name, r in roles.items() if r is not None]
        mine = [(name, sheets[name]) for name in tables if roles[name] == role]
        if mine:
            named = len(tables) > 1
            return [(name if named else None, grid) for name, grid in mine]
    if keys is not None:
        hits = [
            (name, grid) for name, grid in items
            if grid and header_score(grid[find_header(grid, keys)], keys)[0]
            == len(keys[1])
        ]
        if len(hits) > 1:
            return hits
        if hits:
            return [(None, hits[0][1])]
    return [(None, items[0][1] if items else [])]


def _grid_frame(grid: list[list[str]], keys) -> pd.DataFrame:
    """A raw frame from sheet rows: header found, title rows kept aside."""
    flags = getattr(grid, "flags", [])
    at = find_header(grid, keys) if grid else 0
    width = max((len(r) for r in grid), default=0)
    grid = [list(r) + [""] * (width - len(r)) for r in grid]
    names = unique_names(grid[at] if grid else [])
    body = grid[at + 1:]
    frame = pd.DataFrame(body, columns=names, dtype=object).fillna("").astype("str")
    frame.attrs["lines"] = np.arange(at + 2, at + 2 + len(body), dtype=np.int64)
    frame.attrs["bad_lines"] = []
    # (line, column position, reason, value) of cells that are not what they read.
    frame.attrs["cell_flags"] = [(r + 1, c, why, v) for r, c, why, v in
                                 flags if r > at]
    frame.attrs["title_lines"] = [
        (i + 1, " ".join(str(c).strip() for c in row if str(c).strip()))
        for i, row in enumerate(grid[:at])
    ]
    return frame


def read_sources(path, keys=None, *, role=None, columns=None, sheet=None,
                 cache=None) -> list[tuple[str, pd.DataFrame]]:
    """``(source name, raw frame)`` of each table in a file.

    One per file, except for a workbook whose several sheets hold tables: then one
    per sheet of ``role`` (see :func:`_pick_sheets`), named ``path[sheet]``.
    ``cache`` (a dict) keeps the cells of workbooks already read, so a workbook
    passed for two roles is opened once.
    """
    path = Path(path)
    if is_workbook(path):
        key = str(path.resolve())
        if cache is None or key not in cache:
            cells = _read_sheets(path)
            if cache is not None:
                cache[key] = cells
        else:
            cells = cache[key]
        picked = _pick_sheets(cells, keys, role, columns, sheet)
        return [
            (str(path) if sheet is None else f"{path}[{sheet}]", _grid_frame(g, keys))
            for sheet, g in picked
        ]
    return [(str(path), read_table(path, keys))]


def is_workbook(path) -> bool:
    """An .xlsx/.xlsm file, or an .xls that is a real workbook (not HTML or text)."""
    path = Path(path)
    return path.suffix.lower() in (".xlsx", ".xlsm") or (
        path.suffix.lower() == ".xls"
        and _head(path, 8).startswith((b"PK", b"\xd0\xcf\x11\xe0"))
    )


def read_table(path, keys=None) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel file into a raw DataFrame (see module docstring).

    ``keys`` (see :func:`header_score`) lets the reader find a header that is not
    on the first line.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
        named = [n for n in frame.index.names if n is not None]
        if named and not set(named) & set(frame.columns):
            # pandas stores a named index (customer_id) as index metadata.
            frame = frame.reset_index()
    elif suffix in (".xlsx", ".xls", ".xlsm", ".et"):
        magic = _head(path, 512).lstrip()
        if magic.startswith((b"PK", b"\xd0\xcf\x11\xe0")):
            return _grid_frame(_pick_sheets(_read_sheets(path), keys)[0][1], keys)
        if magic[:1] == b"<":
            parser = _Tables()
            parser.feed(path.read_bytes().decode(sniff_encoding(path), "replace"))
            return _grid_frame(parser.rows, keys)
        return read_csv(path, keys)  # tab-separated text saved as .xls
    else:
        return read_csv(path, keys)
    frame.attrs["lines"] = np.arange(2, len(frame) + 2, dtype=np.int64)
    frame.attrs["bad_lines"] = []
    frame.attrs["title_lines"] = []
    return frame
