"""Section "Data health": rows read, kept and rejected, checks that failed, calendar."""

from __future__ import annotations

import numpy as np

from ..data import HEALTH_CHECKS
from . import _model
from ._model import _int, _Para, _pct, _Section, _Sub, _Table, _text


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
        rows.append(
            [
                str(source),
                _int(read),
                _int(kept),
                _int(read - kept),
                _pct((read - kept) / read if read else np.nan),
            ]
        )
    blocks.append(_Sub("Rows read and kept", "读取与保留的行数"))
    blocks.append(
        _Table(
            [
                "source 来源",
                "read 读取",
                "kept 保留",
                "rejected 拒收",
                "rejected % 拒收比例",
            ],
            rows,
            num={1, 2, 3, 4},
        )
    )
    if len(rej):
        g = rej.assign(_n=1).groupby(["source", "reason"], sort=False, dropna=False)
        by = g.agg(
            rows=("_n", "size"),
            lines=("line", lambda s: list(s.head(3))),
            values=("value", lambda s: list(s.head(3))),
        ).sort_values("rows", ascending=False)
        rrows = []
        for (source, reason), r in by.iterrows():
            lines = ", ".join(_text(x) for x in r["lines"])
            vals = ", ".join(repr(_text(x)) for x in r["values"])
            rrows.append([_text(source), _text(reason), _int(r["rows"]), lines, vals])
        blocks.append(_Sub("Rejected rows by reason", "拒收原因"))
        blocks.append(
            _Table(
                [
                    "source 来源",
                    "reason 原因",
                    "rows 行数",
                    "first lines 行号",
                    "example values 示例值",
                ],
                rrows,
                num={2},
            )
        )
    else:
        blocks.append(_Para("No input row was rejected. 没有拒收的行。", "note"))
    facts = []
    if len(p):
        facts.append(
            f"{len(p):,} payments from {p['paid_at'].min():%Y-%m-%d} to "
            f"{p['paid_at'].max():%Y-%m-%d}, {p['amount'].sum():,.2f} yuan in "
            f"total; {len(data.bills):,} bills."
        )
    has_channel = "channel" in p and p["channel"].notna().any()
    if has_channel:
        facts.append(
            f"Payment channel known for {p['channel'].notna().mean():.1%} of payments."
        )
    else:
        facts.append(
            "The data has no payment channel: segments are found from "
            "payment timing and amounts only, and the channel plots are "
            "left out. 数据中没有缴费渠道。"
        )
    if not len(data.bills):
        facts.append(
            "No bills: payment delay against the due date cannot be measured. "
            "没有账单数据，无法计算缴费延迟。"
        )
    attrs = getattr(result.features, "attrs", {}) or {}
    if attrs.get("as_of") is not None:
        facts.append(
            f"Features computed as of {attrs['as_of']:%Y-%m-%d} "
            f"({attrs.get('as_of_rule', 'given')}). "
            f"特征基准日 {attrs['as_of']:%Y-%m-%d}。"
        )
    blocks.append(_Para(" ".join(facts)))
    checks = _assumptions(result)
    if checks:
        blocks.append(_Sub("Assumptions that did not hold", "未满足的假设"))
        blocks.append(
            _Table(["check 检查项", "found 发现", "what it means 影响"], checks)
        )
    else:
        blocks.append(
            _Para(
                "Every data check held: bills for every customer who pays, "
                "known channels, due dates, regions. 数据检查全部通过。",
                "note",
            )
        )
    # The region x channel heatmap is in the section "Regions and outlets".
    blocks.append(
        _model._figure(
            "calendar",
            lambda ax: plot.plot_payment_calendar(data, lang=lang, ax=ax),
            "Payments per day of the month. 每月各日缴费笔数。",
            (8.0, 4.6),
        )
    )
    return _Section("data", "Data health", "数据质量", blocks)


def _assumptions(result) -> list:
    """Rows of (check, what was found, what it means) for checks that failed."""
    from ._model import _Two

    data = result.data
    p, b, c = data.payments, data.bills, data.customers
    out = []
    n_pay = len(p)
    if n_pay and "channel" in p:
        unknown = float(p["channel"].isna().mean())
        if unknown > 0.05:
            out.append(
                [
                    _Two("payment channel known", "缴费渠道可识别"),
                    f"{unknown:.1%} of payments without a channel",
                    _Two(
                        "channel shares are computed on the rest",
                        "渠道占比只按可识别渠道计算",
                    ),
                ]
            )
    if len(b):
        if "due_on" in b:
            miss = float(b["due_on"].isna().mean())
            if miss > 0.05:
                out.append(
                    [
                        _Two("bills have a due date", "账单有缴费截止日"),
                        f"{miss:.1%} of bills without a due date",
                        _Two(
                            "lateness is measured on the others",
                            "逾期只按有截止日的账单计算",
                        ),
                    ]
                )
        payers = set(p["customer_id"])
        billed = set(b["customer_id"])
        no_bill = len(payers - billed) / max(len(payers), 1)
        if no_bill > 0.05:
            out.append(
                [
                    _Two("every payer has bills", "缴费客户都有账单"),
                    f"{no_bill:.1%} of paying customers have no bill",
                    _Two(
                        "prepaid meters, or bills missing from the export",
                        "预付费表，或导出缺少账单",
                    ),
                ]
            )
    if len(c):
        idle = len(set(c.index) - set(p["customer_id"])) / max(len(c), 1)
        if idle > 0.01:
            out.append(
                [
                    _Two("every customer pays", "档案客户都有缴费"),
                    f"{idle:.1%} of the customers table has no payment",
                    _Two(
                        "they are in no segment and on no list",
                        "这些客户不参与分群，不在任何名单中",
                    ),
                ]
            )
    has_region = ("region" in c and c["region"].notna().any()) or (
        "region" in p and p["region"].notna().any()
    )
    if not has_region:
        out.append(
            [
                _Two("region (供电单位) known", "有供电单位"),
                "no region column",
                _Two(
                    "no region or outlet tables; pass a customers file with 供电单位",
                    "无法按供电单位分析网点",
                ),
            ]
        )
    # what the loader found and handled (reversals, repeats, duplicated bills, ...)
    health = getattr(data, "health", None) or {}
    for key, text in HEALTH_CHECKS:
        if health.get(key):
            out.append([_Two("loader check", "读取检查"), f"{health[key]:,}", text])
    for note in [
        *getattr(data, "notes", []),
        *(getattr(result.features, "attrs", {}) or {}).get("notes", []),
    ]:
        out.append(
            [
                _Two("note", "说明"),
                _text(note),
                _Two(
                    "decided by payseg; see the guide to change it",
                    "由 payseg 自动判断，可按文档修改",
                ),
            ]
        )
    rej = len(data.rejected)
    read = sum(v.get("read", 0) for v in (data.counts or {}).values())
    if read and rej / read > 0.05:
        out.append(
            [
                _Two("rows are readable", "数据行可读"),
                f"{rej / read:.1%} of rows rejected",
                _Two(
                    "see the reasons above; fix the export if one dominates",
                    "见上表拒收原因",
                ),
            ]
        )
    return out
