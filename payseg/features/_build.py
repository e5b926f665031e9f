"""build_features: the feature families run block by block, and the dominant channel.

:func:`build_features` validates its parameters (scikit-learn's ``validate_params``),
makes one :class:`~payseg.features._block.Context` pass and runs the families over
blocks of consecutive customers (:func:`build_blocks`), in threads with ``n_jobs``.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import time
from collections.abc import Mapping, Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd
from pandas.api.types import is_string_dtype

from .._memory import reuses_freed_memory
from .._schema import IMPLAUSIBLE_AMOUNT
from .._sklearn_compat import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_params,
)
from ..calendar import BillingCalendar
from ..data import PaymentData
from ..exceptions import PaymentDataError
from . import arrears, channel, trend
from ._arrays import PERIOD_NAT, period_ordinals
from ._block import Block, Context
from ._families import FAMILIES, MODULES, check_families
from ._given_cycle import apply_given_cycle, given_cycle
from ._grouping import customer_index
from ._infer import BREAK_MONTHS, describe, inferred_bills

_AS_OF = [None, str, datetime.date, np.datetime64]


def check_data(data, caller: str) -> None:
    """Raise ``InvalidParameterError`` (a ``TypeError``) unless ``data`` is a
    :class:`~payseg.PaymentData`, saying what was passed and how to make one."""
    if isinstance(data, PaymentData):
        return
    if isinstance(data, pd.DataFrame):
        cols = [str(c) for c in data.columns[:6]]
        more = ", ..." if len(data.columns) > 6 else ""
        found = f"a pandas DataFrame with columns [{', '.join(cols)}{more}]"
        fix = (
            "Call payseg.load(df) first: it maps the columns (Chinese headers "
            "too), checks every row and returns a PaymentData"
        )
    else:
        found = f"an object of type {type(data).__name__}"
        fix = (
            "Build one with payseg.load(payments, bills=..., customers=...) or "
            "payseg.synth.generate(n_customers, seed)"
        )
    raise InvalidParameterError(
        f"The 'data' parameter of {caller} must be a payseg.PaymentData; got {found}."
        f" {fix}."
    )


def _check_as_of(as_of, caller: str):
    """``as_of`` as a Timestamp (None stays None)."""
    if as_of is None:
        return None
    try:
        day = pd.Timestamp(as_of)
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(
            f"The 'as_of' parameter of {caller} must be a date such as '2024-06-30' "
            f"or a Timestamp; got {as_of!r}, which pandas cannot read ({exc})."
        ) from exc
    if pd.isna(day):
        raise InvalidParameterError(
            f"The 'as_of' parameter of {caller} is NaT; pass None to use "
            "payseg.features.default_as_of(data), the latest date in the data."
        )
    return day


def fill_missing(frame: pd.DataFrame, fill) -> pd.DataFrame:
    """``frame`` with NaN replaced as ``build_features(fill=...)`` does.

    The out-of-core path fills its feature table with this same rule.

    Parameters
    ----------
    frame : DataFrame
        A feature table.
    fill : None, float, "median" or dict
        None keeps NaN; a number fills every column with it; ``"median"`` fills
        each column with its median (0 where the whole column is NaN); a dict maps
        column names to their fill value.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"late_share": [0.5, np.nan, 1.0]})
    >>> fill_missing(X, "median")["late_share"].tolist()
    [0.5, 0.75, 1.0]
    >>> fill_missing(X, {"late_share": 0.0})["late_share"].tolist()
    [0.5, 0.0, 1.0]
    """
    if fill is None:
        return frame
    if isinstance(fill, str):
        if fill != "median":
            raise ValueError(
                f"fill must be None, a number, 'median' or a dict; got {fill!r}"
            )
        return frame.fillna(frame.median().fillna(0.0))
    if isinstance(fill, Mapping):
        unknown = [c for c in fill if c not in frame.columns]
        if unknown:
            raise InvalidParameterError(
                f"fill names unknown column {unknown[0]!r}; the columns are those "
                "of build_features (see payseg.features.feature_names())"
            )
        return frame.fillna(dict(fill))
    return frame.fillna(float(fill))


@validate_params(
    {
        # checked in the body, with a message that says how to build a PaymentData
        "data": "no_validation",
        "families": [None, StrOptions(set(FAMILIES)), "array-like"],
        "as_of": _AS_OF,
        "fill": [None, Real, StrOptions({"median"}), Mapping],
        "late_fee_rate": [Interval(Real, 0, None, closed="left")],
        "late_fee_min": [Interval(Real, 0, None, closed="left")],
        "nonresidential_late_fee_rate": [Interval(Real, 0, None, closed="left")],
        "carried_late_fee_rate": [Interval(Real, 0, None, closed="left")],
        "trend_periods": [Interval(Integral, 1, None, closed="left")],
        "recent_periods": [Interval(Integral, 1, None, closed="left")],
        "return_dominant": ["boolean"],
        "n_jobs": [Integral, None],
        "calendar": [None, BillingCalendar, bool],
        "cycle_months": [None, Interval(Integral, 1, 12, closed="both"), pd.Series],
        "_check_coverage": ["boolean"],
        "_return_has_data": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
@reuses_freed_memory
def build_features(
    data,
    families: Sequence[str] | None = None,
    as_of=None,
    fill=None,
    *,
    late_fee_rate: float = arrears.LATE_FEE_RATE,
    late_fee_min: float = arrears.LATE_FEE_MIN,
    nonresidential_late_fee_rate: float = arrears.NONRESIDENTIAL_RATE,
    carried_late_fee_rate: float = arrears.CARRIED_RATE,
    trend_periods: int = trend.TREND_PERIODS,
    recent_periods: int = trend.RECENT_PERIODS,
    return_dominant: bool = False,
    n_jobs: int | None = -1,
    calendar: BillingCalendar | bool | None = None,
    cycle_months: int | pd.Series | None = None,
    _check_coverage: bool = True,
    _return_has_data: bool = False,
):
    """One row of payment-behaviour features per customer.

    Parameters
    ----------
    data : PaymentData
        Payments (and optionally bills and customers) in canonical form, from
        :func:`payseg.load` or :func:`payseg.synth.generate`.
    families : str or sequence of str, optional
        Subset of :data:`FAMILIES`; default all, in that order.
    as_of : date-like, optional
        Reference day for arrears, recency and "still unpaid". Default:
        :func:`default_as_of`, the latest payment or bill-issue date in the data.
        Payments after that day and bills issued after it are ignored.
    fill : None, float, "median" or dict, default None
        How to replace NaN (an undefined feature, see docs/features.md): None keeps
        NaN, a number fills every column, "median" fills each column with its median
        (0 when the whole column is NaN), a dict fills per column.
    late_fee_rate : float >= 0, default 0.001
        Late fee per day of arrears of residential customers (0.1%/day), and of
        every customer when ``data.customers`` has no ``customer_type``.
    late_fee_min : float >= 0, default 1.0
        Minimum late fee per overdue bill, in yuan.
    nonresidential_late_fee_rate : float >= 0, default 0.002
        Late fee per day for customers whose ``customer_type`` is non-residential
        (非居民), on arrears of the due date's year.
    carried_late_fee_rate : float >= 0, default 0.003
        Late fee per day for non-residential customers on arrears carried across a
        year end (from 1 January after the due date on).
    trend_periods : int >= 1, default 12
        Settled bills used by ``delay_trend`` and months used by ``amount_trend``.
    recent_periods : int >= 1, default 3
        Due bills used by ``recent_late_share``.
    return_dominant : bool, default False
        Also return the dominant channel code per customer (a str Series, NaN for
        customers without a known channel), which stays out of the numeric matrix.
    n_jobs : int or None, default -1
        Threads building blocks of customers at once (large data only; a block is
        about a million rows): -1 (the default) every core, -2 all but one, None or 1
        one thread. The families run in numpy kernels that release the GIL, so the
        threads share the work; results do not depend on it (bit for bit).
    calendar : BillingCalendar, None or False, default None
        For payments-only data (no bills table, payments carrying ``period``): the
        billing calendar whose issue and due dates are inferred for each customer
        and period paid (None: :class:`payseg.calendar.BillingCalendar`, monthly,
        due at the end of the settlement month); ``X.attrs["calendar_inferred"]``
        says so. False turns inference off (then no bill-based timing columns).
    cycle_months : int or Series, optional
        The billing cycle in months (1 monthly, 2 bimonthly, up to 12) given by the
        user: one int for every customer, or a Series indexed by customer id (NaN or
        absent: not given). It wins over a ``cycle_months`` column of
        ``data.customers`` (抄表周期 / 计费周期 / billing cycle, read by
        :func:`payseg.load`), which wins over the cycle inferred from the bill
        periods. The ``cycle_months`` feature column holds the given cycle where
        there is one; customers whose bill periods contradict it are named in a
        warning (docs/features.md, cycle).

    Returns
    -------
    X : DataFrame of shape (n_customers, n_features)
        float64 columns, indexed by ``customer_id`` (every customer in payments,
        bills or customers, sorted).
    dominant : Series
        Only with ``return_dominant=True``.

    Raises
    ------
    InvalidParameterError
        scikit-learn's error (a ``ValueError`` and a ``TypeError``) naming the
        parameter: ``data`` not a PaymentData, an unknown family, a negative
        ``trend_periods``, ...

    Examples
    --------
    >>> import pandas as pd, payseg
    >>> pay = pd.DataFrame({
    ...     "customer_id": pd.Series(["a", "a", "b"], dtype="str"),
    ...     "paid_at": pd.to_datetime(["2024-01-05", "2024-02-20", "2024-01-31"]),
    ...     "channel": pd.Categorical(["alipay", "counter", "alipay"]),
    ...     "amount": [100.0, 120.0, 80.0]})
    >>> X = payseg.build_features(payseg.PaymentData(payments=pay),
    ...                           families=["value", "channel"])
    >>> cols = ["amount_total", "online_share", "n_channels"]
    >>> X[cols]  # doctest: +NORMALIZE_WHITESPACE
                 amount_total  online_share  n_channels
    customer_id
    a                   220.0           0.5         2.0
    b                    80.0           1.0         1.0
    >>> X, dominant = payseg.build_features(payseg.PaymentData(payments=pay),
    ...                                     families=["channel"], return_dominant=True)
    >>> dominant.tolist()  # a tie goes to the first channel in registry order
    ['counter', 'alipay']
    """
    check_data(data, "build_features")
    as_of = _check_as_of(as_of, "build_features")
    fams = check_families(families)
    params = {
        "late_fee_rate": late_fee_rate,
        "late_fee_min": late_fee_min,
        "nonresidential_rate": nonresidential_late_fee_rate,
        "carried_rate": carried_late_fee_rate,
        "trend_periods": trend_periods,
        "recent_periods": recent_periods,
    }
    n_threads(n_jobs, 1)  # refuse n_jobs=0 before the global pass
    check_finite_amounts(data)
    bills, n_real = None, len(data.bills)
    grouped = None  # customer_index(data), reused by the Context when bills stay
    info = None
    if calendar is not False:
        cal_arg = None if calendar is True else calendar

        def infer(payments):
            return inferred_bills(
                payments,
                cal_arg,
                skipped=True,
                cycle_months=_given_per_customer(data, payments, cycle_months),
                regions=data.customers["region"]
                if "region" in data.customers
                else None,
            )

        if not n_real:
            bills = infer(data.payments)
            info = None if bills is None else bills.attrs.get("inference")
        else:
            # A payments-only source beside billed ones (one district exports no
            # bills table): customers with periods on their payments but no bill at
            # all get bills inferred too, else every timing feature is NaN for them.
            grouped = customer_index(data)
            unbilled = unbilled_payments(grouped)
            extra = (
                infer(data.payments[unbilled])
                if _any_period(data.payments, unbilled)
                else None
            )
            if extra is not None:  # None: those payments carry no period
                info = extra.attrs.get("inference")
                bills = pd.concat([data.bills, extra], ignore_index=True)
                grouped = None  # the bills changed: the Context groups them again
    if bills is None:
        ctx = Context(data, as_of=as_of, grouped=grouped)
    else:
        # as_of from the data: inferred issue dates are not data.
        real = np.arange(len(bills)) < n_real
        ctx = Context(
            dataclasses.replace(data, bills=bills), as_of=as_of, as_of_bills=real
        )
        ctx.calendar_inferred = True
        cal = BillingCalendar() if calendar in (None, True) else calendar
        n_inf = len(bills) - n_real
        whose = bills["customer_id"].iloc[n_real:].nunique()
        ctx.note(
            (
                "no bills table: "
                if not n_real
                else f"{whose:,} customers have payments with periods but no bill: "
            )
            + f"{n_inf:,} bills of {whose:,} customers inferred from the "
            f"payments' periods with the standard calendar ({describe(cal)})"
            + skipped_note(info)
            + "; pass calendar= to change it, calendar=False to turn this off"
        )
    if as_of is not None and _check_coverage:
        check_as_of_coverage(ctx, "build_features")
    X, dominant = build_blocks(
        ctx, fams, params, return_dominant=return_dominant, n_jobs=n_jobs
    )
    check_finite(X, "build_features")
    if "cycle" in fams:
        # One part of the data (out of core): ids of the other parts are no error.
        given = given_cycle(
            data, X.index, cycle_months, ctx.note, whole=_check_coverage
        )
        if (~np.isnan(given)).any():
            real = (
                _isin(X.index.to_series(), data.bills["customer_id"])
                if n_real
                else np.zeros(len(X), dtype=bool)
            )
            apply_given_cycle(X, given, real, ctx.note)
        X.attrs["notes"] = list(ctx.notes)
    X = fill_missing(X, fill)
    if not _check_coverage:
        # One part of the data (an out-of-core bucket): the caller checks the
        # given as_of once against the whole data (as_of_coverage_note).
        X.attrs["as_of_coverage"] = coverage_counts(ctx)
    out = (X, dominant) if return_dominant else (X,)
    if _return_has_data:
        # For payseg.segment: has_data(data, as_of=X.attrs["as_of"]) without a
        # second pass over the data. The build's Context is the one has_data would
        # make unless bills were inferred (then it holds them): ask has_data then.
        if bills is None:
            _, used = ctx.coverage()
            out += (pd.Series(used, index=ctx.index, name="has_data"),)
        else:
            out += (has_data(data, as_of=X.attrs["as_of"]),)
    return out if len(out) > 1 else X


def _given_per_customer(data, payments: pd.DataFrame, cycle_months) -> pd.Series | None:
    """Given billing cycle (``cycle_months=`` or ``customers.cycle_months``) per
    customer id of ``payments``, NaN where none is given; None when none is given
    at all (the ids' unique pass took 0.4 s for 5M payments). The notes about the
    given values come later, from the cycle family."""
    if cycle_months is None and "cycle_months" not in data.customers:
        return None
    ids = pd.Index(pd.unique(payments["customer_id"].to_numpy()))
    return pd.Series(given_cycle(data, ids, cycle_months, lambda _text: None), ids)


def skipped_note(info: dict | None) -> str:
    """The part of the inference note on skipped periods and the cycle per region
    (empty without ``info``)."""
    if not info:
        return ""
    parts = []
    for region, (months, how) in info["cycles"].items():
        size = "mixed" if months is None else f"{months} month(s)"
        parts.append(f"{region} {size} ({how})")
    breaks = info["breaks"]
    return (
        f"; {info['skipped']:,} of them for periods skipped between two paid ones "
        "(arrears: each the even share of the lump paid for the period after the "
        "gap, which pays only that period's bill, so they stay open; "
        f"{breaks:,} gap(s) over {BREAK_MONTHS} months are breaks, without bills; "
        f"{info.get('paid_gaps', 0):,} gap(s) with a payment without period in "
        "them count as paid); "
        f"export cycle per region: {', '.join(parts)}"
    )


#: A given ``as_of`` that leaves more than this share of the customers with
#: payments or bills without any row up to that day draws a warning.
AS_OF_EMPTY_SHARE = 0.5


def coverage_counts(ctx: Context) -> dict:
    """Customers with any payment or bill row (``rows``), with one up to ``as_of``
    that the features use (``used``), and the first and last dated day in ns
    (``first_ns``, ``last_ns``; None without any): summed over the parts of the
    data, the input of :func:`as_of_coverage_note`."""
    rows, used = ctx.coverage()
    span = ctx.date_range()
    return {
        "rows": int(rows.sum()),
        "used": int(used.sum()),
        "first_ns": None if span is None else int(span[0].value),
        "last_ns": None if span is None else int(span[1].value),
    }


def as_of_coverage_note(counts: dict, as_of, caller: str) -> str | None:
    """Raise when the given ``as_of`` is before every dated row; the warning text
    when it leaves most customers with data without any payment or bill up to that
    day (None otherwise). ``counts`` as from :func:`coverage_counts`, possibly
    summed over the parts of the data (first and last taken as min and max)."""
    n_rows, n_used = counts["rows"], counts["used"]
    if not n_rows or counts["first_ns"] is None:
        return None
    first, last = pd.Timestamp(counts["first_ns"]), pd.Timestamp(counts["last_ns"])
    day = pd.Timestamp(as_of)
    if day < first:
        raise InvalidParameterError(
            f"The 'as_of' parameter of {caller} is {day:%Y-%m-%d}, before every "
            f"payment and bill in the data ({first:%Y-%m-%d} to {last:%Y-%m-%d}): "
            f"all {n_rows:,} customers with data would have no payment or bill up "
            "to that day and all-NaN features. Pass an as_of within that range, or "
            "None for the latest date in the data."
        )
    if n_rows - n_used > AS_OF_EMPTY_SHARE * n_rows:
        return (
            f"as_of={day:%Y-%m-%d} leaves {n_rows - n_used:,} of the {n_rows:,} "
            f"customers with payments or bills ({(n_rows - n_used) / n_rows:.0%}) "
            "without any payment or bill up to that day, so their features are "
            f"NaN; the data runs from {first:%Y-%m-%d} to {last:%Y-%m-%d}. Pass a "
            "later as_of, or None for the latest date in the data."
        )
    return None


def check_as_of_coverage(ctx: Context, caller: str) -> None:
    """Refuse an ``as_of`` before every dated row; warn when it leaves most
    customers with data without any payment or bill up to that day."""
    note = as_of_coverage_note(coverage_counts(ctx), ctx.as_of, caller)
    if note is not None:
        ctx.note(note)


def _isin(values: pd.Series, among: pd.Series) -> np.ndarray:
    """``values.isin(among)`` as a bool array; one Arrow kernel for text ids.

    pandas' ``isin`` of an Arrow-backed string column iterates over the values in
    Python: 15.7 s for the 1.25M payments of one out-of-core bucket, against 0.04 s
    for ``pyarrow.compute.is_in``.
    """
    if not (is_string_dtype(values.dtype) and is_string_dtype(among.dtype)):
        return values.isin(among).to_numpy(dtype=bool)
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        found = pc.is_in(
            pa.array(values, from_pandas=True).cast(pa.large_string()),
            value_set=pa.array(among.unique(), from_pandas=True).cast(
                pa.large_string()
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # mixed object ids
        return values.isin(among).to_numpy(dtype=bool)
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _any_period(payments: pd.DataFrame, rows: np.ndarray) -> bool:
    """Whether any of ``rows`` has a period: without one, no bill can be inferred,
    and the subset of the payments is not made (0.2 s for 5M prepaid rows)."""
    if not rows.any() or "period" not in payments:
        return False
    if not isinstance(payments["period"].dtype, pd.PeriodDtype):
        return True  # inferred_bills reads the column and decides
    return bool((period_ordinals(payments["period"])[rows] != PERIOD_NAT).any())


def unbilled_payments(grouped) -> np.ndarray:
    """bool per payment row: its customer has no bill row at all.

    ``grouped`` is :func:`~payseg.features._grouping.customer_index` of the data: the
    customers without bill rows are read off the bill offsets, and mapped to the
    payment rows through their codes (or offsets, for rows already grouped), with no
    second pass over the id strings (``pyarrow.compute.is_in`` of 25M ids took about
    1 CPU s at 1M customers).
    """
    _, (pay_codes, pay_bounds), (_, bill_bounds) = grouped
    none = np.diff(bill_bounds) == 0
    if pay_codes is None:
        return np.repeat(none, np.diff(pay_bounds))
    return none[pay_codes]


def _example_ids(ids, mask, n: int = 5) -> str:
    shown = ", ".join(str(i) for i in pd.unique(np.asarray(ids)[mask])[:n])
    return shown + (", ..." if int(mask.sum()) > n else "")


def check_finite_amounts(data) -> None:
    """Raise ``PaymentDataError`` for inf or -inf in ``payments.amount`` or
    ``bills.amount_due`` (:func:`payseg.load` rejects such rows; a hand-made
    PaymentData may hold them), naming the rows' customers."""
    for kind, col in (("payments", "amount"), ("bills", "amount_due")):
        table = getattr(data, kind)
        if col not in table or not len(table):
            continue
        values = table[col].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(values)
        if bad.any():
            raise PaymentDataError(
                f"{kind}.{col} holds {int(bad.sum()):,} infinite value(s) (customers "
                f"{_example_ids(table['customer_id'], bad)}); amounts must be finite."
                f" Load the tables with payseg.load, which rejects such rows "
                f"(reason {IMPLAUSIBLE_AMOUNT!r}), or drop them."
            )


def check_finite(X: pd.DataFrame, caller: str) -> None:
    """Raise ``ValueError`` naming the columns of the feature table ``X`` that hold
    inf or -inf, with the number of rows and a few customer ids."""
    values = X.to_numpy(dtype=np.float64, na_value=np.nan)
    # Column by column (contiguous in the Fortran-ordered table): a small bool
    # temporary per column instead of one of the whole table, in the common case.
    if not any(np.isinf(values[:, j]).any() for j in range(values.shape[1])):
        return
    bad = np.isinf(values)
    cols = np.flatnonzero(bad.any(axis=0))
    rows = bad.any(axis=1)
    named = ", ".join(
        f"{X.columns[j]!s} ({int(bad[:, j].sum()):,} row(s))" for j in cols[:10]
    )
    raise ValueError(
        f"{caller} computed infinite values in {len(cols)} column(s): {named}; "
        f"{int(rows.sum()):,} customers ({_example_ids(X.index, rows)}). This is a "
        "payseg bug: please report it with these customers' payments and bills."
    )


def build_blocks(
    ctx: Context, fams, params, *, return_dominant=False, n_jobs=None, timer=None
):
    """Run the families block by block; ``timer(step, seconds)`` sees each step.

    Returns the feature DataFrame and the dominant channel Series (None unless
    ``return_dominant``).
    """
    clock = time.perf_counter

    def run(edge):
        t = clock()
        block = Block(ctx, *edge)
        if timer:
            timer("blocks: slice and sort", clock() - t)
            t = clock()
            _ = block.match
            timer("blocks: match to bills", clock() - t)
        columns = {}
        for fam in fams:
            t = clock()
            columns.update(compute_family(block, fam, **params))
            if timer:
                timer(f"family {fam}", clock() - t)
        found = channel.dominant_codes(block) if return_dominant else None
        several = None if ctx.pay_bill_ids else block.multi_bill_periods()
        return edge, columns, found, several

    edges = ctx.block_edges()
    # (customer ids, periods) with several bills in one period, in block order
    # (whichever thread finishes first), so the note never depends on n_jobs.
    multi = []
    workers = n_threads(n_jobs, len(edges))
    values, names, dominant = None, [], []
    # Blocks of consecutive customers keep temporaries small (no loop per customer);
    # numpy releases the GIL in its kernels, so threads can overlap blocks.
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=workers)
        results = pool.map(run, edges)
    else:
        pool, results = None, map(run, edges)
    try:
        for (c0, c1), columns, found, several in results:
            t = clock()
            if several is not None and len(several[0]):
                multi.append(several)
            if values is None:
                # Fortran order: each column contiguous, pandas' own block layout.
                names = list(columns)
                values = np.empty((ctx.n, len(names)), dtype=np.float64, order="F")
            for j, name in enumerate(names):
                values[c0:c1, j] = columns[name]
            dominant.append(found)
            if timer:
                timer("assemble DataFrame", clock() - t)
    finally:
        if pool is not None:
            pool.shutdown()
    X = pd.DataFrame(values, index=ctx.index, columns=names, copy=False)
    if multi:
        ctx.note(_multi_bill_note(multi))
    X.attrs.update(ctx.attrs())
    if not return_dominant:
        return X, None
    return X, (pd.concat(dominant) if len(dominant) > 1 else dominant[0])


def _multi_bill_note(multi) -> str:
    """The warning for customers with several bills in one period and no bill ids."""
    ids = np.concatenate([np.asarray(i, dtype=object) for i, _ in multi])
    periods = np.concatenate([p for _, p in multi])
    n_cust = len(pd.unique(ids))
    shown = ", ".join(
        f"{c} {pd.Period(ordinal=int(p), freq='M')}"
        for c, p in zip(ids[:5], periods[:5])
    )
    more = ", ..." if len(ids) > 5 else ""
    return (
        f"{n_cust:,} customer(s) have several bills in one period ({len(ids):,} "
        f"customer-periods, e.g. {shown}{more}) and the payments carry no bill_id: "
        "each period's payments settle its bills oldest first (docs/features.md, "
        "allocation). Map the invoice or bill number to bill_id on both tables "
        "to match payments to bills exactly."
    )


def n_threads(n_jobs, n_blocks: int) -> int:
    """Threads for ``n_jobs`` (None: 1, -1: every core), at most one per block."""
    if n_jobs is None:
        return 1
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise InvalidParameterError(
            "The 'n_jobs' parameter of build_features must be None, a positive int or "
            "a negative int (-1 for every core); got 0."
        )
    # The cores this process may run on (a container or taskset can allow fewer
    # than the machine has).
    cores = (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else (os.cpu_count() or 1)
    )
    wanted = n_jobs if n_jobs > 0 else max(cores + 1 + n_jobs, 1)
    return max(1, min(wanted, n_blocks))


def compute_family(block: Block, family: str, **params) -> dict[str, np.ndarray]:
    """Columns of one family for one :class:`Block` of customers."""
    if family == "arrears":
        keys = ("late_fee_rate", "late_fee_min", "nonresidential_rate", "carried_rate")
        return arrears.compute(block, **{k: params[k] for k in keys if k in params})
    if family == "trend":
        return trend.compute(
            block,
            trend_periods=params.get("trend_periods", trend.TREND_PERIODS),
            recent_periods=params.get("recent_periods", trend.RECENT_PERIODS),
        )
    return MODULES[family].compute(block)


@validate_params(
    {"data": "no_validation", "as_of": _AS_OF},
    prefer_skip_nested_validation=True,
)
def dominant_channel(data, as_of=None) -> pd.Series:
    """The most used channel code per customer (ties: registry order).

    The same Series as ``build_features(data, return_dominant=True)[1]``; the rule
    is :func:`payseg.features.channel.top_channel`.

    Parameters
    ----------
    data : PaymentData
    as_of : date-like, optional
        As in :func:`build_features`.

    Returns
    -------
    Series of str indexed by ``customer_id``, NaN for customers without a payment
    through a known channel.

    Examples
    --------
    >>> import pandas as pd, payseg
    >>> pay = pd.DataFrame({
    ...     "customer_id": pd.Series(["a", "a", "a"], dtype="str"),
    ...     "paid_at": pd.to_datetime(["2024-01-05", "2024-02-20", "2024-03-02"]),
    ...     "channel": pd.Categorical(["alipay", "counter", "counter"]),
    ...     "amount": [100.0, 120.0, 80.0]})
    >>> dominant_channel(payseg.PaymentData(payments=pay)).to_dict()
    {'a': 'counter'}
    """
    check_data(data, "dominant_channel")
    ctx = Context(data, as_of=_check_as_of(as_of, "dominant_channel"))
    found = [channel.dominant_codes(block) for block in ctx.blocks()]
    return pd.concat(found) if len(found) > 1 else found[0]


@validate_params(
    {"data": "no_validation", "as_of": _AS_OF},
    prefer_skip_nested_validation=True,
)
def has_data(data, as_of=None) -> pd.Series:
    """Whether each customer has a payment or bill that :func:`build_features` uses.

    False for customers known only from the customers table, or whose every row
    comes after ``as_of`` (or has no date, no amount, a bill of 0): their features
    are NaN. :func:`payseg.segment` reports them as "no data" instead of assigning a
    segment (``result.customers["no_data"]``).

    Parameters
    ----------
    data : PaymentData
    as_of : date-like, optional
        As in :func:`build_features`.

    Returns
    -------
    Series of bool indexed by ``customer_id``, like :func:`build_features`.

    Examples
    --------
    >>> import pandas as pd, payseg
    >>> pay = pd.DataFrame({
    ...     "customer_id": pd.Series(["a", "b"], dtype="str"),
    ...     "paid_at": pd.to_datetime(["2024-01-05", "2024-03-20"]),
    ...     "amount": [100.0, 80.0]})
    >>> customers = pd.DataFrame(index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> data = payseg.PaymentData(payments=pay, customers=customers)
    >>> has_data(data).to_dict()
    {'a': True, 'b': True, 'c': False}
    >>> has_data(data, as_of="2024-02-01").to_dict()
    {'a': True, 'b': False, 'c': False}
    """
    check_data(data, "has_data")
    ctx = Context(data, as_of=_check_as_of(as_of, "has_data"))
    _, used = ctx.coverage()
    return pd.Series(used, index=ctx.index, name="has_data")
