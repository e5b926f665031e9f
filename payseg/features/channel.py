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
from ._block import Block
from ._reduce import zero_unless

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
    "channel_shift",
    "channel_migration",
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


def top_channel(weights: np.ndarray, codes: list[str]) -> np.ndarray:
    """The dominant channel rule: for each row of ``weights`` (payment counts or
    shares, one column per code of ``codes`` in registry order), the code of the
    largest weight, the first in registry order on ties; None for rows without a
    positive weight (NaN counts as none)."""
    weights = np.asarray(weights)
    if weights.dtype.kind == "f":
        weights = np.nan_to_num(weights, nan=0.0)
    out = np.array(list(codes) + [None], dtype=object)
    top = (
        weights.argmax(axis=1) if weights.shape[1] else np.zeros(len(weights), np.int64)
    )
    return out[np.where((weights > 0).any(axis=1), top, len(codes))]


def dominant_codes(block: Block) -> pd.Series:
    """Most used channel per customer of ``block`` (:func:`top_channel` of the
    payment counts); NaN without a payment through a known channel."""
    codes = top_channel(block.channel_counts, block.channels)
    return pd.Series(codes, index=block.index, dtype="str", name="dominant_channel")


def dominant_from_shares(shares: pd.DataFrame) -> pd.Series:
    """Dominant channel from ``channel_share__<code>`` columns (as ``build_features``
    writes them, in registry order): the same rule as ``return_dominant=True``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"channel_share__alipay": [0.5, 0.2, float("nan")],
    ...                   "channel_share__counter": [0.5, 0.8, float("nan")]},
    ...                  index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> dominant_from_shares(X).tolist()
    ['alipay', 'counter', nan]
    """
    columns = [c for c in shares.columns if str(c).startswith(SHARE_PREFIX)]
    codes = [str(c)[len(SHARE_PREFIX) :] for c in columns]
    top = top_channel(shares[columns].to_numpy(dtype=np.float64), codes)
    return pd.Series(top, index=shares.index, dtype="str", name="dominant_channel")


#: Fewest known-channel payments for ``channel_shift``.
SHIFT_MIN_PAYMENTS = 4


def _shift(n: int, cust: np.ndarray, chan: np.ndarray, groups: np.ndarray):
    """Total-variation distance between the channel-group mix of each customer's
    first and last ``m // 2`` known-channel payments (``m`` of them, time order);
    NaN below :data:`SHIFT_MIN_PAYMENTS`."""
    k = groups.shape[1]
    group = np.asarray(groups, dtype=np.float64).argmax(axis=1)[chan]
    m = np.bincount(cust, minlength=n)
    start = np.concatenate([[0], np.cumsum(m)[:-1]])
    pos = np.arange(len(cust)) - start[cust]
    half = m[cust] // 2
    early, late = pos < half, pos >= m[cust] - half
    e = np.bincount(cust[early] * k + group[early], minlength=n * k).reshape(n, k)
    lt = np.bincount(cust[late] * k + group[late], minlength=n * k).reshape(n, k)
    h = (m // 2).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        tv = 0.5 * np.abs(e - lt).sum(axis=1) / h
        # what two halves of one unchanged mix differ by, on average:
        # sum over groups of sqrt(p (1 - p) / (pi h)), p the pooled share
        p = (e + lt) / (2 * h[:, None])
        noise = np.sqrt(p * (1 - p) / (np.pi * h[:, None])).sum(axis=1)
    return np.where(m >= SHIFT_MIN_PAYMENTS, np.maximum(tv - noise, 0.0), np.nan)


#: Fewest known-channel payments for ``channel_migration``.
MIGRATION_MIN_PAYMENTS = 6
#: Critical value of the largest standardised CUSUM of the online indicator: the
#: 5% point of the supremum of a Brownian bridge (Kolmogorov distribution), what
#: the statistic tends to for one steady mix.
MIGRATION_CRITICAL = 1.36


def _migration(n: int, cust: np.ndarray, online: np.ndarray) -> np.ndarray:
    """Signed change in the online share at each customer's most likely change point,
    0 unless it is significant (and below :data:`MIGRATION_MIN_PAYMENTS`: too few
    payments to claim a change); NaN without a known-channel payment.

    ``cust`` (sorted) and ``online`` (0/1) are the known-channel payments in time
    order. With ``m`` payments, ``S`` of them online and ``p = S / m``, the CUSUM
    ``D_t = (s_t - t p) / sqrt(m p (1 - p))`` (``s_t`` online among the first ``t``)
    is largest in absolute value at the change point ``t*``; the value is the online
    share after ``t*`` less the share up to it, when ``max |D_t|`` exceeds
    :data:`MIGRATION_CRITICAL`.
    """
    m = np.bincount(cust, minlength=n)
    total = np.bincount(cust, weights=online.astype(np.float64), minlength=n)
    shift = np.zeros(n)
    stat = np.zeros(n)
    # Only customers with enough payments and both kinds of channel can change:
    # with none (or only) online, every D_t is 0 / 0 and the value is 0. The CUSUM
    # runs over their rows alone (37% of the known-channel payments of the generator).
    mixed = (m >= MIGRATION_MIN_PAYMENTS) & (total > 0) & (total < m)
    keep = mixed[cust]
    if keep.any():
        cust = cust[keep]
        x = online[keep].astype(np.float64)
        start = np.zeros(n, dtype=np.int64)
        np.cumsum(np.where(mixed, m, 0)[:-1], out=start[1:])
        csum = np.cumsum(x)  # whole numbers: exact, whatever rows come before
        before = np.concatenate([[0.0], csum])[start]
        s_t = csum - before[cust]  # online among the first t, t = pos + 1
        t = np.arange(len(x)) - start[cust] + 1
        mc = m[cust]
        p = total[cust] / mc
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.abs(s_t - t * p) / np.sqrt(mc * p * (1 - p))
        d = np.where((t < mc) & np.isfinite(d), d, 0.0)
        # rows grouped by customer: a segment maximum (d >= 0, as stat starts)
        stat[mixed] = np.maximum.reduceat(d, start[mixed])
        # first row reaching the customer's maximum (up to rounding): t* is its t
        hit = np.flatnonzero((d >= stat[cust] - 1e-9) & (d > 0))
        first = np.ones(len(hit), dtype=bool)
        first[1:] = cust[hit[1:]] != cust[hit[:-1]]
        hit = hit[first]
        c, tt, st = cust[hit], t[hit], s_t[hit]
        shift[c] = (total[c] - st) / (m[c] - tt) - st / tt
    shift = np.where(stat > MIGRATION_CRITICAL, shift, 0.0)
    shift = np.where(m >= MIGRATION_MIN_PAYMENTS, shift, 0.0)
    return np.where(m > 0, shift, np.nan)


def compute(block: Block) -> dict[str, np.ndarray]:
    """Channel columns as arrays aligned with ``block.index``."""
    n, pay = block.n, block.pay
    out = {c: np.full(n, np.nan) for c in COLUMNS}
    if not block.channels:
        return out
    counts = block.channel_counts
    total = counts.sum(axis=1)
    has = total > 0
    shares = np.full(counts.shape, np.nan)
    shares[has] = counts[has] / total[has, None]
    for j, group in enumerate(_channels.GROUPS):  # group_matrix is in GROUPS order
        members = np.flatnonzero(block.group_matrix[:, j])
        out[_GROUP_COLUMNS[group]] = np.where(
            has, shares[:, members].sum(axis=1), np.nan
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = zero_unless(shares * np.log2(shares), shares > 0)
    out["channel_entropy"] = np.where(has, 0.0 - plogp.sum(axis=1), np.nan)
    out["top_channel_share"] = np.where(
        has, np.nanmax(shares, axis=1, initial=0), np.nan
    )
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
    out["channel_shift"] = _shift(n, cust, chan, block.group_matrix)
    online = block.group_matrix[:, _channels.GROUPS.index("online")].astype(bool)
    out["channel_migration"] = _migration(n, cust, online[chan])
    for j, code in enumerate(block.channels):
        out[SHARE_PREFIX + code] = shares[:, j]
    return out
