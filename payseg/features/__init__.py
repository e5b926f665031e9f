"""Per-customer payment-behaviour features (timing, channel, value, arrears, ...)."""

from ._as_of import default_as_of
from ._build import build_features, dominant_channel
from ._build import fill_missing as _fill  # noqa: F401  (old name, see below)
from ._families import FAMILIES, feature_names
from ._families import check_families as _check_families  # noqa: F401

# _fill and _check_families: old private names payseg.scale still imports; they go
# once it imports check_families and fill_missing from ._families and ._build.

__all__ = [
    "FAMILIES",
    "build_features",
    "default_as_of",
    "dominant_channel",
    "feature_names",
]
