"""Write the corpus of issue 14: odd payment exports, each with a sidecar of the truth.

``write(folder)`` writes every case into ``folder/<case>/`` (the input files) and
``folder/<case>.truth.json`` (what was written). It imports nothing from payseg, so
the truth does not depend on the code under test, and it is deterministic: every
case draws from its own ``random.Random(case id)``, workbooks get fixed zip times.

The sidecar of a case::

    {
      "case": "tz_csv_plus0800",          # id, also the folder name
      "covers": "time zones",             # the item of issue 14 it covers
      "args": {"payments": ARG, "bills": ARG},   # how to call payseg.load
      "kwargs": {"id_width": "x"},        # extra keyword arguments (JSON values)
      "raises": "never" | "may" | "must", # may/must load raise PaymentDataError?
      "error_names": "file.csv" | null,   # a PaymentDataError must name this
      "warn": null | "file" | "top_reason",  # a warning must name the file
                                             # (and the most frequent ledger reason)
      "summary_has": null | [str, ...],   # data.summary() names one of these
      "skip_if_root": false,              # chmod 000 means nothing to root
      "sources": [                        # one per file (or sheet, or DataFrame)
        {"name": "<case>/file.csv" | "@payments", "sheet": null,
         "table": "payments" | "bills",
         "rows": [{"line": 5, "ok": [[id, paid_at, amount, channel]],
                   "reject": false, "column": null, "reason_has": null}, ...]}
      ]
    }

``ARG`` is one of ``{"path": rel}``, ``{"pathlib": rel}``, ``{"paths": [rel, ...]}``,
``{"glob": rel}``, ``{"bytes_path": rel}``, ``{"pickle": rel}`` (a pickled
DataFrame) or ``{"literal": value}``; ``rel`` is relative to ``folder``.

``rows`` lists every row written (data rows and the title, total, blank and
repeated-header lines a loader must put in the ledger) at its physical 1-based line
(DataFrame and Parquet rows: position + 2). ``ok`` are the acceptable kept values
(payments: customer_id, paid_at as ISO local Asia/Shanghai time, amount in yuan,
channel text or null; bills: customer_id, period "YYYY-MM", amount_due); an empty
``ok`` means the row must be rejected, ``reject`` true means a rejection is
acceptable, ``column`` / ``reason_has`` constrain the ledger entry.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["case_ids", "write"]

CHANNELS = ("支付宝", "微信", "网上国网", "银行代扣", "营业厅柜台")
HEADER = ("户号", "缴费时间", "缴费方式", "实收金额")
ISO = "%Y-%m-%d %H:%M:%S"
SHANGHAI = dt.timedelta(hours=8)

_REGISTRY: dict[str, tuple[str, Callable]] = {}


def case_ids() -> list[str]:
    """Ids of every case, in writing order (no file is written)."""
    return list(_REGISTRY)


def covers(case_id: str) -> str:
    return _REGISTRY[case_id][0]


def write(folder, ids=None) -> list[str]:
    """Write the cases ``ids`` (default: all) into ``folder``; return their ids."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ids = case_ids() if ids is None else list(ids)
    for cid in ids:
        topic, build = _REGISTRY[cid]
        c = Case(folder, cid, topic)
        build(c)
        c.save()
    return ids


def _register(cid: str, topic: str, build: Callable) -> None:
    cid = re.sub(r"[^0-9A-Za-z_]+", "_", cid).strip("_")
    if cid in _REGISTRY:
        raise ValueError(f"duplicate case id {cid}")
    _REGISTRY[cid] = (topic, build)


# ---------------------------------------------------------------------- the truth


class Pay:
    """One payment as written: the values a loader must keep."""

    def __init__(self, cid, at, amount, channel):
        self.id, self.at, self.amount, self.channel = cid, at, amount, channel

    def ok(self, **change):
        vals = {
            "id": self.id,
            "at": self.at,
            "amount": self.amount,
            "channel": self.channel,
            **change,
        }
        at = vals["at"]
        return [
            vals["id"],
            at.isoformat() if at is not None else None,
            vals["amount"],
            vals["channel"],
        ]

    def cells(self, at=None, amount=None, channel=None, cid=None):
        """Cells 户号, 缴费时间, 缴费方式, 实收金额 as text (overrides as given)."""
        return [
            self.id if cid is None else cid,
            self.at.strftime(ISO) if at is None else at,
            (self.channel or "") if channel is None else channel,
            f"{self.amount:.2f}" if amount is None else amount,
        ]


def K(*alts):
    """Must be kept with one of these value lists."""
    return {"ok": [a.ok() if isinstance(a, Pay) else a for a in alts], "reject": False}


def R(column=None, reason_has=None):
    """Must be rejected (in the ledger at its line)."""
    return {"ok": [], "reject": True, "column": column, "reason_has": reason_has}


def E(*alts, column=None):
    """Kept with one of these values, or rejected."""
    out = K(*alts)
    out.update(reject=True, column=column)
    return out


class Header:
    def __init__(self, cells):
        self.cells = list(cells)


class Row:
    """A row of cells (or raw text / bytes of a CSV line) and its truth."""

    def __init__(self, cells, truth, raw=None):
        self.cells, self.truth, self.raw = cells, truth, raw


def raw(text_or_bytes, truth):
    return Row(None, truth, raw=text_or_bytes)


def title(text, width=4):
    return raw(text + "," * (width - 1), R())


class Case:
    """One corpus input under construction: its folder, random source and truth."""

    def __init__(self, root: Path, cid: str, topic: str):
        self.root, self.id = root, cid
        self.dir = root / cid
        self.dir.mkdir(parents=True, exist_ok=True)
        self.rng = random.Random(cid)
        self._ids: set[str] = set()
        self.truth = {
            "case": cid,
            "covers": topic,
            "args": {},
            "kwargs": {},
            "raises": "never",
            "error_names": None,
            "warn": None,
            "summary_has": None,
            "skip_if_root": False,
            "sources": [],
        }

    # -- names
    def rel(self, name: str) -> str:
        return f"{self.id}/{name}"

    def path(self, name: str) -> Path:
        p = self.dir / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def arg(self, kind="path", value=None, table="payments"):
        self.truth["args"][table] = {kind: value}

    def expect(self, raises=None, error_names=None, warn=None, summary_has=None):
        if raises is not None:
            self.truth["raises"] = raises
        if error_names is not None:
            self.truth["error_names"] = error_names
        if warn is not None:
            self.truth["warn"] = warn
        if summary_has is not None:
            self.truth["summary_has"] = summary_has

    def source(self, name, rows, sheet=None, table="payments"):
        self.truth["sources"].append(
            {"name": name, "sheet": sheet, "table": table, "rows": rows}
        )

    def save(self):
        (self.root / f"{self.id}.truth.json").write_text(
            json.dumps(self.truth, ensure_ascii=True, indent=None), encoding="ascii"
        )

    # -- values
    def new_id(self, digits=10, zeros=2) -> str:
        while True:
            cid = "0" * zeros + str(
                self.rng.randrange(10 ** (digits - zeros - 1), 10 ** (digits - zeros))
            )
            if cid not in self._ids:
                self._ids.add(cid)
                return cid

    def pay(self, channel=True, at=None, amount=None) -> Pay:
        r = self.rng
        if at is None:
            day = dt.datetime(2025, 3, 1) + dt.timedelta(days=r.randrange(60))
            at = day + dt.timedelta(seconds=r.randrange(7 * 3600, 22 * 3600))
        if amount is None:
            amount = r.randrange(500, 60000) / 100
        ch = r.choice(CHANNELS) if channel is True else (channel or None)
        return Pay(self.new_id(), at, amount, ch)

    def pays(self, n, **kw) -> list[Pay]:
        return [self.pay(**kw) for _ in range(n)]

    def rows(self, pays, **fmt) -> list[Row]:
        return [Row(p.cells(**{k: f(p) for k, f in fmt.items()}), K(p)) for p in pays]

    # -- writers
    def csv(
        self,
        name,
        items,
        *,
        encoding="utf-8",
        newline="\n",
        delimiter=",",
        bom=b"",
        table="payments",
        register=True,
        arg=True,
    ):
        """Write a delimited text file; lines are counted on what is written."""
        chunks, rows, line = [], [], 1
        for item in items:
            if isinstance(item, Header):
                text = _join(item.cells, delimiter)
                data = text.encode(encoding)
            elif item.raw is not None:
                data = (
                    item.raw
                    if isinstance(item.raw, bytes)
                    else item.raw.encode(encoding)
                )
                text = item.raw if isinstance(item.raw, str) else None
            else:
                text = _join(item.cells, delimiter)
                data = text.encode(encoding)
            if isinstance(item, Row) and item.truth is not None:
                rows.append({"line": line, **item.truth})
            chunks.append(data)
            n_breaks = (
                _breaks(text) if text is not None else _breaks(data.decode("latin-1"))
            )
            line += n_breaks + 1
        body = newline.encode(encoding).join(chunks) + newline.encode(encoding)
        self.path(name).write_bytes(bom + body)
        if register:
            self.source(self.rel(name), rows, table=table)
        if arg:
            self.arg("path", self.rel(name), table=table)
        return rows

    def xlsx(
        self,
        name,
        items,
        *,
        sheet="Sheet1",
        more_sheets=(),
        table="payments",
        register=True,
        arg=True,
        after=None,
    ):
        """Write a workbook; cells are written as given (str, numbers, dates)."""
        import openpyxl

        wb = openpyxl.Workbook()
        sheets = [(sheet, items), *more_sheets]
        truths = []
        for i, (title_, its) in enumerate(sheets):
            ws = wb.active if i == 0 else wb.create_sheet()
            ws.title = title_
            rows = []
            for r, item in enumerate(its, start=1):
                cells = item.cells if item.cells is not None else [item.raw]
                for col, v in enumerate(cells, start=1):
                    if v is not None and v != "":
                        ws.cell(row=r, column=col, value=v)
                if isinstance(item, Row) and item.truth is not None:
                    rows.append({"line": r, **item.truth})
            if after is not None:
                after(ws, i)
            truths.append((title_, rows))
        path = self.path(name)
        wb.save(path)
        _stable_zip(path)
        if register:
            if len(sheets) == 1:
                self.source(self.rel(name), truths[0][1], table=table)
            else:
                for title_, rows in truths:
                    self.source(self.rel(name), rows, sheet=title_, table=table)
        if arg:
            self.arg("path", self.rel(name), table=table)

    def frame_rows(self, items):
        """(DataFrame-ready rows, truth rows at position + 2) of Row items."""
        header = items[0].cells
        body = list(items[1:])
        rows = [{"line": i + 2, **it.truth} for i, it in enumerate(body)]
        return header, [it.cells for it in body], rows

    def frame(self, name, items, *, table="payments", dtypes=None):
        """Pickle a DataFrame of the rows (strings unless ``dtypes`` say otherwise)."""
        header, body, rows = self.frame_rows(items)
        df = pd.DataFrame(body, columns=header, dtype=object)
        if dtypes:
            for col, dtype in dtypes.items():
                df[col] = df[col].astype(dtype)
        df.to_pickle(self.path(name))
        self.source("@" + table, rows, table=table)
        self.arg("pickle", self.rel(name), table=table)
        return df

    def pickle(self, name, df, rows, table="payments"):
        df.to_pickle(self.path(name))
        self.source("@" + table, rows, table=table)
        self.arg("pickle", self.rel(name), table=table)

    def parquet(self, name, columns: dict, rows, table="payments", arg=True):
        """Write a Parquet file of pyarrow arrays (or lists of str)."""
        arrays = {
            k: v
            if isinstance(v, pa.Array | pa.ChunkedArray)
            else pa.array(v, pa.string())
            for k, v in columns.items()
        }
        pq.write_table(pa.table(arrays), self.path(name))
        self.source(self.rel(name), rows, table=table)
        if arg:
            self.arg("path", self.rel(name), table=table)

    def parquet_rows(self, name, items, table="payments"):
        header, body, rows = self.frame_rows(items)
        cols = {
            h: [None if r[i] is None else str(r[i]) for r in body]
            for i, h in enumerate(header)
        }
        self.parquet(name, cols, rows, table=table)

    def table(self, container, stem, items, table="payments"):
        """Write ``items`` (Header first, then Rows) as csv / xlsx / df / parquet."""
        if container == "csv":
            self.csv(f"{stem}.csv", items, table=table)
        elif container == "xlsx":
            self.xlsx(f"{stem}.xlsx", items, table=table)
        elif container == "df":
            self.frame(f"{stem}.pkl", items, table=table)
        elif container == "parquet":
            self.parquet_rows(f"{stem}.parquet", items, table=table)
        else:
            raise ValueError(container)


def _join(cells, delimiter) -> str:
    out = []
    for v in cells:
        s = "" if v is None else str(v)
        if any(ch in s for ch in (delimiter, '"', "\n", "\r")):
            s = '"' + s.replace('"', '""') + '"'
        out.append(s)
    return delimiter.join(out)


def _breaks(text: str) -> int:
    return len(re.findall(r"\r\n|\r|\n", text))


def _stable_zip(path: Path) -> None:
    """Rewrite a zip with fixed member times and document dates (reproducible)."""
    with zipfile.ZipFile(path) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2025-05-02T08:00:00Z", data
                )
            info = zipfile.ZipInfo(name, date_time=(2025, 5, 2, 8, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    path.write_bytes(buf.getvalue())


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2025, 5, 2, 8, 0, 0)), data)
    return buf.getvalue()


def _std(c: Case, n=4, header=HEADER, **kw) -> list:
    return [Header(header), *c.rows(c.pays(n, **kw))]


def _csv_text(c: Case, n=4) -> tuple[bytes, list]:
    """Bytes of a small good UTF-8 CSV and its truth rows (lines 2..)."""
    pays = c.pays(n)
    text = "\n".join([",".join(HEADER)] + [",".join(p.cells()) for p in pays]) + "\n"
    return text.encode(), [{"line": i + 2, **K(p)} for i, p in enumerate(pays)]


CONTAINERS = ("csv", "xlsx", "df", "parquet")


def _odd_row(container_cases, topic, prefix, values, make):
    """Register ``prefix_<container>_<key>``: 3 good rows, one odd row, one good row.

    ``make(c, key, value) -> (cells, truth)`` builds the odd row.
    """
    for key, value in values.items():
        for container in container_cases:

            def build(c, key=key, value=value, container=container):
                before, after = c.pays(3), c.pays(1)
                cells, truth = make(c, key, value)
                items = [
                    Header(HEADER),
                    *c.rows(before),
                    Row(cells, truth),
                    *c.rows(after),
                ]
                c.table(container, "payments", items)

            _register(f"{prefix}_{container}_{key}", topic, build)


def case(cid, topic):
    def deco(fn):
        _register(cid, topic, fn)
        return fn

    return deco


# ====================================================================== time zones

_TZ_STYLES = {
    # key: (writer of the text from local time, acceptable to reject?)
    "plus0800_T": (lambda at: at.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00", False),
    "plus0800_space": (lambda at: at.strftime(ISO) + "+08:00", False),
    "zulu": (lambda at: (at - SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S") + "Z", False),
    "plus0800_compact": (lambda at: at.strftime("%Y-%m-%dT%H:%M:%S") + "+0800", False),
    "plus0900": (
        lambda at: (
            (at + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S") + "+09:00"
        ),
        False,
    ),
    "minus0500": (
        lambda at: (
            (at - dt.timedelta(hours=13)).strftime("%Y-%m-%dT%H:%M:%S") + "-05:00"
        ),
        False,
    ),
    "millis_plus0800": (
        lambda at: at.strftime("%Y-%m-%dT%H:%M:%S") + ".000+08:00",
        False,
    ),
    "utc_word": (lambda at: (at - SHANGHAI).strftime(ISO) + " UTC", True),
}


def _tz_build(style, mixed):
    fmt, may_reject = _TZ_STYLES[style]

    def build(c, container):
        pays = c.pays(6)
        items = [Header(HEADER)]
        for i, p in enumerate(pays):
            plain = mixed and i % 2 == 0
            text = p.at.strftime(ISO) if plain else fmt(p.at)
            truth = E(p) if may_reject and not plain else K(p)
            items.append(Row(p.cells(at=text), truth))
        c.table(container, "payments", items)

    return build


for _style in _TZ_STYLES:
    for _mixed in (False, True):
        for _container in CONTAINERS:
            if _mixed and _style not in ("plus0800_T", "zulu"):
                continue
            _b = _tz_build(_style, _mixed)
            _register(
                f"tz_{_container}_{_style}{'_mixed' if _mixed else ''}",
                "time zones",
                lambda c, b=_b, k=_container: b(c, k),
            )


def _tz_typed(c, kind, tz):
    pays = c.pays(5)
    stamps = pd.DatetimeIndex([p.at for p in pays]).tz_localize("Asia/Shanghai")
    stamps = stamps.tz_convert(tz)
    rows = [{"line": i + 2, **K(p)} for i, p in enumerate(pays)]
    if kind == "parquet":
        c.parquet(
            "payments.parquet",
            {
                "户号": [p.id for p in pays],
                "缴费时间": pa.array(stamps.to_pydatetime(), pa.timestamp("us", tz=tz)),
                "缴费方式": [p.channel for p in pays],
                "实收金额": pa.array([p.amount for p in pays], pa.float64()),
            },
            rows,
        )
    else:
        df = pd.DataFrame(
            {
                "户号": [p.id for p in pays],
                "缴费时间": stamps,
                "缴费方式": [p.channel for p in pays],
                "实收金额": [p.amount for p in pays],
            }
        )
        c.pickle("payments.pkl", df, rows)


for _kind in ("parquet", "df"):
    for _tz in ("UTC", "Asia/Shanghai", "+08:00", "America/New_York"):
        _register(
            f"tz_typed_{_kind}_{_tz.replace('/', '_').replace('+', 'p').replace(':', '')}",
            "time zones (tz-aware columns)",
            lambda c, k=_kind, t=_tz: _tz_typed(c, k, t),
        )


@case("tz_df_object_mixed_offsets", "time zones (tz-aware columns)")
def _(c):
    pays = c.pays(4)
    zones = [dt.timezone.utc, dt.timezone(SHANGHAI), dt.timezone.utc, None]
    vals = []
    for p, z in zip(pays, zones):
        aware = p.at.replace(tzinfo=dt.timezone(SHANGHAI))
        vals.append(p.at if z is None else aware.astimezone(z))
    df = pd.DataFrame(
        {
            "户号": [p.id for p in pays],
            "缴费时间": pd.Series(vals, dtype=object),
            "缴费方式": [p.channel for p in pays],
            "实收金额": [p.amount for p in pays],
        }
    )
    c.pickle("payments.pkl", df, [{"line": i + 2, **K(p)} for i, p in enumerate(pays)])


@case("tz_df_aware_with_nat", "time zones (tz-aware columns)")
def _(c):
    pays = c.pays(4)
    stamps = pd.DatetimeIndex([p.at for p in pays]).tz_localize("Asia/Shanghai")
    stamps = stamps.tz_convert("UTC").to_series().reset_index(drop=True)
    stamps.iloc[2] = pd.NaT
    df = pd.DataFrame(
        {
            "户号": [p.id for p in pays],
            "缴费时间": stamps,
            "缴费方式": [p.channel for p in pays],
            "实收金额": [p.amount for p in pays],
        }
    )
    rows = [
        {"line": i + 2, **(R("paid_at") if i == 2 else K(p))}
        for i, p in enumerate(pays)
    ]
    c.pickle("payments.pkl", df, rows)


@case("tz_csv_offsets_on_date_only_column", "time zones")
def _(c):
    pays = c.pays(4)
    hdr = ("户号", "缴费日期", "缴费方式", "实收金额")
    items = [Header(hdr)]
    for p in pays:
        q = Pay(p.id, p.at.replace(hour=0, minute=0, second=0), p.amount, p.channel)
        items.append(Row(q.cells(at=q.at.strftime("%Y-%m-%dT00:00:00+08:00")), K(q)))
    c.csv("payments.csv", items)


# ====================================================================== encodings


def _enc_line_case(c, file_enc, line_enc):
    """Five lines in ``file_enc`` and the fourth data line in ``line_enc``."""
    pays = c.pays(6)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        text = ",".join(p.cells())
        if i == 3:
            items.append(raw(text.encode(line_enc), E(p)))
        else:
            items.append(raw(text.encode(file_enc), K(p)))
    c.csv("payments.csv", items, encoding=file_enc)


@case("enc_utf8_file_one_gb18030_line", "encodings")
def _(c):
    _enc_line_case(c, "utf-8", "gb18030")
    c.expect(summary_has=["gb18030", "gbk", "utf-8"])


@case("enc_gb18030_file_one_utf8_line", "encodings")
def _(c):
    _enc_line_case(c, "gb18030", "utf-8")


@case("enc_utf8_bom_file_one_gbk_line", "encodings")
def _(c):
    pays = c.pays(5)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        enc = "gbk" if i == 2 else "utf-8"
        items.append(raw(",".join(p.cells()).encode(enc), E(p) if i == 2 else K(p)))
    c.csv("payments.csv", items, bom=b"\xef\xbb\xbf")


def _name_col_case(c, name_bytes, truth_kind, enc="utf-8"):
    pays = c.pays(5)
    hdr = ("户号", "户名", "缴费时间", "缴费方式", "实收金额")
    items = [Header(hdr)]
    for i, p in enumerate(pays):
        cells = p.cells()
        name = "张三".encode(enc) if i != 2 else name_bytes
        line = cells[0].encode() + b"," + name + b"," + ",".join(cells[1:]).encode(enc)
        items.append(
            raw(line, (E(p) if truth_kind == "either" else R()) if i == 2 else K(p))
        )
    c.csv("payments.csv", items, encoding=enc)


@case("enc_latin1_byte_in_name", "encodings")
def _(c):
    _name_col_case(c, b"M\xfcller", "either")


@case("enc_cp1252_quote_bytes_in_name", "encodings")
def _(c):
    _name_col_case(c, b"\x93Wang\x94", "either")


@case("enc_nul_byte_in_name", "encodings")
def _(c):
    _name_col_case(c, b"Li\x00Si", "either")


@case("enc_latin1_byte_in_gbk_file_name", "encodings")
def _(c):
    _name_col_case(c, b"\xff\xff", "either", enc="gbk")


@case("enc_invalid_utf8_in_id", "encodings")
def _(c):
    pays = c.pays(5)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        if i == 2:
            cells = p.cells()
            line = cells[0][:5].encode() + b"\xff\xfe" + cells[0][5:].encode()
            line += ("," + ",".join(cells[1:])).encode()
            items.append(raw(line, R()))
        else:
            items.append(Row(p.cells(), K(p)))
    c.csv("payments.csv", items)


@case("enc_invalid_utf8_in_amount", "encodings")
def _(c):
    pays = c.pays(5)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        if i == 1:
            cells = p.cells()
            line = ",".join(cells[:3]).encode() + b",\xa3" + cells[3].encode()
            items.append(raw(line, E(p)))
        else:
            items.append(Row(p.cells(), K(p)))
    c.csv("payments.csv", items)


for _enc, _bom, _delim in (
    ("utf-16-be", b"", ","),
    ("utf-16-le", b"", ","),
    ("utf-16-be", b"\xfe\xff", "\t"),
    ("utf-16-le", b"\xff\xfe", "\t"),
):

    def _utf16(c, enc=_enc, bom=_bom, delim=_delim):
        c.csv("payments.csv", _std(c, 5), encoding=enc, bom=bom, delimiter=delim)

    _register(
        f"enc_{_enc.replace('-', '')}_{'bom' if _bom else 'nobom'}"
        f"_{'tab' if _delim == chr(9) else 'comma'}",
        "encodings",
        _utf16,
    )


@case("enc_gb18030_line_past_first_mb", "encodings")
def _(c):
    pays = c.pays(26000, channel="网上国网")
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        if i == 25500:
            items.append(raw(",".join(p.cells()).encode("gb18030"), E(p)))
        else:
            items.append(Row(p.cells(), K(p)))
    c.csv("payments.csv", items)


@case("enc_file_cut_inside_a_character", "encodings")
def _(c):
    pays = c.pays(4)
    items = [Header(HEADER), *c.rows(pays[:3])]
    last = ",".join(pays[3].cells()).encode() + b",\xe6\x94"
    items.append(raw(last, E(pays[3])))
    c.csv("payments.csv", items)


@case("enc_gbk_crlf_with_title_total_footer", "encodings (real exports)")
def _(c):
    pays = c.pays(4)
    hdr = ("序号", "户号", "户名", "缴费日期", "缴费方式", "实收金额")
    items = [
        title("国网XX县供电公司2025年4月电费实收明细表", 6),
        title("制表日期：2025-05-02", 6),
        Header(hdr),
    ]
    for i, p in enumerate(pays):
        q = Pay(p.id, p.at.replace(hour=0, minute=0, second=0), p.amount, p.channel)
        items.append(
            Row(
                [
                    str(i + 1),
                    q.id,
                    "张三",
                    q.at.strftime("%Y-%m-%d"),
                    q.channel,
                    f"{q.amount:,.2f}",
                ],
                K(q),
            )
        )
    total = sum(p.amount for p in pays)
    items.append(Row(["", "合计", "", "", "", f"{total:,.2f}"], R()))
    items.append(Row(["制表人：张会计", "", "", "", "审核人：李主任", ""], R()))
    c.csv("实收明细.csv", items, encoding="gbk", newline="\r\n")
    c.expect(summary_has=["gbk", "gb18030", "gb2312"])


@case("enc_cr_only_newlines", "encodings")
def _(c):
    c.csv("payments.csv", _std(c, 5), newline="\r")


@case("enc_mixed_crlf_and_lf", "encodings")
def _(c):
    pays = c.pays(5)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        text = ",".join(p.cells()) + ("\r" if i % 2 else "")
        items.append(
            raw(text.replace("\r", ""), K(p)) if not i % 2 else raw(text[:-1], K(p))
        )
    c.csv("payments.csv", items, newline="\r\n")


@case("enc_gbk_header_utf8_rows", "encodings")
def _(c):
    pays = c.pays(4)
    items = [raw(",".join(HEADER).encode("gbk"), None)]
    items += [raw(",".join(p.cells()).encode("utf-8"), E(p)) for p in pays]
    c.csv("payments.csv", items)


# ====================================================================== huge cells


def _huge(c, size, at_row, n=5):
    pays = c.pays(n)
    hdr = ("户号", "缴费时间", "缴费方式", "实收金额", "备注")
    items = [Header(hdr)]
    for i, p in enumerate(pays):
        note = "备" * (size // 3) if i == at_row else "无"
        items.append(Row([*p.cells(), note], E(p) if i == at_row else K(p)))
    c.csv("payments.csv", items)


_register(
    "huge_2mib_cell_first_data_row",
    "huge cells / rows lost",
    lambda c: _huge(c, 2 << 20, 0),
)
_register("huge_4mib_cell_third_row", "huge cells", lambda c: _huge(c, 4 << 20, 2))


@case("huge_600_columns", "huge cells")
def _(c):
    pays = c.pays(4)
    hdr = [*HEADER, *(f"备注{i}" for i in range(600))]
    items = [Header(hdr)] + [Row([*p.cells(), *["x"] * 600], K(p)) for p in pays]
    c.csv("payments.csv", items)


@case("huge_100k_id_cell", "huge cells")
def _(c):
    pays = c.pays(4)
    items = [
        Header(HEADER),
        *c.rows(pays[:2]),
        Row(
            pays[2].cells(cid="1" * 100_000),
            E(pays[2].ok(id="1" * 100_000), column="customer_id"),
        ),
        *c.rows(pays[3:]),
    ]
    c.csv("payments.csv", items)


# ============================================================ disguised / broken files


def _disguised(name, make, raises="must", rows_from=None):
    def build(c):
        data, rows = make(c)
        c.path(name).write_bytes(data)
        c.arg("path", c.rel(name))
        c.expect(raises=raises, error_names=Path(name).name)
        if rows is not None:
            c.source(c.rel(name), rows)

    return build


def _zip_of_csv(c):
    data, rows = _csv_text(c)
    return _zip_bytes({"payments.csv": data}), None


def _gzip_of_csv(c):
    data, rows = _csv_text(c)
    return gzip.compress(data, mtime=0), rows


def _parquet_bytes(c):
    pays = c.pays(4)
    buf = io.BytesIO()
    pq.write_table(
        pa.table(
            {
                "户号": [p.id for p in pays],
                "缴费时间": [p.at.strftime(ISO) for p in pays],
                "缴费方式": [p.channel for p in pays],
                "实收金额": [f"{p.amount:.2f}" for p in pays],
            }
        ),
        buf,
    )
    return buf.getvalue(), [{"line": i + 2, **K(p)} for i, p in enumerate(pays)]


def _random_bytes(c):
    return bytes(c.rng.randrange(256) for _ in range(4096)), None


def _docx(c):
    return _zip_bytes(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
            "word/document.xml": "<w:document>缴费通知</w:document>".encode(),
        }
    ), None


def _xlsx_bytes(c, truncate=None):
    import openpyxl

    pays = c.pays(4)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(HEADER))
    for p in pays:
        ws.append(p.cells())
    path = c.path("_tmp.xlsx")
    wb.save(path)
    _stable_zip(path)
    data = path.read_bytes()
    path.unlink()
    rows = [{"line": i + 2, **K(p)} for i, p in enumerate(pays)]
    return (data[:truncate] if truncate else data), rows


for _name, _make, _raises in (
    ("zip_named.csv", _zip_of_csv, "must"),
    ("gzip_named.csv", _gzip_of_csv, "may"),
    ("parquet_named.csv", _parquet_bytes, "may"),
    ("random_bytes.csv", _random_bytes, "must"),
    ("random_bytes.xlsx", _random_bytes, "must"),
    ("random_bytes.parquet", _random_bytes, "must"),
    ("zip_of_csv_named.xlsx", _zip_of_csv, "must"),
    ("docx_named.xlsx", _docx, "must"),
    ("xlsx_named.csv", lambda c: _xlsx_bytes(c), "may"),
    ("truncated.xlsx", lambda c: (_xlsx_bytes(c, truncate=1500)[0], None), "must"),
    (
        "truncated_middle.xlsx",
        lambda c: (_xlsx_bytes(c, truncate=4000)[0], None),
        "must",
    ),
    ("csv_named.parquet", lambda c: _csv_text(c), "may"),
    ("truncated.parquet", lambda c: (_parquet_bytes(c)[0][:300], None), "must"),
    (
        "pdf_named.csv",
        lambda c: (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" * 20, None),
        "must",
    ),
    (
        "png_named.csv",
        lambda c: (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, None),
        "must",
    ),
    ("empty.csv", lambda c: (b"", None), "must"),
    ("empty.xlsx", lambda c: (b"", None), "must"),
    ("empty.parquet", lambda c: (b"", None), "must"),
    ("only_bom.csv", lambda c: (b"\xef\xbb\xbf", None), "must"),
    (
        "html_named.csv",
        lambda c: (b"<html><body><p>login expired</p></body></html>", None),
        "must",
    ),
):
    _register(
        "file_" + _name.replace(".", "_"),
        "disguised or broken files",
        _disguised(_name, _make, _raises),
    )


@case("file_header_only_csv", "disguised or broken files / nothing kept")
def _(c):
    c.csv("payments.csv", [Header(HEADER)])
    c.expect(raises="may", error_names="payments.csv")


@case("file_missing_required_column", "disguised or broken files")
def _(c):
    pays = c.pays(3)
    c.csv(
        "payments.csv",
        [Header(HEADER[:3]), *[Row(p.cells()[:3], R()) for p in pays]],
        register=False,
    )
    c.expect(raises="must", error_names="payments.csv")


@case("file_not_found", "disguised or broken files")
def _(c):
    c.arg("path", c.rel("no_such_file.csv"))
    c.expect(raises="must", error_names="no_such_file.csv")


@case("file_unreadable_chmod_000", "disguised or broken files")
def _(c):
    data, _rows = _csv_text(c)
    p = c.path("locked.csv")
    p.write_bytes(data)
    p.chmod(0)
    c.arg("path", c.rel("locked.csv"))
    c.expect(raises="must", error_names="locked.csv")
    c.truth["skip_if_root"] = True


_GBK_NAME = "缴费".encode("gbk").decode("utf-8", "surrogateescape") + ".csv"


@case("file_non_utf8_name", "disguised or broken files")
def _(c):
    data, rows = _csv_text(c)
    c.path(_GBK_NAME).write_bytes(data)
    c.arg("path", c.rel(_GBK_NAME))
    c.source(c.rel(_GBK_NAME), rows)
    c.expect(raises="may", error_names=_GBK_NAME)


@case("folder_non_utf8_name", "disguised or broken files")
def _(c):
    data, rows = _csv_text(c)
    c.path(_GBK_NAME).write_bytes(data)
    c.arg("path", c.id)
    c.source(c.rel(_GBK_NAME), rows)
    c.expect(raises="may", error_names=_GBK_NAME)


def _good_csv(c, name):
    data, rows = _csv_text(c)
    c.path(name).write_bytes(data)
    c.source(c.rel(name), rows)


@case("folder_with_lock_file", "disguised or broken files (folders)")
def _(c):
    _good_csv(c, "2025-03.csv")
    c.xlsx("2025-04.xlsx", _std(c, 3), arg=False)
    # Excel's owner file: 165 bytes, the user name, not a workbook.
    c.path("~$2025-04.xlsx").write_bytes(b"\x05zhang" + b"\x00" * 48 + b" " * 112)
    c.arg("path", c.id)


@case("folder_with_sub_folder", "disguised or broken files (folders)")
def _(c):
    _good_csv(c, "2025-03.csv")
    data, _ = _csv_text(c)
    c.path("旧数据/2024-12.csv").write_bytes(data)
    c.arg("path", c.id)


@case("folder_with_sub_folder_named_csv", "disguised or broken files (folders)")
def _(c):
    _good_csv(c, "2025-03.csv")
    data, _ = _csv_text(c)
    c.path("backup.csv/2024-12.csv").write_bytes(data)
    c.arg("path", c.id)


@case("glob_matching_a_sub_folder", "disguised or broken files (folders)")
def _(c):
    _good_csv(c, "2025-03.csv")
    data, _ = _csv_text(c)
    c.path("2025-old/2024-12.csv").write_bytes(data)
    c.arg("glob", c.id + "/2025*")


@case("folder_with_lock_file_and_os_junk", "disguised or broken files (folders)")
def _(c):
    _good_csv(c, "payments.csv")
    c.path("~$payments.xlsx").write_bytes(b"\x04wang" + b"\x00" * 50)
    c.path(".~lock.payments.csv#").write_bytes(b"wang,host,2025")
    c.path(".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + b"\x00" * 60)
    c.path("desktop.ini").write_bytes(b"[.ShellClassInfo]\r\n")
    c.arg("path", c.id)


@case("folder_of_three_months", "real exports (folders)")
def _(c):
    for m in ("2025-02.csv", "2025-03.csv", "2025-04.csv"):
        _good_csv(c, m)
    c.arg("path", c.id)


@case("folder_empty", "disguised or broken files (folders)")
def _(c):
    c.path("readme.txt.bak").write_bytes(b"nothing")
    c.arg("path", c.id)
    c.expect(raises="must", error_names=c.id)


@case("folder_with_one_broken_file", "disguised or broken files (folders)")
def _(c):
    _good_csv(c, "2025-03.csv")
    c.path("2025-04.csv").write_bytes(_zip_bytes({"x.csv": b"a,b\n"}))
    c.arg("path", c.id)
    c.expect(raises="must", error_names="2025-04.csv")


@case("list_of_paths_csv_and_xlsx", "real exports (folders)")
def _(c):
    _good_csv(c, "a.csv")
    c.xlsx("b.xlsx", _std(c, 3), arg=False)
    c.arg("paths", [c.rel("a.csv"), c.rel("b.xlsx")])


@case("pathlib_path", "API inputs")
def _(c):
    _good_csv(c, "payments.csv")
    c.arg("pathlib", c.rel("payments.csv"))


@case("bytes_path", "API inputs")
def _(c):
    _good_csv(c, "payments.csv")
    c.arg("bytes_path", c.rel("payments.csv"))
    c.expect(raises="may")


# ====================================================================== typed / API


def _typed_frame(c, id_values, id_truth, dtype=None):
    pays = c.pays(len(id_values))
    ids = pd.Series(id_values, dtype=dtype)
    df = pd.DataFrame(
        {
            "户号": ids,
            "缴费时间": [p.at.strftime(ISO) for p in pays],
            "缴费方式": [p.channel for p in pays],
            "实收金额": [p.amount for p in pays],
        }
    )
    rows = []
    for i, (p, t) in enumerate(zip(pays, id_truth)):
        rows.append(
            {"line": i + 2, **(R("customer_id") if t is None else K(p.ok(id=t)))}
        )
    return df, rows


@case("typed_df_float_ids_with_fraction", "typed and API inputs")
def _(c):
    df, rows = _typed_frame(
        c, [12345601.0, 12345602.5, 12345603.0], ["12345601", None, "12345603"]
    )
    c.pickle("payments.pkl", df, rows)


@case("typed_df_float_ids_whole", "typed and API inputs")
def _(c):
    df, rows = _typed_frame(
        c, [12345601.0, 12345602.0, np.nan], ["12345601", "12345602", None]
    )
    c.pickle("payments.pkl", df, rows)


@case("typed_df_int_ids", "typed and API inputs")
def _(c):
    df, rows = _typed_frame(
        c,
        [12345601, 12345602, 12345603],
        ["12345601", "12345602", "12345603"],
        dtype="int64",
    )
    c.pickle("payments.pkl", df, rows)


@case("typed_df_nullable_int_ids", "typed and API inputs")
def _(c):
    df, rows = _typed_frame(
        c, [12345601, None, 12345603], ["12345601", None, "12345603"], dtype="Int64"
    )
    c.pickle("payments.pkl", df, rows)


@case("typed_df_object_ids_mixed_int_float_str", "typed and API inputs")
def _(c):
    df, rows = _typed_frame(
        c,
        [12345601, 12345602.5, "0012345603", None],
        ["12345601", None, "0012345603", None],
        dtype=object,
    )
    c.pickle("payments.pkl", df, rows)


@case("typed_parquet_float_ids_with_fraction", "typed and API inputs")
def _(c):
    pays = c.pays(3)
    c.parquet(
        "payments.parquet",
        {
            "户号": pa.array([12345601.0, 12345602.5, 12345603.0]),
            "缴费时间": [p.at.strftime(ISO) for p in pays],
            "缴费方式": [p.channel for p in pays],
            "实收金额": pa.array([p.amount for p in pays]),
        },
        [
            {"line": 2, **K(pays[0].ok(id="12345601"))},
            {"line": 3, **R("customer_id")},
            {"line": 4, **K(pays[2].ok(id="12345603"))},
        ],
    )


def _parquet_years(c, unit):
    pays = c.pays(4)
    stamps = [p.at for p in pays]
    stamps[1] = dt.datetime(1, 1, 1)
    stamps[2] = dt.datetime(9999, 12, 31, 23, 59, 59)
    c.parquet(
        "payments.parquet",
        {
            "户号": [p.id for p in pays],
            "缴费时间": pa.array(stamps, pa.timestamp(unit)),
            "缴费方式": [p.channel for p in pays],
            "实收金额": pa.array([p.amount for p in pays]),
        },
        [
            {"line": i + 2, **(R("paid_at") if i in (1, 2) else K(p))}
            for i, p in enumerate(pays)
        ],
    )


_register(
    "typed_parquet_timestamp_us_year_1_and_9999",
    "typed and API inputs",
    lambda c: _parquet_years(c, "us"),
)
_register(
    "typed_parquet_timestamp_ms_year_1_and_9999",
    "typed and API inputs",
    lambda c: _parquet_years(c, "ms"),
)


@case("typed_parquet_date32_paid_on", "typed and API inputs")
def _(c):
    pays = [
        Pay(p.id, p.at.replace(hour=0, minute=0, second=0), p.amount, p.channel)
        for p in c.pays(4)
    ]
    c.parquet(
        "payments.parquet",
        {
            "户号": [p.id for p in pays],
            "缴费日期": pa.array([p.at.date() for p in pays], pa.date32()),
            "缴费方式": [p.channel for p in pays],
            "实收金额": pa.array([p.amount for p in pays]),
        },
        [{"line": i + 2, **K(p)} for i, p in enumerate(pays)],
    )


@case("typed_parquet_timestamp_ns_and_int_ids", "typed and API inputs")
def _(c):
    pays = c.pays(4)
    c.parquet(
        "payments.parquet",
        {
            "户号": pa.array([int(p.id) for p in pays], pa.int64()),
            "缴费时间": pa.array([p.at for p in pays], pa.timestamp("ns")),
            "缴费方式": pa.array([p.channel for p in pays]).dictionary_encode(),
            "实收金额": pa.array([p.amount for p in pays], pa.float32()).cast(
                pa.float64()
            ),
        },
        [{"line": i + 2, **K(p.ok(id=str(int(p.id))))} for i, p in enumerate(pays)],
    )


@case("typed_parquet_large_string_and_decimal", "typed and API inputs")
def _(c):
    import decimal

    pays = c.pays(4)
    c.parquet(
        "payments.parquet",
        {
            "户号": pa.array([p.id for p in pays], pa.large_string()),
            "缴费时间": pa.array([p.at.strftime(ISO) for p in pays], pa.large_string()),
            "缴费方式": [p.channel for p in pays],
            "实收金额": pa.array(
                [decimal.Decimal(f"{p.amount:.2f}") for p in pays], pa.decimal128(12, 2)
            ),
        },
        [{"line": i + 2, **K(p)} for i, p in enumerate(pays)],
    )


@case("typed_parquet_list_ids", "values misread")
def _(c):
    pays = c.pays(4)
    ids = [[p.id] for p in pays]
    ids[1] = [1, 2]
    ids = [[str(x) for x in v] for v in ids]
    c.parquet(
        "payments.parquet",
        {
            "户号": pa.array(ids, pa.list_(pa.string())),
            "缴费时间": [p.at.strftime(ISO) for p in pays],
            "缴费方式": [p.channel for p in pays],
            "实收金额": pa.array([p.amount for p in pays]),
        },
        [{"line": i + 2, **R("customer_id")} for i, p in enumerate(pays)],
    )
    c.expect(raises="may", error_names="payments.parquet")


@case("typed_parquet_struct_ids", "values misread")
def _(c):
    pays = c.pays(3)
    c.parquet(
        "payments.parquet",
        {
            "户号": pa.array([{"a": p.id} for p in pays]),
            "缴费时间": [p.at.strftime(ISO) for p in pays],
            "缴费方式": [p.channel for p in pays],
            "实收金额": pa.array([p.amount for p in pays]),
        },
        [{"line": i + 2, **R("customer_id")} for i, p in enumerate(pays)],
    )
    c.expect(raises="may", error_names="payments.parquet")


def _parquet_amounts(c, values, truths):
    pays = c.pays(len(values))
    c.parquet(
        "payments.parquet",
        {
            "户号": [p.id for p in pays],
            "缴费时间": [p.at.strftime(ISO) for p in pays],
            "缴费方式": [p.channel for p in pays],
            "实收金额": pa.array(values, pa.float64()),
        },
        [
            {"line": i + 2, **(t(p) if callable(t) else K(p.ok(amount=v)))}
            for i, (p, v, t) in enumerate(zip(pays, values, truths))
        ],
    )


_register(
    "typed_parquet_inf_amounts",
    "values misread",
    lambda c: _parquet_amounts(
        c,
        [12.5, float("inf"), -float("inf"), 30.0],
        [None, lambda p: R("amount"), lambda p: R("amount"), None],
    ),
)
_register(
    "typed_parquet_nan_and_negative_zero_amounts",
    "values misread",
    lambda c: _parquet_amounts(
        c,
        [12.5, float("nan"), -0.0, 30.0],
        [None, lambda p: R("amount"), lambda p: E(p.ok(amount=0.0)), None],
    ),
)


@case("typed_df_inf_amounts", "values misread")
def _(c):
    pays = c.pays(4)
    amounts = [10.0, np.inf, 1e308 * 10, 20.0]
    df = pd.DataFrame(
        {
            "户号": [p.id for p in pays],
            "缴费时间": [p.at.strftime(ISO) for p in pays],
            "缴费方式": [p.channel for p in pays],
            "实收金额": amounts,
        }
    )
    c.pickle(
        "payments.pkl",
        df,
        [
            {"line": 2, **K(pays[0].ok(amount=10.0))},
            {"line": 3, **R("amount")},
            {"line": 4, **R("amount")},
            {"line": 5, **K(pays[3].ok(amount=20.0))},
        ],
    )


@case("typed_df_datetime_year_1_object", "typed and API inputs")
def _(c):
    pays = c.pays(3)
    stamps = pd.Series([pays[0].at, dt.datetime(1, 1, 1), pays[2].at], dtype=object)
    df = pd.DataFrame(
        {
            "户号": [p.id for p in pays],
            "缴费时间": stamps,
            "缴费方式": [p.channel for p in pays],
            "实收金额": [p.amount for p in pays],
        }
    )
    c.pickle(
        "payments.pkl",
        df,
        [
            {"line": 2, **K(pays[0])},
            {"line": 3, **R("paid_at")},
            {"line": 4, **K(pays[2])},
        ],
    )


@case("typed_df_datetime_us_year_9999", "typed and API inputs")
def _(c):
    pays = c.pays(3)
    stamps = pd.Series(
        np.array(
            [pays[0].at, dt.datetime(9999, 12, 31), pays[2].at], dtype="datetime64[us]"
        )
    )
    df = pd.DataFrame(
        {
            "户号": [p.id for p in pays],
            "缴费时间": stamps,
            "缴费方式": [p.channel for p in pays],
            "实收金额": [p.amount for p in pays],
        }
    )
    c.pickle(
        "payments.pkl",
        df,
        [
            {"line": 2, **K(pays[0])},
            {"line": 3, **R("paid_at")},
            {"line": 4, **K(pays[2])},
        ],
    )


@case("typed_df_python_dates", "typed and API inputs")
def _(c):
    pays = [
        Pay(p.id, p.at.replace(hour=0, minute=0, second=0), p.amount, p.channel)
        for p in c.pays(3)
    ]
    df = pd.DataFrame(
        {
            "户号": [p.id for p in pays],
            "缴费日期": pd.Series([p.at.date() for p in pays], dtype=object),
            "缴费方式": [p.channel for p in pays],
            "实收金额": [p.amount for p in pays],
        }
    )
    c.pickle("payments.pkl", df, [{"line": i + 2, **K(p)} for i, p in enumerate(pays)])


@case("typed_df_categorical_columns", "typed and API inputs")
def _(c):
    pays = c.pays(4)
    df = pd.DataFrame(
        {
            "户号": pd.Categorical([p.id for p in pays]),
            "缴费时间": pd.Categorical([p.at.strftime(ISO) for p in pays]),
            "缴费方式": pd.Categorical([p.channel for p in pays]),
            "实收金额": [p.amount for p in pays],
        }
    )
    c.pickle("payments.pkl", df, [{"line": i + 2, **K(p)} for i, p in enumerate(pays)])


@case("typed_df_bool_and_decimal_amounts", "typed and API inputs")
def _(c):
    import decimal

    pays = c.pays(3)
    df = pd.DataFrame(
        {
            "户号": [p.id for p in pays],
            "缴费时间": [p.at.strftime(ISO) for p in pays],
            "缴费方式": [p.channel for p in pays],
            "实收金额": pd.Series(
                [
                    decimal.Decimal(f"{pays[0].amount:.2f}"),
                    True,
                    f"{pays[2].amount:.2f}",
                ],
                dtype=object,
            ),
        }
    )
    c.pickle(
        "payments.pkl",
        df,
        [
            {"line": 2, **K(pays[0])},
            {"line": 3, **R("amount")},
            {"line": 4, **K(pays[2])},
        ],
    )


@case("typed_df_two_id_columns", "typed and API inputs")
def _(c):
    pays = c.pays(3)
    df = pd.DataFrame(
        [[p.id, p.id[::-1], p.at.strftime(ISO), p.channel, p.amount] for p in pays],
        columns=["户号", "户号", "缴费时间", "缴费方式", "实收金额"],
    )
    c.pickle("payments.pkl", df, [{"line": i + 2, **K(p)} for i, p in enumerate(pays)])
    c.expect(raises="must")


@case("typed_df_two_amount_columns_same_name", "typed and API inputs")
def _(c):
    pays = c.pays(3)
    df = pd.DataFrame(
        [[p.id, p.at.strftime(ISO), p.channel, p.amount, 0.0] for p in pays],
        columns=["户号", "缴费时间", "缴费方式", "实收金额", "实收金额"],
    )
    c.pickle("payments.pkl", df, [{"line": i + 2, **K(p)} for i, p in enumerate(pays)])
    c.expect(raises="must")


@case("typed_df_multiindex_columns", "typed and API inputs")
def _(c):
    pays = c.pays(3)
    df = pd.DataFrame(
        [[p.id, p.at.strftime(ISO), p.channel, p.amount] for p in pays],
        columns=pd.MultiIndex.from_tuples([("基本", h) for h in HEADER]),
    )
    c.pickle("payments.pkl", df, [{"line": i + 2, **K(p)} for i, p in enumerate(pays)])
    c.expect(raises="may")


@case("typed_df_int_column_names", "typed and API inputs")
def _(c):
    pays = c.pays(3)
    df = pd.DataFrame([[p.id, p.at.strftime(ISO), p.channel, p.amount] for p in pays])
    c.pickle("payments.pkl", df, [])
    c.expect(raises="must")


@case("typed_df_empty_with_headers", "typed and API inputs")
def _(c):
    df = pd.DataFrame({h: pd.Series([], dtype=object) for h in HEADER})
    c.pickle("payments.pkl", df, [])
    c.expect(raises="may")


for _cid, _val in (
    ("api_load_none", None),
    ("api_load_int_5", 5),
    ("api_load_float", 2.5),
    ("api_load_dict", {"户号": ["1"]}),
    ("api_load_empty_list", []),
    ("api_load_empty_string", ""),
):

    def _api(c, val=_val):
        c.arg("literal", val)
        c.expect(raises="must")

    _register(_cid, "typed and API inputs", _api)


def _api_kw(kwargs, raises="must"):
    def build(c):
        _good_csv(c, "payments.csv")
        c.arg("path", c.rel("payments.csv"))
        c.truth["kwargs"] = kwargs
        c.expect(raises=raises)

    return build


_register(
    "api_id_width_negative",
    "typed and API inputs",
    _api_kw({"id_width": -3}, raises="may"),
)
for _cid, _kw in (
    ("api_columns_list", {"columns": ["户号"]}),
    ("api_columns_string", {"columns": "户号"}),
    ("api_columns_unknown_target", {"columns": {"户号": "no_such"}}),
    ("api_id_width_text", {"id_width": "x"}),
    ("api_id_width_float", {"id_width": 10.5}),
    ("api_bills_int", {"bills": 5}),
    ("api_customers_none_string", {"customers": "None"}),
):
    _register(_cid, "typed and API inputs", _api_kw(_kw))


@case("api_columns_mapping_override", "typed and API inputs")
def _(c):
    pays = c.pays(4)
    hdr = ("账号", "时间", "渠道", "金额")
    c.csv("payments.csv", [Header(hdr), *c.rows(pays)])
    c.truth["kwargs"] = {
        "columns": {
            "账号": "customer_id",
            "时间": "paid_at",
            "渠道": "channel",
            "金额": "amount",
        }
    }


@case("api_id_width_pads", "typed and API inputs")
def _(c):
    pays = c.pays(3)
    items = [Header(HEADER)] + [Row(p.cells(cid=p.id.lstrip("0")), K(p)) for p in pays]
    c.csv("payments.csv", items)
    c.truth["kwargs"] = {"id_width": 10}


# ====================================================================== date order


def _date_order(
    c,
    fmt_fn,
    container="csv",
    n=8,
    alts=None,
    fixed_days=None,
    warn=None,
    hdr=("户号", "缴费日期", "缴费方式", "实收金额"),
):
    items = [Header(hdr)]
    days = (
        fixed_days
        or [(1, 15), (3, 5), (12, 31), (2, 14), (7, 4), (10, 11), (6, 20), (11, 2)][:n]
    )
    for m, d in days:
        p = c.pay(at=dt.datetime(2013, m, d))
        text = fmt_fn(p.at)
        truth = K(p)
        if alts is not None:
            alt = alts(p.at)
            truth = K(p, p.ok(at=alt)) if alt is not None and alt != p.at else K(p)
        items.append(Row(p.cells(at=text), truth))
    c.table(container, "payments", items)
    if warn:
        c.expect(warn=warn)


def _swap(at):
    try:
        return at.replace(month=at.day, day=at.month)
    except ValueError:
        return None


for _container in ("csv", "xlsx", "df"):
    _register(
        f"dates_us_month_first_{_container}",
        "date order",
        lambda c, k=_container: _date_order(
            c, lambda a: f"{a.month}/{a.day}/{a.year}", k
        ),
    )
    _register(
        f"dates_day_first_{_container}",
        "date order",
        lambda c, k=_container: _date_order(
            c, lambda a: f"{a.day:02d}/{a.month:02d}/{a.year}", k
        ),
    )
_register(
    "dates_day_first_dots",
    "date order",
    lambda c: _date_order(c, lambda a: f"{a.day:02d}.{a.month:02d}.{a.year}"),
)
_register(
    "dates_us_dashes",
    "date order",
    lambda c: _date_order(c, lambda a: f"{a.month:02d}-{a.day:02d}-{a.year}"),
)
_register(
    "dates_us_with_pm_times",
    "date order",
    lambda c: _date_order(
        c,
        lambda a: f"{a.month}/{a.day}/{a.year} 12:00:00 AM",
        hdr=("户号", "缴费时间", "缴费方式", "实收金额"),
    ),
)
_register(
    "dates_ambiguous_column",
    "date order",
    lambda c: _date_order(
        c,
        lambda a: f"{a.month:02d}/{a.day:02d}/{a.year}",
        fixed_days=[(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (2, 1)],
        alts=_swap,
        warn="file",
    ),
)
_register(
    "dates_iso_control",
    "date order",
    lambda c: _date_order(c, lambda a: a.strftime("%Y-%m-%d")),
)


@case("dates_us_2466_rows", "date order")
def _(c):
    items = [Header(("户号", "缴费日期", "缴费方式", "实收金额"))]
    start = dt.datetime(2013, 1, 1)
    for i in range(2466):
        p = c.pay(at=start + dt.timedelta(days=i % 365))
        items.append(Row(p.cells(at=f"{p.at.month}/{p.at.day}/{p.at.year}"), K(p)))
    c.csv("receivables.csv", items)


@case("dates_contradictory_column", "date order")
def _(c):
    items = [Header(("户号", "缴费日期", "缴费方式", "实收金额"))]
    for text, m, d, amb in (
        ("15/01/2013", 1, 15, False),
        ("01/20/2013", 1, 20, False),
        ("02/03/2013", 2, 3, True),
        ("31/12/2013", 12, 31, False),
    ):
        p = c.pay(at=dt.datetime(2013, m, d))
        truth = E(p, p.ok(at=_swap(p.at))) if amb else E(p)
        items.append(Row(p.cells(at=text), truth))
    c.csv("payments.csv", items)


@case("dates_two_digit_year_day_first", "date order")
def _(c):
    items = [Header(("户号", "缴费日期", "缴费方式", "实收金额"))]
    for m, d in ((1, 15), (3, 25), (12, 31)):
        p = c.pay(at=dt.datetime(2013, m, d))
        items.append(Row(p.cells(at=f"{d:02d}/{m:02d}/13"), E(p)))
    c.csv("payments.csv", items)


# ====================================================================== rows lost


@case("lost_unclosed_quote_line_12_of_2000", "rows lost")
def _(c):
    pays = c.pays(2000)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        if i == 10:  # physical line 12
            cells = p.cells()
            items.append(raw(",".join(cells[:2]) + ',"' + ",".join(cells[2:]), R()))
        elif i > 10:
            items.append(Row(p.cells(), E(p)))
        else:
            items.append(Row(p.cells(), K(p)))
    c.csv("payments.csv", items)


@case("lost_unclosed_quote_last_line", "rows lost")
def _(c):
    pays = c.pays(5)
    cells = pays[4].cells()
    items = [
        Header(HEADER),
        *c.rows(pays[:4]),
        raw(",".join(cells[:3]) + ',"' + cells[3], E(pays[4])),
    ]
    c.csv("payments.csv", items)


def _notes_file(c, note_at, note, bad_at, newline="\n"):
    pays = c.pays(8)
    hdr = ("户号", "缴费时间", "缴费方式", "实收金额", "备注")
    items = [Header(hdr)]
    for i, p in enumerate(pays):
        if i == bad_at:
            items.append(Row([*p.cells(amount="abc"), ""], R("amount")))
        else:
            items.append(Row([*p.cells(), note if i == note_at else ""], K(p)))
    c.csv("payments.csv", items, newline=newline)


_register(
    "lost_quoted_newline_shifts_lines",
    "rows lost",
    lambda c: _notes_file(c, 2, "第一行\n第二行", 5),
)
_register(
    "lost_quoted_two_newlines_shifts_lines",
    "rows lost",
    lambda c: _notes_file(c, 1, "a\nb\nc", 6),
)
_register(
    "lost_quoted_crlf_in_crlf_file",
    "rows lost",
    lambda c: _notes_file(c, 2, "第一行\r\n第二行", 6, newline="\r\n"),
)
_register(
    "lost_quoted_newline_after_bad_row",
    "rows lost",
    lambda c: _notes_file(c, 5, "x\ny", 2),
)
_register(
    "lost_escaped_quotes_in_note",
    "rows lost",
    lambda c: _notes_file(c, 2, '他说"已缴"', 5),
)


@case("lost_quoted_newline_in_id", "rows lost")
def _(c):
    pays = c.pays(4)
    items = [
        Header(HEADER),
        *c.rows(pays[:1]),
        Row(pays[1].cells(cid="00123\n4567"), R("customer_id")),
        *c.rows(pays[2:]),
    ]
    c.csv("payments.csv", items)


@case("lost_stray_quote_mid_field", "rows lost")
def _(c):
    pays = c.pays(5)
    hdr = ("户号", "户名", "缴费时间", "缴费方式", "实收金额")
    items = [Header(hdr)]
    for i, p in enumerate(pays):
        cells = p.cells()
        name = '张"三' if i == 2 else "李四"
        items.append(
            raw(",".join([cells[0], name, *cells[1:]]), E(p) if i == 2 else K(p))
        )
    c.csv("payments.csv", items)


@case("lost_too_many_and_too_few_fields", "rows lost")
def _(c):
    pays = c.pays(7)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        cells = p.cells()
        if i == 2:
            items.append(raw(",".join(cells[:3]) + ",1,234.50", R()))
        elif i == 4:
            items.append(raw(",".join(cells[:2]), R()))
        else:
            items.append(Row(cells, K(p)))
    c.csv("payments.csv", items)


@case("lost_blank_lines_and_repeated_header", "rows lost / real exports")
def _(c):
    pays = c.pays(6)
    items = [
        Header(HEADER),
        *c.rows(pays[:2]),
        raw("", R()),
        *c.rows(pays[2:4]),
        Row(list(HEADER), R()),
        raw(",,,", R()),
        *c.rows(pays[4:]),
    ]
    c.csv("payments.csv", items)


@case("lost_xlsx_cell_with_newline", "rows lost")
def _(c):
    pays = c.pays(4)
    hdr = ("户号", "缴费时间", "缴费方式", "实收金额", "备注")
    items = [Header(hdr)] + [
        Row([*p.cells(), "第一行\n第二行" if i == 1 else ""], K(p))
        for i, p in enumerate(pays)
    ]
    c.xlsx("payments.xlsx", items)


@case("lost_quote_in_first_data_row_of_300", "rows lost")
def _(c):
    pays = c.pays(300)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        if i == 0:
            cells = p.cells()
            items.append(raw('"' + ",".join(cells), R()))
        else:
            items.append(Row(p.cells(), E(p)))
    c.csv("payments.csv", items)


# ====================================================================== values misread


_AMOUNTS = {
    "inf": ("inf", "reject", None),
    "minus_inf": ("-inf", "reject", None),
    "Infinity": ("Infinity", "reject", None),
    "INF_upper": ("INF", "reject", None),
    "nan": ("NaN", "reject", None),
    "1e309": ("1e309", "reject", None),
    "minus_1e309": ("-1e309", "reject", None),
    "nines_400": ("9" * 400, "reject", None),
    "euro_1.234,50": ("1.234,50", "either", 1234.5),
    "12,34": ("12,34", "either", 12.34),
    "1,2,3": ("1,2,3", "reject", None),
    "1,,234": ("1,,234", "reject", None),
    "12.345.678": ("12.345.678", "reject", None),
    "minus_zero": ("-0", "either", 0.0),
    "minus_zero_point": ("-0.00", "either", 0.0),
    "plus_minus": ("+-5", "reject", None),
    "double_minus": ("--5", "reject", None),
    "hex": ("0x10", "reject", None),
    "underscore": ("1_000", "reject", None),
    "exp_1e3": ("1e3", "either", 1000.0),
    "ideographic_full_stop": ("12。5", "either", 12.5),
    "space_thousands_euro": ("1 234,50", "either", 1234.5),
    "thousands_ok": ("1,234.50", "keep", 1234.5),
    "thousands_million_ok": ("1,234,567.00", "keep", 1234567.0),
    "yuan_suffix": ("88.50元", "keep", 88.5),
    "yen_sign": ("¥88.50", "keep", 88.5),
    "fullwidth_digits": ("１２０．５０", "keep", 120.5),
    "rmb_prefix": ("RMB 66.00", "keep", 66.0),
    "padded": ("  42.10 ", "keep", 42.1),
    "accounting_negative": ("(12.00)", "reject", None),
    "trailing_minus": ("12.00-", "reject", None),
    "dash_placeholder": ("-", "reject", None),
    "true_word": ("True", "reject", None),
    "percent": ("12%", "reject", None),
    "wan_unit": ("1.2万", "either", 12000.0),
}


def _make_amount(c, key, spec):
    value, kind, expect = spec
    p = c.pay()
    if kind == "reject":
        return p.cells(amount=value), R("amount")
    q = p.ok(amount=expect)
    return p.cells(amount=value), (K(q) if kind == "keep" else E(q, column="amount"))


_odd_row(
    ("csv", "xlsx", "df"), "values misread (amounts)", "amount", _AMOUNTS, _make_amount
)

_DATES = {
    "hour_25": ("2025-04-01 25:00", None),
    "minute_61": ("2025-04-01 10:61", None),
    "second_61": ("2025-04-01 10:30:61", None),
    "hour_24": ("2025-04-01 24:00", "either:2025-04-02T00:00:00"),
    "year_only": ("2025", None),
    "year_month": ("2025-04", None),
    "year_month_compact": ("202504", None),
    "feb_29_2025": ("2025-02-29", None),
    "apr_31": ("2025-04-31", None),
    "month_13": ("2025-13-01", None),
    "month_00": ("2025-00-10", None),
    "day_00": ("2025-04-00", None),
    "year_0000": ("0000-01-01", None),
    "year_9999": ("9999-12-31", None),
    "year_1900": ("1900-01-01", None),
    "pm_13": ("2025-04-01 下午 13:05", None),
    "cn_apr_31": ("2025年4月31日", None),
    "compact_apr_31": ("20250431", None),
    "time_only": ("10:30", None),
    "nanoseconds": (
        "2025-04-01T10:30:00.123456789",
        "keep:2025-04-01T10:30:00.123456789",
    ),
    "half_second": ("2025-04-01 10:30:00.5", "keep:2025-04-01T10:30:00.500000"),
    "serial_noon": ("45748.5", "keep:2025-04-01T12:00:00"),
    "serial_huge": ("99999", None),
    "cn_date_time": ("2025年4月1日 10时30分", "keep:2025-04-01T10:30:00"),
    "slash_single_digits": ("2025/4/1 9:05", "keep:2025-04-01T09:05:00"),
    "dots": ("2025.04.01", "keep:2025-04-01T00:00:00"),
    "compact_datetime": ("20250401103000", "keep:2025-04-01T10:30:00"),
    "pm_word": ("2025-04-01 下午 3:05", "keep:2025-04-01T15:05:00"),
    "fullwidth_digits": ("２０２５－０４－０１", "keep:2025-04-01T00:00:00"),
    "negative_year": ("-2025-04-01", None),
}


def _make_date(c, key, spec):
    value, expect = spec
    p = c.pay()
    if expect is None:
        return p.cells(at=value), R("paid_at")
    kind, iso = expect.split(":", 1)
    q = p.ok()
    q[1] = iso  # as text: a datetime would drop nanoseconds
    return p.cells(at=value), (K(q) if kind == "keep" else E(q, column="paid_at"))


_odd_row(("csv", "xlsx", "df"), "values misread (dates)", "date", _DATES, _make_date)

_IDS = {
    "4E9": ("4E9", None),
    "3.7E+09": ("3.7E+09", None),
    "1.2E+18": ("1.2E+18", None),
    "lower_4e9": ("4e9", None),
    "bell_char": ("00123\x074567", None),
    "escape_char": ("00123\x1b4567", None),
    "del_char": ("00123\x7f4567", None),
    "tab_inside": ("00123\t4567", None),
    "nul_char": ("00123\x004567", None),
    "zero_width_space": ("0012\u200b34567", None),
    "rtl_mark": ("\u200f0012345678", None),
    "float_dot_zero": ("0012345678.0", "either:0012345678"),
    "padded": ("  0012345678 ", "keep:0012345678"),
    "fullwidth": ("００１２３４５６７８", "keep:0012345678"),
    "NULL_word": ("NULL", None),
    "dash": ("-", None),
    "alnum": ("SH00123A", "keep:SH00123A"),
}


def _make_id(c, key, spec):
    value, expect = spec
    p = c.pay()
    if expect is None:
        return p.cells(cid=value), R("customer_id")
    kind, cid = expect.split(":", 1)
    q = p.ok(id=cid)
    return p.cells(cid=value), (K(q) if kind == "keep" else E(q, column="customer_id"))


_odd_row(("csv", "df"), "values misread (ids)", "id", _IDS, _make_id)


_PERIODS = {
    "apr_31": ("2025-04-31", False),
    "month_13": ("2025-13", False),
    "compact_13": ("202513", False),
    "month_00": ("2025-00", False),
    "cn_month_13": ("2025年13月", False),
    "year_only": ("2025", False),
    "ok_dash": ("2025-04", True),
    "ok_compact": ("202504", True),
    "ok_cn": ("2025年4月", True),
}


def _period_case(c, value, ok):
    hdr = ("户号", "缴费时间", "缴费方式", "实收金额", "电费年月")
    pays = c.pays(4)
    items = [Header(hdr)]
    for i, p in enumerate(pays):
        per = value if i == 2 else "2025-03"
        truth = K(p) if (i != 2 or ok) else R("period")
        items.append(Row([*p.cells(), per], truth))
    c.csv("payments.csv", items)


for _key, (_val, _ok) in _PERIODS.items():
    _register(
        f"period_csv_{_key}",
        "values misread (periods)",
        lambda c, v=_val, o=_ok: _period_case(c, v, o),
    )


def _bills_case(c, due_values):
    _good_csv(c, "payments.csv")
    c.arg("path", c.rel("payments.csv"))
    hdr = ("户号", "电费年月", "应收金额")
    items = [Header(hdr)]
    for value, kind, expect in due_values:
        cid = c.new_id()
        if kind == "reject":
            truth = R("amount_due")
        else:
            truth = K([cid, "2025-03", expect])
        items.append(Row([cid, "2025-03", value], truth))
    c.csv("bills.csv", items, table="bills")


_register(
    "bills_amount_due_inf",
    "values misread (bills)",
    lambda c: _bills_case(
        c,
        [
            ("88.00", "keep", 88.0),
            ("inf", "reject", None),
            ("1e309", "reject", None),
            ("9" * 400, "reject", None),
            ("12.50", "keep", 12.5),
        ],
    ),
)


@case("bills_period_apr_31", "values misread (bills)")
def _(c):
    _good_csv(c, "payments.csv")
    c.arg("path", c.rel("payments.csv"))
    ids = [c.new_id() for _ in range(3)]
    items = [
        Header(("户号", "电费年月", "应收金额")),
        Row([ids[0], "2025-03", "88.00"], K([ids[0], "2025-03", 88.0])),
        Row([ids[1], "2025-04-31", "90.00"], R("period")),
        Row([ids[2], "2025-04", "70.00"], K([ids[2], "2025-04", 70.0])),
    ]
    c.csv("bills.csv", items, table="bills")


@case("fen_header_inf", "values misread")
def _(c):
    pays = c.pays(4)
    hdr = ("户号", "交易时间", "缴费方式", "交易金额(分)")
    items = [Header(hdr)]
    for i, p in enumerate(pays):
        if i == 1:
            items.append(Row(p.cells(amount="inf"), R("amount")))
        elif i == 2:
            items.append(Row(p.cells(amount="9" * 400), R("amount")))
        else:
            items.append(Row(p.cells(amount=str(round(p.amount * 100))), K(p)))
    c.csv("bank.csv", items)


@case("fen_header_ok", "real exports")
def _(c):
    pays = c.pays(4)
    items = [Header(("户号", "交易时间", "缴费方式", "交易金额(分)"))] + [
        Row(p.cells(amount=str(round(p.amount * 100))), K(p)) for p in pays
    ]
    c.csv("bank.csv", items)


def _excel_after_merge(ws, i):
    ws.merge_cells("A2:A7")


@case("excel_merged_id_cells", "values misread (Excel)")
def _(c):
    cid = c.new_id()
    items = [Header(HEADER)]
    for i in range(6):
        p = c.pay()
        p.id = cid
        items.append(
            Row(
                p.cells(cid=cid if i == 0 else ""),
                K(p) if i == 0 else E(p, column="customer_id"),
            )
        )
    c.xlsx("payments.xlsx", items, after=_excel_after_merge)
    for row in c.truth["sources"][0]["rows"][1:]:
        row["reason_has"] = "merged"


@case("excel_formula_without_cached_value", "values misread (Excel)")
def _(c):
    pays = c.pays(4)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        if i == 2:
            items.append(
                Row(p.cells(amount="=10*8.8"), {**R("amount"), "reason_has": "formula"})
            )
        else:
            items.append(Row(p.cells(), K(p)))
    c.xlsx("payments.xlsx", items)


@case("excel_19_digit_ids_as_numbers", "values misread (Excel)")
def _(c):
    items = [Header(HEADER)]
    base = 3205811234567890120
    for k in range(6):
        p = c.pay()
        items.append(
            Row(
                [float(base + k), p.at.strftime(ISO), p.channel, p.amount],
                R("customer_id"),
            )
        )
    c.xlsx("payments.xlsx", items)


@case("excel_10_digit_ids_as_numbers", "real exports (Excel)")
def _(c):
    items = [Header(HEADER)]
    for _ in range(4):
        p = c.pay()
        num = int(p.id)
        items.append(
            Row([num, p.at.strftime(ISO), p.channel, p.amount], K(p.ok(id=str(num))))
        )
    c.xlsx("payments.xlsx", items)


@case("excel_datetime_cells", "real exports (Excel)")
def _(c):
    pays = c.pays(4)
    items = [Header(HEADER)] + [
        Row([p.id, p.at, p.channel, p.amount], K(p)) for p in pays
    ]
    c.xlsx("payments.xlsx", items)


@case("excel_serial_numbers_as_dates", "real exports (Excel)")
def _(c):
    items = [Header(HEADER)]
    for _ in range(4):
        p = c.pay()
        at = p.at.replace(second=0)
        p.at = at
        serial = (at - dt.datetime(1899, 12, 30)).total_seconds() / 86400
        items.append(Row([p.id, round(serial, 8), p.channel, p.amount], K(p)))
    c.xlsx("payments.xlsx", items)


@case("excel_error_and_bool_cells", "values misread (Excel)")
def _(c):
    pays = c.pays(5)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        if i == 1:
            items.append(
                Row([p.id, p.at.strftime(ISO), p.channel, "#N/A"], R("amount"))
            )
        elif i == 3:
            items.append(Row([p.id, p.at.strftime(ISO), p.channel, True], R("amount")))
        else:
            items.append(Row([p.id, p.at.strftime(ISO), p.channel, p.amount], K(p)))
    c.xlsx("payments.xlsx", items)


@case("excel_title_rows_and_total", "real exports (Excel)")
def _(c):
    pays = c.pays(4)
    items = [
        Row(["XX供电公司电费实收明细", None, None, None], R()),
        Row(["统计日期：2025-04", None, None, None], R()),
        Header(HEADER),
        *c.rows(pays),
    ]
    total = round(sum(p.amount for p in pays), 2)
    items.append(Row(["合计", None, None, total], R()))
    c.xlsx("payments.xlsx", items)


@case("excel_two_monthly_sheets_and_summary", "real exports (Excel)")
def _(c):
    s1 = _std(c, 3)
    s2 = _std(c, 2)
    summary = [Header(("供电所", "实收合计")), Row(["城关", "1000"], R())]
    c.xlsx(
        "payments.xlsx", s1, sheet="3月", more_sheets=[("4月", s2), ("汇总", summary)]
    )
    # the totals sheet has no id column: it is not a source of payments
    c.truth["sources"] = [s for s in c.truth["sources"] if s["sheet"] != "汇总"]


# ================================================================ real-export controls


@case("real_utf8_plain", "real exports")
def _(c):
    c.csv("payments.csv", _std(c, 6))


@case("real_utf8_bom", "real exports")
def _(c):
    c.csv("payments.csv", _std(c, 6), bom=b"\xef\xbb\xbf")


@case("real_gbk", "real exports")
def _(c):
    c.csv("payments.csv", _std(c, 6), encoding="gbk")


@case("real_gb18030_crlf", "real exports")
def _(c):
    c.csv("payments.csv", _std(c, 6), encoding="gb18030", newline="\r\n")


for _d, _n in (("\t", "tab"), (";", "semicolon"), ("|", "pipe")):
    _register(
        f"real_delimiter_{_n}",
        "real exports",
        lambda c, d=_d: c.csv(
            "payments.txt" if d == "\t" else "payments.csv", _std(c, 5), delimiter=d
        ),
    )


@case("real_trailing_delimiter", "real exports")
def _(c):
    pays = c.pays(5)
    items = [Header(HEADER)] + [raw(",".join(p.cells()) + ",", K(p)) for p in pays]
    c.csv("payments.csv", items)


@case("real_sg186_title_subtotal_footer", "real exports")
def _(c):
    hdr = (
        "序号",
        "供电单位",
        "户号",
        "户名",
        "电费年月",
        "实收电费(元)",
        "收费方式",
        "收费日期",
    )
    items = [
        title("国网XX县供电公司2025年4月电费实收明细表", 8),
        title("制表日期：2025-05-02", 8),
        raw(",,,,,,,", R()),
        Header(hdr),
    ]
    pays = c.pays(4)
    for i, p in enumerate(pays):
        items.append(
            Row(
                [
                    str(i + 1),
                    "城关供电所",
                    p.id,
                    "张三",
                    "202503",
                    f"{p.amount:,.2f}",
                    p.channel,
                    p.at.strftime(ISO),
                ],
                K(p),
            )
        )
        if i == 2:
            items.append(Row(["", "城关供电所小计", "", "", "", "1.00", "", ""], R()))
    items.append(Row(["", "合计", "", "", "", "2.00", "", ""], R()))
    items.append(Row(["制表人：张会计", "", "", "", "", "", "审核人：李主任", ""], R()))
    c.csv("实收明细.csv", items, encoding="gbk", newline="\r\n")


@case("real_fullwidth_ids_and_amounts", "real exports")
def _(c):
    pays = c.pays(4)
    fw = str.maketrans("0123456789.", "０１２３４５６７８９．")
    items = [Header(HEADER)] + [
        Row(
            p.cells(cid=p.id.translate(fw), amount=f"{p.amount:.2f}".translate(fw)),
            K(p),
        )
        for p in pays
    ]
    c.csv("payments.csv", items)


@case("real_yuan_suffix_and_yen", "real exports")
def _(c):
    pays = c.pays(4)
    fmts = ["{:.2f}元", "¥{:,.2f}", "￥{:.2f}", "{:,.2f} 元"]
    items = [Header(HEADER)] + [
        Row(p.cells(amount=f.format(p.amount)), K(p)) for p, f in zip(pays, fmts)
    ]
    c.csv("payments.csv", items)


@case("real_cn_dates_and_ampm", "real exports")
def _(c):
    pays = c.pays(4)
    fmts = [
        lambda a: f"{a.year}年{a.month}月{a.day}日 {a.hour}时{a.minute}分{a.second}秒",
        lambda a: a.strftime("%Y/%m/%d %H:%M:%S"),
        lambda a: a.strftime("%Y%m%d%H%M%S"),
        lambda a: a.strftime("%Y-%m-%d %H:%M:%S.000"),
    ]
    items = [Header(HEADER)] + [
        Row(p.cells(at=f(p.at)), K(p)) for p, f in zip(pays, fmts)
    ]
    c.csv("payments.csv", items)


@case("real_excel_serials_in_csv", "real exports")
def _(c):
    items = [Header(HEADER)]
    for _ in range(4):
        p = c.pay()
        p.at = p.at.replace(second=0)
        serial = (p.at - dt.datetime(1899, 12, 30)).total_seconds() / 86400
        items.append(Row(p.cells(at=f"{serial:.6f}"), K(p)))
    c.csv("payments.csv", items)


@case("real_bank_split_date_time", "real exports")
def _(c):
    pays = c.pays(4)
    hdr = ("户号", "交易日期", "交易时间", "缴费方式", "实收金额")
    items = [Header(hdr)] + [
        Row(
            [
                p.id,
                p.at.strftime("%Y%m%d"),
                p.at.strftime("%H%M%S"),
                p.channel,
                f"{p.amount:.2f}",
            ],
            K(p),
        )
        for p in pays
    ]
    c.csv("bank.csv", items)


@case("real_duplicates_unknown_channel_missing_id", "real exports")
def _(c):
    pays = c.pays(5)
    items = [
        Header(HEADER),
        *c.rows(pays[:2]),
        Row(pays[1].cells(), R()),
        Row(pays[2].cells(channel="飞鸽传书"), R("channel")),
        Row(pays[3].cells(cid=""), R("customer_id")),
        Row(pays[4].cells(amount="-12.00"), R("amount")),
    ]
    c.csv("payments.csv", items)


@case("real_no_channel_column", "real exports")
def _(c):
    pays = c.pays(4, channel=None)
    hdr = ("户号", "缴费时间", "实收金额")
    items = [Header(hdr)] + [
        Row([p.id, p.at.strftime(ISO), f"{p.amount:.2f}"], K(p)) for p in pays
    ]
    c.csv("payments.csv", items)


@case("real_html_saved_as_xls", "real exports")
def _(c):
    pays = c.pays(4)
    rows = "".join(
        f"<tr><td>{p.id}</td><td>{p.at.strftime(ISO)}</td><td>{p.channel}"
        f"</td><td>{p.amount:.2f}</td></tr>"
        for p in pays
    )
    head = "".join(f"<th>{h}</th>" for h in HEADER)
    html = f"<html><body><table><tr>{head}</tr>{rows}</table></body></html>"
    c.path("payments.xls").write_bytes(html.encode("utf-8"))
    c.arg("path", c.rel("payments.xls"))
    c.source(
        c.rel("payments.xls"), [{"line": i + 2, **K(p)} for i, p in enumerate(pays)]
    )


@case("real_xlsx_text_cells", "real exports")
def _(c):
    c.xlsx("payments.xlsx", _std(c, 5))


@case("real_parquet_strings", "real exports")
def _(c):
    c.parquet_rows("payments.parquet", _std(c, 5))


@case("real_dataframe_strings", "real exports")
def _(c):
    c.frame("payments.pkl", _std(c, 5))


@case("real_payments_bills_customers", "real exports")
def _(c):
    pays = c.pays(3)
    c.csv("payments.csv", [Header(HEADER), *c.rows(pays)])
    items = [Header(("户号", "电费年月", "应收金额"))] + [
        Row([p.id, "2025-03", "100.00"], K([p.id, "2025-03", 100.0])) for p in pays
    ]
    c.csv("bills.csv", items, table="bills")


# ====================================================================== mostly rejected


def _mostly(c, n, bad_every, bad):
    pays = c.pays(n)
    items = [Header(HEADER)]
    for i, p in enumerate(pays):
        if i % bad_every == 0:
            cells, truth = bad(p)
            items.append(Row(cells, truth))
        else:
            items.append(Row(p.cells(), K(p)))
    c.csv("payments.csv", items)


@case("rejected_all_rows_bad_date", "most rows rejected")
def _(c):
    _mostly(c, 20, 1, lambda p: (p.cells(at="昨天"), R("paid_at")))
    c.expect(raises="must", error_names="payments.csv")


@case("rejected_all_rows_unknown_channel", "most rows rejected")
def _(c):
    _mostly(c, 20, 1, lambda p: (p.cells(channel="信鸽"), R("channel")))
    c.expect(raises="must", error_names="payments.csv")


@case("rejected_all_rows_us_dates", "most rows rejected / date order")
def _(c):
    _date_order(c, lambda a: f"{a.month}/{a.day}/{a.year}", n=8)
    c.expect(raises="never")


for _cid, _every, _bad in (
    ("rejected_10pct_bad_date", 10, lambda p: (p.cells(at="2025-02-30"), R("paid_at"))),
    ("rejected_20pct_negative", 5, lambda p: (p.cells(amount="-5.00"), R("amount"))),
    (
        "rejected_50pct_unknown_channel",
        2,
        lambda p: (p.cells(channel="信鸽"), R("channel")),
    ),
    (
        "rejected_8pct_non_numeric",
        12,
        lambda p: (p.cells(amount="见附件"), R("amount")),
    ),
):

    def _b(c, every=_every, bad=_bad):
        _mostly(c, 100, every, bad)
        c.expect(warn="top_reason")

    _register(_cid, "most rows rejected", _b)


@case("rejected_2pct_is_quiet", "most rows rejected (control)")
def _(c):
    _mostly(c, 100, 50, lambda p: (p.cells(amount="见附件"), R("amount")))


if __name__ == "__main__":  # pragma: no cover
    import sys

    out = write(sys.argv[1] if len(sys.argv) > 1 else "corpus")
    print(f"{len(out)} cases written")
