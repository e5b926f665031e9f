"""Out-of-core ``load`` + ``build_features``, one customer bucket at a time.

Stages, each resumable (outputs are written to a temporary name and renamed, and a
rerun skips what exists), all inside the ``out`` folder, which payseg creates and
marks (``_workdir``) and never takes over from the user:

1. ``parts/``: input Parquet files split into customer-hash buckets (``_partition``,
   DuckDB).
2. ``canon/b<k>/``: each bucket read and validated like :func:`payseg.load`
   (``_stages``).
3. ``features/b<k>.parquet``: :func:`payseg.build_features` of each bucket with the
   data-wide ``as_of`` and channel columns (``_stages``, ``_conform``).

Stage 4, ``labels/b<k>.parquet``, is :func:`payseg.scale.segment_out_of_core`
(``_segment``).

Each stage stores its fingerprint beside its output (``parts/manifest.json``,
``canon/key.json`` and ``done.json``, ``features/key.json``): the inputs' size,
modification time and content hash, and the parameters the stage reads. A stage's
fingerprint holds the one of the stage before, so a change restarts the first stage it
affects and every stage after it; ``parts/`` is removed when the load ends, fails, or
on the next run after a kill.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._ledger import sort_ledger
from .._schema import KINDS, UNKNOWN_CHANNEL, empty_rejected
from ..exceptions import PaymentDataError
from ..features import as_of_coverage_note, check_families, cycle_clash_note
from . import _conform, _partition
from ._buckets import BucketedTable
from ._partition import list_parquet, write_json
from ._stages import bucket_stats, features_bucket, load_bucket, read_coverage
from ._workdir import claim_dir, remove_dir

__all__ = ["build_features_out_of_core", "prepare", "run_tasks"]


def run_tasks(tasks, fn, desc: str, progress: bool, n_jobs: int) -> None:
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
        for fut in tqdm(
            as_completed(futures),
            total=len(futures),
            desc=desc,
            unit="bucket",
            disable=not progress,
        ):
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


def _as_json(obj):
    """``obj`` as it reads back from JSON (tuples become lists, ...)."""
    return json.loads(json.dumps(obj, default=str))


def _key_of(feature_kw: dict) -> dict:
    """``feature_kw`` for a stage fingerprint: a Series (``cycle_months`` per
    customer) by a SHA-256 of its ids and values, as ``str`` of a long Series shows
    only its first and last rows (a change in between reused stale features)."""
    out = {}
    for name, value in feature_kw.items():
        if isinstance(value, (pd.Series, pd.DataFrame)):
            rows = pd.util.hash_pandas_object(value, index=True).to_numpy()
            value = {"rows": len(value), "sha256": hashlib.sha256(rows).hexdigest()}
        out[name] = value
    return out


def _same_key(path: Path, key) -> bool:
    """Whether the stage fingerprint stored at ``path`` equals ``key``."""
    try:
        return json.loads(path.read_text(encoding="utf-8")) == key
    except (OSError, ValueError):
        return False


def _sweep_temporary(work: Path) -> None:
    """Remove the ``*.tmp`` outputs a killed run left inside the stage folders."""
    for stage in ("canon", "features"):
        for p in (work / stage).glob("*.tmp"):
            if p.is_dir():
                remove_dir(p)
            else:
                p.unlink(missing_ok=True)


def _check_coverage(fdir: Path, n_buckets: int, as_of) -> None:
    """The check of a given ``as_of`` that :func:`payseg.build_features` makes, once
    on the whole data: the buckets' coverage counts summed, their date ranges
    joined. Raises when ``as_of`` is before every dated row of every bucket; warns
    once when it leaves most customers with data empty. A bucket whose customers
    all start after ``as_of`` is no error on its own."""
    parts = [read_coverage(fdir / f"b{b:05d}.parquet") for b in range(n_buckets)]
    parts = [c for c in parts if c]
    firsts = [c["first_ns"] for c in parts if c["first_ns"] is not None]
    lasts = [c["last_ns"] for c in parts if c["last_ns"] is not None]
    total = {
        "rows": sum(c["rows"] for c in parts),
        "used": sum(c["used"] for c in parts),
        "first_ns": min(firsts) if firsts else None,
        "last_ns": max(lasts) if lasts else None,
    }
    note = as_of_coverage_note(total, as_of, "build_features_out_of_core")
    if note is not None:
        warnings.warn(note, UserWarning, stacklevel=3)


def _warn_cycle_clash(fdir: Path, n_buckets: int) -> None:
    """One warning for the customers of every bucket whose bill periods contradict
    a given billing cycle (``features_bucket`` keeps each bucket's count and
    examples in ``b<k>.json``), as :func:`payseg.build_features` gives in memory."""
    clashes = [
        (read_coverage(fdir / f"b{b:05d}.parquet") or {}).get("cycle_clash")
        for b in range(n_buckets)
    ]
    clashes = [c for c in clashes if c]
    if clashes:
        n = sum(c["n"] for c in clashes)
        examples = [e for c in clashes for e in c["examples"]][:3]
        warnings.warn(cycle_clash_note(n, examples), UserWarning, stacklevel=3)


def _resolve_sources(payments, bills, customers) -> dict[str, list[Path]]:
    sources = {"payments": list_parquet(payments, "payments")}
    if bills is not None:
        sources["bills"] = list_parquet(bills, "bills")
    if customers is not None:
        sources["customers"] = list_parquet(customers, "customers")
    return sources


def prepare(
    payments,
    bills=None,
    customers=None,
    *,
    work: Path,
    columns=None,
    memory_limit="2GB",
    n_buckets="auto",
    drop_duplicates=True,
    threads=None,
    progress=True,
    n_jobs=1,
    keep_parts=False,
    early=None,
) -> dict:
    """Stages 1 and 2; returns the data-wide facts and the combined ledger.

    ``early``: the feature parameters for stage 2's early features (see
    ``_stages``); None computes none.
    """
    limit = _partition.parse_bytes(memory_limit)
    sources = _resolve_sources(payments, bills, customers)
    if n_buckets == "auto":
        n_rows = _partition.count_rows(sources["payments"] + sources.get("bills", []))
        # memory_limit is the budget of the whole run: with n_jobs processes at
        # once, each bucket gets its share.
        n_buckets = _partition.auto_buckets(n_rows, limit // max(1, int(n_jobs)))
    elif (
        isinstance(n_buckets, bool)
        or not isinstance(n_buckets, (int, np.integer))
        or n_buckets < 1
    ):
        raise ValueError(
            f"n_buckets must be 'auto' or a positive int, got {n_buckets!r}"
        )
    n_buckets = int(n_buckets)
    names = {k: [str(p) for p in v] for k, v in sources.items()}
    inputs = {k: _partition.fingerprint(v) for k, v in sources.items()}
    # The fingerprint of stage 2 holds the one of stage 1 (inputs, bucket count,
    # columns): whatever restarts the partition restarts the load, and after it the
    # features, whose fingerprint holds this one.
    key = _as_json(
        {
            "n_buckets": n_buckets,
            "columns": dict(columns or {}),
            "drop_duplicates": bool(drop_duplicates),
            "inputs": inputs,
            # format 2: payments and bills of a bucket as Arrow IPC, not Parquet.
            "format": 2,
        }
    )
    canon = work / "canon"
    done, started = canon / "done.json", canon / "key.json"
    timings = {"partition": 0.0, "load": 0.0}
    try:
        if not _same_key(done, key):
            if canon.exists() and not _same_key(started, key):
                remove_dir(canon)  # buckets of other inputs or settings: start over
            t0 = time.perf_counter()
            _partition.partition(
                sources,
                work / "parts",
                n_buckets,
                columns=columns,
                memory_limit=limit,
                threads=threads,
                progress=progress,
                fingerprints=inputs,
                n_jobs=n_jobs,
            )
            changed = _partition.changed_while_read(inputs)
            if changed:
                remove_dir(work / "parts")
                raise PaymentDataError(
                    f"input files changed while payseg was reading them: "
                    f"{', '.join(changed[:3])}; run again once they are written "
                    "completely"
                )
            t1 = time.perf_counter()
            canon.mkdir(exist_ok=True)
            write_json(started, key)
            tasks = [
                (work, b, names, dict(columns or {}), drop_duplicates, early)
                for b in range(n_buckets)
                if not (work / "canon" / f"b{b:05d}").exists()
            ]
            run_tasks(tasks, load_bucket, "load", progress, n_jobs)
            write_json(done, key)
            timings = {"partition": t1 - t0, "load": time.perf_counter() - t1}
    finally:
        if not keep_parts:
            # The raw copies are needed only until every bucket is loaded; a copy
            # left by a killed run is removed here by the next one.
            remove_dir(work / "parts")
    stats = [bucket_stats(work, b) for b in range(n_buckets)]
    counts = {s: {"read": 0, "kept": 0} for k in KINDS for s in names.get(k, [])}
    for st in stats:
        for source, c in st["counts"].items():
            counts[source]["read"] += c["read"]
            counts[source]["kept"] += c["kept"]
    order = [s for k in KINDS for s in names.get(k, [])]
    return {
        "n_buckets": n_buckets,
        "stats": stats,
        "counts": counts,
        "rejected": _combine_rejected(work, n_buckets, order),
        "timings": timings,
        "key": key,
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
    ``out`` resumes after the last finished bucket. Each stage keeps a fingerprint of
    what it read (each input file's size, modification time and SHA-256 hash, and
    the parameters): when an input or a parameter changed, the stages it affects
    start over rather than returning the earlier result.

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
        Memory budget of the run: DuckDB's limit while bucketing and, when
        ``n_buckets="auto"``, the memory of the ``n_jobs`` buckets processed at once
        (each bucket is sized to ``memory_limit / n_jobs``).
    n_buckets : int or "auto", default "auto"
        Number of customer buckets.
    out : str or path, optional
        Work and output folder. When given, the features stay on disk and a
        :class:`BucketedTable` is returned; a rerun with the same ``out`` resumes.
        When None, a temporary folder is used and only the features are returned
        (pass ``out`` to keep the rejected-row ledger). ``out`` must be a new or
        empty folder, or one payseg created (marked by a ``.payseg-work`` file);
        payseg deletes stale outputs only inside such a folder.
    drop_duplicates : bool, default True
        As in :func:`payseg.load`.
    n_jobs : int, default 1
        Buckets loaded and featurised in parallel processes. With
        ``n_buckets="auto"`` the buckets are made ``n_jobs`` times smaller, so the
        run stays within ``memory_limit``.
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

    Raises
    ------
    PaymentDataError
        When an input is missing or not Parquet, a required column is not found,
        an input changed while it was read, or ``out`` is a folder holding files
        payseg did not write.

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
                payments,
                bills,
                customers,
                columns=columns,
                families=families,
                as_of=as_of,
                fill=fill,
                memory_limit=memory_limit,
                n_buckets=n_buckets,
                out=tmp,
                drop_duplicates=drop_duplicates,
                n_jobs=n_jobs,
                threads=threads,
                progress=progress,
                **feature_kw,
            )
            return table.to_pandas()
    fams = list(check_families(families))
    if isinstance(fill, str):
        _conform.fill_values(pd.DataFrame(), fill)  # raises with the explanation
    work = claim_dir(out)
    given = as_of is not None
    if given:
        as_of = pd.Timestamp(as_of).normalize()  # build_features works in whole days
    # What the features of a bucket depend on besides as_of and the channels: stage
    # 2 computes them early under this key, stage 3 uses them when it matches.
    early_key = _as_json(
        {"families": fams, "feature_kw": _key_of(feature_kw), "format": 1}
    )
    early = {
        "key": early_key,
        "families": fams,
        "feature_kw": feature_kw,
        "as_of": as_of if given else None,
        # build_features' own threads only when the buckets run in one process.
        "block_jobs": 1 if n_jobs > 1 else -1,
    }
    prep = prepare(
        payments,
        bills,
        customers,
        work=work,
        columns=columns,
        memory_limit=memory_limit,
        n_buckets=n_buckets,
        drop_duplicates=drop_duplicates,
        threads=threads,
        progress=progress,
        n_jobs=n_jobs,
        early=early,
    )
    stats = prep["stats"]
    if not given:
        last = [s["as_of_ns"] for s in stats if s["as_of_ns"] is not None]
        as_of = pd.Timestamp(max(last) if last else 0)
    as_of = pd.Timestamp(as_of).normalize()  # build_features works in whole days
    cut = _conform.cutoff_ns(as_of)
    params = {
        "as_of": str(as_of),
        "families": fams,
        "channels": _conform.used_channels(
            _conform.merge_first(s["channel_first_ns"] for s in stats), cut
        ),
        "fill": fill,
        "feature_kw": feature_kw,
    }
    fdir = work / "features"
    # format 2: each features file has its as_of coverage beside it (b<k>.json);
    # 3: and its given-cycle contradictions.
    fkey = _as_json(
        {
            "load": prep["key"],
            "format": 3,
            **params,
            "feature_kw": _key_of(feature_kw),
        }
    )
    kpath = fdir / "key.json"
    if fdir.exists() and not _same_key(kpath, fkey):
        # Features of other inputs, buckets or parameters: recompute them all; the
        # default labels folder (stage 4) labelled the old ones.
        remove_dir(fdir)
        remove_dir(work / "labels")
    fdir.mkdir(exist_ok=True)
    write_json(kpath, fkey)
    tasks = [
        (work, b, params, early["block_jobs"], early_key)
        for b in range(prep["n_buckets"])
        if not (fdir / f"b{b:05d}.parquet").exists()
    ]
    t0 = time.perf_counter()
    run_tasks(tasks, features_bucket, "features", progress, n_jobs)
    _sweep_temporary(work)
    if given:
        _check_coverage(fdir, prep["n_buckets"], as_of)
    _warn_cycle_clash(fdir, prep["n_buckets"])
    timings = {**prep["timings"], "features": time.perf_counter() - t0}
    return BucketedTable(
        fdir,
        as_of=as_of,
        rejected=prep["rejected"],
        counts=prep["counts"],
        timings=timings,
    )
