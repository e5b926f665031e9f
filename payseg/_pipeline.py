"""One call from PaymentData to named, labelled segments: :func:`segment`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .data import PaymentData

__all__ = ["SegmentationResult", "segment"]


@dataclass
class SegmentationResult:
    """Everything one segmentation run produced.

    Attributes
    ----------
    data : PaymentData
        The input, with its rejected-row ledger.
    features : DataFrame
        The feature table (index customer_id) the segmenter was fitted on.
    segmenter : payseg.Segmenter
        The fitted segmenter.
    labels : Series
        customer_id -> segment id (-1 = noise for density methods).
    segments : DataFrame
        One row per segment id: ``key`` (archetype key), ``name_en``, ``name_zh``,
        ``rule`` (why it got that name), ``size``, ``share``, ``action``.
    customers : DataFrame
        One row per customer: ``segment``, ``name``, ``value_class``, ``pyramid_tier``,
        ``credit_grade``, ``warning_score``, ``action``.
    profiles : DataFrame
        Segment profiles from the segmenter (size, share, feature summaries).
    k_scores : DataFrame
        Scores of every k tried (empty when k was fixed).
    k_reason : str
        Why that k was chosen.
    stability : DataFrame or None
        Per-segment bootstrap Jaccard (column ``jaccard``); ``attrs["ari"]`` overall.
    warnings : DataFrame
        Top early-warning customers: ``score`` and ``reasons``.
    migration : object or None
        Migration result (transition matrix, movers) when computed.
    dominant_channel : Series
        customer_id -> dominant channel code (NaN without channels).
    """

    data: PaymentData
    features: pd.DataFrame
    segmenter: object
    labels: pd.Series
    segments: pd.DataFrame
    customers: pd.DataFrame
    profiles: pd.DataFrame
    k_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    k_reason: str = ""
    stability: pd.DataFrame | None = None
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)
    migration: object | None = None
    dominant_channel: pd.Series | None = None

    @property
    def names(self) -> pd.Series:
        """segment id -> display name (English, with the Chinese name)."""
        return self.segments["name_en"]

    @property
    def rejected(self) -> pd.DataFrame:
        return self.data.rejected


def segment(data, **kwargs):  # placeholder until the pieces land
    raise NotImplementedError
