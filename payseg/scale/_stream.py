"""Out-of-core ``load`` + ``build_features`` + segmentation, one customer bucket at a time.

Stages, each resumable (outputs are written to a temporary name and renamed, and a
rerun skips what exists):

1. ``parts/``: input Parquet files split into customer-hash buckets (DuckDB).
2. ``canon/b<k>/``: each bucket read and validated like :func:`payseg.load` (canonical
   payments, bills, customers, the bucket's rejected rows and a few statistics).
3. ``features/b<k>.parquet``: :func:`payseg.build_features` of each bucket with the
   data-wide ``as_of`` and channel columns (see ``_conform``).
4. ``labels/b<k>.parquet``: segment of each customer (:func:`segment_out_of_core`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .. import channels
from .._clean import clean_bills, clean_customers, clean_payments
from .._ledger import sort_ledger
from .._schema import UNKNOWN_CHANNEL, empty, empty_rejected
from ..data import PaymentData
from . import _conform, _partition
from ._partition import bucket_pieces, list_parquet, read_pieces, write_json

__all__ = ["BucketedTable", "build_features_out_of_core", "sample_mask",
           "segment_out_of_core"]

_KINDS = ("payments", "bills", "customers")
_CLEANERS = {
    "payments": clean_payments,
    "bills": clean_bills,
    "customers": clean_customers,
}


# ------------------------------------------------------------------------ handle


class BucketedTable:
    """Handle on a table stored as one Parquet file per customer bucket.

    Each file is indexed by ``customer_id`` and sorted; buckets hold disjoint
    customers. Nothing is read until asked for.

    Attributes
    ----------
    path : Path
        Folder of the ``b<k>.parquet`` files.
    paths : list of Path
        The bucket files, in bucket order.
    as_of : Timestamp or None
        Reference day the features were computed at (feature tables only).
    rejected : DataFrame or None
        Rejected-row ledger of the inputs, as :attr:`payseg.PaymentData.rejected`.
    counts : dict or None
        Rows read and kept per input file, as :attr:`payseg.PaymentData.counts`.
    timings : dict
        Seconds spent in each stage of this run (``partition``, ``load``,
        ``features``); a stage skipped on resume takes about 0.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from payseg.scale import BucketedTable
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     x = pd.DataFrame({"v": [1.0, 2.0]},
    ...                      index=pd.Index(["b", "a"], name="customer_id"))
    ...     x.iloc[[0]].to_parquet(f"{tmp}/b00000.parquet")
    ...     x.iloc[[1]].to_parquet(f"{tmp}/b00001.parquet")
    ...     table = BucketedTable(tmp)
    ...     print(len(table), table.n_rows, table.to_pandas().index.tolist())
    2 2 ['a', 'b']
    """

    def __init__(self, path, *, as_of=None, rejected=None, counts=None, timings=None):
        self.path = Path(path)
        self.paths = sorted(self.path.glob("b[0-9]*.parquet"))
        self.as_of = as_of
        self.rejected = rejected
        self.counts = counts
        self.timings = timings or {}

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self):
        return (self.read(i) for i in range(len(self.paths)))

    def __repr__(self) -> str:
        return (f"BucketedTable({str(self.path)!r}, {len(self.paths)} buckets, "
                f"{self.n_rows:,} rows)")

    @property
    def n_rows(self) -> int:
        """Rows over all buckets (from the Parquet footers)."""
        return _partition.count_rows(self.paths)

    @property
    def columns(self) -> list[str]:
        """Column names (the index ``customer_id`` not included)."""
        import pyarrow.parquet as pq

        if not self.paths:
            return []
        return [c for c in pq.read_schema(self.paths[0]).names
                if c != "customer_id" and not c.startswith("__")]

    def read(self, bucket: int, columns=None) -> pd.DataFrame:
        """One bucket as a DataFrame (optionally only some columns)."""
        return pd.read_parquet(self.paths[bucket], columns=columns)

    def to_pandas(self, columns=None):
        """All buckets in one DataFrame sorted by ``customer_id`` (needs the memory)."""
        parts = [self.read(i, columns) for i in range(len(self.paths))]
        if not parts:
            return pd.DataFrame()
        out = pd.concat(parts)
        return out.sort_index(kind="stable")

    def to_dask(self):
        """A ``dask.dataframe`` with one partition per bucket (needs dask)."""
        import dask.dataframe as dd

        return dd.read_parquet([str(p) for p in self.paths])


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp)
    os.replace(tmp, path)


# ----------------------------------------------------------------------- stage 2


class _Lines:
    """File line of each row, as ``attrs["lines"]`` for the loader's ledger.

    pandas deep-copies ``attrs`` on every operation; a million-row array copied a
    hundred times per bucket cost a tenth of the load time. This wrapper reads as the
    array (``np.asarray``) but copies as itself: the lines never change.
    """

    def __init__(self, lines: np.ndarray):
        self.lines = lines

    def __len__(self) -> int:
        return len(self.lines)

    def __array__(self, dtype=None, copy=None):
        return self.lines if dtype is None else self.lines.astype(dtype)

    def __deepcopy__(self, memo):
        return self


def _clean_bucket(parts_dir: Path, bucket: int, kind: str, names: list[str],
                  columns, drop_duplicates: bool):
    """Validate one table of one bucket, as ``payseg.load`` does file by file.

    The pieces of all input files go through the cleaner in one call (files with
    the same columns and types), with each row's file number and line: the ledger
    and the duplicate check stay per file, but the fixed cost of a call is paid once
    per bucket, not once per bucket and file (quadratic in the data size).
    """
    import pyarrow as pa

    kw = {} if kind == "customers" else {"drop_duplicates": drop_duplicates}
    groups: dict = {}  # schema -> ([tables], [file numbers], [lines])
    for file_index, pieces in bucket_pieces(parts_dir, kind, bucket):
        table, rows = read_pieces(pieces, arrow=True)
        table = table.rename_columns(
            _partition.mapped_names(table.column_names, kind, columns,
                                    names[file_index])
        ).replace_schema_metadata(None)
        tables, files, lines = groups.setdefault(table.schema, ([], [], []))
        tables.append(table)
        files.append(np.full(len(rows), file_index, dtype=np.int32))
        lines.append(rows + 2)  # the file's header is line 1
    frames, rejected, counts = [], [], {}
    for tables, files, lines in groups.values():
        raw = pa.concat_tables(tables).to_pandas()
        files, lines = np.concatenate(files), np.concatenate(lines)
        raw.attrs["lines"] = _Lines(lines)
        raw.attrs["bad_lines"] = []
        kept, bad = _CLEANERS[kind](raw, source=names, offset=2, files=files, **kw)
        frames.append(kept)
        if len(bad):
            rejected.append(bad)
        n_bad = bad["source"].value_counts()
        for f, n in zip(*np.unique(files, return_counts=True), strict=True):
            source = names[f]
            counts[source] = {"read": int(n), "kept": int(n - n_bad.get(source, 0))}
    if not frames:
        return None, rejected, counts
    table = frames[0] if len(frames) == 1 else pd.concat(
        frames, ignore_index=kind != "customers")
    return table, rejected, counts


def load_bucket(work: Path, bucket: int, sources: dict[str, list[str]], columns,
                drop_duplicates: bool) -> None:
    """Stage 2 for one bucket: write ``canon/b<k>/`` (staged, renamed)."""
    dest = work / "canon" / f"b{bucket:05d}"
    if dest.exists():
        return
    stage = dest.with_name(dest.name + ".tmp")
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    tables, rejected, counts = {}, [], {}
    with warnings.catch_warnings():
        # Unknown channels are reported once for all buckets, from the ledger.
        warnings.filterwarnings("ignore", message=".*unknown channel spellings")
        for kind in _KINDS:
            if kind not in sources:
                continue
            table, bad, c = _clean_bucket(work / "parts", bucket, kind,
                                          sources[kind], columns, drop_duplicates)
            rejected += bad
            counts.update(c)
            if table is not None:
                tables[kind] = table
    pay = tables.get(
        "payments", empty("payments", channel_codes=channels.codes())
    ).reset_index(drop=True)
    bills = tables.get("bills", empty("bills")).reset_index(drop=True)
    cust = tables.get("customers", empty("customers"))
    pay.to_parquet(stage / "payments.parquet")
    bills.to_parquet(stage / "bills.parquet")
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
    os.replace(stage, dest)


def read_bucket(work: Path, bucket: int) -> PaymentData:
    """The canonical :class:`payseg.PaymentData` of one bucket (after stage 2)."""
    d = work / "canon" / f"b{bucket:05d}"
    return PaymentData(
        payments=pd.read_parquet(d / "payments.parquet"),
        bills=pd.read_parquet(d / "bills.parquet"),
        customers=pd.read_parquet(d / "customers.parquet"),
    )


def _stats(work: Path, bucket: int) -> dict:
    path = work / "canon" / f"b{bucket:05d}" / "stats.json"
    return json.loads(path.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------- stage 3


def features_bucket(work: Path, bucket: int, params: dict) -> None:
    """Stage 3 for one bucket: write ``features/b<k>.parquet`` (staged, renamed)."""
    from ..features import build_features

    dest = work / "features" / f"b{bucket:05d}.parquet"
    if dest.exists():
        return
    data = read_bucket(work, bucket)
    as_of = pd.Timestamp(params["as_of"])
    X = build_features(data, families=params["families"], as_of=as_of,
                       **params["feature_kw"])
    X = _conform.conform(X, families=params["families"], channels=params["channels"])
    X = _conform.fill_values(X, params["fill"])
    _write_parquet(X, dest)


# ------------------------------------------------------------------------ driver


def _run(tasks, fn, desc: str, progress: bool, n_jobs: int):
    """Run ``fn(*task)`` for every task, in ``n_jobs`` processes when > 1."""
    from tqdm.auto import tqdm

    if n_jobs <= 1 or len(tasks) <= 1:
        for task in tqdm(tasks, desc=desc, unit="bucket", disable=not progress):
            fn(*task)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # forkserver: DuckDB and pyarrow thread pools do not survive a plain fork.
    with ProcessPoolExecutor(n_jobs, mp_context=mp.get_context("forkserver")) as ex:
        futures = [ex.submit(fn, *task) for task in tasks]
        for fut in tqdm(as_completed(futures), total=len(futures), desc=desc,
                        unit="bucket", disable=not progress):
            fut.result()


def _combine_rejected(work: Path, n_buckets: int, order: list[str]) -> pd.DataFrame:
    parts = []
    for b in range(n_buckets):
        r = pd.read_parquet(work / "canon" / f"b{b:05d}" / "rejected.parquet")
        if len(r):
            parts.append(r)
    if not parts:
        return empty_rejected()
    out = sort_ledger(pd.concat(parts, ignore_index=True), order)
    unknown = out[out["reason"] == UNKNOWN_CHANNEL]
    if len(unknown):
        top = unknown["value"].value_counts().head(5)
        spell = ", ".join(f"'{v}' ({n} rows)" for v, n in top.items())
        warnings.warn(
            f"unknown channel spellings rejected: {spell}. Add them with "
            "payseg.channels.register(code, aliases=[...]).",
            UserWarning,
            stacklevel=3,
        )
    return out


def _resolve_sources(payments, bills, customers) -> dict[str, list[Path]]:
    sources = {"payments": list_parquet(payments, "payments")}
    if bills is not None:
        sources["bills"] = list_parquet(bills, "bills")
    if customers is not None:
        sources["customers"] = list_parquet(customers, "customers")
    return sources


def prepare(payments, bills=None, customers=None, *, work: Path, columns=None,
            memory_limit="2GB", n_buckets="auto", drop_duplicates=True,
            threads=None, progress=True, n_jobs=1, keep_parts=False) -> dict:
    """Stages 1 and 2; returns the data-wide facts and the combined ledger."""
    limit = _partition.parse_bytes(memory_limit)
    sources = _resolve_sources(payments, bills, customers)
    if n_buckets == "auto":
        n_rows = _partition.count_rows(sources["payments"] + sources.get("bills", []))
        n_buckets = _partition.auto_buckets(n_rows, limit)
    elif (isinstance(n_buckets, bool) or not isinstance(n_buckets, (int, np.integer))
          or n_buckets < 1):
        raise ValueError(f"n_buckets must be 'auto' or a positive int, got {n_buckets!r}")
    n_buckets = int(n_buckets)
    names = {k: [str(p) for p in v] for k, v in sources.items()}
    key = json.loads(json.dumps({
        "n_buckets": n_buckets, "columns": dict(columns or {}),
        "drop_duplicates": bool(drop_duplicates),
        "inputs": {k: _partition._fingerprint(v) for k, v in sources.items()},
    }))
    canon = work / "canon"
    done, started = canon / "done.json", canon / "key.json"
    timings = {"partition": 0.0, "load": 0.0}
    if not (done.exists() and json.loads(done.read_text(encoding="utf-8")) == key):
        if started.exists() and json.loads(started.read_text(encoding="utf-8")) != key:
            shutil.rmtree(canon)  # buckets of other inputs or settings: start over
        t0 = time.perf_counter()
        _partition.partition(sources, work / "parts", n_buckets, columns=columns,
                             memory_limit=limit, threads=threads, progress=progress)
        t1 = time.perf_counter()
        canon.mkdir(exist_ok=True)
        write_json(started, key)
        tasks = [(work, b, names, dict(columns or {}), drop_duplicates)
                 for b in range(n_buckets)
                 if not (work / "canon" / f"b{b:05d}").exists()]
        _run(tasks, load_bucket, "load", progress, n_jobs)
        write_json(done, key)
        timings = {"partition": t1 - t0, "load": time.perf_counter() - t1}
        if not keep_parts:
            # Every bucket is loaded: the raw copies are no longer needed.
            shutil.rmtree(work / "parts", ignore_errors=True)
    stats = [_stats(work, b) for b in range(n_buckets)]
    counts = {s: {"read": 0, "kept": 0} for k in _KINDS for s in names.get(k, [])}
    for st in stats:
        for source, c in st["counts"].items():
            counts[source]["read"] += c["read"]
            counts[source]["kept"] += c["kept"]
    order = [s for k in _KINDS for s in names.get(k, [])]
    return {
        "n_buckets": n_buckets,
        "stats": stats,
        "counts": counts,
        "rejected": _combine_rejected(work, n_buckets, order),
        "timings": timings,
    }


def build_features_out_of_core(
    payments,
    bills=None,
    customers=None,
    *,
    columns: Mapping[str, str] | None = None,
    families=None,
    as_of=None,
    fill=None,
    memory_limit="2GB",
    n_buckets="auto",
    out=None,
    drop_duplicates: bool = True,
    n_jobs: int = 1,
    threads: int | None = None,
    progress: bool = True,
    **feature_kw,
):
    """:func:`payseg.load` + :func:`payseg.build_features` on Parquet larger than memory.

    The inputs are split into customer-hash buckets with DuckDB, then each bucket is
    loaded and featurised on its own with the data-wide ``as_of`` and channel
    columns, so the result equals the in-memory
    ``build_features(load(...))`` on the same files, rejected-row ledger included.
    Outputs are written to a temporary name and renamed; rerunning with the same
    ``out`` resumes after the last finished bucket.

    Parameters
    ----------
    payments : path, directory, glob or list of paths
        Parquet payment files (canonical or export headers, as :func:`payseg.load`).
    bills, customers : same types, optional
        Parquet bill and customer files.
    columns : mapping, optional
        ``{file header: canonical name}``, as in :func:`payseg.load`.
    families : sequence of str, optional
        Feature families, as in :func:`payseg.build_features`.
    as_of : date-like, optional
        Reference day; default the latest payment or bill-issue day of all files.
    fill : None, float or dict, default None
        As in :func:`payseg.build_features`; ``"median"`` is not supported here (it
        needs every customer at once).
    memory_limit : str or int, default "2GB"
        Memory budget: DuckDB's limit while bucketing, and the size of one bucket in
        memory when ``n_buckets="auto"``.
    n_buckets : int or "auto", default "auto"
        Number of customer buckets.
    out : str or path, optional
        Work and output folder. When given, the features stay on disk and a
        :class:`BucketedTable` is returned; a rerun with the same ``out`` resumes.
        When None, a temporary folder is used and only the features are returned
        (pass ``out`` to keep the rejected-row ledger).
    drop_duplicates : bool, default True
        As in :func:`payseg.load`.
    n_jobs : int, default 1
        Buckets processed in parallel (each process needs one bucket's memory).
    threads : int, optional
        DuckDB threads (default: all cores).
    progress : bool, default True
        Show a tqdm progress bar per stage.
    **feature_kw
        Other keyword arguments of :func:`payseg.build_features` (``late_fee_rate``,
        ``trend_periods``, ...).

    Returns
    -------
    DataFrame or BucketedTable
        The features indexed by ``customer_id`` (sorted) when ``out`` is None, else a
        handle whose ``rejected``, ``counts`` and ``as_of`` describe the run.

    Examples
    --------
    >>> import tempfile, pandas as pd, payseg
    >>> from payseg.scale import build_features_out_of_core
    >>> data = payseg.synth.generate(60, seed=0, months=4)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     data.payments.to_parquet(f"{tmp}/payments.parquet")
    ...     data.bills.to_parquet(f"{tmp}/bills.parquet")
    ...     X = build_features_out_of_core(f"{tmp}/payments.parquet",
    ...                                    bills=f"{tmp}/bills.parquet",
    ...                                    n_buckets=3, progress=False)
    >>> len(X)
    60
    >>> pd.testing.assert_frame_equal(X, payseg.build_features(data), rtol=1e-12)
    """
    if out is None:
        with tempfile.TemporaryDirectory(prefix="payseg-scale-") as tmp:
            table = build_features_out_of_core(
                payments, bills, customers, columns=columns, families=families,
                as_of=as_of, fill=fill, memory_limit=memory_limit,
                n_buckets=n_buckets, out=tmp, drop_duplicates=drop_duplicates,
                n_jobs=n_jobs, threads=threads, progress=progress, **feature_kw)
            return table.to_pandas()
    from ..features import _check_families

    fams = list(_check_families(families))
    if isinstance(fill, str):
        _conform.fill_values(pd.DataFrame(), fill)  # raises with the explanation
    work = Path(out)
    work.mkdir(parents=True, exist_ok=True)
    prep = prepare(payments, bills, customers, work=work, columns=columns,
                   memory_limit=memory_limit, n_buckets=n_buckets,
                   drop_duplicates=drop_duplicates, threads=threads,
                   progress=progress, n_jobs=n_jobs)
    stats = prep["stats"]
    if as_of is None:
        last = [s["as_of_ns"] for s in stats if s["as_of_ns"] is not None]
        as_of = pd.Timestamp(max(last) if last else 0)
    as_of = pd.Timestamp(as_of).normalize()  # build_features works in whole days
    cut = _conform.cutoff_ns(as_of)
    params = {
        "as_of": str(as_of),
        "families": fams,
        "channels": _conform.used_channels(
            _conform.merge_first(s["channel_first_ns"] for s in stats), cut),
        "fill": fill,
        "feature_kw": feature_kw,
    }
    fdir = work / "features"
    ppath = fdir / "params.json"
    if fdir.exists() and (not ppath.exists() or json.loads(
            ppath.read_text(encoding="utf-8")) != json.loads(json.dumps(params))):
        # Features of other parameters: recompute them all.
        shutil.rmtree(fdir)
    fdir.mkdir(exist_ok=True)
    write_json(ppath, params)
    tasks = [(work, b, params) for b in range(prep["n_buckets"])
             if not (fdir / f"b{b:05d}.parquet").exists()]
    t0 = time.perf_counter()
    _run(tasks, features_bucket, "features", progress, n_jobs)
    timings = {**prep["timings"], "features": time.perf_counter() - t0}
    return BucketedTable(fdir, as_of=as_of, rejected=prep["rejected"],
                         counts=prep["counts"], timings=timings)


# ------------------------------------------------------------------ segmentation


def sample_mask(ids, fraction: float, random_state=0) -> np.ndarray:
    """Seeded choice of customers, decided by a hash of the id alone.

    A customer is in the sample or not whatever bucket or partition it sits in, so
    the in-memory, out-of-core and Dask paths fit on the very same rows.

    Parameters
    ----------
    ids : Index or array of str
        Customer ids.
    fraction : float in (0, 1]
        Expected share of customers kept.
    random_state : int, default 0
        Seed of the hash.

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> import pandas as pd
    >>> from payseg.scale import sample_mask
    >>> ids = pd.Index([f"{i:06d}" for i in range(10_000)])
    >>> m = sample_mask(ids, 0.1, random_state=0)
    >>> bool(900 < m.sum() < 1100), bool((m == sample_mask(ids[::-1], 0.1)[::-1]).all())
    (True, True)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    seed = int(random_state or 0)
    key = f"{seed:016d}"[-16:]
    values = np.asarray(pd.Index(ids).astype("str"), dtype=object)
    if fraction >= 1:
        return np.ones(len(values), dtype=bool)
    h = pd.util.hash_array(values, hash_key=key, categorize=False)
    return h < np.uint64(int(fraction * 2**64))


def _sample(table: BucketedTable, fraction: float, random_state,
            progress: bool) -> pd.DataFrame:
    from tqdm.auto import tqdm

    parts = []
    for X in tqdm(table, total=len(table), desc="sample", unit="bucket",
                  disable=not progress):
        parts.append(X[sample_mask(X.index, fraction, random_state)])
    return pd.concat(parts).sort_index(kind="stable")


def _predict_bucket(segmenter, X: pd.DataFrame) -> pd.DataFrame:
    if not len(X):
        return pd.DataFrame({"segment": pd.Series(dtype="int64")}, index=X.index)
    labels = np.asarray(segmenter.predict(X))
    return pd.DataFrame({"segment": labels}, index=X.index)


def segment_out_of_core(features, segmenter=None, *, sample_size=200_000,
                        random_state=0, out=None, progress=True):
    """Fit a Segmenter on a seeded sample of customers and label every bucket.

    Parameters
    ----------
    features : BucketedTable
        From :func:`build_features_out_of_core` with ``out`` given.
    segmenter : Segmenter, optional
        Unfitted; default ``payseg.Segmenter(random_state=random_state)``.
    sample_size : int, default 200_000
        Expected number of customers the segmenter is fitted on (chosen with
        :func:`sample_mask`, so the choice does not depend on the bucketing).
    random_state : int, default 0
        Seed of the sample.
    out : str or path, optional
        Folder of the ``b<k>.parquet`` label files; default ``labels`` beside the
        features.
    progress : bool, default True
        Show a tqdm progress bar.

    Returns
    -------
    segmenter : Segmenter
        Fitted on the sample.
    labels : BucketedTable
        Column ``segment`` per customer.

    Examples
    --------
    >>> import tempfile, payseg
    >>> from payseg.scale import build_features_out_of_core, segment_out_of_core
    >>> data = payseg.synth.generate(300, seed=0, months=6)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     data.payments.to_parquet(f"{tmp}/payments.parquet")
    ...     data.bills.to_parquet(f"{tmp}/bills.parquet")
    ...     X = build_features_out_of_core(f"{tmp}/payments.parquet",
    ...                                    bills=f"{tmp}/bills.parquet", n_buckets=2,
    ...                                    out=f"{tmp}/work", progress=False)
    ...     seg, labels = segment_out_of_core(
    ...         X, payseg.Segmenter(n_clusters=3, random_state=0), progress=False)
    ...     print(labels.to_pandas()["segment"].nunique())
    3
    """
    from tqdm.auto import tqdm

    if not isinstance(features, BucketedTable):
        raise TypeError(
            "features must be the BucketedTable of build_features_out_of_core(..., "
            f"out=...), got {type(features).__name__}; for a DataFrame in memory use "
            "payseg.Segmenter directly"
        )
    if segmenter is None:
        from ..cluster import Segmenter

        segmenter = Segmenter(random_state=random_state)
    from sklearn.base import clone

    segmenter = clone(segmenter)
    n = features.n_rows
    fraction = min(1.0, sample_size / max(n, 1))
    segmenter.fit(_sample(features, fraction, random_state, progress))
    ldir = Path(out) if out is not None else features.path.parent / "labels"
    if ldir.exists():
        shutil.rmtree(ldir)  # labels of an earlier fit are stale
    ldir.mkdir(parents=True)
    for i, path in enumerate(tqdm(features.paths, desc="segment", unit="bucket",
                                  disable=not progress)):
        _write_parquet(_predict_bucket(segmenter, features.read(i)),
                       ldir / path.name)
    return segmenter, BucketedTable(ldir)
