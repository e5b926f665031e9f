"""Section "Regions and outlets": segments per 供电单位 and where outlets are needed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._model import _int, _Para, _pct, _Section, _Sub, _Table, _text, _Two


def _region_of(result) -> pd.Series | None:
    c = result.customers
    if isinstance(c, pd.DataFrame) and "region" in c and c["region"].notna().any():
        return c["region"].astype(object)
    return None


def _why(r, need_min) -> tuple[str, str]:
    latest, trend = r["latest_share"], r["trend_per_year"]
    tr_zh = (
        ""
        if np.isnan(trend)
        else f"，每年{'下降' if trend < 0 else '上升'} {abs(trend) * 100:.1f} 个百分点"
    )
    tr_en = (
        ""
        if np.isnan(trend)
        else f", {'falling' if trend < 0 else 'rising'} {abs(trend) * 100:.1f} points "
        "a year"
    )
    if r["needs_outlets"]:
        years = (latest - need_min) / -trend if trend < 0 else np.inf
        when_zh = (
            f"，约 {years:.1f} 年后降到 {need_min:.0%} 以下"
            if np.isfinite(years)
            else "，且没有下降"
        )
        when_en = (
            f"; below {need_min:.0%} in about {years:.1f} years"
            if np.isfinite(years)
            else "; not falling"
        )
        return (
            f"需要：最近一期 {latest:.0%} 的缴费在柜台或代收点（≥ {need_min:.0%}）"
            f"{tr_zh}{when_zh}",
            f"yes: {latest:.0%} of payments in the last period at counters or agents "
            f"(at least {need_min:.0%}){tr_en}{when_en}",
        )
    return (
        f"可精简：最近一期仅 {latest:.0%} 在柜台或代收点{tr_zh}",
        f"can shrink: only {latest:.0%} at counters or agents in the last period"
        f"{tr_en}",
    )


def _heatmap(result, lang) -> list:
    """The region x channel heatmap (customers), and the code table when the Chinese
    region names cannot be drawn (``lang`` resolved to "en": no CJK font, or asked
    for): the plot labels them R1, R2, ... (:func:`payseg.plot.region_codes`)."""
    import warnings

    from .. import plot
    from ._model import _figure

    data = result.data
    regions = data.customers["region"] if "region" in data.customers else None
    if regions is None or not regions.notna().any():
        regions = data.payments["region"]
    codes = plot.region_codes(regions.dropna().unique()) if lang != "zh" else None

    def draw(ax):
        with warnings.catch_warnings():  # the report says it once, below
            warnings.filterwarnings("ignore", ".*region names have Chinese")
            plot.plot_region_channel(data, lang=lang, ax=ax)

    blocks: list = [
        _figure(
            "region_channel",
            draw,
            "Channel mix of each region's customers (a customer's share of each "
            "channel family, averaged over the region's customers; most counter-bound "
            "first). 各供电单位客户的缴费渠道构成（按客户平均，柜台占比高者在前）。",
            (8.0, 5.0),
        )
    ]
    if codes is not None and len(codes):
        warnings.warn(
            f"payseg.report: the heatmap labels {len(codes)} Chinese region names "
            "R1, R2, ... (no CJK font, or lang='en'); the report prints the table of "
            "codes under it. pip install pylopdf-fonts-zh-cn to draw the names",
            UserWarning,
            stacklevel=3,
        )
        blocks.append(
            _Para(
                "The figure labels regions with these codes (no CJK font when it was "
                "drawn). 图中供电单位以代码表示：",
                "note",
            )
        )
        blocks.append(
            _Table(
                ["code 代码", "region 供电单位"],
                [[c, _text(r)] for r, c in codes.items()],
                nowrap={0, 1},
            )
        )
    return blocks


def _section_regions(result, segs, need_min=0.3, lang="auto") -> _Section | None:
    region = _region_of(result)
    data = result.data
    p = data.payments
    has_channel = "channel" in p and p["channel"].notna().any()
    if region is None and not ("region" in p and p["region"].notna().any()):
        return None
    blocks: list = []
    if region is not None:
        seg = result.customers["segment"]
        tab = pd.crosstab(region, seg)
        tab = tab.reindex(columns=[s for s in segs.index if s in tab.columns])
        tab = tab.loc[tab.sum(axis=1).sort_values(ascending=False).index]
        names = [
            f"{_text(segs.at[s, 'name_zh'])} {_text(segs.at[s, 'name_en'])}"
            for s in tab.columns
        ]
        rows = [
            [_text(reg), *[_int(v) for v in r], _int(r.sum())]
            for reg, r in tab.iterrows()
        ]
        rows.append(
            ["total 合计", *[_int(v) for v in tab.sum()], _int(tab.to_numpy().sum())]
        )
        blocks.append(_Sub("Customers per segment and region", "各供电单位分群客户数"))
        blocks.append(
            _Para(
                "Customers (not payments) of each segment in each 供电单位; every customer "
                "is counted once, in its region. 按客户数统计。"
            )
        )
        blocks.append(
            _Table(
                ["region 供电单位", *names, "customers 客户数"],
                rows,
                num=set(range(1, len(names) + 2)),
                highlight={len(rows) - 1},
                nowrap={0},
            )
        )
    if has_channel:
        from ..labels import outlet_shares

        blocks.append(
            _Sub(
                "Payment channels of each region's customers", "各供电单位客户缴费渠道"
            )
        )
        blocks.extend(_heatmap(result, lang))

        try:
            out = outlet_shares(data, need_min=need_min, region=region)
        except ValueError as exc:
            blocks.append(_Para(f"No outlet table: {exc}", "note"))
            out = None
        if out is not None and len(out):
            rows = []
            for reg, r in out.iterrows():
                zh, en = _why(r, need_min)
                rows.append(
                    [
                        _text(reg),
                        _int(r["customers"]),
                        _pct(r.get("counter_share")),
                        _pct(r.get("agent_share")),
                        _pct(r["outlet_share"]),
                        _pct(r["latest_share"]),
                        "–"
                        if np.isnan(r["trend_per_year"])
                        else f"{r['trend_per_year'] * 100:+.1f} pp",
                        _Two(zh, en),
                    ]
                )
            need = [str(x) for x in out.index[out["needs_outlets"].astype(bool)]]
            blocks.append(
                _Sub(
                    "Counters and agent outlets by region",
                    "各供电单位柜台与代收点缴费占比",
                )
            )
            blocks.append(
                _Para(
                    (
                        f"Regions that still need outlets: {', '.join(need)}. "
                        f"仍需保留或增设网点的供电单位：{'、'.join(need)}。"
                    )
                    if need
                    else (
                        f"No region pays {need_min:.0%} or more at counters and agent outlets: "
                        "outlets can be consolidated. 各供电单位柜台与代收点占比均低于"
                        f" {need_min:.0%}，可考虑精简网点。"
                    ),
                    "callout",
                )
            )
            blocks.append(
                _Table(
                    [
                        "region 供电单位",
                        "customers 客户数",
                        "counter 柜台",
                        "agent 代收点",
                        "outlets 合计",
                        "last period 最近一期",
                        "trend/year 年变化",
                        "outlets needed? 是否需要网点",
                    ],
                    rows,
                    num={1, 2, 3, 4, 5, 6},
                    nowrap={0},
                )
            )
            blocks.append(
                _Para(
                    "Shares of payments per region; trend = least-squares slope of the "
                    "quarterly share, in share points per year. A region needs outlets "
                    f"while at least {need_min:.0%} of its payments in the last quarter were "
                    "made at counters or agent outlets. 趋势为季度占比的年化斜率。",
                    "note",
                )
            )
    else:
        blocks.append(
            _Para(
                "No payment channel in the data: outlet shares cannot be "
                "computed. 无缴费渠道数据。",
                "note",
            )
        )
    return _Section("regions", "Regions and outlets", "供电单位与缴费网点", blocks)
