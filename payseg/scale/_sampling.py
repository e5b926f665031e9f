"""The seeded sample of customers a segmenter is fitted on, whatever the back-end."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["sample_file", "sample_fraction", "sample_mask"]


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


def sample_fraction(size: int, n_rows: int) -> float:
    """Share of customers to keep for a sample of about ``size`` of ``n_rows``
    (every one when there are fewer): the one rule of every back-end's sample."""
    return min(1.0, size / max(n_rows, 1))


def sample_file(path, fraction: float, random_state, columns=None) -> pd.DataFrame:
    """The rows of one bucket file (Parquet indexed by customer id) that
    :func:`sample_mask` keeps (optionally only some columns).

    The rows are chosen on the Arrow table and only they are converted to pandas:
    a 1-in-50 sample of a bucket costs its read, not its conversion.
    """
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    # use_pandas_metadata: the index column is read too when columns are given.
    table = pf.read(columns=columns, use_pandas_metadata=True)
    index = (pf.schema_arrow.pandas_metadata or {}).get("index_columns") or []
    if len(index) != 1 or not isinstance(index[0], str):
        X = table.to_pandas()  # not a file of ours: the mask on the index itself
        return X[sample_mask(X.index, fraction, random_state)]
    ids = table.column(index[0]).to_numpy(zero_copy_only=False)
    return table.filter(sample_mask(ids, fraction, random_state)).to_pandas()
