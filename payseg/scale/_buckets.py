"""A table stored as one Parquet file per customer bucket, and how a file is written."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import _partition
from ._sampling import sample_file, sample_fraction

__all__ = ["BucketedTable", "write_parquet"]


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
        return (
            f"BucketedTable({str(self.path)!r}, {len(self.paths)} buckets, "
            f"{self.n_rows:,} rows)"
        )

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
        return [
            c
            for c in pq.read_schema(self.paths[0]).names
            if c != "customer_id" and not c.startswith("__")
        ]

    def read(self, bucket: int, columns=None) -> pd.DataFrame:
        """One bucket as a DataFrame (optionally only some columns)."""
        return pd.read_parquet(self.paths[bucket], columns=columns)

    def sample(self, n: int = 200_000, *, random_state=0, columns=None, n_jobs=2):
        """The seeded sample of about ``n`` customers, read bucket by bucket.

        The very rows :func:`segment_out_of_core` fits its segmenter on with the
        same ``sample_size`` and ``random_state`` (a customer is in or out by a
        hash of its id alone, :func:`sample_mask`): what a labeller such as
        :class:`payseg.labels.ArchetypeLabeller` is fitted on after an
        out-of-core segmentation.

        Parameters
        ----------
        n : int, default 200_000
            Expected number of customers (all of them when the table has fewer).
        random_state : int, default 0
            Seed of the sample.
        columns : list of str, optional
            Columns to read (default all).
        n_jobs : int, default 2
            Buckets read at once, in threads (Parquet decoding releases the GIL).

        Returns
        -------
        DataFrame
            Sorted by ``customer_id``.

        Examples
        --------
        >>> import tempfile, pandas as pd
        >>> from payseg.scale import BucketedTable
        >>> ids = pd.Index([f"{i:05d}" for i in range(1000)], name="customer_id")
        >>> x = pd.DataFrame({"v": range(1000)}, index=ids, dtype=float)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     x.iloc[::2].to_parquet(f"{tmp}/b00000.parquet")
        ...     x.iloc[1::2].to_parquet(f"{tmp}/b00001.parquet")
        ...     s = BucketedTable(tmp).sample(100, random_state=0)
        >>> bool(60 < len(s) < 140), s.index.is_monotonic_increasing
        (True, True)
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        fraction = sample_fraction(n, self.n_rows)
        tasks = [(p, fraction, random_state, columns) for p in self.paths]
        if not tasks:
            return pd.DataFrame()
        if n_jobs > 1 and len(tasks) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(int(n_jobs), len(tasks))) as pool:
                parts = list(pool.map(lambda t: sample_file(*t), tasks))
        else:
            parts = [sample_file(*t) for t in tasks]
        return pd.concat(parts).sort_index(kind="stable")

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


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to a temporary name beside ``path`` and rename it into place.

    Without Parquet dictionary encoding: the columns are floats and unique ids, where
    the writer's attempt at a dictionary is wasted; a features bucket is written and
    read back in half the CPU time for 1.2x the disk.
    """
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp, use_dictionary=False)
    os.replace(tmp, path)
