"""Agreement of a segmentation with a planted truth or with another segmentation.

All functions take pandas Series indexed by ``customer_id`` (``Segmenter.labels_``,
``PaymentData.truth["archetype"]``) and align them on the index: every customer of
``labels`` must have a truth value (customers only in ``truth`` are ignored, since
the feature table may leave out customers without payments). Noise
(:data:`payseg.cluster.NOISE`) counts as one more segment.

Examples
--------
>>> import pandas as pd
>>> from payseg import evaluate
>>> truth = pd.Series(["a", "a", "b", "b", "c"], index=list("uvwxy"))
>>> labels = pd.Series([0, 0, 1, 1, 1], index=list("uvwxy"))
>>> evaluate.purity(labels, truth)
0.8
>>> evaluate.confusion_table(labels, truth)  # doctest: +NORMALIZE_WHITESPACE
truth    a  b  c
segment
0        2  0  0
1        0  2  1
>>> round(evaluate.ari(labels, truth), 3)
0.545
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

__all__ = [
    "agreement",
    "ari",
    "confusion_table",
    "match_segments",
    "nmi",
    "purity",
    "score",
]


def _series(x, name: str) -> pd.Series:
    if isinstance(x, pd.DataFrame):
        if x.shape[1] != 1:
            raise ValueError(
                f"{name} must be a Series or a one-column DataFrame, got "
                f"{x.shape[1]} columns {list(x.columns)[:5]}; pick one, e.g. "
                "truth['archetype']."
            )
        x = x.iloc[:, 0]
    if not isinstance(x, pd.Series):
        x = pd.Series(np.asarray(x))
    if x.index.has_duplicates:
        dup = x.index[x.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{name} has duplicated customer ids, e.g. {dup}.")
    return x


def _align(labels, truth, *, names=("labels", "truth")):
    """Return (labels, truth) on the customers of ``labels``, as arrays."""
    a = _series(labels, names[0])
    b = _series(truth, names[1])
    if len(a) == 0:
        raise ValueError(f"{names[0]} is empty; fit a Segmenter first.")
    missing = a.index.difference(b.index)
    if len(missing):
        raise ValueError(
            f"{len(missing)} of {len(a)} customers in {names[0]} have no value in "
            f"{names[1]} (e.g. {missing[:5].tolist()}); pass Series indexed by the "
            "same customer_id."
        )
    b = b.reindex(a.index)
    if b.isna().any():
        raise ValueError(
            f"{names[1]} has {int(b.isna().sum())} missing values for customers in "
            f"{names[0]}; drop or fill them first."
        )
    return a, b


def _partition_score(metric, labels, truth) -> float:
    """``metric(truth, labels)`` on the aligned customers, as a float.

    ARI and NMI are symmetric, so the order only matters for readability.
    """
    a, b = _align(labels, truth)
    return float(metric(b.to_numpy(), a.to_numpy()))


def ari(labels, truth) -> float:
    """Adjusted Rand index between ``labels`` and ``truth`` (1 = same partition).

    Counts the pairs of customers both partitions put together or apart, corrected
    for chance, so random labels score about 0 whatever the number of segments.

    Parameters
    ----------
    labels, truth : Series indexed by customer_id
        Two partitions of the same customers; the ids and names need not match.

    Returns
    -------
    float
        1 for identical partitions (segment ids need not match), about 0 for
        chance agreement, negative below chance.

    Examples
    --------
    >>> import pandas as pd
    >>> from payseg.evaluate import ari
    >>> ari(pd.Series([0, 0, 1, 1]), pd.Series(["x", "x", "y", "y"]))
    1.0
    """
    return _partition_score(adjusted_rand_score, labels, truth)


def nmi(labels, truth) -> float:
    """Normalised mutual information (arithmetic mean normalisation).

    How much knowing a customer's segment tells about its truth class, scaled by the
    mean entropy of the two partitions; unlike :func:`ari` it is not corrected for
    chance, so many small segments score above 0 even when random.

    Parameters
    ----------
    labels, truth : Series indexed by customer_id
        Two partitions of the same customers; ``truth`` is the reference.

    Returns
    -------
    float
        In [0, 1]; 1 for identical partitions, 0 for independent ones.

    Examples
    --------
    >>> import pandas as pd
    >>> from payseg.evaluate import nmi
    >>> nmi(pd.Series([0, 1, 0, 1]), pd.Series(["x", "x", "y", "y"]))
    0.0
    """
    return _partition_score(normalized_mutual_info_score, labels, truth)


def confusion_table(labels, truth) -> pd.DataFrame:
    """Customers per segment (rows) and truth class (columns).

    Parameters
    ----------
    labels, truth : Series indexed by customer_id
        Segment id and truth class per customer.

    Returns
    -------
    DataFrame
        Index ``segment``, columns ``truth`` (sorted), counts.
    """
    a, b = _align(labels, truth)
    return pd.crosstab(
        pd.Series(a.to_numpy(), name="segment"), pd.Series(b.to_numpy(), name="truth")
    )


def purity(labels, truth) -> float:
    """Share of customers in the majority truth class of their segment.

    Parameters
    ----------
    labels, truth : Series indexed by customer_id
        Segment id and truth class per customer; ``truth`` is the reference.

    Returns
    -------
    float
        In (0, 1]; 1 when every segment holds one truth class. It rewards many small
        segments, so read it together with :func:`ari`.
    """
    table = confusion_table(labels, truth)
    return float(table.max(axis=1).sum() / table.to_numpy().sum())


def score(labels, truth) -> pd.Series:
    """All agreement measures against a truth in one Series.

    Parameters
    ----------
    labels, truth : Series indexed by customer_id
        Segment id and planted truth class per customer.

    Returns
    -------
    Series
        ``ari``, ``nmi``, ``purity``, ``n_customers``, ``n_segments``,
        ``n_truth_classes``.
    """
    a, b = _align(labels, truth)
    return pd.Series(
        {
            "ari": ari(a, b),
            "nmi": nmi(a, b),
            "purity": purity(a, b),
            "n_customers": float(len(a)),
            "n_segments": float(a.nunique()),
            "n_truth_classes": float(b.nunique()),
        },
        name="score",
    )


def match_segments(a, b) -> pd.DataFrame:
    """One-to-one matching of the segments of ``a`` to those of ``b``.

    The matching maximises the customers in matched pairs (Hungarian algorithm);
    segments left over when the counts differ are matched to nothing.

    Parameters
    ----------
    a, b : Series indexed by customer_id
        Two segmentations of the same customers.

    Returns
    -------
    DataFrame
        Index: segments of ``a``; columns ``match`` (segment of ``b`` or NaN),
        ``customers`` (in both), ``jaccard``.
    """
    x, y = _align(a, b, names=("a", "b"))
    table = pd.crosstab(x.to_numpy(), y.to_numpy())
    counts = table.to_numpy()
    rows, cols = linear_sum_assignment(-counts)
    size_a = counts.sum(axis=1)
    size_b = counts.sum(axis=0)
    out = pd.DataFrame(
        {"match": pd.Series(dtype=object), "customers": 0, "jaccard": 0.0},
        index=pd.Index(table.index, name="a"),
    )
    inter = counts[rows, cols]
    out.iloc[rows, 0] = table.columns.to_numpy()[cols]
    out.iloc[rows, 1] = inter
    out.iloc[rows, 2] = inter / (size_a[rows] + size_b[cols] - inter)
    return out


def agreement(a, b) -> pd.Series:
    """Agreement between two segmentations of the same customers.

    Parameters
    ----------
    a, b : Series indexed by customer_id

    Returns
    -------
    Series
        ``ari``, ``nmi``, ``matched_share`` (share of customers whose segments are
        paired by :func:`match_segments`), ``n_customers``.

    Examples
    --------
    >>> import pandas as pd
    >>> from payseg.evaluate import agreement
    >>> a = pd.Series([0, 0, 1, 1], index=list("wxyz"))
    >>> b = pd.Series([5, 5, 7, 7], index=list("wxyz"))
    >>> agreement(a, b).to_dict()
    {'ari': 1.0, 'nmi': 1.0, 'matched_share': 1.0, 'n_customers': 4.0}
    """
    x, y = _align(a, b, names=("a", "b"))
    matched = match_segments(x, y)["customers"].sum()
    return pd.Series(
        {
            "ari": ari(x, y),
            "nmi": nmi(x, y),
            "matched_share": float(matched / len(x)),
            "n_customers": float(len(x)),
        },
        name="agreement",
    )
