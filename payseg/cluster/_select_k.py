"""Choosing the number of segments: score every k, then apply a selection rule.

Every k in ``k_range`` is fitted on the (sub)sample and scored with the silhouette
(on at most ``SILHOUETTE_SIZE`` customers), Calinski-Harabasz, Davies-Bouldin, the
BIC for Gaussian mixtures, and the gap statistic (Tibshirani, Walther and Hastie 2001:
log within-cluster dispersion against uniform reference data in the box of the
principal axes; ``GAP_REFS`` references on at most ``GAP_SIZE`` customers).

The same reference sets are the null model of :func:`structure_test`: data with no
segment structure (uniform in the box of the principal axes, Tibshirani's "b"
reference). The data are called structured when, at some k, the silhouette of their
segments beats the highest silhouette of k-means on the references at that k by more
than ``NULL_SILHOUETTE_MARGIN``. The gap against k = 1 is reported beside it but not
used: with noise columns (the usual case after scaling) the uniform box has more
spread than the data, and the gap test calls clearly separated segments structureless.
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

#: References of the null model (also those of the gap statistic).
NULL_SIL_SIZE = 1_000
#: Structured when the silhouette beats the references' highest one at that k by
#: more than this (tuned on benchmarks/bench_select_k.py seeds 0-2: uniform and
#: Gaussian data at most 0.013, separated and overlapping blobs at least 0.175).
NULL_SILHOUETTE_MARGIN = 0.05

#: ``selection="parsimonious"``: stepping down from the best k, the smallest k whose
#: silhouette (and every one on the way) is at least this share of the best one.
PARSIMONY = 0.95

#: ``selection="gap_parsimonious"`` takes the gap rule's k only when its silhouette
#: is at least this share of the best one; below, the gap crept on past the groups
#: (tiny standard errors) and the parsimonious rule decides. On the tuning seeds of
#: benchmarks/bench_select_k.py (0-2) the share was at least 0.77 wherever the gap
#: rule was right; it was 0.43-0.46 on the two held-out sets (seeds 10-14) where
#: the unguarded rule picked 8 for 4 separated blobs.
GAP_SILHOUETTE_FLOOR = 0.6

SELECTIONS = (
    "gap_parsimonious",
    "parsimonious",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "bic",
    "gap",
    "elbow",
)

_COLUMNS = [
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "bic",
    "gap",
    "gap_se",
    "log_w",
    "null_silhouette",
]
#: Columns of score_k kept in ``Segmenter.null_scores_``, not in ``k_scores_``.
NULL_COLUMNS = ["log_w", "null_silhouette"]


def _log_dispersion(Z: np.ndarray, labels: np.ndarray) -> float:
    """log of the pooled within-cluster sum of squares (W_k of the gap statistic)."""
    _, inv = np.unique(labels, return_inverse=True)
    counts = np.bincount(inv).astype(float)
    sums = np.zeros((counts.size, Z.shape[1]))
    np.add.at(sums, inv, Z)
    means = sums / counts[:, None]
    w = ((Z - means[inv]) ** 2).sum()
    return float(np.log(max(w, 1e-300)))


def _reference_log_dispersion(Z, k_values, rng):
    """log W_k and silhouettes of k-means on uniform data in the box of Z's axes.

    Returns the mean and sd of log W_k (k = 1, then ``k_values``) over ``GAP_REFS``
    references, and the highest silhouette of a reference at each of ``k_values``
    (on its first ``NULL_SIL_SIZE`` points).
    """
    centred = Z - Z.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ vt.T
    lo, hi = rotated.min(axis=0), rotated.max(axis=0)
    logs = np.empty((GAP_REFS, len(k_values) + 1))
    sils = np.full((GAP_REFS, len(k_values)), np.nan)
    m = min(rotated.shape[0], NULL_SIL_SIZE)
    for b in range(GAP_REFS):
        ref = rng.uniform(lo, hi, size=rotated.shape)
        logs[b, 0] = _log_dispersion(ref, np.zeros(ref.shape[0], dtype=int))
        dist = pairwise_distances(ref[:m].astype(np.float32))
        for j, k in enumerate(k_values):
            km = KMeans(
                n_clusters=k,
                n_init=1,
                max_iter=100,
                random_state=int(rng.integers(2**31)),
            ).fit(ref)
            logs[b, j + 1] = _log_dispersion(ref, km.labels_)
            if np.unique(km.labels_[:m]).size >= 2:
                sils[b, j] = silhouette_score(
                    dist, km.labels_[:m], metric="precomputed"
                )
    return (
        logs.mean(axis=0),
        logs.std(axis=0) * np.sqrt(1 + 1 / GAP_REFS),
        np.nanmax(sils, axis=0) if np.isfinite(sils).any() else sils[0],
    )


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
    ref_mean, ref_se, ref_sil = _reference_log_dispersion(Zm[gap_idx], ks, rng)
    one = np.zeros(gap_idx.size, dtype=int)
    gap1 = ref_mean[0] - _log_dispersion(Zm[gap_idx], one)
    ref_mean, ref_se = ref_mean[1:], ref_se[1:]
    # one distance matrix for the silhouette of every k (the costly part otherwise)
    dist = pairwise_distances(Zm[sil_idx].astype(np.float32))
    rows, fitted = [], {}
    for j, k in enumerate(ks):
        backend = make_backend()
        labels = backend.fit(Z, k, seed)
        fitted[k] = (backend, labels)
        row = dict.fromkeys(_COLUMNS, np.nan)
        row["null_silhouette"] = ref_sil[j]
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
                row["log_w"] = _log_dispersion(Zm[gap_idx], labels[gap_idx])
        row.update(backend.extra_scores(Z))
        rows.append(row)
    scores = pd.DataFrame(rows, index=pd.Index(ks, name="k"), columns=_COLUMNS)
    scores.attrs["gap_1"] = float(gap1)
    scores.attrs["log_w_1"] = float(_log_dispersion(Zm[gap_idx], one))
    return scores, fitted


def structure_test(scores: pd.DataFrame) -> dict:
    """Is there segment structure beyond what uniform data would give?

    Structured when, at some k of ``scores``, the silhouette exceeds the highest
    silhouette of k-means on a uniform reference at that k (``null_silhouette``)
    by more than ``NULL_SILHOUETTE_MARGIN``: the segments are better separated
    than cuts through featureless data of the same extent.

    Returns a dict: ``structured`` (bool), ``k`` (the k with the largest
    silhouette excess), ``silhouette_excess`` there, ``gap_excess`` (gap(k) -
    gap(1) in standard errors, for information), ``reason`` and ``table`` (by k:
    silhouette, null_silhouette, silhouette_excess, gap_excess, log_w).
    """
    gap1 = scores.attrs.get("gap_1", np.nan)
    gap_z = (scores["gap"] - gap1) / scores["gap_se"].where(scores["gap_se"] > 0)
    sil_excess = scores["silhouette"] - scores["null_silhouette"]
    k = int(sil_excess.idxmax()) if sil_excess.notna().any() else int(scores.index[0])
    excess = float(sil_excess.get(k, np.nan))
    structured = bool(excess > NULL_SILHOUETTE_MARGIN)
    out = {
        "structured": structured,
        "k": k,
        "silhouette_excess": excess,
        "gap_excess": float(gap_z.get(k, np.nan)),
        "table": pd.DataFrame(
            {
                "silhouette": scores["silhouette"],
                "null_silhouette": scores["null_silhouette"],
                "silhouette_excess": sil_excess,
                "gap_excess": gap_z,
                "log_w": scores["log_w"],
            }
        ),
    }
    detail = (
        f"the best silhouette excess over uniform reference data is {excess:.3f} "
        f"at k={k} (needs > {NULL_SILHOUETTE_MARGIN:g})"
    )
    out["reason"] = (
        f"segment structure: {detail}."
        if structured
        else f"no clear segment structure: {detail}; the segments are cuts "
        "through a continuum, not distinct groups."
    )
    return out


def _elbow_choice(scores: pd.DataFrame):
    """The elbow of log W_k: the k after which the dispersion stops falling fast.

    With ``D_k = log W_{k-1} - log W_k`` (the drop in log within-cluster sum of
    squares from k-1 to k segments, k = 1 included), the k maximising
    ``D_k - D_{k+1}`` (largest bend: a big drop followed by a small one); the
    largest k of the range cannot be an elbow, having no k+1.
    """
    ks = scores.index.to_numpy()
    log_w = np.r_[scores.attrs.get("log_w_1", np.nan), scores["log_w"].to_numpy()]
    if ks.size < 2 or not np.isfinite(log_w).all():
        return int(ks[0])
    drop = log_w[:-1] - log_w[1:]  # drop[j]: into ks[j]
    bend = drop[:-1] - drop[1:]  # at ks[0..-2]
    return int(ks[int(np.argmax(bend))])


def _gap_stop(scores: pd.DataFrame):
    """Tibshirani's rule: the smallest k with gap(k) >= gap(k+1) - se(k+1), or None
    when the gap keeps rising over the whole range (the rule never stops).

    The rule at the largest k needs the gap of the next one: ``scores.attrs``
    ``"gap_next"`` (gap, se) of ``k_max + 1``, scored for that only (see
    ``Segmenter``); without it the largest k can never be chosen by this rule.
    """
    gap, se = scores["gap"].to_numpy(), scores["gap_se"].to_numpy()
    ks = scores.index.to_numpy()
    nxt = scores.attrs.get("gap_next")
    if nxt is not None:
        gap, se = np.r_[gap, nxt[0]], np.r_[se, nxt[1]]
    stop = np.flatnonzero(gap[:-1] >= gap[1:] - se[1:])
    return int(ks[stop[0]]) if stop.size else None


def _gap_choice(scores: pd.DataFrame):
    """Tibshirani's rule; the k of the largest gap when it never stops."""
    k = _gap_stop(scores)
    return k if k is not None else int(scores.index[np.nanargmax(scores["gap"])])


def _parsimonious(scores: pd.DataFrame, span: str):
    """The smallest k reached by stepping down from the best silhouette's k while
    every silhouette on the way stays within ``1 - PARSIMONY`` of the best.

    Stepping down, not any smaller k: a small group far from the rest (nearly empty
    homes, 4% of customers, on a one-sided money column) gives k = 2 a high
    silhouette of its own (0.58 against 0.61 at the planted 8, with 0.40-0.56 in
    between), and "any smaller k within 5%" took it.
    """
    sil = scores["silhouette"]
    if sil.isna().all():
        raise ValueError("no silhouette scores; use selection='gap'.")
    best = sil.idxmax()
    floor = sil[best] - (1 - PARSIMONY) * abs(sil[best])
    below = sil.loc[:best].iloc[::-1]  # best, best - 1, ... (k ascending in index)
    run = below.ge(floor).cumprod().astype(bool)  # NaN or under the floor ends it
    k = int(below.index[run.to_numpy()].min())
    return k, (
        f"k={k}: smallest k whose silhouette ({sil[k]:.3f}) stays within "
        f"{1 - PARSIMONY:.0%} of the highest (k={best}, {sil[best]:.3f}) on every k "
        f"from there up to it, over {span}."
    )


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
    if selection == "elbow":
        k = _elbow_choice(scores)
        return k, (
            f"k={k}: elbow of the within-segment dispersion (largest drop of "
            f"log W_k into k followed by the smallest after it), over {span}."
        )
    if selection == "gap_parsimonious":
        k = _gap_stop(scores)
        sil = scores["silhouette"]
        if k is not None and sil[k] >= GAP_SILHOUETTE_FLOOR * sil.max():
            return k, (
                f"k={k}: the gap statistic levels off there ({scores.at[k, 'gap']:.3f}"
                f", within one standard error of the next k's), over {span}."
            )
        why = (
            "the gap statistic kept rising to the largest k"
            if k is None
            else f"the gap statistic levels off at k={k}, but its silhouette "
            f"({sil[k]:.3f}) is below {GAP_SILHOUETTE_FLOOR:.0%} of the highest"
        )
        k, reason = _parsimonious(scores, span)
        return k, reason[:-1] + f"; {why}, so the silhouette rule decided."
    if selection == "parsimonious":
        return _parsimonious(scores, span)
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
