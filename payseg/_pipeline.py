"""One call from PaymentData to named, labelled segments: :func:`segment`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._schema import NO_DATA, NOISE, segment_order
from ._vocab import NO_DATA_NAMES, NOISE_NAMES, NOISE_OR_NO_DATA_NAMES
from .data import PaymentData

if TYPE_CHECKING:
    from .cluster import StabilityResult
    from .labels import Migration

__all__ = ["SegmentationResult", "predict_saved", "segment", "window_features"]


@dataclass
class SegmentationResult:
    """Everything one segmentation run produced; made by :func:`segment`.

    Attributes
    ----------
    data : PaymentData
        The input, with its rejected-row ledger.
    features : DataFrame
        The feature table (index customer_id), every customer; the segmenter was
        fitted on the rows of the customers with data (``~customers["no_data"]``).
    segmenter : payseg.Segmenter
        The fitted segmenter.
    labels : Series
        customer_id -> segment id; -1 (:data:`payseg.cluster.NOISE`) for noise of
        density methods and for customers without data (``customers["no_data"]``).
    segments : DataFrame
        One row per segment id, noise last: ``key`` (archetype key), ``name_en``,
        ``name_zh``, ``rule`` (why it got that name), ``size``, ``share``,
        ``action``, ``action_zh``, ``action_en``. Computed once, when the result is made: ``size`` and ``share``
        are counted from ``labels``, every id of ``labels`` has a row, and a
        segment without a name is called ``segment <id>`` (noise: ``noise``; -1
        holding customers without data: ``no data``, or ``noise or no data``).
    customers : DataFrame
        One row per customer: first the attributes of ``data.customers`` that
        are present (``customer_name`` 户名, ``address`` 用电地址, ``region``
        供电单位, ``collector`` 收费员, ``meter``, ``tariff``), then ``segment``,
        ``no_data`` (True for a customer without any payment or bill up to
        ``as_of``: segment -1, no archetype, value, grade or warning, action
        ``data_check``), ``archetype``, ``name_zh``, ``name_en`` (the segment's names, identical
        to ``segments``), ``value_class``, ``pyramid_tier``, ``credit_grade``,
        ``credit_score``, ``warning_score``, ``warning_level``,
        ``warning_reasons``, ``dominant_channel``, ``arrears_amount``, ``action``,
        ``action_zh``, ``action_en``.
    profiles : DataFrame
        Segment profiles from the segmenter (size, share, feature summaries).
    k_scores : DataFrame
        Scores of every k tried (empty when k was fixed).
    k_reason : str
        Why that k was chosen.
    stability : payseg.cluster.StabilityResult or None
        Bootstrap stability (per-segment Jaccard, ARI), when computed.
    warnings : DataFrame
        Top early-warning customers: ``score`` and ``reasons``.
    migration : payseg.labels.Migration or None
        Half-year migration between segments, when the data spans two windows.
    dominant_channel : Series
        customer_id -> dominant channel code (NaN without channels).
    """

    data: PaymentData
    features: pd.DataFrame
    segmenter: Any
    labels: pd.Series
    segments: pd.DataFrame
    customers: pd.DataFrame
    profiles: pd.DataFrame
    k_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    k_reason: str = ""
    stability: StabilityResult | None = None
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)
    migration: Migration | None = None
    dominant_channel: pd.Series | None = None

    def __post_init__(self):
        from .cluster import StabilityResult
        from .labels import Migration

        for name, kind in (("stability", StabilityResult), ("migration", Migration)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise TypeError(
                    f"SegmentationResult.{name} must be a "
                    f"{kind.__module__.split('._')[0]}.{kind.__name__} or None, got "
                    f"{type(value).__name__}"
                )
        self.segments = _segment_table(self.labels, self.segments)

    @property
    def names(self) -> pd.Series:
        """segment id -> English display name (``segments["name_zh"]`` has Chinese)."""
        return self.segments["name_en"]

    @property
    def rejected(self) -> pd.DataFrame:
        """The rejected-row ledger of the input."""
        return self.data.rejected

    def to_frame(self) -> pd.DataFrame:
        """Features and labels side by side, one row per customer."""
        extra = self.features.columns.difference(self.customers.columns, sort=False)
        return self.customers.join(self.features[extra], how="left")

    def report(self, path, **kwargs) -> Path:
        """Write the report: HTML (one self-contained file) or Markdown, by suffix."""
        from .report import render

        return render(self, path, **kwargs)

    def explain(self, customer_id, lang="zh") -> str:
        """Why a customer is in its segment, and the reasons for its grade and warning.

        The segment and the rule that named it, the two or three features on which
        the customer stands furthest from the median customer, the credit grade
        with what set it, and the early-warning signals (``customers`` columns
        ``explanation_zh`` / ``explanation_en``).

        Parameters
        ----------
        customer_id : str
        lang : {"zh", "en", "both"}, default "zh"

        Examples
        --------
        >>> import payseg
        >>> data = payseg.synth.generate(300, seed=1, months=12)
        >>> res = payseg.segment(data, n_clusters=5, migration=False)
        >>> cid = res.customers.index[0]
        >>> res.explain(cid, lang="en").startswith(res.customers.at[cid, "name_en"])
        True
        """
        cid = str(customer_id)
        if cid not in self.customers.index:
            raise KeyError(f"no customer {customer_id!r} in this result")
        row = self.customers.loc[cid]
        if lang not in ("zh", "en", "both"):
            raise ValueError(f"lang must be 'zh', 'en' or 'both', got {lang!r}")
        zh = str(row.get("explanation_zh", ""))
        en = str(row.get("explanation_en", ""))
        return {"zh": zh, "en": en, "both": f"{zh}\n{en}"}[lang]

    def workbook(self, path, **kwargs) -> Path:
        """Write the field-staff workbook (see :func:`payseg.report.write_workbook`)."""
        from .report import write_workbook

        return write_workbook(self, path, **kwargs)

    def save_model(self, path) -> None:
        """Save the segmenter with the segment names, for ``payseg predict``."""
        names = self.segments[["key", "name_en", "name_zh"]]
        # the model's own segment ids (label -1 only when it found noise)
        profiles = getattr(self.segmenter, "profiles_", None)
        if isinstance(profiles, pd.DataFrame):
            names = names[names.index.isin(profiles.index)]
            if NOISE in names.index and self.n_no_data:
                names = names.copy()
                names.loc[NOISE, ["name_zh", "name_en"]] = list(NOISE_NAMES)
        self.segmenter.save(path, segment_names=names)

    def _repr_html_(self) -> str:
        from .report import summary_html

        return summary_html(self)

    def __repr__(self) -> str:
        seg = self.segments
        share = seg["share"] if "share" in seg else pd.Series(np.nan, index=seg.index)
        sizes = ", ".join(f"{n} {s:.0%}" for n, s in zip(seg["name_en"], share))
        no_data = self.n_no_data
        extra = f", {no_data:,} without data" if no_data else ""
        return (
            f"SegmentationResult({len(self.labels):,} customers{extra}, "
            f"{len(self.segments)} segments: {sizes})"
        )

    @property
    def n_no_data(self) -> int:
        """Customers without any payment or bill (``customers["no_data"]``)."""
        flag = self.customers.get("no_data") if len(self.customers.columns) else None
        return 0 if flag is None else int(flag.fillna(False).astype(bool).sum())


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total, disable=not enabled, desc="payseg", unit="step", leave=False
    )


def segment(
    data: PaymentData,
    *,
    method: str = "kmeans",
    n_clusters="auto",
    random_state=0,
    features=None,
    as_of=None,
    cycle_months=None,
    segmenter_params: dict | None = None,
    stability: int = 0,
    migration: bool = True,
    actions=None,
    small_arrears: float = 100.0,
    n_warnings: int = 20,
    progress: bool = False,
) -> SegmentationResult:
    """Segment customers in one call: features, k, segments, names and labels.

    Runs :func:`payseg.build_features`, :class:`payseg.Segmenter`, then the labellers
    of :mod:`payseg.labels` (archetype names, value matrix, value pyramid, credit
    grade, early warning, service actions) and, when the data spans at least two
    half-years, the migration between segments.

    Parameters
    ----------
    data : PaymentData
        From :func:`payseg.load` or :func:`payseg.synth.generate`.
    method : str or clusterer, default "kmeans"
        Clustering back-end (see :class:`payseg.Segmenter`).
    n_clusters : "auto" or int, default "auto"
        Number of segments, or "auto" to choose it.
    random_state : int or None, default 0
        Seeds every random step.
    features : list of str, optional
        Feature columns to cluster on (default: the Segmenter's choice).
    as_of : date-like, optional
        Reference day of the features (default: the latest date in the data).
    cycle_months : int or Series, optional
        Months per billing cycle, for every customer (int) or per customer (Series
        indexed by customer id), passed to :func:`payseg.build_features`; it wins
        over a billing-cycle column of the customers table and over the cycle
        inferred from bill periods (a contradiction is warned about).
    segmenter_params : dict, optional
        Further :class:`payseg.Segmenter` parameters (``k_range``, ``scaler``, ...).
    stability : int, default 0
        Number of bootstrap refits for segment stability (0: skip).
    migration : bool, default True
        Compute half-year migration between segments when possible.
    actions : DataFrame or path, optional
        Your own service-actions table (see :func:`payseg.labels.load_actions`).
    small_arrears : float, default 100
        Arrears (yuan) below this get a payment reminder, never a cut-off notice
        (the ``arrears,small`` row of the actions table).
    n_warnings : int, default 20
        Length of the early-warning list ``result.warnings``: the customers with
        the highest early-warning scores (score > 0), highest first.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    SegmentationResult

    Examples
    --------
    >>> import payseg
    >>> data = payseg.synth.generate(600, seed=1, months=12)
    >>> result = payseg.segment(data, n_clusters=6, random_state=0, migration=False)
    >>> len(result.customers) == data.n_customers
    True
    >>> sorted(result.customers.columns)[:3]
    ['action', 'action_en', 'action_zh']
    >>> bool((result.customers["name_en"]
    ...       == result.customers["segment"].map(result.segments["name_en"])).all())
    True
    """
    from . import labels as lab
    from .cluster import Segmenter
    from .cluster import stability as _stability
    from .features import build_features

    if not isinstance(data, PaymentData):
        raise TypeError(
            f"segment() needs a PaymentData (from payseg.load or payseg.synth.generate),"
            f" got {type(data).__name__}"
        )
    if not (
        isinstance(n_warnings, (int, np.integer))
        and not isinstance(n_warnings, bool)
        and n_warnings >= 0
    ):
        raise ValueError(f"n_warnings must be an integer >= 0, got {n_warnings!r}")
    if len(data.payments) == 0:
        raise ValueError(
            "no payments to segment: every row was rejected or the "
            "input is empty; see data.rejected"
        )
    steps = 6 + bool(stability) + bool(migration)
    with _progress(steps, progress) as bar:
        bar.set_postfix_str("features")
        # has_data(data, as_of=X.attrs["as_of"]) from the same pass over the data.
        X, dominant, present = build_features(
            data,
            as_of=as_of,
            cycle_months=cycle_months,
            return_dominant=True,
            _return_has_data=True,
        )
        # Customers without any payment or bill up to as_of: reported, not segmented.
        no_data = ~present.reindex(X.index, fill_value=False)
        n_no = int(no_data.sum())
        Xd = X[~no_data] if n_no else X
        if n_no:
            warnings.warn(
                f"{n_no:,} of {len(X):,} customers have no payment or bill up to "
                f"{X.attrs['as_of']:%Y-%m-%d} (only in the customers table, or "
                "every row later): they get segment -1 and no_data=True, no grade "
                "or warning, and the action data_check; they are not segmented.",
                UserWarning,
                stacklevel=2,
            )
        bar.update()

        bar.set_postfix_str("segments")
        seg = Segmenter(
            method=method,
            n_clusters=n_clusters,
            features=features,
            random_state=random_state,
            **(segmenter_params or {}),
        )
        seg.fit(Xd)
        fitted = seg.labels_
        labels = fitted.reindex(X.index, fill_value=NO_DATA).astype("int64")
        bar.update()

        bar.set_postfix_str("names")
        namer = lab.ArchetypeLabeller().fit(Xd, fitted)
        bar.update()

        bar.set_postfix_str("value")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = lab.ValueMatrix().fit(data.payments)
            pyramid = lab.ValuePyramid().fit(Xd)
        bar.update()

        bar.set_postfix_str("credit and warnings")
        theft = data.customers["theft"] if "theft" in data.customers else None
        credit = lab.CreditGrade().fit(Xd, theft=theft)
        warn = lab.EarlyWarning().fit(Xd, data=data, as_of=as_of)
        bar.update()

        stab = None
        if stability:
            bar.set_postfix_str("stability")
            stab = _stability(seg, Xd, n_boot=int(stability), random_state=random_state)
            bar.update()

        mig = None
        if migration:
            bar.set_postfix_str("migration")
            mig = _migration(seg, data)
            bar.update()

        seg_names = pd.DataFrame(
            {"name_zh": namer.names_zh_, "name_en": namer.names_en_}
        )  # final names below
        customers = pd.DataFrame(
            {
                "segment": labels,
                "no_data": no_data,
                "archetype": namer.labels_.map(_strip_suffix_map(namer)),
                "name_zh": labels.map(seg_names["name_zh"]),
                "name_en": labels.map(seg_names["name_en"]),
                "value_class": value.labels_.reindex(X.index),
                "pyramid_tier": pyramid.labels_.reindex(X.index),
                "credit_grade": credit.labels_.reindex(X.index),
                "credit_score": credit.scores_.reindex(X.index),
                "warning_score": warn.scores_.reindex(X.index),
                "warning_level": warn.labels_.reindex(X.index),
                "warning_reasons": warn.reasons_.reindex(X.index),
                "dominant_channel": dominant.reindex(X.index),
            },
            index=X.index,
        )
        if n_no:  # no value class either (ValueMatrix reads every payment)
            customers["value_class"] = customers["value_class"].mask(no_data)
            customers["archetype"] = customers["archetype"].mask(no_data)
        if "arrears_amount" in X:
            customers["arrears_amount"] = X["arrears_amount"]
        table = None
        if actions is not None:
            table = (
                actions
                if isinstance(actions, pd.DataFrame)
                else lab.load_actions(actions)
            )
        rec = lab.recommend(
            customers.rename(
                columns={
                    "pyramid_tier": "tier",
                    "credit_grade": "grade",
                    "warning_level": "warning",
                }
            )
            .assign(data=np.where(no_data, "no_data", ""))
            .join(X[sorted(set(lab.HABIT_COLUMNS.values()) & set(X.columns))]),
            table=table,
            small_arrears=small_arrears,
        )
        customers["action"] = rec["action"]
        customers["action_zh"] = rec["action_zh"]
        customers["action_en"] = rec["action_en"]
        if n_no:
            # only the data check, even with a table without the data,no_data row
            check = _data_check_action(table)
            for col, text in zip(("action", "action_zh", "action_en"), check):
                customers.loc[no_data, col] = text
        segments = _segments(namer, customers, Xd)
        if n_no:
            segments = _name_no_data(segments, fitted)
        # One name per language, the same in customers and segments.
        customers["name_zh"] = labels.map(segments["name_zh"])
        customers["name_en"] = labels.map(segments["name_en"])
        customers["warning_reasons_zh"] = warn.reasons_zh_.reindex(X.index)
        customers = customers.join(
            lab.explain_customers(X, customers, segments, credit=credit)
        )
        if n_no:
            day = f"{X.attrs['as_of']:%Y-%m-%d}"
            customers.loc[no_data, "explanation_zh"] = (
                f"无数据：截至 {day} 无缴费和账单记录，未分群，无信用等级和预警。"
                "建议：核实客户档案。"
            )
            customers.loc[no_data, "explanation_en"] = (
                f"no data: no payment or bill up to {day}, so no segment, credit "
                "grade or warning. Action: check the customer record."
            )
        customers = _with_attributes(customers, data)
        bar.update()

    return SegmentationResult(
        data=data,
        features=X,
        segmenter=seg,
        labels=labels,
        segments=segments,
        customers=customers,
        profiles=seg.profiles_,
        k_scores=getattr(seg, "k_scores_", pd.DataFrame()),
        k_reason=getattr(seg, "k_reason_", ""),
        stability=stab,
        warnings=warn.top(n_warnings),
        migration=mig,
        dominant_channel=dominant,
    )


_SEGMENT_COLUMNS = ("key", "name_en", "name_zh", "rule", "size", "share", "action")


def _segment_table(
    labels: pd.Series, segments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per segment id of ``labels`` or ``segments``, noise last.

    ``size`` and ``share`` are counted from ``labels``; the columns of
    ``segments`` (names, rule, action, ...) are kept, the missing ones of
    ``key, name_en, name_zh, rule, action`` added empty; a segment without an
    English name is called ``segment <id>`` (the noise label: ``noise``/``噪声点``).
    """
    seg = segments if isinstance(segments, pd.DataFrame) else pd.DataFrame()
    labels = pd.Series(dtype=object) if labels is None else labels
    ids = list(dict.fromkeys(list(seg.index) + list(pd.unique(labels.dropna()))))
    out = pd.DataFrame(index=pd.Index(segment_order(ids), name="segment"))
    if len(seg.columns):
        out = out.join(seg.drop(columns=["size", "share"], errors="ignore"), how="left")
    sizes = labels.value_counts()
    out["size"] = sizes.reindex(out.index).fillna(0).astype("int64")
    out["share"] = out["size"] / max(int(sizes.sum()), 1)
    for col in ("name_zh", "name_en", "key", "rule", "action"):
        out[col] = (
            out[col].astype(object)
            if col in out
            else pd.Series(np.nan, index=out.index, dtype=object)
        )
    noise = [i for i in out.index if isinstance(i, (int, np.integer)) and i == NOISE]
    out.loc[noise, "name_zh"] = out.loc[noise, "name_zh"].fillna(NOISE_NAMES[0])
    out.loc[noise, "name_en"] = out.loc[noise, "name_en"].fillna(NOISE_NAMES[1])
    out["name_en"] = out["name_en"].where(
        out["name_en"].notna(), [f"segment {i}" for i in out.index]
    )
    first = [c for c in _SEGMENT_COLUMNS if c in out]
    return out[first + [c for c in out.columns if c not in first]]


def _data_check_action(table) -> tuple[str, str, str]:
    """(code, zh, en) of the ``data,no_data`` row of the actions table in use, else
    of the bundled table."""
    from .labels import load_actions

    for t in (table, load_actions()):
        if not isinstance(t, pd.DataFrame) or "kind" not in t:
            continue
        row = t[(t["kind"].astype(str) == "data") & (t["key"].astype(str) == "no_data")]
        if len(row):
            r = row.iloc[0]
            return str(r["action"]), str(r["action_zh"]), str(r["action_en"])
    raise AssertionError("the bundled actions table lacks its data,no_data row")


def _name_no_data(segments: pd.DataFrame, fitted: pd.Series) -> pd.DataFrame:
    """Name the row of label -1: "no data", or "noise or no data" when the
    clusterer also left customers as noise."""
    segments = segments.copy()
    if NO_DATA not in segments.index:
        segments.loc[NO_DATA] = np.nan
    zh, en = NOISE_OR_NO_DATA_NAMES if (fitted == NOISE).any() else NO_DATA_NAMES
    for col in ("name_zh", "name_en", "key", "rule", "rule_zh", "rule_en"):
        if col not in segments:
            segments[col] = pd.Series(np.nan, index=segments.index, dtype=object)
        segments[col] = segments[col].astype(object)
    segments.loc[NO_DATA, ["name_zh", "name_en"]] = [zh, en]
    segments.loc[NO_DATA, "rule_en"] = "no payment or bill up to as_of (not segmented)"
    segments.loc[NO_DATA, "rule_zh"] = "截至参考日无缴费和账单记录（未分群）"
    return segments


def _strip_suffix_map(namer) -> dict:
    """Display name ('deadline 2') -> archetype key ('deadline')."""
    return dict(zip(namer.names_.to_numpy(), namer.archetypes_.to_numpy()))


def _segments(namer, customers: pd.DataFrame, X: pd.DataFrame) -> pd.DataFrame:
    """Names, rule and action per segment (size and share: _segment_table).

    Segments sharing an archetype are named by what sets them apart
    (:func:`payseg.labels.distinct_names`); ``rule`` keeps the rule in feature
    codes, ``rule_zh``/``rule_en`` say it in words.
    """
    from .labels import action_text, action_texts, distinct_names, plain_rules

    # The most common action of a segment's customers is the segment's action.
    action = customers.groupby("segment")["action"].agg(
        lambda s: s.value_counts().index[0]
    )
    names = distinct_names(namer, X)
    rules = plain_rules(namer)
    out = pd.DataFrame(
        {
            "key": namer.archetypes_,
            "name_en": names["name_en"],
            "name_zh": names["name_zh"],
            "rule": namer.rules_,
            "rule_zh": rules["rule_zh"],
            "rule_en": rules["rule_en"],
            "differs_by": names["differs_by"],
            "action": action,
        }
    )
    # The wording of each segment's action beside its code (customers carry it).
    texts = action_texts(customers)
    pairs = [
        action_text(a, k, texts) or ("", "") for a, k in zip(out["action"], out["key"])
    ]
    out["action_zh"] = [zh for zh, _ in pairs]
    out["action_en"] = [en for _, en in pairs]
    return out


#: Customer attributes carried from ``data.customers`` into ``result.customers``,
#: in this order, first: 户名, 用电地址, 供电单位, 收费员, 表计类型, 电价类别.
ATTRIBUTES = ("customer_name", "address", "region", "collector", "meter", "tariff")


def _with_attributes(customers: pd.DataFrame, data: PaymentData) -> pd.DataFrame:
    """The input's customer attributes (name, address, region, ...) first.

    From ``data.customers``; without a region there, the region of the customer's
    latest payment that has one.
    """
    table = data.customers
    table = table[~table.index.duplicated(keep="first")]
    p = data.payments
    if (
        ("region" not in table or table["region"].isna().all())
        and "region" in p
        and p["region"].notna().any()
    ):
        last = (
            p.loc[p["region"].notna(), ["customer_id", "paid_at", "region"]]
            .sort_values("paid_at")
            .drop_duplicates("customer_id", keep="last")
            .set_index("customer_id")["region"]
            .astype(object)
        )
        table = table.drop(columns="region", errors="ignore").join(
            last.rename("region"), how="outer"
        )
    cols = [c for c in ATTRIBUTES if c in table.columns and c not in customers]
    if not cols:
        return customers
    attrs = table[cols].reindex(customers.index)
    for c in cols:
        if isinstance(attrs[c].dtype, pd.CategoricalDtype):
            attrs[c] = attrs[c].astype(object)
    return pd.concat([attrs, customers], axis=1)


def _migration(segmenter, data: PaymentData):
    """Half-year migration with the fitted segmenter frozen; None if too short."""
    from .labels import Migration

    dates = data.payments["paid_at"]
    if dates.empty or (dates.max() - dates.min()) < pd.Timedelta(days=360):
        return None
    try:
        tables, windows = window_features(data, window_months=6, return_windows=True)
        return Migration(segmenter).fit(tables, windows=windows)
    except ValueError as exc:  # e.g. fewer than two windows with customers
        warnings.warn(f"migration skipped: {exc}", RuntimeWarning, stacklevel=3)
        return None


def _windows(data: PaymentData, months: int, min_coverage: float) -> pd.DataFrame:
    """Calendar-aligned windows of ``months`` months covering the data enough."""
    if not (
        isinstance(months, (int, np.integer))
        and not isinstance(months, bool)
        and 1 <= months <= 12
        and 12 % months == 0
    ):
        raise ValueError(
            f"window_months must divide 12 (1, 2, 3, 4, 6 or 12), got {months!r}"
        )
    if not (
        isinstance(min_coverage, (int, float, np.floating))
        and not isinstance(min_coverage, bool)
        and 0 <= min_coverage <= 1
    ):
        raise ValueError(
            f"min_coverage must be a number in [0, 1], got {min_coverage!r}"
        )
    dates = data.payments["paid_at"]
    if "period" in data.payments.columns:
        per = data.payments["period"]
        dates = per.dt.to_timestamp().where(per.notna(), dates)
    if len(data.bills):
        dates = pd.concat([dates, data.bills["period"].dt.to_timestamp()])
    if dates.empty:
        raise ValueError("window_features: the data has no payments or bills")
    lo, hi = dates.min(), dates.max()
    m = months
    rows, start = [], pd.Timestamp(lo.year, (lo.month - 1) // m * m + 1, 1)
    while start <= hi:  # loop over windows, a handful
        end = start + pd.DateOffset(months=m)
        label = (
            f"{start:%Y}"
            if m == 12
            else f"{start:%Y}H{(start.month - 1) // 6 + 1}"
            if m == 6
            else f"{start:%Y}Q{(start.month - 1) // 3 + 1}"
            if m == 3
            else f"{start:%Y-%m}"
        )
        span = min(hi + pd.Timedelta(days=1), end) - max(lo, start)
        if span / (end - start) >= min_coverage:
            rows.append((label, start, end))
        start = end
    return pd.DataFrame(rows, columns=["window", "start", "end"]).set_index("window")


def window_features(
    data: PaymentData,
    *,
    window_months=6,
    min_coverage=0.5,
    features=None,
    return_windows=False,
):
    """The feature table of each period window of ``data`` (oldest first).

    What :class:`payseg.labels.Migration` segments with a frozen model. A payment
    belongs to the window of the billing period it settles (so a bill of the
    window's last month paid a few days later still counts as paid), else to the
    window of its payment date; a bill to the window of its period.

    Parameters
    ----------
    data : PaymentData
    window_months : int, default 6
        Window length in months. Windows are aligned on the calendar year (6: Jan-Jun
        and Jul-Dec; 3: quarters; 12: years).
    min_coverage : float, default 0.5
        A window at either end of the data is kept only when the data span covers at
        least this share of it (a half-year with two weeks of data would compare
        unlike with like).
    features : callable, optional
        ``features(data, as_of=...) -> DataFrame``; default
        :func:`payseg.build_features`. ``as_of`` is the window's last day, or its
        last payment when later.
    return_windows : bool, default False
        Also return the windows: a DataFrame indexed by window label with ``start``
        and ``end`` (exclusive), for ``Migration.fit(..., windows=)``.

    Returns
    -------
    dict of window label -> DataFrame
        Only customers with a payment or a bill in the window; windows without any
        are left out. With ``return_windows``, a pair (tables, windows).

    Examples
    --------
    >>> import payseg
    >>> data = payseg.synth.generate(200, seed=0, months=12)
    >>> tables = payseg.window_features(data)
    >>> list(tables)
    ['2024H1', '2024H2']
    """
    if not isinstance(data, PaymentData):
        raise TypeError(
            f"window_features needs a PaymentData (from payseg.load or "
            f"payseg.synth.generate), got {type(data).__name__}"
        )
    build = features
    if build is None:
        from .features import build_features as build
    p, b = data.payments, data.bills
    when = p["paid_at"]
    if "period" in p.columns:
        when = p["period"].dt.to_timestamp().where(p["period"].notna(), when)
    bill_when = b["period"].dt.to_timestamp() if len(b) else None
    tables, kept = {}, []
    for label, (start, end) in _windows(data, window_months, min_coverage).iterrows():
        pw = p[(when >= start) & (when < end)]
        bw = b[(bill_when >= start) & (bill_when < end)] if len(b) else b
        if pw.empty and bw.empty:
            continue
        sub = PaymentData(
            payments=pw.reset_index(drop=True),
            bills=bw.reset_index(drop=True),
            customers=data.customers,
        )
        as_of = end - pd.Timedelta(days=1)
        if len(pw):
            as_of = max(as_of, pw["paid_at"].max().normalize())
        X = build(sub, as_of=as_of)
        # Only customers active in the window: no payment and no bill, no label.
        active = pd.Index(pw["customer_id"]).union(pd.Index(bw["customer_id"]))
        tables[label] = X.loc[X.index.isin(active)]
        kept.append((label, start, end))
    if not return_windows:
        return tables
    windows = pd.DataFrame(kept, columns=["window", "start", "end"]).set_index("window")
    return tables, windows


def predict_saved(model, data: PaymentData, *, cycle_months=None) -> pd.DataFrame:
    """Assign the customers of ``data`` to the segments of a saved model.

    Parameters
    ----------
    model : str, Path or Segmenter
        A file written by ``payseg segment`` / :meth:`SegmentationResult.save_model`
        (or :meth:`Segmenter.save`), or a Segmenter loaded from one.
    data : PaymentData
    cycle_months : int or Series, optional
        The billing cycle given to :func:`payseg.build_features` (as in
        :func:`payseg.segment`); give the one the model was fitted with.

    Returns
    -------
    DataFrame indexed by customer_id: ``segment``, when the model carries them
    ``name_zh`` and ``name_en`` (as in ``customers.csv`` and ``segments.csv``), and
    ``no_data`` (True for a customer without any payment or bill: segment -1, named
    ``no data``, never assigned).
    """
    from .cluster import Segmenter
    from .features import build_features

    seg = model if isinstance(model, Segmenter) else Segmenter.load(model)
    X, present = build_features(data, cycle_months=cycle_months, _return_has_data=True)
    present = present.reindex(X.index, fill_value=False)
    labels = pd.Series(NO_DATA, index=X.index, dtype="int64", name="segment")
    if present.any():
        labels[present.to_numpy()] = seg.predict(X[present]).to_numpy()
    out = labels.to_frame()
    names = getattr(seg, "segment_names_", None)
    if isinstance(names, pd.DataFrame) and len(names):
        names = names.copy()
        names.index = names.index.astype(np.int64)
        out["name_zh"] = out["segment"].map(names["name_zh"])
        out["name_en"] = out["segment"].map(names["name_en"])
        out.loc[~present, ["name_zh", "name_en"]] = list(NO_DATA_NAMES)
    out["no_data"] = ~present
    return out
