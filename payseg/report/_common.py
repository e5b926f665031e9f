"""What several report sections read from a result: counts, colours, action text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._model import _isnan, _Two


def _is_noise(sid) -> bool:
    return bool(isinstance(sid, (int, np.integer)) and sid < 0)


def _n_no_data(result) -> int:
    """Customers without any payment or bill (``customers["no_data"]``), 0 without
    that column (a hand-made or older result)."""
    customers = getattr(result, "customers", None)
    if not isinstance(customers, pd.DataFrame) or "no_data" not in customers:
        return 0
    return int(customers["no_data"].fillna(False).astype(bool).sum())


def _n_segments(result) -> int:
    """Segments with customers, noise left out."""
    segs = result.segments
    return int(
        sum(1 for sid, n in segs["size"].items() if n > 0 and not _is_noise(sid))
    )


def _method(result) -> str:
    from ..cluster import Segmenter

    seg = result.segmenter  # a Segmenter; None in a hand-made result
    return str(seg.method) if isinstance(seg, Segmenter) else type(seg).__name__


def _colors(ids) -> dict:
    from ..plot import segment_colors

    return segment_colors(ids)


def _has_values(X):
    """has(*columns): True when X has a non-missing value in any of them."""

    def has(*columns):
        return X is not None and any(c in X and X[c].notna().any() for c in columns)

    return has


def _n_warnings(w) -> int:
    """Customers on the warning list whose level is not "low"."""
    if not isinstance(w, pd.DataFrame) or w.empty:
        return 0
    level = next((c for c in ("level", "warning_level") if c in w), None)
    return int((w[level].astype(str).str.lower() != "low").sum()) if level else len(w)


def _action_texts(result) -> dict:
    """Wording of the actions of ``result`` (see payseg.labels.action_texts)."""
    from ..labels import action_texts

    return action_texts(result.customers, result.segments)


def _action(value, key=None, texts=None):
    """Readable action cell: 中文 over English (the code when it has no wording)."""
    if _isnan(value) or value == "":
        return ""
    from ..labels import action_text

    pair = action_text(value, key, texts)
    if not pair:
        return str(value)
    zh, en = pair
    return _Two(zh, en) if zh else _Two(en, "")
