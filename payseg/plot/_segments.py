"""Plots of segments over the feature table: delays, channel mix, profiles, embedding."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from .. import _fonts
from .._schema import NOISE
from .._vocab import GROUP_NAMES
from ._common import (
    GROUP_COLORS,
    align_labels,
    annotate_cells,
    colorbar,
    drawable,
    feature_label,
    finish,
    mathsafe,
    no_data,
    pick,
    rotated_xticks,
    s,
    segment_colors,
    segment_names,
    segment_order,
    shares_text,
    start,
    text_color,
)

_BY = ("group", "channel")
_MAX_FLIERS = 300
# Distinct colours for the top channels by rank (no grey: grey is "other").
_CHANNEL_COLORS = (
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
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
)


# How each timing feature is drawn: sign applied, title, axis label, due-date line.
# ``days_to_due_mean`` is (due day - settlement day), positive = paid before the due
# date; it is drawn negated, so that the axis reads "days after the due date".
_DELAY_SPECS = {
    "days_to_due_mean": (
        -1.0,
        ("各分群缴费时间（相对截止日）", "Payment day relative to the due date"),
        (
            "缴费日距截止日天数（负数 = 截止日前缴费，正数 = 逾期天数）",
            "days paid after the due date (negative = before the due date)",
        ),
        True,
    ),
    "delay_days_mean": (
        1.0,
        ("各分群发行后缴费天数", "Days from bill issue to payment"),
        ("账单发行后平均缴费天数", "mean days from bill issue to payment"),
        False,
    ),
    "delay_days_median": (
        1.0,
        ("各分群发行后缴费天数", "Days from bill issue to payment"),
        ("账单发行后缴费天数中位数", "median days from bill issue to payment"),
        False,
    ),
}


def plot_delay_distribution(
    features, labels, *, column="days_to_due_mean", names=None, lang="auto", ax=None
):
    """Box plot of a timing feature (default: days relative to the due date) per segment.

    Parameters
    ----------
    features : DataFrame
        Feature table indexed by customer_id (:func:`payseg.build_features`).
    labels : Series or array-like of shape (n_customers,)
        Segment id per customer (-1 = noise).
    column : str, default "days_to_due_mean"
        Feature to show. ``days_to_due_mean`` (due day minus settlement day) is drawn
        as days *after* the due date: negative = paid before it, with the due date as
        a dashed line at 0. ``delay_days_mean`` (days after the bill was issued) is
        drawn as is, without a due-date line. Without bills the timing is unknown:
        the plot then shows a note instead of boxes.
    names : Series, dict or DataFrame, optional
        Segment id -> display name, or a frame with ``name_zh``/``name_en``.
    lang : {"auto", "zh", "en"}, default "auto"
        Label language; "auto" is Chinese when a CJK font is installed.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        One horizontal box per segment, first segment on top.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from payseg.plot import plot_delay_distribution
    >>> X = pd.DataFrame({"days_to_due_mean": [5.0, 3, -2, -9, -12]},
    ...                  index=pd.Index(list("abcde"), name="customer_id"))
    >>> ax = plot_delay_distribution(X, [0, 0, 1, 1, 1], lang="en")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['segment 0 (n=2)', 'segment 1 (n=3)']
    """
    lang = _fonts.resolve_lang(lang)
    labels = align_labels(features, labels)
    order = segment_order(labels)
    sign, title, xlabel, due_line = _DELAY_SPECS.get(
        column, (1.0, (column, column), (column, column), False)
    )
    ax, title = start(ax, (7.0, 1.2 + 0.45 * max(len(order), 2)), title, lang)
    values = (
        sign * pd.to_numeric(features[column], errors="coerce").astype("float64")
        if column in features
        else pd.Series(np.nan, index=features.index)
    )
    if not values.notna().any() or not order:
        msg = pick(
            (
                f"无 {column} 数据（需要账单数据才能计算缴费延迟）",
                f"no {column} values (payment delay needs bills)",
            ),
            lang,
        )
        return no_data(ax, msg, title=title)
    groups = {k: v.dropna().to_numpy() for k, v in values.groupby(labels, sort=False)}
    names_ = segment_names(order, names, lang)
    colors = segment_colors(order)
    from matplotlib import cbook

    stats, positions, empty = [], [], []
    for pos, sid in enumerate(order):
        data = groups.get(sid, np.array([]))
        if len(data):
            st = cbook.boxplot_stats(data, whis=1.5)[0]
            fl = np.sort(st["fliers"])
            if len(fl) > _MAX_FLIERS:  # thousands of markers on big data: a sample
                keep = np.linspace(0, len(fl) - 1, _MAX_FLIERS).round().astype(int)
                st["fliers"] = fl[keep]  # evenly spaced ranks keep min and max
            stats.append(st)
            positions.append(pos)
        else:
            empty.append(pos)
    kw = {"orientation": "horizontal"}
    if "orientation" not in inspect.signature(ax.bxp).parameters:  # matplotlib < 3.10
        kw = {"vert": False}
    art = ax.bxp(
        stats,
        positions=positions,
        widths=0.6,
        patch_artist=True,
        showfliers=True,
        manage_ticks=False,
        flierprops={"markersize": 2, "alpha": 0.4, "markeredgecolor": "0.4"},
        medianprops={"color": "black"},
        **kw,
    )
    for box, pos in zip(art["boxes"], positions):
        box.set_facecolor(colors[order[pos]])
        box.set_alpha(0.85)
    for pos in empty:
        ax.text(
            0.5,
            pos,
            pick(("无账单数据", "no bills: delay unknown"), lang),
            transform=ax.get_yaxis_transform(),
            ha="center",
            va="center",
            color="0.4",
        )
    if due_line:
        ax.axvline(0, color="0.3", lw=1, ls="--")
        ax.text(
            0,
            1.0,
            " " + pick(("截止日", "due date"), lang),
            color="0.3",
            fontsize=8,
            transform=ax.get_xaxis_transform(),
            ha="left",
            va="bottom",
        )
    counts = labels.value_counts()
    ax.set_yticks(
        range(len(order)),
        [f"{names_[sid]} (n={int(counts.get(sid, 0)):,})" for sid in order],
    )
    ax.set_ylim(len(order) - 0.5, -0.5)  # first segment on top
    ax.set_xlabel(pick(xlabel, lang))
    ax.grid(axis="x", alpha=0.3)
    return finish(ax, title, lang, pad=14)  # room for the "due date" label above


def _channel_shares(features: pd.DataFrame, by: str, lang: str, top: int):
    """Columns to stack, their display names and colours."""
    if by == "group":
        from ..channels import GROUPS

        cols = [f"{g}_share" for g in GROUPS if f"{g}_share" in features]
        shown = {f"{g}_share": pick(GROUP_NAMES[g], lang) for g in GROUPS}
        colors = {f"{g}_share": GROUP_COLORS[g] for g in GROUPS}
        return cols, shown, colors
    from ..channels import table

    cols = [c for c in features.columns if c.startswith("channel_share__")]
    t = table()
    shown = {}
    for c in cols:
        code = c[len("channel_share__") :]
        if code in t.index:
            name = t.at[code, "name_zh"] if lang == "zh" else t.at[code, "name_en"]
        else:
            name = code
        shown[c] = drawable(name, lang, code)
    return cols, shown, {}  # colours by rank once the top channels are known


def plot_channel_mix(
    features, labels, *, names=None, by="group", top=8, lang="auto", ax=None
):
    """Stacked bars of the payment-channel mix of each segment.

    Parameters
    ----------
    features : DataFrame
        Feature table with ``<group>_share`` columns (``by="group"``) or
        ``channel_share__<code>`` columns (``by="channel"``).
    labels : Series or array-like of shape (n_customers,)
        Segment id per customer.
    names : Series, dict or DataFrame, optional
        Segment display names (see :func:`plot_delay_distribution`).
    by : {"group", "channel"}, default "group"
        Channel families (automatic, online, ...) or individual channels.
    top : int, default 8
        With ``by="channel"``, the most used channels shown; the rest is "other".
    lang : {"auto", "zh", "en"}, default "auto"
        Chinese channel names (``payseg.channels.table()["name_zh"]``) when a CJK font
        is installed, English names otherwise.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Data without channels (e.g. cph.csv) gives a "no channel data" note.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from payseg.plot import plot_channel_mix
    >>> X = pd.DataFrame({"online_share": [1.0, 0.8, 0.0],
    ...                   "counter_share": [0.0, 0.2, 1.0]})
    >>> ax = plot_channel_mix(X, [0, 0, 1], lang="en")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['online', 'counter']
    """
    if by not in _BY:
        raise ValueError(f"by must be one of {_BY}, got {by!r}")
    lang = _fonts.resolve_lang(lang)
    labels = align_labels(features, labels)
    order = segment_order(labels)
    ax, title = start(
        ax,
        (8.0, 1.6 + 0.45 * max(len(order), 2)),
        ("各分群缴费渠道构成", "Payment channel mix per segment"),
        lang,
    )
    cols, shown, colors = _channel_shares(features, by, lang, top)
    block = features[cols].apply(pd.to_numeric, errors="coerce") if cols else None
    if block is None or not block.notna().to_numpy().any() or not order:
        return no_data(ax, s("no_channel", lang), title=title)
    mix = block.groupby(labels).mean().reindex(order)
    total = mix.sum(axis=1)
    mix = mix.div(total.where(total > 0), axis=0)  # rows with no channel stay NaN
    if by == "channel":
        keep = mix.mean().sort_values(ascending=False)
        keep = [c for c in keep.index[:top] if keep[c] > 0]
        other = mix.drop(columns=keep).sum(axis=1, min_count=1)
        mix = mix[keep]
        colors = dict(zip(keep, _CHANNEL_COLORS))
        if (other.fillna(0) > 0).any():
            mix = mix.assign(_other=other)
            shown["_other"] = s("other", lang)
            colors["_other"] = "#d9d9d9"
    else:
        mix = mix.loc[:, mix.fillna(0).sum() > 0]
    names_ = segment_names(order, names, lang)
    y = np.arange(len(order))
    left = np.zeros(len(order))
    for c in mix.columns:
        v = mix[c].fillna(0).to_numpy()
        bars = ax.barh(
            y,
            v,
            left=left,
            color=colors[c],
            label=shown[c],
            height=0.7,
            edgecolor="white",
            linewidth=0.5,
        )
        for rect, val in zip(bars, v):
            if val >= 0.06:
                ax.text(
                    rect.get_x() + rect.get_width() / 2,
                    rect.get_y() + rect.get_height() / 2,
                    shares_text(val),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=text_color(rect.get_facecolor()),
                )
        left += v
    for pos in np.flatnonzero(total.reindex(order).fillna(0).to_numpy() <= 0):
        ax.text(
            0.5,
            pos,
            s("no_channel", lang),
            ha="center",
            va="center",
            color="0.4",
            fontsize=8,
        )
    ax.set_yticks(y, [names_[sid] for sid in order])
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(
        pick(
            (
                "缴费笔数占比（分群内客户平均）",
                "share of payments (mean over the segment's customers)",
            ),
            lang,
        )
    )
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=min(len(mix.columns), 5),
        frameon=False,
        fontsize=8,
    )
    return finish(ax, title, lang)


_LOWER_BETTER = {"davies_bouldin", "bic", "aic", "inertia"}
_SCORE_NAMES = {
    "silhouette": ("轮廓系数", "silhouette"),
    "calinski_harabasz": ("CH 指数", "Calinski-Harabasz"),
    "davies_bouldin": ("DB 指数（反向）", "Davies-Bouldin (inverted)"),
    "bic": ("BIC（反向）", "BIC (inverted)"),
    "gap": ("Gap 统计量", "gap statistic"),
    "stability": ("稳定性", "stability"),
}


def plot_k_scores(k_scores, *, chosen=None, lang="auto", ax=None):
    """Scores of every number of segments tried, each scaled to [0, 1].

    Parameters
    ----------
    k_scores : DataFrame
        Indexed by k, one column per score (``silhouette``, ``calinski_harabasz``,
        ``davies_bouldin``, ``bic``, ``gap``, ... any subset; NaN allowed). Scores
        where lower is better (Davies-Bouldin, BIC) are inverted so that up is always
        better; ``*_se`` columns are ignored.
    chosen : int, optional
        The k that was chosen, marked by a vertical line (default
        ``k_scores.attrs.get("chosen")``).
    lang : {"auto", "zh", "en"}, default "auto"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line per score; the chosen k is a dashed vertical line.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from payseg.plot import plot_k_scores
    >>> scores = pd.DataFrame({"silhouette": [0.3, 0.5, 0.4],
    ...                        "davies_bouldin": [1.2, 0.8, 0.9]},
    ...                       index=pd.Index([2, 3, 4], name="k"))
    >>> ax = plot_k_scores(scores, chosen=3, lang="en")
    >>> len(ax.get_lines())
    3
    """
    lang = _fonts.resolve_lang(lang)
    ax, title = start(
        ax, (7.0, 4.5), ("分群数 k 的选择", "Choosing the number of segments k"), lang
    )
    if chosen is None and isinstance(k_scores, pd.DataFrame):
        chosen = k_scores.attrs.get("chosen")
    if not isinstance(k_scores, pd.DataFrame) or k_scores.empty:
        return no_data(
            ax,
            pick(("k 为指定值，未比较其他 k", "k was fixed: no scores"), lang),
            title=title,
        )
    frame = k_scores.apply(pd.to_numeric, errors="coerce")
    cols = [
        c
        for c in frame.columns
        if not str(c).endswith("_se") and frame[c].notna().any()
    ]
    if not cols:
        return no_data(ax, s("no_data", lang), title=title)
    import matplotlib as mpl

    cmap = mpl.colormaps["Dark2"]
    ks = frame.index.to_numpy()
    for i, c in enumerate(cols):
        v = frame[c].astype("float64")
        lo, hi = v.min(), v.max()
        scaled = (v - lo) / (hi - lo) if hi > lo else v * 0 + 1.0
        if str(c).lower() in _LOWER_BETTER:
            scaled = 1 - scaled
        label = pick(_SCORE_NAMES.get(str(c), (str(c), str(c))), lang)
        ax.plot(
            ks,
            scaled.to_numpy(),
            marker="o",
            ms=4,
            lw=1.5,
            color=cmap(i % 8),
            label=mathsafe(label),
        )
    if chosen is not None:
        ax.axvline(chosen, color="black", lw=1.2, ls="--")
        ax.text(
            chosen,
            1.04,
            pick((f" 选定 k = {chosen}", f" chosen k = {chosen}"), lang),
            ha="left",
            va="bottom",
            fontsize=9,
        )
    ax.set_ylim(-0.05, 1.12)
    if np.issubdtype(np.asarray(ks).dtype, np.number):
        ax.set_xticks(ks)
    ax.set_xlabel(pick(("分群数 k", "number of segments k"), lang))
    ax.set_ylabel(
        pick(
            (
                "得分（缩放到 0–1，越高越好）",
                "score scaled to [0, 1], higher is better",
            ),
            lang,
        )
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right", framealpha=0.85)
    return finish(ax, title, lang)


_METHODS = ("pca", "tsne")


def _numeric_matrix(features: pd.DataFrame) -> pd.DataFrame:
    num = features.select_dtypes(include=["number", "bool"]).astype("float64")
    return num.loc[:, num.notna().any()]


def plot_embedding(
    features,
    labels,
    *,
    method="pca",
    sample=5000,
    random_state=0,
    names=None,
    lang="auto",
    ax=None,
):
    """2-D map of the customers, coloured by segment.

    Features are NaN-imputed with the column median, robust-scaled (median and IQR,
    clipped at +-10 so a few extreme customers do not squash the rest) and projected
    with PCA (or t-SNE).

    Parameters
    ----------
    features : DataFrame
        Feature table indexed by customer_id; non-numeric columns are ignored.
    labels : Series or array-like of shape (n_customers,)
        Segment id per customer (-1 = noise, drawn in grey).
    method : {"pca", "tsne"}, default "pca"
    sample : int or None, default 5000
        Customers drawn at random (``random_state``) to keep the plot light.
    random_state : int, default 0
    names : Series, dict or DataFrame, optional
        Segment display names.
    lang : {"auto", "zh", "en"}, default "auto"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The scatter, one colour per segment; the legend lists segment sizes.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> from payseg.plot import plot_embedding
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    >>> ax = plot_embedding(X, np.repeat([0, 1], 20), lang="en")
    >>> len(ax.collections)
    2
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    lang = _fonts.resolve_lang(lang)
    labels = align_labels(features, labels)
    ax, title = start(
        ax,
        (7.0, 5.5),
        ("客户分布二维投影（按分群着色）", "Customers in 2-D, coloured by segment"),
        lang,
    )
    X = _numeric_matrix(features)
    keep = labels.notna().to_numpy()
    X, lab = X[keep], labels[keep]
    if sample is not None and len(X) > sample:
        rng = np.random.default_rng(random_state)
        idx = np.sort(rng.choice(len(X), size=int(sample), replace=False))
        X, lab = X.iloc[idx], lab.iloc[idx]
    if X.shape[1] < 2 or len(X) < 3:
        return no_data(
            ax,
            pick(("数据不足，无法投影", "too little data for a 2-D map"), lang),
            title=title,
        )
    A = X.fillna(X.median()).to_numpy()
    med = np.median(A, axis=0)
    iqr = np.subtract(*np.percentile(A, [75, 25], axis=0))
    std = A.std(axis=0)
    scale = np.where(iqr > 0, iqr, np.where(std > 0, std, 1.0))
    A = np.clip((A - med) / scale, -10, 10)
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=random_state)
        Z = pca.fit_transform(A)
        ev = pca.explained_variance_ratio_
        xlabel = pick(
            (f"主成分 1（{ev[0]:.0%} 方差）", f"PC 1 ({ev[0]:.0%} of variance)"), lang
        )
        ylabel = pick(
            (f"主成分 2（{ev[1]:.0%} 方差）", f"PC 2 ({ev[1]:.0%} of variance)"), lang
        )
    else:
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(A) - 1) // 3)))
        Z = TSNE(
            n_components=2, init="pca", perplexity=perplexity, random_state=random_state
        ).fit_transform(A)
        xlabel, ylabel = "t-SNE 1", "t-SNE 2"
    order = segment_order(lab)
    names_ = segment_names(order, names, lang)
    colors = segment_colors(order)
    size = float(np.clip(4000 / max(len(Z), 1), 3, 30))
    codes = lab.to_numpy()
    # Noise first so the segments are drawn on top of it.
    for sid in sorted(order, key=lambda x: 0 if x == NOISE else 1):
        m = codes == sid
        ax.scatter(
            Z[m, 0],
            Z[m, 1],
            s=size * (0.6 if sid == NOISE else 1.0),
            color=colors[sid],
            alpha=0.5 if sid == NOISE else 0.75,
            linewidths=0,
            label=f"{names_[sid]} ({int(m.sum()):,})",
            rasterized=len(Z) > 2000,
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles, texts = ax.get_legend_handles_labels()
    key = {
        f"{names_[sid]} ({int((codes == sid).sum()):,})": i
        for i, sid in enumerate(order)
    }
    pairs = sorted(zip(handles, texts), key=lambda p: key.get(p[1], 0))
    ax.legend(
        [p[0] for p in pairs],
        [p[1] for p in pairs],
        fontsize=8,
        markerscale=max(1.0, 30 / size) ** 0.5,
        loc="best",
        framealpha=0.85,
    )
    ax.grid(alpha=0.2)
    return finish(ax, title, lang)


_DEFAULT_PROFILE = (
    "delay_days_mean",
    "late_share",
    "unpaid_share",
    "automatic_share",
    "online_share",
    "self_service_share",
    "counter_share",
    "agent_share",
    "prepaid_share",
    "channel_entropy",
    "pay_count_per_year",
    "amount_per_year",
    "arrears_amount",
    "topups_per_month",
    "recency_days",
)


def profile_columns(features: pd.DataFrame, labels) -> list:
    """The rows :func:`plot_profiles` shows by default.

    The readable features present in ``features`` whose segment medians differ
    (a row where every segment has the same median says nothing).

    Parameters
    ----------
    features : DataFrame
        Feature table indexed by customer_id.
    labels : Series or array-like of shape (n_customers,)
        Segment id per customer.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"late_share": [0.0, 0.9], "online_share": [0.5, 0.5]})
    >>> profile_columns(X, [0, 1])
    ['late_share']
    """
    labels = align_labels(features, labels)
    columns = [
        c for c in _DEFAULT_PROFILE if c in features and features[c].notna().any()
    ]
    if not columns:
        return columns
    # A row where every segment has the same median says nothing: drop it.
    meds = (
        features[columns].apply(pd.to_numeric, errors="coerce").groupby(labels).median()
    )
    varies = meds.nunique(dropna=True) > 1
    if varies.any() and meds.shape[0] > 1:
        columns = [c for c in columns if varies[c]]
    return columns


def _fmt_value(col: str, v: float) -> str:
    if not np.isfinite(v):
        return "–"
    if col.endswith("_share") or col.startswith("channel_share__"):
        return f"{v:.0%}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.0f}"
    return f"{v:.2g}" if abs(v) < 1 else f"{v:.1f}"


def plot_profiles(features, labels, *, columns=None, names=None, lang="auto", ax=None):
    """Heatmap of each segment's median feature values against all customers.

    Colour is the segment median minus the median of all customers, in standard
    deviations of all customers (clipped at +-3); each cell is annotated with the
    segment median itself.

    Parameters
    ----------
    features : DataFrame
        Feature table indexed by customer_id.
    labels : Series or array-like of shape (n_customers,)
    columns : list of str, optional
        Features to show; default a readable set of timing, channel and value
        features among those present.
    names : Series, dict or DataFrame, optional
        Segment display names.
    lang : {"auto", "zh", "en"}, default "auto"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The heatmap, features as rows and segments as columns.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from payseg.plot import plot_profiles
    >>> X = pd.DataFrame({"late_share": [0.0, 0.1, 0.9, 0.8],
    ...                   "online_share": [1.0, 0.9, 0.1, 0.0]})
    >>> ax = plot_profiles(X, [0, 0, 1, 1], lang="en")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['late payments', 'online share']
    """
    lang = _fonts.resolve_lang(lang)
    labels = align_labels(features, labels)
    order = segment_order(labels)
    if columns is None:
        columns = profile_columns(features, labels)
    else:
        missing = [c for c in columns if c not in features]
        if missing:
            raise KeyError(
                f"columns not in features: {missing}; "
                f"available: {list(features.columns)[:10]} ..."
            )
        columns = list(columns)
    ax, title = start(
        ax,
        (1.6 + 1.1 * max(len(order), 2), 1.0 + 0.38 * max(len(columns), 3)),
        (
            "分群画像（分群中位数与全体客户比较）",
            "Segment profiles (median vs. all customers)",
        ),
        lang,
    )
    if not columns or not order:
        return no_data(ax, s("no_data", lang), title=title)
    block = features[columns].apply(pd.to_numeric, errors="coerce").astype("float64")
    med = block.groupby(labels).median().reindex(order)
    center = block.median()
    scale = block.std(ddof=0).where(lambda v: v > 0, 1.0).fillna(1.0)
    z = ((med - center) / scale).clip(-3, 3)
    zt = z.T.to_numpy(dtype=float)  # features x segments
    im = ax.imshow(zt, cmap="RdBu_r", vmin=-3, vmax=3, aspect="auto")
    texts = [[_fmt_value(c, v) for v in med[c]] for c in columns]
    annotate_cells(ax, im, zt, texts)
    names_ = segment_names(order, names, lang)
    rotated_xticks(ax, [names_[sid] for sid in order])
    ax.set_yticks(
        range(len(columns)),
        [feature_label(c, lang) for c in columns],
    )
    colorbar(
        ax,
        im,
        pick(
            ("与全体中位数之差（标准差）", "difference from all customers (SD)"), lang
        ),
        lang,
        fontsize=8,
        shrink=0.8,
    )
    return finish(ax, title, lang)
