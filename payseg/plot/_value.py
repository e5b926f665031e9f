"""Value plots: the count x amount value matrix and the ABC value pyramid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _fonts
from ._common import (
    TIER_COLORS,
    VALUE_STYLES,
    finish,
    mathsafe,
    no_data,
    pick,
    s,
    segment_colors,
    start,
)


def _class_keys(classes: pd.Series) -> pd.Series:
    """Value-class keys from keys, Chinese or English names."""
    lookup = {}
    for key, (zh, en, _) in VALUE_STYLES.items():
        lookup.update({key: key, zh: key, en: key})
    return classes.map(lambda v: lookup.get(v, v))


def plot_value_matrix(
    count, amount, classes=None, *, sample=20000, random_state=0, lang="auto", ax=None
):
    """Scatter of payment count x amount per customer, with the mean lines.

    The two population means split the plane into the four classes of the value
    matrix: 高价值型 high value (both above), 大众型 mass (count above), 潜力型 potential
    (amount above), 低价值型 low value (neither).

    Parameters
    ----------
    count, amount : Series or array-like of shape (n_customers,)
        Payment count and amount per customer (e.g. features ``pay_count_per_year``
        and ``amount_per_year``, or :func:`payseg.labels.value_metrics`).
    classes : Series or array-like, optional
        Class per customer (keys ``high_value``/``mass``/``potential``/``low_value``
        or their Chinese or English names); default computed against the means.
    sample : int or None, default 20000
        Customers drawn (``random_state``) for the scatter; means, counts and classes
        use every customer.
    random_state : int, default 0
    lang : {"auto", "zh", "en"}, default "auto"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The scatter, with the two mean lines and the class names in the corners.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from payseg.plot import plot_value_matrix
    >>> ax = plot_value_matrix([2, 4, 12, 14], [100, 900, 200, 800], lang="en")
    >>> sorted(t.get_text() for t in ax.texts if "n=" in t.get_text())
    ['high value (n=1)', 'low value (n=1)', 'mass (n=1)', 'potential (n=1)']
    """
    lang = _fonts.resolve_lang(lang)
    ax, title = start(
        ax,
        (7.0, 5.5),
        (
            "客户价值矩阵（缴费次数 × 缴费金额）",
            "Value matrix (payment count x amount)",
        ),
        lang,
    )
    idx = count.index if isinstance(count, pd.Series) else None
    c = pd.Series(np.asarray(count, dtype="float64"), index=idx)
    a = pd.Series(np.asarray(amount, dtype="float64"), index=c.index)
    if len(a) != len(c):
        raise ValueError(f"count has {len(c)} values but amount has {len(a)}")
    ok = (c.notna() & a.notna()).to_numpy()
    if not ok.any():
        return no_data(ax, s("no_data", lang), title=title)
    mc, ma = float(c[ok].mean()), float(a[ok].mean())
    if classes is None:
        ca, aa = (c > mc).to_numpy(), (a > ma).to_numpy()
        keys = np.select(
            [ca & aa, ca & ~aa, ~ca & aa],
            ["high_value", "mass", "potential"],
            "low_value",
        )
        cls = pd.Series(keys, index=c.index)
    else:
        cls = _class_keys(pd.Series(np.asarray(classes, dtype=object), index=c.index))
    cls = cls.where(ok)
    pos = np.flatnonzero(ok)
    if sample is not None and len(pos) > sample:
        rng = np.random.default_rng(random_state)
        pos = np.sort(rng.choice(pos, size=int(sample), replace=False))
    cv, av, kv = c.to_numpy()[pos], a.to_numpy()[pos], cls.to_numpy()[pos]
    n_all = cls.value_counts()
    size = float(np.clip(3000 / max(len(pos), 1), 4, 40))
    extra = [k for k in pd.unique(kv) if k not in VALUE_STYLES]
    extra_colors = segment_colors(extra) if extra else {}
    for key in list(VALUE_STYLES) + extra:
        m = kv == key
        if not m.any():
            continue
        zh, en, color = VALUE_STYLES.get(key, (key, key, extra_colors.get(key)))
        name = mathsafe(zh if lang == "zh" else en)
        ax.scatter(
            cv[m],
            av[m],
            s=size,
            color=color,
            alpha=0.7,
            linewidths=0,
            label=f"{name} ({int(n_all.get(key, 0)):,})",
            rasterized=len(pos) > 2000,
        )
    ax.axvline(mc, color="0.25", lw=1, ls="--")
    ax.axhline(ma, color="0.25", lw=1, ls="--")
    # Mean labels outside the plot area (top and right edges), clear of the points
    # and of the quadrant names in the corners.
    ax.text(
        mc,
        1.0,
        pick((f"平均次数 {mc:,.1f}", f"mean count {mc:,.1f}"), lang),
        transform=ax.get_xaxis_transform(),
        fontsize=8,
        color="0.25",
        ha="center",
        va="bottom",
    )
    ax.text(
        1.01,
        ma,
        pick((f"平均金额\n{ma:,.0f}", f"mean\namount\n{ma:,.0f}"), lang),
        transform=ax.get_yaxis_transform(),
        fontsize=8,
        color="0.25",
        ha="left",
        va="center",
    )
    # Each axes corner lies in its own quadrant whenever the means are inside the axes.
    corners = {
        "high_value": (0.98, 0.98, "right", "top"),
        "potential": (0.02, 0.98, "left", "top"),
        "mass": (0.98, 0.06, "right", "bottom"),
        "low_value": (0.02, 0.06, "left", "bottom"),
    }
    for key, (x, y, ha, va) in corners.items():
        zh, en, color = VALUE_STYLES[key]
        ax.text(
            x,
            y,
            f"{zh if lang == 'zh' else en} (n={int(n_all.get(key, 0)):,})",
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=10,
            fontweight="bold",
            color=color,
            bbox={"facecolor": "white", "alpha": 0.7, "lw": 0},
        )
    ax.set_xlabel(pick(("缴费次数", "payment count"), lang))
    ax.set_ylabel(pick(("缴费金额（元）", "amount paid (yuan)"), lang))
    ax.grid(alpha=0.2)
    from matplotlib.ticker import StrMethodFormatter

    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    return finish(ax, title, lang, pad=16)


def plot_pyramid(tiers, *, amount=None, lang="auto", ax=None):
    """Value pyramid: customers per tier (A at the top), with shares.

    Parameters
    ----------
    tiers : Series or array-like of shape (n_customers,)
        Tier per customer (``"A"``... as from :class:`payseg.labels.ValuePyramid`).
    amount : Series or array-like of shape (n_customers,), optional
        Amount per customer; each tier is then also annotated with its share of the
        total amount.
    lang : {"auto", "zh", "en"}, default "auto"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Horizontal bars, one per tier, top tier first.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from payseg.plot import plot_pyramid
    >>> ax = plot_pyramid(["A"] + ["B"] * 4 + ["C"] * 15 + ["D"] * 80, lang="en")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['A', 'B', 'C', 'D']
    """
    lang = _fonts.resolve_lang(lang)
    ax, title = start(
        ax, (7.0, 4.0), ("客户价值金字塔", "Customer value pyramid"), lang
    )
    t = pd.Series(np.asarray(tiers, dtype=object)).dropna().astype(str)
    if t.empty:
        return no_data(ax, s("no_data", lang), title=title)
    counts = t.value_counts()
    order = sorted(counts.index)
    counts = counts.reindex(order)
    share = counts / counts.sum()
    amount_share = None
    if amount is not None:
        amt = pd.Series(np.asarray(amount, dtype="float64"))
        tt = pd.Series(np.asarray(tiers, dtype=object))
        by = amt.groupby(tt).sum()
        total = by.sum()
        if total > 0:
            amount_share = (by / total).reindex(order).fillna(0)
    # Bars of width = share of customers, with a floor so the top tier stays visible.
    width = np.maximum(share.to_numpy(), 0.04)
    y = np.arange(len(order))
    extra = segment_colors([o for o in order if o not in TIER_COLORS])
    colors = [TIER_COLORS.get(o, extra.get(o)) for o in order]
    ax.barh(y, width, left=-width / 2, color=colors, height=0.8, edgecolor="white")
    right = width.max() / 2
    for i, tier in enumerate(order):
        text = pick(
            (
                f"{int(counts[tier]):,} 户（{share[tier]:.1%}）",
                f"{int(counts[tier]):,} customers ({share[tier]:.1%})",
            ),
            lang,
        )
        if amount_share is not None:
            text += pick(
                (
                    f"，金额占 {amount_share[tier]:.1%}",
                    f", {amount_share[tier]:.1%} of amount",
                ),
                lang,
            )
        ax.text(right + 0.03, i, text, va="center", ha="left", fontsize=9)
    ax.set_yticks(y, [mathsafe(o) for o in order])
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(-right - 0.05, right + 0.9)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    return finish(ax, title, lang)
