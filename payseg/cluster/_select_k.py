"""Choosing the number of segments: score every k, then apply a selection rule.

Every k in ``k_range`` is fitted on the (sub)sample and scored with the silhouette
(on at most ``SILHOUETTE_SIZE`` customers), Calinski-Harabasz, Davies-Bouldin, the
BIC for Gaussian mixtures, and the gap statistic (Tibshirani, Walther and Hastie 2001:
log within-cluster dispersion against uniform reference data in the box of the
principal axes; ``GAP_REFS`` references on at most ``GAP_SIZE`` customers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances,
    silhouette_score,
)

SILHOUETTE_SIZE = 5_000
GAP_SIZE = 3_000
GAP_REFS = 5

#: ``selection="parsimonious"``: the smallest k whose silhouette is at least this
#: share of the best one.
PARSIMONY = 0.95

SELECTIONS = (
    "parsimonious",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "bic",
    "gap",
)

_COLUMNS = ["silhouette", "calinski_harabasz", "davies_bouldin", "bic", "gap", "gap_se"]


def _log_dispersion(Z: np.ndarray, labels: np.ndarray) -> float:
    """log of the pooled within-cluster sum of squares (W_k of the gap statistic)."""
    _, inv = np.unique(labels, return_inverse=True)
    counts = np.bincount(inv).astype(float)
    sums = np.zeros((counts.size, Z.shape[1]))
    np.add.at(sums, inv, Z)
    means = sums / counts[:, None]
    w = ((Z - means[inv]) ** 2).sum()
    return float(np.log(max(w, 1e-300)))


def _reference_log_dispersion(Z, k_values, rng) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of log W_k on uniform data in the box of Z's principal axes."""
    centred = Z - Z.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ vt.T
    lo, hi = rotated.min(axis=0), rotated.max(axis=0)
    logs = np.empty((GAP_REFS, len(k_values)))
    for b in range(GAP_REFS):
        ref = rng.uniform(lo, hi, size=rotated.shape)
        for j, k in enumerate(k_values):
            km = KMeans(
                n_clusters=k,
                n_init=1,
                max_iter=100,
                random_state=int(rng.integers(2**31)),
            ).fit(ref)
            logs[b, j] = _log_dispersion(ref, km.labels_)
    return logs.mean(axis=0), logs.std(axis=0) * np.sqrt(1 + 1 / GAP_REFS)


def score_k(make_backend, Z, k_values, seed, n_categorical=0):
    """Fit one back-end per k on Z and score it.

    Returns the scores (DataFrame indexed by k) and, by k, the fitted back-end and
    its labels.
    """
    rng = np.random.default_rng(seed)
    n = Z.shape[0]
    Zm = Z[:, : Z.shape[1] - n_categorical] if n_categorical else Z
    sil_idx = np.sort(rng.choice(n, min(n, SILHOUETTE_SIZE), replace=False))
    gap_idx = np.sort(rng.choice(n, min(n, GAP_SIZE), replace=False))
    ks = [k for k in k_values if k < n]
    ref_mean, ref_se = _reference_log_dispersion(Zm[gap_idx], ks, rng)
    # one distance matrix for the silhouette of every k (the costly part otherwise)
    dist = pairwise_distances(Zm[sil_idx].astype(np.float32))
    rows, fitted = [], {}
    for j, k in enumerate(ks):
        backend = make_backend()
        labels = backend.fit(Z, k, seed)
        fitted[k] = (backend, labels)
        row = dict.fromkeys(_COLUMNS, np.nan)
        if np.unique(labels).size >= 2:
            row["silhouette"] = (
                silhouette_score(dist, labels[sil_idx], metric="precomputed")
                if np.unique(labels[sil_idx]).size >= 2
                else np.nan
            )
            row["calinski_harabasz"] = calinski_harabasz_score(Zm, labels)
            row["davies_bouldin"] = davies_bouldin_score(Zm, labels)
            if np.unique(labels[gap_idx]).size >= 1:
                row["gap"] = ref_mean[j] - _log_dispersion(Zm[gap_idx], labels[gap_idx])
                row["gap_se"] = ref_se[j]
        row.update(backend.extra_scores(Z))
        rows.append(row)
    scores = pd.DataFrame(rows, index=pd.Index(ks, name="k"), columns=_COLUMNS)
    return scores, fitted


def _gap_choice(scores: pd.DataFrame):
    """Tibshirani's rule: the smallest k with gap(k) >= gap(k+1) - se(k+1)."""
    gap, se = scores["gap"].to_numpy(), scores["gap_se"].to_numpy()
    ks = scores.index.to_numpy()
    for j in range(len(ks) - 1):
        if gap[j] >= gap[j + 1] - se[j + 1]:
            return int(ks[j])
    return int(ks[np.nanargmax(gap)])


def choose_k(scores: pd.DataFrame, selection: str, sample_note: str):
    """Apply the selection rule; return (k, reason sentence)."""
    k_lo, k_hi = int(scores.index.min()), int(scores.index.max())
    span = f"k={k_lo}..{k_hi} on {sample_note}"
    if selection == "gap":
        k = _gap_choice(scores)
        return k, (
            f"k={k}: smallest k whose gap statistic ({scores.at[k, 'gap']:.3f}) is "
            f"within one standard error of the next k's, over {span}."
        )
    if selection == "parsimonious":
        sil = scores["silhouette"]
        if sil.isna().all():
            raise ValueError("no silhouette scores; use selection='gap'.")
        best = sil.idxmax()
        floor = sil[best] - (1 - PARSIMONY) * abs(sil[best])
        k = int(sil[sil >= floor].index.min())
        return k, (
            f"k={k}: smallest k whose silhouette ({sil[k]:.3f}) is within "
            f"{1 - PARSIMONY:.0%} of the highest (k={best}, {sil[best]:.3f}) over "
            f"{span}."
        )
    column = selection
    values = scores[column]
    if values.isna().all():
        raise ValueError(
            f"selection={selection!r} has no scores (bic needs method='gmm'); "
            "use selection='silhouette'."
        )
    best = values.idxmin() if column in ("davies_bouldin", "bic") else values.idxmax()
    word = "lowest" if column in ("davies_bouldin", "bic") else "highest"
    ranked = values.sort_values(ascending=column in ("davies_bouldin", "bic"))
    runner = ranked.index[1] if len(ranked) > 1 else None
    extra = (
        f"; runner-up k={runner} ({ranked.iloc[1]:.3f})" if runner is not None else ""
    )
    return int(best), (
        f"k={best}: {word} {column.replace('_', '-')} ({values[best]:.3f}) over "
        f"{span}{extra}."
    )
