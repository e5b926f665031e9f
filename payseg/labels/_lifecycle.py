"""Lifecycle stage (新户 / 成长 / 成熟 / 衰退 / 流失) and churn warning (流失预警)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ._common import as_frame, check_columns, check_numbers, column

__all__ = ["LIFECYCLE_STAGES", "Lifecycle"]

#: Stage code -> Chinese name, in the order the rules are applied.
LIFECYCLE_STAGES = {
    "lost": "流失",
    "new": "新户",
    "declining": "衰退",
    "growing": "成长",
    "mature": "成熟",
}

#: Churn reason key -> (English, Chinese) text; ``{v}`` is the value.
CHURN_REASONS = {
    "silent": ("no payment for {v:.0f} days", "{v:.0f} 天未缴费"),
    "falling_amount": ("amount falling {v:.1%}/month", "缴费金额每月下降 {v:.1%}"),
    "more_late": ("late on {v:.0%} of recent bills", "近期逾期账单 {v:.0%}"),
    "arrears": ("{v:.1f} months in arrears", "欠费 {v:.1f} 个月"),
}

_COLUMNS = (
    "tenure_days",
    "recency_days",
    "amount_trend",
    "delay_trend",
    "recent_late_share",
    "late_share",
    "max_months_in_arrears",
)


class Lifecycle(BaseEstimator):
    """Lifecycle stage and churn warning per customer, from the feature table.

    Stages, the first rule that holds wins:

    1. ``lost`` (流失): no payment for ``lost_days`` days or more
       (``recency_days``);
    2. ``new`` (新户): first payment less than ``new_days`` ago (``tenure_days``);
    3. ``declining`` (衰退): the amount paid falls by ``decline_amount`` of the mean
       month per month or more (``amount_trend``), or the delay grows by
       ``decline_delay`` days per bill or more (``delay_trend``);
    4. ``growing`` (成长): tenure under ``mature_days``, or the amount paid grows by
       ``decline_amount`` per month or more;
    5. ``mature`` (成熟): everyone else.

    Churn warning (流失预警), for customers not yet ``lost``: at least one of

    - ``silent``: no payment for ``silent_days`` days or more;
    - ``falling_amount``: ``amount_trend <= -churn_amount``;
    - ``more_late``: ``recent_late_share - late_share >= late_increase`` (recent
      bills paid late more often than the customer used to);
    - ``arrears``: ``max_months_in_arrears >= arrears_months``.

    A missing column or a NaN value gives no evidence for its rule (a customer
    with unknown tenure is not ``new``). ``recency_days`` counts to the end of
    the extract, so ``lost_days`` and ``silent_days`` should exceed one billing
    cycle (bimonthly billing: raise them).

    Parameters
    ----------
    lost_days : float, default 120
    new_days : float, default 180
    mature_days : float, default 730
    decline_amount : float, default 0.03
    decline_delay : float, default 2
    silent_days : float, default 60
    churn_amount : float, default 0.05
    late_increase : float, default 0.3
    arrears_months : float, default 2

    Attributes
    ----------
    labels_ : Series
        customer_id -> stage code (``"new"``, ``"growing"``, ``"mature"``,
        ``"declining"``, ``"lost"``).
    labels_zh_ : Series
        customer_id -> Chinese stage name (新户 / 成长 / 成熟 / 衰退 / 流失).
    churn_warning_ : Series of bool
        customer_id -> 流失预警.
    churn_reasons_ : Series
        customer_id -> the churn reasons, English, "; "-separated ("" when none).
    churn_reasons_zh_ : Series
        The same in Chinese, "；"-separated.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame(
    ...     {"tenure_days": [90, 400, 1000, 1000, 1000],
    ...      "recency_days": [10, 20, 15, 200, 70],
    ...      "amount_trend": [0.0, 0.01, 0.0, 0.0, -0.06]},
    ...     index=pd.Index(list("abcde"), name="customer_id"))
    >>> lc = Lifecycle().fit(X)
    >>> lc.labels_zh_.tolist()
    ['新户', '成长', '成熟', '流失', '衰退']
    >>> lc.churn_warning_.tolist()
    [False, False, False, False, True]
    >>> lc.churn_reasons_["e"]
    'no payment for 70 days; amount falling 6.0%/month'
    """

    def __init__(
        self,
        *,
        lost_days=120.0,
        new_days=180.0,
        mature_days=730.0,
        decline_amount=0.03,
        decline_delay=2.0,
        silent_days=60.0,
        churn_amount=0.05,
        late_increase=0.3,
        arrears_months=2.0,
    ):
        self.lost_days = lost_days
        self.new_days = new_days
        self.mature_days = mature_days
        self.decline_amount = decline_amount
        self.decline_delay = decline_delay
        self.silent_days = silent_days
        self.churn_amount = churn_amount
        self.late_increase = late_increase
        self.arrears_months = arrears_months

    def fit(self, X, y=None):
        """Stage and churn warning for every customer of ``X``.

        Parameters
        ----------
        X : DataFrame
            Features indexed by customer_id (``tenure_days``, ``recency_days``,
            ``amount_trend``, ``delay_trend``, ``recent_late_share``,
            ``late_share``, ``max_months_in_arrears``; any subset).
        y : ignored

        Returns
        -------
        self
        """
        check_numbers(
            self,
            (
                "lost_days",
                "new_days",
                "mature_days",
                "decline_amount",
                "decline_delay",
                "silent_days",
                "churn_amount",
                "late_increase",
                "arrears_months",
            ),
            low=1e-12,
        )
        if not self.silent_days < self.lost_days:
            raise ValueError(
                f"silent_days must be less than lost_days, got {self.silent_days!r} "
                f">= {self.lost_days!r}"
            )
        X = as_frame(X)
        check_columns(X, _COLUMNS, "Lifecycle.fit")
        idx = X.index
        tenure = column(X, "tenure_days")
        recency = column(X, "recency_days")
        amount = column(X, "amount_trend")
        delay = column(X, "delay_trend")
        more = column(X, "recent_late_share") - column(X, "late_share")
        arrears = column(X, "max_months_in_arrears")
        # comparisons with NaN are False: no evidence, no rule
        rules = [
            ("lost", recency >= self.lost_days),
            ("new", tenure < self.new_days),
            (
                "declining",
                (amount <= -self.decline_amount) | (delay >= self.decline_delay),
            ),
            ("growing", (tenure < self.mature_days) | (amount >= self.decline_amount)),
        ]
        stage = np.select(
            [r.to_numpy() for _, r in rules], [k for k, _ in rules], "mature"
        )
        self.labels_ = pd.Series(stage, index=idx, dtype="str", name="lifecycle")
        self.labels_zh_ = (
            self.labels_.map(LIFECYCLE_STAGES).astype("str").rename("lifecycle_zh")
        )
        fired = {
            "silent": (recency >= self.silent_days, recency),
            "falling_amount": (amount <= -self.churn_amount, -amount),
            "more_late": (more >= self.late_increase, column(X, "recent_late_share")),
            "arrears": (arrears >= self.arrears_months, arrears),
        }
        alive = (self.labels_ != "lost").to_numpy()
        en = pd.Series("", index=idx, dtype="str")
        zh = pd.Series("", index=idx, dtype="str")
        for key, (hit, value) in fired.items():  # loop over 4 rules, not customers
            hit = hit.to_numpy() & alive
            if not hit.any():
                continue
            t_en, t_zh = CHURN_REASONS[key]
            vals = value.to_numpy(float)[hit]
            for out, fmt, sep in ((en, t_en, "; "), (zh, t_zh, "；")):
                texts = np.array([fmt.format(v=v) for v in vals], dtype=object)
                old = out.to_numpy(dtype=object)[hit]
                glue = np.where(old != "", sep, "")
                out.iloc[np.flatnonzero(hit)] = old + glue + texts
        self.churn_warning_ = pd.Series(
            en.to_numpy() != "", index=idx, name="churn_warning"
        )
        self.churn_reasons_ = en.rename("churn_reasons")
        self.churn_reasons_zh_ = zh.rename("churn_reasons_zh")
        return self
