"""Section "Segment profiles": the profile heatmap and why each name was given."""

from __future__ import annotations

from . import _model
from ._model import _Para, _Section, _Sub, _Swatch, _Table, _text, _Two


def _section_profiles(result, segs, colors, lang) -> _Section:
    from .. import plot

    X, labels = result.features, result.labels
    blocks: list = [
        _Para(
            "Each cell is the segment's median; red is above the median of all customers, "
            "blue below (in standard deviations). 单元格为分群中位数，红色高于全体、蓝色低于全体。",
            "note",
        )
    ]
    if X is not None and labels is not None and len(X):
        names = segs[["name_zh", "name_en"]]
        n_rows = len(plot.profile_columns(X, labels.reindex(X.index)))
        blocks.append(
            _model._figure(
                "profiles",
                lambda ax: plot.plot_profiles(X, labels, names=names, lang=lang, ax=ax),
                "Segment profiles. 分群画像。",
                (min(3.0 + 1.1 * len(segs), 12.0), 1.9 + 0.42 * max(n_rows, 2)),
            )
        )
    if segs["rule"].notna().any():
        plain = "rule_zh" in segs and segs["rule_zh"].notna().any()
        rules = []
        for sid, r in segs.iterrows():
            why = (
                _Two(_text(r["rule_zh"]), _text(r["rule_en"]))
                if plain
                else _text(r["rule"])
            )
            rules.append(
                [
                    _Swatch(colors.get(sid, "#999999"), str(sid)),
                    _Two(_text(r["name_zh"]), _text(r["name_en"])),
                    why,
                ]
            )
        blocks.append(_Sub("Why each segment got its name", "命名依据"))
        blocks.append(
            _Table(["segment 分群", "name 名称", "why 命名依据"], rules, nowrap={0})
        )
        if "differs_by" in segs and segs["differs_by"].fillna("").ne("").any():
            blocks.append(
                _Para(
                    "Segments of the same archetype are named by the feature that sets "
                    "each apart from the others of its archetype (its median against "
                    "theirs). 同类分群以最能区分彼此的特征命名。",
                    "note",
                )
            )
    return _Section("profiles", "Segment profiles", "分群画像", blocks)
