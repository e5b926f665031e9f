"""Early warning: rising delay, new arrears, falling consumption, complaints."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ._common import (
    as_frame,
    check_columns,
    check_cuts,
    check_fitted,
    check_numbers,
    column,
)

#: The feature columns the warning score reads.
_SIGNAL_COLUMNS = ("delay_trend", "late_share", "recent_late_share",
                   "arrears_amount", "amount_trend")

__all__ = ["EarlyWarning"]

_DEFAULT_WEIGHTS = {
    "rising_delay": 0.25,
    "more_late": 0.15,
    "arrears": 0.3,
    "falling_amount": 0.2,
    "complaints": 0.1,
}


class EarlyWarning(BaseEstimator):
    """Risk score in [0, 1] and the reasons behind it, per customer.

    Each signal has a strength in [0, 1]; the score is the weighted sum of strengths
    (weights sum to 1 by default). A signal fires (and is listed in ``reasons_``)
    when its strength is > 0:

    - ``rising_delay``: ``delay_trend`` (days of delay per billing period) above
      ``delay_trend_min``; strength ``delay_trend / delay_trend_full``, capped at 1.
    - ``more_late``: ``recent_late_share - late_share`` (last bills paid late more
      often than over the history) of at least ``late_increase_min``; strength
      ``increase / late_increase_full``.
    - ``arrears``: ``arrears_amount > arrears_min``; strength 1.
    - ``falling_amount``: ``amount_trend`` (monthly slope of the amount paid as a
      fraction of the mean month) at or below ``-amount_drop_min``; strength
      ``-amount_trend / amount_drop_full``.
    - ``complaints``: complaints per customer in the optional complaints table, at
      least ``complaints_min``; strength ``count / complaints_full``.

    NaN features (no bills, too little history) give no signal.

    Parameters
    ----------
    weights : mapping or None
        Weight per signal; default ``{"rising_delay": 0.25, "more_late": 0.15,
        "arrears": 0.3, "falling_amount": 0.2, "complaints": 0.1}``.
    delay_trend_min, delay_trend_full : float, default 1, 5
    late_increase_min, late_increase_full : float, default 0.2, 0.5
    arrears_min : float, default 0
    amount_drop_min, amount_drop_full : float, default 0.03, 0.08
    complaints_min, complaints_full : float, default 1, 3
    levels : tuple of float, default (0.5, 0.25)
        Score cuts of the ``high`` and ``medium`` levels (score >= cut).

    Attributes
    ----------
    signals_ : DataFrame
        customer_id -> strength of each signal.
    scores_ : Series
        customer_id -> risk score.
    reasons_ : Series
        customer_id -> the fired signals with their values, "; "-separated ("" when
        none fired).
    reasons_zh_ : Series
        The same reasons in Chinese, e.g. ``缴费延迟上升，每期增加 6 天；欠费 120 元``.
    labels_ : Series
        customer_id -> "high", "medium" or "low".

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"delay_trend": [6.0, 0.0], "arrears_amount": [120.0, 0.0],
    ...                   "amount_trend": [0.0, -0.04]},
    ...                  index=pd.Index(["a", "b"], name="customer_id"))
    >>> ew = EarlyWarning().fit(X)
    >>> ew.scores_.round(2).tolist()
    [0.55, 0.1]
    >>> ew.reasons_["a"]
    'delay rising 6 days/bill; arrears 120 yuan'
    >>> ew.top(1).index.tolist()
    ['a']
    """

    def __init__(
        self,
        *,
        weights=None,
        delay_trend_min=1.0,
        delay_trend_full=5.0,
        late_increase_min=0.2,
        late_increase_full=0.5,
        arrears_min=0.0,
        amount_drop_min=0.03,
        amount_drop_full=0.08,
        complaints_min=1.0,
        complaints_full=3.0,
        levels=(0.5, 0.25),
    ):
        self.weights = weights
        self.delay_trend_min = delay_trend_min
        self.delay_trend_full = delay_trend_full
        self.late_increase_min = late_increase_min
        self.late_increase_full = late_increase_full
        self.arrears_min = arrears_min
        self.amount_drop_min = amount_drop_min
        self.amount_drop_full = amount_drop_full
        self.complaints_min = complaints_min
        self.complaints_full = complaints_full
        self.levels = levels

    def _check_params(self):
        check_numbers(self, ("delay_trend_full", "late_increase_full",
                             "amount_drop_full", "complaints_full"), low=1e-12)
        check_numbers(self, ("delay_trend_min", "late_increase_min", "arrears_min",
                             "amount_drop_min", "complaints_min"), low=0)
        weights = dict(_DEFAULT_WEIGHTS if self.weights is None else self.weights)
        unknown = set(weights) - set(_DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(
                f"unknown signals in weights: {sorted(unknown)}; known: "
                f"{sorted(_DEFAULT_WEIGHTS)}"
            )
        check_cuts(self.levels, "levels", n=2, unit="scores",
                   which="the high cut, then the medium cut")
        return weights

    def fit(self, X, y=None, *, complaints=None):
        """Score every customer of the feature table ``X``.

        Parameters
        ----------
        X : DataFrame
            Features indexed by customer_id (``delay_trend``, ``late_share``,
            ``recent_late_share``, ``arrears_amount``, ``amount_trend``).
        y : ignored
        complaints : DataFrame or Series, optional
            One row per complaint with a ``customer_id`` column (or a Series of
            customer ids); customers not in ``X`` are ignored.

        Returns
        -------
        self
        """
        weights = self._check_params()
        X = as_frame(X)
        check_columns(X, _SIGNAL_COLUMNS, "EarlyWarning.fit")
        idx = X.index

        def ramp(v, lo, full, strict=False):
            ok = (v > lo) if strict else (v >= lo)
            return (v / full).clip(0.0, 1.0).where(ok, 0.0).fillna(0.0)

        delay = column(X, "delay_trend")
        more = column(X, "recent_late_share") - column(X, "late_share")
        arrears = column(X, "arrears_amount")
        amount = column(X, "amount_trend")
        n_compl = self._complaints(complaints, idx)
        sig = pd.DataFrame(
            {
                "rising_delay": ramp(delay, self.delay_trend_min, self.delay_trend_full,
                                     strict=True),
                "more_late": ramp(more, self.late_increase_min,
                                  self.late_increase_full),
                "arrears": (arrears > self.arrears_min).astype("float64"),
                "falling_amount": ramp(-amount, self.amount_drop_min,
                                       self.amount_drop_full),
                "complaints": ramp(n_compl, self.complaints_min, self.complaints_full),
            },
            index=idx,
        )
        w = pd.Series({k: float(weights.get(k, 0.0)) for k in sig.columns})
        score = sig.to_numpy() @ w.to_numpy()
        texts = {  # (prefix, values, format, suffix)
            "rising_delay": ("delay rising ", delay, "{:.3g}", " days/bill"),
            "more_late": ("late on ", column(X, "recent_late_share"), "{:.0%}",
                          " of recent bills vs "),
            "arrears": ("arrears ", arrears, "{:.4g}", " yuan"),
            "falling_amount": ("amount falling ", -amount, "{:.1%}", "/month"),
            "complaints": ("", n_compl, "{:.0f}", " complaints"),
        }
        texts_zh = {
            "rising_delay": ("缴费延迟上升，每期增加 ", delay, "{:.3g}", " 天"),
            "more_late": ("近期逾期比例 ", column(X, "recent_late_share"), "{:.0%}",
                          "，历史为 "),
            "arrears": ("欠费 ", arrears, "{:.4g}", " 元"),
            "falling_amount": ("缴费金额下降，每月 ", -amount, "{:.1%}", ""),
            "complaints": ("投诉 ", n_compl, "{:.0f}", " 次"),
        }

        def reasons_in(texts, sep_text):
            reasons = pd.Series("", index=idx, dtype="str")
            for k in sig.columns:  # loop over the 5 signals, not customers
                fired = (sig[k] > 0) & (w[k] > 0)
                pre, vals, fmt, suf = texts[k]
                # Format only the customers where the signal fired (few of them).
                piece = pd.Series("", index=idx, dtype="str")
                if fired.any():
                    text = pre + vals[fired].map(fmt.format).astype("str") + suf
                    if k == "more_late":
                        text += column(X, "late_share")[fired].map("{:.0%}".format)
                    piece[fired] = text
                sep = pd.Series(np.where((reasons != "") & fired, sep_text, ""),
                                index=idx)
                reasons = reasons + sep + piece
            return reasons

        reasons = reasons_in(texts, "; ")
        self.reasons_zh_ = reasons_in(texts_zh, "；").rename("reasons_zh")
        hi, med = self.levels
        self.signals_ = sig
        self.scores_ = pd.Series(score, index=idx, name="warning_score")
        self.reasons_ = reasons.rename("reasons")
        self.labels_ = pd.Series(
            np.select([score >= hi, score >= med], ["high", "medium"], "low"),
            index=idx, dtype="str", name="warning_level",
        )
        return self

    @staticmethod
    def _complaints(complaints, idx) -> pd.Series:
        if complaints is None:
            return pd.Series(0.0, index=idx)
        if isinstance(complaints, pd.DataFrame):
            if "customer_id" not in complaints.columns:
                raise ValueError(
                    "complaints needs a 'customer_id' column; found "
                    f"{list(complaints.columns)}"
                )
            ids = complaints["customer_id"]
        else:
            ids = pd.Series(complaints)
        counts = ids.astype("str").value_counts()
        return counts.reindex(idx, fill_value=0).astype("float64")

    def top(self, n=10) -> pd.DataFrame:
        """The ``n`` customers at highest risk (score > 0), highest first.

        Ties keep the order of the feature table.

        Returns
        -------
        DataFrame indexed by customer_id: ``warning_score``, ``warning_level``,
        ``reasons``.
        """
        check_fitted(self, "scores_")
        out = pd.concat([self.scores_, self.labels_, self.reasons_], axis=1)
        out = out[out["warning_score"] > 0]
        return out.sort_values("warning_score", ascending=False, kind="stable").head(n)
