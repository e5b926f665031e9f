"""Name segments after the payment-behaviour archetype their profile matches."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .._schema import NOISE
from .._vocab import ARCHETYPES
from ._common import (
    as_frame,
    check_columns,
    check_fitted,
    check_number,
    check_numbers,
    column,
)

__all__ = ["ARCHETYPES", "ArchetypeLabeller"]

# Features the rules read; absent columns are NaN and a rule on NaN does not fire.
_RULE_FEATURES = (
    "amount_per_year",
    "pay_count_per_year",
    "prepaid_share",
    "topup_interval_mean",
    "topup_amount_mean",
    "automatic_share",
    "late_share",
    "unpaid_share",
    "counter_share",
    "agent_share",
    "online_share",
    "delay_days_median",
    "days_to_due_mean",
)


class _Cond:
    """One comparison of a profile column with a threshold, vectorised over segments."""

    def __init__(self, profile: pd.DataFrame, col: str, op: str, thr: float):
        v = profile[col]
        self.mask = (v >= thr) if op == ">=" else (v <= thr)
        self.mask = self.mask.fillna(False).astype(bool)
        self.text = col + " " + v.map("{:.3g}".format) + f" {op} {thr:g}"

    def __and__(self, other):
        out = _Cond.__new__(_Cond)
        out.mask = self.mask & other.mask
        out.text = self.text + " and " + other.text
        return out

    def __or__(self, other):
        # The text names the condition that held (the first one when both did).
        out = _Cond.__new__(_Cond)
        out.mask = self.mask | other.mask
        out.text = self.text.where(self.mask, other.text)
        return out


class ArchetypeLabeller(BaseEstimator):
    """Name each segment after the archetype its profile (feature medians) matches.

    The rules are tried in this order on the segment's profile (the median of each
    feature over its customers, by default) and the first that holds names it:

    1. ``dormant``: ``amount_per_year <= dormant_amount_max`` and
       ``pay_count_per_year <= dormant_count_max`` (a vacant home pays little, rarely).
    2. prepaid: ``prepaid_share >= prepaid_min``, or at least ``prepaid_min`` of the
       segment's customers have no bill (``late_share`` NaN) while other customers in
       ``X`` have bills (without any bill in ``X``, as in cph.csv, prepaid meters cannot
       be told from missing bills). Then ``prepaid_frequent`` when
       ``topup_interval_mean <= topup_interval_max`` (or, without an interval,
       ``topup_amount_mean <= topup_amount_max``), else ``prepaid_occasional``.
    3. ``auto_debit``: ``automatic_share >= automatic_min``.
    4. ``chronic_late``: ``late_share >= late_min`` or ``unpaid_share >= unpaid_min``.
    5. ``counter_loyal``: ``counter_share >= counter_min``.
    6. ``agent_rural``: ``agent_share >= agent_min``.
    7. ``prompt_online``: ``online_share >= online_min`` and
       ``delay_days_median <= prompt_delay_max`` (days from bill issue).
    8. ``deadline``: ``deadline_days_min <= days_to_due_mean <= deadline_days_max``
       (days left before the due date when paying).
    9. ``mixed``: nothing held, an empty segment, or the noise label -1.

    A feature missing from ``X`` (or NaN for the whole segment) makes its rule fail, so
    a file without channels can still be named by timing and value rules. When several
    segments get the same archetype, the largest keeps the plain name and the others
    get a suffix: ``deadline 2``, ``截止日前缴费型 2``.

    Parameters
    ----------
    statistic : {"median", "mean"}, default "median"
        Segment profile statistic.
    dormant_amount_max : float, default 300
        Yuan per year (``amount_per_year``).
    dormant_count_max : float, default 4
        Payment dates per year (``pay_count_per_year``).
    prepaid_min : float, default 0.5
        Share of prepaid channel use, or of customers without bills.
    topup_interval_max : float, default 45
        Days between top-ups for ``prepaid_frequent``.
    topup_amount_max : float, default 200
        Yuan per top-up for ``prepaid_frequent`` when the interval is unknown.
    automatic_min : float, default 0.5
    late_min : float, default 0.5
        Share of bills paid after the due date.
    unpaid_min : float, default 0.2
        Share of bills still unpaid.
    counter_min : float, default 0.5
    agent_min : float, default 0.4
    online_min : float, default 0.5
    prompt_delay_max : float, default 5
        Median days from bill issue to payment.
    deadline_days_min, deadline_days_max : float, default -3, 5
        Mean days before the due date (negative: after it).

    Attributes
    ----------
    profiles_ : DataFrame
        One row per segment: ``size``, ``no_bill_share`` and the profile of every rule
        feature.
    archetypes_ : Series
        Segment id -> archetype key (no suffix).
    names_ : Series
        Segment id -> unique name (archetype key, with suffix for duplicates).
    names_zh_, names_en_ : Series
        Segment id -> Chinese / English name (with the same suffix).
    rules_ : Series
        Segment id -> the rule that fired, with the segment's values.
    labels_ : Series
        customer_id -> segment name (``names_`` mapped onto the fitted labels).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"automatic_share": [1.0, 0.9, 0.0, 0.0],
    ...                   "counter_share": [0.0, 0.0, 0.8, 1.0]},
    ...                  index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    >>> lab = ArchetypeLabeller().fit(X, pd.Series([0, 0, 1, 1], index=X.index))
    >>> lab.names_.tolist()
    ['auto_debit', 'counter_loyal']
    >>> lab.names_zh_[1], lab.rules_[1]
    ('柜台忠实型', 'counter_share 0.9 >= 0.5')
    """

    def __init__(
        self,
        *,
        statistic="median",
        dormant_amount_max=300.0,
        dormant_count_max=4.0,
        prepaid_min=0.5,
        topup_interval_max=45.0,
        topup_amount_max=200.0,
        automatic_min=0.5,
        late_min=0.5,
        unpaid_min=0.2,
        counter_min=0.5,
        agent_min=0.4,
        online_min=0.5,
        prompt_delay_max=5.0,
        deadline_days_min=-3.0,
        deadline_days_max=5.0,
    ):
        self.statistic = statistic
        self.dormant_amount_max = dormant_amount_max
        self.dormant_count_max = dormant_count_max
        self.prepaid_min = prepaid_min
        self.topup_interval_max = topup_interval_max
        self.topup_amount_max = topup_amount_max
        self.automatic_min = automatic_min
        self.late_min = late_min
        self.unpaid_min = unpaid_min
        self.counter_min = counter_min
        self.agent_min = agent_min
        self.online_min = online_min
        self.prompt_delay_max = prompt_delay_max
        self.deadline_days_min = deadline_days_min
        self.deadline_days_max = deadline_days_max

    def _check_params(self):
        if self.statistic not in ("median", "mean"):
            raise ValueError(
                f"statistic must be 'median' or 'mean', got {self.statistic!r}"
            )
        check_numbers(
            self,
            (
                "prepaid_min",
                "automatic_min",
                "late_min",
                "unpaid_min",
                "counter_min",
                "agent_min",
                "online_min",
            ),
            low=0,
            high=1,
        )
        check_numbers(
            self,
            (
                "dormant_amount_max",
                "dormant_count_max",
                "topup_interval_max",
                "topup_amount_max",
                "prompt_delay_max",
            ),
            low=0,
        )
        check_number(self.deadline_days_min, "deadline_days_min")
        check_number(
            self.deadline_days_max, "deadline_days_max", low=self.deadline_days_min
        )

    def _profiles(self, X: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
        feats = pd.DataFrame({c: column(X, c) for c in _RULE_FEATURES})
        has_bills = bool(column(X, "late_share").notna().any())
        feats["no_bill"] = column(X, "late_share").isna().astype("float64")
        if not has_bills:
            feats["no_bill"] = 0.0
        g = feats.groupby(labels, observed=False, sort=True)
        prof = g.median() if self.statistic == "median" else g.mean()
        prof = prof.rename(columns={"no_bill": "no_bill_share"})
        prof.insert(0, "size", g.size())
        if isinstance(labels.dtype, pd.CategoricalDtype):
            # Unused categories are empty segments: keep them (named mixed).
            prof = prof.reindex(labels.cat.categories)
            prof["size"] = prof["size"].fillna(0).astype("int64")
        prof.index.name = "segment"
        return prof

    def fit(self, X, labels):
        """Profile each segment of ``labels`` on ``X`` and name it.

        Parameters
        ----------
        X : DataFrame
            Feature table indexed by customer_id (:func:`payseg.build_features`);
            columns the rules do not use are ignored.
        labels : Series or array-like of shape (n_customers,)
            Segment id per customer (e.g. ``Segmenter.labels_``), aligned on the index
            of ``X`` when a Series. A categorical Series keeps its unused categories as
            empty segments.

        Returns
        -------
        self
        """
        self._check_params()
        X = as_frame(X)
        check_columns(X, _RULE_FEATURES, "ArchetypeLabeller.fit")
        if isinstance(labels, pd.Series):
            missing = X.index.difference(labels.index)
            if len(missing):
                raise ValueError(
                    f"labels has no segment for {len(missing)} customers of X "
                    f"(e.g. {list(missing[:3])}); pass labels indexed like X"
                )
            labels = labels.reindex(X.index)
        else:
            labels = np.asarray(labels)
            if len(labels) != len(X):
                raise ValueError(
                    f"labels has {len(labels)} entries but X has {len(X)} rows"
                )
            labels = pd.Series(labels, index=X.index)
        labels = labels.rename("segment")
        prof = self._profiles(X, labels)
        key, rule = self._apply_rules(prof)
        self.profiles_ = prof
        self.archetypes_ = key.rename("archetype")
        names = _suffixed(key, prof["size"])
        self.names_ = names.rename("name")
        suffix = names.str.replace(r"^\S+", "", regex=True)
        self.names_zh_ = (key.map(ARCHETYPES["name_zh"]) + suffix).rename("name_zh")
        self.names_en_ = (key.map(ARCHETYPES["name_en"]) + suffix).rename("name_en")
        self.rules_ = rule.rename("rule")
        self.labels_ = labels.map(self.names_).rename("name")
        return self

    def _apply_rules(self, prof: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        def c(col, op, thr):
            return _Cond(prof, col, op, float(thr))

        prepaid = c("prepaid_share", ">=", self.prepaid_min) | c(
            "no_bill_share", ">=", self.prepaid_min
        )
        interval_known = prof["topup_interval_mean"].notna()
        frequent = c("topup_interval_mean", "<=", self.topup_interval_max)
        by_amount = c("topup_amount_mean", "<=", self.topup_amount_max)
        frequent.mask = frequent.mask.where(interval_known, by_amount.mask)
        frequent.text = frequent.text.where(interval_known, by_amount.text)
        rules = [
            (
                "dormant",
                c("amount_per_year", "<=", self.dormant_amount_max)
                & c("pay_count_per_year", "<=", self.dormant_count_max),
            ),
            ("prepaid_frequent", prepaid & frequent),
            ("prepaid_occasional", prepaid),
            ("auto_debit", c("automatic_share", ">=", self.automatic_min)),
            (
                "chronic_late",
                c("late_share", ">=", self.late_min)
                | c("unpaid_share", ">=", self.unpaid_min),
            ),
            ("counter_loyal", c("counter_share", ">=", self.counter_min)),
            ("agent_rural", c("agent_share", ">=", self.agent_min)),
            (
                "prompt_online",
                c("online_share", ">=", self.online_min)
                & c("delay_days_median", "<=", self.prompt_delay_max),
            ),
            (
                "deadline",
                c("days_to_due_mean", ">=", self.deadline_days_min)
                & c("days_to_due_mean", "<=", self.deadline_days_max),
            ),
        ]
        empty = (prof["size"] == 0).to_numpy()
        noise = np.asarray(prof.index == NOISE)
        conds = [empty, noise] + [r.mask.to_numpy() for _, r in rules]
        keys = ["mixed", "mixed"] + [k for k, _ in rules]
        texts = [
            np.full(len(prof), "empty segment", dtype=object),
            np.full(len(prof), f"noise label {NOISE} (not a segment)", dtype=object),
        ]
        texts += [r.text.to_numpy(dtype=object) for _, r in rules]
        if len(prof):
            key = np.select(conds, keys, "mixed")
            # np.select needs texts as one array per condition, same shape.
            text = np.select(conds, texts, "no rule held")
        else:
            key = text = np.array([], dtype=object)
        # A prepaid segment reports both the prepaid and the frequency condition.
        is_occ = key == "prepaid_occasional"
        text = np.where(is_occ, text + " and not frequent", text)
        return (
            pd.Series(key, index=prof.index, dtype="str"),
            pd.Series(text, index=prof.index, dtype="str"),
        )

    def transform(self, labels) -> pd.Series:
        """Map segment ids to the fitted names (e.g. ``Segmenter.predict`` output).

        Examples
        --------
        >>> import pandas as pd
        >>> X = pd.DataFrame({"counter_share": [1.0, 0.0]},
        ...                  index=pd.Index(["a", "b"], name="customer_id"))
        >>> lab = ArchetypeLabeller().fit(X, [0, 1])
        >>> lab.transform(pd.Series([1, 0])).tolist()
        ['mixed', 'counter_loyal']
        """
        check_fitted(self, "names_")
        labels = labels if isinstance(labels, pd.Series) else pd.Series(labels)
        seen = labels.isin(self.names_.index) | labels.isna()
        if not seen.all():
            unknown = sorted(pd.unique(labels[~seen]).tolist(), key=str)
            raise ValueError(
                f"segment ids {unknown} were not seen in fit; "
                f"known: {self.names_.index.tolist()}"
            )
        return labels.map(self.names_).rename("name")


def _suffixed(key: pd.Series, size: pd.Series) -> pd.Series:
    """Unique names: duplicates of a key get " 2", " 3", ... by decreasing size."""
    order = pd.DataFrame({"key": key, "size": size, "pos": np.arange(len(key))})
    order = order.sort_values(["size", "pos"], ascending=[False, True], kind="stable")
    n = order.groupby("key", sort=False).cumcount() + 1
    name = order["key"].where(n == 1, order["key"] + " " + n.astype("str"))
    return name.reindex(key.index).astype("str")
