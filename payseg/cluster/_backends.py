"""Clustering back-ends behind one small interface.

Every back-end works on the preprocessed matrix ``Z`` and offers ``fit(Z, k, seed)``
returning labels, ``predict``, ``predict_proba`` and ``transform`` (distances to the
segment centroids in ``Z`` space). Back-ends without a native soft assignment use a
softmax of the negative centroid distances, scaled by the mean distance of the
training customers to their own centroid (the "temperature"), so the probabilities
do not depend on the units of ``Z``.
"""

from __future__ import annotations

import numbers
from contextlib import ExitStack, nullcontext

import numpy as np
from sklearn import config_context
from sklearn.base import clone
from sklearn.cluster import AgglomerativeClustering, KMeans, MiniBatchKMeans
from sklearn.metrics import pairwise_distances_argmin_min
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.mixture import GaussianMixture

from .._schema import NOISE
from ._preprocess import SegmentInputError

#: Up to this many rows, BLAS/OpenMP run on one thread: thread start-up and
#: spin-waiting cost more than they save on small matrices, and far more on a busy
#: machine (k-means on 3,000 rows ran 20x slower with two contended threads).
SINGLE_THREAD_BELOW = 50_000


def limit_threads(n_rows: int):
    """Context manager: one BLAS/OpenMP thread for small inputs, default otherwise."""
    if n_rows <= SINGLE_THREAD_BELOW:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1)
    return nullcontext()


def numpy_context(n_rows: int) -> ExitStack:
    """Context manager for the Segmenter's computations on its numpy matrices.

    :func:`limit_threads`, and scikit-learn's array API dispatch off: the
    Segmenter converts every input to numpy, and some back-ends refuse to run with
    dispatch on (GaussianMixture's k-means initialisation), so a user's global
    ``sklearn.set_config(array_api_dispatch=True)`` must not reach them.
    """
    stack = ExitStack()
    stack.enter_context(limit_threads(n_rows))
    stack.enter_context(config_context(array_api_dispatch=False))
    return stack


#: Label of customers a density back-end (hdbscan, or an instance such as DBSCAN)
#: leaves unassigned. Kept as -1, as in hdbscan and scikit-learn, so that it never
#: collides with a segment id (segments are numbered 0..k-1).


def _softmax_neg(d: np.ndarray, temperature: float) -> np.ndarray:
    logits = -d / max(temperature, 1e-12)
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


class Backend:
    """Base back-end: nearest-centroid prediction and distance-based probabilities."""

    name = "base"
    #: whether the number of segments is a parameter (False: the method finds it)
    takes_k = True
    #: how many customers the method can fit on; the rest get ``predict``
    max_fit_samples: int | None = None

    def __init__(self, params=None):
        params = dict(params or {})
        # payseg's own keys, not passed to the estimator
        self.max_fit = params.pop("max_fit_samples", self.max_fit_samples)
        self.categorical = params.pop("categorical", None)
        self.params = params

    # -- to implement ------------------------------------------------------------
    def _fit(self, Z, k, seed, init=None):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------
    def fit(self, Z, k, seed, init=None):
        """Fit on ``Z`` and return the labels of its rows."""
        labels = np.asarray(self._fit(Z, k, seed, init=init), dtype=np.int64)
        self._set_centers(Z, labels)
        return labels

    def _set_centers(self, Z, labels):
        # all noise is a result, not an error (as in scikit-learn's HDBSCAN): no
        # segment, no centroid; predict then gives NOISE and transform 0 columns
        ids = np.unique(labels[labels != NOISE])
        self.segment_ids_ = ids
        inv = np.searchsorted(ids, labels[labels != NOISE])
        Zk = Z[labels != NOISE]
        counts = np.bincount(inv, minlength=ids.size).astype(float)
        sums = np.zeros((ids.size, Z.shape[1]))
        np.add.at(sums, inv, Zk)
        self.centers_ = sums / counts[:, None]
        own = np.sqrt(((Zk - self.centers_[inv]) ** 2).sum(axis=1))
        self.temperature_ = float(own.mean()) if own.size else 1.0

    @property
    def all_noise(self) -> bool:
        """True when the fit found no segment (every customer is NOISE)."""
        return self.segment_ids_.size == 0

    def predict(self, Z):
        if self.all_noise:
            return np.full(Z.shape[0], NOISE, dtype=np.int64)
        idx, _ = pairwise_distances_argmin_min(Z, self.centers_)
        return self.segment_ids_[idx]

    def transform(self, Z):
        if self.all_noise:
            return np.zeros((Z.shape[0], 0))
        return euclidean_distances(Z, self.centers_)

    def predict_proba(self, Z):
        if self.all_noise:
            return np.zeros((Z.shape[0], 0))
        return _softmax_neg(self.transform(Z), self.temperature_)

    def extra_scores(self, Z):
        """Method-specific model-selection scores for k (e.g. BIC)."""
        return {}


class KMeansBackend(Backend):
    name = "kmeans"
    estimator_class = KMeans
    defaults = {"n_init": 10}

    def _fit(self, Z, k, seed, init=None):
        params = {**self.defaults, **self.params}
        if init is not None:
            # the final fit on all customers starts from the centroids found on the
            # subsample, so one run is enough
            params.update(init=init, n_init=1)
        self.estimator_ = self.estimator_class(
            n_clusters=k, random_state=seed, **params
        ).fit(Z)
        return self.estimator_.labels_

    def predict(self, Z):
        return self.estimator_.predict(Z).astype(np.int64)


class MiniBatchKMeansBackend(KMeansBackend):
    name = "minibatch_kmeans"
    estimator_class = MiniBatchKMeans
    defaults = {"n_init": 3, "batch_size": 4096}


class GMMBackend(Backend):
    name = "gmm"
    # a little more covariance regularisation than sklearn's default: the imputer's
    # 0/1 indicator columns make full covariances nearly singular
    defaults = {"covariance_type": "full", "reg_covar": 1e-3}

    def _fit(self, Z, k, seed, init=None):
        params = {**self.defaults, **self.params}
        if init is not None and "means_init" not in self.params:
            params["means_init"] = init
        self.estimator_ = GaussianMixture(
            n_components=k, random_state=seed, **params
        ).fit(Z)
        return self.estimator_.predict(Z)

    def predict(self, Z):
        return self.estimator_.predict(Z).astype(np.int64)

    def predict_proba(self, Z):
        return self.estimator_.predict_proba(Z)

    def extra_scores(self, Z):
        return {"bic": float(self.estimator_.bic(Z))}


class AgglomerativeBackend(Backend):
    """Ward linkage; new customers go to the nearest segment centroid."""

    name = "agglomerative"
    # Ward needs O(n^2) memory: fit on at most this many customers
    max_fit_samples = 20_000

    def _fit(self, Z, k, seed, init=None):
        params = {"linkage": "ward", **self.params}
        self.estimator_ = AgglomerativeClustering(n_clusters=k, **params).fit(Z)
        return self.estimator_.labels_


class HDBSCANBackend(Backend):
    """The hdbscan package, with prediction data for new customers.

    Noise is labelled :data:`NOISE`. ``predict`` uses ``hdbscan.approximate_predict``
    and ``predict_proba`` the soft-clustering ``hdbscan.membership_vector``.
    """

    name = "hdbscan"
    takes_k = False
    max_fit_samples = 50_000

    def _fit(self, Z, k, seed, init=None):
        import hdbscan

        params = {
            "min_cluster_size": max(10, Z.shape[0] // 100),
            "core_dist_n_jobs": 1,
            **self.params,
        }
        params["prediction_data"] = True
        # hdbscan's own error for too few points names neither parameter nor fix
        mcs = params["min_cluster_size"]
        ms = params.get("min_samples") or mcs
        sizes = [v for v in (mcs, ms) if isinstance(v, numbers.Real)]
        need = int(max(sizes)) if sizes else 0
        if Z.shape[0] < need:
            raise SegmentInputError(
                f"method='hdbscan' needs at least {need} customers here "
                f"(min_cluster_size={mcs}, min_samples={ms}: a segment has at least "
                f"min_cluster_size customers); got {Z.shape[0]}. Pass "
                f"method_params={{'min_cluster_size': m}} with 2 <= m <= "
                f"{Z.shape[0]}, use method='kmeans', or segment more customers."
            )
        self.estimator_ = hdbscan.HDBSCAN(**params).fit(Z)
        return self.estimator_.labels_

    def predict(self, Z):
        if self.all_noise:
            return super().predict(Z)
        import hdbscan

        labels, _ = hdbscan.approximate_predict(self.estimator_, Z)
        return np.asarray(labels, dtype=np.int64)

    def predict_proba(self, Z):
        if self.all_noise:
            return super().predict_proba(Z)
        import hdbscan

        p = np.asarray(hdbscan.membership_vector(self.estimator_, Z), dtype=float)
        p = p.reshape(Z.shape[0], -1)
        # hdbscan numbers its clusters 0..m-1 exactly like segment_ids_; rows of noise
        # points still get a soft membership
        s = p.sum(axis=1, keepdims=True)
        return np.divide(p, s, out=np.full_like(p, 1 / p.shape[1]), where=s > 0)


class KPrototypesBackend(Backend):
    """k-prototypes (the kmodes package): numeric features plus categorical codes.

    The categorical columns are appended to ``Z`` as integer codes by the Segmenter
    (``n_categorical`` last columns). Distances are squared Euclidean on the numeric
    part plus ``gamma`` times the number of mismatching categories, as in kmodes.
    """

    name = "kprototypes"
    max_fit_samples = 20_000

    def __init__(self, params=None, n_categorical=1):
        super().__init__(params)
        self.n_categorical = n_categorical

    def _split(self, Z):
        c = self.n_categorical
        return Z[:, :-c], Z[:, -c:]

    def _fit(self, Z, k, seed, init=None):
        try:
            from kmodes.kprototypes import KPrototypes
        except ImportError as exc:  # optional dependency
            raise ImportError(
                "method='kprototypes' needs the kmodes package: pip install kmodes"
            ) from exc

        params = {"n_init": 2, "n_jobs": 1, **self.params}
        p = Z.shape[1]
        cat = list(range(p - self.n_categorical, p))
        self.estimator_ = KPrototypes(n_clusters=k, random_state=seed, **params)
        return self.estimator_.fit_predict(Z, categorical=cat)

    def _set_centers(self, Z, labels):
        num, _ = self._split(Z)
        super()._set_centers(num, labels)
        cents = np.asarray(self.estimator_.cluster_centroids_, dtype=float)
        self.centers_ = cents[:, : num.shape[1]]
        self.modes_ = cents[:, num.shape[1] :]
        self.gamma_ = float(self.estimator_.gamma)

    def transform(self, Z):
        num, cat = self._split(Z)
        d2 = euclidean_distances(num, self.centers_, squared=True)
        d2 += self.gamma_ * (cat[:, None, :] != self.modes_[None]).sum(axis=2)
        return np.sqrt(d2)

    def predict(self, Z):
        return self.segment_ids_[self.transform(Z).argmin(axis=1)]


class EstimatorBackend(Backend):
    """Any scikit-learn clusterer instance, cloned before each fit.

    ``n_clusters`` (or ``n_components``) is set when the estimator has it; its own
    ``predict``/``predict_proba`` are used when present, else nearest centroid and
    distance softmax.
    """

    def __init__(self, estimator, params=None):
        super().__init__(params)
        self.estimator = estimator
        self.name = type(estimator).__name__
        names = estimator.get_params(deep=False)
        self._k_param = next(
            (p for p in ("n_clusters", "n_components") if p in names), None
        )
        self.takes_k = self._k_param is not None
        self._has_seed = "random_state" in names

    def _fit(self, Z, k, seed, init=None):
        est = clone(self.estimator)
        if self.params:
            est.set_params(**self.params)
        if self._k_param is not None and k is not None:
            est.set_params(**{self._k_param: k})
        if self._has_seed and est.get_params()["random_state"] is None:
            est.set_params(random_state=seed)
        if hasattr(est, "fit_predict"):
            labels = est.fit_predict(Z)
        else:
            labels = est.fit(Z).predict(Z)
        self.estimator_ = est
        return labels

    def predict(self, Z):
        if hasattr(self.estimator_, "predict"):
            return np.asarray(self.estimator_.predict(Z), dtype=np.int64)
        return super().predict(Z)

    def predict_proba(self, Z):
        if hasattr(self.estimator_, "predict_proba"):
            return self.estimator_.predict_proba(Z)
        return super().predict_proba(Z)


BACKENDS = {
    "agglomerative": AgglomerativeBackend,
    "gmm": GMMBackend,
    "hdbscan": HDBSCANBackend,
    "kmeans": KMeansBackend,
    "kprototypes": KPrototypesBackend,
    "minibatch_kmeans": MiniBatchKMeansBackend,
}


def make_backend(method, params, n_categorical=0) -> Backend:
    """Return a fresh back-end for ``method`` (a name or a clusterer instance)."""
    # ``method`` was validated by the Segmenter's _parameter_constraints
    params = dict(params or {})
    if not isinstance(method, str):
        return EstimatorBackend(method, params)
    if method == "kprototypes":
        return KPrototypesBackend(params, n_categorical=max(n_categorical, 1))
    return BACKENDS[method](params)
