"""Dynamic classification: the same customers segmented per period window."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ._common import check_fitted, check_number

__all__ = ["Migration", "plot_migration"]


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
    share = [c for c in names if c.startswith("channel_share__") and c not in X]
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
    window_months : int, default 6
        Window length in months. Windows are aligned on the calendar year (6: Jan-Jun
        and Jul-Dec; 3: quarters; 12: years).
    min_coverage : float, default 0.5
        A window at either end of the data is kept only when the data span covers at
        least this share of it (a half-year with two weeks of data would compare
        unlike with like).
    features : callable, optional
        ``features(data, as_of=...) -> DataFrame``; default
        :func:`payseg.build_features`. A payment belongs to the window of the
        billing period it settles (of its payment date when the period is unknown);
        ``as_of`` is the window's last day, or its last payment when later.
    names : Series or mapping, optional
        Segment id -> name (e.g. ``ArchetypeLabeller().fit(...).names_``) applied to
        the labels before counting transitions.

    Attributes
    ----------
    windows_ : DataFrame
        One row per window: ``start``, ``end`` (exclusive), ``customers``.
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

    def __init__(self, model, *, window_months=6, min_coverage=0.5, features=None,
                 names=None):
        self.model = model
        self.window_months = window_months
        self.min_coverage = min_coverage
        self.features = features
        self.names = names

    def _windows(self, data) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
        m = self.window_months
        check_number(self.min_coverage, "min_coverage", low=0, high=1)
        if not (isinstance(m, (int, np.integer)) and 1 <= m <= 12 and 12 % m == 0):
            raise ValueError(
                f"window_months must divide 12 (1, 2, 3, 4, 6 or 12), got {m!r}"
            )
        dates = data.payments["paid_at"]
        if "period" in data.payments.columns:
            per = data.payments["period"]
            dates = per.dt.to_timestamp().where(per.notna(), dates)
        if len(data.bills):
            dates = pd.concat([dates, data.bills["period"].dt.to_timestamp()])
        if dates.empty:
            raise ValueError("Migration.fit: the data has no payments or bills")
        lo, hi = dates.min(), dates.max()
        first = pd.Timestamp(lo.year, (lo.month - 1) // m * m + 1, 1)
        out, start = [], first
        while start <= hi:  # loop over windows, a handful
            end = start + pd.DateOffset(months=m)
            label = (f"{start:%Y}" if m == 12 else
                     f"{start:%Y}H{(start.month - 1) // 6 + 1}" if m == 6 else
                     f"{start:%Y}Q{(start.month - 1) // 3 + 1}" if m == 3 else
                     f"{start:%Y-%m}")
            span = min(hi + pd.Timedelta(days=1), end) - max(lo, start)
            if span / (end - start) >= self.min_coverage:
                out.append((label, start, end))
            start = end
        return out

    def _window_features(self, data) -> dict[str, pd.DataFrame]:
        from ..data import PaymentData

        build = self.features
        if build is None:
            from ..features import build_features as build
        out, spans = {}, {}
        p, b = data.payments, data.bills
        # A payment belongs to the window of the billing period it settles (so a bill
        # of the window's last month paid a few days later still counts as paid),
        # else to the window of its payment date.
        when = p["paid_at"]
        if "period" in p.columns:
            when = p["period"].dt.to_timestamp().where(p["period"].notna(), when)
        for label, start, end in self._windows(data):
            pw = p[(when >= start) & (when < end)]
            if len(b):
                ts = b["period"].dt.to_timestamp()
                bw = b[(ts >= start) & (ts < end)]
            else:
                bw = b
            if pw.empty and bw.empty:
                continue
            sub = PaymentData(payments=pw.reset_index(drop=True),
                              bills=bw.reset_index(drop=True),
                              customers=data.customers)
            as_of = end - pd.Timedelta(days=1)
            if len(pw):
                as_of = max(as_of, pw["paid_at"].max().normalize())
            X = build(sub, as_of=as_of)
            # Only customers active in the window: no payment and no bill, no label.
            active = pd.Index(pw["customer_id"]).union(pd.Index(bw["customer_id"]))
            out[label] = X.loc[X.index.isin(active)]
            spans[label] = (start, end)
        self._spans = spans
        return out

    def fit(self, data, y=None):
        """Segment every window and count the transitions.

        Parameters
        ----------
        data : PaymentData or mapping of window label -> feature DataFrame
            PaymentData is cut into windows of ``window_months`` and featurised per
            window; a mapping (ordered oldest first) gives the feature tables
            directly.
        y : ignored

        Returns
        -------
        self
        """
        if not hasattr(self.model, "predict"):
            raise TypeError(
                f"model must have a predict(X) method (e.g. a fitted "
                f"payseg.Segmenter), got {type(self.model).__name__}"
            )
        self._spans = {}
        tables = (dict(data) if isinstance(data, Mapping)
                  else self._window_features(data))
        if len(tables) < 1:
            raise ValueError("Migration.fit: no window with data")
        cols = {}
        for label, X in tables.items():
            pred = self.model.predict(_align(X, self.model))
            cols[label] = pd.Series(np.asarray(pred, dtype=object), index=X.index)
        labels = pd.DataFrame(cols)
        labels.index.name = "customer_id"
        labels.columns.name = "window"
        if self.names is not None:
            mapping = dict(self.names)
            labels = labels.apply(lambda c: c.map(lambda v: mapping.get(v, v)))
        self.labels_ = labels
        self.windows_ = pd.DataFrame(
            {
                "start": [self._spans.get(w, (pd.NaT, pd.NaT))[0] for w in labels],
                "end": [self._spans.get(w, (pd.NaT, pd.NaT))[1] for w in labels],
                "customers": labels.notna().sum().to_numpy(),
            },
            index=pd.Index(labels.columns, name="window"),
        )
        pairs = []
        wins = list(labels.columns)
        for a, b in zip(wins[:-1], wins[1:]):  # loop over window pairs
            both = labels[[a, b]].dropna()
            pairs.append(pd.DataFrame({
                "customer_id": both.index, "from_window": a, "to_window": b,
                "from_segment": both[a].to_numpy(), "to_segment": both[b].to_numpy(),
            }))
        obs = (pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(
            columns=["customer_id", "from_window", "to_window", "from_segment",
                     "to_segment"]))
        segs = sorted(pd.unique(labels.stack().dropna().to_numpy()), key=str)
        self.transitions_ = (
            pd.crosstab(obs["from_segment"], obs["to_segment"])
            .reindex(index=segs, columns=segs, fill_value=0)
            .rename_axis(index="from", columns="to")
            if len(obs) else
            pd.DataFrame(0, index=pd.Index(segs, name="from"),
                         columns=pd.Index(segs, name="to"))
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


def plot_migration(result, *, ax=None, normalize=True, names=None, lang="auto"):
    """Heatmap of segment transitions (from rows to columns), annotated.

    A thin entry point to :func:`payseg.plot.plot_migration` (one drawing code for
    the report and for this module), taking a fitted :class:`Migration`.

    Parameters
    ----------
    result : Migration or DataFrame
        A fitted :class:`Migration` or a transition-count matrix.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    normalize : bool, default True
        Colour by row share (where each segment's customers went) instead of counts.
    names : Series or mapping, optional
        Segment id -> display name.
    lang : {"auto", "zh", "en"}, default "auto"
        Label language (Chinese when a CJK font is installed, with "auto").

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> m = pd.DataFrame([[8, 2], [1, 9]], index=["ok", "late"],
    ...                  columns=["ok", "late"])
    >>> ax = plot_migration(m, lang="en")
    >>> [t.get_text() for t in ax.texts][:2]
    ['80%\\n8', '20%\\n2']
    """
    from ..plot import plot_migration as _plot

    if isinstance(result, Migration):
        check_fitted(result, "transitions_")
    return _plot(result, normalize=normalize, names=names, lang=lang, ax=ax)
