"""What makes per-bucket features equal to the features of all the data at once.

:func:`payseg.build_features` is per customer except for two data-wide facts:

- ``as_of``: by default the latest payment or bill-issue date of the whole data;
- the channels used (one ``channel_share__<code>`` column each).

The out-of-core and Dask back-ends compute these once over all buckets, pass
``as_of`` explicitly and bring each bucket's table to the global columns here.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from .._schema import CHANNEL_SHARE_PREFIX as SHARE_PREFIX
from ..channels import codes as channel_codes
from ..features import (
    FAMILIES,
    check_families,
    default_as_of,
    feature_names,
    fill_missing,
)

#: Nanoseconds in a day (``as_of`` is a whole day; a unit, not a feature setting).
NS_PER_DAY = pd.Timedelta(days=1).value


def default_as_of_ns(payments: pd.DataFrame, bills: pd.DataFrame) -> int | None:
    """:func:`payseg.features.default_as_of` of one bucket, as ns (None when the
    bucket has no dated payment or usable bill); the maximum over buckets is the
    ``as_of`` of the whole data."""
    day = default_as_of(SimpleNamespace(payments=payments, bills=bills))
    return None if pd.isna(day) else int(day.value)


def cutoff_ns(as_of) -> int:
    """First ns after the ``as_of`` day: payments from then on are ignored."""
    day = pd.Timestamp(as_of).value // NS_PER_DAY
    return int((day + 1) * NS_PER_DAY)


def channel_first_ns(payments: pd.DataFrame) -> dict[str, int]:
    """Earliest payment time per channel code (payments with a known channel)."""
    if not len(payments) or "channel" not in payments:
        return {}
    p = payments[payments["channel"].notna() & payments["amount"].notna()]
    if not len(p):
        return {}
    channel = p["channel"]
    if not isinstance(channel.dtype, pd.CategoricalDtype):
        channel = channel.astype("category")
    first = p["paid_at"].groupby(channel, observed=True, sort=True).min()
    return {str(k): int(v.value) for k, v in first.items() if pd.notna(v)}


def merge_first(parts) -> dict[str, int]:
    """Combine per-bucket ``channel_first_ns`` results (earliest wins)."""
    out: dict[str, int] = {}
    for part in parts:
        for code, ns in part.items():
            out[code] = min(ns, out.get(code, ns))
    return out


def used_channels(first_ns: dict[str, int], cutoff: int) -> list[str]:
    """Channels with a payment before ``cutoff``, in ``build_features`` column order."""
    order = {c: i for i, c in enumerate(channel_codes())}
    used = [c for c, ns in first_ns.items() if ns < cutoff]
    return sorted(used, key=lambda c: (order.get(c, len(order)), c))


def columns_for(families, channels: list[str]) -> list[str]:
    """Column order of ``build_features`` for these families and channels."""
    out = []
    for fam in check_families(families):
        out += feature_names([fam])
        if fam == "channel" and channels:
            out += [SHARE_PREFIX + c for c in channels]
    return out


def conform(X: pd.DataFrame, *, families, channels: list[str]) -> pd.DataFrame:
    """Bring one bucket's feature table to the columns of the whole data.

    A channel unused in the bucket gets share 0 for customers with a known channel
    (NaN for the others, as ``build_features`` does).
    """
    names = columns_for(families, channels)
    extra = [c for c in X.columns if c not in names]
    if extra:  # pragma: no cover - only when global channels were computed wrongly
        raise AssertionError(f"bucket has columns the whole data lacks: {extra}")
    out = {}
    has_channel = (
        X["n_channels"].notna().to_numpy()
        if "n_channels" in X
        else np.zeros(len(X), dtype=bool)
    )
    for name in names:
        if name in X:
            out[name] = X[name].to_numpy(dtype=np.float64)
        elif name.startswith(SHARE_PREFIX):
            out[name] = np.where(has_channel, 0.0, np.nan)
        else:  # pragma: no cover - build_features always returns its fixed columns
            raise AssertionError(f"bucket lacks column {name}")
    return pd.DataFrame(out, index=X.index)


def fill_values(X: pd.DataFrame, fill) -> pd.DataFrame:
    """``build_features``' ``fill`` for the values that need no global statistic."""
    if fill is None:
        return X
    if isinstance(fill, str):
        raise ValueError(
            f"fill={fill!r} needs a statistic over all customers; out of core, fill "
            "after reading the features (e.g. X.fillna(X.median())) or pass a number "
            "or a dict"
        )
    return fill_missing(X, fill)


__all__ = ["FAMILIES"]
