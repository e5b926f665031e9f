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


def region_codes(regions) -> pd.Series:
    """Latin code of each Chinese region name: ``R1``, ``R2``, ... in sorted order.

    :func:`plot_region_channel` labels regions with these codes when their names
    hold Chinese characters and no CJK font is installed; the report prints the
    same table next to the heatmap, so the codes can be read back to the names.

    Parameters
    ----------
    regions : iterable
        Region names (repeats, missing values and names without Chinese characters,
        which can always be drawn, are left out).

    Returns
    -------
    pandas.Series
        Region name (index, sorted) -> code.

    Examples
    --------
    >>> from payseg.plot import region_codes
    >>> region_codes(["城西供电所", "north", "城东供电所", "城西供电所", None]).to_dict()
    {'城东供电所': 'R1', '城西供电所': 'R2'}
    """
    names = sorted(
        {
            str(r)
            for r in pd.Series(list(regions), dtype=object).dropna()
            if _fonts.has_cjk(r)
        }
    )
    return pd.Series(
        [f"R{i + 1}" for i in range(len(names))],
        index=pd.Index(names, name="region"),
        name="code",
        dtype=object,
    )


def _customer_regions(payments, p: pd.DataFrame, cust_codes, cust_names):
    """Region code of each customer (-1: none) and the sorted region names: from the
    customers table when it has regions, else the region of the customer's first
    payment."""
    from ..data import PaymentData

    if (
        isinstance(payments, PaymentData)
        and "region" in payments.customers
        and payments.customers["region"].notna().any()
    ):
        reg = pd.Series(payments.customers["region"])
        reg.index = reg.index.astype(str)
        codes, names = pd.factorize(
            reg.reindex(pd.Index(cust_names).astype(str)), sort=True
        )
        return codes, [str(r) for r in names]
    # factorize(sort=False) numbers customers in order of first appearance, so a
    # customer's first payment is where its code first exceeds every earlier code.
    seen = np.maximum.accumulate(cust_codes)
    first = np.flatnonzero(cust_codes > np.concatenate(([-1], seen[:-1])))
    codes, names = pd.factorize(p["region"], sort=True)
    return np.asarray(codes)[first], [str(r) for r in names]


def plot_region_channel(payments, *, by="group", top=30, lang="auto", ax=None):
    """Heatmap of the channel mix of each region's customers.

    Each cell is the share of a channel family (or channel) in a customer's
    payments, averaged over the region's customers: every customer weighs the same,
    however often they pay (a prepaid customer topping up weekly does not outweigh
    a neighbour who pays once a month). Regions are sorted by that counter share, so
    regions whose customers still pay at counters (candidates for agent outlets or
    self-service terminals) come first. The row label gives the number of customers.

    Parameters
    ----------
    payments : PaymentData or DataFrame
        Payments with ``customer_id``, ``region`` and ``channel`` columns. With
        ``PaymentData`` the region comes from ``PaymentData.customers`` when it has
        one; otherwise a customer's region is that of their first payment.
    by : {"group", "channel"}, default "group"
        Channel families or individual channels (the ten most used).
    top : int, default 30
        Regions shown (those with the most customers).
    lang : {"auto", "zh", "en"}, default "auto"
        Region names with Chinese characters need a CJK font (payseg installs
        Noto Sans SC with the ``pylopdf-fonts-zh-cn`` package). Without one they
        are labelled with the codes of :func:`region_codes` (``R1``, ``R2``, ...)
        and a ``UserWarning`` says so; the report prints the code table.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The heatmap, one row per region and one column per channel family or channel.

    Raises
    ------
    ValueError
        ``by`` is not "group" or "channel"; the payments have no ``customer_id``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from payseg.plot import plot_region_channel
    >>> p = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "c"],
    ...                   "region": ["north"] * 4 + ["south"],
    ...                   "channel": ["counter", "counter", "alipay", "alipay",
    ...                               "alipay"]})
    >>> ax = plot_region_channel(p, lang="en")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['north (2 customers)', 'south (1 customer)']
    >>> ax.images[0].get_array()[0].round(3).tolist()  # north: online, counter
    [0.667, 0.333]
    """
    if by not in ("group", "channel"):
        raise ValueError(f"by must be 'group' or 'channel', got {by!r}")
    lang = _fonts.resolve_lang(lang)
    p = _payments(payments)
    ax, title = start(
        ax,
        (8.0, 5.0),
        (
            "各地区客户的缴费渠道构成（按客户平均）",
            "Payment channels of each region's customers (customer average)",
        ),
        lang,
    )
    if "channel" not in p or not p["channel"].notna().any():
        return no_data(ax, s("no_channel", lang), title=title)
    if "region" not in p or not p["region"].notna().any():
        return no_data(ax, pick(("无地区数据", "no region data"), lang), title=title)
    if "customer_id" not in p:
        raise ValueError(
            "plot_region_channel counts customers, but the payments have no "
            f"customer_id column (found {list(p.columns)}); pass PaymentData or "
            "payments with a customer_id column"
        )
    from ..channels import GROUPS, table

    t = table()
    cc, cust_names = pd.factorize(p["customer_id"], sort=False)
    ch_codes, ch_names = pd.factorize(p["channel"], sort=True)
    ch_names = [str(c) for c in ch_names]
    if by == "group":
        col_names = list(dict.fromkeys(t["group"].get(c, "other") for c in ch_names))
        col_of = np.array(
            [col_names.index(t["group"].get(c, "other")) for c in ch_names],
            dtype=np.int64,
        )
    else:
        col_names, col_of = ch_names, np.arange(len(ch_names), dtype=np.int64)
    n_col = max(len(col_names), 1)
    ok = (cc >= 0) & (ch_codes >= 0)
    col = col_of[ch_codes[ok]] if len(col_of) else ch_codes[ok]
    # (customer, column) cells present in the data: O(payments), never customers x
    # channels dense.
    key = cc[ok].astype(np.int64) * n_col + col
    if len(cust_names) * n_col <= 50_000_000:  # dense counts: one O(n) pass
        dense = np.bincount(key, minlength=len(cust_names) * n_col)
        cell = np.flatnonzero(dense)
        n_cell = dense[cell]
    else:
        cell, n_cell = np.unique(key, return_counts=True)
    cust_of_cell, col_of_cell = cell // n_col, cell % n_col
    per_cust = np.bincount(cust_of_cell, weights=n_cell, minlength=len(cust_names))
    share = n_cell / per_cust[cust_of_cell]  # the customer's share of this column
    r_codes, r_names = _customer_regions(payments, p, cc, cust_names)
    has_mix = (per_cust > 0) & (r_codes >= 0)  # customers with a known channel
    if not has_mix.any():
        return no_data(ax, pick(("无地区数据", "no region data"), lang), title=title)
    n = pd.Series(np.bincount(r_codes[has_mix], minlength=len(r_names)), index=r_names)
    keep_cell = r_codes[cust_of_cell] >= 0
    sums = np.bincount(
        r_codes[cust_of_cell][keep_cell] * n_col + col_of_cell[keep_cell],
        weights=share[keep_cell],
        minlength=len(r_names) * n_col,
    ).reshape(len(r_names), n_col)
    mean = pd.DataFrame(
        sums / np.maximum(n.to_numpy(), 1)[:, None], index=r_names, columns=col_names
    )
    n = n[n > 0]
    mean = mean.loc[n.sort_values(ascending=False, kind="stable").index[:top]]
    if by == "group":
        cols = [g for g in GROUPS if g in mean.columns]
        cols += [c for c in mean.columns if c not in cols]
        mean = mean[cols]
        if "counter" in mean:
            mean = mean.sort_values("counter", ascending=False, kind="stable")
        xt = [
            pick(GROUP_NAMES[c], lang) if c in GROUP_NAMES else s("other", lang)
            for c in mean.columns
        ]
    else:
        keep = mean.mean().sort_values(ascending=False).index[:10]
        other = mean.drop(columns=keep).sum(axis=1)
        mean = mean[keep]
        if (other > 1e-12).any():
            mean = mean.assign(_other=other)
        xt = []
        for c in mean.columns:
            if c == "_other":
                xt.append(s("other", lang))
            else:
                name = (
                    t.at[c, "name_zh" if lang == "zh" else "name_en"]
                    if c in t.index
                    else c
                )
                xt.append(drawable(name, lang, c))
    vals = mean.to_numpy(dtype="float64")
    im = ax.imshow(vals, cmap="OrRd", vmin=0, vmax=1, aspect="auto")
    texts = np.where(vals > 0, [[shares_text(v) for v in row] for row in vals], "")
    annotate_cells(ax, im, vals, texts)  # regions x groups: a few hundred cells
    codes = region_codes(r_names)
    coded = []
    yt = []
    for r in mean.index:
        k = int(n[r])
        count = (
            f"{k:,} 户" if lang == "zh" else f"{k:,} customer" + ("" if k == 1 else "s")
        )
        label = drawable(r, lang, "")
        if not label and r in codes.index:
            label = codes[r]
            coded.append(r)
        label = label or "?"
        yt.append(f"{label} ({count})")
    if coded:
        import warnings

        why = (
            "no CJK font is installed"
            if _fonts.cjk_font() is None
            else "lang='en' draws no Chinese"
        )
        warnings.warn(
            f"{len(coded)} region names have Chinese characters but {why}: "
            f"labelled {codes[coded[0]]}... instead (payseg.plot.region_codes gives "
            "the table of codes; the report prints it). To draw the names use "
            "lang='zh' with a CJK font: pip install pylopdf-fonts-zh-cn (payseg's "
            "dependency) or apt-get install fonts-noto-cjk",
            UserWarning,
            stacklevel=2,
        )
    ax.set_yticks(range(len(mean)), yt, fontsize=9)
    ax.set_xlabel(
        pick(
            (
                "缴费渠道（客户平均占比）",
                "channel (average share of a customer's payments)",
            ),
            lang,
        )
    )
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
