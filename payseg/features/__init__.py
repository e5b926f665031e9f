"""Per-customer payment-behaviour features (timing, channel, value, arrears, ...)."""

from ._as_of import default_as_of, first_day
from ._build import (
    # For the out-of-core back-ends (a data-wide as_of check); not in __all__.
    as_of_coverage_note as as_of_coverage_note,
)
from ._build import (
    build_features,
    dominant_channel,
    fill_missing,
    has_data,
)
from ._families import FAMILIES, check_families, feature_names
from ._given_cycle import (
    # For the out-of-core path (one contradiction warning per run); not in __all__.
    cycle_clash_note as cycle_clash_note,
)
from ._infer import inferred_bills

__all__ = [
    "FAMILIES",
    "build_features",
    "check_families",
    "default_as_of",
    "dominant_channel",
    "feature_names",
    "first_day",
    "fill_missing",
    "has_data",
    "inferred_bills",
]
