"""Section "Stability": bootstrap Jaccard per segment and the mean ARI."""

from __future__ import annotations

from ._model import _isnan, _num, _Para, _pct, _Section, _Swatch, _Table, _text


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
        blocks.append(
            _Para(
                "Stability was not computed: pass stability=20 (the number "
                "of bootstrap refits) to payseg.segment, or --stability 20 "
                "to payseg segment. 未计算稳定性（设置 stability=20 或 "
                "--stability 20）。",
                "note",
            )
        )
        return _Section("stability", "Stability", "稳定性", blocks)
    # A payseg.cluster.StabilityResult (SegmentationResult types the field).
    ari, jac = st.ari_mean, st.jaccard
    blocks.append(
        _Para(
            f"Refitting on bootstrap resamples gives an adjusted Rand index of "
            f"{ari:.2f} with the reported segmentation (1 = identical). "
            f"自助重抽样后与本分群结果的调整兰德指数为 {ari:.2f}。",
            "callout",
        )
    )
    if len(jac):
        rows = []
        for sid, r in jac.iterrows():
            name = segs["name_en"].get(sid, f"segment {sid}")
            rows.append(
                [
                    _Swatch(colors.get(sid, "#999999"), str(sid)),
                    _text(name),
                    _num(r["mean"], 2),
                    _num(r["min"], 2),
                    _pct(r["dissolved"], 0),
                    _verdict(r["mean"]),
                ]
            )
        blocks.append(
            _Table(
                [
                    "segment",
                    "name",
                    "Jaccard (mean)",
                    "min",
                    "dissolved 解体比例",
                    "verdict 判断",
                ],
                rows,
                num={2, 3, 4},
            )
        )
        blocks.append(
            _Para(
                "Jaccard: overlap of a segment with its best match in each "
                "refit. 0.75 or more is stable; below 0.6 the segment is "
                "not reliable (Hennig 2007).",
                "note",
            )
        )
    return _Section("stability", "Stability", "稳定性", blocks)
