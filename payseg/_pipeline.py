"""One call from PaymentData to named, labelled segments: :func:`segment`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .data import PaymentData

__all__ = ["SegmentationResult", "predict_saved", "segment"]


@dataclass
class SegmentationResult:
    """Everything one segmentation run produced; made by :func:`segment`.

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
        One row per customer: ``segment``, ``archetype``, ``name``, ``name_zh``,
        ``value_class``, ``pyramid_tier``, ``credit_grade``, ``credit_score``,
        ``warning_score``, ``warning_level``, ``warning_reasons``,
        ``dominant_channel``, ``action``, ``action_zh``, ``action_en``.
    profiles : DataFrame
        Segment profiles from the segmenter (size, share, feature summaries).
    k_scores : DataFrame
        Scores of every k tried (empty when k was fixed).
    k_reason : str
        Why that k was chosen.
    stability : StabilityResult or None
        Bootstrap stability (per-segment Jaccard, ARI), when computed.
    warnings : DataFrame
        Top early-warning customers: ``score`` and ``reasons``.
    migration : payseg.labels.Migration or None
        Half-year migration between segments, when the data spans two windows.
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
    stability: object | None = None
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)
    migration: object | None = None
    dominant_channel: pd.Series | None = None

    @property
    def names(self) -> pd.Series:
        """segment id -> English display name (``segments["name_zh"]`` has Chinese)."""
        return self.segments["name_en"]

    @property
    def rejected(self) -> pd.DataFrame:
        """The rejected-row ledger of the input."""
        return self.data.rejected

    def to_frame(self) -> pd.DataFrame:
        """Features and labels side by side, one row per customer."""
        return self.customers.join(self.features, how="left")

    def report(self, path, **kwargs) -> Path:
        """Write the report: HTML (one self-contained file) or Markdown, by suffix."""
        from .report import render

        return render(self, path, **kwargs)

    def save_model(self, path) -> None:
        """Save the segmenter with the segment names, for ``payseg predict``."""
        names = self.segments[["key", "name_en", "name_zh"]]
        self.segmenter.save(path, segment_names=names)

    def _repr_html_(self) -> str:
        from .report import summary_html

        return summary_html(self)

    def __repr__(self) -> str:
        seg = self.segments
        share = seg["share"] if "share" in seg else pd.Series(np.nan, index=seg.index)
        sizes = ", ".join(f"{n} {s:.0%}" for n, s in zip(seg["name_en"], share))
        return (f"SegmentationResult({len(self.labels):,} customers, "
                f"{len(self.segments)} segments: {sizes})")


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc="payseg", unit="step",
                leave=False)


def segment(
    data: PaymentData,
    *,
    method: str = "kmeans",
    n_clusters="auto",
    random_state=0,
    features=None,
    as_of=None,
    segmenter_params: dict | None = None,
    stability: int = 0,
    migration: bool = True,
    actions=None,
    progress: bool = False,
) -> SegmentationResult:
    """Segment customers in one call: features, k, segments, names and labels.

    Runs :func:`payseg.build_features`, :class:`payseg.Segmenter`, then the labellers
    of :mod:`payseg.labels` (archetype names, value matrix, value pyramid, credit
    grade, early warning, service actions) and, when the data spans at least two
    half-years, the migration between segments.

    Parameters
    ----------
    data : PaymentData
        From :func:`payseg.load` or :func:`payseg.synth.generate`.
    method : str or clusterer, default "kmeans"
        Clustering back-end (see :class:`payseg.Segmenter`).
    n_clusters : "auto" or int, default "auto"
        Number of segments, or "auto" to choose it.
    random_state : int or None, default 0
        Seeds every random step.
    features : list of str, optional
        Feature columns to cluster on (default: the Segmenter's choice).
    as_of : date-like, optional
        Reference day of the features (default: the latest date in the data).
    segmenter_params : dict, optional
        Further :class:`payseg.Segmenter` parameters (``k_range``, ``scaler``, ...).
    stability : int, default 0
        Number of bootstrap refits for segment stability (0: skip).
    migration : bool, default True
        Compute half-year migration between segments when possible.
    actions : DataFrame or path, optional
        Your own service-actions table (see :func:`payseg.labels.load_actions`).
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    SegmentationResult

    Examples
    --------
    >>> import payseg
    >>> data = payseg.synth.generate(600, seed=1, months=12)
    >>> result = payseg.segment(data, n_clusters=6, random_state=0, migration=False)
    >>> len(result.customers) == data.n_customers
    True
    >>> sorted(result.customers.columns)[:3]
    ['action', 'action_en', 'action_zh']
    """
    from . import labels as lab
    from .cluster import Segmenter
    from .cluster import stability as _stability
    from .features import build_features

    if not isinstance(data, PaymentData):
        raise TypeError(
            f"segment() needs a PaymentData (from payseg.load or payseg.synth.generate),"
            f" got {type(data).__name__}"
        )
    if len(data.payments) == 0:
        raise ValueError("no payments to segment: every row was rejected or the "
                         "input is empty; see data.rejected")
    steps = 6 + bool(stability) + bool(migration)
    with _progress(steps, progress) as bar:
        bar.set_postfix_str("features")
        X, dominant = build_features(data, as_of=as_of, return_dominant=True)
        bar.update()

        bar.set_postfix_str("segments")
        seg = Segmenter(method=method, n_clusters=n_clusters, features=features,
                        random_state=random_state, **(segmenter_params or {}))
        seg.fit(X)
        labels = seg.labels_
        bar.update()

        bar.set_postfix_str("names")
        namer = lab.ArchetypeLabeller().fit(X, labels)
        bar.update()

        bar.set_postfix_str("value")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = lab.ValueMatrix().fit(data.payments)
            pyramid = lab.ValuePyramid().fit(X)
        bar.update()

        bar.set_postfix_str("credit and warnings")
        theft = data.customers["theft"] if "theft" in data.customers else None
        credit = lab.CreditGrade().fit(X, theft=theft)
        warn = lab.EarlyWarning().fit(X)
        bar.update()

        stab = None
        if stability:
            bar.set_postfix_str("stability")
            stab = _stability(seg, X, n_boot=int(stability), random_state=random_state)
            bar.update()

        mig = None
        if migration:
            bar.set_postfix_str("migration")
            mig = _migration(seg, data)
            bar.update()

        customers = pd.DataFrame(
            {
                "segment": labels,
                "archetype": namer.labels_.map(_strip_suffix_map(namer)),
                "name": namer.labels_,
                "name_zh": labels.map(namer.names_zh_),
                "value_class": value.labels_.reindex(X.index),
                "pyramid_tier": pyramid.labels_.reindex(X.index),
                "credit_grade": credit.labels_.reindex(X.index),
                "credit_score": credit.scores_.reindex(X.index),
                "warning_score": warn.scores_.reindex(X.index),
                "warning_level": warn.labels_.reindex(X.index),
                "warning_reasons": warn.reasons_.reindex(X.index),
                "dominant_channel": dominant.reindex(X.index),
            },
            index=X.index,
        )
        table = None
        if actions is not None:
            table = (actions if isinstance(actions, pd.DataFrame)
                     else lab.load_actions(actions))
        rec = lab.recommend(
            customers.rename(columns={"pyramid_tier": "tier", "credit_grade": "grade",
                                      "warning_level": "warning"}),
            table=table,
        )
        customers["action"] = rec["action"]
        customers["action_zh"] = rec["action_zh"]
        customers["action_en"] = rec["action_en"]
        segments = _segments(namer, labels, customers)
        bar.update()

    return SegmentationResult(
        data=data,
        features=X,
        segmenter=seg,
        labels=labels,
        segments=segments,
        customers=customers,
        profiles=seg.profiles_,
        k_scores=getattr(seg, "k_scores_", pd.DataFrame()),
        k_reason=getattr(seg, "k_reason_", ""),
        stability=stab,
        warnings=warn.top(20),
        migration=mig,
        dominant_channel=dominant,
    )


def _strip_suffix_map(namer) -> dict:
    """Display name ('deadline 2') -> archetype key ('deadline')."""
    return dict(zip(namer.names_.to_numpy(), namer.archetypes_.to_numpy()))


def _segments(namer, labels: pd.Series, customers: pd.DataFrame) -> pd.DataFrame:
    size = labels.value_counts().sort_index()
    # The most common action of a segment's customers is the segment's action.
    action = (customers.groupby("segment")["action"]
              .agg(lambda s: s.value_counts().index[0]))
    out = pd.DataFrame(
        {
            "key": namer.archetypes_,
            "name_en": namer.names_en_,
            "name_zh": namer.names_zh_,
            "rule": namer.rules_,
            "size": size,
            "share": size / size.sum(),
            "action": action,
        }
    )
    out.index.name = "segment"
    out["size"] = out["size"].fillna(0).astype("int64")
    return out


def _migration(segmenter, data: PaymentData):
    """Half-year migration with the fitted segmenter frozen; None if too short."""
    from .labels import Migration

    dates = data.payments["paid_at"]
    if dates.empty or (dates.max() - dates.min()) < pd.Timedelta(days=360):
        return None
    try:
        return Migration(segmenter, window_months=6).fit(data)
    except ValueError as exc:  # e.g. fewer than two windows with customers
        warnings.warn(f"migration skipped: {exc}", RuntimeWarning, stacklevel=3)
        return None


def predict_saved(model, data: PaymentData) -> pd.DataFrame:
    """Assign the customers of ``data`` to the segments of a saved model.

    Parameters
    ----------
    model : str, Path or Segmenter
        A file written by ``payseg segment`` / :meth:`SegmentationResult.save_model`
        (or :meth:`Segmenter.save`), or a Segmenter loaded from one.
    data : PaymentData

    Returns
    -------
    DataFrame indexed by customer_id: ``segment`` and, when the model carries them,
    ``name`` and ``name_zh``.
    """
    from .cluster import Segmenter
    from .features import build_features

    seg = model if isinstance(model, Segmenter) else Segmenter.load(model)
    X = build_features(data)
    out = seg.predict(X).rename("segment").to_frame()
    names = getattr(seg, "segment_names_", None)
    if isinstance(names, pd.DataFrame) and len(names):
        names = names.copy()
        names.index = names.index.astype(np.int64)
        out["name"] = out["segment"].map(names["name_en"])
        out["name_zh"] = out["segment"].map(names["name_zh"])
    return out
