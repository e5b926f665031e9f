"""Input checks and the preprocessing pipeline of the Segmenter.

The feature table from :func:`payseg.build_features` holds NaN where a feature is
undefined (no bills for a prepaid customer, no top-ups for a postpaid one) and
heavy-tailed money columns. Preprocessing is a plain scikit-learn Pipeline so that it
can be inspected, reused and saved: median imputation plus 0/1 indicator columns (the
"was missing" pattern is itself a signal, e.g. prepaid vs postpaid), a scaler, and an
optional PCA.
"""

from __future__ import annotations

import difflib
import warnings
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    clone,
)
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import Interval, _fit_context, validate_data

SCALERS = ("robust", "standard", "none")

#: Column prefixes of the per-channel shares of payseg.build_features.

# The default feature set for a payseg feature table: *how* and *when* a customer pays
# (timing, channel families, top-up rhythm, arrears pattern) rather than how much or
# for how long. Money totals and tenure are heavy-tailed and vary within every
# archetype; the per-channel shares duplicate the channel families at a finer grain
# and would split one behaviour by favourite app. Columns missing from X are ignored.
# Left out because, on planted data, they split one behaviour in two more than they
# separate two (see the quality table in docs/performance.md): recency_days and
# pay_count_per_year depend on where the extract ends (a deadline payer has or has not
# paid this month yet; the count is per calendar year touched), channel_entropy
# flips with one odd payment, topup_amount_mean is the bill size for postpaid
# customers and topup_interval_cv its noise. The top-up rhythm (topup_interval_mean,
# topups_per_month) and unpaid_share keep what they carry.
# 0.3 (issue 16, the field scenario of benchmarks/bench_field.py, tuned on seeds 0
# and 1): delay_days_mean, delay_days_p90 and delay_days_std left out (days from
# *issue* depend on each district's billing calendar, and a failed-debit fallback
# payer's spread is in fallback_share); cycle_months left out (it tells the export
# system, not the behaviour); added payments_per_cycle, fallback_share and
# lump_share (the billing-cycle family). channel_shift (counter-loyal payers vs
# counter-to-app migrators) helps the field scenario but makes automatic k merge
# the UK archetypes (k 5 for 8), as top_channel_share does: it is above 0 for 40%
# of the steady UK customers (its noise correction is an average, not a test), a
# continuum the robust scaler spreads over two units. Added instead:
# channel_migration, the change in online share at a CUSUM change point, kept only
# past the 5% point of the no-change statistic, so it is exactly 0 for about 99% of
# the default and UK customers and non-zero for 83% of the field migrators.
# 0.3.0 (issue 16): amount_per_year joined, through LowUseShortfall only: vacant and
# seasonal homes pay about 5% of the usual yearly amount and shared a segment with
# catch-up payers. As a plain scaled column (log or not) it lowered the tuning ARI
# and automatic k (docs/performance.md, "Amount features ... tried, not kept").
#: The money column of the default set. With the default set it is not scaled like the
#: others but replaced by its one-sided shortfall (:class:`LowUseShortfall`): a home
#: paying a fraction of the usual yearly amount (vacant or seasonal) stands apart,
#: while bill size above that never splits a behaviour (0.3.0, issue 16).
LOW_USE_COLUMN = "amount_per_year"

DEFAULT_FEATURES = (
    # timing
    "delay_days_median",
    "days_to_due_mean",
    "late_share",
    "unpaid_share",
    "pay_day_regularity",
    "payments_per_bill",
    # channel families
    "online_share",
    "self_service_share",
    "automatic_share",
    "prepaid_share",
    "counter_share",
    "agent_share",
    "channel_migration",
    # arrears
    "max_months_in_arrears",
    # prepaid
    "topup_interval_mean",
    "topups_per_month",
    # billing cycle
    "payments_per_cycle",
    "fallback_share",
    "lump_share",
    # money: only its low tail (LowUseShortfall), so it must stay the last column
    LOW_USE_COLUMN,
)


class SegmentInputError(ValueError):
    """Raised for a feature table the Segmenter cannot use; the message says the fix."""


def _names(columns) -> list[str]:
    return [str(c) for c in columns]


def select_columns(X: pd.DataFrame, features, categorical=()) -> list[str]:
    """Return the numeric feature columns the Segmenter will use.

    ``features=None`` takes the payseg default set when X looks like a payseg feature
    table (at least three of its columns), else every column. A list is taken as
    given. Non-numeric columns are an error unless left out or listed in
    ``categorical`` (k-prototypes).
    """
    columns = _names(X.columns)
    categorical = list(categorical)
    if features is None:
        known = [c for c in DEFAULT_FEATURES if c in columns]
        if len(known) >= 3:
            chosen = known
        else:
            chosen = [c for c in columns if c not in categorical]
    else:
        if isinstance(features, str):
            features = [features]
        chosen = [str(c) for c in features]
        if not chosen:
            raise SegmentInputError(
                "features=[] selects no column; pass None for the default set or a "
                "list of column names."
            )
        missing = [c for c in chosen if c not in columns]
        if missing:
            raise SegmentInputError(
                f"features names {len(missing)} column(s) not in X: {missing[:10]}"
                f"{_did_you_mean(missing, columns)}; X has {len(columns)} columns."
            )
    frame = X.set_axis(columns, axis=1)
    # bool columns count as 0/1; text, categories, dates and complex are rejected
    bad = [
        c
        for c in chosen
        if not pd.api.types.is_numeric_dtype(frame[c])
        or pd.api.types.is_complex_dtype(frame[c])
    ]
    if bad:
        kinds = ", ".join(f"{c!r} ({frame[c].dtype})" for c in bad[:10])
        raise SegmentInputError(
            f"{len(bad)} non-numeric feature column(s): {kinds}. Leave them out with "
            "features=[...] (numeric columns only), encode them as numbers, or list "
            "them in method_params={'categorical': [...]} with method='kprototypes'."
        )
    return chosen


def _did_you_mean(missing, columns) -> str:
    hints = []
    for name in missing[:5]:
        close = difflib.get_close_matches(name, columns, n=1)
        if close:
            hints.append(f"{name!r} -> {close[0]!r}")
    return f" (did you mean {', '.join(hints)}?)" if hints else ""


def column_difference(expected, found) -> str:
    """Describe how two column lists differ, for predict/transform errors."""
    expected, found = list(expected), list(found)
    missing = [c for c in expected if c not in set(found)]
    extra = [c for c in found if c not in set(expected)]
    parts = []
    if missing:
        parts.append(f"missing {missing[:10]}{' ...' if len(missing) > 10 else ''}")
    if extra:
        parts.append(f"not seen at fit {extra[:10]}{' ...' if len(extra) > 10 else ''}")
    diff = "; ".join(parts)
    return diff + _did_you_mean(missing, extra)


def check_finite(arr: np.ndarray, names, index=None) -> None:
    """Raise :class:`SegmentInputError` for inf or -inf in the used columns,
    naming each column with its number of rows (before scikit-learn sees them)."""
    bad = np.isinf(arr)
    if not bad.any():
        return
    cols = np.flatnonzero(bad.any(axis=0))
    rows = bad.any(axis=1)
    named = ", ".join(f"{names[j]!s} ({int(bad[:, j].sum()):,} row(s))" for j in cols)
    where = ""
    if index is not None:
        ids = [str(i) for i in index[rows][:5]]
        where = f" (customers {', '.join(ids)}{', ...' if rows.sum() > 5 else ''})"
    raise SegmentInputError(
        f"X holds inf or -inf in {len(cols)} column(s): {named}; "
        f"{int(rows.sum()):,} row(s) in all{where}. Features must be finite numbers "
        "or NaN (missing, imputed by the Segmenter): replace them, e.g. "
        "X.replace([np.inf, -np.inf], np.nan), or fix how the table was built."
    )


def check_informative(X: np.ndarray, names, explicit: bool) -> None:
    """Refuse all-NaN or constant columns the user asked for, or an inert table.

    With the default feature set such columns are harmless (the imputer drops all-NaN
    columns, the scaler maps constants to 0), so they are only an error when named
    explicitly in ``features=`` or when no column varies at all.
    """
    if X.shape[1] == 0:
        raise SegmentInputError(
            "the feature table has no columns; pass the output of "
            "payseg.build_features or a numeric table."
        )
    all_nan = np.isnan(X).all(axis=0)
    with np.errstate(invalid="ignore"):
        lo = np.where(all_nan, 0.0, np.nanmin(np.where(all_nan[None], 0.0, X), axis=0))
        hi = np.where(all_nan, 0.0, np.nanmax(np.where(all_nan[None], 0.0, X), axis=0))
    constant = ~all_nan & (lo == hi)
    names = list(names)
    if explicit and (all_nan.any() or constant.any()):
        parts = []
        if all_nan.any():
            parts.append(f"all-NaN: {[n for n, b in zip(names, all_nan) if b][:10]}")
        if constant.any():
            parts.append(f"constant: {[n for n, b in zip(names, constant) if b][:10]}")
        raise SegmentInputError(
            f"feature column(s) carry no information ({'; '.join(parts)}); remove "
            "them from features=[...] or check how the feature table was built."
        )
    if (all_nan | constant).all():
        raise SegmentInputError(
            "every feature column is all-NaN or constant, so there is nothing to "
            "segment on; check the feature table (e.g. payments without dates)."
        )


class ClippedRobustScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Centre on the median, scale by a robust spread that never collapses.

    The scale is the largest of three quantile-based estimates of the standard
    deviation (each equal to it for normal data): ``IQR / 1.349``,
    ``(p95 - p5) / 3.290`` and ``(p99 - p1) / 4.653``; then the std, then 1.

    Why not scikit-learn's RobustScaler: payment-behaviour columns often have a
    dense bulk and a distinct minority (``late_share`` is 0 for most customers and
    near 1 for chronic late payers; ``topup_interval_mean`` is ~30 days for every
    postpaid customer). Their IQR is 0 or tiny, so an IQR scale either leaves the
    column in raw units or blows the minority up to dozens of units, and k-means then
    spends its segments splitting that minority. The wider quantile ranges measure
    the spread between bulk and minority instead, while the 1% tails still cannot
    set the scale. Scaled values are clipped to ``[-clip, clip]`` so a handful of
    extreme customers cannot pull a centroid of their own.

    Parameters
    ----------
    clip : float > 0 or None, default=2.0
        Bound on the absolute scaled value; None keeps the values as they are.
        NaN passes through (fit ignores it, transform keeps it).

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Column medians.
    scale_ : ndarray of shape (n_features,)
        Column scales.

    Examples
    --------
    >>> import numpy as np
    >>> from payseg.cluster import ClippedRobustScaler
    >>> X = np.r_[np.zeros(90), np.ones(10)].reshape(-1, 1)   # IQR is 0
    >>> sc = ClippedRobustScaler(clip=None).fit(X)
    >>> sc.transform([[0.0], [1.0]]).round(2).ravel().tolist()
    [0.0, 3.29]
    >>> ClippedRobustScaler().fit(X).transform([[1.0]]).item()
    2.0
    """

    _parameter_constraints: dict = {
        "clip": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, *, clip=2.0):
        self.clip = clip

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the medians and scales (NaN ignored)."""
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        with warnings.catch_warnings():
            # all-NaN columns: nan statistics, replaced below
            warnings.simplefilter("ignore", RuntimeWarning)
            self.center_ = np.nan_to_num(np.nanmedian(X, axis=0))
            q = np.nan_to_num(np.nanpercentile(X, [1, 5, 25, 75, 95, 99], axis=0))
            std = np.nan_to_num(np.nanstd(X, axis=0))
        scale = np.maximum.reduce(
            [(q[3] - q[2]) / 1.349, (q[4] - q[1]) / 3.290, (q[5] - q[0]) / 4.653]
        )
        scale = np.where(scale > 0, scale, std)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, X):
        """Centre, scale and clip."""
        check_is_fitted(self)
        X = validate_data(
            self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False
        )
        Z = (X - self.center_) / self.scale_
        if self.clip is not None:
            np.clip(Z, -self.clip, self.clip, out=Z)
        return Z

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class LowUseShortfall(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """One money column as its one-sided shortfall below the usual amount, in log units.

    With ``m`` the median of ``log1p(max(x, 0))`` at fit, a value becomes
    ``-min(floor, slope * max(0, m - margin - log1p(max(x, 0))))``: exactly 0 for
    every customer paying at least ``exp(-margin)`` (37%) of the median amount, then
    falling by ``slope`` units per e-fold below that, down to ``-floor``. NaN gives 0
    (no evidence of low use; the "was missing" indicator column says it was NaN).

    Why: in the field scenario vacant and seasonal homes pay about 5% of the usual
    yearly amount, and nothing else tells them apart from catch-up or deadline
    payers of the same channel. A plainly scaled money column also spreads every
    other behaviour by bill size (consumption differs within every behaviour), and
    that lowered ARI and automatic k; a one-sided column is 0 for them. The floor is
    twice the clip bound of :class:`ClippedRobustScaler` (2): a nearly empty home is
    as far from an ordinary one on this column as the two extremes of any other
    column; 1.5 times it (3) left them merged on the tuning seeds (see
    docs/performance.md). The scale does not adapt to the data, so a population
    without low-use homes is not stretched over its 1% tail.

    Parameters
    ----------
    margin : float >= 0, default=1.0
        Log units below the median where the shortfall starts (1.0: 37% of it).
    slope : float > 0, default=3.5
        Units per log unit of shortfall.
    floor : float > 0, default=4.0
        Largest shortfall, in units.

    Attributes
    ----------
    median_ : ndarray of shape (n_features,)
        Median of ``log1p(max(x, 0))`` per column at fit (0 for an all-NaN column).

    Examples
    --------
    >>> import numpy as np
    >>> from payseg.cluster import LowUseShortfall
    >>> X = np.array([[900.0], [1000.0], [1100.0], [50.0], [np.nan]])
    >>> LowUseShortfall().fit(X).transform([[1000.0], [400.0], [300.0], [50.0]]).round(
    ...     2
    ... ).ravel().tolist()
    [0.0, 0.0, -0.52, -4.0]
    """

    _parameter_constraints: dict = {
        "margin": [Interval(Real, 0, None, closed="left")],
        "slope": [Interval(Real, 0, None, closed="neither")],
        "floor": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, *, margin=1.0, slope=3.5, floor=4.0):
        self.margin = margin
        self.slope = slope
        self.floor = floor

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the median log amount of each column (NaN ignored)."""
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column
            self.median_ = np.nan_to_num(
                np.nanmedian(np.log1p(np.maximum(X, 0.0)), axis=0)
            )
        return self

    def transform(self, X):
        """Shortfall below the usual amount; 0 at or above ``exp(-margin)`` of it."""
        check_is_fitted(self)
        X = validate_data(
            self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False
        )
        short = self.median_ - self.margin - np.log1p(np.maximum(X, 0.0))
        Z = -np.minimum(self.floor, self.slope * np.fmax(short, 0.0))
        Z[np.isnan(X)] = 0.0
        return Z + 0.0  # no -0.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def make_preprocessor(scaler: str, pca, random_state, low_use=None) -> Pipeline:
    """Build the unfitted preprocessing Pipeline.

    Median imputation and scaling of the values, side by side with 0/1 indicator
    columns of the features that had NaN at fit (what ``SimpleImputer(
    add_indicator=True)`` adds, but kept unscaled: a rare indicator scaled by its std
    would outweigh every behaviour column), then an optional PCA.

    ``low_use``: position of the last used column when it is to be taken through
    :class:`LowUseShortfall` instead of the imputer and scaler (the default feature
    set's ``amount_per_year``). It must be the last column, so that the output
    columns keep the order of the input ones.
    """
    if isinstance(scaler, str):
        scale = {
            "robust": ClippedRobustScaler(),
            "standard": StandardScaler(),
            "none": "passthrough",
        }[scaler]
    else:
        scale = clone(scaler)
    values = Pipeline(
        [
            # keep all-NaN columns (as 0) so the output width never depends on data
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", scale),
        ]
    )
    if low_use is not None:
        values = ColumnTransformer(
            [
                ("scaled", values, slice(0, low_use)),
                ("low_use", LowUseShortfall(), [low_use]),
            ]
        )
    steps = [
        (
            "features",
            FeatureUnion(
                [
                    ("values", values),
                    (
                        "missing",
                        MissingIndicator(features="missing-only", error_on_new=False),
                    ),
                ]
            ),
        )
    ]
    if pca is not None:
        steps.append(("pca", PCA(n_components=pca, random_state=random_state)))
    return Pipeline(steps)
