"""A billing cycle given by the user: ``customers.cycle_months`` or the
``cycle_months=`` argument of :func:`~payseg.features.build_features`.

The given cycle replaces the inferred ``cycle_months`` column; a customer whose
bill periods contradict it is named in a warning (the given value is still used).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd

from .._sklearn_compat import InvalidParameterError

__all__ = ["given_cycle", "apply_given_cycle", "cycle_clash_note"]

#: Shortest and longest billing cycle accepted, in months.
CYCLE_RANGE = (1, 12)


def _check_values(values: np.ndarray, what: str) -> None:
    lo, hi = CYCLE_RANGE
    known = values[~np.isnan(values)]
    bad = known[(known < lo) | (known > hi) | (known != np.round(known))]
    if len(bad):
        raise InvalidParameterError(
            f"{what} must hold whole numbers of months between {lo} and {hi} (1 "
            f"monthly, 2 bimonthly) or NaN for unknown; found {bad[0]!r}"
            f"{' and others' if len(bad) > 1 else ''}."
        )


def given_cycle(
    data, index: pd.Index, cycle_months, note, *, whole: bool = True
) -> np.ndarray:
    """Given cycle per customer of ``index`` (float, NaN where none is given).

    The ``cycle_months`` argument (an int for every customer, or a Series indexed by
    customer id) wins over the ``cycle_months`` column of ``data.customers``; a
    customer missing from or NaN in the Series falls back to the column. ``note``
    receives the warning text for ids of the Series that are not in the data, and for
    column values that are not numbers of months; with ``whole=False`` (one part
    of the data, out of core) ids of other parts are no cause for a warning.
    """
    out = np.full(len(index), np.nan)
    customers = data.customers
    if "cycle_months" in customers and len(customers):
        col = customers["cycle_months"]
        if not col.index.is_unique:
            col = col[~col.index.duplicated()]
        values = pd.to_numeric(col, errors="coerce").astype("float64")
        lo, hi = CYCLE_RANGE
        bad = (col.notna() & values.isna()) | ~(values.isna() | values.between(lo, hi))
        bad |= values.notna() & (values != values.round())
        if bad.any():
            shown = ", ".join(f"{i}: {v!r}" for i, v in col[bad].head(5).items())
            note(
                f"customers.cycle_months holds {int(bad.sum()):,} value(s) that are "
                f"not whole months between {lo} and {hi} ({shown}); those "
                "customers' cycle is inferred from their bill periods. Load the "
                "table with payseg.load, which reads 月 / 双月 / monthly ..., or "
                "fix the values."
            )
            values = values.where(~bad)
        out = values.reindex(index).to_numpy(dtype="float64", na_value=np.nan)
    if cycle_months is None:
        return out
    if isinstance(cycle_months, Integral) and not isinstance(cycle_months, bool):
        arg = np.full(len(index), float(cycle_months))
        _check_values(arg[:1], "The 'cycle_months' parameter of build_features")
        return arg
    series = cycle_months
    try:
        values = pd.to_numeric(series, errors="raise").astype("float64")
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            "The 'cycle_months' parameter of build_features must be an int or a "
            "Series of months indexed by customer id; its values are not numbers "
            f"({exc}). Read text such as 双月 with payseg.load (a 抄表周期 column "
            "of the customers table)."
        ) from exc
    _check_values(values.to_numpy(), "The 'cycle_months' Series of build_features")
    if not values.index.is_unique:
        raise InvalidParameterError(
            "The 'cycle_months' Series of build_features has repeated customer ids "
            f"(e.g. {values.index[values.index.duplicated()][0]!r}); give one cycle "
            "per customer."
        )
    ids = values.index.astype("str")
    values.index = ids
    unknown = ~ids.isin(index)
    if whole and unknown.any():
        shown = ", ".join(map(str, ids[unknown][:5]))
        note(
            f"cycle_months names {int(unknown.sum()):,} customer id(s) that are not "
            f"in the data ({shown}{', ...' if unknown.sum() > 5 else ''}); they are "
            "ignored. Check that the Series is indexed by customer_id as text."
        )
    arg = values.reindex(index).to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isnan(arg), out, arg)


def apply_given_cycle(X: pd.DataFrame, given: np.ndarray, real_bills, note) -> None:
    """Put the given cycle into ``X["cycle_months"]`` where known (in place) and warn
    through ``note`` about customers whose bill periods contradict it.

    A contradiction: the median gap between the customer's bill periods (the
    inferred cycle) is shorter than the given cycle (bills come more often than it
    says), or, for customers with bills of the bills table (``real_bills``, bool per
    row of ``X``), differs from it at all. With bills inferred from the periods of
    payments only, a longer gap can come from periods never paid, so it is no
    contradiction.
    """
    if "cycle_months" not in X or not len(X):
        return
    inferred = X["cycle_months"].to_numpy(dtype="float64", na_value=np.nan)
    has = ~np.isnan(given)
    if not has.any():
        return
    with np.errstate(invalid="ignore"):
        differs = has & ~np.isnan(inferred) & (inferred != given)
        clash = differs & ((inferred < given) | np.asarray(real_bills, dtype=bool))
    if clash.any():
        examples = [
            f"{X.index[i]} given {given[i]:g} month(s), bill periods "
            f"{inferred[i]:g} month(s) apart"
            for i in np.flatnonzero(clash)[:3]
        ]
        n = int(clash.sum())
        text = cycle_clash_note(n, examples)
        note(text)
        # For the out-of-core path, which warns once with the sum over its parts.
        X.attrs["cycle_clash"] = {"n": n, "examples": examples, "note": text}
    X["cycle_months"] = np.where(has, given, inferred)


def cycle_clash_note(n: int, examples: list[str]) -> str:
    """The warning text for ``n`` customers whose bill periods contradict the given
    cycle, ``examples`` naming up to three of them."""
    shown = "; ".join(examples[:3])
    return (
        f"the given billing cycle contradicts the bill periods of {n:,} "
        f"customer(s) (e.g. {shown}{'; ...' if n > 3 else ''}); the given cycle "
        "is used for cycle_months. Check the 抄表周期 / cycle_months values (单月 "
        "can mean 'read in odd months', a bimonthly cycle) or the bills."
    )
