"""Split Parquet inputs larger than memory into customer-hash buckets with DuckDB.

Every feature is computed per customer, so a customer's payments, bills and customer
row must land in the same bucket: the bucket of a row is ``hash(id) % n_buckets`` of
its normalised customer id. Each input file is copied on its own (DuckDB
``COPY ... PARTITION_BY``, bounded by ``SET memory_limit``) into a staging folder that
is renamed into place when complete, so an interrupted run leaves no half-written
output and a rerun skips the files already done. Rows keep their file and row number
(``_payseg_file``, ``_payseg_row``) so the loader can report rejected rows with the
line of the original file.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._headers import map_columns
from .._schema import (
    BILL_OPTIONAL,
    BILL_REQUIRED,
    CUSTOMER_OPTIONAL,
    CUSTOMER_REQUIRED,
    PAYMENT_OPTIONAL,
    PAYMENT_REQUIRED,
)
from ..exceptions import PaymentDataError
from ._workdir import remove_dir

#: Extra columns carried through the buckets: input file number and 0-based row.
FILE_COLUMN = "_payseg_file"
ROW_COLUMN = "_payseg_row"
_BUCKET = "_b"

#: Tables that can be partitioned, with their required and optional columns.
TABLES = {
    "payments": (PAYMENT_REQUIRED, PAYMENT_OPTIONAL),
    "bills": (BILL_REQUIRED, BILL_OPTIONAL),
    "customers": (CUSTOMER_REQUIRED, CUSTOMER_OPTIONAL),
}

#: Peak bytes of Python memory per payment or bill row while a bucket is loaded and
#: its features built (measured on synthetic data, with head-room); used to size
#: buckets from ``memory_limit``.
BYTES_PER_ROW = 600

_PARQUET = {".parquet", ".pq"}
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_FULLWIDTH = "０１２３４５６７８９"


def parse_bytes(value) -> int:
    """Bytes of a memory size given as an int or text such as "2GB" or "512 MiB".

    >>> parse_bytes("2GB"), parse_bytes("1.5 GiB"), parse_bytes(1000)
    (2000000000, 1610612736, 1000)
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"memory_limit must be positive, got {value!r}")
        return int(value)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(value))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS or float(match.group(1)) <= 0:
        raise ValueError(
            f"memory_limit must be a positive size such as '2GB' or '512MiB', "
            f"got {value!r}"
        )
    return int(float(match.group(1)) * _UNITS[unit])


def list_parquet(obj, kind: str) -> list[Path]:
    """Parquet files named by a path, directory, glob or list of paths (sorted).

    Follows the file order of :func:`payseg.load`, so sources and lines in the
    rejected-row ledger match the in-memory path.
    """
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if path.is_dir():
            paths = sorted(p for p in path.iterdir() if p.suffix.lower() in _PARQUET)
        elif any(ch in str(obj) for ch in "*?["):
            import glob

            paths = sorted(Path(p) for p in glob.glob(str(obj)))
        else:
            paths = [path]
    elif isinstance(obj, Sequence):
        paths = [Path(p) for p in obj]
    else:
        raise TypeError(
            f"{kind}: expected a path, directory, glob or list of Parquet files, got "
            f"{type(obj).__name__}; for data that fits in memory use payseg.load"
        )
    if not paths:
        raise PaymentDataError(f"{kind}: no Parquet file at {obj}")
    for p in paths:
        if not p.exists():
            raise PaymentDataError(f"{kind}: file not found: {p}")
        if p.suffix.lower() not in _PARQUET:
            raise PaymentDataError(
                f"{kind}: {p} is not a Parquet file; the out-of-core path reads "
                "Parquet only (convert CSV exports once, e.g. with DuckDB "
                "COPY ... TO 'x.parquet', or load them with payseg.load)"
            )
    return paths


def count_rows(paths: Sequence[Path]) -> int:
    """Rows of Parquet files, read from their footers."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)


def auto_buckets(n_rows: int, memory_limit: int) -> int:
    """Buckets needed so one bucket's rows fit in ``memory_limit`` bytes.

    >>> auto_buckets(10_000_000, 2 * 10**9)
    3
    """
    return max(1, math.ceil(n_rows * BYTES_PER_ROW / memory_limit))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _id_expression(column: str, arrow_type) -> str:
    """SQL text of the normalised id that decides the bucket.

    Mirrors :func:`payseg._parsers.parse_ids` closely enough that two spellings the
    loader reads as one id ('007', ' 007', full-width digits, 7.0 in a float column)
    land in the same bucket.
    """
    import pyarrow as pa

    col = _quote(column)
    if pa.types.is_floating(arrow_type):
        text = f"CAST(TRY_CAST({col} AS BIGINT) AS VARCHAR)"
    elif pa.types.is_integer(arrow_type):
        text = f"CAST({col} AS VARCHAR)"
    else:
        # Plain ASCII ids (the usual case) skip the costly trim and translate.
        raw = f"CAST({col} AS VARCHAR)"
        text = (
            f"CASE WHEN regexp_full_match({raw}, '[0-9A-Za-z_-]+') THEN {raw} "
            f"ELSE trim(translate({raw}, '{_FULLWIDTH}', '0123456789'), "
            f"' \t\r\n\u3000') END"
        )
    return f"coalesce({text}, '')"


def _select_list(schema) -> list[str]:
    """Columns as DuckDB should write them: pandas periods become dates."""
    out = []
    for field in schema:
        meta = field.metadata or {}
        name = _quote(field.name)
        ext = getattr(field.type, "extension_name", None)
        if (
            ext == "pandas.period"
            or meta.get(b"ARROW:extension:name") == b"pandas.period"
        ):
            # DuckDB sees the int64 month ordinal; a date keeps the meaning.
            out.append(
                f"make_date(CAST(1970 + floor({name} / 12) AS BIGINT), "
                f"CAST({name} - 12 * floor({name} / 12) + 1 AS BIGINT), 1) AS {name}"
            )
        else:
            out.append(name)
    return out


def mapped_names(names: list[str], kind: str, columns, source: str) -> list[str]:
    """Canonical names of a file's headers, as :func:`payseg.load` maps them."""
    required, optional = TABLES[kind]
    mapped = map_columns(
        pd.DataFrame(columns=names),
        columns,
        required,
        optional,
        source=source,
        error=PaymentDataError,
    )
    return [str(c) for c in mapped.columns]


def id_column(path: Path, kind: str, columns: Mapping[str, str] | None) -> str:
    """Header of ``path`` that :func:`payseg.load` reads as ``customer_id``."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    return names[mapped_names(names, kind, columns, str(path)).index("customer_id")]


def _connect(memory_limit: int, threads: int | None, temp: Path):
    import duckdb

    con = duckdb.connect()
    # DuckDB needs some room of its own whatever the bucket budget.
    limit = max(memory_limit, 256 * 2**20)
    con.execute(f"SET memory_limit = '{limit // 2**20}MiB'")
    con.execute(f"SET temp_directory = '{temp}'")
    con.execute("SET preserve_insertion_order = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def partition_file(
    con, path: Path, index: int, kind: str, dest: Path, n_buckets: int, columns
) -> None:
    """Copy one Parquet file into ``dest/_b=<k>/`` bucket folders (staged, renamed)."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    key = _id_expression(
        id_column(path, kind, columns),
        schema.field(id_column(path, kind, columns)).type,
    )
    select = ", ".join(_select_list(schema))
    stage = dest.with_name(dest.name + ".tmp")
    remove_dir(stage)  # left by an interrupted run
    src = str(path).replace("'", "''")
    con.execute(
        f"COPY (SELECT {select}, CAST({index} AS INTEGER) AS {FILE_COLUMN}, "
        f"file_row_number AS {ROW_COLUMN}, "
        f"CAST(hash({key}) % {n_buckets} AS INTEGER) AS {_BUCKET} "
        f"FROM read_parquet('{src}', file_row_number = true)) "
        # LZ4: as small as the default Snappy here, faster to write, and the
        # load stage reads it in half the time.
        f"TO '{stage}' (FORMAT parquet, PARTITION_BY ({_BUCKET}), "
        f"COMPRESSION lz4, FILENAME_PATTERN 'part_{{i}}')"
    )
    os.replace(stage, dest)


def file_hash(path: Path, chunk: int = 1 << 22) -> str:
    """SHA-256 (hex) of a file's content, read in 4 MiB chunks.

    SHA-256 runs on the CPU's SHA instructions: twice as fast as BLAKE2b on the
    test machine.
    """
    import hashlib

    h = hashlib.sha256()
    buf = bytearray(chunk)
    view = memoryview(buf)
    with open(path, "rb") as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def stat_key(path: Path) -> list:
    """(path, size, modification time in ns) of a file: the cheap part of its
    fingerprint, compared again after a stage has read the file."""
    st = path.stat()
    return [str(path), st.st_size, st.st_mtime_ns]


def fingerprint(paths: Sequence[Path]) -> list[list]:
    """(path, size, modification time in ns, content hash) of each file.

    The content hash catches a file rewritten with the same size within the
    file system's time resolution, or copied with its old time (``cp -p``,
    ``rsync -t``): a rerun on changed inputs starts over.
    """
    from concurrent.futures import ThreadPoolExecutor

    # hashlib releases the GIL: files are hashed on several cores at once.
    with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
        digests = list(pool.map(file_hash, paths))
    return [[*stat_key(p), d] for p, d in zip(paths, digests, strict=True)]


def changed_while_read(fingerprints: Mapping[str, Sequence[Sequence]]) -> list[str]:
    """Files whose size or modification time differ from their fingerprint now."""
    return [
        str(f[0])
        for files in fingerprints.values()
        for f in files
        if not Path(f[0]).exists() or stat_key(Path(f[0])) != list(f[:3])
    ]


def partition(
    sources: Mapping[str, Sequence[Path]],
    directory: Path,
    n_buckets: int,
    *,
    columns=None,
    memory_limit: int,
    threads: int | None = None,
    progress: bool = True,
    fingerprints: Mapping[str, list] | None = None,
) -> None:
    """Bucket every file of ``sources`` ({kind: paths}) under ``directory``.

    A manifest records the inputs (``fingerprints``, computed here when not given)
    and the bucket count; a rerun on the same inputs skips the files already
    bucketed, a rerun on other inputs or another bucket count starts over.
    """
    from tqdm.auto import tqdm

    if fingerprints is None:
        fingerprints = {kind: fingerprint(paths) for kind, paths in sources.items()}
    manifest = {
        "n_buckets": int(n_buckets),
        "columns": dict(columns or {}),
        "inputs": dict(fingerprints),
    }
    mpath = directory / "manifest.json"
    if directory.exists() and (
        not mpath.exists()
        or json.loads(mpath.read_text(encoding="utf-8"))
        != json.loads(json.dumps(manifest))
    ):
        remove_dir(directory)  # buckets of other inputs or another bucket count
    directory.mkdir(parents=True, exist_ok=True)
    if not mpath.exists():
        write_json(mpath, manifest)
    todo = [
        (kind, i, p)
        for kind, paths in sources.items()
        for i, p in enumerate(paths)
        if not (directory / kind / f"file_{i:05d}").exists()
    ]
    if not todo:
        return
    temp = directory / "duckdb_tmp"
    temp.mkdir(exist_ok=True)
    con = _connect(memory_limit, threads, temp)
    try:
        for kind, i, path in tqdm(
            todo, desc="partition", unit="file", disable=not progress
        ):
            dest = directory / kind / f"file_{i:05d}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            partition_file(con, path, i, kind, dest, n_buckets, columns)
    finally:
        con.close()
        remove_dir(temp)


def bucket_pieces(
    directory: Path, kind: str, bucket: int
) -> list[tuple[int, list[Path]]]:
    """(file index, piece paths) of one bucket of one table, in file order."""
    root = directory / kind
    if not root.exists():
        return []
    out = []
    for fdir in sorted(root.glob("file_[0-9]*")):
        if fdir.name.endswith(".tmp"):
            continue
        bdir = fdir / f"{_BUCKET}={bucket}"
        pieces = sorted(bdir.glob("*.parquet")) if bdir.exists() else []
        if pieces:
            out.append((int(fdir.name.split("_")[1]), pieces))
    return out


def _read_piece(path: Path):
    """One piece as a ``pyarrow.Table``: ``ParquetFile.read`` skips the dataset
    machinery of ``pq.read_table`` (0.5 ms instead of 1 to 3 ms a piece; a bucket
    reads one piece per input file)."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as f:
        return f.read()


def read_pieces(pieces: Sequence[Path], *, arrow: bool = False):
    """Rows of one input file in one bucket, in file order, and their 0-based rows.

    A DataFrame, or a ``pyarrow.Table`` with ``arrow=True``.
    """
    import pyarrow as pa

    table = pa.concat_tables([_read_piece(p) for p in pieces])
    rows = table.column(ROW_COLUMN).to_numpy()
    if len(rows) > 1 and np.any(np.diff(rows) < 0):
        order = np.argsort(rows, kind="stable")  # timsort: a few sorted runs
        table, rows = _reorder(table, order), rows[order]
    table = table.drop_columns(
        [c for c in (FILE_COLUMN, ROW_COLUMN, _BUCKET) if c in table.column_names]
    )
    return (table if arrow else table.to_pandas()), rows


def _reorder(table, order: np.ndarray):
    """``table.take(order)``, by zero-copy slices when ``order`` is made of a few
    runs of consecutive rows.

    DuckDB's threads write a piece as interleaved blocks of rows that are each in
    file order, so file order is a few slices of the piece: gathering every
    column (text ids above all) cost 0.7 s of a 6.4 s bucket at 2.8M rows.
    """
    import pyarrow as pa

    breaks = np.flatnonzero(np.diff(order) != 1) + 1
    if len(breaks) > max(64, len(order) // 4096):  # scattered rows: gather once
        return table.take(pa.array(order))
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(order)]])
    return pa.concat_tables(
        [table.slice(int(order[a]), int(b - a)) for a, b in zip(starts, ends)]
    )


def write_json(path: Path, obj) -> None:
    """Write JSON to a temporary file and rename it into place."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(
        json.dumps(obj, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    os.replace(tmp, path)
