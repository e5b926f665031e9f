"""Heatmaps: payment calendar, region x channel, segment migration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _fonts
from .._vocab import GROUP_NAMES
from ._common import (
    annotate_cells,
    colorbar,
    drawable,
    finish,
    no_data,
    pick,
    rotated_xticks,
    s,
    segment_names,
    shares_text,
    start,
)


def _payments(payments) -> pd.DataFrame:
    from ..data import PaymentData

    if isinstance(payments, PaymentData):
        p = payments.payments
        if "region" not in p and "region" in payments.customers:
            region = p["customer_id"].map(payments.customers["region"])
            p = p.assign(region=region)
        return p
    if isinstance(payments, pd.DataFrame):
        return payments
    raise TypeError(
        f"payments must be PaymentData or a payments DataFrame, got "
        f"{type(payments).__name__}"
    )


def plot_payment_calendar(payments, *, lang="auto", ax=None):
    """Heatmap of payments per day of the month (columns) and month (rows).

    Deadline-driven payers show as a dark band at the end of the billing window,
    prompt online payers as one early in the month; holidays and paydays show as
    vertical streaks.

    Parameters
    ----------
    payments : PaymentData or DataFrame
        Payments with a ``paid_at`` column.
    lang : {"auto", "zh", "en"}, default "auto"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The heatmap; the colour bar is a second Axes of the same figure.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from payseg.plot import plot_payment_calendar
    >>> p = pd.DataFrame({"paid_at": pd.to_datetime(["2024-01-03", "2024-01-03",
    ...                                               "2024-02-28"])})
    >>> ax = plot_payment_calendar(p, lang="en")
    >>> ax.images[0].get_array().shape
    (2, 31)
    """
    lang = _fonts.resolve_lang(lang)
    p = _payments(payments)
    paid = pd.to_datetime(p["paid_at"], errors="coerce").dropna() if len(p) else None
    n_months = (
        0
        if paid is None or paid.empty
        else (paid.max().to_period("M").ordinal - paid.min().to_period("M").ordinal + 1)
    )
    ax, title = start(
        ax,
        (8.0, 1.5 + 0.22 * min(max(n_months, 6), 36)),
        ("缴费日历（每月各日缴费笔数）", "Payment calendar (payments per day)"),
        lang,
    )
    if not n_months:
        return no_data(ax, s("no_data", lang), title=title)
    # bincount over (month, day) cells: one pass, fast on tens of millions of rows.
    ym = (paid.dt.year.to_numpy() * 12 + paid.dt.month.to_numpy() - 1).astype(np.int64)
    first = int(ym.min())
    cell = (ym - first) * 31 + paid.dt.day.to_numpy() - 1
    vals = np.bincount(cell, minlength=n_months * 31).astype("float64")
    vals = vals.reshape(n_months, 31)
    months = pd.period_range(paid.min().to_period("M"), periods=n_months, freq="M")
    # Days a month does not have (Feb 30) are blank, not zero.
    days_in = np.asarray(months.days_in_month)
    vals[np.arange(1, 32)[None, :] > days_in[:, None]] = np.nan
    import matplotlib as mpl

    cmap = mpl.colormaps["YlGnBu"].with_extremes(bad="white")
    im = ax.imshow(
        vals,
        aspect="auto",
        cmap=cmap,
        interpolation="nearest",
        extent=(0.5, 31.5, len(months) - 0.5, -0.5),
    )
    ax.set_xticks([1, 5, 10, 15, 20, 25, 28, 31])
    step = max(1, int(np.ceil(len(months) / 24)))
    ax.set_yticks(range(0, len(months), step), [str(m) for m in months[::step]])
    ax.set_xlabel(pick(("日", "day of month"), lang))
    ax.set_ylabel(pick(("月份", "month"), lang))
    colorbar(ax, im, pick(("缴费笔数", "payments"), lang), lang)
    return finish(ax, title, lang)


def plot_region_channel(payments, *, by="group", top=30, lang="auto", ax=None):
    """Heatmap of the channel mix of each region (share of its payments).

    Regions are sorted by their share of counter payments, so regions that still pay
    at counters (candidates for new agent outlets or self-service terminals) come
    first.

    Parameters
    ----------
    payments : PaymentData or DataFrame
        Payments with ``region`` and ``channel`` columns (the region may also come
        from ``PaymentData.customers``).
    by : {"group", "channel"}, default "group"
        Channel families or individual channels (the ten most used).
    top : int, default 30
        Regions shown (those with the most payments).
    lang : {"auto", "zh", "en"}, default "auto"
        Region names with Chinese characters need a CJK font; without one they are
        shown as "region 1", "region 2", ... in the same order.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The heatmap, one row per region and one column per channel family or channel.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from payseg.plot import plot_region_channel
    >>> p = pd.DataFrame({"region": ["north", "north", "south"],
    ...                   "channel": ["counter", "alipay", "alipay"]})
    >>> ax = plot_region_channel(p, lang="en")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['north (n=2)', 'south (n=1)']
    """
    if by not in ("group", "channel"):
        raise ValueError(f"by must be 'group' or 'channel', got {by!r}")
    lang = _fonts.resolve_lang(lang)
    p = _payments(payments)
    ax, title = start(
        ax, (8.0, 5.0), ("各地区缴费渠道构成", "Payment channels by region"), lang
    )
    if "channel" not in p or not p["channel"].notna().any():
        return no_data(ax, s("no_channel", lang), title=title)
    if "region" not in p or not p["region"].notna().any():
        return no_data(ax, pick(("无地区数据", "no region data"), lang), title=title)
    from ..channels import GROUPS, table

    t = table()
    # Count on the categorical codes (bincount), then name the cells: fast on tens
    # of millions of payments.
    r_codes, r_names = pd.factorize(p["region"], sort=True)
    c_codes, c_names = pd.factorize(p["channel"], sort=True)
    ok = (r_codes >= 0) & (c_codes >= 0)
    cells = np.bincount(
        r_codes[ok] * len(c_names) + c_codes[ok], minlength=len(r_names) * len(c_names)
    )
    counts = pd.DataFrame(
        cells.reshape(len(r_names), len(c_names)),
        index=pd.Index([str(r) for r in r_names]),
        columns=[str(c) for c in c_names],
    )
    if by == "group":
        groups = counts.columns.map(lambda c: t["group"].get(c, "other"))
        counts = counts.T.groupby(groups).sum().T
    counts = counts[counts.sum(axis=1) > 0]
    n = counts.sum(axis=1)
    counts = counts.loc[n.sort_values(ascending=False).index[:top]]
    share = counts.div(counts.sum(axis=1), axis=0)
    if by == "group":
        cols = [g for g in GROUPS if g in share.columns]
        cols += [c for c in share.columns if c not in cols]
        share = share[cols]
        if "counter" in share:
            share = share.sort_values("counter", ascending=False, kind="stable")
        xt = [
            pick(GROUP_NAMES[c], lang) if c in GROUP_NAMES else s("other", lang)
            for c in share.columns
        ]
    else:
        keep = share.mean().sort_values(ascending=False).index[:10]
        other = share.drop(columns=keep).sum(axis=1)
        share = share[keep]
        if (other > 0).any():
            share = share.assign(_other=other)
        xt = []
        for c in share.columns:
            if c == "_other":
                xt.append(s("other", lang))
            else:
                name = (
                    t.at[c, "name_zh" if lang == "zh" else "name_en"]
                    if c in t.index
                    else c
                )
                xt.append(drawable(name, lang, c))
    vals = share.to_numpy(dtype="float64")
    im = ax.imshow(vals, cmap="OrRd", vmin=0, vmax=1, aspect="auto")
    texts = np.where(vals > 0, [[shares_text(v) for v in row] for row in vals], "")
    annotate_cells(ax, im, vals, texts)  # regions x groups: a few hundred cells
    yt = []
    for i, r in enumerate(share.index):
        fallback = f"{pick(('地区', 'region'), lang)} {i + 1}"
        yt.append(f"{drawable(r, lang, fallback)} (n={int(n[r]):,})")
    ax.set_yticks(range(len(share)), yt, fontsize=9)
    rotated_xticks(ax, xt)
    return finish(ax, title, lang)


def plot_migration(transitions, *, normalize=True, names=None, lang="auto", ax=None):
    """Heatmap of customers moving between segments from one period to the next.

    Parameters
    ----------
    transitions : DataFrame or payseg.labels.Migration
        Counts from segment (rows) to segment (columns), or a fitted ``Migration``
        (its ``transitions_``).
    normalize : bool, default True
        Colour by row share (where each segment's customers went); cells show the
        share and the count either way.
    names : Series, dict or DataFrame, optional
        Segment id -> display name for the row and column labels.
    lang : {"auto", "zh", "en"}, default "auto"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The heatmap, rows the earlier segment and columns the later one.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from payseg.plot import plot_migration
    >>> m = pd.DataFrame([[8, 2], [1, 9]], index=[0, 1], columns=[0, 1])
    >>> ax = plot_migration(m, lang="en")
    >>> ax.texts[0].get_text()
    '80%\\n8'
    """
    lang = _fonts.resolve_lang(lang)
    if hasattr(transitions, "transitions_"):
        transitions = transitions.transitions_
    counts = pd.DataFrame(transitions)
    k = max(counts.shape) if counts.size else 2
    ax, title = start(
        ax,
        (2.2 + 0.9 * k, 1.6 + 0.7 * k),
        ("分群迁移（上期 → 本期）", "Segment migration (previous → current)"),
        lang,
    )
    counts = counts.apply(pd.to_numeric, errors="coerce").fillna(0)
    if counts.empty or counts.to_numpy().sum() <= 0:
        return no_data(ax, pick(("无迁移数据", "no migration data"), lang), title=title)
    row = counts.sum(axis=1)
    shares = counts.div(row.where(row > 0), axis=0).fillna(0.0)
    vals = shares.to_numpy(dtype="float64") if normalize else counts.to_numpy(float)
    im = ax.imshow(
        vals, cmap="Blues", vmin=0, vmax=1 if normalize else None, aspect="auto"
    )
    cnt = counts.to_numpy()
    texts = np.where(
        cnt > 0,
        [
            [f"{v:.0%}\n{int(c):,}" for v, c in zip(sr, cr)]
            for sr, cr in zip(shares.to_numpy(), cnt)
        ],
        "",
    )
    annotate_cells(ax, im, vals, texts)  # empty cells blank
    for d in range(min(counts.shape)):
        if counts.index[d] == counts.columns[d]:  # outline "stayed" cells
            ax.add_patch(_rect(d, d))
    labels = list(dict.fromkeys(list(counts.index) + list(counts.columns)))
    shown = (
        segment_names(labels, names, lang)
        if names is not None
        else {
            x: drawable(x, lang, f"{s('segment', lang)} {i}")
            for i, x in enumerate(labels)
        }
    )
    ax.set_yticks(range(len(counts)), [shown[x] for x in counts.index])
    rotated_xticks(ax, [shown[x] for x in counts.columns])
    ax.set_ylabel(pick(("上期分群", "segment in the previous period"), lang))
    ax.set_xlabel(pick(("本期分群", "segment in the current period"), lang))
    return finish(ax, title, lang)


def _rect(i, j):
    from matplotlib.patches import Rectangle

    return Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", lw=1.2)
