"""The contract every layer imports: canonical tables, the ledger, shared names.

Floor one of payseg: this module imports nothing from payseg. The loader writes
tables in these shapes, the features read them, the later layers read the feature
names and the noise label defined here. Nothing else keeps a copy.
"""

from __future__ import annotations

import numbers

import pandas as pd

__all__ = [
    "BILL_OPTIONAL",
    "BILL_KEYS",
    "BILL_REQUIRED",
    "CHANNEL_SHARE_PREFIX",
    "CUSTOMER_ATTRIBUTES",
    "CUSTOMER_OPTIONAL",
    "CUSTOMER_TYPES",
    "CUSTOMER_REQUIRED",
    "DTYPES",
    "KINDS",
    "NOISE",
    "NO_DATA",
    "PAYMENT_OPTIONAL",
    "PAYMENT_REQUIRED",
    "REASONS",
    "REJECTED_COLUMNS",
    "empty",
    "empty_rejected",
    "segment_order",
]

# ---------------------------------------------------------------- canonical tables
#: The three input tables, in the order they are read.
KINDS = ("payments", "bills", "customers")

# Canonical columns of each table (DESIGN.md). Required ones first.
PAYMENT_REQUIRED = ("customer_id", "paid_at", "amount")
PAYMENT_OPTIONAL = ("channel", "period", "region", "bill_id", "txn_id")
BILL_REQUIRED = ("customer_id", "period")
BILL_OPTIONAL = (
    "issued_on",
    "due_on",
    "amount_due",
    "region",
    "bill_id",
    "arrears",
    "late_fee",
)
#: A bill needs ``customer_id`` and one of these (the loader derives a missing
#: period from the issue month); :data:`BILL_REQUIRED` is the classic layout.
BILL_KEYS = ("period", "bill_id", "issued_on")
CUSTOMER_REQUIRED = ("customer_id",)
#: Customer attributes: also gathered from payment and bill rows that carry them.
CUSTOMER_ATTRIBUTES = (
    "customer_name",
    "address",
    "collector",
    "customer_type",
    "voltage",
    "kwh",
)
CUSTOMER_OPTIONAL = (
    "region",
    "meter",
    "tariff",
    "theft",
    "cycle_months",
    *CUSTOMER_ATTRIBUTES,
)
#: Values of ``customers.customer_type`` (用户类型), in category order; it sets the
#: late-fee rate (居民 0.1%/day, 非居民 0.2%/day).
CUSTOMER_TYPES = ("residential", "non_residential")

#: Meter types of the customers table, in category order.
METER_TYPES = ("postpaid", "prepaid")

#: dtype of every canonical column of a clean table ("channel" categories are the
#: channel registry's codes, filled in by :func:`empty`).
DTYPES = {
    "payments": {
        "customer_id": "str",
        "paid_at": "datetime64[ns]",
        "channel": "category",
        "amount": "float64",
        "period": "period[M]",
    },
    "bills": {
        "customer_id": "str",
        "period": "period[M]",
        "issued_on": "datetime64[ns]",
        "due_on": "datetime64[ns]",
        "amount_due": "float64",
    },
    # customers are indexed by customer_id; these are its always-present columns
    "customers": {"region": "category", "meter": "category"},
}


def empty(kind: str, *, channel_codes=None) -> pd.DataFrame:
    """An empty clean table of ``kind`` with the canonical columns and dtypes.

    Parameters
    ----------
    kind : {"payments", "bills", "customers"}
    channel_codes : sequence of str, optional
        Categories of the payments' ``channel`` column (the registry's codes).

    Examples
    --------
    >>> empty("bills").dtypes.astype(str).to_dict()
    {'customer_id': 'str', 'period': 'period[M]', 'issued_on': 'datetime64[ns]', 'due_on': 'datetime64[ns]', 'amount_due': 'float64'}
    >>> empty("customers").index.name
    'customer_id'
    """
    if kind not in DTYPES:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    cols = {}
    for col, dtype in DTYPES[kind].items():
        if col == "channel":
            dtype = pd.CategoricalDtype(list(channel_codes or ()))
        elif col == "meter":
            dtype = pd.CategoricalDtype(list(METER_TYPES))
        cols[col] = pd.Series(dtype=dtype)
    if kind == "customers":
        return pd.DataFrame(cols, index=pd.Index([], dtype="str", name="customer_id"))
    return pd.DataFrame(cols)


# ------------------------------------------------------------------------ the ledger
#: Columns of ``PaymentData.rejected``: one row per input row not kept.
REJECTED_COLUMNS = ("source", "line", "column", "value", "reason")


def empty_rejected() -> pd.DataFrame:
    """An empty rejected-row ledger with the canonical columns and dtypes.

    Examples
    --------
    >>> list(empty_rejected().columns)
    ['source', 'line', 'column', 'value', 'reason']
    """
    return pd.DataFrame(
        {
            col: pd.Series(dtype="int64" if col == "line" else "str")
            for col in REJECTED_COLUMNS
        }
    )


# Reasons a row is rejected, as written in the ledger's ``reason`` column.
MISSING_ID = "missing customer id"
BAD_DATE = "unparseable or impossible date"
UNKNOWN_CHANNEL = "unknown channel"
NEGATIVE_AMOUNT = "negative amount"
NON_NUMERIC_AMOUNT = "non-numeric amount"
DUPLICATE_ROW = "exact duplicate row"
MISSING_PERIOD = "missing period"
BAD_PERIOD = "unparseable period"
BAD_FIELDS = "wrong number of fields"
DUPLICATE_CUSTOMER = "duplicate customer id"
TITLE_ROW = "title/notes row above the header"
EMPTY_ROW = "empty row"
HEADER_ROW = "repeated header row"
SCIENTIFIC_ID = "customer id in scientific notation (digits lost)"
VOID_ROW = "reversed or failed transaction"
IMPLAUSIBLE_AMOUNT = "non-finite or implausible amount"
BAD_GROUPING = "ambiguous amount: commas do not group thousands (12,34 or 1,2,3)"
NESTED_ID = "customer id is a list or record, not one value"
INEXACT_ID = "customer id stored as a number too large to be exact (digits lost)"
INVISIBLE_ID = "customer id with control or invisible characters"
FRACTION_ID = "customer id is a number with a fraction (12345602.5), not an id"
MERGED_CELL = "merged cell (the value is in the first row of the merge)"
FORMULA_NO_VALUE = "formula without a stored value (save the file in Excel first)"
REVERSED_PAYMENT = "reversed payment"
REVERSAL = "reversal"
UNMATCHED_NEGATIVE = "negative amount without a matching payment"
UNDECODABLE = "undecodable bytes"
FRACTIONAL_ID = "customer id with a fraction (not a whole number)"

#: Not a ledger reason (the customer row is kept, its cycle left unknown): the
#: warning of :func:`payseg.load` for a billing-cycle value it cannot read.
BAD_CYCLE = "unreadable billing cycle (kept as unknown)"

#: Every ledger reason above, for tests and for code that injects defects.
REASONS = (
    MISSING_ID,
    BAD_DATE,
    UNKNOWN_CHANNEL,
    NEGATIVE_AMOUNT,
    NON_NUMERIC_AMOUNT,
    DUPLICATE_ROW,
    MISSING_PERIOD,
    BAD_PERIOD,
    BAD_FIELDS,
    DUPLICATE_CUSTOMER,
    TITLE_ROW,
    EMPTY_ROW,
    HEADER_ROW,
    SCIENTIFIC_ID,
    VOID_ROW,
    IMPLAUSIBLE_AMOUNT,
    BAD_GROUPING,
    NESTED_ID,
    INEXACT_ID,
    INVISIBLE_ID,
    FRACTION_ID,
    MERGED_CELL,
    FORMULA_NO_VALUE,
    REVERSED_PAYMENT,
    REVERSAL,
    UNMATCHED_NEGATIVE,
    UNDECODABLE,
    FRACTIONAL_ID,
)

# ------------------------------------------------------------------- shared names
#: Segment label of customers a density method leaves out of every segment
#: (scikit-learn's and hdbscan's outlier encoding).
NOISE = -1

#: Segment label of customers without any payment or bill up to ``as_of`` (known
#: only from the customers table, or every row later): the same label as
#: :data:`NOISE`, "in no segment", so every table, plot and score that leaves noise
#: out leaves them out too. ``SegmentationResult.customers["no_data"]`` (True)
#: tells them apart from density noise; they are never fed to the clusterer.
NO_DATA = NOISE


def segment_order(ids) -> list:
    """Segment ids in display order: sorted, negative ids (noise) last.

    Integer ids sort by value; any other ids (names) by their text. Missing values
    and repeats are dropped. Plots, tables and the report list segments this way.

    Examples
    --------
    >>> segment_order([2, -1, 0, 2, 1])
    [0, 1, 2, -1]
    """
    ids = pd.unique(pd.Series(list(ids), dtype=object).dropna())
    ints = [
        x for x in ids if isinstance(x, numbers.Integral) and not isinstance(x, bool)
    ]
    if len(ints) == len(ids):
        ids = sorted(int(x) for x in ids)
        return [x for x in ids if x >= 0] + [x for x in ids if x < 0]
    return sorted(ids, key=str)


#: Prefix of the per-channel share feature columns (``channel_share__alipay``, ...).
CHANNEL_SHARE_PREFIX = "channel_share__"
