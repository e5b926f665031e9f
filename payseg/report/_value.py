"""Section "Customer value": value matrix, pyramid and credit grades."""

from __future__ import annotations

import pandas as pd

from .._vocab import VALUE_CLASSES
from . import _model
from ._model import (
    _int,
    _money,
    _num,
    _Para,
    _pct,
    _Section,
    _Sub,
    _Swatch,
    _Table,
    _text,
)


def _section_value(result, lang) -> _Section:
    from .. import plot

    colors = plot.value_colors()
    styles = {
        key: (row.name_zh, row.name_en, colors[key])
        for key, row in VALUE_CLASSES.iterrows()
    }

    X, cust = result.features, result.customers
    blocks: list = []
    cust = cust if isinstance(cust, pd.DataFrame) else pd.DataFrame()
    if X is not None and {"pay_count_per_year", "amount_per_year"} <= set(X.columns):
        count, amount = X["pay_count_per_year"], X["amount_per_year"]
        classes = (
            cust["value_class"].reindex(X.index) if "value_class" in cust else None
        )
        blocks.append(_Sub("Value matrix", "客户价值矩阵"))
        blocks.append(
            _model._figure(
                "value_matrix",
                lambda ax: plot.plot_value_matrix(
                    count, amount, classes, lang=lang, ax=ax
                ),
                "Payments per year against amount per year; dashed lines are the means. "
                "年缴费次数与金额，虚线为平均值。",
                (8.0, 5.6),
            )
        )
        if classes is not None:
            keys = classes.map(
                lambda v: next(
                    (k for k, (zh, en, _) in styles.items() if v in (k, zh, en)), v
                )
            )
            rows = []
            n = max(int(keys.notna().sum()), 1)
            for key, (zh, en, color) in styles.items():
                m = (keys == key).to_numpy()
                rows.append(
                    [
                        _Swatch(color, zh),
                        en,
                        _int(m.sum()),
                        _pct(m.sum() / n),
                        _num(count[m].mean(), 1),
                        _money(amount[m].mean()),
                    ]
                )
            blocks.append(
                _Table(
                    [
                        "class 类别",
                        "English",
                        "customers 客户数",
                        "share 占比",
                        "payments/year 年缴费次数",
                        "yuan/year 年缴费金额",
                    ],
                    rows,
                    num={2, 3, 4, 5},
                )
            )
    if "pyramid_tier" in cust and cust["pyramid_tier"].notna().any():
        tiers = cust["pyramid_tier"]
        amount = (
            X["amount_per_year"].reindex(tiers.index)
            if X is not None and "amount_per_year" in X
            else None
        )
        blocks.append(_Sub("Value pyramid", "客户价值金字塔"))
        blocks.append(
            _model._figure(
                "pyramid",
                lambda ax: plot.plot_pyramid(tiers, amount=amount, lang=lang, ax=ax),
                "Customers per value tier, A at the top. 各价值等级客户数。",
                (8.0, 3.8),
            )
        )
    if "credit_grade" in cust and cust["credit_grade"].notna().any():
        vc = cust["credit_grade"].value_counts().sort_index()
        rows = [[_text(g), _int(n), _pct(n / vc.sum())] for g, n in vc.items()]
        blocks.append(_Sub("Credit grades", "信用等级"))
        blocks.append(
            _Table(["grade 等级", "customers 客户数", "share 占比"], rows, num={1, 2})
        )
    if not blocks:
        blocks.append(_Para("No value labels in this result. 无价值标签。", "note"))
    return _Section("value", "Customer value", "客户价值", blocks)
