"""Section "Segment profiles": the profile heatmap and why each name was given."""

from __future__ import annotations

from . import _model
from ._model import _Para, _Section, _Sub, _Swatch, _Table, _text


def _section_profiles(result, segs, colors, lang) -> _Section:
    from .. import plot

    X, labels = result.features, result.labels
    blocks: list = [_Para(
        "Each cell is the segment's median; red is above the median of all customers, "
        "blue below (in standard deviations). 单元格为分群中位数，红色高于全体、蓝色低于全体。",
        "note")]
    if X is not None and labels is not None and len(X):
        names = segs[["name_zh", "name_en"]]
        n_rows = len(plot.profile_columns(X, labels.reindex(X.index)))
        blocks.append(_model._figure(
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
