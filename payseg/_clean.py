"""The three table cleaners: raw rows in, canonical table and ledger out.

Each ``clean_*`` function takes a raw frame whose headers are already canonical
(:func:`payseg._headers.map_columns`) and non-data rows already taken out
(:mod:`payseg._nondata`), and returns ``(kept, rejected)``. A row is rejected for
the first rule it breaks, in the order the rules are listed in ``clean_payments``,
so every rejected row appears in the ledger exactly once. Kept tables have the
columns and dtypes of :data:`payseg._schema.DTYPES`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import channels as _channels
from ._ledger import Ledger, reject_duplicates
from ._parsers import id_key, parse_amounts, parse_dates, parse_ids, parse_periods
from ._reversals import match_reversals
from ._schema import (
    BAD_DATE,
    BAD_PERIOD,
    CUSTOMER_TYPES,
    DTYPES,
    DUPLICATE_CUSTOMER,
    METER_TYPES,
    MISSING_ID,
    MISSING_PERIOD,
    NEGATIVE_AMOUNT,
    NON_NUMERIC_AMOUNT,
    UNKNOWN_CHANNEL,
)
from ._text import as_text, fold

__all__ = ["clean_bills", "clean_customers", "clean_payments"]

_PAY, _BILL = DTYPES["payments"], DTYPES["bills"]
_ID = _PAY["customer_id"]  # customers are indexed by id, of this dtype


def _channel_column(raw, ledger, source):
    if "channel" not in raw:
        return None
    inverse, uniques = pd.factorize(raw["channel"])
    folded = np.append(fold(uniques), "")
    u_codes, u_unknown = _channels.resolve(folded)
    # An empty cell is a payment of unknown channel, kept with NaN; only spellings
    # that are present but not registered are rejected.
    u_unknown &= folded != ""
    codes = pd.Categorical.from_codes(u_codes.codes[inverse],
                                      categories=u_codes.categories)
    unknown = u_unknown[inverse]
    text = folded[inverse] if unknown.any() else ""
    hits = unknown & ledger.alive
    if hits.any():
        bad = pd.Series(text[hits])
        lines = ledger.lines[hits]
        details = []
        for value, idx in list(bad.groupby(bad, sort=True).indices.items())[:5]:
            first = ", ".join(str(v) for v in lines[idx][:5])
            more = " ..." if len(idx) > 5 else ""
            details.append(f"{len(idx)} rows '{value}' (lines {first}{more})")
        where = source if isinstance(source, str) else "payments"
        warnings.warn(
            f"{where}: unknown channel spellings rejected: {'; '.join(details)}. "
            "Add them with payseg.channels.register(code, aliases=[...]).",
            UserWarning,
            stacklevel=5,
        )
    ledger.reject(unknown, "channel", UNKNOWN_CHANNEL, values=text)
    return codes


def _categorical(series: pd.Series, keep: np.ndarray) -> pd.Categorical:
    """Kept rows of a text column as a categorical of folded, non-empty labels."""
    inverse, uniques = pd.factorize(series)
    labels = np.append(fold(uniques), "")
    categories, to_cat = np.unique(labels, return_inverse=True)
    codes = to_cat[inverse[keep]]
    empty = categories == ""
    if empty.any():
        # '' is the first category after sorting: drop it and shift the codes.
        codes = codes - 1
        categories = categories[1:]
    return pd.Categorical.from_codes(codes, categories=categories.astype(str))


def _text_column(raw, col, keep):
    return as_text(raw[col])[keep].to_numpy(dtype=object).astype("str")


def clean_payments(raw, *, source, offset, drop_duplicates=True, files=None,
                   reversal_window=90):
    """Validate payment rows; return (kept payments, rejected ledger).

    ``files`` (optional) gives each row's index into ``source``, then a list of file
    names: rows of several files are validated in one call (one fixed cost instead
    of one per file) with the ledger and duplicate check still per file.

    Negative amounts and rows a status column marks as reversals or refunds
    (column ``_reversal`` of the mapped frame: "action" or "reversed") are paired
    with the payment they cancel (:func:`payseg._reversals.match_reversals`).
    Exact repeats are rejected when the file has transaction ids or times to the
    second; otherwise they are real second payments of the day, kept and counted.
    The counts are in ``kept.attrs["health"]``.
    """
    ledger = Ledger(raw, source, offset, files)
    ids = parse_ids(raw["customer_id"])
    ledger.reject((ids == "").to_numpy(), "customer_id", MISSING_ID)
    paid_at = parse_dates(raw["paid_at"])
    ledger.reject(paid_at.isna().to_numpy(), "paid_at", BAD_DATE)
    amount = parse_amounts(raw["amount"])
    ledger.reject(amount.isna().to_numpy(), "amount", NON_NUMERIC_AMOUNT)
    codes = _channel_column(raw, ledger, source)
    period = None
    if "period" in raw:
        period, bad_period = parse_periods(raw["period"])
        ledger.reject(bad_period.to_numpy(), "period", BAD_PERIOD)
    txn = as_text(raw["txn_id"]) if "txn_id" in raw else None
    health = {"same_day_kept": 0}
    if drop_duplicates:
        stamp = paid_at.to_numpy().view(np.int64)
        # A time of day (or a transaction id) tells an export's repeated row from a
        # second payment; a date alone does not: those repeats are kept, counted.
        timed = (stamp % 86_400_000_000_000 != 0) | (txn is not None)
        dup = reject_duplicates(ledger, [
            id_key(ids), stamp, amount.to_numpy(),
            codes.codes if codes is not None else np.zeros(len(raw), np.int8),
            period.array.asi8 if period is not None else np.zeros(len(raw), np.int8),
        ], reject=timed)
        health["same_day_kept"] = int((dup & ~timed & ledger.alive).sum())
    status = (raw["_reversal"].to_numpy(dtype=object) if "_reversal" in raw
              else None)
    health.update(match_reversals(ledger, ids, paid_at, amount, status, txn,
                                  window_days=reversal_window))
    ledger.reject((amount < 0).to_numpy(), "amount", NEGATIVE_AMOUNT)

    keep = ledger.alive
    n_kept = int(keep.sum())
    out = pd.DataFrame(
        {
            "customer_id": ids[keep].reset_index(drop=True),
            "paid_at": paid_at[keep].to_numpy(dtype=_PAY["paid_at"]),
            "channel": (
                codes[keep] if codes is not None
                else pd.Categorical.from_codes(
                    np.full(n_kept, -1), categories=_channels.codes()
                )
            ),
            "amount": amount[keep].to_numpy(dtype=_PAY["amount"]),
            "period": (
                period.array[keep] if period is not None
                else pd.array([pd.NaT] * n_kept, dtype=_PAY["period"])
            ),
        }
    )
    if "region" in raw:
        out["region"] = _categorical(raw["region"], keep)
    for col in ("bill_id", "txn_id"):
        if col in raw:
            out[col] = pd.Series(_text_column(raw, col, keep), dtype="str")
    out.attrs["health"] = health
    return out, ledger.frame()


def clean_bills(raw, *, source, offset, drop_duplicates=True, files=None):
    """Validate bill rows; ``files`` as in :func:`clean_payments`.

    A bill needs a period, a bill id or an issue date: a file without a period
    column takes the issue month. ``arrears`` and ``late_fee`` are amounts >= 0 (a negative balance
    is a credit, read as 0; text that is no number is NaN, the bill is kept).
    """
    ledger = Ledger(raw, source, offset, files)
    ids = parse_ids(raw["customer_id"])
    ledger.reject((ids == "").to_numpy(), "customer_id", MISSING_ID)
    if "period" in raw:
        period, bad_period = parse_periods(raw["period"])
        ledger.reject(bad_period.to_numpy(), "period", BAD_PERIOD)
    else:
        period = pd.Series(pd.array([pd.NaT] * len(raw), dtype="period[M]"),
                           index=raw.index)
    dates = {}
    for col in ("issued_on", "due_on"):
        if col in raw:
            text = as_text(raw[col]) if not pd.api.types.is_datetime64_any_dtype(
                raw[col]) else None
            dates[col] = parse_dates(raw[col])
            given = (text != "") if text is not None else raw[col].notna()
            ledger.reject((dates[col].isna() & given).to_numpy(), col, BAD_DATE)
        else:
            dates[col] = pd.Series(pd.NaT, index=raw.index, dtype=_BILL[col])
    if "period" not in raw:
        # Invoice-level receivables without a billing month: the issue month. (A
        # blank cell of a period column stays missing: 电费年月 202503 is issued
        # in April.)
        period = dates["issued_on"].dt.to_period("M")
    bill_id = as_text(raw["bill_id"]) if "bill_id" in raw else None
    no_key = period.isna().to_numpy().copy()
    if bill_id is not None:
        no_key &= (bill_id == "").to_numpy()
    ledger.reject(no_key, "period", MISSING_PERIOD)
    if "amount_due" in raw:
        due = parse_amounts(raw["amount_due"])
        ledger.reject(due.isna().to_numpy(), "amount_due", NON_NUMERIC_AMOUNT)
        ledger.reject((due < 0).to_numpy(), "amount_due", NEGATIVE_AMOUNT)
    else:
        due = pd.Series(np.nan, index=raw.index)
    if drop_duplicates:
        reject_duplicates(ledger, [
            id_key(ids), period.array.asi8, due.to_numpy(),
            dates["issued_on"].to_numpy().view(np.int64),
            id_key(bill_id) if bill_id is not None else np.zeros(len(raw), np.int8),
        ])
    keep = ledger.alive
    out = pd.DataFrame(
        {
            "customer_id": ids[keep].reset_index(drop=True),
            "period": period.array[keep],
            "issued_on": dates["issued_on"][keep].to_numpy(dtype=_BILL["issued_on"]),
            "due_on": dates["due_on"][keep].to_numpy(dtype=_BILL["due_on"]),
            "amount_due": due[keep].to_numpy(dtype=_BILL["amount_due"]),
        }
    )
    if "region" in raw:
        out["region"] = _categorical(raw["region"], keep)
    if bill_id is not None:
        out["bill_id"] = pd.Series(bill_id[keep].to_numpy(dtype=object).astype("str"),
                                   dtype="str")
    for col in ("arrears", "late_fee"):
        if col in raw:
            value = parse_amounts(raw[col])[keep].to_numpy(dtype="float64")
            out[col] = np.where(value < 0, 0.0, value)
    return out, ledger.frame()


_METER = {
    "prepaid": "prepaid", "预付费": "prepaid", "费控": "prepaid", "远程费控": "prepaid",
    "本地费控": "prepaid", "智能费控": "prepaid", "卡表": "prepaid", "ic卡表": "prepaid",
    "prepayment": "prepaid",
    "postpaid": "postpaid", "后付费": "postpaid", "普通": "postpaid",
    "普通表": "postpaid", "credit": "postpaid",
}
# Spellings not in _METER: 智能费控表, 远程费控电能表, 预付费表, IC卡预付费表 ...
_PREPAID_PART = r"预付|费控|预购|卡表|ic卡|prepa|pay.as.you.go|token"
_POSTPAID_PART = r"后付|普通|postpaid|credit|机械|standard"
_TRUE = {"1", "true", "yes", "y", "是", "有", "t", "√", "✓", "✔", "有窃电", "窃电",
         "存在窃电", "窃电用户"}
_RESIDENTIAL = r"^(?:城镇|乡村|农村|城市)?居民|^resid|^domestic|^household"


def _meter(text: pd.Series) -> pd.Categorical:
    low = text.str.lower()
    meter = low.map(_METER)
    rest = meter.isna() & (low != "")
    if rest.any():
        pre = low[rest].str.contains(_PREPAID_PART)
        post = low[rest].str.contains(_POSTPAID_PART)
        meter[rest] = np.where(pre, "prepaid", np.where(post, "postpaid", None))
    return pd.Categorical(meter.to_numpy(), categories=list(METER_TYPES))


def _customer_type(text: pd.Series) -> pd.Categorical:
    """用户类型: 居民 (any 居民 tariff) is residential, every other kind is not."""
    low = text.str.lower()
    res = low.str.contains(_RESIDENTIAL) & ~low.str.contains("非")
    kind = np.where(low == "", None, np.where(res, "residential", "non_residential"))
    return pd.Categorical(kind, categories=list(CUSTOMER_TYPES))


def clean_customers(raw, *, source, offset, files=None):
    """Validate customer rows (indexed by customer_id); ``files`` as for payments."""
    ledger = Ledger(raw, source, offset, files)
    ids = parse_ids(raw["customer_id"])
    ledger.reject((ids == "").to_numpy(), "customer_id", MISSING_ID)
    ledger.reject(ledger.duplicated(ids), "customer_id", DUPLICATE_CUSTOMER)
    keep = ledger.alive
    out = pd.DataFrame(index=pd.Index(ids[keep].to_numpy(), dtype=_ID,
                                      name="customer_id"))
    for col in ("region", "tariff"):
        if col in raw:
            out[col] = _categorical(raw[col], keep)
    if "meter" in raw:
        out["meter"] = _meter(as_text(raw["meter"])[keep])
    else:
        out["meter"] = pd.Categorical([np.nan] * len(out),
                                      categories=list(METER_TYPES))
    if "theft" in raw:
        flag = as_text(raw["theft"])[keep].str.lower()
        out["theft"] = (flag.isin(_TRUE) | (flag.str.contains("窃电")
                        & ~flag.str.contains("^[无否未没非]|不"))).to_numpy()
    if "customer_type" in raw:
        out["customer_type"] = _customer_type(as_text(raw["customer_type"])[keep])
    for col in ("name", "address", "collector", "voltage"):
        if col in raw:
            out[col] = pd.Series(_text_column(raw, col, keep), index=out.index,
                                 dtype="str")
    if "kwh" in raw:
        out["kwh"] = parse_amounts(raw["kwh"])[keep].to_numpy(dtype="float64")
    extra = [c for c in raw.columns if c not in out.columns and c != "customer_id"]
    for col in extra:
        out[col] = raw[col][keep].to_numpy()
    return out, ledger.frame()
