"""Reversals and refunds: pair a cancelling row with the payment it cancels.

A wrong payment is reversed (冲正 / 撤销) by a negative row, marked in a status column
or only by its sign; refunds (退费) follow double payments. Neither row of such a pair
is a payment: both go to the ledger, the payment as "reversed payment", the other row
as "reversal", so rows read = kept + rejected still holds.

Matching is sort-based (:func:`pandas.merge_asof`): each cancelling row takes the
latest earlier payment of the same customer with the same transaction id (流水号),
else with the same absolute amount, within ``window_days``. Each payment is taken
once; a payment two rows want goes to the earlier of them and the other looks again
in the next round (a round per extra row in one group, not per row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._schema import REVERSAL, REVERSED_PAYMENT, UNMATCHED_NEGATIVE

__all__ = ["match_reversals"]


def _pairs(
    left: np.ndarray, right: np.ndarray, keys: dict, t: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one pairs (left row, right row) of equal ``keys``, left strictly earlier.

    ``left`` and ``right`` are disjoint row positions; ``t`` is a strictly ordered
    time per row (nanoseconds plus position); ``window`` in nanoseconds.
    """
    out_l, out_r = [], []
    left, right = left.copy(), right.copy()
    names = list(keys)
    while len(left) and len(right):
        lf = pd.DataFrame(
            {"t": t[left], "l": left, **{k: v[left] for k, v in keys.items()}}
        )
        rf = pd.DataFrame(
            {"t": t[right], "r": right, **{k: v[right] for k, v in keys.items()}}
        )
        # Rows whose key is missing (no transaction id) never match on it.
        lf = lf[lf[names].notna().all(axis=1)].sort_values("t", kind="stable")
        rf = rf[rf[names].notna().all(axis=1)].sort_values("t", kind="stable")
        if not len(lf) or not len(rf):
            break
        m = pd.merge_asof(
            rf,
            lf,
            on="t",
            by=names,
            direction="backward",
            allow_exact_matches=False,
            tolerance=window,
        )
        m = m[m["l"].notna()]
        if not len(m):
            break
        # A payment wanted by several rows goes to the earliest of them.
        m = m.sort_values("t", kind="stable").drop_duplicates("l", keep="first")
        got_l = m["l"].to_numpy(dtype=np.int64)
        got_r = m["r"].to_numpy(dtype=np.int64)
        out_l.append(got_l)
        out_r.append(got_r)
        left = left[~np.isin(left, got_l)]
        right = right[~np.isin(right, got_r)]
    if not out_l:
        return np.array([], np.int64), np.array([], np.int64)
    return np.concatenate(out_l), np.concatenate(out_r)


def match_reversals(
    ledger,
    ids: pd.Series,
    paid_at: pd.Series,
    amount: pd.Series,
    status: np.ndarray | None = None,
    txn: pd.Series | None = None,
    *,
    window_days: int = 90,
) -> dict:
    """Reject reversal pairs, refunds and unmatched negatives of a payments ledger.

    Parameters
    ----------
    ledger : payseg._ledger.Ledger
        Rows still alive are looked at; the rules reject through it.
    ids, paid_at, amount : Series
        Parsed columns of every row.
    status : ndarray of str, optional
        Per row: "action" (the row reverses or refunds: 冲正, 撤销, 退费),
        "reversed" (the row was reversed: 已冲正, 是否冲正 = 是) or "".
    txn : Series of str, optional
        Transaction ids ('' when unknown).

    Returns
    -------
    dict
        Counts for the summary: ``reversed_pairs``, ``unmatched_negative``,
        ``cancelled`` (payments marked reversed with no reversing row).
    """
    n = len(ids)
    alive = ledger.alive.copy()
    amt = amount.to_numpy(dtype="float64")
    negative = alive & (amt < 0)
    if status is None:
        # No status column: no object array of 25M '' and no string comparisons
        # over it (0.4 s of a 1M customer load with no reversal in it).
        is_action = is_reversed = np.zeros(n, dtype=bool)
    else:
        is_action, is_reversed = status == "action", status == "reversed"
    action = alive & is_action & ~negative
    counts = {"reversed_pairs": 0, "unmatched_negative": 0, "cancelled": 0}
    if not (negative.any() or action.any() or (alive & is_reversed).any()):
        return counts
    t = paid_at.to_numpy().view(np.int64) + np.arange(n, dtype=np.int64)
    # A cancelling row with a date only (midnight) may cancel a payment of that day
    # written with its time: match it as if at the end of its day.
    day_ns = 86_400 * 10**9
    dated = (negative | action) & (paid_at.to_numpy().view(np.int64) % day_ns == 0)
    t = np.where(dated, t + day_ns - n - 1, t)
    window = int(pd.Timedelta(days=window_days).value)
    cents = np.round(np.abs(amt) * 100)
    cid = pd.Series(ids.to_numpy(), dtype=object)
    keys_amount = {"c": cid.to_numpy(), "a": cents}
    rights = np.flatnonzero(negative | action)
    lefts_all = np.flatnonzero(alive & ~negative & ~action)
    marked = np.flatnonzero(alive & is_reversed & ~negative & ~action)
    got_l, got_r = [], []
    steps = []
    if txn is not None:
        tx = txn.to_numpy(dtype=object).copy()
        tx[tx == ""] = None
        steps.append({"c": cid.to_numpy(), "x": tx})
    steps.append(keys_amount)
    for keys in steps:
        # Payments marked as reversed are the first choice of a reversing row.
        for lefts in (marked, lefts_all):
            lefts = lefts[~np.isin(lefts, np.concatenate(got_l))] if got_l else lefts
            todo = rights[~np.isin(rights, np.concatenate(got_r))] if got_r else rights
            pl, pr = _pairs(lefts, todo, keys, t, window)
            got_l.append(pl)
            got_r.append(pr)
    pl = np.concatenate(got_l)
    pr = np.concatenate(got_r)
    lines = ledger.lines
    if len(pl):
        orig = np.zeros(n, dtype=bool)
        orig[pl] = True
        rev = np.zeros(n, dtype=bool)
        rev[pr] = True
        by = np.empty(n, dtype=object)
        by[pl] = np.char.add("reversed by line ", lines[pr].astype(str))
        by[pr] = np.char.add("reverses line ", lines[pl].astype(str))
        # One ledger entry per row, in line order: reject both kinds in one pass each.
        ledger.reject(orig, "amount", REVERSED_PAYMENT, values=by)
        ledger.reject(rev, "amount", REVERSAL, values=by)
        counts["reversed_pairs"] = len(pl)
    left_neg = negative & ledger.alive
    counts["unmatched_negative"] = int(left_neg.sum())
    ledger.reject(left_neg, "amount", UNMATCHED_NEGATIVE)
    left_action = action & ledger.alive
    ledger.reject(
        left_action, "amount", REVERSAL, values="no matching payment in the file"
    )
    left_marked = alive & ledger.alive & is_reversed
    counts["cancelled"] = int(left_marked.sum())
    ledger.reject(
        left_marked,
        "amount",
        REVERSED_PAYMENT,
        values="marked reversed; its reversal is not in the file",
    )
    return counts
