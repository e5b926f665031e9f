"""Early warning: each customer's recent payments against their own past."""

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
from ._history import own_history

#: The feature columns the warning score reads.
_SIGNAL_COLUMNS = (
    "delay_trend",
    "late_share",
    "recent_late_share",
    "arrears_amount",
    "amount_trend",
)

__all__ = ["EarlyWarning"]

#: Every signal, in the column order of ``signals_``.
SIGNALS = (
    "rising_delay",
    "more_late",
    "arrears",
    "unpaid_bills",
    "partial_payments",
    "auto_debit_stopped",
    "falling_amount",
    "complaints",
)

#: Signals read from the same recent payments (when, after the due date or not,
#: through which channel): with the history, only the strongest counts.
_SAME_PAYMENTS = ("rising_delay", "more_late", "auto_debit_stopped")

#: Evidence (bans) of a full fall in ``amount_trend`` when there is no year of
#: bills to compare the same months.
FEATURE_FALL_BANS = 2.0

#: Weights from the feature table alone (``fit(X)``).
_DEFAULT_WEIGHTS = {
    "rising_delay": 0.27,
    "more_late": 0.23,
    "arrears": 0.15,
    "falling_amount": 0.25,
    "complaints": 0.1,
}

#: Weights with the customer's own bill history (``fit(X, data=...)``): each
#: signal's evidence in bans counts once; the evidence of the signals in
#: ``_SAME_PAYMENTS`` is their maximum.
_HISTORY_WEIGHTS = {
    "rising_delay": 1.0,
    "more_late": 1.0,
    "unpaid_bills": 1.0,
    "partial_payments": 1.0,
    "auto_debit_stopped": 1.0,
    "falling_amount": 1.0,
    "complaints": 1.0,
}

#: Default level cuts (high, medium) of the score: from the feature table alone,
#: and with the history (1 - 10 ** (-E / 10): 6 and 3 bans of evidence).
_LEVELS = (0.35, 0.15)
_HISTORY_LEVELS = (0.75, 0.5)

#: Reason texts of the signals added in 0.2.0, English and Chinese (``{v}``: value).
CHANGE_REASONS = {
    "rising_delay_z": (
        "paying {v:.1f} spreads later than before",
        "缴费比以往推迟 {v:.1f} 个离散度",
    ),
    "more_late_z": (
        "late on {v:.0%} of recent bills vs {w:.0%} before",
        "近期逾期 {v:.0%}，以往 {w:.0%}",
    ),
    "new_arrears": ("new arrears {v:.4g} yuan", "新增欠费 {v:.4g} 元"),
    "unpaid_bills": (
        "{v:.0%} of recent bills unpaid vs {w:.0%} before",
        "近期未缴账单 {v:.0%}，以往 {w:.0%}",
    ),
    "partial_payments": (
        "{v:.0%} of recent bills paid in part vs {w:.0%} before",
        "近期部分缴费 {v:.0%}，以往 {w:.0%}",
    ),
    "auto_debit_stopped": ("auto-debit share down {v:.0%}", "代扣比例下降 {v:.0%}"),
    "open_bill": (
        "latest bill open {v:.0f} days, longer than most earlier bills took",
        "最近账单已 {v:.0f} 天未缴，长于以往多数账单",
    ),
    "silent": (
        "no payment for {v:.0f} days, longer than usual",
        "已 {v:.0f} 天未缴费，超过以往",
    ),
    "falling_use": (
        "billed {v:.0%} less than a year earlier",
        "电费较去年同期下降 {v:.0%}",
    ),
}


def _saturate(v, lo, full):
    """Strength ``1 - exp(-(v - lo) / (full - lo))`` for ``v > lo``, else 0 (NaN: 0).

    0 at ``lo``, 0.63 at ``full``, towards 1 beyond: continuous, so customers are
    ordered by how large their change is and scores rarely tie.
    """
    v = pd.to_numeric(v, errors="coerce").astype("float64").fillna(-np.inf)
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.where(v > lo, -np.expm1(-(v - lo) / (full - lo)), 0.0)
    return pd.Series(out, index=v.index, dtype="float64")


class EarlyWarning(BaseEstimator):
    """Risk score in [0, 1] and the reasons behind it, per customer.

    The signals measure *change against the customer's own past*, not levels that
    some segments always have (a chronic late payer or a vacant home always carries
    arrears; that is their normal, not a warning). Each signal has a strength in
    [0, 1]; the score is the weighted sum of strengths (default weights sum to 1).
    Strengths rise continuously, ``1 - exp(-(v - min) / (full - min))`` above a
    threshold ``min`` (0.63 at ``full``), so customers are ranked by how large their
    change is and scores rarely tie. A signal is listed in ``reasons_`` when its
    strength is > 0.

    With ``data`` (payments and bills) passed to :meth:`fit`, each customer's
    recent bills (the last ``recent_bills``, fewer for a longer billing cycle: 3
    bimonthly bills for 5) are compared with all of their earlier bills
    (``payseg.labels._history.own_history``), and each signal is *evidence* in bans,
    ``-log10 p``, ``p`` the chance of a change at least this large if the customer
    went on as before:

    - ``more_late``, ``unpaid_bills``, ``partial_payments``,
      ``auto_debit_stopped``, ``rising_delay``: of the recent bills, ``k`` were
      late / unpaid / paid in part / paid by hand (auto-debit payers) / paid
      clearly later than usual (earlier median + 2 robust sds, at least 4 days);
      ``p = P(K >= k)``, ``K`` beta-binomial: the customer's own earlier rate,
      with the population's rate worth 4 bills as prior. One late bill from a
      customer late on 12% of bills is ordinary (0.3 bans), three in five are not.
    - ``unpaid_bills`` also: the oldest recent bill still open longer than the
      customer's earlier bills took to be paid, ``p = (k + 0.5) / (n + 1)`` with
      ``k`` of ``n`` earlier bills as slow; for payments-only customers (bills
      inferred from paid periods), the silence since their last payment against
      their earlier gaps (beyond 1.5 median gaps, under 180 days); the largest of
      the three counts.
    - ``falling_amount``: year-on-year log ratio of the recent bills (amounts
      below 10 yuan as 10) over the customer's own year-on-year noise: a t test,
      two-sided ``p`` of the fall. Seasonal homes' swings cancel year on year, and
      large ones are their noise. Without a year of bills, 2 bans times the
      feature-table strength below.
    - ``complaints``: one ban per complaint from ``complaints_min``, at most
      ``complaints_full``.

    Each signal's evidence is multiplied by its weight (default 1). Delay,
    lateness and auto-debit stopping read the same recent payments (one
    off-pattern payment moves all three), so only their largest counts; the
    evidence ``E`` is that plus the others (``evidence_``). The score is
    ``1 - 10 ** (-E / evidence_scale)`` and a signal's strength in ``signals_`` is
    the same function of its own evidence; a signal is listed in ``reasons_``
    from ``reason_min`` bans (p <= 0.1). Default levels: ``high`` from 6 bans
    (score 0.75), ``medium`` from 3 (0.5), so any one signal of 3 bans -- a
    strong fall in use alone -- raises a level. Customers without bills get bills
    inferred from their payments' periods; a recent bill open for fewer days after
    due than the customer's usual (90th percentile, earlier bills) is pending, not
    unpaid or late.

    From the feature table alone (``fit(X)``), the signals are the trend columns:

    - ``rising_delay``: ``delay_trend`` (days of delay per bill, slope over the
      last 12 bills) above ``delay_trend_min`` / ``delay_trend_full``.
    - ``more_late``: ``recent_late_share - late_share`` (last 3 bills vs the whole
      history), ``late_increase_min`` / ``late_increase_full``.
    - ``arrears``: ``arrears_amount > arrears_min``, discounted for customers who
      habitually leave bills unpaid: strength ``1 - unpaid_share /
      habitual_unpaid`` (clipped to [0, 1]; 1 without an ``unpaid_share`` column).
    - ``falling_amount``: ``-amount_trend`` (monthly slope of the amount paid as a
      fraction of the mean month), ``amount_drop_min`` / ``amount_drop_full``.

    and ``complaints``, complaints per customer in the optional complaints table,
    ``complaints_min`` / ``complaints_full`` (linear, capped at 1).

    Levels: ``high`` when the score reaches ``levels[0]``; ``medium`` when it
    reaches ``levels[1]`` *or* any one signal reaches strength ``single_signal``
    (so a strong fall in consumption, or any other single change, raises a level
    by itself); else ``low``. NaN features (no bills, too little history: fewer
    than 3 earlier bills) give no signal.

    Parameters
    ----------
    weights : mapping or None
        Weight per signal (missing signals weigh 0); default
        ``{"rising_delay": 0.27, "more_late": 0.23, "arrears": 0.15,
        "falling_amount": 0.25, "complaints": 0.1}`` for ``fit(X)``; with
        ``data`` the weights multiply each signal's evidence in bans, default 1
        for every signal but ``arrears`` (which the history replaces).
    delay_trend_min, delay_trend_full : float, default 0.25, 2
    late_increase_min, late_increase_full : float, default 0.1, 0.4
    arrears_min : float, default 0
    habitual_unpaid : float, default 0.25
    amount_drop_min, amount_drop_full : float, default 0.02, 0.06
    complaints_min, complaints_full : float, default 1, 3
    recent_bills : int, default 5
        Bills in the recent window of a monthly customer (``fit(X, data=...)``).
    evidence_scale : float, default 10
        Bans of evidence at which the score (or a signal's strength) is 0.9.
    reason_min : float, default 1
        Bans from which a signal is listed in the reasons (with ``data``).
    levels : tuple of float or None, default None
        Score cuts of the ``high`` and ``medium`` levels (score >= cut); None:
        (0.35, 0.15) for ``fit(X)``, (0.75, 0.5) with ``data`` (6 and 3 bans).
    single_signal : float, default 0.8
        Strength of one signal that makes a customer ``medium`` by itself.

    Attributes
    ----------
    signals_ : DataFrame
        customer_id -> strength of each signal (columns :data:`SIGNALS`).
    scores_ : Series
        customer_id -> risk score.
    reasons_ : Series
        customer_id -> the fired signals with their values, "; "-separated ("" when
        none fired).
    reasons_zh_ : Series
        The same reasons in Chinese, e.g. ``缴费延迟上升，每期增加 6 天；欠费 120 元``.
    labels_ : Series
        customer_id -> "high", "medium" or "low".
    history_ : DataFrame or None
        The recent-versus-earlier table when ``data`` was given, else None.
    evidence_ : Series or None
        customer_id -> evidence in bans behind the score when ``data`` was given.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"delay_trend": [6.0, 0.0], "arrears_amount": [120.0, 0.0],
    ...                   "amount_trend": [0.0, -0.1]},
    ...                  index=pd.Index(["a", "b"], name="customer_id"))
    >>> ew = EarlyWarning().fit(X)
    >>> ew.scores_.round(2).tolist()
    [0.41, 0.22]
    >>> ew.labels_.tolist()
    ['high', 'medium']
    >>> ew.reasons_["a"]
    'delay rising 6 days/bill; arrears 120 yuan'
    >>> ew.top(1).index.tolist()
    ['a']
    """

    def __init__(
        self,
        *,
        weights=None,
        delay_trend_min=0.25,
        delay_trend_full=2.0,
        late_increase_min=0.1,
        late_increase_full=0.4,
        arrears_min=0.0,
        habitual_unpaid=0.25,
        amount_drop_min=0.02,
        amount_drop_full=0.06,
        complaints_min=1.0,
        complaints_full=3.0,
        recent_bills=5,
        evidence_scale=10.0,
        reason_min=1.0,
        levels=None,
        single_signal=0.8,
    ):
        self.weights = weights
        self.delay_trend_min = delay_trend_min
        self.delay_trend_full = delay_trend_full
        self.late_increase_min = late_increase_min
        self.late_increase_full = late_increase_full
        self.arrears_min = arrears_min
        self.habitual_unpaid = habitual_unpaid
        self.amount_drop_min = amount_drop_min
        self.amount_drop_full = amount_drop_full
        self.complaints_min = complaints_min
        self.complaints_full = complaints_full
        self.recent_bills = recent_bills
        self.evidence_scale = evidence_scale
        self.reason_min = reason_min
        self.levels = levels
        self.single_signal = single_signal

    def _check_params(self, history):
        check_numbers(
            self,
            (
                "delay_trend_full",
                "late_increase_full",
                "amount_drop_full",
                "complaints_full",
                "habitual_unpaid",
                "single_signal",
                "evidence_scale",
            ),
            low=1e-12,
        )
        check_numbers(
            self,
            (
                "delay_trend_min",
                "late_increase_min",
                "arrears_min",
                "amount_drop_min",
                "complaints_min",
                "reason_min",
            ),
            low=0,
        )
        check_numbers(self, ("recent_bills",), low=1)
        for lo, full in (
            ("delay_trend_min", "delay_trend_full"),
            ("late_increase_min", "late_increase_full"),
            ("amount_drop_min", "amount_drop_full"),
        ):
            if not getattr(self, full) > getattr(self, lo):
                raise ValueError(
                    f"{full} must be greater than {lo}, got {getattr(self, full)!r} "
                    f"<= {getattr(self, lo)!r}"
                )
        default = _HISTORY_WEIGHTS if history else _DEFAULT_WEIGHTS
        weights = dict(default if self.weights is None else self.weights)
        unknown = set(weights) - set(SIGNALS)
        if unknown:
            raise ValueError(
                f"unknown signals in weights: {sorted(unknown)}; known: "
                f"{sorted(SIGNALS)}"
            )
        levels = self.levels
        if levels is None:
            levels = _HISTORY_LEVELS if history else _LEVELS
        check_cuts(
            levels,
            "levels",
            n=2,
            unit="scores",
            which="the high cut, then the medium cut",
        )
        return weights, levels

    def fit(self, X, y=None, *, complaints=None, data=None, as_of=None):
        """Score every customer of the feature table ``X``.

        Parameters
        ----------
        X : DataFrame
            Features indexed by customer_id (``delay_trend``, ``late_share``,
            ``recent_late_share``, ``arrears_amount``, ``amount_trend``, optional
            ``unpaid_share``).
        y : ignored
        complaints : DataFrame or Series, optional
            One row per complaint with a ``customer_id`` column (or a Series of
            customer ids); customers not in ``X`` are ignored.
        data : PaymentData, optional
            The payments and bills ``X`` was built from. When it has bills, every
            customer's recent bills are compared with their own earlier bills
            (see the class notes); otherwise the trend features are used.
        as_of : date-like, optional
            Last day of ``data`` to use (as in :func:`payseg.build_features`);
            default the latest payment or bill issue date.

        Returns
        -------
        self
        """
        X = as_frame(X)
        history = data is not None and data.bills is not None and len(data.bills)
        weights, levels = self._check_params(history)
        check_columns(X, _SIGNAL_COLUMNS, "EarlyWarning.fit")
        idx = X.index
        n_compl = self._complaints(complaints, idx)
        sig = pd.DataFrame(0.0, index=idx, columns=list(SIGNALS))
        texts = {}  # signal -> Series of reason pieces where it fired
        amount = column(X, "amount_trend")
        feature_falling = _saturate(
            -amount, self.amount_drop_min, self.amount_drop_full
        )
        if history:
            h = own_history(data, recent=int(self.recent_bills), as_of=as_of, index=idx)
            self.history_ = h
            # evidence in bans (-log10 of a tail probability) per signal
            ev = pd.DataFrame(0.0, index=idx, columns=list(SIGNALS))
            ev["rising_delay"] = h["delay_surprise"]
            ev["more_late"] = h["late_surprise"]
            ev["auto_debit_stopped"] = h["auto_surprise"]
            unpaid = h[["unpaid_surprise", "open_surprise", "silent_surprise"]]
            ev["unpaid_bills"] = unpaid.max(axis=1)
            ev["partial_payments"] = h["partial_surprise"]
            ev["falling_amount"] = h["fall_surprise"].where(
                h["fall_surprise"].notna(), FEATURE_FALL_BANS * feature_falling
            )
            use = -h["use_change"]
            texts["rising_delay"] = ("rising_delay_z", h["delay_z"], None)
            texts["more_late"] = ("more_late_z", h["late_recent"], h["late_earlier"])
            which = unpaid.fillna(0.0).to_numpy().argmax(axis=1)
            texts["unpaid_bills"] = [
                (
                    which == 0,
                    ("unpaid_bills", h["unpaid_recent"], h["unpaid_earlier"]),
                ),
                (which == 1, ("open_bill", h["open_days"], None)),
                (which == 2, ("silent", h["silent_days"], None)),
            ]
            texts["partial_payments"] = (
                "partial_payments",
                h["partial_recent"],
                h["partial_earlier"],
            )
            texts["auto_debit_stopped"] = ("auto_debit_stopped", h["auto_stop"], None)
            texts["falling_amount"] = ("falling_use", use, None)
        else:
            self.history_ = None
            delay = column(X, "delay_trend")
            more = column(X, "recent_late_share") - column(X, "late_share")
            arrears = column(X, "arrears_amount")
            habit = (
                column(X, "unpaid_share", 0.0).fillna(0.0) / self.habitual_unpaid
            ).clip(0.0, 1.0)
            sig["rising_delay"] = _saturate(
                delay, self.delay_trend_min, self.delay_trend_full
            )
            sig["more_late"] = _saturate(
                more, self.late_increase_min, self.late_increase_full
            )
            sig["arrears"] = ((arrears > self.arrears_min) * (1.0 - habit)).astype(
                "float64"
            )
            sig["falling_amount"] = feature_falling
            texts["rising_delay"] = ("delay rising ", delay, "{:.3g}", " days/bill")
            texts["more_late"] = (
                "late on ",
                column(X, "recent_late_share"),
                "{:.0%}",
                " of recent bills vs ",
            )
            texts["arrears"] = ("arrears ", arrears, "{:.4g}", " yuan")
        if not history or "falling_amount" not in texts:
            texts["falling_amount"] = ("amount falling ", -amount, "{:.1%}", "/month")
        texts["complaints"] = ("", n_compl, "{:.0f}", " complaints")
        w = pd.Series({k: float(weights.get(k, 0.0)) for k in sig.columns})
        if history:
            # complaints: one ban each from complaints_min, at most complaints_full
            ev["complaints"] = n_compl.clip(upper=self.complaints_full).where(
                n_compl >= self.complaints_min, 0.0
            )
            ev = ev.fillna(0.0).clip(lower=0.0) * w
            # delay, lateness and channel are views of the same recent payments
            # (one off-pattern payment moves all three): their strongest counts
            timing = ev[list(_SAME_PAYMENTS)].max(axis=1)
            total = timing + ev.drop(columns=list(_SAME_PAYMENTS)).sum(axis=1)
            scale = float(self.evidence_scale)
            sig = -np.expm1(-np.log(10.0) * ev / scale)
            score = -np.expm1(-np.log(10.0) * total.to_numpy() / scale)
            fired_at = (ev >= self.reason_min) & (w > 0)
            self.evidence_ = total.rename("evidence")
        else:
            sig["complaints"] = (
                (n_compl / self.complaints_full)
                .clip(0.0, 1.0)
                .where(n_compl >= self.complaints_min, 0.0)
            )
            score = sig.to_numpy() @ w.to_numpy()
            fired_at = (sig > 0) & (w > 0)
            self.evidence_ = None
        # Chinese wording of the level/trend reasons (the change reasons carry
        # theirs in CHANGE_REASONS)
        zh_words = {
            "rising_delay": ("缴费延迟上升，每期增加 ", " 天"),
            "more_late": ("近期逾期比例 ", "，历史为 "),
            "arrears": ("欠费 ", " 元"),
            "falling_amount": ("缴费金额下降，每月 ", ""),
            "complaints": ("投诉 ", " 次"),
        }

        def reasons_in(lang, sep_text):
            reasons = pd.Series("", index=idx, dtype="str")
            for k in sig.columns:  # loop over the signals, not customers
                fired = fired_at[k]
                piece = pd.Series("", index=idx, dtype="str")
                if fired.any():
                    spec = texts[k]
                    if isinstance(spec, list) or len(spec) == 3:
                        # a change reason: (key, value, earlier), or a list of
                        # (mask, reason) where the reason depends on the customer
                        parts = spec if isinstance(spec, list) else [(True, spec)]
                        text = pd.Series("", index=idx, dtype="str")
                        for mask, (key, v, earlier) in parts:
                            on = fired & mask
                            if not on.any():
                                continue
                            fmt = CHANGE_REASONS[key][lang]
                            vv = v[on].to_numpy(float)
                            ww = (
                                np.zeros(len(vv))
                                if earlier is None
                                else earlier[on].to_numpy(float)
                            )
                            text[on] = [fmt.format(v=a, w=b) for a, b in zip(vv, ww)]
                        text = text[fired]
                    else:
                        pre, vals, fmt, suf = spec
                        if lang:
                            pre, suf = zh_words[k]
                        # Format only the customers where the signal fired.
                        text = pre + vals[fired].map(fmt.format).astype("str") + suf
                        if k == "more_late":
                            text += column(X, "late_share")[fired].map("{:.0%}".format)
                    piece[fired] = text
                sep = pd.Series(
                    np.where((reasons != "") & fired, sep_text, ""), index=idx
                )
                reasons = reasons + sep + piece
            return reasons

        reasons = reasons_in(0, "; ")
        self.reasons_zh_ = reasons_in(1, "；").rename("reasons_zh")
        hi, med = levels
        strong = ((sig.to_numpy() >= self.single_signal) & (w.to_numpy() > 0)).any(
            axis=1
        )
        self.signals_ = sig
        self.scores_ = pd.Series(score, index=idx, name="warning_score")
        self.reasons_ = reasons.rename("reasons")
        self.labels_ = pd.Series(
            np.select(
                [score >= hi, (score >= med) | strong], ["high", "medium"], "low"
            ),
            index=idx,
            dtype="str",
            name="warning_level",
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
