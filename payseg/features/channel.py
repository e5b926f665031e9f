"""Channel features: through which channels a customer pays, and how loyally.

Shares count payments with a known channel; customers without any (and every customer
of a file without a channel column) get NaN. Group shares use the one ``group`` each
channel has in the registry (``payseg.channels.table()``), so they sum to 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import channels as _channels
from .._schema import CHANNEL_SHARE_PREFIX
from ._index import Block, zero_unless

COLUMNS = (
    "online_share",
    "self_service_share",
    "automatic_share",
    "prepaid_share",
    "counter_share",
    "agent_share",
    "channel_entropy",
    "top_channel_share",
    "n_channels",
    "channel_switch_rate",
)
#: Prefix of the per-channel share columns (``channel_share__alipay``, ...).
SHARE_PREFIX = CHANNEL_SHARE_PREFIX
_GROUP_COLUMNS = {
    "online": "online_share",
    "self_service": "self_service_share",
    "automatic": "automatic_share",
    "prepaid": "prepaid_share",
    "counter": "counter_share",
    "agent": "agent_share",
}


def _counts(ctx: Block) -> np.ndarray:
    """(n_customers, n_channels) payment counts per present channel."""
    pay, k = ctx.pay, len(ctx.channels)
    known = pay.chan >= 0
    flat = pay.cust[known] * k + pay.chan[known]
    return np.bincount(flat, minlength=ctx.n * k).reshape(ctx.n, k)


def dominant_codes(ctx: Block, counts: np.ndarray | None = None) -> pd.Series:
    """Most used channel per customer (ties: registry order); NaN without channels."""
    if counts is None:
        counts = getattr(ctx, "channel_counts", None)
    if counts is None:
        counts = _counts(ctx)
    codes = np.array(ctx.channels + [None], dtype=object)
    top = counts.argmax(axis=1) if counts.shape[1] else np.zeros(ctx.n, np.int64)
    top = np.where(counts.sum(axis=1) > 0, top, len(ctx.channels))
    return pd.Series(codes[top], index=ctx.index, dtype="str", name="dominant_channel")


def compute(ctx: Block) -> dict[str, np.ndarray]:
    """Channel columns as arrays aligned with ``ctx.index``."""
    n, pay = ctx.n, ctx.pay
    out = {c: np.full(n, np.nan) for c in COLUMNS}
    if not ctx.channels:
        return out
    counts = _counts(ctx)
    total = counts.sum(axis=1)
    has = total > 0
    shares = np.full(counts.shape, np.nan)
    shares[has] = counts[has] / total[has, None]
    for j, group in enumerate(_channels.GROUPS):  # group_matrix is in GROUPS order
        members = np.flatnonzero(ctx.group_matrix[:, j])
        out[_GROUP_COLUMNS[group]] = np.where(has, shares[:, members].sum(axis=1),
                                              np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = zero_unless(shares * np.log2(shares), shares > 0)
    out["channel_entropy"] = np.where(has, 0.0 - plogp.sum(axis=1), np.nan)
    out["top_channel_share"] = np.where(has, np.nanmax(shares, axis=1, initial=0), np.nan)
    out["n_channels"] = np.where(has, (counts > 0).sum(axis=1), np.nan)
    # Switches between consecutive known-channel payments, in time order.
    rows = np.flatnonzero(pay.chan >= 0)
    cust, chan = pay.cust[rows], pay.chan[rows]
    pair = cust[1:] == cust[:-1]
    switch = pair & (chan[1:] != chan[:-1])
    n_pairs = np.bincount(cust[1:][pair], minlength=n)
    n_switch = np.bincount(cust[1:][switch], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["channel_switch_rate"] = np.where(n_pairs > 0, n_switch / n_pairs, np.nan)
    for j, code in enumerate(ctx.channels):
        out[SHARE_PREFIX + code] = shares[:, j]
    ctx.channel_counts = counts  # reused by dominant_codes
    return out
