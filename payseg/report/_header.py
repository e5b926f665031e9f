"""The top of the report: the figure cards, the run line and the key points."""

from __future__ import annotations

import datetime as _dt

import pandas as pd

from ._common import _is_noise, _method, _n_no_data, _n_segments, _n_warnings
from ._model import _int, _money, _pct, _text


def _header(result) -> tuple[list, list]:
    data = result.data
    p = data.payments
    n_cust = len(result.labels) if result.labels is not None else data.n_customers
    cards = [
        (_int(n_cust), "customers 客户"),
        (_int(len(p)), "payments 缴费笔数"),
        (_int(_n_segments(result)), "segments 分群"),
    ]
    if len(p):
        cards.append(
            (
                f"{p['paid_at'].min():%Y-%m} – {p['paid_at'].max():%Y-%m}",
                "period 时间范围",
            )
        )
        cards.append(
            (_money(p["amount"].sum()).rsplit(".", 1)[0], "yuan paid 缴费金额（元）")
        )
    cards.append((_int(len(data.rejected)), "rejected rows 拒收行"))
    meta = [
        f"Method {_method(result)}, k = {_n_segments(result)}",
        f"generated {_dt.datetime.now():%Y-%m-%d %H:%M}",
    ]
    return cards, meta


def _key_points(result, segs) -> list:
    """A few sentences a manager reads first."""
    points = []
    real = segs[[not _is_noise(i) for i in segs.index]]
    if len(real):
        top = real.sort_values("size", ascending=False).head(3)
        parts = [f"{_text(r['name_en'])} {_pct(r['share'])}" for _, r in top.iterrows()]
        points.append(f"{len(real)} segments; the largest: " + ", ".join(parts) + ".")
    keys = segs["key"].astype(str)
    late = segs.loc[keys.isin(["chronic_late", "deadline"]).to_numpy()]
    if len(late):
        points.append(
            f"{int(late['size'].sum()):,} customers "
            f"({late['share'].sum():.1%}) are in deadline-driven or "
            "chronically late segments: candidates for reminders and "
            "auto-debit offers."
        )
    p = result.data.payments
    if "channel" in p and p["channel"].notna().any():
        from ..channels import table

        # value_counts on the categorical, then groups per code: no per-row strings.
        vc = p["channel"].value_counts()
        groups = pd.Series([str(c) for c in vc.index]).map(table()["group"])
        share = vc.to_numpy()[groups.isin(["counter", "agent"]).to_numpy()].sum() / max(
            int(vc.sum()), 1
        )
        points.append(f"{share:.1%} of payments are made at counters or agent outlets.")
    n_w = _n_warnings(result.warnings)
    if n_w:
        points.append(
            f"{n_w:,} customers are on the early-warning list (section Early warnings)."
        )
    rej = result.data.rejected
    if len(rej):
        points.append(
            f"{len(rej):,} input rows were rejected; see the reasons in "
            "the data summary."
        )
    noise = segs.loc[[_is_noise(i) for i in segs.index]]
    n_all = max(int(segs["size"].sum()), 1)
    n_no_data = _n_no_data(result)
    n_noise = int(noise["size"].sum()) - n_no_data if len(noise) else 0
    if n_noise > 0:
        points.append(
            f"{n_noise:,} customers ({n_noise / n_all:.1%}) fit no segment (noise)."
        )
    if n_no_data:
        points.append(
            f"{n_no_data:,} customers ({n_no_data / n_all:.1%}) have no payment or "
            "bill in the data (no data): not segmented, no credit grade; action: "
            "check the customer record (column no_data)."
        )
    return points
