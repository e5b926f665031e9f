"""Outlet planning: where do customers still pay at counters and agent outlets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import as_payments, check_number, slope

__all__ = ["outlet_shares"]

_PER_YEAR = {"M": 12, "Q": 4, "Y": 1}


def outlet_shares(
    data, *, groups=("counter", "agent"), freq="Q", need_min=0.3, region=None
) -> pd.DataFrame:
    """Per region: share of payments at counters / agent outlets and its trend.

    Parameters
    ----------
    data : PaymentData or DataFrame
        Payments with a ``channel``; the region comes from ``payments["region"]``,
        else from ``customers["region"]`` (PaymentData), else from ``region``.
    groups : tuple of str, default ("counter", "agent")
        Channel groups (``payseg.channels.table()["group"]``) that need a physical
        outlet.
    freq : {"M", "Q", "Y"}, default "Q"
        Period over which the trend is measured.
    need_min : float, default 0.3
        A region whose share in the latest period is at least this still needs
        outlets (``needs_outlets``).
    region : Series, optional
        customer_id -> region, when the data carries none.

    Returns
    -------
    DataFrame indexed by region, most outlet-dependent first: ``customers`` (each
    customer counted in the region of its first payment row), ``payments``, ``<group>_share`` for each group, ``outlet_share`` (their sum),
    ``customer_share`` (customers paying mostly at outlets), ``latest_share``
    (outlet share in the last period), ``trend_per_year`` (least-squares slope of the
    per-period outlet share, in share points per year; negative: leaving outlets),
    ``needs_outlets``. The per-period shares are in ``result.attrs["by_period"]``.
    Payments with an unknown channel are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"customer_id": ["a", "a", "b", "b"],
    ...     "paid_at": pd.to_datetime(["2024-01-05", "2024-04-05"] * 2),
    ...     "channel": ["counter", "sgcc_app", "agent_outlet", "agent_outlet"],
    ...     "amount": 100.0, "region": ["city", "city", "rural", "rural"]})
    >>> out = outlet_shares(p)
    >>> out["outlet_share"].tolist(), out["trend_per_year"].tolist()
    ([1.0, 0.5], [0.0, -4.0])
    """
    from .. import channels
    from ..data import PaymentData

    if freq not in _PER_YEAR:
        raise ValueError(f"freq must be one of {list(_PER_YEAR)}, got {freq!r}")
    check_number(need_min, "need_min", low=0, high=1)
    p = as_payments(data, "outlet_shares")
    if "channel" not in p.columns or p["channel"].isna().all():
        raise ValueError(
            "outlet_shares needs payment channels; these payments have none "
            "(e.g. cph.csv has only dates and amounts)"
        )
    if "region" in p.columns and p["region"].notna().any():
        reg = p["region"]
    else:
        if region is None and isinstance(data, PaymentData) and len(data.customers):
            region = data.customers.get("region")
        if region is None:
            raise ValueError(
                "no region: pass payments with a 'region' column, PaymentData with "
                "customers['region'], or region=Series(customer_id -> region)"
            )
        reg = p["customer_id"].map(region)
    # Work on integer codes: one pass of bincounts over millions of payments.
    chan = p["channel"].astype("category")
    # Group of each row as a small integer: position in `groups`, len(groups) for
    # another known group, -1 for an unknown channel.
    group = channels.table()["group"].reindex(chan.cat.categories.astype("str"))
    pos = {grp: i for i, grp in enumerate(groups)}
    gpos = np.array(
        [pos.get(x, len(groups)) if isinstance(x, str) else -1 for x in group],
        dtype="int64",
    )  # one per channel
    ccodes = chan.cat.codes.to_numpy()
    gcode = np.where(ccodes >= 0, gpos[ccodes] if len(gpos) else -1, -1)
    # Categorical regions (the loader's dtype) are used by code, without strings.
    reg = reg.astype("category")
    reg = reg.cat.remove_unused_categories().cat.reorder_categories(
        sorted(reg.cat.remove_unused_categories().cat.categories, key=str)
    )
    rcode = reg.cat.codes.to_numpy()
    regions = reg.cat.categories.astype("str")
    known = (gcode >= 0) & (rcode >= 0)
    r = rcode[known]
    g = gcode[known]
    # Period number from the month count: no Period objects for millions of rows.
    month = p["paid_at"].to_numpy()[known].astype("datetime64[M]").astype("int64")
    step = {"M": 1, "Q": 3, "Y": 12}[freq]
    pnum = month // step
    p0 = pnum.min() if len(pnum) else 0
    pcode = pnum - p0
    n_per = int(pcode.max()) + 1 if len(pcode) else 0
    periods = pd.PeriodIndex(
        [
            pd.Period(np.datetime64(int((p0 + i) * step), "M"), freq)
            for i in range(n_per)
        ],  # one per period, a few dozen
        name="period",
    )
    ccode, cids = pd.factorize(p["customer_id"][known])
    n_reg, n_cust = len(regions), len(cids)
    n_pay = np.bincount(r, minlength=n_reg).astype("float64")
    outlet = (g < len(groups)).astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = {
            f"{grp}_share": np.bincount(r, weights=(g == i), minlength=n_reg) / n_pay
            for i, grp in enumerate(groups)
        }
        # A customer counts in the region of its first payment row (customers live
        # in one supply area); "mostly at outlets" = more than half its payments.
        # factorize numbers customers in order of appearance: a row is a customer's
        # first exactly when its code exceeds every earlier code.
        seen = np.maximum.accumulate(ccode) if len(ccode) else ccode
        is_first = ccode > np.r_[-1, seen[:-1]]
        first = np.zeros(n_cust, dtype="int64")
        first[ccode[is_first]] = r[is_first]
        cust_share = np.bincount(ccode, weights=outlet, minlength=n_cust) / np.bincount(
            ccode, minlength=n_cust
        )
        n_cust_reg = np.bincount(first, minlength=n_reg)
        mostly = np.bincount(first, weights=cust_share > 0.5, minlength=n_reg)
        cell = r.astype("int64") * n_per + pcode
        per_n = np.bincount(cell, minlength=n_reg * n_per).reshape(n_reg, n_per)
        per_o = np.bincount(cell, weights=outlet, minlength=n_reg * n_per).reshape(
            n_reg, n_per
        )
        per = pd.DataFrame(
            np.where(per_n > 0, per_o / per_n, np.nan),
            index=pd.Index(regions, name="region"),
            columns=periods,
        )
        out = pd.DataFrame(
            {
                "customers": n_cust_reg,
                "payments": n_pay.astype("int64"),
                **shares,
                "outlet_share": np.bincount(r, weights=outlet, minlength=n_reg) / n_pay,
                "customer_share": mostly / n_cust_reg,
            },
            index=pd.Index(regions, name="region"),
        )
    out = out[out["payments"] > 0]
    per = per.loc[out.index]
    last = per.ffill(axis=1).iloc[:, -1] if per.shape[1] else np.nan
    out["latest_share"] = last
    out["trend_per_year"] = slope(per) * _PER_YEAR[freq]
    out["needs_outlets"] = out["latest_share"] >= need_min
    out.index.name = "region"
    out = out.sort_values("outlet_share", ascending=False, kind="stable")
    out.attrs["by_period"] = per
    return out
