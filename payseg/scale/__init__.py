"""Province-size data: out-of-core features on one machine, and a Dask back-end."""

from ._buckets import BucketedTable
from ._dask import dask_build_features, dask_segment
from ._out_of_core import build_features_out_of_core
from ._partition import parse_bytes
from ._sampling import sample_mask
from ._segment import segment_out_of_core

__all__ = [
    "BucketedTable",
    "build_features_out_of_core",
    "dask_build_features",
    "dask_segment",
    "parse_bytes",
    "sample_mask",
    "segment_out_of_core",
]
