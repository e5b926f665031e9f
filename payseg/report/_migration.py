"""Section "Segment migration": who moved between segments from period to period."""

from __future__ import annotations

from . import _model
from ._model import _int, _Para, _Section, _Table, _text


def _section_migration(result, segs, lang) -> _Section | None:
    from .. import plot

    mig = result.migration  # a fitted payseg.labels.Migration, or None
    if mig is None:
        return None
    trans, movers, windows = mig.transitions_, mig.mover_share_, mig.windows_
    blocks: list = [
        _Para(
            f"{movers:.1%} of customers changed segment between consecutive periods. "
            f"相邻两期间 {movers:.1%} 的客户改变了分群。",
            "callout",
        )
    ]
    if len(windows):
        rows = [
            [
                _text(wn),
                _text(r.get("start"))[:10],
                _text(r.get("end"))[:10],
                _int(r.get("customers")),
            ]
            for wn, r in windows.iterrows()
        ]
        blocks.append(
            _Table(
                ["period 期间", "start", "end (excl.)", "customers 客户数"],
                rows,
                num={3},
            )
        )
    names = segs[["name_zh", "name_en"]]
    known = set(segs.index)
    use_names = names if set(trans.index) | set(trans.columns) <= known else None
    k = max(trans.shape) if trans.size else 2
    blocks.append(
        _model._figure(
            "migration",
            lambda ax: plot.plot_migration(trans, names=use_names, lang=lang, ax=ax),
            "Rows: segment in the earlier period; columns: in the later one. Cells: share "
            "of the row and customers. 行为上期分群，列为本期分群。",
            (min(2.6 + 0.8 * k, 10.0), min(2.0 + 0.55 * k, 8.0)),
        )
    )
    return _Section("migration", "Segment migration", "分群迁移", blocks)
