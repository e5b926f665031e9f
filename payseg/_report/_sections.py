"""Report sections: what a segmentation result says, as document blocks."""

from __future__ import annotations

import datetime as _dt
import re

import numpy as np
import pandas as pd

from ._model import (
    _Bullets,
    _figure,
    _Grid,
    _int,
    _isnan,
    _money,
    _num,
    _Para,
    _pct,
    _Section,
    _Sub,
    _Swatch,
    _Table,
    _text,
    _Two,
)

# --------------------------------------------------------------- helpers on result
_BUNDLED: dict | None = None


def _bundled_actions() -> dict:
    """Wording of the bundled actions table: code and (code, key) -> (zh, en)."""
    global _BUNDLED
    if _BUNDLED is None:
        try:
            from ..labels import load_actions

            t = load_actions()
        except (ImportError, KeyError, OSError):  # pragma: no cover - no table
            t = pd.DataFrame(columns=["action", "key", "action_zh", "action_en"])
        _BUNDLED = {}
        for a, k, zh, en in zip(t["action"], t["key"], t["action_zh"], t["action_en"]):
            _BUNDLED.setdefault(a, (zh, en))  # first row of a code: the default
            _BUNDLED[(a, str(k))] = (zh, en)
    return _BUNDLED


def _base_key(key):
    """Archetype key without its duplicate suffix ('deadline 2' -> 'deadline')."""
    return None if _isnan(key) else re.sub(r" \d+$", "", str(key))


def _action_texts(result) -> dict:
    """Action code and (code, key) -> (中文, English) for the actions of ``result``.

    The bundled table, overlaid with the wording the result itself carries: columns
    ``action_zh``/``action_en`` beside ``action`` in ``result.customers`` (keyed by
    ``archetype``) or ``result.segments`` (keyed by ``key``). So codes from the
    user's own table (``payseg.segment(actions=...)``) read as text too, and a
    re-worded default code shows the user's words.
    """
    texts = dict(_bundled_actions())
    for frame, key_col in ((result.customers, "archetype"), (result.segments, "key")):
        if not isinstance(frame, pd.DataFrame) or "action" not in frame:
            continue
        cols = [c for c in ("action", key_col, "action_zh", "action_en") if c in frame]
        if len(cols) < 2 or not {"action_zh", "action_en"} & set(cols):
            continue
        # A few distinct (code, key, wording) rows, not one per customer.
        for r in frame[cols].drop_duplicates().itertuples(index=False):
            r = r._asdict()
            code = _text(r["action"])
            zh, en = _text(r.get("action_zh")), _text(r.get("action_en"))
            if not code or not (zh or en):
                continue
            pair = (zh, en)
            if not en:  # only the Chinese is known: the bundled English if it is
                known = [v for k, v in texts.items() if k == code or k[:1] == (code,)]
                pair = next(((z, e) for z, e in known if z == zh), (zh, code))
            texts.setdefault(code, pair)
            if key_col in r:
                texts[(code, _base_key(r[key_col]))] = pair
    return texts


def _action(value, key=None, texts=None):
    """Readable action: an action code becomes 中文 / English (see _action_texts).

    ``key`` (the archetype, tier, ...) picks the wording when several rows share a
    code (``keep_e_bill`` for auto-debit and for online payers).
    """
    if _isnan(value) or value == "":
        return ""
    texts = _bundled_actions() if texts is None else texts
    pair = texts.get((str(value), _base_key(key))) or texts.get(str(value))
    if not pair:
        return str(value)
    zh, en = pair
    return _Two(zh, en) if zh else _Two(en, "")


def _segment_table(result) -> pd.DataFrame:
    """One row per segment id seen in the labels or in result.segments."""
    seg = result.segments if isinstance(result.segments, pd.DataFrame) else None
    labels = result.labels
    ids = list(pd.unique(labels.dropna())) if labels is not None else []
    if seg is not None:
        ids = list(dict.fromkeys(list(seg.index) + ids))
    from ..plot._common import segment_order

    order = segment_order(pd.Series(ids, dtype=object)) if ids else []
    out = pd.DataFrame(index=pd.Index(order, name="segment"))
    if seg is not None and len(seg):
        out = out.join(seg, how="left")
    sizes = labels.value_counts() if labels is not None else pd.Series(dtype=int)
    out["size"] = sizes.reindex(out.index).fillna(0).astype("int64")
    total = max(int(sizes.sum()), 1)
    out["share"] = out["size"] / total
    for col in ("name_zh", "name_en", "key", "rule", "action"):
        out[col] = out[col].astype(object) if col in out else pd.Series(
            np.nan, index=out.index, dtype=object)
    noise = [i for i in out.index if isinstance(i, (int, np.integer)) and i < 0]
    out.loc[noise, "name_en"] = out.loc[noise, "name_en"].fillna("noise")
    out.loc[noise, "name_zh"] = out.loc[noise, "name_zh"].fillna("噪声点")
    out["name_en"] = out["name_en"].astype(object).where(
        out["name_en"].notna(), [f"segment {i}" for i in out.index])
    return out


def _colors(ids) -> dict:
    from ..plot import segment_colors

    return segment_colors(ids)


def _has_values(X):
    """has(*columns): True when X has a non-missing value in any of them."""
    def has(*columns):
        return X is not None and any(c in X and X[c].notna().any() for c in columns)
    return has


def _dominant_channel(result, segs: pd.DataFrame) -> pd.Series:
    prof = result.profiles if isinstance(result.profiles, pd.DataFrame) else None
    if prof is None or "dominant_channel" not in prof:
        return pd.Series(np.nan, index=segs.index, dtype=object)
    from ..channels import table

    t = table()
    codes = prof["dominant_channel"].reindex(segs.index)
    return codes.map(lambda c: c if _isnan(c) or c not in t.index
                     else f"{t.at[c, 'name_zh']} ({t.at[c, 'name_en']})")


def _n_segments(result) -> int:
    labels = result.labels
    if labels is None or labels.empty:
        return 0
    ids = pd.unique(labels.dropna())
    return int(sum(1 for i in ids if not (isinstance(i, (int, np.integer)) and i < 0)))


def _method(result) -> str:
    seg = result.segmenter
    method = getattr(seg, "method", None)
    return str(method) if method is not None else type(seg).__name__


# ------------------------------------------------------------------ sections
def _header(result) -> tuple[list, list]:
    data = result.data
    p = data.payments
    n_cust = len(result.labels) if result.labels is not None else data.n_customers
    cards = [
        (_int(n_cust), "customers 客户"),
        (_int(len(p)), "payments 缴费笔数"),
        (_int(_n_segments(result)), "segments 分群"),
    ]
    if len(p):
        cards.append((f"{p['paid_at'].min():%Y-%m} – {p['paid_at'].max():%Y-%m}",
                      "period 时间范围"))
        cards.append((_money(p["amount"].sum()).rsplit(".", 1)[0], "yuan paid 缴费金额（元）"))
    cards.append((_int(len(data.rejected)), "rejected rows 拒收行"))
    meta = [
        f"Method {_method(result)}, k = {_n_segments(result)}",
        f"generated {_dt.datetime.now():%Y-%m-%d %H:%M}",
    ]
    return cards, meta


def _n_warnings(w) -> int:
    """Customers on the warning list whose level is not "low"."""
    if not isinstance(w, pd.DataFrame) or w.empty:
        return 0
    level = next((c for c in ("level", "warning_level") if c in w), None)
    return int((w[level].astype(str).str.lower() != "low").sum()) if level else len(w)


def _key_points(result, segs) -> list:
    """A few sentences a manager reads first."""
    points = []
    real = segs[[not (isinstance(i, (int, np.integer)) and i < 0) for i in segs.index]]
    if len(real):
        top = real.sort_values("size", ascending=False).head(3)
        parts = [f"{_text(r['name_en'])} {_pct(r['share'])}" for _, r in top.iterrows()]
        points.append(f"{len(real)} segments; the largest: " + ", ".join(parts) + ".")
    keys = segs["key"].astype(str)
    late = segs.loc[keys.isin(["chronic_late", "deadline"]).to_numpy()]
    if len(late):
        points.append(f"{int(late['size'].sum()):,} customers "
                      f"({late['share'].sum():.1%}) are in deadline-driven or "
                      "chronically late segments: candidates for reminders and "
                      "auto-debit offers.")
    p = result.data.payments
    if "channel" in p and p["channel"].notna().any():
        from ..channels import table

        # value_counts on the categorical, then groups per code: no per-row strings.
        vc = p["channel"].value_counts()
        groups = pd.Series([str(c) for c in vc.index]).map(table()["group"])
        share = vc.to_numpy()[groups.isin(["counter", "agent"]).to_numpy()].sum() \
            / max(int(vc.sum()), 1)
        points.append(f"{share:.1%} of payments are made at counters or agent "
                      "outlets.")
    n_w = _n_warnings(result.warnings)
    if n_w:
        points.append(f"{n_w:,} customers are on the early-warning list (section "
                      "Early warnings).")
    rej = result.data.rejected
    if len(rej):
        points.append(f"{len(rej):,} input rows were rejected; see the reasons in "
                      "the data summary.")
    noise = segs.loc[[isinstance(i, (int, np.integer)) and i < 0 for i in segs.index]]
    if len(noise) and noise["size"].sum():
        points.append(f"{int(noise['size'].sum()):,} customers "
                      f"({noise['share'].sum():.1%}) fit no segment (noise).")
    return points


def _section_data(result, lang) -> _Section:
    from .. import plot

    data = result.data
    p = data.payments
    blocks: list = []
    counts = dict(data.counts) if data.counts else {}
    if not counts:
        counts = {"payments": {"read": len(p), "kept": len(p)}}
        if len(data.bills):
            counts["bills"] = {"read": len(data.bills), "kept": len(data.bills)}
    rej = data.rejected
    rows = []
    for source, c in counts.items():
        read, kept = c.get("read", np.nan), c.get("kept", np.nan)
        rows.append([str(source), _int(read), _int(kept), _int(read - kept),
                     _pct((read - kept) / read if read else np.nan)])
    blocks.append(_Sub("Rows read and kept", "读取与保留的行数"))
    blocks.append(_Table(["source 来源", "read 读取", "kept 保留", "rejected 拒收",
                          "rejected % 拒收比例"], rows, num={1, 2, 3, 4}))
    if len(rej):
        g = rej.assign(_n=1).groupby(["source", "reason"], sort=False, dropna=False)
        by = g.agg(rows=("_n", "size"), lines=("line", lambda s: list(s.head(3))),
                   values=("value", lambda s: list(s.head(3)))).sort_values(
            "rows", ascending=False)
        rrows = []
        for (source, reason), r in by.iterrows():
            lines = ", ".join(_text(x) for x in r["lines"])
            vals = ", ".join(repr(_text(x)) for x in r["values"])
            rrows.append([_text(source), _text(reason), _int(r["rows"]), lines, vals])
        blocks.append(_Sub("Rejected rows by reason", "拒收原因"))
        blocks.append(_Table(["source 来源", "reason 原因", "rows 行数",
                              "first lines 行号", "example values 示例值"],
                             rrows, num={2}))
    else:
        blocks.append(_Para("No input row was rejected. 没有拒收的行。", "note"))
    facts = []
    if len(p):
        facts.append(f"{len(p):,} payments from {p['paid_at'].min():%Y-%m-%d} to "
                     f"{p['paid_at'].max():%Y-%m-%d}, {p['amount'].sum():,.2f} yuan in "
                     f"total; {len(data.bills):,} bills.")
    has_channel = "channel" in p and p["channel"].notna().any()
    if has_channel:
        facts.append(f"Payment channel known for {p['channel'].notna().mean():.1%} of "
                     "payments.")
    else:
        facts.append("The data has no payment channel: segments are found from "
                     "payment timing and amounts only, and the channel plots are "
                     "left out. 数据中没有缴费渠道。")
    if not len(data.bills):
        facts.append("No bills: payment delay against the due date cannot be measured. "
                     "没有账单数据，无法计算缴费延迟。")
    blocks.append(_Para(" ".join(facts)))
    has_region = ("region" in p and p["region"].notna().any()) or (
        "region" in data.customers and data.customers["region"].notna().any())
    both = has_channel and has_region
    # Side by side when both maps exist; the calendar alone reads better full width.
    figs = [_figure("calendar", lambda ax: plot.plot_payment_calendar(data, lang=lang,
                                                                      ax=ax),
                    "Payments per day of the month. 每月各日缴费笔数。",
                    (6.4, 4.6) if both else (8.0, 4.6))]
    if both:
        figs.append(_figure("region_channel",
                            lambda ax: plot.plot_region_channel(data, lang=lang, ax=ax),
                            "Channel mix per region, most counter-bound first. "
                            "各地区渠道构成（柜台占比高者在前）。", (6.4, 4.6)))
    blocks.append(_Grid(figs) if len(figs) > 1 else figs[0])
    return _Section("data", "Data summary", "数据概况", blocks)


def _section_segments(result, segs, colors, lang) -> _Section:
    from .. import plot

    X, labels = result.features, result.labels
    blocks: list = []
    main = _dominant_channel(result, segs)
    texts = _action_texts(result)
    rows = []
    for sid, r in segs.iterrows():
        color = colors.get(sid, "#999999")
        rows.append([_Swatch(color, str(sid)), _text(r["name_zh"]), _text(r["name_en"]),
                     _int(r["size"]), _pct(r["share"]), _text(main.get(sid)),
                     _action(r["action"], r["key"], texts)])
    blocks.append(_Para(
        f"{_n_segments(result)} segments over {int(segs['size'].sum()):,} customers. "
        "Each segment is named after the payment-behaviour archetype its profile "
        "matches; the action is the service recommended for most of its customers."))
    blocks.append(_Table(["segment 分群", "名称", "name", "customers 客户数",
                          "share 占比", "main channel 主要渠道",
                          "recommended action 建议措施"], rows, num={3, 4},
                         nowrap={0, 1}))
    names = segs[["name_zh", "name_en"]]
    has = _has_values(X)
    if has("online_share", "counter_share", "automatic_share"):
        blocks.append(_figure(
            "channel_mix",
            lambda ax: plot.plot_channel_mix(X, labels, names=names, lang=lang, ax=ax),
            "Channel families per segment (mean share of each customer's payments). "
            "各分群缴费渠道构成。", (8.5, 1.9 + 0.42 * len(segs))))
    else:
        blocks.append(_Para("No channel mix: the data has no payment channel. "
                            "无缴费渠道数据。", "note"))
    if has("delay_days_mean"):
        blocks.append(_figure(
            "delay",
            lambda ax: plot.plot_delay_distribution(X, labels, names=names, lang=lang,
                                                    ax=ax),
            "Mean payment delay per customer; boxes span the middle half of the "
            "segment. 各分群平均缴费延迟分布。", (8.5, 1.5 + 0.42 * len(segs))))
    else:
        blocks.append(_Para("No payment delays: the data has no bills with due dates. "
                            "无账单数据，无法计算缴费延迟。", "note"))
    if X is not None and labels is not None and len(X):
        blocks.append(_figure(
            "embedding",
            lambda ax: plot.plot_embedding(X, labels, names=names, lang=lang, ax=ax),
            "Customers projected to two dimensions (PCA); nearby points pay alike. "
            "客户二维投影，点越近缴费行为越相似。", (8.0, 6.0)))
    return _Section("segments", "Segments", "客户分群", blocks)


def _section_profiles(result, segs, colors, lang) -> _Section:
    from .. import plot

    X, labels = result.features, result.labels
    blocks: list = [_Para(
        "Each cell is the segment's median; red is above the median of all customers, "
        "blue below (in standard deviations). 单元格为分群中位数，红色高于全体、蓝色低于全体。",
        "note")]
    if X is not None and labels is not None and len(X):
        from ..plot._segments import _profile_columns

        names = segs[["name_zh", "name_en"]]
        n_rows = len(_profile_columns(X, labels.reindex(X.index)))
        blocks.append(_figure(
            "profiles",
            lambda ax: plot.plot_profiles(X, labels, names=names, lang=lang, ax=ax),
            "Segment profiles. 分群画像。",
            (min(3.0 + 1.1 * len(segs), 12.0), 1.9 + 0.42 * max(n_rows, 2))))
    if segs["rule"].notna().any():
        rules = [[_Swatch(colors.get(sid, "#999999"), str(sid)), _text(r["name_en"]),
                  _text(r["rule"])] for sid, r in segs.iterrows()]
        blocks.append(_Sub("Why each segment got its name", "命名依据"))
        blocks.append(_Table(["segment", "name", "rule that matched 匹配规则"], rules,
                             nowrap={0, 1}))
    return _Section("profiles", "Segment profiles", "分群画像", blocks)


def _section_k(result, lang) -> _Section:
    from .. import plot

    blocks: list = []
    reason = result.k_reason or "k was given by the user."
    blocks.append(_Para(reason, "callout"))
    ks = result.k_scores
    chosen = _n_segments(result) or None
    if isinstance(ks, pd.DataFrame) and not ks.empty:
        blocks.append(_figure(
            "k_scores", lambda ax: plot.plot_k_scores(ks, chosen=chosen, lang=lang,
                                                      ax=ax),
            "Every score scaled to [0, 1], higher is better. 各指标缩放到 0–1，越高越好。",
            (8.0, 4.2)))
        cols = [c for c in ks.columns if not str(c).endswith("_se")]
        rows, hl = [], set()
        for pos, (k, r) in enumerate(ks.iterrows()):
            rows.append([str(k)] + [_num(r[c], 3) for c in cols])
            if chosen is not None and str(k) == str(chosen):
                hl.add(pos)
        readable = {"silhouette": "silhouette ↑", "calinski_harabasz":
                    "Calinski-Harabasz ↑", "davies_bouldin": "Davies-Bouldin ↓",
                    "bic": "BIC ↓", "gap": "gap ↑", "stability": "stability ↑"}
        blocks.append(_Table(["k"] + [readable.get(str(c), str(c)) for c in cols], rows,
                             num=set(range(len(cols) + 1)), highlight=hl))
    else:
        blocks.append(_Para("The number of segments was fixed, so no other k was "
                            "scored. 分群数为指定值。", "note"))
    return _Section("k", "Choosing the number of segments", "分群数的选择", blocks)


def _verdict(j: float) -> str:
    # Hennig (2007): >= 0.85 highly stable, >= 0.75 stable, 0.6-0.75 a pattern,
    # below 0.6 the segment dissolves under resampling.
    if _isnan(j):
        return "–"
    if j >= 0.85:
        return "highly stable 非常稳定"
    if j >= 0.75:
        return "stable 稳定"
    if j >= 0.6:
        return "a pattern, not certain 有一定规律"
    return "unstable 不稳定"


def _section_stability(result, segs, colors) -> _Section:
    st = result.stability
    blocks: list = []
    if st is None:
        blocks.append(_Para("Stability was not computed (pass stability=True to "
                            "payseg.segment). 未计算稳定性。", "note"))
        return _Section("stability", "Stability", "稳定性", blocks)
    if isinstance(st, pd.DataFrame):
        jac, ari = st, st.attrs.get("ari")
    else:
        jac = getattr(st, "jaccard", None)
        ari = getattr(st, "ari_mean", None)
        if ari is None and getattr(st, "ari", None) is not None:
            ari = float(np.mean(st.ari))
    if ari is not None and not isinstance(ari, (int, float, np.floating)):
        ari = float(np.mean(ari))
    if ari is not None:
        blocks.append(_Para(
            f"Refitting on bootstrap resamples gives an adjusted Rand index of "
            f"{ari:.2f} with the reported segmentation (1 = identical). "
            f"自助重抽样后与本分群结果的调整兰德指数为 {ari:.2f}。", "callout"))
    if isinstance(jac, pd.DataFrame) and len(jac):
        col = "jaccard" if "jaccard" in jac else ("mean" if "mean" in jac
                                                   else jac.columns[0])
        rows = []
        for sid, r in jac.iterrows():
            name = segs["name_en"].get(sid, f"segment {sid}")
            row = [_Swatch(colors.get(sid, "#999999"), str(sid)), _text(name),
                   _num(r[col], 2)]
            row.append(_num(r["min"], 2) if "min" in jac else "–")
            row.append(_pct(r["dissolved"], 0) if "dissolved" in jac else "–")
            row.append(_verdict(r[col]))
            rows.append(row)
        blocks.append(_Table(["segment", "name", "Jaccard (mean)", "min",
                              "dissolved 解体比例", "verdict 判断"], rows,
                             num={2, 3, 4}))
        blocks.append(_Para("Jaccard: overlap of a segment with its best match in each "
                            "refit. 0.75 or more is stable; below 0.6 the segment is "
                            "not reliable (Hennig 2007).", "note"))
    return _Section("stability", "Stability", "稳定性", blocks)


def _section_value(result, lang) -> _Section:
    from .. import plot
    from ..plot._common import VALUE_STYLES

    X, cust = result.features, result.customers
    blocks: list = []
    cust = cust if isinstance(cust, pd.DataFrame) else pd.DataFrame()
    if X is not None and {"pay_count_per_year", "amount_per_year"} <= set(X.columns):
        count, amount = X["pay_count_per_year"], X["amount_per_year"]
        classes = (cust["value_class"].reindex(X.index)
                   if "value_class" in cust else None)
        blocks.append(_Sub("Value matrix", "客户价值矩阵"))
        blocks.append(_figure(
            "value_matrix",
            lambda ax: plot.plot_value_matrix(count, amount, classes, lang=lang, ax=ax),
            "Payments per year against amount per year; dashed lines are the means. "
            "年缴费次数与金额，虚线为平均值。", (8.0, 5.6)))
        if classes is not None:
            keys = classes.map(lambda v: next((k for k, (zh, en, _) in
                                               VALUE_STYLES.items()
                                               if v in (k, zh, en)), v))
            rows = []
            n = max(int(keys.notna().sum()), 1)
            for key, (zh, en, color) in VALUE_STYLES.items():
                m = (keys == key).to_numpy()
                rows.append([_Swatch(color, zh), en, _int(m.sum()), _pct(m.sum() / n),
                             _num(count[m].mean(), 1), _money(amount[m].mean())])
            blocks.append(_Table(["class 类别", "English", "customers 客户数",
                                  "share 占比", "payments/year 年缴费次数",
                                  "yuan/year 年缴费金额"], rows, num={2, 3, 4, 5}))
    if "pyramid_tier" in cust and cust["pyramid_tier"].notna().any():
        tiers = cust["pyramid_tier"]
        amount = (X["amount_per_year"].reindex(tiers.index)
                  if X is not None and "amount_per_year" in X else None)
        blocks.append(_Sub("Value pyramid", "客户价值金字塔"))
        blocks.append(_figure(
            "pyramid", lambda ax: plot.plot_pyramid(tiers, amount=amount, lang=lang,
                                                    ax=ax),
            "Customers per value tier, A at the top. 各价值等级客户数。", (8.0, 3.8)))
    if "credit_grade" in cust and cust["credit_grade"].notna().any():
        vc = cust["credit_grade"].value_counts().sort_index()
        rows = [[_text(g), _int(n), _pct(n / vc.sum())] for g, n in vc.items()]
        blocks.append(_Sub("Credit grades", "信用等级"))
        blocks.append(_Table(["grade 等级", "customers 客户数", "share 占比"], rows,
                             num={1, 2}))
    if not blocks:
        blocks.append(_Para("No value labels in this result. 无价值标签。", "note"))
    return _Section("value", "Customer value", "客户价值", blocks)


def _section_warnings(result, segs, colors, top=20) -> _Section:
    w = result.warnings
    blocks: list = []
    if not isinstance(w, pd.DataFrame) or w.empty:
        blocks.append(_Para("No early warnings in this result. 无预警客户。", "note"))
        return _Section("warnings", "Early warnings", "预警客户", blocks)
    score = next((c for c in ("score", "warning_score") if c in w), None)
    level = next((c for c in ("level", "warning_level") if c in w), None)
    w = w.sort_values(score, ascending=False) if score else w
    if level:
        # A "top 20" of customers whose level is low would alarm for nothing.
        raised = w[w[level].astype(str).str.lower() != "low"]
        if raised.empty:
            best = f" (highest score {w[score].max():.2f})" if score else ""
            blocks.append(_Para(
                f"No customer reached a medium or high warning level{best}. "
                "没有中高风险预警客户。", "note"))
            return _Section("warnings", "Early warnings", "预警客户", blocks)
        w = raised
    w = w.head(top)
    cust = result.customers if isinstance(result.customers, pd.DataFrame) else None
    texts = _action_texts(result)
    rows = []
    for cid, r in w.iterrows():
        sid = cust["segment"].get(cid) if cust is not None and "segment" in cust \
            else (result.labels.get(cid) if result.labels is not None else None)
        seg_cell = _Swatch(colors.get(sid, "#999999"),
                           _text(segs["name_en"].get(sid, sid))) \
            if sid is not None and not _isnan(sid) else ""
        action = cust["action"].get(cid) if cust is not None and "action" in cust \
            else None
        arche = cust["archetype"].get(cid) if cust is not None and "archetype" in cust \
            else None
        rows.append([_text(cid), seg_cell, _num(r.get(score), 2) if score else "–",
                     _text(r.get(level)) if level else "",
                     _text(r.get("reasons")), _action(action, arche, texts)])
    blocks.append(_Para(
        f"The {len(w)} customers with the highest early-warning score (rising delay, "
        "new arrears, falling consumption). 预警得分最高的客户。"))
    blocks.append(_Table(["customer 客户编号", "segment 分群", "score 得分",
                          "level 等级", "signals 预警信号", "action 建议措施"], rows,
                         num={2}, nowrap={0, 1}))
    return _Section("warnings", "Early warnings", "预警客户", blocks)


def _migration_parts(mig):
    if mig is None:
        return None, None, None
    if isinstance(mig, pd.DataFrame):
        return mig, None, None
    trans = getattr(mig, "transitions_", None)
    if trans is None:
        trans = getattr(mig, "transitions", None)
    return trans, getattr(mig, "mover_share_", None), getattr(mig, "windows_", None)


def _section_migration(result, segs, lang) -> _Section | None:
    from .. import plot

    trans, movers, windows = _migration_parts(result.migration)
    if trans is None:
        return None
    blocks: list = []
    if movers is not None:
        blocks.append(_Para(
            f"{movers:.1%} of customers changed segment between consecutive periods. "
            f"相邻两期间 {movers:.1%} 的客户改变了分群。", "callout"))
    if isinstance(windows, pd.DataFrame) and len(windows):
        rows = [[_text(wn), _text(r.get("start"))[:10], _text(r.get("end"))[:10],
                 _int(r.get("customers"))] for wn, r in windows.iterrows()]
        blocks.append(_Table(["period 期间", "start", "end (excl.)",
                              "customers 客户数"], rows, num={3}))
    names = segs[["name_zh", "name_en"]]
    trans = pd.DataFrame(trans)
    known = set(segs.index)
    use_names = names if set(trans.index) | set(trans.columns) <= known else None
    k = max(trans.shape) if trans.size else 2
    blocks.append(_figure(
        "migration",
        lambda ax: plot.plot_migration(trans, names=use_names, lang=lang, ax=ax),
        "Rows: segment in the earlier period; columns: in the later one. Cells: share "
        "of the row and customers. 行为上期分群，列为本期分群。",
        (min(2.6 + 0.8 * k, 10.0), min(2.0 + 0.55 * k, 8.0))))
    return _Section("migration", "Segment migration", "分群迁移", blocks)


def _document(result, lang):
    segs = _segment_table(result)
    colors = _colors(list(segs.index))
    cards, meta = _header(result)
    meta.append(_Bullets(_key_points(result, segs)))
    sections = [
        _section_data(result, lang),
        _section_segments(result, segs, colors, lang),
        _section_profiles(result, segs, colors, lang),
        _section_k(result, lang),
        _section_stability(result, segs, colors),
        _section_value(result, lang),
        _section_warnings(result, segs, colors),
    ]
    mig = _section_migration(result, segs, lang)
    if mig is not None:
        sections.append(mig)
    return cards, meta, sections


