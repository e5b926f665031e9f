"""Helpers shared by the generators of :mod:`payseg.synth` (frames, ids, tariff)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["_frame", "_make_ids", "_take_ids", "_tiered"]


def _frame(columns: dict, index=None) -> pd.DataFrame:
    """DataFrame from columns without copying them into 2-D blocks.

    ``pd.DataFrame(dict)`` consolidates same-dtype columns (a copy of every one of
    them); concatenating Series keeps one block per column and shares the memory.
    """
    series = [pd.Series(v, name=k, index=index, copy=False) for k, v in columns.items()]
    return pd.concat(series, axis=1)


def _make_ids(n: int) -> np.ndarray:
    """Account numbers as fixed-width bytes: "00" + an 8-digit (or longer) serial."""
    serial = np.arange(n, dtype=np.int64) + 10_000_001
    width = max(8, len(str(int(serial[-1]))))
    return np.char.add(b"00", np.char.zfill(serial.astype(f"S{width}"), width))


def _take_ids(ids: np.ndarray, rows: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``ids[rows]`` as a pandas "str" array, built straight from Arrow buffers.

    The ids are fixed-width bytes, so the Arrow offsets are a plain arange: this is
    several times faster than creating millions of Python strings.
    """
    import pyarrow as pa

    width = ids.dtype.itemsize
    data = np.ascontiguousarray(ids[rows])
    offsets = np.arange(0, width * (rows.size + 1), width, dtype=np.int64)
    arr = pa.LargeStringArray.from_buffers(
        rows.size, pa.py_buffer(offsets), pa.py_buffer(data)
    )
    return pd.StringDtype("pyarrow", na_value=np.nan).__from_arrow__(arr)


def _tiered(kwh, tier_kwh, tier_price, months_per_bill):
    """Cost of ``kwh`` under a block tariff (tier bounds scale with bill length)."""
    bounds = np.asarray(tier_kwh, dtype=float) * months_per_bill
    prices = np.asarray(tier_price, dtype=float)
    cost = np.zeros_like(kwh)
    lower = 0.0
    for upper, price in zip(list(bounds) + [np.inf], prices):
        cost += np.clip(kwh - lower, 0, upper - lower) * price
        lower = upper
    return cost
