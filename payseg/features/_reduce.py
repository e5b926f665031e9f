"""Reductions over sorted segments: each customer's rows, contiguous in a block.

Rows are grouped by customer and ``bounds`` (length n + 1) holds the offsets of each
customer's rows; every function reduces all customers at once with ``np.add.reduceat``,
cumulative sums or one packed sort, never with a loop over customers.
"""

from __future__ import annotations

import numpy as np


def zero_unless(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``np.where(mask, values, 0)``, branch-free for bool and 8-byte values.

    8-byte values are ANDed with the mask widened to all-ones bits (0 where False,
    +0.0 for floats), the same result bit for bit; ``np.where`` mispredicts branches
    on irregular masks and costs about 5x more.
    """
    values = np.asarray(values)
    if values.dtype == bool:
        return values & mask
    if values.dtype.itemsize != 8 or values.shape != np.shape(mask):
        return np.where(mask, values, 0)
    wide = np.asarray(mask).astype(np.int64)
    np.negative(wide, out=wide)
    np.bitwise_and(wide, values.view(np.int64), out=wide)
    return wide.view(values.dtype)


def first_in_group(new_group: np.ndarray) -> np.ndarray:
    """For each row, the position of the first row of its run (``new_group`` marks starts)."""
    pos = zero_unless(np.arange(len(new_group)), new_group)
    return np.maximum.accumulate(pos) if len(pos) else pos


def seg_sum(values, bounds, mask=None, dtype=np.float64) -> np.ndarray:
    """Sum of ``values`` (where ``mask``) over each segment ``bounds[i]:bounds[i+1]``.

    Rows must be grouped by customer; ``np.add.reduceat`` over the segment starts is a
    sequential pass, cheaper than a weighted ``np.bincount`` or a boolean compress.
    """
    n = len(bounds) - 1
    if mask is not None:
        values = zero_unless(values, mask)
    # reduceat over every start below the end (a view, no boolean compress): a
    # non-empty segment sums exactly its rows; an empty one (start == next start)
    # returns the single value at its start, zeroed below; trailing empty segments
    # (start == len) are left at 0.
    m = int(np.searchsorted(bounds[:-1], len(values), side="left"))
    out = np.zeros(n, dtype)
    if m:
        out[:m] = np.add.reduceat(values, bounds[:m], dtype=dtype)
        empty = bounds[1 : m + 1] == bounds[:m]
        if empty.any():
            out[:m][empty] = 0
    return out


def seg_count(mask, bounds) -> np.ndarray:
    """Number of rows where ``mask`` per segment."""
    return seg_sum(mask, bounds, dtype=np.int64)


def seg_moments(values, bounds, mask=None):
    """Count, mean and population std (ddof=0) of ``values`` (where ``mask``).

    The variance is the mean of squared deviations from the segment mean (two passes),
    which avoids the cancellation of the E[x^2] - E[x]^2 shortcut. Mean and std are NaN
    for segments without rows.
    """
    count = np.diff(bounds) if mask is None else seg_count(mask, bounds)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = seg_sum(values, bounds, mask) / count
        dev = values - np.repeat(mean, np.diff(bounds))
        var = seg_sum(dev * dev, bounds, mask) / count
    return count, mean, np.sqrt(var)


def seg_mean(values, bounds, mask=None) -> np.ndarray:
    """Mean of ``values`` (where ``mask``) per segment; NaN without rows."""
    count = np.diff(bounds) if mask is None else seg_count(mask, bounds)
    with np.errstate(invalid="ignore", divide="ignore"):
        return seg_sum(values, bounds, mask) / count


def seg_slope(x, y, bounds, mask=None) -> np.ndarray:
    """Least-squares slope of y on x per segment (NaN with fewer than 2 distinct x)."""
    _, mx, _ = seg_moments(x, bounds, mask)
    my = seg_mean(y, bounds, mask)
    sizes = np.diff(bounds)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = x - np.repeat(mx, sizes)
        sxx = seg_sum(dx * dx, bounds, mask)
        sxy = seg_sum(dx * (y - np.repeat(my, sizes)), bounds, mask)
        slope = sxy / sxx
    slope[~(sxx > 0)] = np.nan
    return slope


def seg_quantiles(values, bounds, mask, qs) -> list[np.ndarray]:
    """Linear-interpolation quantiles (numpy's default) of integer ``values`` where
    ``mask``, per segment; one array per q in ``qs``.

    Values are sorted within segments by sorting packed (segment, value) int64 keys
    once (adaptive stable sort: segments are already in order); rows outside ``mask``
    get a key above every value so they sit at the end of their segment.
    """
    n = len(bounds) - 1
    count = seg_count(mask, bounds)
    out = [np.full(n, np.nan) for _ in qs]
    if not count.any():
        return out
    v = zero_unless(values, mask).astype(np.int64)
    lo = int(v[mask].min()) if len(v) else 0
    top = int(v[mask].max()) - lo + 1  # the key of rows outside mask
    width = top.bit_length()
    seg = np.repeat(np.arange(n, dtype=np.int64), np.diff(bounds))
    key = zero_unless(v - lo - top, mask) + top
    if n.bit_length() + width > 62:  # pragma: no cover - absurd ranges
        order = np.lexsort((key, seg))
        ordered = key[order]
    else:
        ordered = np.sort((seg << width) | key, kind="stable") & ((1 << width) - 1)
    has = count > 0
    start = bounds[:-1][has]
    c = count[has]
    for q, res in zip(qs, out):
        h = (c - 1) * q
        k = np.floor(h).astype(np.int64)
        frac = h - k
        x_lo = ordered[start + k] + lo
        x_hi = ordered[start + np.minimum(k + 1, c - 1)] + lo
        res[has] = x_lo + frac * (x_hi - x_lo)
    return out


def seg_total(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """int64 sum of ``values`` over the segments ``starts[i]:starts[i + 1]``.

    Differences of one running sum: cheaper than ``reduceat`` for many tiny segments
    (bills matched to one or two payments).
    """
    cum = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=cum[1:])
    return cum[starts[1:]] - cum[starts[:-1]]
