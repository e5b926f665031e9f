"""Issue 19, the CSV read path: Arrow reads every shape, the ledger keeps file lines.

Each file here is written by hand and its ledger lines counted by hand. A file is
read twice: as shipped (Arrow, also for line breaks inside quotes) and with the
Arrow multi-line reader switched off (the line-by-line reader), and both must give
the hand count.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import payseg
import payseg._read as read_module

TITLE = "title/notes row above the header"
FIELDS = "wrong number of fields"

# (text of each physical line group, what the ledger says about it). Lines are
# joined with the file's line break; "{nl}" inside a quoted cell is a line break
# of that file too.
ROWS = [
    "XX供电公司2025年4月电费实收明细表",  # 1: title
    "制表日期：2025-05-01",  # 2: title
    "",  # 3: blank above the header
    "户号,缴费时间,缴费方式,实收金额,备注",  # 4: header
    "001001,2025-04-01 10:00:00,支付宝,10.50,",  # 5
    '001002,2025-04-02 10:00:00,微信,11.50,"第一行{nl}第二行"',  # 6-7
    "",  # 8: blank line: an empty row
    "001003,2025-04-03 10:00:00,微信,12.50",  # 9: four fields
    "001004,2025-04-04 10:00:00,微信,13.50,,多余",  # 10: six fields
    '001005,2025-04-05 10:00:00,支付宝,14.50,"a""b{nl}c{nl}d"',  # 11-13
    '001006,2025-04-06 10:00:00,微信,15.50,"备注, 带逗号"',  # 14
    "合计,,,76.50,",  # 15: footer
]
LEDGER = [
    [1, TITLE],
    [2, TITLE],
    [3, TITLE],
    [8, "empty row"],
    [9, FIELDS],
    [10, FIELDS],
    [15, "summary row (合计)"],
]
KEPT = [10.5, 11.5, 14.5, 15.5]


def _write(path, rows, newline: str, encoding: str, bom: bool = False) -> str:
    """Write the rows; "mixed": UTF-8, with every third physical line in GB18030
    (from the second: a title, a quoted cell's second line, a row...)."""
    text = newline.join(r.replace("{nl}", newline) for r in rows) + newline
    if encoding == "mixed":
        parts = re.split(r"(\r\n|\r|\n)", text)
        raw = b"".join(
            (line.encode("gb18030") if i % 3 == 1 else line.encode("utf-8"))
            + brk.encode("ascii")
            for i, (line, brk) in enumerate(zip(parts[0::2], [*parts[1::2], ""]))
        )
    else:
        raw = text.encode(encoding)
    path.write_bytes(("\ufeff".encode(encoding) if bom else b"") + raw)
    return text


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return payseg.load(path)


def _arrow_only(monkeypatch):
    """Fail the test if the line-by-line reader is used."""

    def careful(*args, **kwargs):
        raise AssertionError("the line-by-line reader was used")

    monkeypatch.setattr(read_module, "_read_lines", careful)


def _careful_only(monkeypatch):
    """Switch off Arrow's reading of line breaks inside quotes."""
    monkeypatch.setattr(read_module, "_read_multiline", lambda *a: (None, None, []))


def _ledger(data):
    return data.rejected[["line", "reason"]].values.tolist()


@pytest.mark.parametrize(
    "newline, encoding, bom",
    [
        ("\n", "utf-8", False),
        ("\r\n", "utf-8", False),
        ("\r\n", "utf-8", True),
        ("\r", "utf-8", False),
        ("\r\n", "gb18030", False),
        ("\n", "gb18030", False),
        ("\r\n", "utf-16-le", True),
        ("\n", "mixed", False),
        ("\r\n", "mixed", False),
    ],
)
@pytest.mark.parametrize("reader", ["arrow", "line by line"])
def test_every_shape_keeps_its_file_line(
    tmp_path, monkeypatch, newline, encoding, bom, reader
):
    path = tmp_path / "p.csv"
    _write(path, ROWS, newline, encoding, bom)
    if reader == "arrow":
        _arrow_only(monkeypatch)
    else:
        _careful_only(monkeypatch)
    data = _load(path)
    assert _ledger(data) == LEDGER
    assert data.payments["amount"].tolist() == KEPT
    assert data.counts[str(path)] == {"read": 11, "kept": 4}
    if encoding == "mixed":  # lines 2, 5, 11 and 14 are GB18030
        assert data.encodings[str(path)] == "UTF-8; 4 lines in GB18030/GBK"


def test_a_quoted_cell_keeps_its_line_breaks(tmp_path, monkeypatch):
    path = tmp_path / "p.csv"
    _write(path, ROWS, "\r\n", "utf-8")
    _arrow_only(monkeypatch)
    frame = read_module.read_table(path, _keys())
    assert "第一行\r\n第二行" in frame["备注"].tolist()
    assert 'a"b\r\nc\r\nd' in frame["备注"].tolist()
    # Rows at lines 5, 6, 8 (blank), 11, 14, 15; lines 9 and 10 are damaged.
    assert np.asarray(frame.attrs["lines"]).tolist() == [5, 6, 8, 11, 14, 15]
    assert [b[0] for b in frame.attrs["bad_lines"]] == [9, 10]
    assert [t for _, t in frame.attrs["title_lines"]][:2] == [ROWS[0], ROWS[1]]


def _keys():
    from payseg._headers import HEADER_MAP

    return HEADER_MAP, ("customer_id", "paid_at", "amount")


def test_an_unclosed_quote_among_quoted_line_breaks(tmp_path):
    # The open quote on line 4 would swallow the lines after it: the line-by-line
    # reader takes over, line 4 alone is damaged, the rows after it are kept.
    rows = [
        "户号,缴费时间,缴费方式,实收金额,备注",  # 1
        '001001,2025-04-01 10:00:00,支付宝,10.50,"一{nl}二"',  # 2-3
        '001002,2025-04-02 10:00:00,"微信,11.50,',  # 4: quote left open
        "001003,2025-04-03 10:00:00,微信,12.50,",  # 5
        '001004,2025-04-04 10:00:00,微信,13.50,"三{nl}四"',  # 6-7
        "001005,2025-04-05 10:00:00,微信,14.50,",  # 8
    ]
    path = tmp_path / "p.csv"
    _write(path, rows, "\n", "utf-8")
    data = _load(path)
    assert _ledger(data) == [[4, FIELDS]]
    assert data.payments["amount"].tolist() == [10.5, 12.5, 13.5, 14.5]


def test_a_damaged_line_after_quoted_line_breaks_is_read_by_arrow(
    tmp_path, monkeypatch
):
    rows = [
        "户号,缴费时间,缴费方式,实收金额,备注",  # 1
        '001001,2025-04-01 10:00:00,支付宝,10.50,"一{nl}二{nl}三"',  # 2-4
        "001002,2025-04-02 10:00:00",  # 5: two fields
        '001003,2025-04-03 10:00:00,微信,12.50,""',  # 6: an empty quoted cell
        "001004,2025-04-04 10:00:00,微信,13.50,x,y,z",  # 7: seven fields
        '001005,2025-04-05 10:00:00,微信,14.50,"四{nl}五"',  # 8-9
    ]
    path = tmp_path / "p.csv"
    _write(path, rows, "\r\n", "utf-8")
    _arrow_only(monkeypatch)
    data = _load(path)
    assert _ledger(data) == [[5, FIELDS], [7, FIELDS]]
    assert data.payments["amount"].tolist() == [10.5, 12.5, 14.5]
    texts = data.rejected["value"].tolist()
    assert texts == ["001002,2025-04-02 10:00:00", rows[4]]


def test_a_row_spanning_too_many_lines_is_read_line_by_line(tmp_path):
    note = "{nl}".join(["行"] * (read_module._MAX_SPAN + 5))
    rows = [
        "户号,缴费时间,缴费方式,实收金额,备注",
        f'001001,2025-04-01 10:00:00,支付宝,10.50,"{note}"',  # 2-106
        "001002,2025-04-02 10:00:00,微信,11.50,",  # 107
    ]
    path = tmp_path / "p.csv"
    _write(path, rows, "\n", "utf-8")
    multi = read_module._read_multiline
    seen = []

    def spy(*args):
        out = multi(*args)
        seen.append(out[0] is None)
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(read_module, "_read_multiline", spy)
        data = _load(path)
    assert seen == [True]  # Arrow's reading refused: a cell over _MAX_SPAN lines
    # The line-by-line reader: no quote closes within _MAX_SPAN lines, so line 2
    # is read alone (its open quote runs to the end of the line: five fields, a
    # row) and each of the 104 lines after it (3-106) is damaged.
    assert _ledger(data) == [[line, FIELDS] for line in range(3, 107)]
    assert data.payments["amount"].tolist() == [10.5, 11.5]


def _slow_line_count(data: bytes) -> int:
    """Lines by a regular expression: the obvious reference."""
    if not data:
        return 0
    parts = re.split(rb"\r\n|\r|\n", data)
    return len(parts) - (parts[-1] == b"")


@pytest.mark.parametrize("seed", range(6))
def test_the_line_count_matches_a_reference_across_chunks(monkeypatch, seed):
    monkeypatch.setattr(read_module, "_CHUNK", 7)  # pairs straddle the chunks
    rng = np.random.default_rng(seed)
    for n in (0, 1, 2, 7, 8, 50, 301):
        data = bytes(rng.choice(np.frombuffer(b"\r\nab", np.uint8), n).tolist())
        want = _slow_line_count(data)
        assert read_module._physical_lines(data) == want, data
        if b"\r" not in data:
            assert read_module._physical_lines(data, has_cr=False) == want


def test_line_numbers_are_not_copied_with_the_frame(tmp_path):
    path = tmp_path / "p.csv"
    _write(path, ROWS, "\n", "utf-8")
    frame = read_module.read_table(path, _keys())
    lines = frame.attrs["lines"]
    derived = frame[["户号"]].copy()
    assert derived.attrs["lines"] is lines
    assert np.asarray(derived.attrs["lines"]).tolist() == [5, 6, 8, 11, 14, 15]


# ------------------------------------------ Arrow against the line-by-line reader

_ATOMS = (
    "00{i},2025-04-01 10:00:00,支付宝,{i}.50,",  # a row
    '00{i},2025-04-01 10:00:00,微信,{i}.50,"第一行{nl}第二行"',  # a quoted break
    '00{i},2025-04-01 10:00:00,微信,{i}.50,"a""b{nl}{nl}c"',  # two, and a quote
    '00{i},2025-04-01 10:00:00,微信,{i}.50,"x{cr}y"',  # a lone \r in a quote
    '00{i},2025-04-01 10:00:00,"微信,甲",{i}.50,"逗号, 在引号里"',  # commas
    "",  # a blank line
    "00{i},2025-04-01 10:00:00,{i}.50",  # too few fields
    "00{i},2025-04-01 10:00:00,微信,{i}.50,,多",  # too many
    '00{i},2025-04-01 10:00:00,"微信,{i}.50,',  # a quote left open
    "合计,,,{i}.00,",  # a footer
)


def _read_both(path):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    fast = read_module.read_table(path, _keys())

    def no_arrow(*args, **kwargs):
        raise pa.ArrowInvalid("switched off by the test")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pacsv, "read_csv", no_arrow)
        slow = read_module.read_table(path, _keys())
    return fast, slow


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    atoms=st.lists(st.integers(0, len(_ATOMS) - 1), min_size=1, max_size=14),
    newline=st.sampled_from(["\n", "\r\n"]),
    encoding=st.sampled_from(["utf-8", "gb18030", "mixed"]),
)
def test_arrow_and_the_line_by_line_reader_agree(
    tmp_path_factory, atoms, newline, encoding
):
    rows = ["户号,缴费时间,缴费方式,实收金额,备注"] + [
        _ATOMS[a].replace("{i}", str(i)).replace("{cr}", "\r")
        for i, a in enumerate(atoms)
    ]
    path = tmp_path_factory.mktemp("agree") / "p.csv"
    text = _write(path, rows, newline, encoding)
    if encoding == "mixed":
        # A file sniffed as GB18030 is decoded as GB18030 by Arrow, line by line
        # UTF-8 first: the two readers differ on its UTF-8 lines (not solved yet).
        assume(read_module.sniff_encoding(path) == "utf-8")
    fast, slow = _read_both(path)
    assert fast.columns.tolist() == slow.columns.tolist()
    assert fast.astype(object).values.tolist() == slow.astype(object).values.tolist()
    assert (
        np.asarray(fast.attrs["lines"]).tolist()
        == np.asarray(slow.attrs["lines"]).tolist()
    )
    assert [b[:2] for b in fast.attrs["bad_lines"]] == [
        b[:2] for b in slow.attrs["bad_lines"]
    ]
    # Every physical line under the header starts a row, is inside a row's quoted
    # cell, or is damaged: counted cell by cell, with no parser.
    n_body = len(re.split(r"\r\n|\r|\n", text)) - 2  # header, final line break
    spans = [
        1 + sum(len(re.findall(r"\r\n|\r|\n", cell)) for cell in row)
        for row in fast.astype(object).values.tolist()
    ]
    assert sum(spans) + len(fast.attrs["bad_lines"]) == n_body
    every = sorted(
        [*np.asarray(fast.attrs["lines"]).tolist()]
        + [b[0] for b in fast.attrs["bad_lines"]]
    )
    assert every == sorted(set(every)) and (not every or every[0] == 2)


def test_a_utf8_line_in_a_gb18030_file_is_read_as_utf8(tmp_path):
    # Arrow decodes the file as GB18030: the UTF-8 line's bytes are valid GB18030
    # too (微信 -> 寰\ue1bb俊), so without the check its channel would be unknown and
    # its region garbled. Genuine GBK text with characters outside GB2312 (喆, 堃)
    # and short GBK text that is valid UTF-8 (元 = D4 AA) stay as they are.
    head = "户号,缴费时间,缴费渠道,实收金额,供电所\n"
    gbk = [
        "1001,2024-01-05 10:00:00,支付宝,80,喆堃所",
        "1002,2024-01-06 11:00:00,柜台,60,元",
    ] + [f"{1100 + i},2024-02-0{1 + i % 9} 10:00:00,柜台,5{i},城西" for i in range(40)]
    utf8 = "1003,2024-01-07 09:00:00,微信,70,城东"
    assert utf8.encode("utf-8").decode("gb18030") != utf8  # the trap is real
    path = tmp_path / "p.csv"
    path.write_bytes(
        (head + "\n".join(gbk[:2]) + "\n").encode("gb18030")
        + (utf8 + "\n").encode("utf-8")
        + ("\n".join(gbk[2:]) + "\n").encode("gb18030")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = payseg.load(path)
    pay = data.payments.set_index("customer_id")
    assert len(pay) == 43 and len(data.rejected) == 0
    assert pay.loc["1003", "channel"] == "wechat"
    assert pay.loc["1003", "region"] == "城东"
    assert pay.loc["1001", "region"] == "喆堃所"
    assert pay.loc["1002", "region"] == "元"
    assert "1 line in UTF-8" in data.summary()
