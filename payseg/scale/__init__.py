"""Province-size data: out-of-core features on one machine, and a Dask back-end."""

from ._dask import dask_build_features, dask_segment
from ._partition import parse_bytes
from ._stream import (
    BucketedTable,
    build_features_out_of_core,
    sample_mask,
    segment_out_of_core,
)

__all__ = [
    "BucketedTable",
    "build_features_out_of_core",
    "dask_build_features",
    "dask_segment",
    "parse_bytes",
    "sample_mask",
    "segment_out_of_core",
]
