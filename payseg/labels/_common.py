"""Shared helpers of the labellers: input coercion, fitted checks, small maths."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from .._schema import PAYMENT_REQUIRED
from ..exceptions import PaymentDataError


def check_fitted(est, attr: str) -> None:
    """Raise NotFittedError naming the estimator when ``attr`` is not set yet."""
    if not hasattr(est, attr):
        name = type(est).__name__
        raise NotFittedError(
            f"This {name} instance is not fitted yet; call fit(...) before using it."
        )


def as_payments(data, who: str = "payments") -> pd.DataFrame:
    """Canonical payments frame from PaymentData or a canonical payments DataFrame.

    Labellers read canonical tables only: a raw export (Chinese headers, text
    amounts) is read with :func:`payseg.load` first, so its rejected rows are
    counted and shown rather than silently dropped here.
    """
    from ..data import PaymentData

    if isinstance(data, PaymentData):
        return data.payments
    if isinstance(data, pd.DataFrame):
        missing = [c for c in PAYMENT_REQUIRED if c not in data.columns]
        if missing:
            found = list(map(str, data.columns[:8]))
            more = " ..." if len(data.columns) > 8 else ""
            raise PaymentDataError(
                f"{who}: the payments table lacks the canonical columns {missing} "
                f"(found {found}{more}); expected {list(PAYMENT_REQUIRED)}. Read a raw "
                "export with payseg.load(frame) first and pass the PaymentData."
            )
        p = data
        if not pd.api.types.is_datetime64_any_dtype(p["paid_at"]):
            p = p.assign(paid_at=pd.to_datetime(p["paid_at"]))
        if not pd.api.types.is_string_dtype(p["customer_id"]):
            p = p.assign(customer_id=p["customer_id"].astype("str"))
        return p
    raise TypeError(
        f"{who}: expected PaymentData or a canonical payments DataFrame, got "
        f"{type(data).__name__}; read files with payseg.load(path) first"
    )


def check_columns(X: pd.DataFrame, columns, who: str) -> None:
    """Raise when ``X`` has none of ``columns`` (a labeller would label blindly).

    A labeller reads the columns it knows and treats a missing one as "no signal";
    with none of them present every customer would get the same default label.
    """
    if not any(c in X.columns for c in columns):
        found = list(map(str, X.columns[:8]))
        more = " ..." if len(X.columns) > 8 else ""
        raise ValueError(
            f"{who}: X has none of the columns it reads ({', '.join(columns)}); "
            f"found {found}{more}. Pass the feature table of "
            "payseg.build_features(data)."
        )


def as_frame(X, name: str = "X") -> pd.DataFrame:
    """Check that ``X`` is a DataFrame indexed by customer id."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"{name} must be a pandas DataFrame indexed by customer_id (e.g. the "
            f"output of payseg.build_features), got {type(X).__name__}"
        )
    return X


def column(X: pd.DataFrame, name: str, default=np.nan) -> pd.Series:
    """Column ``name`` as float, or a constant ``default`` column when it is absent."""
    if name in X.columns:
        return pd.to_numeric(X[name], errors="coerce").astype("float64")
    return pd.Series(default, index=X.index, dtype="float64", name=name)


def check_number(value, name: str, *, low=None, high=None, allow_none=False):
    """Validate a numeric parameter; message names it and the allowed range."""
    if value is None and allow_none:
        return
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and not np.isnan(value)
    if ok and low is not None:
        ok = value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {value!r}")


def check_numbers(est, names, *, low=None, high=None) -> None:
    """:func:`check_number` on each parameter ``names`` of ``est``, same range."""
    for name in names:
        check_number(getattr(est, name), name, low=low, high=high)


def check_names(names, param: str) -> list:
    """Level names (grades, tiers): at least two, all distinct; returned as a list."""
    out = list(names)
    if len(out) < 2 or len(set(out)) != len(out):
        raise ValueError(f"{param} must be >= 2 distinct names, got {names!r}")
    return out


def check_cuts(cuts, param: str, *, n: int, unit: str, which: str) -> np.ndarray:
    """``n`` strictly decreasing cut points (best level first), as floats.

    ``unit`` and ``which`` complete the message: "cuts must be 3 strictly decreasing
    scores (one per grade but the last), got ...".
    """
    out = np.asarray(cuts, dtype="float64")
    if len(out) != n or not np.all(np.diff(out) < 0):  # NaN cuts fail too
        raise ValueError(
            f"{param} must be {n} strictly decreasing {unit} ({which}), got {cuts!r}"
        )
    return out


def level_counts(labels: pd.Series, levels) -> pd.Series:
    """Customers per level, every level of ``levels`` present (0 when empty)."""
    return labels.value_counts().reindex(list(levels), fill_value=0).rename("customers")


def slope(y: pd.DataFrame) -> pd.Series:
    """Least-squares slope per row of ``y`` against its column positions, NaN-aware.

    Rows with fewer than two non-NaN values get NaN.
    """
    v = y.to_numpy(dtype="float64")
    x = np.broadcast_to(np.arange(v.shape[1], dtype="float64"), v.shape)
    m = ~np.isnan(v)
    n = m.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = np.where(m, x, 0).sum(axis=1) / n
        ym = np.where(m, v, 0).sum(axis=1) / n
        dx = np.where(m, x - xm[:, None], 0)
        dy = np.where(m, v - ym[:, None], 0)
        out = (dx * dy).sum(axis=1) / (dx * dx).sum(axis=1)
    out[n < 2] = np.nan
    return pd.Series(out, index=y.index)


def distinct_count(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Number of distinct integer ``values`` per group code in ``range(n)``.

    One sort of (code, value) pairs instead of a per-group ``nunique``.
    """
    if len(codes) == 0:
        return np.zeros(n, dtype="int64")
    v = values.astype("int64")
    lo = v.min()
    span = int(v.max() - lo) + 1
    # Sort + neighbour compare: np.unique's hash path is far slower on 10^7 ints.
    pairs = np.sort(codes.astype("int64") * span + (v - lo))
    keep = np.r_[True, pairs[1:] != pairs[:-1]]
    return np.bincount(pairs[keep] // span, minlength=n)


def customer_codes(customer_id: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer code per row and the sorted customer ids they index."""
    codes, uniques = pd.factorize(customer_id, sort=True)
    return codes, pd.Index(uniques, name="customer_id")
