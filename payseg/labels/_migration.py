"""Dynamic classification: the same customers segmented per period window."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .._schema import CHANNEL_SHARE_PREFIX
from ._common import check_fitted

__all__ = ["Migration"]


def _align(X: pd.DataFrame, model) -> pd.DataFrame:
    """Reorder ``X`` to the model's fitted columns.

    A window can lack a rare channel: its ``channel_share__<code>`` column is then 0;
    any other missing column is NaN (the model's preprocessing decides).
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return X
    names = list(names)
    out = X.reindex(columns=names)
    share = [c for c in names if c.startswith(CHANNEL_SHARE_PREFIX) and c not in X]
    if share:
        out[share] = out[share].fillna(0.0)
    return out


class Migration(BaseEstimator):
    """Segment the same customers in each period window with a frozen model.

    Parameters
    ----------
    model : object with ``predict(X)``
        A fitted segmentation (e.g. :class:`payseg.Segmenter`); it is not refitted,
        so a segment means the same thing in every window.
    names : Series or mapping, optional
        Segment id -> name (e.g. ``ArchetypeLabeller().fit(...).names_``) applied to
        the labels before counting transitions.

    See Also
    --------
    payseg.window_features : cut PaymentData into period windows and build the
        feature table of each (what :meth:`fit` takes).
    payseg.plot.plot_migration : heatmap of a fitted Migration.

    Attributes
    ----------
    windows_ : DataFrame
        One row per window: ``start``, ``end`` (exclusive; NaT unless given with
        ``windows=``), ``customers``.
    labels_ : DataFrame
        customer_id x window -> segment (NaN when the customer has no payment or
        bill in that window).
    transitions_ : DataFrame
        Counts from segment (rows) to segment (columns), pooled over consecutive
        window pairs, over customers present in both windows of a pair.
    movers_ : DataFrame
        One row per customer and window pair where the segment changed:
        ``customer_id``, ``from_window``, ``to_window``, ``from_segment``,
        ``to_segment``.
    mover_share_ : float
        Share of (customer, pair) observations that moved.

    Examples
    --------
    >>> import pandas as pd
    >>> class Rule:                      # any object with predict(X)
    ...     def predict(self, X):
    ...         return (X["late_share"] > 0.5).map({True: "late", False: "ok"})
    >>> idx = pd.Index(["a", "b"], name="customer_id")
    >>> per_window = {"2024H1": pd.DataFrame({"late_share": [0.0, 0.0]}, index=idx),
    ...               "2024H2": pd.DataFrame({"late_share": [0.0, 0.9]}, index=idx)}
    >>> mig = Migration(Rule()).fit(per_window)
    >>> mig.movers_[["customer_id", "from_segment", "to_segment"]].values.tolist()
    [['b', 'ok', 'late']]
    >>> int(mig.transitions_.loc["ok", "late"])
    1
    """

    def __init__(self, model, *, names=None):
        self.model = model
        self.names = names

    def fit(self, X, y=None, *, windows=None):
        """Segment every window and count the transitions.

        Parameters
        ----------
        X : mapping of window label -> feature DataFrame
            The feature table of each window, ordered oldest first (e.g. from
            :func:`payseg.window_features`).
        y : ignored
        windows : DataFrame, optional
            ``start`` and ``end`` of each window, indexed by window label (the
            second value of ``payseg.window_features(..., return_windows=True)``);
            copied into ``windows_``.

        Returns
        -------
        self
        """
        if not hasattr(self.model, "predict"):
            raise TypeError(
                f"model must have a predict(X) method (e.g. a fitted "
                f"payseg.Segmenter), got {type(self.model).__name__}"
            )
        if not isinstance(X, Mapping):
            raise TypeError(
                "Migration.fit takes a mapping of window label -> feature table, got "
                f"{type(X).__name__}; build the windows of PaymentData with "
                "payseg.window_features(data, window_months=6)"
            )
        tables = dict(X)
        if len(tables) < 1:
            raise ValueError("Migration.fit: no window with data")
        cols = {}
        for label, Xw in tables.items():
            pred = self.model.predict(_align(Xw, self.model))
            cols[label] = pd.Series(np.asarray(pred, dtype=object), index=Xw.index)
        labels = pd.DataFrame(cols)
        labels.index.name = "customer_id"
        labels.columns.name = "window"
        if self.names is not None:
            mapping = dict(self.names)
            labels = labels.apply(lambda c: c.map(lambda v: mapping.get(v, v)))
        self.labels_ = labels
        spans = (
            pd.DataFrame(columns=["start", "end"])
            if windows is None
            else pd.DataFrame(windows)
        )
        spans = spans.reindex(index=labels.columns, columns=["start", "end"])
        self.windows_ = pd.DataFrame(
            {
                "start": pd.to_datetime(spans["start"]).to_numpy(),
                "end": pd.to_datetime(spans["end"]).to_numpy(),
                "customers": labels.notna().sum().to_numpy(),
            },
            index=pd.Index(labels.columns, name="window"),
        )
        pairs = []
        wins = list(labels.columns)
        for a, b in zip(wins[:-1], wins[1:]):  # loop over window pairs
            both = labels[[a, b]].dropna()
            pairs.append(
                pd.DataFrame(
                    {
                        "customer_id": both.index,
                        "from_window": a,
                        "to_window": b,
                        "from_segment": both[a].to_numpy(),
                        "to_segment": both[b].to_numpy(),
                    }
                )
            )
        obs = (
            pd.concat(pairs, ignore_index=True)
            if pairs
            else pd.DataFrame(
                columns=[
                    "customer_id",
                    "from_window",
                    "to_window",
                    "from_segment",
                    "to_segment",
                ]
            )
        )
        segs = sorted(pd.unique(labels.stack().dropna().to_numpy()), key=str)
        self.transitions_ = (
            pd.crosstab(obs["from_segment"], obs["to_segment"])
            .reindex(index=segs, columns=segs, fill_value=0)
            .rename_axis(index="from", columns="to")
            if len(obs)
            else pd.DataFrame(
                0, index=pd.Index(segs, name="from"), columns=pd.Index(segs, name="to")
            )
        )
        moved = obs["from_segment"] != obs["to_segment"]
        self.movers_ = obs[moved].reset_index(drop=True)
        self.mover_share_ = float(moved.mean()) if len(obs) else 0.0
        return self

    def transition_shares(self) -> pd.DataFrame:
        """Row-normalised transitions: where each segment's customers went."""
        check_fitted(self, "transitions_")
        t = self.transitions_
        return t.div(t.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
