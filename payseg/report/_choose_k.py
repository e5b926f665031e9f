"""Section "Choosing the number of segments": the k scores and the reason."""

from __future__ import annotations

import pandas as pd

from . import _model
from ._common import _n_segments
from ._model import _num, _Para, _Section, _Table


def _section_k(result, lang) -> _Section:
    from .. import plot

    blocks: list = []
    reason = result.k_reason or "k was given by the user."
    blocks.append(_Para(reason, "callout"))
    ks = result.k_scores
    chosen = _n_segments(result) or None
    if isinstance(ks, pd.DataFrame) and not ks.empty:
        blocks.append(
            _model._figure(
                "k_scores",
                lambda ax: plot.plot_k_scores(ks, chosen=chosen, lang=lang, ax=ax),
                "Every score scaled to [0, 1], higher is better. 各指标缩放到 0–1，越高越好。",
                (8.0, 4.2),
            )
        )
        cols = [c for c in ks.columns if not str(c).endswith("_se")]
        rows, hl = [], set()
        for pos, (k, r) in enumerate(ks.iterrows()):
            rows.append([str(k)] + [_num(r[c], 3) for c in cols])
            if chosen is not None and str(k) == str(chosen):
                hl.add(pos)
        readable = {
            "silhouette": "silhouette ↑",
            "calinski_harabasz": "Calinski-Harabasz ↑",
            "davies_bouldin": "Davies-Bouldin ↓",
            "bic": "BIC ↓",
            "gap": "gap ↑",
            "stability": "stability ↑",
        }
        blocks.append(
            _Table(
                ["k"] + [readable.get(str(c), str(c)) for c in cols],
                rows,
                num=set(range(len(cols) + 1)),
                highlight=hl,
            )
        )
    else:
        blocks.append(
            _Para(
                "The number of segments was fixed, so no other k was "
                "scored. 分群数为指定值。",
                "note",
            )
        )
    return _Section("k", "Choosing the number of segments", "分群数的选择", blocks)
