"""Section "Segments": the segment table, channel mix, delays and the embedding."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _model
from ._common import _action, _action_texts, _has_values, _n_segments
from ._model import _int, _isnan, _Para, _pct, _Section, _Sub, _Swatch, _Table, _text


def _dominant_channel(result, segs: pd.DataFrame) -> pd.Series:
    prof = result.profiles if isinstance(result.profiles, pd.DataFrame) else None
    if prof is None or "dominant_channel" not in prof:
        return pd.Series(np.nan, index=segs.index, dtype=object)
    from ..channels import table

    t = table()
    codes = prof["dominant_channel"].reindex(segs.index)
    return codes.map(
        lambda c: (
            c
            if _isnan(c) or c not in t.index
            else f"{t.at[c, 'name_zh']} ({t.at[c, 'name_en']})"
        )
    )


def _section_segments(result, segs, colors, lang) -> _Section:
    from .. import plot

    X, labels = result.features, result.labels
    blocks: list = []
    main = _dominant_channel(result, segs)
    texts = _action_texts(result)
    rows = []
    for sid, r in segs.iterrows():
        color = colors.get(sid, "#999999")
        rows.append(
            [
                _Swatch(color, str(sid)),
                _text(r["name_zh"]),
                _text(r["name_en"]),
                _int(r["size"]),
                _pct(r["share"]),
                _text(main.get(sid)),
                _action(r["action"], r["key"], texts),
            ]
        )
    blocks.append(
        _Para(
            f"{_n_segments(result)} segments over {int(segs['size'].sum()):,} customers. "
            "Each segment is named after the payment-behaviour archetype its profile "
            "matches; the action is the service recommended for most of its customers."
        )
    )
    blocks.append(
        _Table(
            [
                "segment 分群",
                "名称",
                "name",
                "customers 客户数",
                "share 占比",
                "main channel 主要渠道",
                "recommended action 建议措施",
            ],
            rows,
            num={3, 4},
            nowrap={0, 1},
        )
    )
    cust = result.customers
    if (
        isinstance(cust, pd.DataFrame)
        and {"segment", "action"} <= set(cust.columns)
        and len(cust)
    ):
        mix = pd.crosstab(cust["segment"], cust["action"], normalize="index")
        counts = cust["action"].value_counts()
        by_count = [a for a in counts.index if a in mix.columns]
        # Every segment's own main action has a column (a segment whose action is
        # rare overall must not show a row of dashes), then the most common ones.
        own = set(mix.idxmax(axis=1))
        acts = [a for a in by_count if a in own]
        room = max(8, min(12, len(acts) + 3)) - len(acts)  # a few common others too
        acts += [a for a in by_count if a not in own][:room]
        acts = [a for a in by_count if a in acts]  # most customers first
        rest = (1.0 - mix[acts].sum(axis=1)).clip(lower=0.0)
        keys = (
            cust.groupby("action")["archetype"].first()
            if "archetype" in cust
            else pd.Series(dtype=object)
        )
        header = ["segment 分群"]
        for a in acts:
            cell = _action(a, keys.get(a), texts)
            header.append(cell.main if hasattr(cell, "main") else str(cell))
        has_rest = bool((rest > 5e-4).any())
        if has_rest:
            header.append("other actions 其他措施")
        mrows = []
        for sid in segs.index:
            if sid not in mix.index:
                continue
            mrows.append(
                [
                    _Swatch(colors.get(sid, "#999999"), _text(segs.at[sid, "name_zh"])),
                    *[
                        _pct(mix.at[sid, a]) if mix.at[sid, a] > 0 else "–"
                        for a in acts
                    ],
                    *(
                        [_pct(rest[sid]) if rest[sid] > 5e-4 else "–"]
                        if has_rest
                        else []
                    ),
                ]
            )
        blocks.append(_Sub("Action mix of each segment", "各分群建议措施构成"))
        blocks.append(
            _Para(
                "Share of each segment's customers per recommended action (each "
                "segment's main action and the most common others; the rest under "
                "'other actions', so a row adds up to 100%): a segment's action is what most of its customers get, "
                "VIPs, bad credit, small arrears and warnings get their own. "
                "各分群客户的建议措施构成。"
            )
        )
        blocks.append(_Table(header, mrows, num=set(range(1, len(header))), nowrap={0}))
    names = segs[["name_zh", "name_en"]]
    has = _has_values(X)
    if has("online_share", "counter_share", "automatic_share"):
        blocks.append(
            _model._figure(
                "channel_mix",
                lambda ax: plot.plot_channel_mix(
                    X, labels, names=names, lang=lang, ax=ax
                ),
                "Channel families per segment (mean share of each customer's payments). "
                "各分群缴费渠道构成。",
                (8.5, 1.9 + 0.42 * len(segs)),
            )
        )
    else:
        blocks.append(
            _Para(
                "No channel mix: the data has no payment channel. 无缴费渠道数据。",
                "note",
            )
        )
    delay_col = next(
        (c for c in ("days_to_due_mean", "delay_days_mean") if has(c)), None
    )
    if delay_col is not None:
        caption = (
            "Payment day relative to the due date, per customer (mean over its bills): "
            "negative = paid before the due date, positive = days late; boxes span the "
            "middle half of the segment. 各分群缴费日相对截止日的天数（负数为截止日前缴费）。"
            if delay_col == "days_to_due_mean"
            else "Days from bill issue to payment, per customer (the bills carry no due "
            "date); boxes span the middle half of the segment. 各分群账单发行后缴费天数。"
        )
        blocks.append(
            _model._figure(
                "delay",
                lambda ax: plot.plot_delay_distribution(
                    X, labels, column=delay_col, names=names, lang=lang, ax=ax
                ),
                caption,
                (8.5, 1.5 + 0.42 * len(segs)),
            )
        )
    else:
        blocks.append(
            _Para(
                "No payment timing: the data has no bills with due dates. "
                "无账单数据，无法计算缴费时间。",
                "note",
            )
        )
    if X is not None and labels is not None and len(X):
        blocks.append(
            _model._figure(
                "embedding",
                lambda ax: plot.plot_embedding(
                    X, labels, names=names, lang=lang, ax=ax
                ),
                "Customers projected to two dimensions (PCA); nearby points pay alike. "
                "客户二维投影，点越近缴费行为越相似。",
                (8.0, 6.0),
            )
        )
    return _Section("segments", "Segments", "客户分群", blocks)
