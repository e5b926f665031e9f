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
from ._parsers import (
    DEFAULT_TZ,
    bad_grouping,
    id_key,
    id_problems,
    implausible_amounts,
    parse_amounts,
    parse_dates,
    parse_ids,
    parse_periods,
)
from ._schema import (
    BAD_DATE,
    BAD_GROUPING,
    BAD_PERIOD,
    DTYPES,
    DUPLICATE_CUSTOMER,
    IMPLAUSIBLE_AMOUNT,
    INEXACT_ID,
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


def _where(source) -> str:
    return source if isinstance(source, str) else "payments"


def _cell_flags(raw, ledger, columns):
    """Reject rows with a workbook cell that does not read as its value (a merged
    cell, a formula without a stored value, a rounded big number), in ``columns``.

    The reader lists them in ``raw.attrs["cell_flags"]`` as (line, column position,
    reason, value); an inexact number only matters in the id column.
    """
    flags = raw.attrs.get("cell_flags")
    if not flags:
        return
    names = list(raw.columns)
    line_at = {int(line): i for i, line in enumerate(ledger.lines)}
    groups: dict = {}
    for line, pos, reason, value in flags:
        col = names[pos] if pos < len(names) else None
        i = line_at.get(int(line))
        if i is None or col not in columns or (
                reason == INEXACT_ID and col != "customer_id"):
            continue
        mask, values = groups.setdefault((col, reason), (
            np.zeros(len(raw), dtype=bool), np.full(len(raw), "", dtype=object)))
        mask[i], values[i] = True, value
    for (col, reason), (mask, values) in groups.items():
        ledger.reject(mask, col, reason, values=values)


def _ids(raw, ledger):
    """Parsed ids; untrustworthy and missing ones go to the ledger."""
    _cell_flags(raw, ledger, ("customer_id", "paid_at", "amount", "period",
                              "amount_due", "issued_on", "due_on", "channel"))
    ids = parse_ids(raw["customer_id"])
    for mask, reason in id_problems(raw["customer_id"], ids):
        ledger.reject(mask, "customer_id", reason)
    ledger.reject((ids == "").to_numpy(), "customer_id", MISSING_ID)
    return ids


def _amounts(raw, col, ledger):
    """Parsed amounts of ``col``; unreadable, implausible and negative ones rejected."""
    amount = parse_amounts(raw[col])
    ledger.reject(bad_grouping(raw[col], amount), col, BAD_GROUPING)
    ledger.reject(amount.isna().to_numpy(), col, NON_NUMERIC_AMOUNT)
    ledger.reject(implausible_amounts(amount), col, IMPLAUSIBLE_AMOUNT)
    ledger.reject((amount < 0).to_numpy(), col, NEGATIVE_AMOUNT)
    return amount


def _dates(raw, col, source, dates, notes):
    """Parse ``raw[col]`` with the date options; note the order and time zone used.

    ``dates`` holds ``tz``, ``dayfirst`` and ``date_format`` of :func:`payseg.load`;
    ``notes`` (a list or None) receives what the summary should say.
    """
    info: dict = {}
    out = parse_dates(raw[col], info=info, **dates)
    where = _where(source)
    said = []
    order = info.get("order")
    if order == "mixed":
        said.append(f"{where}: {col} has dates in both orders (e.g. "
                    f"'{info['example']}'); values that read both ways are rejected")
    elif order is not None:
        how = ("as given (dayfirst=" + str(dates.get("dayfirst")) + ")"
               if dates.get("dayfirst") is not None else
               f"assumed, e.g. '{info['example']}'" if info.get("ambiguous")
               else f"detected from '{info['example']}'")
        said.append(f"{where}: {col} read {order} ({how})")
        if info.get("ambiguous"):
            other = "True" if order.startswith("month") else "False"
            fmt = "%d/%m/%Y" if other == "True" else "%m/%d/%Y"
            warnings.warn(
                f"{where}: every date of column {col} reads both month first and "
                f"day first (e.g. '{info['example']}'); assumed {order}. If the "
                f"file is the other way, pass dayfirst={other} to payseg.load "
                f"(or date_format='{fmt}').", UserWarning, stacklevel=5)
    if info.get("offsets"):
        said.append(f"{where}: {info['offsets']:,} {col} values with a time zone "
                    f"converted to {dates.get('tz') or DEFAULT_TZ} local time")
    if notes is not None:
        notes.extend(said)
    return out


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


def clean_payments(raw, *, source, offset, drop_duplicates=True, files=None,
                   dates=None, notes=None):
    """Validate payment rows; return (kept payments, rejected ledger).

    ``files`` (optional) gives each row's index into ``source``, then a list of file
    names: rows of several files are validated in one call (one fixed cost instead
    of one per file) with the ledger and duplicate check still per file.
    ``dates`` ({"tz", "dayfirst", "date_format"}) configures date parsing and
    ``notes`` (a list) receives the date order and time zone used.
    """
    ledger = Ledger(raw, source, offset, files)
    ids = _ids(raw, ledger)
    paid_at = _dates(raw, "paid_at", source, dates or {}, notes)
    ledger.reject(paid_at.isna().to_numpy(), "paid_at", BAD_DATE)
    amount = _amounts(raw, "amount", ledger)
    codes = _channel_column(raw, ledger, source)
    period = None
    if "period" in raw:
        period, bad_period = parse_periods(raw["period"])
        ledger.reject(bad_period.to_numpy(), "period", BAD_PERIOD)
    if drop_duplicates:
        reject_duplicates(ledger, [
            id_key(ids), paid_at.to_numpy().view(np.int64), amount.to_numpy(),
            codes.codes if codes is not None else np.zeros(len(raw), np.int8),
            period.array.asi8 if period is not None else np.zeros(len(raw), np.int8),
        ])

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
    return out, ledger.frame()


def clean_bills(raw, *, source, offset, drop_duplicates=True, files=None,
                dates=None, notes=None):
    """Validate bill rows; ``files``, ``dates`` and ``notes`` as in
    :func:`clean_payments`."""
    ledger = Ledger(raw, source, offset, files)
    ids = _ids(raw, ledger)
    period, bad_period = parse_periods(raw["period"])
    ledger.reject(bad_period.to_numpy(), "period", BAD_PERIOD)
    ledger.reject(period.isna().to_numpy(), "period", MISSING_PERIOD)
    parsed = {}
    for col in ("issued_on", "due_on"):
        if col in raw:
            text = as_text(raw[col]) if not pd.api.types.is_datetime64_any_dtype(
                raw[col]) else None
            parsed[col] = _dates(raw, col, source, dates or {}, notes)
            given = (text != "") if text is not None else raw[col].notna()
            ledger.reject((parsed[col].isna() & given).to_numpy(), col, BAD_DATE)
        else:
            parsed[col] = pd.Series(pd.NaT, index=raw.index, dtype=_BILL[col])
    if "amount_due" in raw:
        due = _amounts(raw, "amount_due", ledger)
    else:
        due = pd.Series(np.nan, index=raw.index)
    if drop_duplicates:
        reject_duplicates(ledger, [
            id_key(ids), period.array.asi8, due.to_numpy(),
            parsed["issued_on"].to_numpy().view(np.int64),
        ])
    keep = ledger.alive
    out = pd.DataFrame(
        {
            "customer_id": ids[keep].reset_index(drop=True),
            "period": period.array[keep],
            "issued_on": parsed["issued_on"][keep].to_numpy(dtype=_BILL["issued_on"]),
            "due_on": parsed["due_on"][keep].to_numpy(dtype=_BILL["due_on"]),
            "amount_due": due[keep].to_numpy(dtype=_BILL["amount_due"]),
        }
    )
    if "region" in raw:
        out["region"] = _categorical(raw["region"], keep)
    return out, ledger.frame()


_METER = {
    "prepaid": "prepaid", "预付费": "prepaid", "费控": "prepaid", "远程费控": "prepaid",
    "本地费控": "prepaid", "智能费控": "prepaid", "卡表": "prepaid", "ic卡表": "prepaid",
    "prepayment": "prepaid",
    "postpaid": "postpaid", "后付费": "postpaid", "普通": "postpaid",
    "普通表": "postpaid", "credit": "postpaid",
}
_TRUE = {"1", "true", "yes", "y", "是", "有", "t"}


def clean_customers(raw, *, source, offset, files=None):
    """Validate customer rows (indexed by customer_id); ``files`` as for payments."""
    ledger = Ledger(raw, source, offset, files)
    ids = _ids(raw, ledger)
    ledger.reject(ledger.duplicated(ids), "customer_id", DUPLICATE_CUSTOMER)
    keep = ledger.alive
    out = pd.DataFrame(index=pd.Index(ids[keep].to_numpy(), dtype=_ID,
                                      name="customer_id"))
    for col in ("region", "tariff"):
        if col in raw:
            out[col] = _categorical(raw[col], keep)
    if "meter" in raw:
        meter = as_text(raw["meter"])[keep].str.lower().map(_METER)
        out["meter"] = pd.Categorical(meter.to_numpy(),
                                      categories=list(METER_TYPES))
    else:
        out["meter"] = pd.Categorical([np.nan] * len(out),
                                      categories=list(METER_TYPES))
    if "theft" in raw:
        out["theft"] = as_text(raw["theft"])[keep].str.lower().isin(_TRUE).to_numpy()
    extra = [c for c in raw.columns if c not in out.columns and c != "customer_id"]
    for col in extra:
        out[col] = raw[col][keep].to_numpy()
    return out, ledger.frame()
