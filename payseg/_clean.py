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
from concurrent.futures import ThreadPoolExecutor

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
    parse_cycle_months,
    parse_dates,
    parse_ids,
    parse_periods,
)
from ._reversals import match_reversals
from ._schema import (
    BAD_CYCLE,
    BAD_DATE,
    BAD_GROUPING,
    BAD_PERIOD,
    CUSTOMER_TYPES,
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
from ._text import as_text, compact_codes, factorize_text, fold, run_codes

__all__ = ["clean_bills", "clean_customers", "clean_payments"]

_PAY, _BILL = DTYPES["payments"], DTYPES["bills"]
_ID = _PAY["customer_id"]  # customers are indexed by id, of this dtype
# From this many rows, amounts and periods are parsed in a second thread while the
# ids and dates are parsed in the calling one (Arrow kernels release the GIL).
_THREAD_ROWS = 200_000
_NS_PER_DAY = 86_400_000_000_000  # a day in the int64 ns of datetime64[ns]


class _Later:
    """``fn(*args)`` run when its result is first asked for (small tables)."""

    def __init__(self, fn, *args):
        self._call = (fn, args)

    def result(self):
        fn, args = self._call
        return fn(*args)


def _side_jobs(n_rows: int, workers: int = 1):
    """An executor for column parsers that do not touch the ledger, or None."""
    return ThreadPoolExecutor(max_workers=workers) if n_rows >= _THREAD_ROWS else None


def _submit(pool, fn, *args):
    """``fn(*args)`` on ``pool`` (None: when its result is asked for). The results
    are the same either way; only pure parsers go here, the ledger stays in order."""
    return pool.submit(fn, *args) if pool is not None else _Later(fn, *args)


def _channel_column(raw, ledger, source):
    if "channel" not in raw:
        return None
    inverse, uniques = factorize_text(raw["channel"])
    folded = np.append(fold(uniques), "")
    u_codes, u_unknown = _channels.resolve(folded)
    # An empty cell is a payment of unknown channel, kept with NaN; only spellings
    # that are present but not registered are rejected.
    u_unknown &= folded != ""
    codes = pd.Categorical.from_codes(
        u_codes.codes[inverse], categories=u_codes.categories
    )
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
        if (
            i is None
            or col not in columns
            or (reason == INEXACT_ID and col != "customer_id")
        ):
            continue
        mask, values = groups.setdefault(
            (col, reason),
            (np.zeros(len(raw), dtype=bool), np.full(len(raw), "", dtype=object)),
        )
        mask[i], values[i] = True, value
    for (col, reason), (mask, values) in groups.items():
        ledger.reject(mask, col, reason, values=values)


def _kept(ledger):
    """The rows to keep: the ledger's mask, or ``slice(None)`` when every row is
    kept (a clean export), so that each column is used as it is instead of copied
    through a mask of all True."""
    alive = ledger.alive
    return slice(None) if alive.all() else alive


def _ids(raw, ledger):
    """Parsed ids; untrustworthy and missing ones go to the ledger."""
    _cell_flags(
        raw,
        ledger,
        (
            "customer_id",
            "paid_at",
            "amount",
            "period",
            "amount_due",
            "issued_on",
            "due_on",
            "channel",
        ),
    )
    ids = parse_ids(raw["customer_id"])
    for mask, reason in id_problems(raw["customer_id"], ids):
        ledger.reject(mask, "customer_id", reason)
    ledger.reject((ids == "").to_numpy(), "customer_id", MISSING_ID)
    return ids


def _amounts(raw, col, ledger, *, negative_ok=False, amount=None):
    """Parsed amounts of ``col``; unreadable, implausible and negative ones rejected.

    ``negative_ok`` leaves negative amounts alive: payments pair them with the
    payment they reverse first (:func:`payseg._reversals.match_reversals`).
    ``amount``: ``parse_amounts(raw[col])`` when already parsed.
    """
    if amount is None:
        amount = parse_amounts(raw[col])
    ledger.reject(bad_grouping(raw[col], amount), col, BAD_GROUPING)
    ledger.reject(amount.isna().to_numpy(), col, NON_NUMERIC_AMOUNT)
    ledger.reject(implausible_amounts(amount), col, IMPLAUSIBLE_AMOUNT)
    if not negative_ok:
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
        said.append(
            f"{where}: {col} has dates in both orders (e.g. "
            f"'{info['example']}'); values that read both ways are rejected"
        )
    elif order is not None:
        how = (
            "as given (dayfirst=" + str(dates.get("dayfirst")) + ")"
            if dates.get("dayfirst") is not None
            else f"assumed, e.g. '{info['example']}'"
            if info.get("ambiguous")
            else f"detected from '{info['example']}'"
        )
        said.append(f"{where}: {col} read {order} ({how})")
        if info.get("ambiguous"):
            other = "True" if order.startswith("month") else "False"
            fmt = "%d/%m/%Y" if other == "True" else "%m/%d/%Y"
            warnings.warn(
                f"{where}: every date of column {col} reads both month first and "
                f"day first (e.g. '{info['example']}'); assumed {order}. If the "
                f"file is the other way, pass dayfirst={other} to payseg.load "
                f"(or date_format='{fmt}').",
                UserWarning,
                stacklevel=5,
            )
    if info.get("offsets"):
        said.append(
            f"{where}: {info['offsets']:,} {col} values with a time zone "
            f"converted to {dates.get('tz') or DEFAULT_TZ} local time"
        )
    if notes is not None:
        notes.extend(said)
    return out


def _days_and_timed(stamp: np.ndarray, all_timed: bool, chunk: int = 1 << 20):
    """Day number (int32) of each int64 ns time stamp, and whether it has a time of
    day (all True with ``all_timed``).

    In chunks: the remainders are a cache-sized temporary, not a row-sized one (a
    divmod of 25M stamps made two fresh 200 MB arrays, 0.4-0.6 s at 1M customers).

    >>> day, timed = _days_and_timed(np.array([0, 3_600_000_000_000]), False)
    >>> day.tolist(), timed.tolist()
    ([0, 0], [False, True])
    """
    day = np.empty(len(stamp), dtype=np.int32)  # NaT's day (-106752) fits too
    timed = (np.ones if all_timed else np.empty)(len(stamp), dtype=bool)
    for start in range(0, len(stamp), chunk):
        whole, rest = np.divmod(stamp[start : start + chunk], _NS_PER_DAY)
        day[start : start + chunk] = whole
        if not all_timed:
            np.not_equal(rest, 0, out=timed[start : start + chunk])
    return day, timed


def _categorical(series: pd.Series, keep: np.ndarray) -> pd.Categorical:
    """Kept rows of a text column as a categorical of folded, non-empty labels."""
    inverse, uniques = factorize_text(series)
    labels = np.append(fold(uniques), "")
    if isinstance(series.dtype, pd.CategoricalDtype):
        # Categories no row uses read as empty (pd.factorize would not list them).
        used = np.zeros(len(labels), dtype=bool)
        used[pd.unique(inverse)] = True
        labels[~used] = ""
    categories, to_cat = np.unique(labels, return_inverse=True)
    # '' (appended, so missing cells' -1 reads it) sorts first: it becomes code -1
    # and leaves the categories. The shift and the narrowing are done on the few
    # labels, so the rows take one gather into codes of the final width (25M
    # payments: one int8 pass instead of three int64 ones).
    lookup = (to_cat - 1).astype(np.min_scalar_type(-len(categories)))
    return pd.Categorical.from_codes(
        lookup[inverse[keep]],
        dtype=pd.CategoricalDtype(categories[1:].astype(str)),
        validate=False,
    )


def _text_column(raw, col, keep):
    return as_text(raw[col])[keep].to_numpy(dtype=object).astype("str")


def clean_payments(
    raw,
    *,
    source,
    offset,
    drop_duplicates=True,
    files=None,
    dates=None,
    notes=None,
    reversal_window=90,
):
    """Validate payment rows; return (kept payments, rejected ledger).

    ``files`` (optional) gives each row's index into ``source``, then a list of file
    names: rows of several files are validated in one call (one fixed cost instead
    of one per file) with the ledger and duplicate check still per file.
    ``dates`` ({"tz", "dayfirst", "date_format"}) configures date parsing and
    ``notes`` (a list) receives the date order and time zone used.

    Negative amounts and rows a status column marks as reversals or refunds
    (column ``_reversal`` of the mapped frame: "action" or "reversed") are paired
    with the payment they cancel (:func:`payseg._reversals.match_reversals`).
    Exact repeats are rejected when the file has transaction ids or times to the
    second; otherwise they are real second payments of the day, kept and counted.
    The counts are in ``kept.attrs["health"]``; ``kept.attrs["id_codes"]`` holds
    integer codes of the kept rows' ids and the distinct ids they index (equal for
    equal ids; None without a duplicate check).
    """
    ledger = Ledger(raw, source, offset, files)
    raw = ledger.raw  # without the row-sized attrs (see Ledger)
    pool = _side_jobs(len(raw))
    try:
        parsed_amount = _submit(pool, parse_amounts, raw["amount"])
        parsed_period = (
            _submit(pool, parse_periods, raw["period"]) if "period" in raw else None
        )
        ids = _ids(raw, ledger)
        # The ids' codes (Arrow kernels) on the side thread once the parsers are
        # done, while this one still parses the dates.
        coded = _submit(pool, run_codes, ids) if drop_duplicates else None
        paid_at = _dates(raw, "paid_at", source, dates or {}, notes)
        ledger.reject(paid_at.isna().to_numpy(), "paid_at", BAD_DATE)
        amount = _amounts(
            raw, "amount", ledger, negative_ok=True, amount=parsed_amount.result()
        )
        codes = _channel_column(raw, ledger, source)
        period = None
        if parsed_period is not None:
            period, bad_period = parsed_period.result()
            ledger.reject(bad_period.to_numpy(), "period", BAD_PERIOD)
        id_codes = coded.result() if coded is not None else None
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    txn = as_text(raw["txn_id"]) if "txn_id" in raw else None
    health = {"same_day_kept": 0}
    if id_codes is not None:
        stamp = paid_at.to_numpy().view(np.int64)
        # A time of day (or a transaction id) tells an export's repeated row from a
        # second payment; a date alone does not: those repeats are kept, counted.
        day, timed = _days_and_timed(stamp, txn is not None)
        dup = reject_duplicates(
            ledger,
            [
                id_codes[0],
                stamp,
                amount.to_numpy(),
                codes.codes if codes is not None else np.zeros(len(raw), np.int8),
                period.array.asi8
                if period is not None
                else np.zeros(len(raw), np.int8),
            ],
            reject=timed,
            # Exports sorted by account and date: only same-day neighbours keyed.
            order=(id_codes[0], day),
        )
        health["same_day_kept"] = int((dup & ~timed & ledger.alive).sum())
    status = raw["_reversal"].to_numpy(dtype=object) if "_reversal" in raw else None
    health.update(
        match_reversals(
            ledger, ids, paid_at, amount, status, txn, window_days=reversal_window
        )
    )
    ledger.reject((amount < 0).to_numpy(), "amount", NEGATIVE_AMOUNT)

    n_kept = int(ledger.alive.sum())
    keep = _kept(ledger)
    out = pd.DataFrame(
        {
            "customer_id": ids[keep].reset_index(drop=True),
            "paid_at": paid_at[keep].to_numpy(dtype=_PAY["paid_at"]),
            "channel": (
                codes[keep]
                if codes is not None
                else pd.Categorical.from_codes(
                    np.full(n_kept, -1), categories=_channels.codes()
                )
            ),
            "amount": amount[keep].to_numpy(dtype=_PAY["amount"]),
            "period": (
                period.array[keep]
                if period is not None
                else pd.array([pd.NaT] * n_kept, dtype=_PAY["period"])
            ),
        },
        copy=False,  # fresh arrays: no copy into consolidated blocks
    )
    if "region" in raw:
        out["region"] = _categorical(raw["region"], keep)
    for col in ("bill_id", "txn_id"):
        if col in raw:
            out[col] = pd.Series(_text_column(raw, col, keep), dtype="str")
    out.attrs["health"] = health
    out.attrs["id_codes"] = _kept_codes(id_codes, keep)
    return out, ledger.frame()


def clean_bills(
    raw, *, source, offset, drop_duplicates=True, files=None, dates=None, notes=None
):
    """Validate bill rows; ``files``, ``dates`` and ``notes`` as in
    :func:`clean_payments`.

    A bill needs a period, a bill id or an issue date: a file without a period
    column takes the issue month. ``arrears`` and ``late_fee`` are amounts >= 0 (a
    negative balance is a credit, read as 0; text that is no number is NaN, the bill
    is kept).
    """
    ledger = Ledger(raw, source, offset, files)
    raw = ledger.raw  # without the row-sized attrs (see Ledger)
    # Two side threads: the period and amount parsers take longer than the ids and
    # dates here (bills' dates are a few distinct days), and the ids' codes follow.
    pool = _side_jobs(len(raw), workers=2)
    try:
        later = {
            col: _submit(pool, fn, raw[col])
            for col, fn in (("period", parse_periods), ("amount_due", parse_amounts))
            if col in raw
        }
        ids = _ids(raw, ledger)
        coded = _submit(pool, run_codes, ids) if drop_duplicates else None
        # The dates are parsed before the period is waited for; the ledger still
        # hears the period's rejections first (a row's first reason is kept).
        parsed, unread = {}, {}
        for col in ("issued_on", "due_on"):
            if col in raw:
                parsed[col] = _dates(raw, col, source, dates or {}, notes)
                # Unread dates are rejected when the cell holds something: folded
                # text of those rows only (not a row-sized copy of the column).
                bad = parsed[col].isna().to_numpy().copy()
                if bad.any():
                    cells = raw[col][bad]
                    bad[bad] = (
                        (as_text(cells) != "").to_numpy()
                        if not pd.api.types.is_datetime64_any_dtype(raw[col])
                        else cells.notna().to_numpy()
                    )
                unread[col] = bad
            else:
                parsed[col] = pd.Series(pd.NaT, index=raw.index, dtype=_BILL[col])
        if "period" in raw:
            period, bad_period = later["period"].result()
            ledger.reject(bad_period.to_numpy(), "period", BAD_PERIOD)
        else:
            period = pd.Series(
                pd.array([pd.NaT] * len(raw), dtype="period[M]"), index=raw.index
            )
        for col, bad in unread.items():
            ledger.reject(bad, col, BAD_DATE)
        parsed_due = later["amount_due"].result() if "amount_due" in later else None
        id_codes = coded.result() if coded is not None else None
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if "period" not in raw:
        # Invoice-level receivables without a billing month: the issue month. (A
        # blank cell of a period column stays missing: 电费年月 202503 is issued
        # in April.)
        period = parsed["issued_on"].dt.to_period("M")
    bill_id = as_text(raw["bill_id"]) if "bill_id" in raw else None
    no_key = period.isna().to_numpy().copy()
    if bill_id is not None:
        no_key &= (bill_id == "").to_numpy()
    ledger.reject(no_key, "period", MISSING_PERIOD)
    if "amount_due" in raw:
        due = _amounts(raw, "amount_due", ledger, amount=parsed_due)
    else:
        due = pd.Series(np.nan, index=raw.index)
    if id_codes is not None:
        reject_duplicates(
            ledger,
            [
                id_codes[0],
                period.array.asi8,
                due.to_numpy(),
                parsed["issued_on"].to_numpy().view(np.int64),
                id_key(bill_id) if bill_id is not None else np.zeros(len(raw), np.int8),
            ],
            order=(id_codes[0], period.array.asi8),
        )
    keep = _kept(ledger)
    out = pd.DataFrame(
        {
            "customer_id": ids[keep].reset_index(drop=True),
            "period": period.array[keep],
            "issued_on": parsed["issued_on"][keep].to_numpy(dtype=_BILL["issued_on"]),
            "due_on": parsed["due_on"][keep].to_numpy(dtype=_BILL["due_on"]),
            "amount_due": due[keep].to_numpy(dtype=_BILL["amount_due"]),
        },
        copy=False,  # fresh arrays: no copy into consolidated blocks
    )
    if "region" in raw:
        out["region"] = _categorical(raw["region"], keep)
    if bill_id is not None:
        out["bill_id"] = pd.Series(
            bill_id[keep].to_numpy(dtype=object).astype("str"), dtype="str"
        )
    for col in ("arrears", "late_fee"):
        if col in raw:
            value = parse_amounts(raw[col])[keep].to_numpy(dtype="float64")
            out[col] = np.where(value < 0, 0.0, value)
    out.attrs["id_codes"] = _kept_codes(id_codes, keep)
    return out, ledger.frame()


def _kept_codes(id_codes, keep):
    """The duplicate check's id codes of the kept rows and their dictionary, for the
    data-health checks of :func:`payseg.load` (None when there was no check)."""
    if id_codes is None:
        return None
    codes, distinct = id_codes
    return compact_codes(codes[keep], len(distinct)), distinct


_METER = {
    "prepaid": "prepaid",
    "预付费": "prepaid",
    "费控": "prepaid",
    "远程费控": "prepaid",
    "本地费控": "prepaid",
    "智能费控": "prepaid",
    "卡表": "prepaid",
    "ic卡表": "prepaid",
    "prepayment": "prepaid",
    "postpaid": "postpaid",
    "后付费": "postpaid",
    "普通": "postpaid",
    "普通表": "postpaid",
    "credit": "postpaid",
}
# Spellings not in _METER: 智能费控表, 远程费控电能表, 预付费表, IC卡预付费表 ...
_PREPAID_PART = r"预付|费控|预购|卡表|ic卡|prepa|pay.as.you.go|token"
_POSTPAID_PART = r"后付|普通|postpaid|credit|机械|standard"
_TRUE = {
    "1",
    "true",
    "yes",
    "y",
    "是",
    "有",
    "t",
    "√",
    "✓",
    "✔",
    "有窃电",
    "窃电",
    "存在窃电",
    "窃电用户",
}
_RESIDENTIAL = r"^(?:城镇|乡村|农村|城市)?居民|^resid|^domestic|^household"


def _per_label(series: pd.Series, keep, read):
    """``read`` (folded text Series -> Categorical or bool array) run on the distinct
    cells of a column and spread over its kept rows: 1M customers hold a handful of
    meter types and flags, and reading each row made a Python str per row."""
    codes, uniques = factorize_text(series)
    labels = pd.concat([uniques, pd.Series([""], dtype="str")], ignore_index=True)
    values = read(as_text(labels))  # the last one: a missing cell
    return values.take(codes[keep])  # code -1 takes the missing cell's value


def _theft(text: pd.Series) -> np.ndarray:
    """窃电标志: yes/1/是/有窃电 are theft; 无窃电, 否, 不 and the like are not."""
    flag = text.str.lower()
    return (
        flag.isin(_TRUE)
        | (flag.str.contains("窃电") & ~flag.str.contains("^[无否未没非]|不"))
    ).to_numpy(dtype=bool)


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


def _cycle_months(column, ledger, keep, source) -> np.ndarray:
    """抄表周期 / billing cycle as months (float, NaN unknown); a cell that cannot be
    read is kept as unknown with a warning naming its lines and spellings."""
    cycle, bad = parse_cycle_months(column)
    bad = bad.to_numpy() & keep
    if bad.any():
        text = as_text(column)[bad]
        lines = ledger.lines[bad]
        shown = ", ".join(
            f"'{v}' (line {ln})" for v, ln in list(zip(text, lines))[:5]
        ) + (", ..." if int(bad.sum()) > 5 else "")
        warnings.warn(
            f"{_where(source)}: {int(bad.sum()):,} billing-cycle value(s) not read "
            f"({BAD_CYCLE}): {shown}. Expected months between bills (1, 2, 月, "
            "双月, monthly, bimonthly, 每两月, ...); those customers' cycle is "
            "inferred from their bill periods. Fix the cells, or pass "
            "cycle_months= to payseg.build_features.",
            UserWarning,
            stacklevel=5,
        )
    return cycle[keep].to_numpy(dtype="float64")


def clean_customers(raw, *, source, offset, files=None):
    """Validate customer rows (indexed by customer_id); ``files`` as for payments."""
    ledger = Ledger(raw, source, offset, files)
    raw = ledger.raw  # without the row-sized attrs (see Ledger)
    ids = _ids(raw, ledger)
    ledger.reject(ledger.duplicated(ids), "customer_id", DUPLICATE_CUSTOMER)
    keep = ledger.alive
    # The ids' Arrow strings as they are (to_numpy made a Python str per customer).
    out = pd.DataFrame(index=pd.Index(ids[keep].array, dtype=_ID, name="customer_id"))
    for col in ("region", "tariff"):
        if col in raw:
            out[col] = _categorical(raw[col], keep)
    if "meter" in raw:
        out["meter"] = _per_label(raw["meter"], keep, _meter)
    else:
        out["meter"] = pd.Categorical([np.nan] * len(out), categories=list(METER_TYPES))
    if "theft" in raw:
        out["theft"] = _per_label(raw["theft"], keep, _theft)
    if "customer_type" in raw:
        out["customer_type"] = _per_label(raw["customer_type"], keep, _customer_type)
    for col in ("customer_name", "address", "collector", "voltage"):
        if col in raw:
            out[col] = pd.Series(
                _text_column(raw, col, keep), index=out.index, dtype="str"
            )
    if "kwh" in raw:
        out["kwh"] = parse_amounts(raw["kwh"])[keep].to_numpy(dtype="float64")
    if "cycle_months" in raw:
        out["cycle_months"] = _cycle_months(raw["cycle_months"], ledger, keep, source)
    extra = [c for c in raw.columns if c not in out.columns and c != "customer_id"]
    for col in extra:
        out[col] = raw[col][keep].to_numpy()
    return out, ledger.frame()
