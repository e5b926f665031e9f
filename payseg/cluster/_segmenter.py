"""The Segmenter estimator."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from .._schema import CHANNEL_SHARE_PREFIX, NOISE
from .._sklearn_compat import (
    HasMethods,
    Interval,
    IntInterval,
    InvalidParameterError,
    RealNotInt,
    StrOptions,
    _fit_context,
    validate_data,
)
from ..exceptions import ModelFileError
from . import _backends, _persist, _preprocess, _select_k
from ._preprocess import SegmentInputError

#: With more than SUBSAMPLE_ABOVE * sample_size customers, k is chosen on a seeded
#: subsample of ``sample_size`` customers.
SUBSAMPLE_ABOVE = 2


class NoStructureWarning(UserWarning):
    """``n_clusters="auto"`` found no clear segment structure (see ``structure_``)."""


class NoFeatureWarning(UserWarning):
    """Rows of X without any usable feature value were labelled :data:`NOISE`.

    ``n_empty`` and ``n_rows`` give the counts (out of core, the buckets' warnings
    are summed into one).
    """

    n_empty: int = 0
    n_rows: int = 0


def _no_value_rows(arr: np.ndarray, step: str, stacklevel: int) -> np.ndarray:
    """Rows whose every used feature is NaN (warned about, with their number)."""
    empty = np.isnan(arr).all(axis=1) if arr.shape[1] else np.zeros(len(arr), bool)
    n = int(empty.sum())
    if n:
        doing = {
            "fit": f"left out of the fit and labelled {NOISE} (no segment)",
            "predict": f"labelled {NOISE} (no segment)",
        }.get(step, "given a row of NaN (no segment)")
        warning = NoFeatureWarning(
            f"Segmenter.{step}: {n:,} of {len(arr):,} rows have no usable feature "
            f"value (every used column is NaN: customers without payments or bills "
            f"up to as_of?); they are {doing}, not assigned. "
            "Check their payments and bills, or leave them out of X."
        )
        warning.n_empty, warning.n_rows = n, len(arr)
        warnings.warn(warning, stacklevel=stacklevel)
    return empty


def _n_rows(X) -> int:
    if hasattr(X, "shape"):
        return int(X.shape[0]) if len(X.shape) else 0
    if hasattr(X, "__len__"):
        return len(X)
    return int(np.asarray(X).shape[0])


class Segmenter(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """Segment customers from their payment-behaviour features.

    A scikit-learn style clusterer for the feature table of
    :func:`payseg.build_features` (DataFrame indexed by ``customer_id``, NaN allowed).
    Preprocessing (median imputation with missing-value indicators, scaling, optional
    PCA) is a scikit-learn Pipeline exposed as ``preprocessor_``. The clustering
    back-end is chosen by name or given as any scikit-learn clusterer instance, and
    the number of segments can be chosen automatically.

    Parameters
    ----------
    method : str or estimator, default="kmeans"
        ``"kmeans"``, ``"minibatch_kmeans"``, ``"gmm"`` (Gaussian mixture),
        ``"hdbscan"`` (density based, finds the number of segments itself and labels
        noise :data:`payseg.cluster.NOISE`), ``"agglomerative"`` (Ward linkage,
        fitted on at most 20,000 customers, the rest assigned to the nearest
        centroid), ``"kprototypes"`` (numeric features plus categorical columns, the
        dominant channel by default), or a scikit-learn clusterer instance (cloned;
        its ``n_clusters``/``n_components`` is set when it has one).
    n_clusters : int >= 1 or "auto", default="auto"
        Number of segments, or ``"auto"`` to score every k in ``k_range`` and pick
        one with ``selection``. Methods that find it themselves (hdbscan, an
        instance without ``n_clusters``) need ``"auto"``. A bool is refused.
    features : str, list of str or None, default=None
        Columns of X to segment on. None takes the behaviour columns of a payseg
        feature table (timing, channel families, arrears, top-up rhythm; see
        ``docs/segmenter.md``) when X is one, else every column. Every used column
        must be numeric.
    scaler : {"robust", "standard", "none"} or transformer, default="robust"
        ``"robust"`` is :class:`ClippedRobustScaler`: median centring, a robust
        spread that does not collapse for sparse columns, values winsorised at
        +-2 (why: see its docstring). ``"standard"`` is z-scores, ``"none"`` leaves
        the values; a transformer instance is cloned and used as the scaling step.
    k_range : tuple of int, default=(2, 12)
        Smallest and largest k tried by ``n_clusters="auto"`` (inclusive); a pair
        ``(k_min, k_max)`` with ``2 <= k_min <= k_max``. ``k_max + 1`` is also
        fitted, only for the gap rule to be able to stop at ``k_max``; it is
        never chosen and not in ``k_scores_``.
    selection : {"gap_parsimonious", "parsimonious", "silhouette", \
            "calinski_harabasz", "davies_bouldin", "bic", "gap", "elbow"}, \
            default="gap_parsimonious"
        Rule for ``n_clusters="auto"``: ``"gap_parsimonious"`` (the gap rule
        where the gap statistic levels off inside ``k_range``, else the
        parsimonious rule: see docs/segmenter.md), ``"parsimonious"`` (stepping
        down from the best silhouette's k, the smallest k reached while every
        silhouette is at least 95% of the best one: a segment split in two by
        noise barely moves the silhouette, so the largest value over-segments),
        ``"silhouette"`` (max; silhouettes are computed on at most 5,000
        customers), ``"calinski_harabasz"`` (max), ``"davies_bouldin"`` (min),
        ``"bic"`` (min, gmm only), ``"gap"`` (Tibshirani's one-standard-error
        rule) or ``"elbow"`` (the k where the within-segment dispersion log W_k
        bends most, from k = 1). Every score is computed either way and kept in
        ``k_scores_``. Whatever the rule, ``n_clusters="auto"`` also tests the
        data against uniform reference data (``structure_``).
    pca : int >= 1, float in (0, 1), "mle" or None, default=None
        Components kept by a final PCA step (a float keeps that share of
        variance, "mle" is Minka's estimate); None skips it.
    sample_size : int >= 100, default=10000
        When there are more than twice this many customers, k is chosen on a seeded
        subsample of this size; the final model is then fitted on everyone.
    method_params : dict or None, default=None
        Parameters passed to the back-end estimator (``{"n_init": 10}``,
        ``{"min_cluster_size": 50}``, ...). Two keys are payseg's own:
        ``max_fit_samples`` (fit-size cap of agglomerative, hdbscan, kprototypes)
        and ``categorical`` (kprototypes: columns of X used as categories).
    random_state : int, RandomState instance or None, default=None
        Seeds the subsample, the back-end and the gap-statistic references.

    Attributes
    ----------
    labels_ : Series or ndarray of shape (n_samples,)
        Segment of each customer (Series named ``"segment"`` indexed like X when X
        is a DataFrame); :data:`NOISE` for noise and for rows without any usable
        feature value, which are left out of the fit (:class:`NoFeatureWarning`).
    profiles_ : DataFrame
        One row per segment: ``size``, ``share``, ``median__<feature>`` and
        ``mean__<feature>`` of each used feature, and ``dominant_channel`` (argmax of
        the mean ``channel_share__*`` columns) when X has them.
    preprocessor_ : sklearn.pipeline.Pipeline
        The fitted preprocessing.
    n_clusters_ : int
        Number of segments found (noise not counted).
    k_scores_ : DataFrame or None
        Scores of every k tried by ``n_clusters="auto"`` (index k; columns
        silhouette, calinski_harabasz, davies_bouldin, bic, gap, gap_se).
    k_reason_ : str
        Why this number of segments.
    structure_ : dict or None
        The test of ``n_clusters="auto"`` against data with no segment structure
        (uniform in the box of the principal axes): ``structured``, ``k``,
        ``silhouette_excess``, ``gap_excess`` and ``reason`` (see
        ``docs/segmenter.md``). None when k was given or found by the method.
    null_scores_ : DataFrame or None
        The test by k (index k; columns silhouette, null_silhouette,
        silhouette_excess, gap_excess, log_w); None when not tested.
    no_structure_ : bool or None
        True when ``n_clusters="auto"`` found no clear segment structure; a
        :class:`NoStructureWarning` is then issued and ``k_reason_`` says so. The
        segments are still returned (k chosen by ``selection``), but they are cuts
        through a continuum, not distinct groups. None when not tested.
    n_features_in_ : int
        Number of columns of X seen at fit (all of them, used or not).
    feature_names_in_ : ndarray of str of shape (n_features_in_,)
        Names of the columns of X seen at fit (DataFrame input only).
    features_used_ : ndarray of str of shape (n_features_used,)
        The columns segmented on, chosen by ``features`` (see above): a subset of
        ``feature_names_in_``, or ``x0, x1, ...`` (every column) for array input.
        A DataFrame passed to ``predict``/``transform`` needs these columns only,
        in any order; an array needs all ``n_features_in_`` columns.
    segment_names_ : DataFrame or None
        Segment names stored in the model file by ``save(segment_names=...)`` and
        restored by :meth:`load` (index: segment id); None after ``fit``.

    Notes
    -----
    Parameters are checked at ``fit`` against ``_parameter_constraints`` (as in
    scikit-learn): a wrong value raises scikit-learn's ``InvalidParameterError``
    (a ``ValueError`` and ``TypeError``) naming the parameter, what it accepts and
    what it got. A feature table the Segmenter cannot use raises
    :class:`SegmentInputError` (a ``ValueError``).

    See Also
    --------
    payseg.cluster.stability : bootstrap stability of the segments.
    payseg.evaluate : agreement with a planted truth or another segmentation.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from payseg.cluster import Segmenter
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(
    ...     np.r_[rng.normal(0, 1, (60, 2)), rng.normal(8, 1, (60, 2))],
    ...     columns=["late_share", "online_share"],
    ...     index=pd.Index([f"c{i:03d}" for i in range(120)], name="customer_id"),
    ... )
    >>> seg = Segmenter(random_state=0).fit(X)
    >>> seg.n_clusters_
    2
    >>> seg.labels_.value_counts().sort_index().tolist()
    [60, 60]
    >>> seg.k_reason_.startswith("k=2:")
    True
    """

    _parameter_constraints: dict = {
        "method": [
            StrOptions(set(_backends.BACKENDS)),
            HasMethods(["fit", "get_params"]),
        ],
        "n_clusters": [IntInterval(1, None, closed="left"), StrOptions({"auto"})],
        "features": ["array-like", str, None],
        "scaler": [
            StrOptions(set(_preprocess.SCALERS)),
            HasMethods(["fit", "transform"]),
        ],
        # a pair (k_min, k_max) with 2 <= k_min <= k_max: checked in _check_params
        "k_range": [tuple, list],
        "selection": [StrOptions(set(_select_k.SELECTIONS))],
        "pca": [
            IntInterval(1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            StrOptions({"mle"}),
            None,
        ],
        "sample_size": [IntInterval(100, None, closed="left")],
        "method_params": [dict, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        method="kmeans",
        n_clusters="auto",
        features=None,
        scaler="robust",
        k_range=(2, 12),
        selection="gap_parsimonious",
        pca=None,
        sample_size=10_000,
        method_params=None,
        random_state=None,
    ):
        self.method = method
        self.n_clusters = n_clusters
        self.features = features
        self.scaler = scaler
        self.k_range = k_range
        self.selection = selection
        self.pca = pca
        self.sample_size = sample_size
        self.method_params = method_params
        self.random_state = random_state

    # -- validation -----------------------------------------------------------------
    def _check_params(self):
        """What _parameter_constraints cannot say: the k_range pair, bic vs method."""
        lo_hi = self.k_range
        if (
            len(lo_hi) != 2
            or not all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool)
                for v in lo_hi
            )
            or not 2 <= lo_hi[0] <= lo_hi[1]
        ):
            raise InvalidParameterError(
                "The 'k_range' parameter of Segmenter must be a pair (k_min, k_max) "
                f"of ints with 2 <= k_min <= k_max. Got {lo_hi!r} instead."
            )
        if self.selection == "bic" and self.method != "gmm":
            raise InvalidParameterError(
                "selection='bic' needs method='gmm'; use selection='parsimonious' "
                "for other methods."
            )

    def _categorical_columns(self, X):
        """kprototypes categories: named columns, or the dominant channel."""
        if self.method != "kprototypes":
            return [], None
        names = (self.method_params or {}).get("categorical")
        if names is not None:
            return list(names), None
        if isinstance(X, pd.DataFrame):
            shares = [c for c in X.columns if str(c).startswith(CHANNEL_SHARE_PREFIX)]
            if shares:
                return [], shares
        raise SegmentInputError(
            "method='kprototypes' needs categorical columns: pass "
            "method_params={'categorical': [...]} or channel_share__* columns."
        )

    def _categorical_codes(self, X, reset):
        """Integer codes (n, c) of the categorical columns, -1 for unseen values."""
        if isinstance(X, pd.DataFrame):
            X = X.set_axis([str(c) for c in X.columns], axis=1)
        if reset:
            self._cat_columns, self._cat_shares = self._categorical_columns(X)
        if self._cat_shares is not None:
            missing = [c for c in self._cat_shares if c not in X.columns]
            if missing:
                raise SegmentInputError(
                    f"X lacks channel share columns seen at fit: {missing[:10]}."
                )
            shares = X[self._cat_shares].fillna(0.0).to_numpy(float)
            values = np.asarray(self._cat_shares, dtype=object)[shares.argmax(axis=1)]
            frame = pd.DataFrame({"dominant_channel": values})
        else:
            if not isinstance(X, pd.DataFrame):
                raise SegmentInputError(
                    "method_params['categorical'] names columns, so X must be a "
                    "DataFrame."
                )
            missing = [c for c in self._cat_columns if c not in X.columns]
            if missing:
                raise SegmentInputError(f"categorical columns not in X: {missing}.")
            frame = X[self._cat_columns].astype(str).reset_index(drop=True)
        if reset:
            self._cat_levels = [
                np.unique(frame[c].to_numpy(str)) for c in frame.columns
            ]
        codes = np.empty((len(frame), frame.shape[1]))
        for j, (c, levels) in enumerate(zip(frame.columns, self._cat_levels)):
            v = frame[c].to_numpy(str)
            pos = np.searchsorted(levels, v).clip(0, len(levels) - 1)
            codes[:, j] = np.where(levels[pos] == v, pos, -1)
        return codes

    def _numeric(self, X, *, reset):
        """Check X, select the used columns and convert; returns (array, index).

        ``n_features_in_``/``feature_names_in_`` describe the whole of X, the columns
        segmented on are ``features_used_``. A DataFrame at predict needs only the
        used columns, in any order (as scikit-learn's ColumnTransformer); an array
        needs every column of fit, in order.
        """
        check = {
            "dtype": np.float64,
            "ensure_all_finite": "allow-nan",
            "ensure_min_samples": 1,
        }
        if not isinstance(X, pd.DataFrame):
            if reset and self.features is not None:
                raise SegmentInputError(
                    "features= names columns, so X must be a DataFrame; got "
                    f"{type(X).__name__}. Pass a DataFrame or leave features=None."
                )
            # inf is refused below, naming the columns, before scikit-learn sees it
            arr = validate_data(
                self, X, reset=reset, **{**check, "ensure_all_finite": False}
            )
            if reset:
                self.features_used_ = np.asarray(
                    [f"x{j}" for j in range(arr.shape[1])], dtype=object
                )
                self._used_idx = np.arange(arr.shape[1])
            arr = arr[:, self._used_idx]
            _preprocess.check_finite(arr, self.features_used_, None)
            return arr, None
        index = X.index
        X = X.set_axis([str(c) for c in X.columns], axis=1)
        if reset:
            # the names and width of the whole table; the values are checked below,
            # on the used columns only (others may be text)
            validate_data(self, X, reset=True, skip_check_array=True)
            cats = self._categorical_columns(X)[0]
            used = _preprocess.select_columns(X, self.features, cats)
            self.features_used_ = np.asarray(used, dtype=object)
            self._used_idx = X.columns.get_indexer(used)
        else:
            used = list(self.features_used_)
            names = list(X.columns)
            missing = [c for c in used if c not in set(names)]
            if missing:
                diff = _preprocess.column_difference(used, names)
                raise SegmentInputError(
                    f"X has columns that differ from fit: {diff}. Pass a table "
                    "built like the one used in fit (same payseg.build_features "
                    "families and channels)."
                )
        X = X[used]
        if _n_rows(X) and X.shape[1]:
            X = X.astype(float)
        check["ensure_all_finite"] = False  # inf: refused below, naming the column
        arr = check_array(X, input_name="X", estimator=self, **check)
        _preprocess.check_finite(arr, used, index)
        return arr, index

    def _empty_check(self, X):
        if isinstance(X, pd.DataFrame) and (_n_rows(X) == 0 or X.shape[1] == 0):
            raise SegmentInputError(
                f"the feature table is empty ({X.shape[0]} rows x {X.shape[1]} "
                "columns); build it with payseg.build_features(data) from data with "
                "payments."
            )

    # -- fit ------------------------------------------------------------------------
    # Not prefer_skip_nested_validation=True: method_params and the method / scaler
    # instances reach inner scikit-learn estimators unchecked by these constraints,
    # so the inner estimators must keep validating them (KMeans refuses n_init=0).
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the preprocessing and the clustering, choosing k if asked.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Feature table, one row per customer.
        y : None
            Ignored.

        Returns
        -------
        self : Segmenter
        """
        with _backends.numpy_context(_n_rows(X)):
            return self._fit(X)

    def _fit(self, X):
        self._check_params()
        self._empty_check(X)
        rng = check_random_state(self.random_state)
        arr, index = self._numeric(X, reset=True)
        names = list(self.features_used_)
        # Rows without any usable feature are not fed to the clusterer: NOISE.
        empty = _no_value_rows(arr, "fit", stacklevel=5)
        n_all, full_index = arr.shape[0], index
        if empty.any():
            keep = ~empty
            arr = arr[keep]
            index = None if index is None else index[keep]
            X = X.iloc[keep] if isinstance(X, pd.DataFrame) else np.asarray(X)[keep]
        n = arr.shape[0]
        if n < 2:
            raise SegmentInputError(
                f"n_samples={n}: {n} customer(s) with a usable feature value "
                f"({n_all} row(s) in X); need at least 2 customers to segment. "
                "Segment more customers."
            )
        _preprocess.check_informative(arr, names, explicit=self.features is not None)
        if isinstance(self.n_clusters, numbers.Integral) and n < self.n_clusters:
            raise SegmentInputError(
                f"n_samples={n} customers is fewer than n_clusters={self.n_clusters}; "
                "lower n_clusters or segment more customers."
            )

        seed = int(rng.randint(2**31 - 1))
        self.preprocessor_ = _preprocess.make_preprocessor(
            self.scaler, self.pca, seed, low_use=self._low_use_position(names)
        )
        Z = self.preprocessor_.fit_transform(arr)
        cats = None
        if self.method == "kprototypes":
            cats = self._categorical_codes(X, reset=True)
            Z = np.hstack([Z, cats])
        n_cat = 0 if cats is None else cats.shape[1]

        def new_backend():
            return _backends.make_backend(self.method, self.method_params, n_cat)

        backend = new_backend()
        # fit-size cap (Ward, hdbscan, kprototypes): fit on a sample, predict the rest
        fit_idx = None
        if backend.max_fit is not None and n > backend.max_fit:
            fit_idx = np.sort(rng.choice(n, backend.max_fit, replace=False))
        Zfit = Z if fit_idx is None else Z[fit_idx]

        self.k_scores_ = None
        self.structure_, self.no_structure_, self.null_scores_ = None, None, None
        init, done = None, None
        if not backend.takes_k:
            if self.n_clusters != "auto":
                raise InvalidParameterError(
                    f"method={backend.name!r} finds the number of segments itself; "
                    "pass n_clusters='auto' and tune it with method_params "
                    "(e.g. min_cluster_size)."
                )
            k = None
        elif self.n_clusters == "auto":
            k, init, done = self._choose_k(new_backend, Zfit, n_cat, rng, seed)
        else:
            k = int(self.n_clusters)
            self.k_reason_ = f"k={k}: n_clusters={k} was given."

        if done is not None:
            backend, labels = done
        else:
            labels = backend.fit(Zfit, k, seed, init=init)
        if fit_idx is not None:
            full = backend.predict(Z)
            full[fit_idx] = labels
            labels = full
        self._backend = backend
        self.n_clusters_ = int(backend.segment_ids_.size)
        if k is None:
            n_noise = int((labels == NOISE).sum())
            self.k_reason_ = (
                f"k={self.n_clusters_}: found by {backend.name} "
                f"({n_noise} customers left as noise, label {NOISE})."
            )
            if backend.all_noise:
                self.k_reason_ += (
                    " No segment: lower min_cluster_size in method_params or use "
                    "method='kmeans'."
                )
        self.segment_names_ = None
        self.profiles_ = self._profiles(X, arr, labels, names)
        if empty.any():
            full = np.full(n_all, NOISE, dtype=np.int64)
            full[~empty] = labels
            labels, index = full, full_index
        self.labels_ = self._wrap(labels, index)
        return self

    def _low_use_position(self, names):
        """Position of the default set's money column, taken through its low tail
        only (:class:`~payseg.cluster._preprocess.LowUseShortfall`), or None: only
        with the default set, where it is the last column."""
        default = _preprocess.DEFAULT_FEATURES
        if (
            self.features is None
            and len(names) > 1
            and names[-1] == _preprocess.LOW_USE_COLUMN
            and set(names) <= set(default)
        ):
            return len(names) - 1
        return None

    def _choose_k(self, new_backend, Z, n_cat, rng, seed):
        n = Z.shape[0]
        lo, hi = self.k_range
        if n > SUBSAMPLE_ABOVE * self.sample_size:
            idx = np.sort(rng.choice(n, self.sample_size, replace=False))
            Zs, note = Z[idx], f"a seeded sample of {self.sample_size:,} customers"
        else:
            Zs, note = Z, f"all {n:,} customers"
        ks = list(range(lo, min(hi, Zs.shape[0] - 1) + 1))
        if not ks:
            raise SegmentInputError(
                f"n_samples={n} customers is too few for k_range={self.k_range}; "
                "lower k_range or segment more customers."
            )
        # k_max + 1 is scored too, for the gap rule at k_max only (it compares each
        # k with the next); it is never chosen and not kept in k_scores_
        ahead = ks[-1] + 1 if ks[-1] == hi and hi + 1 < Zs.shape[0] else None
        with _backends.limit_threads(Zs.shape[0]):
            scores, fitted = _select_k.score_k(
                new_backend, Zs, ks + ([ahead] if ahead else []), seed, n_cat
            )
        if ahead is not None:
            attrs = dict(scores.attrs)
            attrs["gap_next"] = (
                float(scores.at[ahead, "gap"]),
                float(scores.at[ahead, "gap_se"]),
            )
            scores = scores.drop(index=ahead)
            scores.attrs = attrs
            del fitted[ahead]
        k, reason = _select_k.choose_k(scores, self.selection, note)
        self.structure_ = _select_k.structure_test(scores)
        self.null_scores_ = self.structure_.pop("table")
        self.k_scores_ = scores.drop(columns=_select_k.NULL_COLUMNS)
        self.no_structure_ = not self.structure_["structured"]
        if self.no_structure_:
            reason += (
                " No clear segment structure: "
                + self.structure_["reason"][len("no clear segment structure: ") :]
            )
            warnings.warn(
                f"{type(self).__name__}: {self.structure_['reason']} (k={k} "
                "segments returned anyway; see structure_).",
                NoStructureWarning,
                stacklevel=4,
            )
        self.k_reason_ = reason
        if Zs is Z:
            # k was chosen on everyone: keep that fit
            return k, None, fitted[k]
        init = None
        if self.method in ("kmeans", "minibatch_kmeans", "gmm"):
            init = fitted[k][0].centers_
        return k, init, None

    def _wrap(self, labels, index):
        labels = np.asarray(labels, dtype=np.int64)
        if index is None:
            return labels
        return pd.Series(labels, index=index, name="segment")

    def _profiles(self, X, arr, labels, names):
        frame = pd.DataFrame(arr, columns=names)
        groups = frame.groupby(labels, sort=True)
        size = groups.size()
        out = pd.DataFrame({"size": size, "share": size / len(labels)})
        med = groups.median().add_prefix("median__")
        mean = groups.mean().add_prefix("mean__")
        out = pd.concat([out, med, mean], axis=1)
        if isinstance(X, pd.DataFrame):
            shares = [c for c in X.columns if str(c).startswith(CHANNEL_SHARE_PREFIX)]
            if shares:
                s = X[shares].reset_index(drop=True).astype(float)
                m = s.groupby(labels, sort=True).mean()
                codes = [str(c)[len(CHANNEL_SHARE_PREFIX) :] for c in shares]
                out["dominant_channel"] = np.asarray(codes, dtype=object)[
                    np.nan_to_num(m.to_numpy(), nan=-1.0).argmax(axis=1)
                ]
        out.index = pd.Index(out.index.astype(np.int64), name="segment")
        return out

    # -- use ------------------------------------------------------------------------
    def _z(self, X, step: str | None = None):
        """Preprocessed X and its index; with ``step`` ("predict", ...) also the
        rows without any usable value (warned about)."""
        check_is_fitted(self, "preprocessor_")
        self._empty_check(X)
        arr, index = self._numeric(X, reset=False)
        Z = self.preprocessor_.transform(arr)
        if self.method == "kprototypes":
            Z = np.hstack([Z, self._categorical_codes(X, reset=False)])
        if step is None:
            return Z, index
        return Z, index, _no_value_rows(arr, step, stacklevel=4)

    def predict(self, X):
        """Assign customers to the fitted segments.

        hdbscan uses ``approximate_predict`` (noise is :data:`NOISE`); agglomerative
        and back-ends without ``predict`` use the nearest segment centroid. A row
        without any usable feature value (every used column NaN) gets
        :data:`NOISE`, never a segment, with a :class:`NoFeatureWarning` giving
        their number.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : Series or ndarray of shape (n_samples,)
        """
        with _backends.numpy_context(_n_rows(X)):
            Z, index, empty = self._z(X, "predict")
            labels = np.asarray(self._backend.predict(Z), dtype=np.int64)
            labels[empty] = NOISE
            return self._wrap(labels, index)

    def predict_proba(self, X):
        """Soft segment membership, one column per segment, rows summing to 1.

        The Gaussian mixture's posterior for ``gmm``, hdbscan's membership vectors
        for ``hdbscan``, the estimator's own ``predict_proba`` for instances that have
        one; otherwise ``softmax(-d / t)`` of the Euclidean distances ``d`` to the
        segment centroids in preprocessed space, with ``t`` the mean distance of the
        training customers to their own centroid.

        A row without any usable feature value (every used column NaN: a customer
        without payments or bills, ``customers["no_data"]`` of
        :func:`payseg.segment`) is a row of NaN, as :meth:`predict` labels it
        :data:`NOISE` rather than a segment; a :class:`NoFeatureWarning` gives their
        number.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : DataFrame or ndarray of shape (n_samples, n_clusters_)
        """
        with _backends.numpy_context(_n_rows(X)):
            Z, index, empty = self._z(X, "predict_proba")
            p = np.asarray(self._backend.predict_proba(Z), dtype=float)
            p[empty] = np.nan
        return self._wrap_matrix(p, index)

    def transform(self, X):
        """Euclidean distances to each segment centroid in preprocessed space.

        Columns are :meth:`get_feature_names_out` (``segmenter0``, ``segmenter1``,
        ...: the distance to segment 0, 1, ...); none when every customer is noise.
        A row without any usable feature value is a row of NaN (no distance to
        make up), with a :class:`NoFeatureWarning`, as in :meth:`predict_proba`.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        distances : DataFrame or ndarray of shape (n_samples, n_clusters_)
        """
        with _backends.numpy_context(_n_rows(X)):
            Z, index, empty = self._z(X, "transform")
            distances = np.array(self._backend.transform(Z), dtype=float)
            distances[empty] = np.nan
        return self._wrap_matrix(distances, index, self.get_feature_names_out())

    def _wrap_matrix(self, values, index, columns=None):
        if index is None:
            return values
        if columns is None:
            columns = pd.Index(
                self._backend.segment_ids_[: values.shape[1]], name="segment"
            )
        return pd.DataFrame(values, index=index, columns=columns)

    # -- persistence ----------------------------------------------------------------
    def save(self, path, *, segment_names=None):
        """Save the fitted Segmenter to ``path`` without pickle.

        The file is a zip of a JSON manifest (payseg version, feature names,
        parameters, segment names, sha256 of the payload) and a skops payload that
        loads without executing code. See :meth:`load`.

        Parameters
        ----------
        path : str or Path
        segment_names : DataFrame, Series or None, default=None
            Names of the segments (index: segment id, one column per kind of name,
            e.g. ``name_en`` and ``name_zh``), stored in the manifest and restored as
            ``segment_names_`` by :meth:`load`.
        """
        _persist.save(self, path, segment_names=segment_names)

    @classmethod
    def load(cls, path, *, trusted=None, max_bytes=None):
        """Load a Segmenter saved with :meth:`save`.

        The file is read as untrusted input: no code in it runs, every type it holds
        must be on the trust list, it is read within limits on size, member count
        and nesting (checked before anything is inflated or parsed), and the state
        loaded is checked against the parameters and fitted attributes, so a bad
        file fails here, not in ``predict``. See "Model files" in
        docs/segmenter.md.

        Parameters
        ----------
        path : str or Path
        trusted : list of str, optional
            Extra type names to trust, for a custom clusterer instance as
            ``method``; only pass types from a file you trust.
        max_bytes : int, optional
            Most bytes the file may inflate to (the file's members together, and
            the payload's members together); default
            ``payseg.cluster._modelzip.MAX_MODEL_BYTES`` (1 GiB). Raise it only for
            a genuine model this large from a source you trust.

        Returns
        -------
        Segmenter
            Fitted, with ``segment_names_`` set from the file (None when it was
            saved without names).

        Raises
        ------
        payseg.cluster.ModelFileError
            For every file that cannot be loaded: not a payseg model, damaged or
            modified since it was saved, over a limit, holding types outside the
            trusted list, or a state that is not a fitted Segmenter. The message
            names the file, what was found and the fix.
        TypeError
            When ``trusted`` is not a list of type names.

        Examples
        --------
        >>> import numpy as np, tempfile, pathlib
        >>> from payseg.cluster import Segmenter
        >>> X = np.r_[np.zeros((20, 2)), np.ones((20, 2))]
        >>> X += np.random.default_rng(0).normal(0, 0.1, X.shape)
        >>> seg = Segmenter(n_clusters=2, random_state=0).fit(X)
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.payseg"
        >>> seg.save(path)
        >>> bool((Segmenter.load(path).predict(X) == seg.predict(X)).all())
        True
        """
        manifest, state = _persist.load_state(
            path, trusted=trusted, max_bytes=max_bytes
        )
        seg = cls.__new__(cls)
        seg.__dict__.update(state)
        if "features_used_" not in state and "n_features_in_" in state:
            # written by payseg 0.1.0
            used = state.get("_features")
            if used is None:
                used = [f"x{j}" for j in range(int(seg.n_features_in_))]
            seg.features_used_ = np.asarray(used, dtype=object)
            seg._used_idx = np.arange(seg.features_used_.size)
        seg.__dict__.setdefault("structure_", None)  # before payseg 0.2.0
        seg.__dict__.setdefault("no_structure_", None)
        seg.__dict__.setdefault("null_scores_", None)
        if "segment_names" in manifest:
            try:
                names = _persist.names_from_json(manifest["segment_names"])
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
                raise ModelFileError(
                    f"{path}: the manifest's segment_names are not the table "
                    f"Segmenter.save() writes ({type(exc).__name__}: {exc}); re-save "
                    "the model from its source."
                ) from None
            seg.segment_names_ = names
        else:  # files written before the names moved to the manifest
            seg.segment_names_ = state.get("segment_names_")
        _persist.check_state(seg, manifest, path)
        _persist.warn_version(manifest, path)  # only about a model that loads
        return seg

    @property
    def _n_features_out(self):
        """Number of columns of :meth:`transform` (one per segment)."""
        return self._backend.centers_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
