"""The per-bucket stages of the out-of-core path: load (stage 2) and features (3).

Each stage writes one bucket's output under a temporary name and renames it into
place, so a rerun skips finished buckets and never reads a half-written one.

- ``canon/b<k>/``: the bucket's input rows validated like :func:`payseg.load`
  (canonical payments and bills as LZ4 Arrow IPC files, customers and the rejected
  rows as Parquet, and a few statistics);
- ``features/b<k>.parquet``: :func:`payseg.build_features` of the bucket with the
  data-wide ``as_of`` and channel columns (see ``_conform``).

Stage 2 also computes each bucket's features while its tables are in memory
(``canon/b<k>/features.parquet``), with the bucket's own default ``as_of`` (or the
given one): the buckets are random samples of customers, so the latest day of a
bucket of thousands of customers is the latest day of the data. Stage 3 moves such
features into place when their ``as_of`` and parameters turn out to be the
data-wide ones, and computes the others from ``canon/`` as before: an early guess
saves reading every bucket back and never changes a result.
"""

from __future__ import annotations

import builtins
import functools
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .. import channels
from .._clean import clean_bills, clean_customers, clean_payments
from .._read import LineNumbers
from .._schema import KINDS, empty, empty_rejected
from ..data import PaymentData
from ..features import build_features
from . import _conform, _partition
from ._buckets import write_parquet
from ._partition import bucket_pieces, read_pieces, write_json
from ._workdir import remove_dir

__all__ = [
    "adopt_early_features",
    "bucket_stats",
    "features_bucket",
    "load_bucket",
    "read_bucket",
    "read_coverage",
]

_CLEANERS = {
    "payments": clean_payments,
    "bills": clean_bills,
    "customers": clean_customers,
}


@functools.lru_cache(maxsize=4096)
def _canonical_names(
    names: tuple[str, ...], kind: str, columns: tuple, source: str
) -> tuple[str, ...]:
    """:func:`_partition.mapped_names`, once per input file and process.

    Every bucket holds a piece of every input file: at 10M customers (139 buckets,
    150 files) mapping the headers again for each piece cost 20,850 calls of about
    3 ms.
    """
    return tuple(
        _partition.mapped_names(list(names), kind, dict(columns) or None, source)
    )


def _clean_bucket(
    parts_dir: Path,
    bucket: int,
    kind: str,
    names: list[str],
    columns,
    drop_duplicates: bool,
):
    """Validate one table of one bucket, as ``payseg.load`` does file by file.

    The pieces of all input files go through the cleaner in one call (files with
    the same columns and types), with each row's file number and line: the ledger
    and the duplicate check stay per file, but the fixed cost of a call is paid once
    per bucket, not once per bucket and file (quadratic in the data size).
    """
    import pyarrow as pa

    kw = {} if kind == "customers" else {"drop_duplicates": drop_duplicates}
    groups: dict = {}  # schema -> ([tables], [file numbers], [lines])
    for file_index, path in bucket_pieces(parts_dir, kind, bucket):
        table, rows = read_pieces(path, bucket, arrow=True)
        if table is None:
            continue
        table = table.rename_columns(
            list(
                _canonical_names(
                    tuple(table.column_names),
                    kind,
                    tuple(sorted((columns or {}).items())),
                    names[file_index],
                )
            )
        ).replace_schema_metadata(None)
        tables, files, lines = groups.setdefault(table.schema, ([], [], []))
        tables.append(table)
        files.append(np.full(len(rows), file_index, dtype=np.int32))
        lines.append(rows + 2)  # the file's header is line 1
    frames, rejected, counts = [], [], {}
    for tables, files, lines in groups.values():
        raw = pa.concat_tables(tables).to_pandas()
        files, lines = np.concatenate(files), np.concatenate(lines)
        raw.attrs["lines"] = LineNumbers(lines)
        raw.attrs["bad_lines"] = []
        kept, bad = _CLEANERS[kind](raw, source=names, offset=2, files=files, **kw)
        kept.attrs.pop("id_codes", None)  # arrays: pd.concat cannot compare them
        frames.append(kept)
        if len(bad):
            rejected.append(bad)
        n_bad = bad["source"].value_counts()
        for f, n in zip(*np.unique(files, return_counts=True), strict=True):
            source = names[f]
            counts[source] = {"read": int(n), "kept": int(n - n_bad.get(source, 0))}
    if not frames:
        return None, rejected, counts
    table = (
        frames[0]
        if len(frames) == 1
        else pd.concat(frames, ignore_index=kind != "customers")
    )
    return table, rejected, counts


def load_bucket(
    work: Path,
    bucket: int,
    sources: dict[str, list[str]],
    columns,
    drop_duplicates: bool,
    early: dict | None = None,
) -> None:
    """Stage 2 for one bucket: write ``canon/b<k>/`` (staged, renamed).

    ``early``: the feature parameters known before every bucket is loaded
    (``key``, ``families``, ``feature_kw``, ``as_of`` when given, ``block_jobs``);
    when given, the bucket's features are computed here too (see the module
    docstring).
    """
    dest = work / "canon" / f"b{bucket:05d}"
    if dest.exists():
        return
    stage = dest.with_name(dest.name + ".tmp")
    remove_dir(stage)  # left by an interrupted run
    stage.mkdir(parents=True)
    tables, rejected, counts = {}, [], {}
    with warnings.catch_warnings():
        # Unknown channels are reported once for all buckets, from the ledger.
        warnings.filterwarnings("ignore", message=".*unknown channel spellings")
        for kind in KINDS:
            if kind not in sources:
                continue
            table, bad, c = _clean_bucket(
                work / "parts", bucket, kind, sources[kind], columns, drop_duplicates
            )
            rejected += bad
            counts.update(c)
            if table is not None:
                tables[kind] = table
    pay = tables.get(
        "payments", empty("payments", channel_codes=channels.codes())
    ).reset_index(drop=True)
    bills = tables.get("bills", empty("bills")).reset_index(drop=True)
    cust = tables.get("customers", empty("customers"))
    # The two big tables as Arrow IPC (Feather) with LZ4: written and read back
    # (stage 3) 5x faster than Parquet for 1.5x the disk; dtypes round-trip.
    pay.to_feather(stage / "payments.arrow", compression="lz4")
    bills.to_feather(stage / "bills.arrow", compression="lz4")
    cust.to_parquet(stage / "customers.parquet")
    ledger = pd.concat(rejected, ignore_index=True) if rejected else empty_rejected()
    ledger.to_parquet(stage / "rejected.parquet")
    stats = {
        "counts": counts,
        "as_of_ns": _conform.default_as_of_ns(pay, bills),
        "channel_first_ns": _conform.channel_first_ns(pay),
        "rows": len(pay) + len(bills),
    }
    write_json(stage / "stats.json", stats)
    if early is not None:
        data = PaymentData(payments=pay, bills=bills, customers=cust)
        del tables, pay, bills, cust
        _early_features(stage, data, stats, early)
    os.replace(stage, dest)


def _early_features(stage: Path, data: PaymentData, stats: dict, early: dict) -> None:
    """``features.parquet`` + ``features.json`` of one bucket in ``stage``, with the
    given ``as_of`` or else the bucket's own default one."""
    as_of = early.get("as_of")
    if as_of is None:
        if stats["as_of_ns"] is None:
            return  # no dated row: stage 3 computes it with the data-wide as_of
        as_of = pd.Timestamp(stats["as_of_ns"]).normalize()
    as_of = pd.Timestamp(as_of)
    own = _conform.used_channels(stats["channel_first_ns"], _conform.cutoff_ns(as_of))
    params = {
        "as_of": str(as_of),
        "families": early["families"],
        "feature_kw": early["feature_kw"],
    }
    X, coverage, notes = _bucket_features(data, params, early["block_jobs"])
    X = _conform.conform(X, families=early["families"], channels=own)
    write_parquet(X, stage / "features.parquet")
    meta = {
        "key": early["key"],
        "as_of": str(as_of),
        "channels": own,
        "coverage": coverage,
        "notes": notes,
    }
    write_json(stage / "features.json", meta)


def adopt_early_features(work: Path, bucket: int, params: dict, key) -> bool:
    """Stage 3 from stage 2's early features of one bucket, when they were computed
    with the data-wide ``as_of`` and the same parameters (``key``); False when they
    were not (or are missing), and the bucket is computed from ``canon/``."""
    src = work / "canon" / f"b{bucket:05d}"
    try:
        meta = json.loads((src / "features.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    early = src / "features.parquet"
    if (
        meta.get("key") != key
        or meta.get("as_of") != params["as_of"]
        or not early.exists()  # used by an earlier run, whose output was lost
    ):
        return False
    dest = work / "features" / f"b{bucket:05d}.parquet"
    _warn_again(meta["notes"])
    if meta["channels"] == params["channels"] and params["fill"] is None:
        write_json(coverage_path(dest), meta["coverage"])
        os.replace(early, dest)  # already the data-wide columns
    else:
        _write_features(pd.read_parquet(early), meta["coverage"], params, dest)
        early.unlink()
    return True


def read_bucket(work: Path, bucket: int) -> PaymentData:
    """The canonical :class:`payseg.PaymentData` of one bucket (after stage 2)."""
    d = work / "canon" / f"b{bucket:05d}"
    return PaymentData(
        payments=pd.read_feather(d / "payments.arrow"),
        bills=pd.read_feather(d / "bills.arrow"),
        customers=pd.read_parquet(d / "customers.parquet"),
    )


def bucket_stats(work: Path, bucket: int) -> dict:
    """Statistics of one loaded bucket (counts, ``as_of`` and channel facts)."""
    path = work / "canon" / f"b{bucket:05d}" / "stats.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _bucket_features(data: PaymentData, params: dict, block_jobs: int):
    """``build_features`` of one bucket at ``params["as_of"]``: the table (the
    bucket's own channel columns), its coverage (with the given cycle's
    contradictions) and the other warnings it gave, as ``(text, category name)``
    (kept in JSON by stage 2 and given again when its features are used)."""
    as_of = pd.Timestamp(params["as_of"])
    # The given as_of is checked once against the whole data (_out_of_core).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X = build_features(
            data,
            families=params["families"],
            as_of=as_of,
            _check_coverage=False,
            n_jobs=block_jobs,
            **params["feature_kw"],
        )
    # A given cycle's contradiction is warned once for the run, with the sum over
    # the buckets (_out_of_core), not once per bucket: kept beside the coverage.
    clash = X.attrs.get("cycle_clash")
    notes = [
        (str(w.message), w.category.__name__)
        for w in caught
        if clash is None or str(w.message) != clash["note"]
    ]
    coverage = X.attrs.get("as_of_coverage")
    if clash is not None:
        coverage = {**(coverage or {}), "cycle_clash": clash}
    return X, coverage, notes


def _warn_again(notes) -> None:
    """Give the warnings of :func:`_bucket_features` (builtin categories; any
    other as UserWarning)."""
    for text, category in notes:
        cls = getattr(builtins, category, None)
        if not (isinstance(cls, type) and issubclass(cls, Warning)):
            cls = UserWarning
        warnings.warn(text, cls, stacklevel=3)


def features_bucket(
    work: Path, bucket: int, params: dict, block_jobs: int = -1, early_key=None
) -> None:
    """Stage 3 for one bucket: write ``features/b<k>.parquet`` (staged, renamed).

    ``block_jobs`` is build_features' ``n_jobs``: 1 when the buckets already run in
    several processes (more threads than cores would only add memory), else every
    core; the features are the same either way. ``early_key``: the key of stage
    2's early features, which are used when they fit (:func:`adopt_early_features`).
    """
    dest = work / "features" / f"b{bucket:05d}.parquet"
    if dest.exists():
        return
    if early_key is not None and adopt_early_features(work, bucket, params, early_key):
        return
    X, coverage, notes = _bucket_features(read_bucket(work, bucket), params, block_jobs)
    _warn_again(notes)
    _write_features(X, coverage, params, dest)


def _write_features(X: pd.DataFrame, coverage, params: dict, dest: Path) -> None:
    """One bucket's features brought to the data-wide columns and ``fill``, written
    to ``dest`` with its coverage."""
    X = _conform.conform(X, families=params["families"], channels=params["channels"])
    X = _conform.fill_values(X, params["fill"])
    # The coverage is written first: a features file always has its coverage.
    write_json(coverage_path(dest), coverage)
    write_parquet(X, dest)


def coverage_path(features: Path) -> Path:
    """Where the as_of coverage of one feature bucket is kept (``b<k>.json``)."""
    return features.with_suffix(".json")


def read_coverage(features: Path) -> dict:
    """The as_of coverage counts of one feature bucket (see ``features_bucket``)."""
    return json.loads(coverage_path(features).read_text(encoding="utf-8"))
