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
import contextlib
import csv
import html.parser
import itertools
import os
import re
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from ._headers import HEADER_MAP, normalise_header
from ._memory import keeping

_DELIMITERS = (",", "\t", ";", "|")
_HEAD_LINES = 60  # the header is looked for among this many first lines
_MAX_SPAN = 100  # a quoted field may run over at most this many physical lines
_LINE_BREAK = re.compile(rb"(\r\n|\r|\n)")
_TEXT_BREAK = re.compile(r"\r\n|\r|\n")


class UnreadableFileError(ValueError):
    """A file that no reader can open (the loader turns it into PaymentDataError)."""


def sniff_encoding(path: Path, size: int = 1 << 20) -> str:
    """Guess UTF-8 (with or without BOM), UTF-16 or GB18030 from the first megabyte."""
    return _sniff_bytes(_head(path, size))


def _sniff_bytes(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel "Unicode text": UTF-16 with BOM, tab separated
    if len(head) >= 4:
        # UTF-16 without BOM: every other byte of ASCII text is zero.
        odd, even = head[1:200:2], head[0:200:2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    # A multi-byte character may be cut at the end of the sample: ignore that tail.
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:
            return "utf-8"
    # Not all UTF-8: the encoding of most non-ASCII lines. (UTF-8 Chinese often
    # decodes as GB18030 mojibake, so GB18030 decoding the sample proves little.)
    lines = [x for x in head.split(b"\n")[:-1] if not x.isascii()]
    utf8 = sum(_decodes(x, "utf-8") for x in lines)
    return "utf-8" if lines and utf8 * 2 > len(lines) else "gb18030"


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


#: Leading bytes of files that are not text, and what they are.
_MAGIC = (
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first (gunzip / 7-Zip)"),
    (b"PAR1", "a Parquet file", "rename it to .parquet"),
    (b"%PDF", "a PDF document", "export the table as CSV or Excel instead"),
    (b"\x89PNG", "a PNG image", "export the table as CSV or Excel instead"),
    (b"\xff\xd8\xff", "a JPEG image", "export the table as CSV or Excel instead"),
    (
        b"\xd0\xcf\x11\xe0",
        "a legacy Excel (.xls) or other Office file",
        "rename it to .xls, or save it as .xlsx or CSV",
    ),
    (b"7z\xbc\xaf", "a 7-Zip archive", "extract the file inside first"),
    (b"Rar!", "a RAR archive", "extract the file inside first"),
    (b"BZh", "a bzip2-compressed file", "decompress it first"),
)


def _zip_kind(path: Path) -> tuple[str, str]:
    """What a zip file holds: (description, fix)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return (
            "a damaged or truncated zip archive (an .xlsx workbook is one)",
            "export the file again: it was cut short or damaged",
        )
    if "xl/workbook.xml" in names:
        return "an Excel workbook (.xlsx)", "rename it to .xlsx"
    if "word/document.xml" in names:
        return "a Word document (.docx)", "export the table as CSV or Excel instead"
    inside = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return (
        f"a zip archive (holding {inside or 'nothing'})",
        "extract the file inside and load that",
    )


def describe_binary(path: Path, head: bytes) -> tuple[str, str] | None:
    """(what the file seems to be, the fix) when it is not a text table, else None."""
    if head.startswith(b"PK"):
        return _zip_kind(path)
    for magic, what, fix in _MAGIC:
        if head.startswith(magic):
            return what, fix
    if _sniff_bytes(head).startswith("utf-16"):
        return None
    sample = head[:4096]
    control = sum(sample.count(bytes([b])) for b in (*range(9), 11, 12, *range(14, 32)))
    if sample and control > 0.05 * len(sample):
        return (
            "binary data, not text",
            "check that this is the export file; "
            "export the table again as CSV or Excel",
        )
    return None


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
            for i, line in enumerate(lines[:_HEAD_LINES])
            for d in _DELIMITERS
            if d in line
        ]
        if scores and max(scores)[0] >= 2:
            n, i, d = max(scores)
            return -i, d
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in _DELIMITERS}
    return 0, (max(counts, key=counts.get) if max(counts.values()) else ",")


def read_bytes(path: Path) -> bytes:
    """The bytes of a file; OS errors become :class:`UnreadableFileError`."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except IsADirectoryError as exc:
        raise UnreadableFileError(
            f"{_show(path)} is a folder, not a file: pass the folder itself to load "
            "(its CSV, Parquet and Excel files are read) or a file inside it"
        ) from exc
    except PermissionError as exc:
        raise UnreadableFileError(
            f"{_show(path)} cannot be opened: permission denied. Check the file's "
            "permissions or copy it somewhere you can read"
        ) from exc
    except OSError as exc:
        raise UnreadableFileError(
            f"{_show(path)} cannot be read ({exc.strerror or exc}). Check that the "
            "file is complete and not locked by another program"
        ) from exc


def _show(path) -> str:
    """A path as text, also when its name is not UTF-8.

    Names from Chinese Windows (zip files, old shares) are GBK bytes that Python
    keeps as surrogates, which no text column or file can hold: such a name is
    shown decoded as GB18030 (as Windows shows it), else with U+FFFD for the bytes
    that decode neither way.
    """
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape")
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "replace")


def map_bytes(path: Path):
    """The bytes of a file, memory-mapped (no copy); errors as :func:`read_bytes`."""
    import mmap

    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                return b""
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError:
        return read_bytes(path)  # raises UnreadableFileError saying why


_CHUNK = 1 << 20  # bytes compared at a time: a cache-sized temporary, not the file's


def _physical_lines(data, has_cr: bool = True) -> int:
    """Lines of a buffer ending in \\n, \\r\\n or \\r (a last line may lack one).

    Counted a megabyte at a time: comparing the whole buffer at once allocates a
    temporary as large as the file (a page fault per 4 kB of it, the slowest part of
    the count on a 200 MB file). ``has_cr=False`` (the caller found no carriage
    return in the file) skips counting them.

    >>> _physical_lines(b"a\\r\\nb\\rc\\n\\nd")
    5
    >>> _physical_lines(b"a\\nb\\n", has_cr=False)
    2
    """
    a = np.frombuffer(data, dtype=np.uint8)
    if not len(a):
        return 0
    n = 0
    for start in range(0, len(a), _CHUNK):
        chunk = a[start : start + _CHUNK]
        n += int(np.count_nonzero(chunk == 10))
        if has_cr:
            cr = chunk == 13
            # A \r\n pair is one break (its \n is counted): the pair may straddle
            # two chunks, so the byte after the chunk is looked at too.
            nxt = a[start + 1 : start + _CHUNK + 1] == 10
            n += int(np.count_nonzero(cr)) - int(np.count_nonzero(cr[: len(nxt)] & nxt))
    return n + int(a[-1] not in (10, 13))


def read_csv(path: Path, keys=None) -> pd.DataFrame:
    """Read a delimited text file (see module docstring).

    The fast path hands the bytes to Arrow. It is trusted only when every physical
    line is accounted for (rows + damaged lines = lines under the header, counted
    on the bytes, independently of the parser); otherwise, or when Arrow fails
    (undecodable bytes, a huge cell, an unclosed quote), :func:`_read_lines` reads
    the file line by line so that every line is kept or in the ledger at its line.
    """
    import pyarrow as pa

    mapped = map_bytes(path)
    seems = describe_binary(path, mapped[: 1 << 16])
    if seems is not None:
        what, fix = seems
        raise UnreadableFileError(
            f"{_show(path)} seems to be {what}, not a CSV text file; {fix}"
        )
    encoding = _sniff_bytes(mapped[: 1 << 20])
    data = pa.py_buffer(mapped)  # no copy of the file
    if encoding.startswith("utf-16"):
        # Arrow reads UTF-8 only: transcode (the line-by-line path marks the bad).
        text = bytes(mapped).decode(encoding, errors="replace")
        data = pa.py_buffer(text.lstrip("\ufeff").encode("utf-8"))
        found = encoding.replace("utf-16", "UTF-16") + (
            " with BOM" if encoding == "utf-16" else ""
        )
        encoding = "utf-8"
    else:
        found = {
            "utf-8": "UTF-8",
            "utf-8-sig": "UTF-8 with BOM",
            "gb18030": "GB18030/GBK",
        }[encoding]
        if encoding == "utf-8-sig":
            data = data.slice(3)
            encoding = "utf-8"
    head = data.slice(0, min(1 << 16, data.size)).to_pybytes()
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError:  # mixed encodings: each line in its own
        text = "\n".join(
            _decode_line(x, encoding) for x in _LINE_BREAK.split(head)[0::2]
        )
    lines = re.split(r"\r\n|\r|\n", text.lstrip("\ufeff"))
    if len(lines) > 1 and len(head) == 1 << 16:
        lines = lines[:-1]  # the last line of the sample may be cut
    at, delimiter = _sniff_layout(lines, keys)
    names = unique_names(_split(lines[at], delimiter) if lines else [])
    # Some exporters end every data line (not the header) with a delimiter.
    sample = [_split(x, delimiter) for x in lines[at + 1 : at + 21] if x.strip()]
    if sample and all(len(c) == len(names) + 1 and not c[-1].strip() for c in sample):
        names.append(f"Unnamed: {len(names)}")
    # Without a quote character every line is one record: the parser's count
    # must equal the line count, checked after parsing. With quotes, the lines are
    # counted on the bytes (a quoted field may hold line breaks, or a quote be
    # left open).
    quoted = mapped.find(b'"') >= 0
    has_cr = mapped.find(b"\r") >= 0
    n_body = _physical_lines(data, has_cr) - (at + 1) if quoted else None
    bad: list[tuple[int, str]] = []

    def arrow(data, n_body):
        """(table or None, row lines or None, bad lines, n_body, Arrow failed)."""
        failed, bad = False, []
        try:
            table, bad = _arrow_csv(data, encoding, names, delimiter, skip_rows=at + 1)
        except (pa.ArrowException, UnicodeError, csv.Error) as exc:
            table, failed = None, True
            if "UTF8" in str(exc) or isinstance(exc, UnicodeError):
                return None, None, [], n_body, True  # bytes that are not UTF-8
        if table is not None and n_body is None:
            return table, None, list(bad), table.num_rows + len(bad), False
        if n_body is not None and (
            table is None or table.num_rows + len(bad) != n_body
        ):
            # A quoted line break or an unclosed quote: Arrow again, reading line
            # breaks inside quotes, kept only if every line is accounted for.
            table, lines_no, multi_bad = _read_multiline(
                data, encoding, at, delimiter, names, n_body, has_cr
            )
            return table, lines_no, multi_bad, n_body, failed
        return table, None, list(bad), n_body, failed

    table, lines_no = None, None
    as_found = data  # the bytes the line-by-line reader reads if Arrow cannot
    if n_body is not None and n_body <= 0:
        # Nothing under the header (or an empty file): an empty table.
        table = pa.table({n: pa.array([], pa.large_string()) for n in names})
    else:
        table, lines_no, bad, n_body, failed = arrow(data, n_body)
        if table is None and failed and encoding == "utf-8":
            # Lines in GB18030 among UTF-8 ones (or bytes neither reads): each such
            # line transcoded, the lines (and line breaks) left where they are.
            # If Arrow fails again, the line-by-line reader reads the file as it is.
            mixed = _utf8_lines(data)
            if mixed is not None:
                table, lines_no, bad, n_body, failed = arrow(mixed[0], n_body)
                if table is not None:
                    other = mixed[1]
                    found += f"; {other} line{'s' if other > 1 else ''} in "
                    found += "GB18030/GBK"
    if table is None:
        frame, bad, other = _read_lines(
            as_found.to_pybytes(), encoding, at, delimiter, names
        )
        if other:
            found += f"; {other} line{'s' if other > 1 else ''} in " + (
                "GB18030/GBK" if encoding == "utf-8" else "UTF-8"
            )
        lines_no = frame.attrs["lines"]
    else:
        frame = table.to_pandas()
        if encoding == "gb18030":
            utf8 = _utf8_cells_in_gb18030(frame)
            if utf8:
                found += f"; {utf8} line{'s' if utf8 > 1 else ''} in UTF-8"
        if lines_no is None:  # one record per line (else known from the records)
            first = at + 2  # 1-based file line of the first row under the header
            lines_no = np.arange(first, n_body + first, dtype=np.int64)
            if bad:
                # pyarrow numbers physical lines from 1, the header included.
                bad = [(int(number), text) for number, text in bad]
                lines_no = lines_no[~np.isin(lines_no, [b[0] for b in bad])]
    frame.attrs["lines"] = LineNumbers(lines_no)
    frame.attrs["bad_lines"] = bad
    frame.attrs["encoding"] = found
    frame.attrs["title_lines"] = [
        (i + 1, line.strip().rstrip(delimiter).strip())
        for i, line in enumerate(lines[:at])
    ]
    return frame


def _utf8_reading(value: str) -> str | None:
    """The UTF-8 reading of a cell decoded as GB18030, when that is what it was.

    Short GBK text is often valid UTF-8 too (元 is D4 AA), so "it decodes as UTF-8"
    proves nothing. A cell is taken as UTF-8 only when the UTF-8 reading is plain
    Chinese (ASCII, CJK ideographs, CJK and full-width punctuation) and the
    GB18030 reading is not (a character outside GB2312: rare, or private use, as
    UTF-8 bytes read as GBK give: 微信 -> 寰\ue1bb俊).
    """
    try:
        reading = value.encode("gb18030").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    if reading == value or not all(
        ord(c) < 128
        or 0x4E00 <= ord(c) <= 0x9FFF
        or 0x3000 <= ord(c) <= 0x303F
        or 0xFF00 <= ord(c) <= 0xFFEF
        for c in reading
    ):
        return None
    try:
        value.encode("gb2312")
    except UnicodeEncodeError:
        return reading
    return None


def _utf8_cells_in_gb18030(frame: pd.DataFrame) -> int:
    """Re-read, in place, the cells of a GB18030 file that were UTF-8; lines changed.

    Arrow decodes the whole file as GB18030, so a UTF-8 line in it would come out as
    mojibake (a channel rejected as unknown, a region kept garbled). Checked once
    per distinct non-ASCII value of each column (:func:`_utf8_reading`).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    changed = np.zeros(len(frame), dtype=bool)
    for name in frame.columns:
        column = frame[name]
        arr = pa.array(column.array) if len(column) else None
        if arr is None:
            continue
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        wide = pc.invert(pc.fill_null(pc.string_is_ascii(arr), True))
        if not pc.any(wide).as_py():
            continue
        distinct = pc.unique(arr.filter(wide)).to_pylist()
        fixes = {v: r for v in distinct if (r := _utf8_reading(v)) is not None}
        if not fixes:
            continue
        hit = pc.is_in(arr, value_set=pa.array(list(fixes), arr.type))
        hit = hit.fill_null(False).to_numpy(zero_copy_only=False)
        frame.loc[hit, name] = column[hit].map(fixes)
        changed |= hit
    return int(changed.sum())


def _utf8_lines(data):
    """(UTF-8 buffer, lines transcoded) of a file whose lines are UTF-8 or GB18030.

    Decoded a megabyte of whole lines at a time; only a block that is not all UTF-8
    is split into lines, each decoded as UTF-8 first, else as GB18030 (and written
    back as UTF-8), as :func:`_read_lines` does. Line breaks are ASCII in both
    encodings, so every line keeps its number. None when a line decodes neither
    way (the line-by-line reader puts it in the ledger) or no line needed it.

    >>> _utf8_lines(b"a,b\\n" + "微信,1".encode("gbk") + b"\\n")[1]
    1
    """
    import pyarrow as pa

    raw = data.to_pybytes() if isinstance(data, pa.Buffer) else bytes(data)
    out: list[bytes] = []
    other, pos, n = 0, 0, len(raw)
    while pos < n:
        end = min(n, pos + _CHUNK)
        if end < n:
            cut = max(raw.rfind(b"\n", pos, end), raw.rfind(b"\r", pos, end))
            if cut < pos:  # one line longer than a block: up to its end
                ends = [
                    i for i in (raw.find(b"\n", end), raw.find(b"\r", end)) if i >= 0
                ]
                cut = min(ends) if ends else n - 1
            end = cut + 1
        block = raw[pos:end]
        pos = end
        try:
            block.decode("utf-8")
            out.append(block)
            continue
        except UnicodeDecodeError:
            pass
        parts = _LINE_BREAK.split(block)
        for line, brk in zip(parts[0::2], [*parts[1::2], b""]):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    line = line.decode("gb18030").encode("utf-8")
                except UnicodeDecodeError:
                    return None
                other += 1
            out.append(line + brk)
    return (pa.py_buffer(b"".join(out)), other) if other else None


# Invalid-row handlers of reads under way whose undecodable-text reports are dropped
# (see _quiet_undecodable), and the unraisable hook in place before the first one.
_QUIET_LOCK = threading.Lock()
_QUIET_HANDLERS: set = set()
_HOOK_BEFORE: list = []


def _drop_undecodable(unraisable) -> None:
    """``sys.unraisablehook`` while a CSV read is under way: Arrow's failure to decode
    a damaged record for one of our handlers is dropped, anything else goes on."""
    if unraisable.object in _QUIET_HANDLERS and issubclass(
        unraisable.exc_type, UnicodeDecodeError
    ):
        return
    (_HOOK_BEFORE[0] if _HOOK_BEFORE else sys.__unraisablehook__)(unraisable)


@contextlib.contextmanager
def _quiet_undecodable(handler):
    """Arrow decodes a damaged record's text as UTF-8 before it calls ``handler``;
    bytes that are not UTF-8 make that fail inside Arrow's callback (never in the
    handler), which fails the read (the caller then reads the file line by line
    and names those lines ``undecodable bytes``) and prints "Exception ignored in"
    with a traceback on stderr. While the read runs, that report alone is dropped;
    the read fails as before."""
    with _QUIET_LOCK:
        if not _QUIET_HANDLERS:
            _HOOK_BEFORE[:] = [sys.unraisablehook]
            sys.unraisablehook = _drop_undecodable
        _QUIET_HANDLERS.add(handler)
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _QUIET_HANDLERS.discard(handler)
            if not _QUIET_HANDLERS and sys.unraisablehook is _drop_undecodable:
                sys.unraisablehook = _HOOK_BEFORE[0]


def _arrow_csv(
    data, encoding, names, delimiter, *, skip_rows=0, newlines_in_values=False
):
    """(table, damaged records) read by pyarrow, every column as text.

    Damaged records (too few or too many fields) are skipped and returned as
    ``(record number, text)``; their numbers are known only on one thread, so the
    file is read again on one when a number is missing.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    bad: list = []

    def damaged(row):
        bad.append((row.number, row.text))
        return "skip"

    def read(use_threads: bool):
        bad.clear()
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding == "utf-8" else encoding,
                use_threads=use_threads,
                column_names=names,
                skip_rows=skip_rows,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=newlines_in_values,
                invalid_row_handler=damaged,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                # large_string is the layout of pandas' str dtype: the frame
                # takes the Arrow columns as they are (string would be cast).
                column_types={n: pa.large_string() for n in names},
                strings_can_be_null=False,
            ),
        )

    with _quiet_undecodable(damaged):
        table = read(use_threads=True)
        if bad and any(number is None for number, _ in bad):
            table = read(use_threads=False)
    return table, list(bad)


def _read_multiline(data, encoding, at, delimiter, names, n_body, has_cr):
    """(table, file line of each row, bad lines) of a file with quoted line breaks.

    Arrow reads the records under the header with ``newlines_in_values``: a record
    starts one line after the previous record's last line and spans one line plus
    the line breaks (``\\r\\n``, ``\\r`` or ``\\n``) inside its cells (a
    damaged record: inside its text; Arrow numbers records, not lines, from 1).
    The result is kept only when the records' lines add up to the ``n_body``
    physical lines counted on the bytes, no row spans more than ``_MAX_SPAN``
    lines and no damaged record spans more than one (an unclosed quote: the
    line-by-line reader keeps the lines after it); otherwise ``(None, None, [])``
    and the line-by-line reader decides each line.
    """
    import pyarrow as pa

    fail = None, None, []
    head = data.slice(0, min(data.size, 1 << 20)).to_pybytes()
    breaks = list(itertools.islice(_LINE_BREAK.finditer(head), at + 1))
    if len(breaks) <= at:
        return fail  # a header line longer than the sample: line by line
    body = data.slice(breaks[at].end())  # the records under the header
    try:
        table, bad = _arrow_csv(
            body, encoding, names, delimiter, newlines_in_values=True
        )
    except (pa.ArrowException, UnicodeError):
        return fail
    spans = np.ones(table.num_rows, dtype=np.int64)
    for col in table.columns:
        spans += _breaks(col, has_cr)
    n_records = table.num_rows + len(bad)
    where = np.array([number for number, _ in bad], dtype=np.int64) - 1
    texts = [text for _, text in bad]
    bad_spans = np.array([len(_TEXT_BREAK.findall(t)) + 1 for t in texts], np.int64)
    if (
        (len(spans) and spans.max() > _MAX_SPAN)
        or (len(bad_spans) and bad_spans.max() > 1)
        or len(np.unique(where)) != len(where)
        or (len(where) and (where.min() < 0 or where.max() >= n_records))
    ):
        return fail
    is_bad = np.zeros(n_records, dtype=bool)
    is_bad[where] = True
    all_spans = np.ones(n_records, dtype=np.int64)  # damaged records: one line
    all_spans[~is_bad] = spans
    if int(all_spans.sum()) != n_body:
        return fail
    starts = at + 2 + np.cumsum(all_spans) - all_spans
    bad_lines = [(int(starts[w]), t) for w, t in zip(where, texts)]
    return table, starts[~is_bad], bad_lines


def _breaks(column, has_cr: bool) -> np.ndarray:
    """Line breaks (``\\r\\n``, ``\\r``, ``\\n``) in each cell of a string column.

    A chunk whose bytes hold no line break counts zero for each cell (a byte scan);
    Arrow's substring count runs only on the few chunks that hold one.

    >>> import pyarrow as pa
    >>> _breaks(pa.chunked_array([["a", "b\\r\\nc\\rd"], ["e\\n"]]), True).tolist()
    [0, 2, 1]
    """
    import pyarrow.compute as pc

    out = []
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        a = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
        n = np.zeros(len(chunk), dtype=np.int64)
        if np.count_nonzero(a == 10) or (has_cr and np.count_nonzero(a == 13)):
            n += pc.count_substring(chunk, "\n").to_numpy(zero_copy_only=False)
            if has_cr:
                n += pc.count_substring(chunk, "\r").to_numpy(zero_copy_only=False)
                n -= pc.count_substring(chunk, "\r\n").to_numpy(zero_copy_only=False)
        out.append(n)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


class LineNumbers:
    """File line of each row (``attrs["lines"]``), read as an array, copied as itself.

    pandas deep-copies ``attrs`` into every frame or column derived from a frame: a
    row-sized array of line numbers was copied at each step between the reader and
    the ledger. The numbers never change, so a copy is the same object;
    ``np.asarray`` gives the array.

    >>> lines = LineNumbers(np.array([2, 3, 5]))
    >>> import copy
    >>> copy.deepcopy(lines) is lines, np.asarray(lines).tolist(), len(lines)
    (True, [2, 3, 5], 3)
    """

    def __init__(self, lines: np.ndarray):
        self.lines = lines

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self):
        return iter(self.lines)

    def __getitem__(self, key):
        return self.lines[key]

    def __array__(self, dtype=None, copy=None):
        return self.lines if dtype is None else self.lines.astype(dtype)

    def __deepcopy__(self, memo):
        return self


def _decode_line(raw: bytes, encoding: str) -> str:
    """One line as UTF-8, else GB18030, else with replacement characters."""
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            pass
    return raw.decode(encoding, errors="replace")


def _read_lines(data: bytes, encoding: str, at: int, delimiter: str, names):
    """The careful path: (frame, bad lines, lines decoded with the other encoding).

    Physical lines are split on the bytes and decoded one by one: UTF-8 first (GBK
    text is almost never valid UTF-8, while UTF-8 text often decodes as GBK
    mojibake), then GB18030; a line neither decodes goes to the ledger as
    undecodable bytes. A quoted field may span lines (its row is at its first
    line); a quote left open, or a multi-line row with the wrong number of fields,
    sends only its first line to the ledger and reading resumes on the next.
    """
    from ._schema import BAD_FIELDS, UNDECODABLE

    parts = _LINE_BREAK.split(data)
    contents, breaks = parts[0::2], [*parts[1::2], b""]
    if len(contents) > 1 and contents[-1] == b"":
        contents.pop()  # the file ends with a line break
    order = ("utf-8", "gb18030")
    texts: list[str] = []
    undecodable: dict[int, str] = {}
    other = 0
    for i, (raw, brk) in enumerate(zip(contents, breaks)):
        if raw.isascii():
            texts.append(raw.decode("ascii") + brk.decode("ascii"))
            continue
        for enc in order:
            try:
                texts.append(raw.decode(enc) + brk.decode("ascii"))
                other += enc != encoding
                break
            except UnicodeDecodeError:
                pass
        else:
            undecodable[i] = raw.decode(encoding, errors="backslashreplace")
            texts.append(brk.decode("ascii"))
    width = len(names)
    rows: list[list[str]] = []
    row_lines: list[int] = []
    bad: list[tuple] = []
    i, n = at + 1, len(texts)
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(data) + 1, 1 << 30))
    try:
        while i < n:
            if i in undecodable:
                bad.append((i + 1, undecodable[i], UNDECODABLE))
                i += 1
                continue
            line = texts[i]
            j = i + 1
            if '"' not in line:
                fields = line.rstrip("\r\n").split(delimiter)
            else:
                span = min(n, i + _MAX_SPAN + 1)
                reader = csv.reader(
                    (
                        texts[k] if k not in undecodable else "\n"
                        for k in range(i, span)
                    ),
                    delimiter=delimiter,
                )
                try:
                    fields = next(reader)
                    j = i + reader.line_num
                except (StopIteration, csv.Error):
                    fields = []
                if j - i > 1 and (len(fields) != width or j - i > _MAX_SPAN):
                    # A quote left open: this line alone is the damaged row.
                    fields = _split(line.rstrip("\r\n"), delimiter)
                    j = i + 1
            if fields == [""] and width > 1:
                fields = [""] * width  # a blank line: an empty row, as Arrow reads it
            if len(fields) == width:
                rows.append(fields)
                row_lines.append(i + 1)
            else:
                bad.append((i + 1, "".join(texts[i:j]).rstrip("\r\n"), BAD_FIELDS))
            i = j
    finally:
        csv.field_size_limit(limit)
    import pyarrow as pa

    columns = list(zip(*rows)) if rows else [()] * width
    frame = pa.table(
        {n: pa.array(c, pa.large_string()) for n, c in zip(names, columns)}
    ).to_pandas()
    frame.attrs["lines"] = np.asarray(row_lines, dtype=np.int64)
    return frame, bad, other


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
    """Rows of a sheet; ``flags`` lists cells whose text is not their value.

    A grid read by calamine also keeps its cells as one 2-D array of text
    (``array``); its rows are views of that array.
    """

    flags: list = []
    array: np.ndarray | None = None


_XML_ATTR = r'\b{}="([^"]*)"'
_MERGE_RE = re.compile(r'<mergeCell\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
# A formula cell without a cached value: <c r="D4"><f>10*8.8</f><v /></c>.
_FORMULA_RE = re.compile(
    r'<c\b[^>]*\br="([A-Z]+)(\d+)"[^>]*>\s*<f\b[^>]*(?:/>|>([^<]*)</f>)\s*'
    r"(?:<v\s*/>|<v>\s*</v>)?\s*</c>"
)
# A number too large for a float to keep every digit (19-digit ids typed as numbers):
# the value is found first, its cell tag (no type, or t="n") is checked after.
_BIG_VALUE_RE = re.compile(
    rb"<v>(-?\d(?:\.\d+)?[eE]\+?(?:1[6-9]|[2-9]\d|\d{3,})|-?\d{16,}(?:\.\d*)?)</v>"
)
_ERROR_RE = re.compile(rb'\bt="e"')
_REF_RE = re.compile(rb'\br="([A-Z]+)(\d+)"')
_TYPE_RE = re.compile(rb'\bt="([^"]*)"')
_V_RE = re.compile(rb"<v>([^<]*)</v>")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _cell_tag(xml: bytes, at: int) -> tuple[int, int] | None:
    """(start, end) of the ``<c ...>`` tag that holds position ``at``."""
    start = xml.rfind(b"<c", 0, at)
    while start >= 0 and xml[start + 2 : start + 3] not in (b" ", b"\t", b"\n", b">"):
        start = xml.rfind(b"<c", 0, start)
    if start < 0:
        return None
    end = xml.find(b">", start)
    return (start, end + 1) if end >= 0 else None


def _sheet_facts(xml: bytes) -> tuple[list, list]:
    """(flags, error cells) of one sheet's XML; see :func:`_cell_flags`.

    Each fact is found by a scan for its own mark (``<f``, ``<mergeCell``,
    ``t="e"``, a ``<v>`` of 16 or more digits), so a sheet without them costs one
    pass of a substring search over its bytes.
    """
    from ._schema import FORMULA_NO_VALUE, INEXACT_ID, MERGED_CELL

    flags: list = []
    errors: list = []
    if b"<f" in xml:
        text = xml.decode("utf-8", "replace")
        for col, row, formula in _FORMULA_RE.findall(text):
            flags.append(
                (
                    int(row) - 1,
                    _col_index(col),
                    FORMULA_NO_VALUE,
                    "=" + html.unescape(formula),
                )
            )
    for m in _BIG_VALUE_RE.finditer(xml):
        tag = _cell_tag(xml, m.start())
        if tag is None or tag[1] > m.start() or xml[tag[1] : m.start()].strip():
            continue  # a formula's cached value, or not in a cell
        head = xml[tag[0] : tag[1]]
        kind, ref = _TYPE_RE.search(head), _REF_RE.search(head)
        if ref and (kind is None or kind.group(1) == b"n"):
            col, row = ref.group(1).decode(), int(ref.group(2))
            flags.append((row - 1, _col_index(col), INEXACT_ID, m.group(1).decode()))
    if b't="e"' in xml:
        for m in _ERROR_RE.finditer(xml):
            tag = _cell_tag(xml, m.start())
            if tag is None:
                continue
            ref = _REF_RE.search(xml[tag[0] : tag[1]])
            close = xml.find(b"</c>", tag[1])
            value = _V_RE.search(xml, tag[1], close if close >= 0 else len(xml))
            if ref and value:
                text = html.unescape(value.group(1).decode("utf-8", "replace"))
                errors.append(
                    (int(ref.group(2)) - 1, _col_index(ref.group(1).decode()), text)
                )
    if b"<mergeCell" in xml:
        text = xml.decode("utf-8", "replace")
        for c0, r0, c1, r1 in _MERGE_RE.findall(text):
            ref = f"{c0}{r0}:{c1}{r1}"
            for r in range(int(r0) - 1, int(r1)):
                for c in range(_col_index(c0), _col_index(c1) + 1):
                    if (r, c) != (int(r0) - 1, _col_index(c0)):
                        flags.append((r, c, MERGED_CELL, f"merged {ref}"))
    return flags, errors


def _cell_flags(path: Path) -> dict[str, tuple[list, list]]:
    """``{sheet: (flags, errors)}`` read from the sheet XML of an .xlsx.

    ``flags`` lists ``(row, column, reason, value)`` (0-based) of the cells that
    the cell reader reads as something else: the covered cells of a merge (read
    empty), a formula without a cached value (read empty) and numbers of 2^53 or
    more (read rounded). ``errors`` lists ``(row, column, text)`` of error cells
    (``#N/A``, ``#VALUE!``), which calamine reads empty: the reader puts their text
    back. {} when the workbook cannot be read so.
    """
    import zipfile

    out: dict[str, tuple[list, list]] = {}
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
                    targets[rid.group(1)] = (
                        t.lstrip("/") if t.startswith("/") else ("xl/" + t)
                    )
            for tag in re.findall(r"<sheet\b[^>]*>", book):
                name = re.search(_XML_ATTR.format("name"), tag)
                rid = re.search(_XML_ATTR.format("r:id"), tag)
                if not (name and rid and rid.group(1) in targets):
                    continue
                facts = _sheet_facts(z.read(targets[rid.group(1)]))
                out[html.unescape(name.group(1))] = facts
    except (KeyError, OSError, zipfile.BadZipFile, ValueError):
        return {}
    return out


#: Reader of workbook cells: "calamine" (Rust, fast) or "openpyxl" (the reader before
#: calamine; kept for benchmarks and as a cross-check in tests).
_EXCEL_ENGINE = "calamine"


def _calamine_sheets(path: Path) -> dict[str, list[list[str]]]:
    """Cells of every worksheet as text rows, read by calamine (.xlsx, .xlsm, .xls).

    The text of each cell is what ``pd.read_excel(dtype=str)`` gives: whole numbers
    without ".0", dates as ``2025-04-01 00:00:00``, empty cells as "". The grid
    starts at A1 (leading blank rows and columns kept), so row and column positions
    are the sheet's.
    """
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    book = CalamineWorkbook.from_path(str(path))
    try:
        out = {}
        for meta in book.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue  # chart sheets hold no cells
            rows = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            text = _cells_as_text(rows)
            out[meta.name] = grid = _Grid(list(text))  # rows: views of the array
            grid.array = text if text.size else None
        return out
    finally:
        close = getattr(book, "close", None)  # python-calamine >= 0.3
        if close is not None:
            close()


_TYPE = np.frompyfunc(type, 1, 1)
_STR = np.frompyfunc(str, 1, 1)
_INT_STR = np.frompyfunc(lambda v: str(int(v)), 1, 1)


def _cells_as_text(rows: list[list]) -> np.ndarray:
    """Typed cells (str, float, int, bool, date, datetime, time, timedelta) as text.

    Converted a whole column at a time: ``str`` of every cell, then whole floats
    written as integers and dates (no time) with " 00:00:00", as pandas writes them.
    """
    import datetime as dt

    if not rows:
        return np.empty((0, 0), dtype=object)
    grid = np.empty((len(rows), max(len(r) for r in rows)), dtype=object)
    grid[:] = ""
    if all(len(r) == grid.shape[1] for r in rows):
        grid[:] = rows
    else:  # ragged (not seen from calamine, kept safe)
        for i, r in enumerate(rows):
            grid[i, : len(r)] = r
    # Whole columns compared against types (not isinstance: datetime is a date).
    kinds = _TYPE(grid)
    text = grid.copy()
    other = kinds != str  # noqa: E721
    if other.any():
        text[other] = _STR(grid[other])
    floats = kinds == float  # noqa: E721
    if floats.any():
        values = grid[floats].astype(np.float64)
        whole = np.isfinite(values) & (values == np.trunc(values))
        small = whole & (np.abs(values) < 2.0**62)
        as_int = np.where(small, values, 0).astype(np.int64).astype(str).astype(object)
        big = whole & ~small
        if big.any():
            as_int[big] = _INT_STR(values[big])
        fixed = text[floats]
        fixed[whole] = as_int[whole]
        text[floats] = fixed
    dates = kinds == dt.date  # noqa: E721
    if dates.any():
        text[dates] = text[dates] + " 00:00:00"
    return text


def _read_sheets(path: Path) -> dict[str, list[list[str]]]:
    """Cells of every sheet as text rows, whatever the workbook really is."""
    magic = read_bytes(path)[:8]
    kw = {"sheet_name": None, "header": None, "dtype": str, "keep_default_na": False}
    if magic.startswith(b"PK"):
        what, fix = _zip_kind(path)
        if not what.startswith("an Excel workbook"):
            raise UnreadableFileError(
                f"{_show(path)} seems to be {what}, not an Excel workbook; {fix}"
            )
        try:
            if _EXCEL_ENGINE == "openpyxl":
                sheets = pd.read_excel(path, engine="openpyxl", **kw)
                cells = {
                    str(k): v.to_numpy(dtype=object).tolist() for k, v in sheets.items()
                }
            else:
                cells = _calamine_sheets(path)
        except Exception as exc:  # the readers raise KeyError, OSError, BadZipFile...
            raise UnreadableFileError(
                f"{_show(path)} seems to be a damaged Excel workbook "
                f"({type(exc).__name__}: {str(exc)[:120]}); open it in Excel or "
                "WPS and save it again, or export the sheet as CSV"
            ) from exc
        facts = _cell_flags(path)
        out = {}
        for k, v in cells.items():
            flags, errors = facts.get(k, ([], []))
            if _EXCEL_ENGINE != "openpyxl":
                for r, c, text in errors:  # calamine reads error cells empty
                    if r < len(v) and c < len(v[r]) and v[r][c] == "":
                        v[r][c] = text  # a row is a view: the array changes too
            out[k] = grid = v if isinstance(v, _Grid) else _Grid(v)
            grid.flags = flags
        return out
    elif magic.startswith(b"\xd0\xcf\x11\xe0"):
        try:
            return dict(_calamine_sheets(path))
        except Exception as exc:
            raise UnreadableFileError(
                f"{_show(path)} seems to be a damaged legacy .xls workbook "
                f"({type(exc).__name__}: {str(exc)[:120]}); open it in Excel or "
                "WPS and save the sheet as .xlsx or CSV"
            ) from exc
    head = read_bytes(path)[: 1 << 16]
    seems = describe_binary(path, head)
    what = seems[0] if seems else "an empty file" if not head else "text (CSV or HTML)"
    raise UnreadableFileError(
        f"{_show(path)} is not an Excel workbook: it seems to be {what}. "
        "Export the sheet again as .xlsx or CSV"
    )


def _pick_sheets(
    sheets: dict, keys, role=None, columns=None, sheet=None
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
                    f"no sheet {w!r}; sheets: {', '.join(sheets) or '(none)'}"
                )
        named = len(items) > 1
        return [(name if named else None, grid) for name, grid in picked]
    if keys is not None and role is not None:
        from ._roles import sheet_role

        roles = {
            name: sheet_role(grid, columns, role, find_header) if grid else None
            for name, grid in items
        }
        tables = [name for name, r in roles.items() if r is not None]
        mine = [(name, sheets[name]) for name in tables if roles[name] == role]
        if mine:
            named = len(tables) > 1
            return [(name if named else None, grid) for name, grid in mine]
    if keys is not None:
        hits = [
            (name, grid)
            for name, grid in items
            if grid
            and header_score(grid[find_header(grid, keys)], keys)[0] == len(keys[1])
        ]
        if len(hits) > 1:
            return hits
        if hits:
            return [(None, hits[0][1])]
    return [(None, items[0][1] if items else [])]


def _grid_frame(grid: list[list[str]], keys) -> pd.DataFrame:
    """A raw frame from sheet rows: header found, title rows kept aside."""
    flags = getattr(grid, "flags", [])
    array = getattr(grid, "array", None)
    at = find_header(grid, keys) if grid else 0
    if array is not None:  # calamine: a rectangle of text already
        names = unique_names(array[at])
        body = array[at + 1 :]
        frame = pd.DataFrame(
            {n: body[:, j] for j, n in enumerate(names)},
            index=pd.RangeIndex(len(body)),
            dtype=object,
        ).astype("str")
    else:
        width = max((len(r) for r in grid), default=0)
        grid = [list(r) + [""] * (width - len(r)) for r in grid]
        names = unique_names(grid[at] if grid else [])
        body = grid[at + 1 :]
        frame = pd.DataFrame(body, columns=names, dtype=object)
        frame = frame.fillna("").astype("str")
    frame.attrs["lines"] = LineNumbers(
        np.arange(at + 2, at + 2 + len(body), dtype=np.int64)
    )
    frame.attrs["bad_lines"] = []
    # (line, column position, reason, value) of cells that are not what they read.
    frame.attrs["cell_flags"] = [(r + 1, c, why, v) for r, c, why, v in flags if r > at]
    frame.attrs["title_lines"] = [
        (i + 1, " ".join(str(c).strip() for c in row if str(c).strip()))
        for i, row in enumerate(grid[:at])
    ]
    return frame


def read_sources(
    path, keys=None, *, role=None, columns=None, sheet=None, cache=None
) -> list[tuple[str, pd.DataFrame]]:
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
            (
                _show(path) if sheet is None else f"{_show(path)}[{sheet}]",
                _grid_frame(g, keys),
            )
            for sheet, g in picked
        ]
    return [(_show(path), read_table(path, keys))]


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file as a DataFrame; time stamps pandas cannot hold become text."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    # Only the head and the tail are read here: Arrow reads the row groups from the
    # file itself (holding the whole file in memory would add its size to the peak).
    data = map_bytes(path)
    if not (data[:4] == b"PAR1" and data[-4:] == b"PAR1"):
        seems = describe_binary(path, data[: 1 << 16])
        what, fix = seems or (
            ("an empty file (0 bytes)", "export the table again")
            if not data
            else ("a truncated or damaged Parquet file", "write the file again")
            if data[:4] == b"PAR1"
            else ("a text (CSV) file", "rename it to .csv")
        )
        raise UnreadableFileError(
            f"{_show(path)} seems to be {what}, not a Parquet file; {fix}"
        )
    try:
        try:
            str(path).encode("utf-8")
            source = str(path)
            table = pq.read_table(source, read_dictionary=_dictionary_columns(source))
        except UnicodeEncodeError:  # a GBK name kept as surrogates
            with open(path, "rb") as fh:
                table = pq.read_table(fh, read_dictionary=_dictionary_columns(fh))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UnreadableFileError(
            f"{_show(path)} seems to be a damaged Parquet file ({exc}); write the "
            "file again"
        ) from exc
    lo, hi = pd.Timestamp.min, pd.Timestamp.max
    for i, col in enumerate(table.columns):
        if pa.types.is_timestamp(col.type) or pa.types.is_date64(col.type):
            naive = (
                col.cast(pa.timestamp("us", col.type.tz))
                if pa.types.is_date64(col.type) or col.type.unit != "us"
                else col
            )
            vmin, vmax = pc.min_max(naive).values()
            out = vmin.is_valid and (
                vmin.as_py().replace(tzinfo=None) < lo
                or vmax.as_py().replace(tzinfo=None) > hi
            )
            if out:
                # Years 1 or 9999 (placeholders): kept as text, the date parser
                # rejects them with their value instead of a crash.
                table = table.set_column(
                    i, table.field(i).name, pc.strftime(col, "%Y-%m-%d %H:%M:%S")
                )
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type) and _amount_header(field.name):
            one = _one_dictionary(table.column(i))
            if one is not None:
                table = table.set_column(i, field.name, one)
    if hasattr(data, "close"):
        data.close()
    # Each Arrow column is freed once converted (no second full copy at the peak).
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    release_memory()
    return frame


#: A text column whose dictionary page holds at most this many bytes in every row
#: group (channel, region, period, dates without a time) is read as an Arrow
#: dictionary: pandas gets a Categorical (one code per row, each distinct text once)
#: instead of one string per row, and the parsers work once per category.
DICTIONARY_PAGE_BYTES = 64 << 10


def _dictionary_columns(source) -> list[str]:
    """Top-level text columns of a Parquet file stored with a small dictionary, and
    the amount columns (:data:`DICTIONARY_ROLES`) stored with any dictionary."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(source).metadata
    if hasattr(source, "seek"):
        source.seek(0)
    schema = meta.schema.to_arrow_schema()
    out = []
    for i, field in enumerate(schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        # Leaf i is field i only in a flat schema: the path check says when not.
        name = field.name
        limit = None if _amount_header(name) else DICTIONARY_PAGE_BYTES
        small = meta.num_row_groups > 0
        for g in range(meta.num_row_groups):
            col = meta.row_group(g).column(i)
            if (
                col.path_in_schema != name
                or not col.has_dictionary_page
                or col.dictionary_page_offset is None
                or (
                    limit is not None
                    and col.data_page_offset - col.dictionary_page_offset > limit
                )
            ):
                small = False
                break
        if small:
            out.append(name)
    return out


#: Canonical columns read as an Arrow dictionary whatever its size, when the file
#: stores them dictionary-encoded: exports repeat amounts (24M payments of 1M
#: customers hold 250k distinct texts), so the codes come with the read instead of
#: a hash pass over every row, and the column takes a third of the memory.
DICTIONARY_ROLES = frozenset({"amount", "amount_due", "arrears", "late_fee"})


def _amount_header(name: str) -> bool:
    """Whether a header names one of the :data:`DICTIONARY_ROLES` columns."""
    return HEADER_MAP.get(normalise_header(name)) in DICTIONARY_ROLES


def _one_dictionary(col):
    """A dictionary column whose chunks share one dictionary, or None when they do
    already.

    A Parquet read gives each row group its own dictionary (30 of 114k amounts in a
    file of 24M payments); pandas needs one, and pyarrow's unification in
    ``to_pandas`` took 3.9 s there. Chunks of a row group share theirs, so the
    distinct dictionaries are joined and hashed once and each chunk's codes mapped.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    groups: dict = {}
    which = []
    for chunk in col.chunks:
        d = chunk.dictionary
        key = (
            tuple(0 if b is None else b.address for b in d.buffers()),
            d.offset,
            len(d),
        )
        which.append(groups.setdefault(key, (len(groups), d))[0])
    if len(groups) < 2:
        return None
    dictionaries = [d for _, d in groups.values()]
    starts = np.cumsum([0] + [len(d) for d in dictionaries])
    encoded = pc.dictionary_encode(pa.concat_arrays(dictionaries))
    remap, unified = encoded.indices, encoded.dictionary
    # Each dictionary's slice of the remap taken with the chunk's own codes: no
    # int64 copy of 25M codes and no addition (400 MB of fresh memory at 1M).
    parts = [remap.slice(starts[k], len(d)) for k, d in enumerate(dictionaries)]
    chunks = [
        pa.DictionaryArray.from_arrays(parts[k].take(chunk.indices), unified)
        for chunk, k in zip(col.chunks, which, strict=True)
    ]
    return pa.chunked_array(chunks, type=pa.dictionary(remap.type, unified.type))


def release_memory() -> None:
    """Give the memory Arrow freed back to the system, unless it is being kept.

    Arrow's allocator (mimalloc) keeps freed blocks for reuse: after a Parquet
    read it held as much again as the table (the decoded pages), all counted in the
    process's peak RSS. Cheap (milliseconds); called after each large stage. Inside
    :func:`payseg._memory.reuse_freed_memory` (``payseg.load``) it does nothing:
    there the next stage reuses the freed heap, and the trim on leaving gives it
    back (at 1M customers: 3-7 s less page clearing, 1.3 GiB more peak RSS).
    """
    import pyarrow as pa

    if not keeping():  # inside, the heap is kept and trimmed once on leaving
        pa.default_memory_pool().release_unused()


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
        frame = _read_parquet(path)
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
    frame.attrs["lines"] = LineNumbers(np.arange(2, len(frame) + 2, dtype=np.int64))
    frame.attrs["bad_lines"] = []
    frame.attrs["title_lines"] = []
    return frame
