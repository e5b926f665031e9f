"""Write PaymentData like a utility marketing-system export, optionally with defects.

Formatting is vectorised with pyarrow compute kernels: each row draws one of a few
spellings (date formats, channel-name variants, amount styles) and the text columns
are assembled without a Python loop over rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import _schema as S
from .. import channels as _channels

__all__ = ["DEFECT_KINDS", "write"]

# Headers of a Chinese marketing-system export (all in payseg._schema.HEADER_MAP).
_HEADERS = {
    "payments": {
        "customer_id": "户号",
        "paid_at": "缴费时间",
        "channel": "缴费方式",
        "amount": "实收金额",
        "period": "电费年月",
        "region": "供电单位",
    },
    "bills": {
        "customer_id": "户号",
        "period": "电费年月",
        "issued_on": "发行日期",
        "due_on": "缴费截止日期",
        "amount_due": "应收金额",
    },
    "customers": {
        "customer_id": "户号",
        "region": "供电单位",
        "meter": "表计类型",
        "tariff": "电价类别",
        "theft": "窃电标志",
    },
}

#: Defects injected per table: kind -> (column, ledger reason of payseg._schema).
DEFECT_KINDS = {
    "payments": {
        "missing_id": ("customer_id", S.MISSING_ID),
        "bad_date": ("paid_at", S.BAD_DATE),
        "unknown_channel": ("channel", S.UNKNOWN_CHANNEL),
        # A negative row with no earlier payment of that amount to reverse.
        "negative_amount": ("amount", S.UNMATCHED_NEGATIVE),
        "non_numeric_amount": ("amount", S.NON_NUMERIC_AMOUNT),
        "duplicate": ("", S.DUPLICATE_ROW),
    },
    "bills": {
        "missing_id": ("customer_id", S.MISSING_ID),
        "missing_period": ("period", S.MISSING_PERIOD),
        "bad_period": ("period", S.BAD_PERIOD),
        "bad_date": ("due_on", S.BAD_DATE),
        "negative_amount": ("amount_due", S.NEGATIVE_AMOUNT),
        "non_numeric_amount": ("amount_due", S.NON_NUMERIC_AMOUNT),
        "duplicate": ("", S.DUPLICATE_ROW),
    },
    "customers": {
        "missing_id": ("customer_id", S.MISSING_ID),
        "duplicate": ("customer_id", S.DUPLICATE_CUSTOMER),
    },
}

_BAD_VALUES = {
    "missing_id": ["", " "],
    "bad_date": [
        "2025-02-30",
        "2024-13-01",
        "20241301",
        "2025/02/29 10:00",
        "昨天",
        "00:00:00",
        "#VALUE!",
    ],
    "unknown_channel": ["比特币", "易货抵扣", "积分兑换", "unknown pay"],
    # Odd cents: no payment of the customer has that amount for it to reverse.
    "negative_amount": ["-88.37", "-1,200.53", "-0.51元", "-15.09"],
    "non_numeric_amount": ["abc", "一百元", "#N/A", "12..5", "--"],
    "missing_period": [""],
    "bad_period": ["2025-13", "202400", "上月", "99999"],
}


def write(
    data,
    directory,
    format: str = "csv",
    style: str = "export",
    defects: float = 0.0,
    seed=0,
    *,
    encoding: str = "utf-8",
    tables=("payments", "bills", "customers"),
    headers=None,
) -> pd.DataFrame:
    """Write ``payments``, ``bills`` and ``customers`` files like a utility export.

    Parameters
    ----------
    data : PaymentData
        Typically from :func:`payseg.synth.generate`.
    directory : str or path
        Created if missing. Files: ``payments.<ext>``, ``bills.<ext>``,
        ``customers.<ext>``, and ``defects.json`` (the ledger) when ``defects > 0``.
    format : {"csv", "parquet"}, default "csv"
        Parquet files hold the same text columns as the CSV.
    style : {"export", "canonical"}, default "export"
        "export": Chinese headers (户号, 缴费时间, 缴费方式, 实收金额, 电费年月, 供电单位;
        bills 户号, 电费年月, 发行日期, 缴费截止日期, 应收金额), channel names with
        spelling variants (Chinese names, short forms, full-width, numeric codes,
        English), amounts sometimes with 元, ¥ or thousands separators, dates in mixed
        formats, periods as 202503 / 2025-03 / 2025年3月. "canonical": English
        canonical headers, ISO dates, channel codes, plain amounts.
    defects : float, default 0.0
        For each kind of defect the loader rejects, insert this fraction of extra
        defective rows (at least one of each kind when > 0): missing customer id,
        unparseable or impossible date, unknown channel, negative amount,
        non-numeric amount, exact duplicate row; for bills also missing and
        unparseable periods; for customers missing and duplicate ids. Good rows are
        all kept, the defective ones are inserted between them.
    seed : int, default 0
        Seeds the choice of spellings and defects.
    encoding : {"utf-8", "utf-8-sig", "gb18030"}, default "utf-8"
        CSV encoding (exports come as GB18030 as often as UTF-8).
    tables : sequence of {"payments", "bills", "customers"}, default ("payments", "bills", "customers")
        The files to write (an export without a bills table: leave "bills" out).
    headers : mapping, optional
        ``{table: {canonical column: header}}`` replacing some of the export
        style's headers (another system's names, e.g. 用户编号 for 户号).

    Returns
    -------
    DataFrame
        Ledger of the injected defects: ``file``, ``source`` (the path),
        ``line`` (1-based, header = line 1), ``column``, ``value``, ``reason``, and
        ``kind``; empty when ``defects == 0``.

    Examples
    --------
    >>> import tempfile, payseg
    >>> data = payseg.synth.generate(30, seed=0, months=3)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ledger = payseg.synth.write(data, tmp, defects=0.05)
    ...     back = payseg.load(f"{tmp}/payments.csv", bills=f"{tmp}/bills.csv",
    ...                        customers=f"{tmp}/customers.csv")
    >>> len(back.payments) == len(data.payments)
    True
    >>> ledger.columns.tolist()
    ['file', 'source', 'line', 'column', 'value', 'reason', 'kind']
    >>> ledger.loc[ledger["file"] == "bills.csv", "reason"].nunique()
    7
    >>> back.rejected["line"].tolist() == ledger["line"].tolist()
    True
    """
    if format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {format!r}")
    if style not in ("export", "canonical"):
        raise ValueError(f"style must be 'export' or 'canonical', got {style!r}")
    if not 0 <= defects < 1:
        raise ValueError(f"defects must be a fraction in [0, 1), got {defects!r}")
    if encoding not in ("utf-8", "utf-8-sig", "gb18030"):
        raise ValueError(
            f"encoding must be 'utf-8', 'utf-8-sig' or 'gb18030', got {encoding!r}"
        )
    unknown = sorted(set(tables) - set(_HEADERS))
    if unknown or not len(tables):
        raise ValueError(
            f"tables must be a non-empty subset of {list(_HEADERS)}, got {tables!r}"
        )
    rng = np.random.default_rng(seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ext = "csv" if format == "csv" else "parquet"
    customers = data.customers
    if customers is None or not len(customers):
        ids = data.customer_ids
        customers = pd.DataFrame(index=ids)
    built = {
        "payments": _payments(data.payments, rng, style),
        "bills": _bills(data.bills, rng, style),
        "customers": _customers(customers, rng, style),
    }
    parts = []
    for name, cols in built.items():
        cols, ledger = _inject(name, cols, rng, defects)
        if name not in tables:
            continue
        path = directory / f"{name}.{ext}"
        names = dict(_HEADERS[name]) if style == "export" else {c: c for c in cols}
        names.update((headers or {}).get(name, {}))
        table = pa.table({names[c]: arr for c, arr in cols.items()})
        _write_table(table, path, format, encoding)
        ledger.insert(0, "file", path.name)
        ledger.insert(1, "source", str(path))
        parts.append(ledger)
    ledger = pd.concat(parts, ignore_index=True)
    ledger = ledger.astype(
        {
            "file": "str",
            "source": "str",
            "column": "str",
            "value": "str",
            "reason": "str",
            "kind": "str",
        }
    )
    if defects > 0:
        ledger.drop(columns="source").to_json(
            directory / "defects.json", orient="records", force_ascii=False, indent=1
        )
    return ledger


# ----------------------------------------------------------------------- formatting


def _pick(rng, n, weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum()).astype(np.int64)


def _by_choice(choice, builders, n) -> pa.Array:
    """Row i gets ``builders[choice[i]](rows)`` (each builder formats a subset)."""
    order = np.argsort(choice, kind="stable")
    chunks = []
    for k, build in enumerate(builders):
        idx = order[choice[order] == k]
        if idx.size:
            chunks.append(build(idx))
    if not chunks:
        return pa.array([], type=pa.string())
    merged = pa.concat_arrays([c.cast(pa.string()) for c in chunks])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return merged.take(pa.array(inverse))


def _str(values) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _pad(arr, width) -> pa.Array:
    return pc.utf8_lpad(_str(arr), width=width, padding="0")


class _Stamps:
    """Components of datetime64 values, formatted on demand for row subsets."""

    def __init__(self, values):
        v = np.asarray(values, dtype="datetime64[ns]")
        self.nat = np.isnat(v)
        v = np.where(self.nat, np.datetime64(0, "ns"), v)
        days = v.astype("datetime64[D]")
        months = days.astype("datetime64[M]")
        self.y = months.astype(np.int64) // 12 + 1970
        self.m = months.astype(np.int64) % 12 + 1
        self.d = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
        sec = (v - days).astype("timedelta64[s]").astype(np.int64)
        self.H, self.M, self.S = sec // 3600, sec // 60 % 60, sec % 60

    def iso(self, idx, sep="-"):
        return _join(
            _str(self.y[idx]), sep, _pad(self.m[idx], 2), sep, _pad(self.d[idx], 2)
        )

    def compact(self, idx):
        return _join(_str(self.y[idx]), _pad(self.m[idx], 2), _pad(self.d[idx], 2))

    def slash(self, idx):  # 2025/4/1
        return _join(_str(self.y[idx]), "/", _str(self.m[idx]), "/", _str(self.d[idx]))

    def hm(self, idx):
        return _join(_pad(self.H[idx], 2), ":", _pad(self.M[idx], 2))

    def hms(self, idx):
        return _join(self.hm(idx), ":", _pad(self.S[idx], 2))

    def blank(self, arr, idx):
        return pc.if_else(pa.array(self.nat[idx]), "", arr)


def _datetimes(values, rng, *, with_time: bool, style: str) -> pa.Array:
    st = _Stamps(values)
    n = st.y.size
    if style == "canonical":
        full = (
            _join(st.iso(slice(None)), " ", st.hms(slice(None)))
            if with_time
            else st.iso(slice(None))
        )
        return st.blank(full, slice(None))
    if with_time:
        builders = [
            lambda i: _join(st.iso(i), " ", st.hms(i)),  # 2025-04-01 08:05:03
            lambda i: _join(st.slash(i), " ", st.hm(i)),  # 2025/4/1 08:05
            lambda i: st.compact(i),  # 20250401
            lambda i: st.iso(i),  # 2025-04-01
            lambda i: _join(st.slash(i), " ", st.hms(i)),  # 2025/4/1 08:05:03
            lambda i: _join(st.iso(i), " ", st.hm(i)),  # 2025-04-01 08:05
        ]
        weights = [0.45, 0.15, 0.1, 0.1, 0.1, 0.1]
    else:
        builders = [st.iso, st.slash, st.compact]
        weights = [0.6, 0.2, 0.2]
    out = _by_choice(_pick(rng, n, weights), builders, n)
    return st.blank(out, slice(None))


def _cents_text(cents: np.ndarray) -> pa.Array:
    sign = np.where(cents < 0, "-", "")
    c = np.abs(cents)
    return _join(pa.array(sign), _str(c // 100), ".", _pad(c % 100, 2))


def _thousands_text(cents: np.ndarray) -> pa.Array:
    c = np.abs(cents)
    whole = c // 100
    big = whole >= 1000
    head = np.where(big, whole // 1000, whole)
    tail = _join(",", _pad(whole % 1000, 3))
    tail = pc.if_else(pa.array(big), tail, "")
    return _join(_str(head), tail, ".", _pad(c % 100, 2))


_FULL = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _fullwidth(arr: pa.Array) -> pa.Array:
    for a, b in zip("0123456789.", "０１２３４５６７８９．"):
        arr = pc.replace_substring(arr, a, b)
    return arr


def _amounts(values, rng, style) -> pa.Array:
    v = np.asarray(values, dtype=float)
    missing = np.isnan(v)
    cents = np.round(np.where(missing, 0, v) * 100).astype(np.int64)
    n = v.size
    if style == "canonical":
        out = _cents_text(cents)
    else:
        builders = [
            lambda i: _cents_text(cents[i]),  # 123.45
            lambda i: _join(_cents_text(cents[i]), "元"),  # 123.45元
            lambda i: _join("¥", _cents_text(cents[i])),  # ¥123.45
            lambda i: _thousands_text(cents[i]),  # 1,234.50
            lambda i: _fullwidth(_cents_text(cents[i])),  # １２３．４５
        ]
        out = _by_choice(_pick(rng, n, [0.72, 0.1, 0.05, 0.08, 0.05]), builders, n)
    return pc.if_else(pa.array(missing), "", out)


def _periods(series, rng, style) -> pa.Array:
    ords = np.asarray(series.array.asi8, dtype=np.int64)
    nat = series.isna().to_numpy()
    ords = np.where(nat, 0, ords)
    y, m = ords // 12 + 1970, ords % 12 + 1
    n = ords.size
    if style == "canonical":
        out = _join(_str(y), "-", _pad(m, 2))
    else:
        builders = [
            lambda i: _join(_str(y[i]), _pad(m[i], 2)),  # 202503
            lambda i: _join(_str(y[i]), "-", _pad(m[i], 2)),  # 2025-03
            lambda i: _join(_str(y[i]), "年", _str(m[i]), "月"),  # 2025年3月
            lambda i: _join(_str(y[i]), "/", _pad(m[i], 2)),  # 2025/03
        ]
        out = _by_choice(_pick(rng, n, [0.6, 0.2, 0.1, 0.1]), builders, n)
    return pc.if_else(pa.array(nat), "", out)


def _channel_variants() -> tuple[list[str], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Every spelling of every channel that resolves back to it, with weights."""
    table = _channels.table(include_aliases=False)
    names: list[str] = []
    per_code = {}
    for code, row in table.iterrows():
        ch = _channels.get(code)
        cands = [row["name_zh"]]
        if row["name_zh"].endswith("缴费"):
            cands.append(row["name_zh"][:-2])
        cands += [a for a in ch.aliases if not a.isascii()]
        cands += [f" {row['name_zh']} ", row["name_en"]]
        if not pd.isna(row["number"]):
            num = str(int(row["number"]))
            cands += [num, num.zfill(2), num.translate(_FULL)]
        ascii_part = row["name_zh"].translate(
            str.maketrans(
                {
                    c: chr(ord(c) + 0xFEE0)
                    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                }
            )
        )
        if ascii_part != row["name_zh"]:
            cands.append(ascii_part)
        cands = list(dict.fromkeys(cands))
        resolved, unknown = _channels.resolve(cands)
        good = [
            c
            for c, r, u in zip(cands, resolved.astype(object), unknown)
            if not u and r == code
        ]
        if not good:  # pragma: no cover - every code resolves to itself
            good = [code]
        w = np.array([0.6] + [0.4 / max(len(good) - 1, 1)] * (len(good) - 1))
        idx = np.arange(len(names), len(names) + len(good))
        names += good
        per_code[code] = (idx, w / w.sum())
    return names, per_code


def _channel_text(series, rng, style) -> pa.Array:
    cat = pd.Categorical(series)
    n = len(cat)
    if style == "canonical":
        text = np.asarray(cat.astype(object), dtype=object)
        text[pd.isna(text)] = ""
        return pa.array(text, type=pa.string())
    names, per_code = _channel_variants()
    pick = np.full(n, len(names), dtype=np.int64)  # last slot: "" for missing
    codes = cat.codes
    for k, code in enumerate(cat.categories):
        rows = np.flatnonzero(codes == k)
        if rows.size:
            idx, w = per_code[code]
            pick[rows] = idx[rng.choice(len(idx), size=rows.size, p=w)]
    dictionary = pa.array(names + [""], type=pa.string())
    return pa.DictionaryArray.from_arrays(
        pa.array(pick), dictionary
    ).dictionary_decode()


def _ids(series) -> pa.Array:
    s = pd.Series(series).astype("str")
    arr = pa.array(s.array).cast(pa.string())
    return pc.fill_null(arr, "")


def _labels(series) -> pa.Array:
    cat = pd.Categorical(series)
    codes = np.asarray(cat.codes, dtype=np.int32)
    dictionary = pa.array(
        np.asarray(cat.categories.astype(str), dtype=object), type=pa.string()
    )
    indices = pa.array(codes, mask=codes < 0)
    decoded = pa.DictionaryArray.from_arrays(indices, dictionary).dictionary_decode()
    return pc.fill_null(decoded, "")


def _payments(p, rng, style) -> dict[str, pa.Array]:
    cols = {
        "customer_id": _ids(p["customer_id"]),
        "paid_at": _datetimes(p["paid_at"], rng, with_time=True, style=style),
        "channel": _channel_text(p["channel"], rng, style),
        "amount": _amounts(p["amount"], rng, style),
    }
    if "period" in p:
        cols["period"] = _periods(p["period"], rng, style)
    if "region" in p:
        cols["region"] = _labels(p["region"])
    # A row repeated in the data (a duplicate in the source system) is written with
    # the same spellings as the row before it: a real export repeats the text.
    first = _first_of_repeats(p)
    if first is not None:
        take = pa.array(first)
        cols = {c: arr.take(take) for c, arr in cols.items()}
    return cols


def _first_of_repeats(p: pd.DataFrame) -> np.ndarray | None:
    """Row -> first row of its run of identical consecutive rows (None: no runs)."""
    n = len(p)
    if n < 2:
        return None
    same = np.ones(n - 1, dtype=bool)
    for col in ("customer_id", "paid_at", "amount", "channel", "period", "region"):
        if col not in p:
            continue
        rows = np.flatnonzero(same)
        if not rows.size:
            return None
        a = p[col].iloc[rows].reset_index(drop=True)
        b = p[col].iloc[rows + 1].reset_index(drop=True)
        eq = (a.astype(object) == b.astype(object)) | (a.isna() & b.isna())
        same[rows] = eq.to_numpy(dtype=bool)
    if not same.any():
        return None
    start = np.r_[True, ~same]
    return np.maximum.accumulate(np.where(start, np.arange(n), 0))


def _bills(b, rng, style) -> dict[str, pa.Array]:
    return {
        "customer_id": _ids(b["customer_id"]),
        "period": _periods(b["period"], rng, style),
        "issued_on": _datetimes(b["issued_on"], rng, with_time=False, style=style),
        "due_on": _datetimes(b["due_on"], rng, with_time=False, style=style),
        "amount_due": _amounts(b["amount_due"], rng, style),
    }


_METER_TEXT = {
    "prepaid": ["预付费", "远程费控", "智能费控"],
    "postpaid": ["后付费", "普通表"],
}


def _customers(c, rng, style) -> dict[str, pa.Array]:
    n = len(c)
    cols = {"customer_id": _ids(c.index.to_series())}
    if "region" in c:
        cols["region"] = _labels(c["region"])
    if "meter" in c:
        meter = pd.Series(c["meter"]).astype(object).to_numpy()
        if style == "canonical":
            text = np.where(pd.isna(meter), "", meter).astype(str)
        else:
            text = np.full(n, "", dtype=object)
            for kind, words in _METER_TEXT.items():
                rows = np.flatnonzero(meter == kind)
                text[rows] = np.asarray(words, dtype=object)[
                    _pick(
                        rng,
                        rows.size,
                        [0.6] + [0.4 / (len(words) - 1)] * (len(words) - 1),
                    )
                ]
        cols["meter"] = pa.array(text.astype(str), type=pa.string())
    if "tariff" in c:
        cols["tariff"] = (
            _labels(c["tariff"])
            if style == "canonical"
            else pa.array(np.full(n, "居民生活用电"), type=pa.string())
        )
    if "theft" in c:
        theft = np.asarray(c["theft"], dtype=bool)
        yes, no = ("true", "false") if style == "canonical" else ("是", "否")
        cols["theft"] = pa.array(np.where(theft, yes, no), type=pa.string())
    return cols


# -------------------------------------------------------------------------- defects


def _inject(name, cols, rng, fraction):
    """Insert defective copies of random good rows; return columns and the ledger."""
    n = len(next(iter(cols.values())))
    empty = pd.DataFrame(
        {
            "line": pd.Series(dtype="int64"),
            "column": [],
            "value": [],
            "reason": [],
            "kind": [],
        }
    )
    kinds = {k: v for k, v in DEFECT_KINDS[name].items() if v[0] == "" or v[0] in cols}
    if fraction <= 0 or n == 0:
        return cols, _natural_duplicates(name, cols, empty)
    per_kind = max(1, int(round(fraction * n)))
    src_parts, key_parts, kind_parts = [], [], []
    for k_i, kind in enumerate(kinds):
        src = rng.integers(0, n, size=per_kind)
        if kind == "duplicate" and name == "payments":
            # A copy of a row with a time of day: the loader keeps same-day repeats
            # without one as second payments, so only these are export duplicates.
            timed = np.flatnonzero(_timed(cols["paid_at"]))
            src = (
                timed[np.minimum(np.searchsorted(timed, src), timed.size - 1)]
                if timed.size
                else src[:0]
            )
        if kind == "duplicate":
            # After the original, so the loader keeps the first and rejects the copy.
            key = src + 0.5 + np.floor(rng.random(per_kind)[: src.size] * (n - src))
        else:
            key = np.floor(rng.random(per_kind) * (n + 1)) - 0.5
        src_parts.append(src)
        key_parts.append(key)
        kind_parts.append(np.full(src.size, k_i))
    src = np.concatenate(src_parts)
    kind_of = np.concatenate(kind_parts)
    keys = np.concatenate([np.arange(n, dtype=float), np.concatenate(key_parts)])
    order = np.argsort(keys, kind="stable")
    take = np.concatenate([np.arange(n), src])[order]
    position = np.empty(order.size, dtype=np.int64)
    position[order] = np.arange(order.size)

    values = {}
    out = {c: arr.take(pa.array(take)) for c, arr in cols.items()}
    rows = position[n:]  # final row of each defect
    for k_i, (kind, (column, reason)) in enumerate(kinds.items()):
        sel = np.flatnonzero(kind_of == k_i)
        at = rows[sel]
        if kind == "duplicate":
            if name == "customers":
                text = (
                    out["customer_id"].take(pa.array(at)).to_numpy(zero_copy_only=False)
                )
            else:
                first = position[src[sel]] + 2
                text = np.char.add("same as line ", first.astype(str))
            values[k_i] = (at, column, text, reason, kind)
            continue
        bad = np.asarray(_BAD_VALUES[kind], dtype=object)
        if kind == "bad_date" and name == "bills":
            column = ["issued_on", "due_on"][int(rng.integers(0, 2))]
        text = bad[rng.integers(0, bad.size, size=sel.size)]
        if kind == "negative_amount" and name == "payments":
            # Two negative copies of one row with a time of day are one row twice:
            # the second is a duplicate (negatives are looked at after the
            # duplicate check).
            frame = pd.DataFrame({"src": src[sel], "text": text, "at": at})
            frame = frame.sort_values("at", kind="stable")
            twin = (
                frame.duplicated(["src", "text"]).to_numpy()
                & _timed(cols["paid_at"])[frame["src"].to_numpy()]
            )
            if twin.any():
                first = frame.groupby(["src", "text"])["at"].transform("min")
                dup_at = frame["at"].to_numpy()[twin]
                dup_text = np.char.add(
                    "same as line ", (first.to_numpy()[twin] + 2).astype(str)
                )
                values[f"{k_i}dup"] = (
                    dup_at,
                    "",
                    dup_text,
                    S.DUPLICATE_ROW,
                    "duplicate",
                )
                keep = ~np.isin(at, dup_at)
                values[k_i] = (at[keep], column, text[keep], reason, kind)
            else:
                values[k_i] = (at, column, text, reason, kind)
        else:
            values[k_i] = (at, column, text, reason, kind)
        # Write the defective values into their rows (replace_with_mask fills the
        # masked rows in order, so sort the rows first).
        order = np.argsort(at)
        mask = np.zeros(len(out[column]), dtype=bool)
        mask[at] = True
        out[column] = pc.replace_with_mask(
            out[column],
            pa.array(mask),
            pa.array(text[order].astype(str), type=pa.string()),
        )
    parts = [
        pd.DataFrame(
            {
                "line": at + 2,
                "column": column,
                "value": text,
                "reason": reason,
                "kind": kind,
            }
        )
        for at, column, text, reason, kind in values.values()
    ]
    ledger = pd.concat(parts, ignore_index=True)
    return out, _natural_duplicates(name, out, ledger, injected=rows)


def _natural_duplicates(name, cols, ledger, injected=()):
    """Good rows that repeat an earlier row exactly are rejected too: record them."""
    names = ["customer_id"] if name == "customers" else list(cols)
    dup = _duplicated_rows(pa.table({c: cols[c] for c in names}))
    known = np.zeros(len(cols["customer_id"]), dtype=bool)
    known[np.asarray(injected, dtype=np.int64)] = True
    # Rows already rejected for a missing id are not charged again.
    if name != "customers":
        blank = pc.equal(pc.utf8_trim_whitespace(cols["customer_id"]), "")
        known |= blank.to_numpy(zero_copy_only=False)
    extra = dup[~known[dup]]
    if name == "payments":
        # A repeat without a time of day is a second payment that day: the loader
        # keeps it (and counts it), so it is no defect.
        timed = _timed(cols["paid_at"])
        if len(ledger):
            rows = ledger["line"].to_numpy(dtype=np.int64) - 2
            kept = (ledger["reason"] == S.DUPLICATE_ROW).to_numpy() & ~timed[rows]
            ledger = ledger[~kept]
        extra = extra[timed[extra]]
    if not extra.size:
        return ledger.sort_values("line", ignore_index=True)
    column, reason = DEFECT_KINDS[name]["duplicate"]
    add = pd.DataFrame(
        {
            "line": extra + 2,
            "column": column,
            "value": "(generated twice)",
            "reason": reason,
            "kind": "natural_duplicate",
        }
    )
    return pd.concat([ledger, add], ignore_index=True).sort_values(
        "line", ignore_index=True
    )


def _timed(paid_at) -> np.ndarray:
    """Rows whose payment time text has a time of day (not midnight)."""
    return pc.match_substring_regex(paid_at, r"\d:\d").to_numpy(
        zero_copy_only=False
    ) & ~pc.match_substring_regex(paid_at, r" 0?0:00(:00)?$").to_numpy(
        zero_copy_only=False
    )


def _duplicated_rows(table: pa.Table) -> np.ndarray:
    """Positions of rows equal to an earlier row.

    Each column is dictionary-encoded (one hash pass in Arrow) and the codes are mixed
    into one 64-bit key per row; only rows whose key repeats (true duplicates and the
    rare hash collision) are compared exactly, with pandas.
    """
    n = table.num_rows
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for name in table.column_names:
            codes = pc.dictionary_encode(table[name]).combine_chunks().indices
            codes = codes.to_numpy(zero_copy_only=False).astype(np.uint64)
            key = key * np.uint64(1_000_003) + codes + np.uint64(1)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    same = np.zeros(n, dtype=bool)
    same[1:] = sk[1:] == sk[:-1]
    same[:-1] |= sk[:-1] == sk[1:]
    cand = np.sort(order[same])
    if not cand.size:
        return np.zeros(0, dtype=np.int64)
    sub = table.take(pa.array(cand)).to_pandas()
    return cand[sub.duplicated().to_numpy()]


def _write_table(table: pa.Table, path: Path, format: str, encoding: str) -> None:
    if format == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
        return
    import pyarrow.csv as pacsv

    opts = pacsv.WriteOptions(quoting_style="needed")
    if encoding == "utf-8":
        pacsv.write_csv(table, path, write_options=opts)
        return
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, write_options=opts)
    text = sink.getvalue().to_pybytes().decode("utf-8")
    with open(path, "w", encoding=encoding, newline="") as fh:
        fh.write(text)
