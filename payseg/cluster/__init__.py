"""Segmenting customers: the Segmenter, its back-ends, choice of k and stability."""

from .._schema import NOISE
from ._persist import ModelFileError, ModelVersionWarning
from ._preprocess import ClippedRobustScaler, LowUseShortfall, SegmentInputError
from ._segmenter import NoFeatureWarning, NoStructureWarning, Segmenter
from ._stability import StabilityResult, stability

__all__ = [
    "NOISE",
    "ClippedRobustScaler",
    "LowUseShortfall",
    "ModelFileError",
    "ModelVersionWarning",
    "NoFeatureWarning",
    "NoStructureWarning",
    "SegmentInputError",
    "Segmenter",
    "StabilityResult",
    "stability",
]
