"""Segment names and naming rules a manager reads: plain Chinese and English.

:func:`plain_rules` words the rule that named each segment (``automatic_share 0.958
>= 0.5`` becomes "96% of payments by automatic debit (at least 50%)");
:func:`distinct_names` names segments that share an archetype by the feature that
sets each apart ("counter-loyal, higher amount per year" rather than
"counter-loyal 2").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._vocab import ARCHETYPES

__all__ = ["FEATURE_WORDS", "distinct_names", "explain_customers", "plain_rules"]

#: Feature -> (Chinese, English) noun used in names and explanations.
FEATURE_WORDS = {
    "amount_per_year": ("年缴费金额", "amount per year"),
    "pay_count_per_year": ("年缴费次数", "payments per year"),
    "days_to_due_mean": ("截止日前缴费天数", "days paid before the due date"),
    "delay_days_median": ("发行后缴费天数", "days from bill to payment"),
    "late_share": ("逾期缴费比例", "share of bills paid late"),
    "unpaid_share": ("未缴账单比例", "share of bills unpaid"),
    "automatic_share": ("代扣缴费比例", "auto-debit share"),
    "online_share": ("线上缴费比例", "online share"),
    "counter_share": ("柜台缴费比例", "counter share"),
    "agent_share": ("代收点缴费比例", "agent-outlet share"),
    "prepaid_share": ("预付费比例", "prepaid share"),
    "topup_interval_mean": ("充值间隔", "days between top-ups"),
    "topup_amount_mean": ("单次充值金额", "top-up amount"),
    "arrears_amount": ("欠费金额", "arrears"),
    "recency_days": ("距最近缴费天数", "days since the last payment"),
    "channel_migration": ("转向线上缴费程度", "move to online channels"),
    "lump_share": ("一次结清多期比例", "share of lump payments"),
    "fallback_share": ("代扣失败后补缴比例", "payments after a failed debit"),
}


def _v(row, col):
    v = row.get(col, np.nan)
    try:
        return float(v)
    except (TypeError, ValueError):
        return np.nan


def _pct(v) -> str:
    return "?" if np.isnan(v) else f"{v:.0%}"


def _num(v, fmt="{:.0f}") -> str:
    return "?" if np.isnan(v) else fmt.format(v)


def _rule_words(key: str, row, p) -> tuple[str, str]:
    """(中文, English) of the rule that named a segment with profile ``row``."""
    v = lambda c: _v(row, c)  # noqa: E731
    if key == "dormant":
        return (
            f"年缴费仅 {_num(v('amount_per_year'))} 元、{_num(v('pay_count_per_year'), '{:.1f}')} 次"
            f"（不超过 {p.dormant_amount_max:g} 元且 {p.dormant_count_max:g} 次）：疑似空置或休眠",
            f"pays only {_num(v('amount_per_year'))} yuan a year in "
            f"{_num(v('pay_count_per_year'), '{:.1f}')} payments (at most "
            f"{p.dormant_amount_max:g} yuan and {p.dormant_count_max:g} payments): "
            "likely vacant or dormant",
        )
    if key in ("prepaid_frequent", "prepaid_occasional"):
        iv, amt = v("topup_interval_mean"), v("topup_amount_mean")
        how_zh = (
            f"约每 {_num(iv)} 天充值一次"
            if not np.isnan(iv)
            else f"每次充值约 {_num(amt)} 元"
        )
        how_en = (
            f"tops up about every {_num(iv)} days"
            if not np.isnan(iv)
            else f"tops up about {_num(amt)} yuan at a time"
        )
        kind_zh = "小额频繁" if key == "prepaid_frequent" else "大额偶尔"
        kind_en = "frequent" if key == "prepaid_frequent" else "occasional"
        return (
            f"预付费（费控）客户，{how_zh}（{kind_zh}，界限 "
            f"{p.topup_interval_max:g} 天）",
            f"prepaid meter, {how_en} ({kind_en}; the line is "
            f"{p.topup_interval_max:g} days)",
        )
    if key == "auto_debit":
        return (
            f"{_pct(v('automatic_share'))} 的缴费由银行代扣（至少 "
            f"{p.automatic_min:.0%}）",
            f"{_pct(v('automatic_share'))} of payments by automatic debit "
            f"(at least {p.automatic_min:.0%})",
        )
    if key == "chronic_late":
        return (
            f"{_pct(v('late_share'))} 的账单逾期缴费、{_pct(v('unpaid_share'))} 未缴"
            f"（逾期至少 {p.late_min:.0%} 或未缴至少 {p.unpaid_min:.0%}）",
            f"{_pct(v('late_share'))} of bills paid late, "
            f"{_pct(v('unpaid_share'))} unpaid (late at least {p.late_min:.0%} "
            f"or unpaid at least {p.unpaid_min:.0%})",
        )
    if key == "counter_loyal":
        return (
            f"{_pct(v('counter_share'))} 的缴费在营业厅柜台（至少 "
            f"{p.counter_min:.0%}）",
            f"{_pct(v('counter_share'))} of payments at a service-hall counter "
            f"(at least {p.counter_min:.0%})",
        )
    if key == "agent_rural":
        return (
            f"{_pct(v('agent_share'))} 的缴费在社会化代收点（至少 {p.agent_min:.0%}）",
            f"{_pct(v('agent_share'))} of payments at agent outlets "
            f"(at least {p.agent_min:.0%})",
        )
    if key == "prompt_online":
        return (
            f"{_pct(v('online_share'))} 线上缴费，账单发行后 "
            f"{_num(v('delay_days_median'))} 天内缴清（线上至少 "
            f"{p.online_min:.0%}，不超过 {p.prompt_delay_max:g} 天）",
            f"{_pct(v('online_share'))} of payments online, paid "
            f"{_num(v('delay_days_median'))} days after the bill (online at least "
            f"{p.online_min:.0%}, within {p.prompt_delay_max:g} days)",
        )
    if key == "deadline":
        d = v("days_to_due_mean")
        when_zh = (
            f"截止日前 {_num(d, '{:.1f}')} 天"
            if d >= 0
            else f"截止日后 {_num(-d, '{:.1f}')} 天"
        )
        when_en = (
            f"{_num(d, '{:.1f}')} days before the due date"
            if d >= 0
            else f"{_num(-d, '{:.1f}')} days after the due date"
        )
        return (
            f"平均在{when_zh}缴费（截止日前 {p.deadline_days_max:g} 天到截止日后 "
            f"{-p.deadline_days_min:g} 天之间）",
            f"pays on average {when_en} (from {p.deadline_days_max:g} days "
            f"before to {-p.deadline_days_min:g} days after it)",
        )
    return (
        "没有一条命名规则成立：各项缴费特征都不突出",
        "no naming rule held: no payment feature stands out",
    )


def plain_rules(namer) -> pd.DataFrame:
    """The rule that named each segment, in plain Chinese and English.

    Parameters
    ----------
    namer : ArchetypeLabeller
        Fitted.

    Returns
    -------
    DataFrame indexed by segment: ``rule_zh``, ``rule_en``.

    Examples
    --------
    >>> import pandas as pd
    >>> from payseg.labels import ArchetypeLabeller
    >>> X = pd.DataFrame({"automatic_share": [0.96, 0.0], "counter_share": [0.0, 0.8]},
    ...                  index=pd.Index(["a", "b"], name="customer_id"))
    >>> plain_rules(ArchetypeLabeller().fit(X, [0, 1]))["rule_en"].tolist()
    ['96% of payments by automatic debit (at least 50%)', '80% of payments at a service-hall counter (at least 50%)']
    """
    prof = namer.profiles_
    rows = {}
    for sid, key in namer.archetypes_.items():
        row = prof.loc[sid] if sid in prof.index else pd.Series(dtype=float)
        size = _v(row, "size")
        if not np.isnan(size) and size == 0:
            rows[sid] = ("空分群", "empty segment")
        elif isinstance(sid, (int, np.integer)) and sid < 0:
            rows[sid] = ("噪声点：不属于任何分群", "noise: in no segment")
        else:
            rows[sid] = _rule_words(str(key), row, namer)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["rule_zh", "rule_en"])


def distinct_names(namer, X: pd.DataFrame) -> pd.DataFrame:
    """Names that tell apart segments sharing an archetype.

    A segment whose archetype no other segment has keeps its plain name. Segments
    that share one are each suffixed with the feature whose median differs most
    (in standard deviations of ``X``) from the other segments of that archetype:
    ``柜台忠实型（年缴费金额较高）`` / ``counter-loyal, higher amount per year``. When
    two of them would still read the same, the number of the old suffix is kept.

    Parameters
    ----------
    namer : ArchetypeLabeller
        Fitted on ``X``.
    X : DataFrame
        The feature table.

    Returns
    -------
    DataFrame indexed by segment: ``name_zh``, ``name_en``, ``differs_by`` (the
    feature, empty for a unique archetype).
    """
    keys = namer.archetypes_.astype(str)
    prof = namer.profiles_
    cols = [c for c in FEATURE_WORDS if c in X.columns]
    med = pd.DataFrame({c: pd.to_numeric(X[c], errors="coerce") for c in cols})
    labels = namer.labels_.map({n: s for s, n in namer.names_.items()})
    med = med.groupby(labels.reindex(med.index)).median()
    sd = pd.DataFrame({c: pd.to_numeric(X[c], errors="coerce") for c in cols}).std()
    zh = namer.names_zh_.astype(str).copy()
    en = namer.names_en_.astype(str).copy()
    by = pd.Series("", index=keys.index, dtype="str")
    for key, group in keys.groupby(keys):
        ids = (
            [
                i
                for i in group.index
                if i in med.index
                and not (isinstance(i, (int, np.integer)) and i < 0)
                and _v(prof.loc[i], "size") > 0
            ]
            if len(group) > 1
            else []
        )
        if len(ids) < 2:
            continue
        base_zh, base_en = (
            ARCHETYPES.loc[key, "name_zh"],
            ARCHETYPES.loc[key, "name_en"],
        )
        for sid in ids:
            others = med.loc[[i for i in ids if i != sid]].mean()
            diff = ((med.loc[sid] - others) / sd.replace(0, np.nan)).dropna()
            if diff.empty:
                continue
            col = diff.abs().idxmax()
            up = diff[col] > 0
            w_zh, w_en = FEATURE_WORDS[col]
            zh[sid] = f"{base_zh}（{w_zh}{'较高' if up else '较低'}）"
            en[sid] = f"{base_en}, {'higher' if up else 'lower'} {w_en}"
            by[sid] = col
        # Still the same wording (three segments, same feature): keep the numbers.
        for names in (zh, en):
            dup = names[ids].duplicated(keep=False)
            for sid in dup[dup].index:
                suffix = namer.names_[sid].split(" ")[-1]
                if suffix.isdigit():
                    names[sid] = f"{names[sid]} {suffix}"
    return pd.DataFrame({"name_zh": zh, "name_en": en, "differs_by": by})


def _fmt(col: str, v: float) -> str:
    if np.isnan(v):
        return "?"
    if col.endswith("_share"):
        return f"{v:.0%}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.1f}"


def explain_customers(
    X: pd.DataFrame,
    customers: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    n_features=3,
    credit=None,
) -> pd.DataFrame:
    """Why each customer got its segment, grade and warning, in Chinese and English.

    The segment and its rule (``segments["rule_zh"]``/``rule_en``); the
    ``n_features`` features of :data:`FEATURE_WORDS` on which the customer stands
    furthest from the median of all customers (in robust standard deviations), with
    the customer's value and the median; the credit grade with the features behind
    its score (and a forced grade: theft, long arrears, new customer); the
    early-warning reasons.

    Parameters
    ----------
    X : DataFrame
        Feature table.
    customers : DataFrame
        ``SegmentationResult.customers`` (segment, credit_grade, credit_score,
        warning_level, warning_reasons, warning_reasons_zh).
    segments : DataFrame
        ``SegmentationResult.segments`` (name_zh, name_en, rule_zh, rule_en).
    n_features : int, default 3
    credit : CreditGrade, optional
        The fitted grader, for its ``forced_`` and ``new_``.

    Returns
    -------
    DataFrame indexed like ``customers``: ``explanation_zh``, ``explanation_en``.
    """
    ids = customers.index
    cols = [c for c in FEATURE_WORDS if c in X.columns]
    F = X.reindex(ids)[cols].apply(pd.to_numeric, errors="coerce").astype("float64")
    med = F.median()
    spread = (F - med).abs().median() * 1.4826
    spread = spread.where(spread > 0, F.std()).replace(0, np.nan)
    Z = ((F - med) / spread).to_numpy()
    Z = np.where(np.isnan(Z), 0.0, Z)
    order = np.argsort(-np.abs(Z), axis=1, kind="stable")[:, :n_features]
    vals = F.to_numpy()
    seg = customers.get("segment", pd.Series(np.nan, index=ids))
    s_zh = seg.map(segments.get("name_zh", pd.Series(dtype=object)))
    s_en = seg.map(segments.get("name_en", pd.Series(dtype=object)))
    r_zh = seg.map(segments.get("rule_zh", pd.Series(dtype=object)))
    r_en = seg.map(segments.get("rule_en", pd.Series(dtype=object)))
    grade = customers.get("credit_grade", pd.Series("", index=ids)).astype(str)
    score = pd.to_numeric(
        customers.get("credit_score", pd.Series(np.nan, index=ids)), errors="coerce"
    )
    forced = (
        credit.forced_.reindex(ids).fillna("").astype(str)
        if credit is not None and hasattr(credit, "forced_")
        else pd.Series("", index=ids)
    )
    new = (
        credit.new_.reindex(ids).fillna(False).astype(bool)
        if credit is not None and hasattr(credit, "new_")
        else pd.Series(False, index=ids)
    )
    late = (
        pd.to_numeric(X.reindex(ids).get("late_share"), errors="coerce")
        if "late_share" in X
        else pd.Series(np.nan, index=ids)
    )
    months = (
        pd.to_numeric(X.reindex(ids).get("max_months_in_arrears"), errors="coerce")
        if "max_months_in_arrears" in X
        else pd.Series(np.nan, index=ids)
    )
    w_zh = customers.get("warning_reasons_zh", pd.Series("", index=ids)).fillna("")
    w_en = customers.get("warning_reasons", pd.Series("", index=ids)).fillna("")
    level = customers.get("warning_level", pd.Series("", index=ids)).astype(str)
    # Plain lists: the loop below reads them per customer without pandas overhead.
    s_zh, s_en, r_zh, r_en, grade, forced, w_zh, w_en, level = (
        list(x) for x in (s_zh, s_en, r_zh, r_en, grade, forced, w_zh, w_en, level)
    )
    score, late, months = (
        np.asarray(x, dtype="float64") for x in (score, late, months)
    )
    new = np.asarray(new, dtype=bool)
    med = med.to_dict()
    out_zh, out_en = [], []
    for i in range(len(ids)):  # text per customer: one pass, no pandas inside
        feats_zh, feats_en = [], []
        for j in order[i]:
            z = Z[i, j]
            if abs(z) < 0.5:
                continue
            col = cols[j]
            wzh, wen = FEATURE_WORDS[col]
            v, m = vals[i, j], med[col]
            feats_zh.append(
                f"{wzh}{'高' if z > 0 else '低'}（{_fmt(col, v)}，"
                f"全体中位 {_fmt(col, m)}）"
            )
            feats_en.append(
                f"{'high' if z > 0 else 'low'} {wen} ({_fmt(col, v)} vs "
                f"median {_fmt(col, m)})"
            )
        g, f = grade[i], forced[i]
        why_zh, why_en = [], []
        if f == "theft":
            why_zh.append("有窃电记录，强制最低级")
            why_en.append("theft on record forces the lowest grade")
        elif f == "arrears":
            why_zh.append(f"欠费 {months[i]:.1f} 个月，强制最低级")
            why_en.append(f"{months[i]:.1f} months in arrears forces the lowest grade")
        elif new[i]:
            why_zh.append("新客户，给予中间等级")
            why_en.append("new customer: middle grade")
        else:
            if not np.isnan(late[i]):
                why_zh.append(f"逾期比例 {late[i]:.0%}")
                why_en.append(f"{late[i]:.0%} of bills late")
            if not np.isnan(months[i]) and months[i] > 0:
                why_zh.append(f"最长欠费 {months[i]:.1f} 个月")
                why_en.append(f"longest arrears {months[i]:.1f} months")
        sc = "" if np.isnan(score[i]) else f" {score[i]:.0f}"
        credit_zh = f"信用 {g}（得分{sc}；{'，'.join(why_zh) or '无账单记录'}）"
        credit_en = f"credit {g} (score{sc}; {', '.join(why_en) or 'no bills'})"
        warn_zh = f"预警 {level[i]}：{w_zh[i]}" if w_zh[i] else "无预警信号"
        warn_en = f"warning {level[i]}: {w_en[i]}" if w_en[i] else "no warning signal"
        out_zh.append(
            f"{s_zh[i]}：{r_zh[i]}。突出特征："
            + ("；".join(feats_zh) or "与全体接近")
            + f"。{credit_zh}。{warn_zh}。"
        )
        out_en.append(
            f"{s_en[i]}: {r_en[i]}. Stands out by: "
            + ("; ".join(feats_en) or "close to the median customer")
            + f". {credit_en}. {warn_en}."
        )
    return pd.DataFrame({"explanation_zh": out_zh, "explanation_en": out_en}, index=ids)
