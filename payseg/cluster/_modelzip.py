"""Reading the zip archives and JSON of an untrusted model file, within limits.

A model file may come from anyone, so nothing in it is believed before it is checked:
the zip directory (member count, encryption, compression method, declared sizes and
compression ratio) is checked before any member is inflated; members are inflated in
bounded chunks that stop at the declared size and at the byte budget of the whole
file, so a header that lies cannot make payseg allocate more; JSON is scanned for its
nesting depth before it is parsed, so a deeply nested document is refused instead of
exhausting Python's recursion limit. Every failure is a
:class:`~payseg.exceptions.ModelFileError` naming the file and what was found.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

from ..exceptions import ModelFileError

#: Default cap on the bytes a model file may inflate to, all members of the file and
#: of its payload together (``Segmenter.load(max_bytes=...)`` changes it per call).
#: A payseg model takes 50 to 80 bytes per customer of the fit (the labels and their
#: ids), so 1 GiB holds over ten million customers (benchmarks/bench_model_file.py).
MAX_MODEL_BYTES = 1 << 30
#: Most members an archive may list (a payseg payload has about 30 to 60).
MAX_MEMBERS = 10_000
#: Deepest nesting of a JSON document (payseg's own are at most about 30 deep).
MAX_JSON_DEPTH = 100
#: Above this many bytes a member may not inflate to more than ``MAX_RATIO`` times
#: its compressed size: real payloads inflate 2 to 20 times, a zip bomb about 1,000.
RATIO_FREE_BYTES = 64 << 20
MAX_RATIO = 200
#: Bytes read from a member at a time.
CHUNK_BYTES = 1 << 20
#: Bytes of central directory allowed per member (fixed 46 bytes, name and extras).
_DIRECTORY_BYTES_PER_MEMBER = 512

_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF


class Budget:
    """The bytes a model file may still inflate to; spent as members are read."""

    def __init__(self, limit: int):
        self.limit = int(limit)
        self.left = int(limit)

    def too_large(self, where: str, found: str) -> ModelFileError:
        return ModelFileError(
            f"{where}: {found}, more than the {_size(self.limit)} a model file may "
            "inflate to; it is damaged or a zip bomb. If it is a genuine model this "
            "large and from a source you trust, load it with "
            "Segmenter.load(path, max_bytes=...)."
        )


def _size(n: int) -> str:
    """Bytes as text: '512 MiB', '3.0 KiB', '17 bytes'."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            value = n / (1 << shift)
            return (
                f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
            )
    return f"{n:,} bytes"


def _tail(source: bytes | Path) -> tuple[bytes, int]:
    """The last bytes of ``source`` that can hold the end-of-directory record."""
    span = _EOCD_SIZE + _MAX_COMMENT
    if isinstance(source, bytes):
        return source[-span:], len(source)
    with open(source, "rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - span))
        return fh.read(), size


def _directory(source: bytes | Path, where: str) -> tuple[int, int]:
    """(members, central-directory bytes) declared by the end-of-directory record."""
    tail, size = _tail(source)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        start = tail[:8] if size <= len(tail) else b""
        hint = " (it looks like a pickle)" if start[:1] == b"\x80" else ""
        raise ModelFileError(
            f"{where} is not a zip archive{hint}, so not a payseg model file "
            f"({_size(size)}, no zip directory found); a model file is written by "
            "Segmenter.save()."
        )
    fields = struct.unpack_from("<4s4H2LH", tail, at)
    members, directory = fields[4], fields[5]
    if members == 0xFFFF or directory == 0xFFFFFFFF or fields[6] == 0xFFFFFFFF:
        raise ModelFileError(
            f"{where} is a zip64 archive (over 65,535 members or 4 GiB); a payseg "
            "model file never is. Re-save the model with Segmenter.save()."
        )
    return members, directory


def open_zip(
    source: bytes | Path, where: str, budget: Budget, *, max_members: int
) -> zipfile.ZipFile:
    """Open ``source`` (a path or the bytes of an archive) after checking it.

    The end-of-directory record is read first, so that a directory of millions of
    entries is refused before Python parses it; then every entry of the directory:
    no duplicate names, no encryption, stored or deflated, declared sizes within the
    budget and the compression ratio. Nothing is inflated here.
    """
    members, directory = _directory(source, where)
    if members > max_members or directory > max_members * _DIRECTORY_BYTES_PER_MEMBER:
        raise ModelFileError(
            f"{where}: the zip directory lists {members:,} members in "
            f"{_size(directory)}, more than the {max_members:,} expected; the file "
            "is damaged or crafted. Re-save the model from its source."
        )
    try:
        zf = zipfile.ZipFile(
            io.BytesIO(source) if isinstance(source, bytes) else source
        )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise ModelFileError(
            f"{where}: damaged zip directory ({exc}); re-save the model from its "
            "source."
        ) from exc
    try:
        _check_entries(zf, where, budget, max_members)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_entries(zf: zipfile.ZipFile, where, budget, max_members) -> None:
    infos = zf.infolist()
    if len(infos) > max_members:
        raise ModelFileError(
            f"{where}: the zip holds {len(infos):,} members, more than the "
            f"{max_members:,} expected; the file is damaged or crafted."
        )
    names = Counter(i.filename for i in infos)
    if len(names) != len(infos):
        dup = sorted(n for n, count in names.items() if count > 1)
        raise ModelFileError(
            f"{where}: the zip lists the member(s) {dup[:5]} more than once; a model "
            "file never does (the copy read would be ambiguous). Re-save the model."
        )
    declared = 0
    for info in infos:  # one entry per member: at most max_members
        name = info.filename
        if info.flag_bits & 0x1:
            raise ModelFileError(
                f"{where}: member {name} is encrypted; payseg model files are never "
                "encrypted. Re-save the model with Segmenter.save()."
            )
        if info.compress_type not in _METHODS:
            raise ModelFileError(
                f"{where}: member {name} uses zip compression method "
                f"{info.compress_type}; payseg model files use only stored (0) or "
                "deflated (8). Re-save the model with Segmenter.save()."
            )
        if info.file_size > budget.left:
            raise budget.too_large(
                where, f"member {name} declares {_size(info.file_size)}"
            )
        if info.file_size > RATIO_FREE_BYTES and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise ModelFileError(
                f"{where}: member {name} declares {_size(info.file_size)} from "
                f"{_size(info.compress_size)} compressed (ratio "
                f"{info.file_size / max(info.compress_size, 1):,.0f}, more than "
                f"{MAX_RATIO}); a zip bomb, not a model. Re-save the model from its "
                "source."
            )
        declared += info.file_size
    if declared > budget.left:
        raise budget.too_large(where, f"its members declare {_size(declared)} together")


def read_member(
    zf: zipfile.ZipFile, name: str, where: str, budget: Budget, *, keep: int = -1
) -> tuple[bytes, int]:
    """Inflate member ``name`` in bounded chunks; return (its bytes, its size).

    Stops with an error as soon as the member exceeds its declared size or the
    budget. ``keep`` limits the bytes returned (the head of the member, e.g. an array
    header), -1 keeps all; the whole member is read either way, so that its size and
    CRC are checked.
    """
    info = zf.getinfo(name)
    parts: list[bytes] = []
    kept = total = 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK_BYTES):
                total += len(chunk)
                if total > info.file_size:
                    raise ModelFileError(
                        f"{where}: member {name} inflates past the "
                        f"{_size(info.file_size)} its header declares; the file is "
                        "damaged or crafted."
                    )
                if total > budget.left:
                    raise budget.too_large(where, f"member {name} inflates further")
                if keep < 0 or kept < keep:
                    part = chunk if keep < 0 else chunk[: keep - kept]
                    parts.append(part)
                    kept += len(part)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
        # a bad CRC, a truncated or corrupt deflate stream
        raise ModelFileError(
            f"{where}: member {name} is damaged ({exc}); re-save the model from "
            "its source."
        ) from exc
    if total != info.file_size:
        raise ModelFileError(
            f"{where}: member {name} holds {_size(total)}, its header declares "
            f"{_size(info.file_size)}; the file is damaged."
        )
    budget.left -= total
    return b"".join(parts), total


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in the JSON text ``data``.

    Vectorised: brackets inside strings are skipped (a string runs between unescaped
    quotes; a quote is escaped when an odd run of backslashes precedes it). On text
    that is not valid JSON the result is the depth of its longest valid prefix or
    more, which is what a parser would reach before failing.

    Examples
    --------
    >>> json_depth(b'{"a": [1, {"b": "[[["}]}')
    3
    """
    a = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(a == 0x22)
    slashes = np.flatnonzero(a == 0x5C)
    if slashes.size and quotes.size:
        breaks = np.flatnonzero(np.diff(slashes) != 1)
        starts = slashes[np.r_[0, breaks + 1]]
        ends = slashes[np.r_[breaks, slashes.size - 1]]
        j = np.minimum(np.searchsorted(ends, quotes - 1), ends.size - 1)
        odd = (ends[j] - starts[j] + 1) % 2 == 1
        quotes = quotes[~((ends[j] == quotes - 1) & odd)]
    brackets = np.flatnonzero((a == 0x5B) | (a == 0x7B) | (a == 0x5D) | (a == 0x7D))
    brackets = brackets[np.searchsorted(quotes, brackets) % 2 == 0]
    opens = (a[brackets] == 0x5B) | (a[brackets] == 0x7B)
    return int(np.cumsum(np.where(opens, 1, -1)).max(initial=0))


def load_json(data: bytes, where: str, what: str, *, max_depth: int | None = None):
    """Parse JSON ``data`` after checking its nesting depth."""
    limit = MAX_JSON_DEPTH if max_depth is None else max_depth
    depth = json_depth(data)
    if depth > limit:
        raise ModelFileError(
            f"{where}: {what} is nested {depth:,} levels deep, more than the "
            f"{limit} a payseg model file can hold; it is damaged or crafted. "
            "Re-save the model from its source."
        )
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(
            f"{where}: {what} is not valid UTF-8 JSON ({exc}); re-save the model "
            "from its source."
        ) from exc
