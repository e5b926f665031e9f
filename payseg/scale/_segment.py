"""Stage 4 of the out-of-core path: fit on a seeded sample, label every bucket."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import PaymentDataError
from ._buckets import BucketedTable, write_parquet
from ._sampling import sample_file, sample_fraction
from ._workdir import claim_dir

__all__ = ["predict_bucket", "segment_out_of_core"]


def predict_bucket(segmenter, X: pd.DataFrame) -> pd.DataFrame:
    """Segment of each row of one bucket (column ``segment``, index kept)."""
    if not len(X):
        return pd.DataFrame({"segment": pd.Series(dtype="int64")}, index=X.index)
    labels = np.asarray(segmenter.predict(X))
    return pd.DataFrame({"segment": labels}, index=X.index)


@functools.lru_cache(maxsize=2)
def _pickled_segmenter(path: str, digest: str):
    """The segmenter pickled at ``path`` (by this process's caller), read once per
    worker process; ``digest`` (its SHA-256) keys the cache."""
    with open(path, "rb") as f:
        blob = f.read()
    if hashlib.sha256(blob).hexdigest() != digest:  # pragma: no cover - never expected
        raise RuntimeError(f"{path}: the pickled segmenter changed while labelling")
    return pickle.loads(blob)


def _label_file(segmenter, source: Path, dest: Path) -> tuple[int, list]:
    """Label one features file into ``dest``; returns the customers without a usable
    feature value and the other warnings raised (as ``(message, category)``), so
    the caller warns once for the whole run (277 buckets at 10M customers).

    ``segmenter`` is the fitted Segmenter, or in a worker process ``(path,
    digest)`` of its pickle: a fitted Segmenter keeps its training labels (11 MB
    pickled for a 200k-customer sample), and pickling it for every bucket in the
    parent cost more than labelling the bucket.
    """
    from ..cluster import NoFeatureWarning

    if isinstance(segmenter, tuple):
        segmenter = _pickled_segmenter(*segmenter)

    empty, other = 0, []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NoFeatureWarning)
        write_parquet(predict_bucket(segmenter, pd.read_parquet(source)), dest)
    for w in caught:
        if isinstance(w.message, NoFeatureWarning):
            empty += w.message.n_empty
        else:
            other.append((w.message, w.category))
    return empty, other


def _map(fn, tasks: list[tuple], pool, desc: str, progress: bool) -> list:
    """``[fn(*task) for task in tasks]``, in the process ``pool`` when given
    (results in task order)."""
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=desc, unit="bucket", disable=not progress)
    try:
        if pool is None:
            out = []
            for task in tasks:
                out.append(fn(*task))
                bar.update()
            return out
        futures = [pool.submit(fn, *task) for task in tasks]
        for fut in futures:
            fut.add_done_callback(lambda _: bar.update())
        return [fut.result() for fut in futures]
    finally:
        bar.close()


@contextlib.contextmanager
def _shared(segmenter, pool):
    """What the labelling tasks get: the segmenter itself in this process, or the
    ``(path, digest)`` of its pickle in a temporary file that each worker process
    reads once (removed afterwards)."""
    if pool is None:
        yield segmenter
        return
    blob = pickle.dumps(segmenter, protocol=pickle.HIGHEST_PROTOCOL)
    fd, path = tempfile.mkstemp(prefix="payseg-segmenter-", suffix=".pkl")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        yield (path, hashlib.sha256(blob).hexdigest())
    finally:
        os.unlink(path)


def _pool(n_jobs: int, n_tasks: int):
    """A pool of ``n_jobs`` processes, or a null context when one is enough."""
    if n_jobs <= 1 or n_tasks <= 1:
        return contextlib.nullcontext()
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # forkserver: DuckDB and pyarrow thread pools do not survive a plain fork.
    return ProcessPoolExecutor(
        min(n_jobs, n_tasks), mp_context=mp.get_context("forkserver")
    )


def segment_out_of_core(
    features,
    segmenter=None,
    *,
    sample_size=200_000,
    random_state=0,
    out=None,
    progress=True,
    n_jobs=1,
):
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
        features. A new or empty folder, or one payseg created (its labels of an
        earlier fit are replaced); payseg marks the folders it creates with a
        ``.payseg-work`` file and never deletes any other.
    progress : bool, default True
        Show a tqdm progress bar.
    n_jobs : int, default 1
        Buckets sampled and labelled in parallel processes (the fit itself runs
        once, on the sample). The labels do not depend on it.

    Returns
    -------
    segmenter : Segmenter
        Fitted on the sample.
    labels : BucketedTable
        Column ``segment`` per customer.

    See Also
    --------
    BucketedTable.sample : the customers the segmenter was fitted on (same
        ``sample_size`` and ``random_state``), e.g. to name the segments with
        :class:`payseg.labels.ArchetypeLabeller`.

    Raises
    ------
    PaymentDataError
        When ``out`` is a folder holding files payseg did not write, or the folder
        of the features (or one above it).

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
    ldir = Path(out) if out is not None else features.path.parent / "labels"
    fpath = features.path.resolve()
    if ldir.resolve() == fpath or ldir.resolve() in fpath.parents:
        # Emptying it for the labels would delete the features being labelled.
        raise PaymentDataError(
            f"out={str(ldir)!r} holds the features being labelled "
            f"({str(features.path)!r}); pass another folder for the labels, or none "
            "for the default (labels/ beside the features)"
        )
    if (
        isinstance(n_jobs, bool)
        or not isinstance(n_jobs, (int, np.integer))
        or n_jobs < 1
    ):
        raise ValueError(f"n_jobs must be a positive int, got {n_jobs!r}")
    n_jobs = int(n_jobs)
    n = features.n_rows
    fraction = sample_fraction(sample_size, n)
    with _pool(n_jobs, len(features.paths)) as pool:  # one pool for both passes
        parts = _map(
            sample_file,
            [(p, fraction, random_state) for p in features.paths],
            pool,
            "sample",
            progress,
        )
        # Buckets hold disjoint customers: the sample is the same for any n_jobs.
        segmenter.fit(pd.concat(parts).sort_index(kind="stable"))
        del parts
        # Labels of an earlier fit are stale: a folder payseg made is emptied, any
        # other folder with files in it is refused, never deleted.
        ldir = claim_dir(ldir, fresh=True)
        with _shared(segmenter, pool) as shared:
            done = _map(
                _label_file,
                [(shared, p, ldir / p.name) for p in features.paths],
                pool,
                "segment",
                progress,
            )
    from ..cluster import NoFeatureWarning

    empty = sum(e for e, _ in done)
    for _, other in done:
        for message, category in other:
            warnings.warn(message, category, stacklevel=2)
    if empty:
        warning = NoFeatureWarning(
            f"segment_out_of_core: {empty:,} of {n:,} customers have no usable "
            "feature value (every used column is NaN: customers without payments "
            "or bills up to as_of?); they are labelled -1 (no segment), not "
            "assigned. Check their payments and bills."
        )
        warning.n_empty, warning.n_rows = empty, n
        warnings.warn(warning, stacklevel=2)
    return segmenter, BucketedTable(ldir)
