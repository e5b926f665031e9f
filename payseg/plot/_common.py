"""Shared pieces of the plots: colours, display names, language, empty-data notes."""

from __future__ import annotations

import numbers
import re

import numpy as np
import pandas as pd

from .. import _fonts
from .._schema import (
    CHANNEL_SHARE_PREFIX,
    segment_order,  # noqa: F401 - the plots' order, shared
)
from .._vocab import (
    ARCHETYPES,
    FEATURE_NAMES,
    GROUP_NAMES,
    NOISE_NAMES,
    VALUE_CLASSES,
)

NOISE_COLOR = "#9e9e9e"

# tab10 first, then ten more distinct colours; segment id k always gets _PALETTE[k % 20]
# so a segment has the same colour in every plot and in the report tables.
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#dbdb8d",
    "#9edae5",
    "#637939",
)

#: Fixed colours of the channel groups (payseg.channels.GROUPS).
GROUP_COLORS = {
    "automatic": "#2ca02c",
    "online": "#1f77b4",
    "self_service": "#17becf",
    "prepaid": "#9467bd",
    "counter": "#d62728",
    "agent": "#ff7f0e",
}

_VALUE_COLORS = {
    "high_value": "#1b9e77",
    "mass": "#7570b3",
    "potential": "#d95f02",
    "low_value": "#9e9e9e",
}

#: Value-matrix classes of payseg._vocab with their colour: key -> (zh, en, colour).
VALUE_STYLES = {
    key: (row.name_zh, row.name_en, _VALUE_COLORS[key])
    for key, row in VALUE_CLASSES.iterrows()
}


def value_colors() -> dict:
    """Colour of each value-matrix class, as the value plots draw it.

    Returns
    -------
    dict
        Value-class key (``payseg._vocab.VALUE_CLASSES``, display order) -> hex
        colour.

    Examples
    --------
    >>> from payseg.plot import value_colors
    >>> value_colors()["high_value"]
    '#1b9e77'
    """
    return {key: _VALUE_COLORS[key] for key in VALUE_CLASSES.index}


TIER_COLORS = {"A": "#c9a227", "B": "#4e79a7", "C": "#76b7b2", "D": "#bab0ac"}

# UI strings: key -> (Chinese, English).
_STRINGS = {
    "segment": ("分群", "segment"),
    "noise": NOISE_NAMES,
    "no_channel": (
        "无缴费渠道数据（文件中没有渠道列）",
        "no channel data (the file has no payment channel)",
    ),
    "no_data": ("无数据", "no data"),
    "other": ("其他", "other"),
    "customers": ("客户数", "customers"),
}


def s(key: str, lang: str) -> str:
    """UI string ``key`` in ``lang``."""
    zh, en = _STRINGS[key]
    return zh if lang == "zh" else en


def pick(pair, lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def get_ax(ax, figsize=(7.0, 4.5)):
    """The given Axes, or a new one on a new figure (pyplot, Agg-safe)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def start(ax, figsize, title, lang: str):
    """The Axes to draw on (``get_ax``) and the title (a (zh, en) pair) in ``lang``."""
    return get_ax(ax, figsize), pick(title, lang)


def finish(ax, title: str, lang: str, **title_kw):
    """Set the title, draw Chinese texts with the CJK font and return ``ax``."""
    ax.set_title(title, **title_kw)
    apply_cjk(ax, lang)
    return ax


def colorbar(ax, mappable, label: str, lang: str, *, fontsize=None, **kwargs):
    """A colour bar beside ``ax``, its label drawn with the CJK font in Chinese."""
    cbar = ax.figure.colorbar(mappable, ax=ax, pad=0.02, **kwargs)
    cbar.set_label(label, fontsize=fontsize)
    if lang == "zh":
        cbar.ax.yaxis.label.set_fontfamily(_fonts.font_family())
    return cbar


def annotate_cells(ax, im, values, texts, *, fontsize=8) -> None:
    """Write ``texts[i, j]`` on each heatmap cell in black or white, whichever reads.

    ``values`` are the coloured values of the image ``im`` (NaN cells get grey
    text); empty texts are skipped. One label per cell: heatmaps are small.
    """
    cmap, norm = im.get_cmap(), im.norm
    for (i, j), text in np.ndenumerate(np.asarray(texts, dtype=object)):
        if not text:
            continue
        v = values[i, j]
        color = text_color(cmap(norm(v))) if np.isfinite(v) else "0.4"
        ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=color)


def rotated_xticks(ax, labels) -> None:
    """Category labels under the x axis, slanted so long names do not overlap."""
    ax.set_xticks(
        range(len(labels)),
        list(labels),
        rotation=30,
        ha="right",
        rotation_mode="anchor",
    )


def segment_colors(segments) -> dict:
    """Colour of each segment id; the same id gets the same colour in every plot.

    Parameters
    ----------
    segments : iterable
        Segment ids. Integer ids map to a fixed 20-colour palette by value (noise,
        id -1, is grey); other ids map by their sorted position.

    Returns
    -------
    dict
        segment id -> hex colour.

    Examples
    --------
    >>> from payseg.plot import segment_colors
    >>> segment_colors([0, 1, -1])
    {0: '#1f77b4', 1: '#ff7f0e', -1: '#9e9e9e'}
    """
    ids = list(dict.fromkeys(segments))
    out = {}
    others = sorted((x for x in ids if not _is_int(x)), key=str)
    for sid in ids:
        if _is_int(sid):
            k = int(sid)
            out[sid] = NOISE_COLOR if k < 0 else _PALETTE[k % len(_PALETTE)]
        else:
            out[sid] = _PALETTE[others.index(sid) % len(_PALETTE)]
    return out


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def align_labels(features: pd.DataFrame, labels) -> pd.Series:
    """Labels as a Series indexed like ``features`` (by customer id or by position)."""
    if not isinstance(features, pd.DataFrame):
        raise TypeError(
            "features must be a DataFrame indexed by customer_id (e.g. the output of "
            f"payseg.build_features), got {type(features).__name__}"
        )
    if isinstance(labels, pd.Series):
        out = labels.reindex(features.index)
    else:
        arr = np.asarray(labels)
        if arr.shape != (len(features),):
            raise ValueError(
                f"labels has shape {arr.shape} but features has {len(features)} rows; "
                "pass one segment id per customer"
            )
        out = pd.Series(arr, index=features.index)
    if out.dtype.kind == "f":
        # Ids made float by missing labels (0.0, 1.0, NaN) are still integer ids.
        v = out.dropna()
        if (v == np.round(v)).all():
            out = out.astype("Int64")
    return out.rename("segment")


def mathsafe(text) -> str:
    """Escape ``$`` so data strings are never parsed as mathtext."""
    return str(text).replace("$", r"\$")


def feature_label(column, lang: str) -> str:
    """Display name of a feature column in ``lang``: :data:`FEATURE_NAMES`, the
    channel's name for ``channel_share__<code>``, else the column name itself."""
    if column in FEATURE_NAMES:
        return pick(FEATURE_NAMES[column], lang)
    name = str(column)
    if name.startswith(CHANNEL_SHARE_PREFIX):
        from .. import channels

        code = name[len(CHANNEL_SHARE_PREFIX) :]
        table = channels.table()
        if code in table.index:
            row = table.loc[code]
            return mathsafe(
                f"{row['name_zh']}占比" if lang == "zh" else f"{row['name_en']} share"
            )
    return mathsafe(name)


_TRANSLATIONS: dict[str, str] | None = None


def _translations() -> dict[str, str]:
    """Chinese -> English for the vocabulary payseg itself writes (longest first)."""
    global _TRANSLATIONS
    if _TRANSLATIONS is None:
        from .. import channels

        pairs = dict(zip(VALUE_CLASSES["name_zh"], VALUE_CLASSES["name_en"]))
        pairs.update(dict(GROUP_NAMES.values()))
        pairs.update(dict(_STRINGS.values()))
        t = channels.table()
        pairs.update(dict(zip(t["name_zh"], t["name_en"])))
        pairs.update(dict(zip(ARCHETYPES["name_zh"], ARCHETYPES["name_en"])))
        _TRANSLATIONS = dict(sorted(pairs.items(), key=lambda kv: -len(kv[0])))
    return _TRANSLATIONS


def to_english(text) -> str | None:
    """English form of a Chinese display string, or None when it cannot be drawn.

    Known payseg vocabulary (archetypes, value classes, channels) is translated; any
    Chinese left over is removed. None when nothing readable remains.
    """
    out = str(text)
    if not _fonts.has_cjk(out):
        return out
    for zh, en in _translations().items():
        if zh in out:
            out = out.replace(zh, en)
    out = _fonts._CJK_RE.sub("", out)
    out = re.sub(r"\(\s*\)|（\s*）|\[\s*\]", "", out)
    out = re.sub(r"\s+", " ", out).strip(" /|-·,;:")
    return out or None


def drawable(text, lang: str, fallback: str) -> str:
    """``text`` if it can be drawn in ``lang``, else its English form or ``fallback``."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return fallback
    text = str(text)
    if lang == "zh" or not _fonts.has_cjk(text):
        return mathsafe(text)
    en = to_english(text)
    return mathsafe(en if en else fallback)


def segment_names(ids, names, lang: str) -> dict:
    """Display name of each segment id in ``lang`` (never text that would draw as boxes).

    ``names`` is None, a mapping/Series id -> name, or a DataFrame with ``name_zh``
    and/or ``name_en`` columns (like ``SegmentationResult.segments``).
    """
    out = {}
    zh_col = en_col = None
    if isinstance(names, pd.DataFrame):
        zh_col = names["name_zh"] if "name_zh" in names else None
        en_col = names["name_en"] if "name_en" in names else None
        names = None
    elif names is not None and not isinstance(names, pd.Series):
        names = pd.Series(dict(names))
    for sid in ids:
        if _is_int(sid) and int(sid) < 0:
            default = s("noise", lang)
        else:
            default = f"{s('segment', lang)} {sid}"
        text = None
        if lang == "zh" and zh_col is not None:
            text = zh_col.get(sid)
        if text is None and en_col is not None:
            text = en_col.get(sid)
        if text is None and zh_col is not None:
            text = zh_col.get(sid)
        if text is None and names is not None:
            text = names.get(sid)
        if text is None or (isinstance(text, float) and np.isnan(text)):
            out[sid] = default
        else:
            out[sid] = drawable(text, lang, default)
    return out


def apply_cjk(ax, lang: str) -> None:
    """Draw every text of ``ax`` that holds Chinese with the CJK font."""
    if lang != "zh":
        return
    from matplotlib.text import Text

    family = _fonts.font_family()
    for t in ax.findobj(Text):
        if _fonts.has_cjk(t.get_text()):
            t.set_fontfamily(family)


def no_data(ax, message: str, *, title: str | None = None):
    """Replace the plot by a centred note (data without channels, bills, ...)."""
    ax.text(
        0.5,
        0.5,
        mathsafe(message),
        ha="center",
        va="center",
        transform=ax.transAxes,
        color="0.35",
        fontsize=11,
        wrap=True,
    )
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(mathsafe(title))
    # Messages are Chinese only when lang resolved to "zh", i.e. a CJK font exists.
    apply_cjk(ax, "zh" if _fonts.cjk_font() else "en")
    return ax


def shares_text(v: float) -> str:
    return f"{v:.0%}" if v >= 0.095 or v == 0 else f"{v:.1%}"


def text_color(rgba) -> str:
    """Black or white, whichever reads better on a background colour."""
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"
