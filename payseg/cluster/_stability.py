"""Bootstrap stability of a segmentation (Hennig's clusterboot, simplified)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._schema import NOISE
from .._sklearn_compat import HasMethods, IntInterval, validate_params


@dataclass
class StabilityResult:
    """Per-segment Jaccard and overall ARI across bootstrap refits.

    Attributes
    ----------
    jaccard : DataFrame
        One row per reference segment: ``mean``, ``min``, ``std`` of the best-match
        Jaccard similarity over the bootstrap refits, and ``dissolved`` (share of
        refits where the best match was below 0.5, Hennig's "dissolved" cut).
    boot_jaccard : DataFrame of shape (n_boot, n_segments)
        Best-match Jaccard of each segment in each refit.
    ari : Series of shape (n_boot,)
        Adjusted Rand index between the reference labels and each refit's labels,
        over all customers.
    """

    jaccard: pd.DataFrame
    boot_jaccard: pd.DataFrame
    ari: pd.Series

    @property
    def ari_mean(self) -> float:
        """Mean ARI over the refits."""
        return float(self.ari.mean())

    def summary(self) -> pd.DataFrame:
        """The per-segment table with the overall mean ARI as a last row."""
        out = self.jaccard.copy()
        out.loc["overall ARI", "mean"] = self.ari_mean
        out.loc["overall ARI", "min"] = float(self.ari.min())
        out.loc["overall ARI", "std"] = float(self.ari.std(ddof=0))
        return out

    def __repr__(self) -> str:
        return (
            f"StabilityResult(n_boot={len(self.ari)}, ari_mean={self.ari_mean:.3f}, "
            f"jaccard_mean={self.jaccard['mean'].round(3).to_dict()})"
        )


def _best_jaccard(ref: np.ndarray, boot: np.ndarray, segments: np.ndarray):
    """For each reference segment, the best Jaccard against any bootstrap segment."""
    _, b_inv = np.unique(boot, return_inverse=True)
    r_inv = np.searchsorted(segments, ref)
    keep = np.isin(ref, segments)
    table = np.zeros((segments.size, b_inv.max() + 1))
    np.add.at(table, (r_inv[keep], b_inv[keep]), 1)
    n_ref = np.bincount(r_inv[keep], minlength=segments.size)[:, None]
    n_boot = np.bincount(b_inv, minlength=table.shape[1])[None, :]
    union = n_ref + n_boot - table
    jac = np.divide(table, union, out=np.zeros_like(table), where=union > 0)
    return jac.max(axis=1)


@validate_params(
    {
        "segmenter": [HasMethods(["fit", "predict"])],
        "X": ["array-like"],
        "n_boot": [IntInterval(1, None, closed="left")],
        "random_state": ["random_state"],
    },
    # the segmenter validates its own parameters when it is fitted
    prefer_skip_nested_validation=False,
)
def stability(segmenter, X, n_boot=20, random_state=None):
    """Bootstrap stability of the segments of ``segmenter`` on ``X``.

    The reference labels are ``segmenter.predict(X)`` (the segmenter is fitted on X
    first if it is not fitted). Each of ``n_boot`` refits clones it with the
    reference number of segments fixed, fits on a bootstrap sample of the customers
    and predicts everyone. Per reference segment the best-match Jaccard similarity is
    taken on the customers in the bootstrap sample (Hennig 2007: mean Jaccard below
    0.5 means the segment dissolves, above 0.75 it is stable); the ARI compares all
    customers. Noise (:data:`NOISE`) is not a segment.

    Parameters
    ----------
    segmenter : Segmenter
        Fitted or not.
    X : DataFrame or array-like of shape (n_samples, n_features)
        The feature table.
    n_boot : int >= 1, default=20
        Number of bootstrap refits.
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap samples and the refits.

    Returns
    -------
    StabilityResult

    Examples
    --------
    >>> import numpy as np
    >>> from payseg.cluster import Segmenter, stability
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (80, 2)), rng.normal(9, 1, (80, 2))]
    >>> res = stability(Segmenter(n_clusters=2, random_state=0), X, n_boot=5,
    ...                 random_state=0)
    >>> res.ari_mean
    1.0
    >>> res.jaccard["mean"].round(2).tolist()
    [1.0, 1.0]
    """
    rng = check_random_state(random_state)
    try:
        check_is_fitted(segmenter, "preprocessor_")
        ref_model = segmenter
    except Exception:
        ref_model = clone(segmenter).fit(X)
    ref = np.asarray(ref_model.predict(X), dtype=np.int64)
    segments = np.unique(ref[ref != NOISE])
    n = ref.shape[0]
    fixed_k = ref_model._backend.takes_k
    rows, aris = [], []
    for _ in range(n_boot):
        idx = rng.randint(0, n, size=n)
        sample = X.iloc[idx] if isinstance(X, pd.DataFrame) else np.asarray(X)[idx]
        model = clone(ref_model)
        params = {"random_state": int(rng.randint(2**31 - 1))}
        if fixed_k:
            params["n_clusters"] = int(ref_model.n_clusters_)
        model.set_params(**params).fit(sample)
        pred = np.asarray(model.predict(X), dtype=np.int64)
        uniq = np.unique(idx)
        rows.append(_best_jaccard(ref[uniq], pred[uniq], segments))
        aris.append(adjusted_rand_score(ref, pred))
    boot = pd.DataFrame(rows, columns=pd.Index(segments, name="segment"))
    boot.index.name = "boot"
    jaccard = pd.DataFrame(
        {
            "mean": boot.mean(),
            "min": boot.min(),
            "std": boot.std(ddof=0),
            "dissolved": (boot < 0.5).mean(),
        }
    )
    ari = pd.Series(aris, name="ari", index=boot.index)
    return StabilityResult(jaccard=jaccard, boot_jaccard=boot, ari=ari)
