"""Split Parquet inputs larger than memory into customer-hash buckets.

Every feature is computed per customer, so a customer's payments, bills and customer
row must land in the same bucket: the bucket of a row is ``hash(id) % n_buckets`` of
its normalised customer id (DuckDB's ``hash``). Each input file is read in blocks of
:data:`SPLIT_ROWS` rows, each block sorted by bucket (stable, so rows keep their file
order) and written as one record batch per bucket to one LZ4 Arrow IPC file per input
file, staged in a folder that is renamed into place when complete: an interrupted run
leaves no half-written output and a rerun skips the files already done. Rows keep
their 0-based row number (``_payseg_row``) so the loader can report rejected rows
with the line of the original file.
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

#: Extra column carried through the buckets: the row's 0-based row in its file.
ROW_COLUMN = "_payseg_row"

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
    # The bucket numbers must come back in row order (_bucket_numbers).
    con.execute("SET preserve_insertion_order = true")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


#: Rows of an input file split at once: bounds the memory of the partition step.
SPLIT_ROWS = 1 << 20
#: The file of one input file's rows, in ``parts/<kind>/file_<i>/``.
PIECES = "rows.arrow"
_NB_KEY = b"payseg.n_buckets"


def _is_period(field) -> bool:
    meta = field.metadata or {}
    return (
        getattr(field.type, "extension_name", None) == "pandas.period"
        or meta.get(b"ARROW:extension:name") == b"pandas.period"
    )


def _plain_column(field, column):
    """A column as the buckets keep it: dictionary text decoded (each batch of a
    Parquet file may have its own dictionary), pandas periods (month ordinals) as
    the date of their first day, as DuckDB's partition step wrote them before."""
    import pyarrow as pa

    if _is_period(field):
        if isinstance(column.type, pa.ExtensionType):
            column = column.storage
        months = column.to_numpy(zero_copy_only=False)
        valid = column.is_valid().to_numpy(zero_copy_only=False)
        days = (
            np.where(valid, months, 0).astype("datetime64[M]").astype("datetime64[D]")
        )
        return pa.array(days, type=pa.date32(), mask=~valid)
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _bucket_numbers(con, ids, arrow_type, n_buckets: int) -> np.ndarray:
    """Bucket of each id: DuckDB's ``hash`` of the normalised id (_id_expression).

    The expression runs once per distinct id of the block, not once per row: a
    block of :data:`SPLIT_ROWS` payments holds some 40,000 customers, and the
    normalisation (a regular expression, a cast) and the hash cost 10x more than
    Arrow's dictionary encoding. The rows take their id's bucket by its index.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    coded = ids if pa.types.is_dictionary(ids.type) else pc.dictionary_encode(ids)
    values = coded.dictionary
    # A missing id is one more distinct value (it hashes as '', as before).
    values = pa.concat_arrays([values, pa.nulls(1, type=values.type)])
    index = coded.indices.fill_null(len(values) - 1)
    con.register("_payseg_ids", pa.table({"id": values}))
    try:
        got = con.execute(
            f"SELECT CAST(hash({_id_expression('id', arrow_type)}) % {n_buckets} "
            "AS INTEGER) AS b FROM _payseg_ids"
        ).fetchnumpy()["b"]
    finally:
        con.unregister("_payseg_ids")
    per_value = np.asarray(got, dtype=np.int32)
    return per_value[index.to_numpy(zero_copy_only=False)]


def partition_file(
    con, path: Path, index: int, kind: str, dest: Path, n_buckets: int, columns
) -> None:
    """Split one Parquet file into ``dest/rows.arrow`` (staged, renamed): an Arrow
    IPC file (LZ4) whose record batch ``j * n_buckets + k`` holds the rows of
    bucket ``k`` in the ``j``-th block of :data:`SPLIT_ROWS` rows, in file order,
    with their 0-based row number.

    One file per input file instead of one per input file and bucket (139 x 150 =
    20,850 small Parquet files at 10M customers), rows already in file order (a
    stable sort by bucket), and a bucket reads its batches without decoding the
    others.
    """
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    stage = dest.with_name(dest.name + ".tmp")
    remove_dir(stage)  # left by an interrupted run
    stage.mkdir(parents=True)
    id_name = id_column(path, kind, columns)
    small = np.int16 if n_buckets <= np.iinfo(np.int16).max else np.int32
    with pq.ParquetFile(path) as pf:
        fields = list(pf.schema_arrow)
        id_type = pf.schema_arrow.field(id_name).type
        writer, start = None, 0
        try:
            for batch in pf.iter_batches(batch_size=SPLIT_ROWS):
                cols = [_plain_column(f, batch.column(i)) for i, f in enumerate(fields)]
                bucket = _bucket_numbers(
                    con,
                    batch.column(fields.index(pf.schema_arrow.field(id_name))),
                    id_type,
                    n_buckets,
                )
                # radix sort on small ints; stable: file order within a bucket
                order = np.argsort(bucket.astype(small), kind="stable")
                rows = np.arange(start, start + batch.num_rows, dtype=np.int64)
                start += batch.num_rows
                table = pa.RecordBatch.from_arrays(
                    [*cols, pa.array(rows)], names=[*pf.schema_arrow.names, ROW_COLUMN]
                ).take(pa.array(order))
                if writer is None:
                    schema = table.schema.with_metadata({_NB_KEY: str(n_buckets)})
                    # No compression threads: a block is split into hundreds of
                    # small batches, and handing each to the thread pool cost more
                    # (futex waits, a third of the step's CPU as system time) than
                    # compressing it; the files are split in threads already. A
                    # buffered sink: a few large writes instead of one per buffer.
                    sink = pa.output_stream(stage / PIECES, buffer_size=1 << 22)
                    writer = ipc.new_file(
                        sink,
                        schema,
                        options=ipc.IpcWriteOptions(
                            compression="lz4", use_threads=False
                        ),
                    )
                ends = np.cumsum(np.bincount(bucket, minlength=n_buckets))
                for k in range(n_buckets):
                    lo = int(ends[k - 1]) if k else 0
                    writer.write_batch(table.slice(lo, int(ends[k]) - lo))
        finally:
            if writer is not None:
                writer.close()
                sink.close()
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
    n_jobs: int = 1,
) -> None:
    """Bucket every file of ``sources`` ({kind: paths}) under ``directory``.

    A manifest records the inputs (``fingerprints``, computed here when not given)
    and the bucket count; a rerun on the same inputs skips the files already
    bucketed, a rerun on other inputs or another bucket count starts over. With
    ``n_jobs`` > 1, that many files are split at once in threads (Parquet decoding,
    DuckDB's hash, the sort and the IPC writes release the GIL), each with its own
    DuckDB cursor; every file is written to its own folder, so the result does not
    depend on the order.
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

    def split(task) -> None:
        kind, i, path = task
        dest = directory / kind / f"file_{i:05d}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        cur = con.cursor()  # a connection of its own: registered ids do not clash
        try:
            partition_file(cur, path, i, kind, dest, n_buckets, columns)
        finally:
            cur.close()

    bar = tqdm(total=len(todo), desc="partition", unit="file", disable=not progress)
    try:
        if n_jobs <= 1 or len(todo) <= 1:
            for task in todo:
                split(task)
                bar.update()
        else:
            from concurrent.futures import ThreadPoolExecutor, as_completed

            with ThreadPoolExecutor(min(int(n_jobs), len(todo))) as ex:
                for fut in as_completed([ex.submit(split, t) for t in todo]):
                    fut.result()
                    bar.update()
    finally:
        bar.close()
        con.close()
        remove_dir(temp)


def bucket_pieces(directory: Path, kind: str, bucket: int) -> list[tuple[int, Path]]:
    """(file index, split file) of every input file of a table, in file order."""
    root = directory / kind
    if not root.exists():
        return []
    return [
        (int(fdir.name.split("_")[1]), fdir / PIECES)
        for fdir in sorted(root.glob("file_[0-9]*"))
        if not fdir.name.endswith(".tmp") and (fdir / PIECES).exists()
    ]


def read_pieces(path: Path, bucket: int, *, arrow: bool = False):
    """Rows of one input file in one bucket, in file order, and their 0-based rows.

    A DataFrame, or a ``pyarrow.Table`` with ``arrow=True`` (None when the bucket
    has no row of that file). Only the bucket's record batches are read.
    """
    import pyarrow as pa
    import pyarrow.ipc as ipc

    # One thread: the batches are small (see partition_file) and buckets are read
    # in several processes at once.
    reader = ipc.open_file(
        pa.memory_map(str(path)), options=ipc.IpcReadOptions(use_threads=False)
    )
    n_buckets = int(reader.schema.metadata[_NB_KEY])
    batches = [
        reader.get_batch(i) for i in range(bucket, reader.num_record_batches, n_buckets)
    ]
    batches = [b for b in batches if b.num_rows]
    if not batches:
        return None, np.zeros(0, np.int64)
    table = pa.Table.from_batches(batches)
    rows = table.column(ROW_COLUMN).to_numpy()
    if len(rows) > 1 and not np.all(np.diff(rows) > 0):  # never silently wrong
        raise PaymentDataError(
            f"{path}: the rows of bucket {bucket} are not in file order; delete the "
            "work folder's parts/ and run again"
        )
    table = table.drop_columns([ROW_COLUMN]).replace_schema_metadata(None)
    return (table if arrow else table.to_pandas()), rows


def write_json(path: Path, obj) -> None:
    """Write JSON to a temporary file and rename it into place."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(
        json.dumps(obj, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    os.replace(tmp, path)
