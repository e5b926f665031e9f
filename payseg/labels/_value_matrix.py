"""Value matrix (China Software Cup task on residential payment habits) and its tasks.

Customers are split by payment count and payment amount, each against the population
mean: 高价值型 high_value (both above), 大众型 mass (count above, amount not), 潜力型
potential (amount above, count not), 低价值型 low_value (neither). A value equal to the
threshold is "not above".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .._vocab import VALUE_CLASSES
from ._common import (
    as_payments,
    check_fitted,
    customer_codes,
    distinct_count,
    level_counts,
)

__all__ = [
    "VALUE_CLASSES",
    "ValueMatrix",
    "backtest_high_value",
    "payment_stats",
    "rank_high_value",
    "value_metrics",
]

_PER = ("year", None)


def value_metrics(payments, *, per="year") -> pd.DataFrame:
    """Payment count and amount per customer, under one of the two definitions.

    Parameters
    ----------
    payments : PaymentData or DataFrame
        Payments with the canonical columns (``customer_id``, ``paid_at``,
        ``amount``); read a raw export with :func:`payseg.load` first.
    per : {"year", None}, default "year"
        ``"year"``: count = distinct payment dates / distinct calendar years with a
        payment, amount = total paid / distinct calendar years. ``None``: count =
        number of payments, amount = total paid over the whole extract.

    Returns
    -------
    DataFrame indexed by customer_id with columns ``count`` and ``amount``.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                   "paid_at": pd.to_datetime(["2018-01-05", "2018-01-05",
    ...                                              "2019-03-01", "2018-02-01"]),
    ...                   "amount": [10.0, 20.0, 30.0, 5.0]})
    >>> value_metrics(p)
                 count  amount
    customer_id
    a              1.0    30.0
    b              1.0     5.0
    >>> value_metrics(p, per=None)
                 count  amount
    customer_id
    a              3.0    60.0
    b              1.0     5.0
    """
    if per not in _PER:
        raise ValueError(f"per must be 'year' or None, got {per!r}")
    m = _metrics(as_payments(payments, "value_metrics"))
    if per == "year":
        count = m["dates"] / m["years"]
        amount = m["amount"] / m["years"]
    else:
        count, amount = m["n"], m["amount"]
    return pd.DataFrame({"count": count.astype("float64"), "amount": amount})


def _metrics(p: pd.DataFrame) -> pd.DataFrame:
    """Payments, distinct payment dates, distinct years and total per customer."""
    codes, ids = customer_codes(p["customer_id"])
    n = len(ids)
    stamp = p["paid_at"].to_numpy().astype("datetime64[D]")
    day = stamp.astype("int64")
    year = stamp.astype("datetime64[Y]").astype("int64")
    return pd.DataFrame(
        {
            "n": np.bincount(codes, minlength=n),
            "dates": distinct_count(codes, day, n),
            "years": distinct_count(codes, year, n),
            "amount": np.bincount(
                codes, weights=p["amount"].to_numpy(dtype="float64"), minlength=n
            ),
        },
        index=ids,
    )


def payment_stats(payments) -> pd.DataFrame:
    """Task 1 of the contest: payment count and mean payment amount per customer.

    Parameters
    ----------
    payments : PaymentData or DataFrame

    Returns
    -------
    DataFrame indexed by customer_id: ``pay_count`` (number of payments),
    ``amount_mean`` (mean amount per payment) and ``amount_total``. The population
    means are in ``result.attrs["mean"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                   "paid_at": pd.to_datetime(["2018-01-05", "2018-03-05",
    ...                                              "2018-02-01"]),
    ...                   "amount": [10.0, 30.0, 5.0]})
    >>> stats = payment_stats(p)
    >>> stats["amount_mean"].tolist(), stats["pay_count"].tolist()
    ([20.0, 5.0], [2, 1])
    >>> stats.attrs["mean"]["pay_count"]
    1.5
    """
    p = as_payments(payments, "payment_stats")
    g = p.groupby("customer_id", sort=True)["amount"]
    out = pd.DataFrame(
        {"pay_count": g.size(), "amount_mean": g.mean(), "amount_total": g.sum()}
    )
    out.attrs["mean"] = {
        "pay_count": float(out["pay_count"].mean()),
        "amount_mean": float(out["amount_mean"].mean()),
        "amount_total": float(out["amount_total"].mean()),
        # The mean of all payments, weighting customers by their number of payments.
        "amount_per_payment": float(p["amount"].mean()),
    }
    return out


def _threshold(values: pd.Series, how, name: str) -> float:
    if isinstance(how, str):
        if how == "mean":
            return float(values.mean())
        if how == "median":
            return float(values.median())
    elif isinstance(how, (int, float)) and not isinstance(how, bool):
        return float(how)
    raise ValueError(f"{name} must be 'mean', 'median' or a number, got {how!r}")


def _classify(count, amount, t_count, t_amount) -> pd.Series:
    # Strictly above: a value equal to the threshold is "not above".
    ca = (count > t_count).to_numpy()
    aa = (amount > t_amount).to_numpy()
    key = np.select(
        [ca & aa, ca & ~aa, ~ca & aa], ["high_value", "mass", "potential"], "low_value"
    )
    return pd.Series(key, index=count.index, dtype="str", name="value_class")


class ValueMatrix(BaseEstimator):
    """Four-way value classification by payment count x amount against the mean.

    Parameters
    ----------
    per : {"year", None}, default "year"
        Definition of count and amount, see :func:`value_metrics`. ``"year"`` (count
        = distinct payment dates / distinct calendar years, amount = total / distinct
        calendar years) reproduces the published solutions of the contest on cph.csv
        (39 high value, 34 mass, 3 potential, 24 low value).
    count_threshold, amount_threshold : "mean", "median" or float, default "mean"
        Cut of each axis. A value equal to the cut is "not above".

    Attributes
    ----------
    labels_ : Series of str
        customer_id -> class key (high_value, mass, potential, low_value).
    names_ : Series of str
        customer_id -> Chinese class name (高价值型, 大众型, 潜力型, 低价值型).
    metrics_ : DataFrame
        customer_id -> count, amount, value_class, name_zh.
    count_threshold_, amount_threshold_ : float
        The cuts used.
    counts_ : Series
        Customers per class, every class present (0 for an empty class).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c"],
    ...                   "paid_at": pd.to_datetime(["2018-01-05", "2018-03-05",
    ...                       "2018-02-01", "2018-02-01", "2018-04-01"]),
    ...                   "amount": [100.0, 100.0, 300.0, 10.0, 10.0]})
    >>> vm = ValueMatrix(per=None).fit(p)
    >>> vm.labels_.tolist()
    ['high_value', 'potential', 'mass']
    >>> vm.names_["b"]
    '潜力型'
    """

    def __init__(self, *, per="year", count_threshold="mean", amount_threshold="mean"):
        self.per = per
        self.count_threshold = count_threshold
        self.amount_threshold = amount_threshold

    def fit(self, payments, y=None):
        """Compute count and amount per customer and classify them.

        Parameters
        ----------
        payments : PaymentData or DataFrame
            Payments with the canonical columns; a raw export is refused with
            :class:`payseg.PaymentDataError` (read it with :func:`payseg.load`).
        y : ignored

        Returns
        -------
        self
        """
        m = value_metrics(payments, per=self.per)
        if m.empty:
            raise ValueError("ValueMatrix.fit: no payments to classify")
        self.count_threshold_ = _threshold(
            m["count"], self.count_threshold, "count_threshold"
        )
        self.amount_threshold_ = _threshold(
            m["amount"], self.amount_threshold, "amount_threshold"
        )
        self.labels_ = _classify(
            m["count"], m["amount"], self.count_threshold_, self.amount_threshold_
        )
        self.names_ = self.labels_.map(VALUE_CLASSES["name_zh"]).rename("name_zh")
        self.metrics_ = m.assign(value_class=self.labels_, name_zh=self.names_)
        self.counts_ = level_counts(self.labels_, VALUE_CLASSES.index)
        return self

    def predict(self, payments) -> pd.Series:
        """Classify customers of other payments against the fitted cuts.

        Examples
        --------
        >>> import pandas as pd
        >>> p = pd.DataFrame({"customer_id": ["a", "b"],
        ...                   "paid_at": pd.to_datetime(["2018-01-05", "2018-03-05"]),
        ...                   "amount": [100.0, 300.0]})
        >>> ValueMatrix(per=None).fit(p).predict(p).tolist()
        ['low_value', 'potential']
        """
        check_fitted(self, "labels_")
        m = value_metrics(payments, per=self.per)
        return _classify(
            m["count"], m["amount"], self.count_threshold_, self.amount_threshold_
        )


# --------------------------------------------------------------------------- task 3


def _window_ratios(p: pd.DataFrame, ids: pd.Index, start, end) -> pd.DataFrame:
    """Count (distinct dates) and amount in [start, end) over their window means.

    Customers without a payment in the window count as 0, so every window compares
    the same population.
    """
    w = p[(p["paid_at"] >= start) & (p["paid_at"] < end)]
    m = _metrics(w).rename(columns={"dates": "count"})[["count", "amount"]]
    m = m.astype("float64").reindex(ids, fill_value=0.0)
    c_mean, a_mean = m["count"].mean(), m["amount"].mean()
    return pd.DataFrame(
        {
            "count": m["count"],
            "amount": m["amount"],
            "count_ratio": m["count"] / c_mean if c_mean > 0 else 0.0,
            "amount_ratio": m["amount"] / a_mean if a_mean > 0 else 0.0,
        },
        index=ids,
    )


def _split_point(p: pd.DataFrame, split) -> pd.Timestamp:
    if split is None:
        # The middle payment date: half the payments on each side.
        return pd.Timestamp(p["paid_at"].sort_values().iloc[len(p) // 2]).normalize()
    if isinstance(split, float) and 0 < split < 1:
        lo, hi = p["paid_at"].min(), p["paid_at"].max()
        return (lo + (hi - lo) * split).normalize()
    return pd.Timestamp(split)


def _score(p: pd.DataFrame, ids: pd.Index, method: str) -> pd.DataFrame:
    """Score every customer in ``ids`` from the payments ``p`` (their history only)."""
    lo, hi = p["paid_at"].min(), p["paid_at"].max() + pd.Timedelta(days=1)
    mid = _split_point(p, None)
    full = _window_ratios(p, ids, lo, hi)
    if method == "amount":
        return full.assign(score=full["amount_ratio"])
    recent = _window_ratios(p, ids, mid, hi)
    # The weaker of the two axes limits the step to high value: a customer is as close
    # to high value as its lower ratio to the mean. Recent behaviour weighs twice.
    gap_full = np.minimum(full["count_ratio"], full["amount_ratio"])
    gap_recent = np.minimum(recent["count_ratio"], recent["amount_ratio"])
    if method == "gap":
        return full.assign(score=(gap_full + 2 * gap_recent) / 3)
    if method == "logistic":
        return full.assign(score=_logistic_score(p, ids, mid, lo, hi))
    raise ValueError(f"method must be 'gap', 'logistic' or 'amount', got {method!r}")


def _features(p, ids, start, end) -> pd.DataFrame:
    mid = start + (end - start) / 2
    a = _window_ratios(p, ids, start, mid)
    b = _window_ratios(p, ids, mid, end)
    return pd.DataFrame(
        {
            "count_ratio": a["count_ratio"] + b["count_ratio"],
            "amount_ratio": a["amount_ratio"] + b["amount_ratio"],
            "count_change": b["count_ratio"] - a["count_ratio"],
            "amount_change": b["amount_ratio"] - a["amount_ratio"],
        }
    )


def _logistic_score(p, ids, mid, lo, hi) -> pd.Series:
    """Fit P(high value next window | features of this window) on the history itself.

    The history [lo, hi) is split at ``mid``: features from [lo, mid), the target is
    "high value in [mid, hi)" (count and amount in that window above their means). The
    fitted model then scores the features of [mid, hi) to rank for the next window.
    """
    from sklearn.linear_model import LogisticRegression

    x_train = _features(p, ids, lo, mid)
    nxt = _window_ratios(p, ids, mid, hi)
    y = ((nxt["count_ratio"] > 1) & (nxt["amount_ratio"] > 1)).astype(int)
    x_now = _features(p, ids, mid, hi)
    if y.nunique() < 2:
        # Nothing to learn from: fall back to the gap score.
        return np.minimum(x_now["count_ratio"], x_now["amount_ratio"])
    model = LogisticRegression(C=1.0).fit(x_train, y)
    return pd.Series(model.predict_proba(x_now)[:, 1], index=ids)


def rank_high_value(payments, *, n=5, method="gap", per="year") -> pd.DataFrame:
    """Task 3: the customers not yet high value most likely to become high value.

    Parameters
    ----------
    payments : PaymentData or DataFrame
    n : int or None, default 5
        How many to return (None: every candidate).
    method : {"gap", "logistic", "amount"}, default "gap"
        ``"gap"``: for each axis the ratio of the customer's count (distinct payment
        dates) and amount to the population mean, over the whole history and over its
        recent half (after the middle payment date); the score is the weaker axis,
        ``(min ratio over all + 2 * min ratio recent) / 3``: a customer is as close to
        high value as its weaker axis, and recent behaviour counts double.
        ``"logistic"``: a logistic regression fitted on the history itself (features
        of the first half -> high value in the second half; features are the window
        ratios and their change between the window's halves), then applied to the
        second half. ``"amount"``: total amount only (the baseline).
    per : {"year", None}, default "year"
        Definition used to decide who is already high value (:class:`ValueMatrix`).

    Returns
    -------
    DataFrame indexed by customer_id, best first: ``rank``, ``score``,
    ``value_class``, ``count``, ``amount`` (over the extract).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"customer_id": list("aabbbccdd"),
    ...     "paid_at": pd.to_datetime(["2018-01-01", "2018-06-01", "2018-01-01",
    ...         "2018-03-01", "2018-06-01", "2018-01-01", "2018-06-01",
    ...         "2018-01-01", "2018-06-01"]),
    ...     "amount": [100.0, 100.0, 100.0, 100.0, 100.0, 10.0, 90.0, 5.0, 5.0]})
    >>> top = rank_high_value(p, n=2)  # b is high value already
    >>> top[["rank", "value_class"]]
                 rank value_class
    customer_id
    a               1   potential
    c               2   low_value
    """
    p = as_payments(payments, "rank_high_value")
    vm = ValueMatrix(per=per).fit(p)
    ids = vm.labels_.index
    s = _score(p, ids, method)
    cand = vm.labels_ != "high_value"
    out = s.loc[cand, ["score", "count", "amount"]].assign(value_class=vm.labels_[cand])
    out = out.sort_values(["score", "amount"], ascending=False, kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out if n is None else out.head(n)


def backtest_high_value(
    payments, *, split=None, k=(5, 10), methods=("gap", "logistic", "amount")
) -> pd.DataFrame:
    """Backtest of :func:`rank_high_value` on a time split.

    The payments before ``split`` are the history; a customer "becomes high value" when,
    in the payments from ``split`` on, both its count (distinct payment dates) and its
    amount are above the means of that window (every customer of the history counted,
    0 when absent) while it was not high value in the history window (same rule).
    Each method ranks the candidates from the history alone.

    Parameters
    ----------
    payments : PaymentData or DataFrame
    split : date, float in (0, 1) or None
        Split date, a fraction of the time span, or None for the middle payment date.
    k : tuple of int
        Cut-offs of precision@k.
    methods : tuple of str
        Methods of :func:`rank_high_value` to compare.

    Returns
    -------
    DataFrame, one row per method plus ``random`` (the expected precision of a random
    ranking, i.e. the share of candidates that became high value): columns
    ``precision@k`` for each k, ``candidates``, ``positives``. The split date is in
    ``result.attrs["split"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"customer_id": list("aaabbbccc"),
    ...     "paid_at": pd.to_datetime(["2018-02-01", "2018-04-01", "2018-04-15"]
    ...                               + ["2018-01-01", "2018-02-01", "2018-04-01"] * 2),
    ...     "amount": [120.0, 100.0, 100.0, 50.0, 50.0, 50.0, 5.0, 5.0, 5.0]})
    >>> bt = backtest_high_value(p, split="2018-03-01", k=(1,), methods=("gap",))
    >>> bt[["precision@1", "candidates", "positives"]].values.tolist()
    [[1.0, 2.0, 1.0], [0.5, 2.0, 1.0]]
    """
    p = as_payments(payments, "backtest_high_value")
    t = _split_point(p, split)
    hist, fut = p[p["paid_at"] < t], p[p["paid_at"] >= t]
    if hist.empty or fut.empty:
        raise ValueError(f"split {t:%Y-%m-%d} leaves no payments on one side")
    ids = pd.Index(sorted(hist["customer_id"].unique()), name="customer_id")
    lo = hist["paid_at"].min()
    h = _window_ratios(hist, ids, lo, t)
    was_high = (h["count_ratio"] > 1) & (h["amount_ratio"] > 1)
    f = _window_ratios(fut, ids, t, fut["paid_at"].max() + pd.Timedelta(days=1))
    became = (f["count_ratio"] > 1) & (f["amount_ratio"] > 1) & ~was_high
    cand = ids[~was_high.to_numpy()]
    rows = {}
    for method in methods:
        s = _score(hist, ids, method)["score"].loc[cand]
        # Stable order by score, then customer id: deterministic with ties.
        order = s.sort_values(ascending=False, kind="stable").index
        rows[method] = {
            f"precision@{kk}": float(became.loc[order[:kk]].mean()) for kk in k
        }
    base = float(became.loc[cand].mean()) if len(cand) else np.nan
    rows["random"] = {f"precision@{kk}": base for kk in k}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["candidates"] = len(cand)
    out["positives"] = int(became.sum())
    out.attrs["split"] = t
    return out
