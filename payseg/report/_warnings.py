"""Section "Early warnings": the customers with the highest warning scores."""

from __future__ import annotations

import pandas as pd

from .._vocab import WARNING_LEVELS
from ._common import _action, _action_texts
from ._model import _isnan, _num, _Para, _Section, _Swatch, _Table, _text, _Two


def _level(v):
    """高/中/低 with the English word under it (the code when it is not a level)."""
    key = str(v).lower()
    return _Two(*WARNING_LEVELS[key]) if key in WARNING_LEVELS else _text(v)


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
            blocks.append(
                _Para(
                    f"No customer reached a medium or high warning level{best}. "
                    "没有中高风险预警客户。",
                    "note",
                )
            )
            return _Section("warnings", "Early warnings", "预警客户", blocks)
        w = raised
    w = w.head(top)
    cust = result.customers if isinstance(result.customers, pd.DataFrame) else None
    texts = _action_texts(result)
    rows = []
    for cid, r in w.iterrows():
        sid = (
            cust["segment"].get(cid)
            if cust is not None and "segment" in cust
            else (result.labels.get(cid) if result.labels is not None else None)
        )
        seg_cell = (
            _Swatch(colors.get(sid, "#999999"), _text(segs["name_en"].get(sid, sid)))
            if sid is not None and not _isnan(sid)
            else ""
        )
        action = (
            cust["action"].get(cid) if cust is not None and "action" in cust else None
        )
        arche = (
            cust["archetype"].get(cid)
            if cust is not None and "archetype" in cust
            else None
        )

        def attr(col, cid=cid):
            return _text(cust[col].get(cid)) if cust is not None and col in cust else ""

        reasons = _text(r.get("reasons"))
        zh = attr("warning_reasons_zh")
        rows.append(
            [
                _text(cid),
                attr("customer_name"),
                attr("address"),
                attr("region"),
                seg_cell,
                _num(r.get(score), 2) if score else "–",
                _level(r.get(level)) if level else "",
                _Two(zh, reasons) if zh else reasons,
                _action(action, arche, texts),
            ]
        )
    blocks.append(
        _Para(
            f"The {len(w)} customers with the highest early-warning score (rising delay, "
            "new arrears, falling consumption). 预警得分最高的客户。"
        )
    )
    blocks.append(
        _Table(
            [
                "customer 户号",
                "name 户名",
                "address 用电地址",
                "region 供电单位",
                "segment 分群",
                "score 得分",
                "level 等级",
                "signals 预警信号",
                "action 建议措施",
            ],
            rows,
            num={5},
            nowrap={0, 1, 4},
        )
    )
    blocks.append(
        _Para(
            "The full list, with every medium and high warning, is the "
            "预警名单 sheet of workbook.xlsx. 完整名单见工作簿“预警名单”。",
            "note",
        )
    )
    return _Section("warnings", "Early warnings", "预警客户", blocks)
