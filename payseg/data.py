"""PaymentData and :func:`load`: reading real utility exports into canonical tables.

Every input row either ends up in a canonical table or in ``PaymentData.rejected`` with
the file, the 1-based line, the column, the raw value and the reason. Rows read = rows
kept + rows rejected, for every source.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._clean import clean_bills, clean_customers, clean_payments
from ._headers import HEADER_MAP, header_unit, map_columns, normalise_header
from ._ledger import ledger_entries, repeated_keys
from ._memory import reuses_freed_memory
from ._nondata import non_data_rows, reversal_kind, void_rows
from ._parsers import DEFAULT_TZ, parse_amounts, parse_ids
from ._plain import read_plain
from ._read import (
    UnreadableFileError,
    find_header,
    header_score,
    is_workbook,
    read_sources,
    release_memory,
    sniff_encoding,
    unique_names,
)
from ._roles import ROLE_COLUMNS, header_keys
from ._schema import (
    BAD_DATE,
    BAD_FIELDS,
    BILL_KEYS,
    CUSTOMER_ATTRIBUTES,
    CUSTOMER_TYPES,
    EMPTY_ROW,
    FRACTIONAL_ID,
    HEADER_ROW,
    METER_TYPES,
    MISSING_ID,
    NEGATIVE_AMOUNT,
    NON_NUMERIC_AMOUNT,
    REJECTED_COLUMNS,
    SCIENTIFIC_ID,
    TITLE_ROW,
    UNDECODABLE,
    UNKNOWN_CHANNEL,
    empty,
    empty_rejected,
)
from ._text import as_text, factorize_text, merge_codes, run_codes
from .exceptions import PaymentDataError

__all__ = ["PaymentData", "PaymentDataError", "load"]


@dataclass
class PaymentData:
    """Payments, bills and customers in canonical form, plus the rejected-row ledger.

    Parameters
    ----------
    payments : DataFrame
        One row per payment: ``customer_id`` (str), ``paid_at`` (datetime64[ns]),
        ``channel`` (categorical of channel codes, NaN when the file has no channel),
        ``amount`` (float64, yuan), ``period`` (period[M], NaT when unknown) and
        ``region`` (categorical) when known.
    bills : DataFrame
        One row per bill: ``customer_id``, ``period`` (period[M]), ``issued_on``,
        ``due_on`` (datetime64[ns]) and ``amount_due`` (float64). Empty when unknown.
    customers : DataFrame
        Indexed by ``customer_id``: ``region`` (categorical), ``meter``
        ("prepaid"/"postpaid") and whatever else is known.
    rejected : DataFrame
        Ledger of rows not kept: ``source``, ``line``, ``column``, ``value``,
        ``reason``.
    truth : DataFrame or None
        Planted truth of synthetic data (indexed by ``customer_id``, column
        ``archetype`` plus the drawn parameters); None for real data.
    counts : dict
        Rows read and kept per source, for :meth:`summary`.
    notes : list of str
        What the loader decided and the summary states: the date order of each
        date column (month first, day first), times converted to local time.
    sources : dict
        Role (payments, bills, customers) and encoding of each source.
    health : dict
        Counts of the assumptions that did not hold (reversed pairs, same-day
        repeats kept, duplicated bills, reused ids, ...), for :meth:`summary`.
    encodings : dict
        The text encoding found in each CSV source ("UTF-8", "GB18030/GBK",
        "UTF-16-LE", ..., with the number of lines in another encoding), shown
        by :meth:`summary`.

    Examples
    --------
    >>> import pandas as pd, payseg
    >>> data = payseg.load(pd.DataFrame({"户号": ["007", "008"],
    ...                                  "缴费日期": ["2025-04-01", "2025/4/3"],
    ...                                  "缴费方式": ["网银", "支付宝"],
    ...                                  "实收金额": ["120.5", "1,000元"]}))
    >>> data.payments["customer_id"].tolist()
    ['007', '008']
    >>> data.payments["amount"].tolist()
    [120.5, 1000.0]
    """

    payments: pd.DataFrame
    bills: pd.DataFrame = field(default_factory=lambda: empty("bills"))
    customers: pd.DataFrame = field(default_factory=lambda: empty("customers"))
    rejected: pd.DataFrame = field(default_factory=empty_rejected)
    truth: pd.DataFrame | None = None
    counts: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    health: dict = field(default_factory=dict)
    encodings: dict = field(default_factory=dict)

    @property
    def customer_ids(self) -> pd.Index:
        """Every customer seen in payments, bills or customers, sorted."""
        ids = pd.concat(
            [
                self.payments["customer_id"],
                self.bills["customer_id"],
                self.customers.index.to_series(),
            ],
            ignore_index=True,
        )
        return pd.Index(ids.unique(), name="customer_id").sort_values()

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    def summary(self, *, file=None) -> str:
        """Rows read/kept/rejected per source, its role, and every assumption that
        did not hold (reversals, same-day repeats, duplicated bills, reused ids,
        rejections by reason). Returns the text; prints it to ``file`` if given.

        Examples
        --------
        >>> import payseg
        >>> text = payseg.synth.generate(50, seed=0).summary()
        >>> text.splitlines()[0]
        'payseg data: 50 customers, ...'
        """
        p = self.payments
        lines = [
            f"payseg data: {self.n_customers:,} customers, {len(p):,} payments, "
            f"{len(self.bills):,} bills, {len(self.rejected):,} rows rejected"
        ]
        if len(p):
            lines.append(
                f"  payments from {p['paid_at'].min():%Y-%m-%d} "
                f"to {p['paid_at'].max():%Y-%m-%d}, {p['amount'].sum():,.2f} yuan"
            )
            if "period" in p and len(self.bills):
                no_bill = _payments_without_bill(p, self.bills)
                lines.append(f"  payments whose period has no bill: {no_bill:,}")
            if "channel" in p and p["channel"].notna().any():
                top = p["channel"].value_counts(normalize=True).head(5)
                mix = ", ".join(f"{k} {v:.0%}" for k, v in top.items())
                lines.append(f"  top channels: {mix}")
        if self.truth is not None:
            lines.append("  synthetic data with planted truth")
        if self.counts:
            lines.append("  sources:")
        for source, c in self.counts.items():
            info = self.sources.get(source, {})
            role = info.get("role", "")
            enc = info.get("encoding")
            lines.append(
                f"    {source}: {role + ', ' if role else ''}read {c['read']:,}, "
                f"kept {c['kept']:,}, rejected {c['read'] - c['kept']:,}"
                + (f" (encoding {enc})" if enc else "")
            )
        for note in self.notes:
            lines.append(f"  note: {note}")
        lines += _health_lines(self.health)
        if len(self.rejected):
            lines.append("  rejected rows by reason:")
            by_reason = self.rejected.groupby(["source", "reason"], sort=False).size()
            for (source, reason), n in by_reason.items():
                lines.append(f"    {source}: {reason}: {n:,}")
        text = "\n".join(lines)
        if file is not None:
            print(text, file=file)
        return text

    def __repr__(self) -> str:
        return self.summary()


#: Data-health counts of PaymentData.health: key -> what it counts (summary, report).
HEALTH_CHECKS = (
    (
        "reversed_pairs",
        "reversed payments cancelled by a reversal or refund row (both rows rejected)",
    ),
    (
        "cancelled",
        "payments marked reversed whose reversal is not in the file (rejected)",
    ),
    ("unmatched_negative", "negative amounts without a matching payment (rejected)"),
    (
        "same_day_kept",
        "same-day repeats kept as second payments (no time of day or transaction id)",
    ),
    (
        "duplicated_bills",
        "bills sharing a (customer, period) with another bill, without bill ids",
    ),
    ("customers_with_duplicated_bills", "customers with several bills in one period"),
    (
        "reused_ids",
        "customer ids found in more than one 供电单位 (pass id_with_region=True)",
    ),
)


def _health_lines(health: dict) -> list[str]:
    found = [(text, health[key]) for key, text in HEALTH_CHECKS if health.get(key)]
    if not found:
        return []
    return ["  data health (assumptions that did not hold):"] + [
        f"    {text}: {n:,}" for text, n in found
    ]


def _payments_without_bill(payments: pd.DataFrame, bills: pd.DataFrame) -> int:
    """Payments with a period that no bill of their customer has.

    The (customer, month) pairs are looked up in a bitmap of the bills' pairs when
    it is small (customers x months of the span), else in their sorted keys: a
    MultiIndex of 25M payments and 21M bills took 2.7 s of a 1M customer summary.
    """
    (pay_codes, bill_codes), n_ids = _shared_codes(
        payments["customer_id"], bills["customer_id"]
    )
    pay_month, bill_month = (
        np.asarray(t["period"].array.asi8, dtype=np.int64) for t in (payments, bills)
    )
    nat = np.iinfo(np.int64).min  # a missing period
    has = pay_month != nat
    pay_codes, pay_month = pay_codes[has], pay_month[has]
    ok = (bill_month != nat) & (bill_codes >= 0)
    bill_codes, bill_month = bill_codes[ok], bill_month[ok]
    if not len(pay_month):
        return 0
    if not len(bill_month):
        return int(len(pay_month))
    lo = min(pay_month.min(), bill_month.min())
    span = int(max(pay_month.max(), bill_month.max()) - lo + 1)
    # Codes shifted by one: a missing id (-1) is a row of the bitmap no bill fills.
    pay_key = (pay_codes.astype(np.int64) + 1) * span + (pay_month - lo)
    bill_key = (bill_codes.astype(np.int64) + 1) * span + (bill_month - lo)
    if (n_ids + 1) * span <= _BITMAP_CELLS:
        billed = np.zeros((n_ids + 1) * span, dtype=bool)
        billed[bill_key] = True
        return int(len(pay_key) - np.count_nonzero(billed[pay_key]))
    return int(np.count_nonzero(~np.isin(pay_key, bill_key)))


#: Largest bitmap of (customer, month) pairs :func:`_payments_without_bill` builds
#: (256 MB); more pairs are looked up in sorted keys.
_BITMAP_CELLS = 1 << 28


def _shared_codes(*columns: pd.Series) -> tuple[list[np.ndarray], int]:
    """Codes of text columns in one coding (-1: missing), one array per column, and
    the number of distinct values."""
    codes, distinct = merge_codes([run_codes(c) for c in columns])
    bounds = np.cumsum([0] + [len(c) for c in columns])
    parts = [codes[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return parts, len(distinct)


def _as_sources(
    obj,
    kind: str,
    keys=None,
    *,
    columns=None,
    sheet=None,
    cache=None,
    layout=None,
    progress=False,
) -> list[tuple[str, pd.DataFrame, int, str]]:
    """Turn a path, a list of paths, a glob or a DataFrame into sources.

    Each source is ``(name, raw frame, offset, encoding)``. ``offset`` converts a row
    position into a 1-based file line: 2 for a file with a header line, and also 2
    for a DataFrame (the documented convention). ``keys`` (see
    :func:`payseg._read.header_score`) lets a header below title rows be found. A
    workbook gives the sheets of role ``kind`` (or those named by ``sheet``);
    ``layout`` (header, names, sep) reads text files with an explicit layout.
    ``progress`` shows a bar per file when the files hold 16 MiB or more.
    """
    if isinstance(obj, pd.DataFrame):
        return [(kind, _frame_source(obj, keys, kind), 2, "DataFrame")]
    if isinstance(obj, bytes):
        obj = os.fsdecode(obj)
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if path.is_dir():
            paths = _folder_files(sorted(path.iterdir()), kind, str(obj))
        elif any(ch in str(obj) for ch in "*?["):
            paths = _folder_files(
                sorted(Path(p) for p in _glob(str(obj))),
                kind,
                str(obj),
                any_suffix=True,
            )
        else:
            paths = [path]
        if not paths:
            raise PaymentDataError(
                f"{kind}: no CSV, Parquet or Excel file at {obj} (expected files "
                f"ending in {', '.join(sorted(_SUFFIXES))}); check the path"
            )
    else:
        paths = []
        for item in obj:  # a folder or a glob in a list (payseg segment <folder>)
            item = os.fsdecode(item)
            if Path(item).is_dir():
                paths += _folder_files(sorted(Path(item).iterdir()), kind, item)
            elif any(ch in item for ch in "*?[") and not Path(item).exists():
                paths += _folder_files(
                    sorted(Path(p) for p in _glob(item)), kind, item, any_suffix=True
                )
            else:
                paths.append(Path(item))
        if not paths:
            raise PaymentDataError(
                f"{kind}: no CSV, Parquet or Excel file in {list(obj)}; check the paths"
            )
    out = []
    size = sum(p.stat().st_size for p in paths if p.is_file())
    bar = _progress_bar(
        len(paths), f"reading {kind}", "file", progress and size >= _PROGRESS_BYTES
    )
    for p in paths:
        bar.set_postfix_str(p.name)
        if not p.exists():
            bar.close()
            raise PaymentDataError(
                f"{kind}: file not found: {p}. Check the path and the current folder "
                f"({os.getcwd()})"
            )
        if layout is not None and p.suffix.lower() in (
            ".csv",
            ".txt",
            ".tsv",
            ".dat",
            "",
        ):
            try:
                raw = read_plain(p, **layout)
            except ValueError as exc:
                raise PaymentDataError(f"{kind}: {exc}") from exc
            out.append((str(p), raw, 2, raw.attrs["encoding"]))
            bar.update()
            continue
        try:
            found = read_sources(
                p, keys, role=kind, columns=columns, sheet=sheet, cache=cache
            )
            # The CSV reader records what it sniffed; only other files are named here.
            out += [
                (name, raw, 2, raw.attrs.get("encoding") or _encoding_of(p))
                for name, raw in found
            ]
            bar.update()
        except UnreadableFileError as exc:
            bar.close()
            raise PaymentDataError(f"{kind}: {exc}") from exc
        except PaymentDataError:
            bar.close()
            raise
        except Exception as exc:  # only PaymentDataError leaves load
            bar.close()
            raise PaymentDataError(
                f"{kind}: {p} cannot be read ({type(exc).__name__}: "
                f"{str(exc)[:200]}); expected a CSV, Parquet or Excel table. Export "
                "it again, or report the file if it opens in Excel"
            ) from exc
    bar.close()
    return out


#: Inputs from this size (bytes of the files of one role, rows of its tables) on get
#: progress bars when asked for.
_PROGRESS_BYTES = 16 << 20
_PROGRESS_ROWS = 200_000


def _progress_bar(total: int, desc: str, unit: str, enabled: bool):
    """A tqdm bar on stderr; shown only when ``enabled`` and stderr is a terminal."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=None if enabled else True,  # None: hidden when not a terminal
        leave=False,
    )


def _encoding_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if is_workbook(path):
        return "excel"
    try:
        return sniff_encoding(path)
    except OSError:
        return "unknown"


def _folder_files(entries, kind, where, any_suffix=False) -> list[Path]:
    """The table files among a folder's entries; sub-folders and lock files skipped.

    Excel's owner files (``~$book.xlsx``), LibreOffice lock files, hidden files
    (``.DS_Store``) and sub-folders are skipped with a warning that names them;
    other files are kept when their suffix is one payseg reads.
    """
    keep, skipped = [], []
    for p in entries:
        name = p.name
        if p.is_dir():
            skipped.append(f"{name}/ (a sub-folder; its files are not read)")
        elif name.startswith(("~$", ".~lock")):
            skipped.append(f"{name} (a lock file of an open workbook)")
        elif name.startswith(".") or name.lower() in ("desktop.ini", "thumbs.db"):
            continue  # system files: skipped silently
        elif any_suffix or p.suffix.lower() in _SUFFIXES:
            keep.append(p)
    if skipped:
        warnings.warn(
            f"{kind}: skipped in {where}: {'; '.join(skipped)}",
            UserWarning,
            stacklevel=5,
        )
    return keep


def _frame_source(frame: pd.DataFrame, keys, kind="payments") -> pd.DataFrame:
    """A DataFrame source: named index back to a column, header found under titles."""
    repeated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if repeated:
        raise PaymentDataError(
            f"{kind}: the DataFrame has several columns named "
            f"{', '.join(map(repr, repeated))}; expected each column once. Rename "
            "or drop the extra ones (df.loc[:, ~df.columns.duplicated()]) first"
        )
    named = [n for n in frame.index.names if n is not None]
    if named and not set(named) & set(frame.columns):
        frame = frame.reset_index()  # customers indexed by customer_id
    frame = _out_of_range_dates_as_text(frame)
    if keys is None or header_score(frame.columns, keys)[0] == len(keys[1]):
        return frame
    # pd.read_excel(header=0) of a sheet with a title: the header is a row below.
    head = frame.head(60).astype("str").fillna("").to_numpy().tolist()
    at = find_header([list(frame.columns), *head], keys)
    if at == 0:
        return frame
    body = frame.iloc[at:].astype("str").reset_index(drop=True)
    body.columns = unique_names(head[at - 1])
    body.attrs["lines"] = np.arange(at + 2, at + 2 + len(body), dtype=np.int64)
    body.attrs["title_lines"] = [
        (i + 2, " ".join(c.strip() for c in row if c.strip() and c != "nan"))
        for i, row in enumerate(head[: at - 1])
    ]
    return body


def _out_of_range_dates_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Time stamps of year 1 or 9999 (placeholders) as text, rejected by the parser.

    A datetime64[us] column holds them; nanoseconds, which validation uses, do not.
    """
    lo, hi = pd.Timestamp.min, pd.Timestamp.max
    for i, dtype in enumerate(frame.dtypes):
        if not (
            isinstance(dtype, np.dtype)
            and dtype.kind == "M"
            and np.datetime_data(dtype)[0] != "ns"
        ):
            continue
        col = frame.iloc[:, i]
        if col.notna().any() and (col.min() < lo or col.max() > hi):
            text = col.astype("object").map(
                lambda v: "" if pd.isna(v) else v.isoformat(sep=" ")
            )
            frame = frame.copy(deep=False)
            frame.isetitem(i, text.astype("str"))
    return frame


_SUFFIXES = {".csv", ".txt", ".tsv", ".parquet", ".pq", ".xlsx", ".xls", ".xlsm"}


def _glob(pattern: str) -> list[str]:
    import glob

    return glob.glob(pattern)


def _load_table(
    obj,
    kind,
    columns,
    cleaner,
    *,
    sheet=None,
    cache=None,
    layout=None,
    id_with_region=False,
    progress=False,
    **kw,
):
    """Read, map and clean every source of one role.

    Returns ``(table, ledger parts, counts, sources, health, attributes)``:
    ``attributes`` holds customer attributes (户名, 用电地址, ...) found on payment
    or bill rows.
    """
    frames, rejected, counts, sources, attributes = [], [], {}, {}, []
    id_codes: list = []  # the cleaners' id codes of the kept rows, per source
    encodings = kw.pop("encodings", {})
    health = {
        "same_day_kept": 0,
        "reversed_pairs": 0,
        "unmatched_negative": 0,
        "cancelled": 0,
    }
    required, optional = ROLE_COLUMNS[kind]
    if kind != "customers":
        optional = (*optional, *CUSTOMER_ATTRIBUTES)
    keys = header_keys(kind, columns)
    found = _as_sources(
        obj,
        kind,
        keys,
        columns=columns,
        sheet=sheet,
        cache=cache,
        layout=layout,
        progress=progress,
    )
    big = sum(len(raw) for _, raw, _, _ in found) >= _PROGRESS_ROWS
    bar = _progress_bar(3 * len(found), f"checking {kind}", "stage", progress and big)
    for name, raw, offset, encoding in found:
        try:
            bar.set_postfix_str(f"{Path(name).name}: columns")
            mapped = map_columns(
                raw, columns, required, optional, source=name, error=PaymentDataError
            )
            if kind == "bills" and not set(BILL_KEYS) & set(mapped.columns):
                found = ", ".join(map(str, raw.columns)) or "(none)"
                raise PaymentDataError(
                    f"{name}: required column 'period' not found (bills need a "
                    f"period, a bill id or an issue date); headers found: {found}. "
                    "Pass columns={'<your header>': 'period'} to map it."
                )
            mapped = _join_time_column(raw, mapped)
            mapped, skipped = _drop_non_data(raw, mapped, name, offset)
            if id_with_region and "region" in mapped:
                mapped = _region_ids(mapped)
            if kind != "customers":
                attributes.append(_attributes(mapped))
            bar.update()
            bar.set_postfix_str(f"{Path(name).name}: validation")
            kept, bad = cleaner(mapped, source=name, offset=offset, **kw)
            del mapped
            release_memory()
            bar.update()
        except PaymentDataError:
            bar.close()
            raise
        except Exception as exc:  # only PaymentDataError leaves load
            raise PaymentDataError(
                f"{name}: could not be validated ({type(exc).__name__}: "
                f"{str(exc)[:200]}); expected a table payseg can read. This is an "
                "input payseg does not understand yet: please report it with the "
                "first lines of the file"
            ) from exc
        for k, v in kept.attrs.pop("health", {}).items():
            health[k] = health.get(k, 0) + v
        id_codes.append(kept.attrs.pop("id_codes", None))
        frames.append(kept)
        if len(skipped):
            bad = pd.concat([skipped, bad], ignore_index=True).sort_values(
                "line", kind="stable", ignore_index=True
            )
        rejected.append(bad)
        n_read = (
            len(raw)
            + len(raw.attrs.get("bad_lines", []))
            + len(raw.attrs.get("title_lines", []))
        )
        counts[name] = {"read": n_read, "kept": len(kept)}
        if raw.attrs.get("encoding"):
            encodings[name] = raw.attrs["encoding"]
        sources[name] = {"role": kind, "encoding": encoding}
        _warn_rejections(name, n_read, bad)
        bar.update()
    bar.close()
    # Customers tables are indexed by customer_id: keep it when several are joined.
    table = (
        frames[0]
        if len(frames) == 1
        else pd.concat(frames, ignore_index=kind != "customers")
    )
    # One coding of the ids of all sources, for the health checks of load.
    health["_id_codes"] = (
        merge_codes(id_codes)
        if id_codes and all(c is not None for c in id_codes)
        else None
    )
    return table, rejected, counts, sources, health, attributes


def _region_ids(mapped: pd.DataFrame) -> pd.DataFrame:
    """Customer ids ``region/id``: an account number is unique within a 供电单位."""
    attrs = dict(mapped.attrs)
    region = as_text(mapped["region"])
    ids = parse_ids(mapped["customer_id"])
    both = (region != "") & (ids != "")
    out = mapped.assign(customer_id=ids.where(~both, region + "/" + ids))
    out.attrs = attrs
    return out


def _attributes(mapped: pd.DataFrame) -> pd.DataFrame | None:
    cols = [
        c
        for c in (*CUSTOMER_ATTRIBUTES, "meter", "tariff", "theft")
        if c in mapped.columns
    ]
    if not cols:
        return None
    out = pd.DataFrame({c: as_text(mapped[c]) for c in cols})
    out.insert(0, "customer_id", parse_ids(mapped["customer_id"]))
    return out[out["customer_id"] != ""]


def _merge_attributes(customers: pd.DataFrame, parts) -> pd.DataFrame:
    """Customer attributes carried on payment and bill rows, under the customers file.

    The first non-empty value of each id wins; values of the customers file win
    over them.
    """
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return customers
    side = pd.concat(parts, ignore_index=True).replace("", np.nan)
    side = side.groupby("customer_id", sort=False).first().reset_index()
    side = side.fillna("").astype("str")
    derived, _ = clean_customers(side, source="(payments and bills)", offset=2)
    derived = derived.drop(
        columns=[
            c
            for c in derived.columns
            if c not in CUSTOMER_ATTRIBUTES and c not in ("meter", "tariff", "theft")
        ]
    )
    if not len(customers):
        out = derived
    else:
        new_cols = [c for c in derived.columns if c not in customers.columns]
        out = customers.join(derived[new_cols]) if new_cols else customers.copy()
        for col in derived.columns:
            if col in new_cols:
                continue
            filler = derived[col].reindex(out.index)
            if isinstance(out[col].dtype, pd.CategoricalDtype):
                out[col] = out[col].astype(object).where(out[col].notna(), filler)
            else:
                out[col] = out[col].where(out[col].notna(), filler)
        extra = derived.index.difference(out.index)
        if len(extra):
            out = pd.concat([out, derived.loc[extra]])
    out.index.name = "customer_id"
    if "meter" in out:
        out["meter"] = pd.Categorical(out["meter"], categories=list(METER_TYPES))
    if "customer_type" in out:
        out["customer_type"] = pd.Categorical(
            out["customer_type"], categories=list(CUSTOMER_TYPES)
        )
    if "region" not in out:
        out.insert(0, "region", pd.Categorical([np.nan] * len(out)))
    elif not isinstance(out["region"].dtype, pd.CategoricalDtype):
        out["region"] = out["region"].astype("category")
    return out


_DATE_ONLY = r"^\d{4}[-/.年]?\d{1,2}[-/.月]?\d{1,2}日?$"
_TIME_ONLY = r"^\d{1,2}[:时]\d{2}(?:[:分]\d{2}(?:\.\d+)?)?秒?$|^\d{5,6}$"
_TIME_HEADERS = {"时间", "时刻", "time", "交易时刻", "缴费时刻", "收费时刻", "支付时刻"}


#: Reasons about the layout of a file, not its values: never worth a warning.
_LAYOUT_REASONS = (TITLE_ROW, EMPTY_ROW, HEADER_ROW, "summary row", "notes row")
_WARN_SHARE = 0.05  # warn when more than this share of a file has one reason
_WARN_MIN_ROWS = 3  # ... and at least this many rows

_FIXES = {
    BAD_DATE: "check the date format of the column (day or month first?); pass "
    "the dates in a form like 2025-04-01 14:30",
    UNKNOWN_CHANNEL: "register the channel texts with payseg.channels.register",
    NON_NUMERIC_AMOUNT: "check that the amount column holds numbers (yuan) and that "
    "the right column is mapped (columns=...)",
    NEGATIVE_AMOUNT: "refunds and reversals are rejected; check the sign convention "
    "of the export",
    MISSING_ID: "check that the customer id column is mapped (columns=...) and "
    "filled on every row",
    BAD_FIELDS: "check the delimiter and the quoting of the file",
    UNDECODABLE: "save the file again in one encoding (UTF-8 or GBK)",
}


def _fix_for(reason: str) -> str:
    for key, fix in _FIXES.items():
        if reason.startswith(key):
            return fix
    return "see data.rejected for the rows and values"


def _warn_rejections(name, n_read, bad) -> None:
    """Warn when more than 5% of a file is rejected for one (value) reason."""
    if not len(bad) or not n_read:
        return
    counts = bad["reason"].value_counts()
    for reason, n in counts.items():
        if (
            n <= _WARN_SHARE * n_read
            or n < _WARN_MIN_ROWS
            or str(reason).startswith(_LAYOUT_REASONS)
        ):
            continue
        lines = bad.loc[bad["reason"] == reason, "line"].head(5).tolist()
        warnings.warn(
            f"{name}: {n:,} of {n_read:,} rows ({n / n_read:.0%}) rejected as "
            f"{reason!r} (lines {', '.join(map(str, lines))}"
            f"{', ...' if n > len(lines) else ''}). Likely fix: {_fix_for(reason)}.",
            UserWarning,
            stacklevel=4,
        )


def _nothing_kept(kind, table, rejected, counts) -> None:
    """PaymentDataError when rows were read but none kept (ledger attached)."""
    if len(table):
        return
    n_read = sum(c["read"] for c in counts.values())
    ledger = (
        pd.concat([r for r in rejected if len(r)], ignore_index=True)
        if any(len(r) for r in rejected)
        else empty_rejected()
    )
    if not ledger["reason"].map(lambda r: not str(r).startswith(_LAYOUT_REASONS)).any():
        return  # only titles, blank lines, totals: a file with no data rows
    top = ledger["reason"].value_counts().head(3)
    reasons = "; ".join(f"{r!r}: {n:,} rows" for r, n in top.items())
    files = ", ".join(counts)
    fix = _fix_for(str(top.index[0])) if len(top) else "check the file"
    err = PaymentDataError(
        f"{kind}: every one of the {n_read:,} rows read from {files} was rejected "
        f"(top reasons: {reasons}); expected at least one valid row. Likely fix: "
        f"{fix}. The rejected rows are in err.rejected."
    )
    err.rejected = ledger
    err.counts = dict(counts)
    raise err


def _join_time_column(raw, mapped):
    """Join a time-of-day column to a date-only ``paid_at`` (bank files).

    Bank reconciliation files give 交易日期 20250401 and 交易时间 103000 in two
    columns; the first maps to ``paid_at``, the second is appended when every
    sampled value of the one is a bare date and of the other a bare time.
    """
    if "paid_at" not in mapped or not pd.api.types.is_string_dtype(mapped["paid_at"]):
        return mapped
    for orig, col in zip(raw.columns, mapped.columns):
        key = normalise_header(orig)
        if col == "paid_at" or not (
            key in _TIME_HEADERS or HEADER_MAP.get(key) == "paid_at"
        ):
            continue
        if not pd.api.types.is_string_dtype(mapped[col]):
            continue
        date = mapped["paid_at"].astype("str").str.strip()
        time = mapped[col].astype("str").str.strip()
        both = (date.head(200) != "") & (time.head(200) != "")
        if not both.any() or not (
            date.head(200)[both].str.fullmatch(_DATE_ONLY).all()
            and time.head(200)[both].str.fullmatch(_TIME_ONLY).all()
        ):
            continue
        digits = time.str.fullmatch(r"\d{5,6}").fillna(False)
        if digits.any():
            hms = time[digits].str.zfill(6)
            time = time.where(
                ~digits,
                hms.str.slice(0, 2)
                + ":"
                + hms.str.slice(2, 4)
                + ":"
                + hms.str.slice(4, 6),
            )
        mapped = mapped.assign(paid_at=(date + " " + time).str.strip())
        break
    return mapped


def _fractional_ids(ids: pd.Series) -> np.ndarray:
    """Rows whose id is a number with a fraction (typed float or object columns)."""
    if pd.api.types.is_float_dtype(ids):
        v = ids.to_numpy(dtype="float64", na_value=np.nan)
        return np.isfinite(v) & (v != np.floor(v)) | np.isinf(v)
    if ids.dtype == object:
        return np.fromiter(
            (isinstance(v, float) and not (v != v or v.is_integer()) for v in ids),
            dtype=bool,
            count=len(ids),
        )
    return np.zeros(len(ids), dtype=bool)


def _drop_non_data(raw, mapped, name, offset):
    """Take title, summary, footer, blank and repeated-header rows out of ``mapped``.

    Returns the remaining rows (with their file lines in ``attrs["lines"]``) and the
    ledger entries of the lines taken out, so that rows read = kept + rejected.
    """
    for orig, col in zip(raw.columns, mapped.columns):
        unit = header_unit(orig) if col in ("amount", "amount_due") else None
        if unit is not None:
            # Bank reconciliation files state amounts in fen: "交易金额(分)".
            scale = 0.01 if unit == "分" else 10_000.0
            mapped[col] = parse_amounts(mapped[col]) * scale
    lines = mapped.attrs.get("lines")
    lines = (
        np.asarray(lines)
        if lines is not None and len(lines) == len(mapped)
        else np.arange(len(mapped), dtype=np.int64) + offset
    )
    id_header = raw.columns[list(mapped.columns).index("customer_id")]
    mask, entries = non_data_rows(mapped, id_header)
    # Status columns of bills ("未支付") are not about the row being void.
    void, void_entries = void_rows(mapped) if "paid_at" in mapped else (mask, None)
    if void_entries is not None and void.any():
        # Reversals and refunds are paired with their payment by the cleaner; only
        # failed transactions are rejected here.
        kind = reversal_kind(void_entries["value"])
        status = np.full(len(mapped), "", dtype=object)
        status[void] = kind
        mapped["_reversal"] = status
        keep_void = kind != ""
        void = void.copy()
        void[np.flatnonzero(void)[keep_void]] = False
        void_entries = void_entries[~keep_void].reset_index(drop=True)
    if (void & ~mask).any():
        # One ledger entry per row: a reversed row that is also a non-data row
        # keeps the non-data reason.
        extra = void & ~mask
        order = np.argsort(
            np.r_[np.flatnonzero(mask), np.flatnonzero(extra)], kind="stable"
        )
        entries = (
            pd.concat([entries, void_entries[extra[void]]], ignore_index=True)
            .iloc[order]
            .reset_index(drop=True)
        )
        mask = mask | extra
    frac = _fractional_ids(mapped["customer_id"]) & ~mask
    if frac.any():
        # Typed inputs (DataFrame, Parquet): a float id such as 12345602.5 is no
        # account number; it must not be kept as '12345602.5' nor crash.
        order = np.argsort(
            np.r_[np.flatnonzero(mask), np.flatnonzero(frac)], kind="stable"
        )
        extra = pd.DataFrame(
            {
                "column": "customer_id",
                "value": mapped["customer_id"][frac].astype("str").to_numpy(),
                "reason": FRACTIONAL_ID,
            },
            dtype="str",
        )
        entries = (
            pd.concat([entries, extra], ignore_index=True)
            .iloc[order]
            .reset_index(drop=True)
        )
        mask = mask | frac
    titles = mapped.attrs.get("title_lines", [])
    parts = [
        ledger_entries(
            name, [t[0] for t in titles], "", [t[1] for t in titles], TITLE_ROW
        )
    ]
    if mask.any():
        parts.append(
            entries.assign(source=name, line=lines[mask])[
                list(REJECTED_COLUMNS)
            ].astype({"line": "int64"})
        )
        sci = entries["reason"] == SCIENTIFIC_ID
        if sci.any():
            where = ", ".join(map(str, lines[mask][sci.to_numpy()][:5]))
            warnings.warn(
                f"{name}: {int(sci.sum())} customer ids are in scientific notation "
                f"(e.g. {entries['value'][sci].iloc[0]!r}, lines {where}): a "
                "spreadsheet turned the id column into numbers and dropped digits. "
                "Export the id column as text; these rows are rejected.",
                UserWarning,
                stacklevel=4,
            )
        attrs = dict(mapped.attrs)
        mapped = mapped[~mask].reset_index(drop=True)
        mapped.attrs = attrs
        mapped.attrs["lines"] = lines[~mask]
    elif titles:
        mapped.attrs["lines"] = lines
    skipped = pd.concat(parts, ignore_index=True) if mask.any() or titles else parts[0]
    return mapped, skipped


#: Bill files of at least this many bytes are loaded in a second thread while the
#: payments are (:func:`_in_parallel`) ...
PARALLEL_BYTES = 8 << 20
#: ... when payments and bills hold at most this many rows together: both tables
#: in memory at once add about a third to the peak (at 1M customers x 24 months,
#: 46M rows, 4.7 GiB became 6.4 GiB), so larger inputs are loaded in turn.
PARALLEL_MAX_ROWS = 20_000_000
_TABLE_SUFFIXES = {".parquet", ".pq", ".csv", ".txt", ".tsv"}


def _file_rows(paths: list[Path]) -> int:
    """Rows of Parquet files (their footers), or about as many for text (bytes/40)."""
    import pyarrow.parquet as pq

    rows = 0
    for p in paths:
        if p.suffix.lower() in (".parquet", ".pq"):
            rows += pq.ParquetFile(p).metadata.num_rows
        else:
            rows += p.stat().st_size // 40
    return rows


def _table_files(obj) -> list[Path] | None:
    """The files ``obj`` names when all are Parquet or text files; else None."""
    if obj is None or isinstance(obj, pd.DataFrame):
        return None
    items = [obj] if isinstance(obj, (str, bytes, os.PathLike)) else obj
    try:
        paths = [Path(os.fsdecode(item)) for item in items]
        if not paths or not all(
            p.suffix.lower() in _TABLE_SUFFIXES and p.is_file() for p in paths
        ):
            return None
    except (TypeError, OSError):
        return None
    return paths


def _in_parallel(payments, bills, job):
    """``job`` started in a thread when ``bills`` names large Parquet or text files
    and the two tables are not too large to be in memory at once; else None
    (DataFrames, workbooks, folders and globs are loaded in turn)."""
    bill_files = _table_files(bills)
    pay_files = _table_files(payments)
    try:
        if (
            bill_files is None
            or pay_files is None
            or sum(p.stat().st_size for p in bill_files) < PARALLEL_BYTES
            or _file_rows(bill_files + pay_files) > PARALLEL_MAX_ROWS
        ):
            return None
    except Exception:  # an unreadable footer: the reader will say what it is
        return None
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="payseg-bills")
    future = pool.submit(job)
    pool.shutdown(wait=False)
    return future


def _wait_quietly(future) -> None:
    """Wait for a side job whose result is no longer wanted (the first error wins)."""
    from concurrent.futures import wait

    wait([future])


@reuses_freed_memory
def load(
    payments,
    bills=None,
    customers=None,
    columns: Mapping[str, str] | None = None,
    *,
    drop_duplicates: bool = True,
    id_width: int | None = None,
    tz: str = DEFAULT_TZ,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    sheet=None,
    header="infer",
    names=None,
    sep: str | None = None,
    id_with_region: bool = False,
    reversal_window: int = 90,
    progress: bool = False,
) -> PaymentData:
    r"""Read payment records (and optionally bills and customers) into :class:`PaymentData`.

    Headers of Chinese utility exports (户号, 用户编号, 缴费日期, 缴费方式, 实收金额,
    电费年月, 应收金额, 账单编号, 欠费金额, 滞纳金, 户名, ...), common English ones
    (Account Number, Amount Paid, Payment Date, Invoice Number, Due Date, ...) and
    canonical names are recognised; ``columns`` overrides the mapping. Bad rows are
    never fatal: each goes to ``rejected`` with its line and reason.

    Each sheet or file gets a role from its headers: a workbook passed both as
    ``payments`` and ``bills`` gives its payments sheet (缴费明细) to payments and
    its bills sheet (应收明细) to bills, never one sheet to both.

    Parameters
    ----------
    payments : str, path, list of paths, glob, directory or DataFrame
        CSV (UTF-8, UTF-8 with BOM, GB18030/GBK), Parquet or Excel files.
    bills, customers : same types, optional
        Billing records and customer attributes. Customer attributes found on
        payment or bill rows (户名, 用电地址, 用户类型, ...) also go to
        ``customers``.
    columns : mapping, optional
        ``{file header: canonical name}``, applied before the built-in map.
    drop_duplicates : bool, default True
        Reject rows that repeat an earlier row exactly (reason "exact duplicate
        row") when the file has transaction ids or times to the second. Without
        them, a repeated row is a second payment of the day: kept, counted in the
        summary, with a warning above 1% of the rows.
    id_width : int, optional
        Restore leading zeros that a spreadsheet ate: all-digit customer ids shorter
        than this are left-padded with zeros (``12345`` -> ``0000012345`` for 10), in
        every table, so the same account matches across files.
    tz : str, default "Asia/Shanghai"
        Time zone of the market. Times with a UTC offset (``+08:00``, ``+0800``,
        ``Z``) and time-zone-aware columns are converted to its local time; times
        without an offset are taken as local already. Dates come out naive.
    dayfirst : bool, optional
        Order of dates written 15/01/2013 or 1/15/2013. By default it is detected
        per column from values that read only one way (a first number above 12 means
        day first, a second above 12 month first); a column where every value reads
        both ways is read month first with a warning. ``summary()`` states the order
        used.
    date_format : str, optional
        A :func:`~datetime.datetime.strptime` format (``"%d.%m.%Y %H:%M"``) for every
        date column, replacing the detection; values that do not match are rejected.
    sheet : str, int, list or mapping, optional
        Sheets of workbooks to read (names or 0-based positions): for payments, or
        per role as ``{"payments": "缴费明细", "bills": "应收明细"}``. By default
        every sheet whose headers give it that role.
    header : "infer" or None
        None: text files have no header line; ``names`` gives the columns.
    names : list of str, optional
        Column names of text files (file headers or canonical names).
    sep : str, optional
        Field separator of text files, ``r"\s+"`` for runs of spaces.
    id_with_region : bool, default False
        Make ids ``region/id`` (供电单位/户号) wherever the region is known, for
        account numbers reused across supply units (the loader warns about them).
    reversal_window : int, default 90
        Days within which a negative row or a 冲正/退费 row cancels an earlier
        payment of the same customer (same transaction id, else same amount).

    Returns
    -------
    PaymentData

    Raises
    ------
    PaymentDataError
        When a required column is missing (the message names it and lists the headers
        found), a file cannot be read at all (the message names the file and what it
        seems to be), an argument has the wrong type, or rows were read but none is
        kept: then ``err.rejected`` holds the ledger and ``err.counts`` the counts.
        Nothing else escapes.

    Warns
    -----
    UserWarning
        When one reason rejects more than 5% (and at least 3) of a file's rows, and
        when a folder's lock files or sub-folders are skipped.

    Examples
    --------
    >>> import pandas as pd, payseg
    >>> raw = pd.DataFrame({"用户编号": ["001", "001", ""],
    ...                     "缴费日期": ["20250401", "2025-13-01", "2025-04-02"],
    ...                     "缴费金额（元）": ["¥88", "90", "10"]})
    >>> data = payseg.load(raw)
    >>> len(data.payments), len(data.rejected)
    (1, 2)
    >>> data.rejected[["line", "column", "reason"]].values.tolist()
    [[3, 'paid_at', 'unparseable or impossible date'], [4, 'customer_id', 'missing customer id']]
    """
    _check_arguments(payments, bills, customers, columns, id_width)
    encodings: dict[str, str] = {}
    dates = _date_options(tz, dayfirst, date_format)
    notes: list[str] = []
    sheets = sheet if isinstance(sheet, Mapping) else {"payments": sheet}
    unknown = set(sheets) - {"payments", "bills", "customers"}
    if unknown:
        raise PaymentDataError(
            f"sheet: unknown role {sorted(unknown)[0]!r}; use payments, "
            "bills or customers"
        )
    if header not in ("infer", 0, None):
        raise PaymentDataError(f"header must be 'infer', 0 or None, got {header!r}")
    layout = None
    if header is None or names is not None or sep is not None:
        layout = {"header": None if header is None else 0, "names": names, "sep": sep}
    cache: dict = {}
    common = {
        "cache": cache,
        "layout": layout,
        "id_with_region": id_with_region,
        "progress": bool(progress),
    }
    bill_notes: list[str] = []
    bill_encodings: dict[str, str] = {}

    def load_bills():
        return _load_table(
            bills,
            "bills",
            columns,
            clean_bills,
            sheet=sheets.get("bills"),
            drop_duplicates=drop_duplicates,
            dates=dates,
            notes=bill_notes,
            encodings=bill_encodings,
            **common,
        )

    cust_encodings: dict[str, str] = {}

    def load_customers():
        return _load_table(
            customers,
            "customers",
            columns,
            clean_customers,
            sheet=sheets.get("customers"),
            encodings=cust_encodings,
            **common,
        )

    def load_side():
        # The customers file after the bills, in the same thread: the bills take
        # less time than the payments, so the customers fit in the difference. Its
        # error is raised where one thread would raise it (after the bills' checks).
        done = load_bills()
        if customers is None:
            return done, None
        try:
            return done, load_customers()
        except Exception as exc:  # re-raised below, in order
            return done, exc

    # Large bill files are read and checked in a second thread while the payments
    # are (most of the work is in Arrow, numpy and Parquet kernels that release the
    # GIL): the results, ledger, notes and their order are those of one thread.
    bill_job = _in_parallel(payments, bills, load_side)
    try:
        pay, rej, counts, sources, health, attrs = _load_table(
            payments,
            "payments",
            columns,
            clean_payments,
            sheet=sheets.get("payments"),
            drop_duplicates=drop_duplicates,
            reversal_window=reversal_window,
            dates=dates,
            notes=notes,
            encodings=encodings,
            **common,
        )
        _nothing_kept("payments", pay, rej, counts)
    except BaseException:
        if bill_job is not None:
            bill_job.cancel()
            _wait_quietly(bill_job)
        raise
    bill_table, cust_table = empty("bills"), empty("customers")
    pay_codes, bill_codes = health.pop("_id_codes"), None
    side, cust_result = (None, None) if bill_job is None else bill_job.result()
    if bills is not None:
        bill_table, r, c, src, bill_health, a = (
            side if side is not None else load_bills()
        )
        bill_codes = bill_health["_id_codes"]
        notes.extend(bill_notes)
        encodings.update(bill_encodings)
        _nothing_kept("bills", bill_table, r, c)
        rej += r
        counts.update(c)
        sources.update(src)
        attrs += a
    if customers is not None:
        if isinstance(cust_result, Exception):
            raise cust_result
        cust_table, r, c, src, _, _ = (
            cust_result if cust_result is not None else load_customers()
        )
        encodings.update(cust_encodings)
        rej += r
        counts.update(c)
        sources.update(src)
    cust_table = _merge_attributes(cust_table, attrs)
    if id_width is not None:
        pay_codes = bill_codes = None  # padding can make two ids one
        pay["customer_id"] = _pad_ids(pay["customer_id"], id_width)
        bill_table["customer_id"] = _pad_ids(bill_table["customer_id"], id_width)
        cust_table.index = pd.Index(
            _pad_ids(cust_table.index.to_series(), id_width), name="customer_id"
        )
    rejected = [r for r in rej if len(r)]
    ledger = pd.concat(rejected, ignore_index=True) if rejected else empty_rejected()
    data = PaymentData(
        payments=pay.reset_index(drop=True),
        bills=bill_table.reset_index(drop=True),
        customers=cust_table,
        rejected=ledger,
        counts=counts,
        notes=notes,
        sources=sources,
        encodings=encodings,
    )
    data.health = _health(data, health, id_with_region, (pay_codes, bill_codes))
    return data


def _reused_ids(regions: list[pd.DataFrame], id_codes=None) -> pd.Index:
    """Customer ids found with more than one non-empty region, in sorted order.

    Works on integer codes: each table's region codes (:func:`factorize_text`)
    point into one list of labels; each table keeps one row per run of equal
    (id, region) before the ids' codes (``id_codes``: per table, the loader's run
    codes or None) are merged over the tables; an id is reused when its smallest
    and largest region codes differ.
    """
    import pyarrow as pa

    if id_codes is None:
        id_codes = [None] * len(regions)
    parts: list = []
    regs: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    n_labels = 0
    for r, table_codes in zip(regions, id_codes, strict=True):
        codes, uniques = factorize_text(r["region"])
        ids, distinct = (
            run_codes(pd.Series(r["customer_id"], copy=False))
            if table_codes is None
            else table_codes
        )
        # A row repeating its neighbour's (id, region) adds nothing: one per run,
        # taken in each table before anything row-sized is joined or widened.
        keep = np.ones(len(codes), dtype=bool)
        if len(codes) > 1:
            keep[1:] = (ids[1:] != ids[:-1]) | (codes[1:] != codes[:-1])
        codes = codes[keep].astype(np.int64)
        # Codes into the labels of all tables so far (-1: missing).
        regs.append(np.where(codes >= 0, codes + n_labels, -1))
        parts.append((ids[keep], distinct))
        labels.append(np.asarray(pd.Index(uniques).astype("str"), dtype=object))
        n_labels += len(uniques)
    # One code per distinct label; '' and 'nan' are no region.
    label = np.concatenate(labels) if labels else np.array([], dtype=object)
    label_codes, _ = pd.factorize(label)
    label_codes = np.where((label == "") | (label == "nan"), -1, label_codes)
    region_all = np.concatenate(regs) if regs else np.array([], dtype=np.int64)
    r_all = np.where(region_all >= 0, label_codes[np.maximum(region_all, 0)], -1)
    c_all, dictionary = merge_codes(parts)
    keep = r_all >= 0
    r_codes, c_codes = r_all[keep], c_all[keep]
    if not len(r_codes):
        return pd.Index([], dtype=object)
    # An id has two regions when its smallest and largest region codes differ
    # (two ufunc.at passes; a hash pass over the pairs took three times as long).
    n_ids = len(dictionary)
    low = np.full(n_ids, np.iinfo(np.int64).max)
    high = np.full(n_ids, -1)
    np.minimum.at(low, c_codes, r_codes)
    np.maximum.at(high, c_codes, r_codes)
    reused = dictionary.take(pa.array(np.flatnonzero(high > low)))
    return pd.Index(reused.to_pylist(), dtype=object).sort_values()


def _repeated_bills(bills: pd.DataFrame, id_codes=None) -> pd.Series:
    """``bills.duplicated(["customer_id", "period"], keep=False)`` among bills with a
    period, from Arrow id codes (``id_codes``: the loader's, else made here) and one
    sort of (id, month) integer keys."""

    month = bills["period"].array.asi8
    has = month != np.iinfo(np.int64).min
    out = np.zeros(len(bills), dtype=bool)
    if has.any():
        if id_codes is None:
            id_codes = run_codes(pd.Series(bills["customer_id"], copy=False))
        codes = id_codes[0][has].astype(np.int64)  # the key below needs 64 bits
        lo, hi = month[has].min(), month[has].max()
        out[has] = repeated_keys(codes * (hi - lo + 1) + (month[has] - lo))
    return pd.Series(out, index=bills.index)


def _health(
    data: PaymentData, found: dict, id_with_region: bool, id_codes=(None, None)
) -> dict:
    """Assumptions that did not hold, counted, with a warning for each that matters.

    ``id_codes``: the loader's id codes of the payments and of the bills (or None),
    row for row, so that the ids are not hashed again."""
    health = dict(found)
    n = len(data.payments) + health.get("same_day_kept", 0)
    if n and health.get("same_day_kept", 0) > 0.01 * n:
        warnings.warn(
            f"payments: {health['same_day_kept']:,} rows repeat another row of the same "
            "day exactly; without times of day or transaction ids they are read as "
            "second payments and kept. Drop them yourself if the export repeats rows.",
            UserWarning,
            stacklevel=3,
        )
    b = data.bills
    if len(b) and "bill_id" not in b:
        bill_codes = id_codes[1]
        if bill_codes is None:
            bill_codes = run_codes(pd.Series(b["customer_id"], copy=False))
        dup = _repeated_bills(b, bill_codes).to_numpy()
        health["duplicated_bills"] = int(dup.sum())
        # Counted on the id codes: a mask over the text column took 0.5 s at 21M.
        health["customers_with_duplicated_bills"] = len(np.unique(bill_codes[0][dup]))
    # An account number in two supply units: two customers under one id.
    regions, codes = [], []
    for table, table_codes in zip((data.payments, data.bills), id_codes, strict=True):
        if "region" in table:
            regions.append(table[["customer_id", "region"]])
            codes.append(table_codes)
    c = data.customers
    if "region" in c and c["region"].notna().any():
        regions.append(
            # The arrays as they are: to_numpy made a Python str per customer.
            pd.DataFrame({"customer_id": c.index.array, "region": c["region"].array})
        )
        codes.append(None)
    health["reused_ids"] = 0
    if regions and not id_with_region:
        reused = _reused_ids(regions, codes)
        health["reused_ids"] = len(reused)
        if len(reused):
            first = ", ".join(map(str, reused[:5]))
            warnings.warn(
                f"{len(reused):,} customer ids appear in more than one 供电单位 "
                f"(e.g. {first}): an account number reused by two customers is read "
                "as one. Pass id_with_region=True to key customers by region/id.",
                UserWarning,
                stacklevel=3,
            )
    return health


def _date_options(tz, dayfirst, date_format) -> dict:
    """Check the date parameters of :func:`load`; PaymentDataError says what to pass."""
    try:
        pd.Timestamp("2000-01-01").tz_localize(tz)
    except Exception as exc:
        raise PaymentDataError(
            f"tz={tz!r} is not a time zone ({exc}); expected a name such as "
            "'Asia/Shanghai' or 'UTC'."
        ) from None
    if dayfirst is not None and not isinstance(dayfirst, (bool, np.bool_)):
        raise PaymentDataError(
            f"dayfirst={dayfirst!r}: expected True (15/01/2013), False (1/15/2013) "
            "or None (detect per column)."
        )
    if date_format is not None and (
        not isinstance(date_format, str) or "%" not in date_format
    ):
        raise PaymentDataError(
            f"date_format={date_format!r}: expected a strptime format such as "
            "'%d/%m/%Y' or None."
        )
    return {
        "tz": tz,
        "dayfirst": None if dayfirst is None else bool(dayfirst),
        "date_format": date_format,
    }


_INPUT = (
    "a path (str or pathlib.Path), a list of paths, a glob such as "
    "'exports/*.csv', a folder or a pandas DataFrame"
)


def _check_input(obj, kind: str, required: bool) -> None:
    """PaymentDataError unless ``obj`` is something :func:`load` can read."""
    if obj is None and not required:
        return
    example = f"payseg.load({'' if kind == 'payments' else 'pay, ' + kind + '='}"
    if obj is None or isinstance(obj, (bool, int, float, complex)):
        raise PaymentDataError(
            f"{kind}: got {obj!r} ({type(obj).__name__}); expected {_INPUT}. "
            f"Pass the export file, e.g. {example}'{kind}.csv')"
        )
    if isinstance(obj, Mapping):
        raise PaymentDataError(
            f"{kind}: got a {type(obj).__name__}; expected {_INPUT}. Wrap the "
            f"columns in a DataFrame: {example}pd.DataFrame(...))"
        )
    if isinstance(obj, (pd.DataFrame, str, bytes, os.PathLike)):
        if isinstance(obj, str) and not obj.strip():
            raise PaymentDataError(
                f"{kind}: got an empty path ''; expected {_INPUT}. Pass the export "
                f"file, e.g. {example}'{kind}.csv')"
            )
        return
    if isinstance(obj, (list, tuple)):
        if not obj:
            raise PaymentDataError(
                f"{kind}: got an empty list; expected at least one file. Check the "
                "glob or folder that built the list"
            )
        wrong = [x for x in obj if not isinstance(x, (str, bytes, os.PathLike))]
        if wrong:
            raise PaymentDataError(
                f"{kind}: the list holds {wrong[0]!r} ({type(wrong[0]).__name__}); "
                "expected paths only. Pass file paths, or concatenate DataFrames "
                "with pd.concat first"
            )
        return
    raise PaymentDataError(f"{kind}: got a {type(obj).__name__}; expected {_INPUT}")


def _check_arguments(payments, bills, customers, columns, id_width) -> None:
    _check_input(payments, "payments", True)
    _check_input(bills, "bills", False)
    _check_input(customers, "customers", False)
    if columns is not None and not (
        isinstance(columns, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items())
    ):
        raise PaymentDataError(
            f"columns: got {columns!r} ({type(columns).__name__}); expected a "
            "mapping {file header: canonical name}, e.g. columns={'用户号': "
            "'customer_id', '交易时间': 'paid_at'}"
        )
    if id_width is not None and (
        isinstance(id_width, bool)
        or not isinstance(id_width, (int, np.integer))
        or id_width < 1
    ):
        raise PaymentDataError(
            f"id_width: got {id_width!r} ({type(id_width).__name__}); expected a "
            "positive whole number of digits, e.g. id_width=10, or None to keep "
            "ids as written"
        )


def _pad_ids(ids: pd.Series, width: int) -> pd.Series:
    short = ids.str.isdigit() & (ids.str.len() < width)
    return ids.where(~short, ids.str.zfill(width)).astype("str")


def check_ledger(data: PaymentData) -> None:
    """Assert rows read = kept + rejected for every source (used by tests and CLI)."""
    for source, c in data.counts.items():
        n_rej = int((data.rejected["source"] == source).sum())
        if c["read"] != c["kept"] + n_rej:
            raise AssertionError(
                f"{source}: read {c['read']} != kept {c['kept']} + rejected {n_rej}"
            )


__all__ += ["REJECTED_COLUMNS"]
