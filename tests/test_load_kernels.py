"""The loader's whole-column kernels read exactly what the general parsers read.

Amounts and dates of the common spellings are parsed by Arrow kernels over the whole
column (or once per distinct part); every other value goes to the general parser.
Each test compares a column of at least 1,000 values (the kernels' threshold) with
the general parser alone on the same values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payseg
from payseg import _parsers
from payseg._parsers import _parse_amount_text, parse_amounts, parse_dates
from payseg._text import as_text

AMOUNT_SPELLINGS = [
    "¥1,234.50",
    "(12.00)",
    "12.00-",
    "—",
    "-",
    "NULL",
    "１２０元",
    "12,34",
    "1.234,50",
    "129.28元",
    " 88 ",
    "RMB 5",
    "rmb5",
    "5 CNY",
    "人民币 7.5",
    "1e5",
    "1e309",
    "inf",
    "",
    None,
    "-0",
    "7.",
    ".5",
    "+3",
    "0012.10",
    "1 2",
    "12元5",
    '="88.10"',
    "'66",
    "\u22125",
    "abc",
    "１,２３４．５",
]

DATE_SPELLINGS = [
    "2024-04-30 07:51:43",
    "2024-04-30 07:51",
    "2024-4-5 7:05",
    "2024/8/25 20:50:02",
    "2024/8/25",
    "2024.4.5 23:59:59",
    "2024年4月5日",
    "2024年4月5号 10:30",
    "2024年4月5日 10时30分",
    "20240329",
    "20241301",
    "20240230",
    "2024-02-29",
    "2023-02-29",
    "2100-01-01",
    "1989-12-31",
    "2099-12-31 23:59:59",
    "2024-04-30 24:00:00",
    "2024-04-30 23:60",
    "2024-04-30 23:59:60",
    "2024-04-30  10:30",
    "2024-04-30T10:30:00",
    "2024-04-30 10:30:00.5",
    "2024/4/5 下午 3:05",
    "2024/4/5 9:5",
    "2024-4/5",
    "20250401103000",
    "45748.5",
    "2025-04-01T02:30:00Z",
    "2025-04",
    "",
    "NULL",
    "２０２４－０４－０５",
    "2024-04-05 10:30 pm",
]


def _column(spellings, n, seed):
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(spellings), n)
    return pd.Series([spellings[i] for i in picks], dtype=object)


@pytest.mark.parametrize("seed", [0, 1])
def test_amount_kernel_matches_general_parser(seed):
    rng = np.random.default_rng(seed)
    plain = [f"{x:.2f}" for x in rng.gamma(2.0, 80.0, 800)]
    col = pd.concat(
        [_column(AMOUNT_SPELLINGS, 1_200, seed), pd.Series(plain, dtype=object)],
        ignore_index=True,
    )
    got = parse_amounts(col).to_numpy()
    # Reference: the general parser over the same column ...
    want = _parse_amount_text(as_text(col, placeholders=False)) + 0.0
    assert np.array_equal(got, want, equal_nan=True)
    # ... and, for each odd spelling, on its own.
    alone = {
        v: _parse_amount_text(as_text(pd.Series([v], dtype=object)))[0] + 0.0
        for v in AMOUNT_SPELLINGS
    }
    odd = col.iloc[:1_200]
    assert np.array_equal(
        got[:1_200], np.array([alone[v] for v in odd]), equal_nan=True
    )
    # Hand-checked values of the kernel's own forms.
    assert parse_amounts(pd.Series(["129.28元"] * 1_000))[0] == 129.28
    assert parse_amounts(pd.Series(["RMB 5"] * 999 + ["-0"])).tolist()[-2:] == [5, 0]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_amounts_read_once_per_text_equal_the_row_by_row_kernel(dtype):
    # A long column is parsed once per distinct text and spread back by its codes;
    # the kernels over every row (the earlier path) are the reference.
    rng = np.random.default_rng(7)
    col = pd.Series(
        [f"{x:.2f}元" for x in rng.gamma(2.0, 80.0, 3_000).round(0)]
        + list(AMOUNT_SPELLINGS) * 40,
        dtype=dtype,
    ).sample(frac=1.0, random_state=3, ignore_index=True)
    values, rest = _parsers._fast_amounts(_parsers.arrow_text(col))
    if rest.any():
        values[rest] = _parse_amount_text(as_text(col[rest], placeholders=False))
    got = parse_amounts(col)
    assert got.index.equals(col.index)
    assert np.array_equal(got.to_numpy(), values + 0.0, equal_nan=True)
    assert got.isna().sum() >= 40 * 5  # None, '', '-', NULL, '—' at least


@pytest.mark.parametrize("seed", [0, 1])
def test_date_kernel_matches_general_parser(seed, monkeypatch):
    col = _column(DATE_SPELLINGS, 3_000, seed)
    # Times to the second barely repeat: the column is parsed row by row.
    rng = np.random.default_rng(seed)
    stamps = pd.Series(
        pd.Timestamp("2024-01-01")
        + pd.to_timedelta(rng.integers(0, 2 * 365 * 86_400, 3_000), unit="s")
    )
    col = pd.concat(
        [col, stamps.dt.strftime("%Y/%-m/%-d %H:%M:%S").astype(object)],
        ignore_index=True,
    )
    got = parse_dates(col).to_numpy()

    def no_kernel(text):
        n = len(text)
        return np.full(n, np.datetime64("NaT", "ns")), np.ones(n, dtype=bool)

    monkeypatch.setattr(_parsers, "_fast_dates", no_kernel)
    want = parse_dates(col).to_numpy()
    assert np.array_equal(got, want, equal_nan=True)
    assert (got[3_000:] == stamps.to_numpy()).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "extra", [[], ["15/01/2024 10:00", "1/2/2024"], ["2024-04-01T10:00:00+0800"]]
)
def test_row_by_row_dates_match_the_pandas_way(seed, extra):
    # A column of times to the second (row by row): the Arrow-first parse gives
    # what pd.to_datetime(ISO8601) and its fall-backs gave on the whole column,
    # with the same notes (date order, example, offsets).
    rng = np.random.default_rng(seed)
    stamps = pd.Series(
        pd.Timestamp("2023-06-01")
        + pd.to_timedelta(rng.integers(0, 2 * 365 * 86_400, 4_000), unit="s")
    )
    iso = stamps.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
    col = pd.concat(
        [iso, _column(DATE_SPELLINGS + extra, 1_500, seed)], ignore_index=True
    )
    col = col.iloc[rng.permutation(len(col))].reset_index(drop=True)
    if seed == 2:
        col = col.astype("str")  # pandas' Arrow-backed strings, as read from files
    info_new, info_old = {}, {}
    got = parse_dates(col, info=info_new).to_numpy()
    opts = {"tz": "Asia/Shanghai", "dayfirst": None, "date_format": None}
    want = _parsers._parse_date_text(
        as_text(col, placeholders=False), {**opts, "info": info_old}
    )
    assert np.array_equal(got, want, equal_nan=True)
    assert info_new == info_old
    assert (got[col.to_numpy() == iso.iloc[0]] == stamps.iloc[0].to_datetime64()).all()


def test_date_kernel_values_by_hand():
    col = pd.Series(["2024/8/5 1:02:03", "2024年4月5日", "20240230", "2024-4-5"] * 300)
    got = parse_dates(col)
    assert got[:4].tolist()[:2] == [
        pd.Timestamp("2024-08-05 01:02:03"),
        pd.Timestamp("2024-04-05"),
    ]
    assert pd.isna(got[2]) and got[3] == pd.Timestamp("2024-04-05")


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("given_codes", [False, True])
def test_reused_ids_match_groupby_reference(grouped, given_codes):
    # Ids in any order or listed together (runs, as exports list them), with the
    # loader's id codes or without.
    from payseg._text import run_codes
    from payseg.data import _reused_ids

    rng = np.random.default_rng(0)
    n = 5_000
    draw = rng.integers(0, 800, n)
    if grouped:
        draw = np.sort(draw)
    ids = pd.Series([f"{i:06d}" for i in draw], dtype="str")
    units = np.array(["城东供电所", "城西供电所", "", None], dtype=object)
    region = pd.Series(units[rng.choice(4, n, p=[0.9, 0.07, 0.02, 0.01])])
    pay = pd.DataFrame({"customer_id": ids[: n // 2], "region": region[: n // 2]})
    bills = pd.DataFrame(
        {
            "customer_id": ids[n // 2 :].reset_index(drop=True),
            "region": pd.Categorical(region[n // 2 :]),
        }
    )
    both = pd.concat([pay, bills.astype({"region": object})], ignore_index=True)
    both = both[both["region"].notna() & (both["region"] != "")]
    want = both.groupby("customer_id")["region"].nunique()
    want = sorted(want[want > 1].index)
    codes = [run_codes(t["customer_id"]) for t in (pay, bills)] if given_codes else None
    got = list(_reused_ids([pay, bills], codes))
    assert got == want and len(want) > 0


def test_repeated_bills_match_pandas_duplicated():
    from payseg.data import _repeated_bills

    rng = np.random.default_rng(1)
    n = 5_000
    ids = pd.Series([f"{i:05d}" for i in rng.integers(0, 600, n)], dtype="str")
    ids[rng.random(n) < 0.05] = "A-7"  # an id that is not all digits
    months = rng.integers(0, 30, n)
    period = pd.Series(
        pd.PeriodIndex.from_ordinals(months + 648, freq="M"), dtype="period[M]"
    )
    period[rng.random(n) < 0.1] = pd.NaT
    bills = pd.DataFrame({"customer_id": ids, "period": period})
    want = bills.duplicated(["customer_id", "period"], keep=False) & period.notna()
    got = _repeated_bills(bills)
    assert want.sum() > 0 and (got.to_numpy() == want.to_numpy()).all()


def test_id_key_equal_for_equal_ids_and_repeated_keys():
    from payseg._ledger import repeated_keys
    from payseg._parsers import id_key

    ids = pd.Series(["0012", "12", "0012", "ab", "", "ab", "9" * 19, "9" * 19])
    key = id_key(ids)
    # Equal ids give equal keys; '0012' and '12' differ by length.
    assert key[0] == key[2] and key[3] == key[5] and key[6] == key[7]
    assert key[0] != key[1]
    want = pd.Series(key).duplicated(keep=False).to_numpy()
    assert repeated_keys(key.astype(np.uint64)).tolist() == want.tolist()
    assert not repeated_keys(np.arange(5, dtype=np.uint64)).any()


def test_date_kernel_slices_read_as_one(monkeypatch):
    # The kernel reads the column in slices sharing one cache of parsed parts:
    # slices of 7 rows give what one slice gives.
    rng = np.random.default_rng(4)
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        rng.integers(0, 400 * 86_400, 2_000), unit="s"
    )
    col = pd.concat(
        [
            pd.Series(stamps.strftime("%Y-%m-%d %H:%M:%S"), dtype=object),
            _column(DATE_SPELLINGS, 600, 4),
        ],
        ignore_index=True,
    )
    whole = parse_dates(col).to_numpy()
    monkeypatch.setattr(_parsers, "_FAST_SLICE", 7)
    assert np.array_equal(parse_dates(col).to_numpy(), whole, equal_nan=True)
    assert (whole[:2_000] == stamps.to_numpy()).all()


def test_arrow_times_of_day_match_the_regex_reader():
    import pyarrow as pa

    texts = [
        f"{h}:{m:02d}:{s:02d}"
        for h in range(26)
        for m in (0, 7, 59, 60)
        for s in (0, 59, 60)
    ]
    texts += [f"{h:02d}:{m:02d}" for h in range(25) for m in range(0, 61, 6)]
    texts += [
        "10:30:00.5",
        "1:2",
        "",
        "10时30分",
        "下午",
        "9:5",
        "123:00",
        "10:30:0",
        "１０:３０",
    ]
    got = _parsers._time_seconds_arrow(pa.array(texts))
    assert got.tolist() == _parsers._time_seconds(texts).tolist()
    assert got[texts.index("23:59:59")] == 86_399 and got[texts.index("24:00")] == -1


def test_categorical_columns_clean_like_text():
    # A Parquet dictionary column reaches the cleaners as a categorical (with
    # unused categories, missing cells, spellings to fold): its region and channel
    # come out as from the same column as text.
    from payseg._clean import _categorical

    text = pd.Series(
        ["城南供电所", "Ｂ所", "", None, "B所", "城南供电所 ", "东区"] * 200
    )
    cat = text.astype(
        pd.CategoricalDtype(
            ["未用", "东区", "城南供电所", "Ｂ所", "B所", "城南供电所 ", ""]
        )
    )
    keep = np.arange(len(text)) % 3 != 0
    want = _categorical(text.astype("str"), keep)
    got = _categorical(cat, keep)
    assert list(got.categories) == list(want.categories)
    assert np.array_equal(got.codes, want.codes)
    assert "未用" not in got.categories and "B所" in got.categories


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["", " ", "-", "Ｂ所", "B所", "东区 "])),
        max_size=30,
    ),
    st.integers(min_value=0, max_value=300),
    st.booleans(),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_categorical_is_the_sorted_folded_labels_of_kept_rows(
    cells, n_more, as_category, seed
):
    # Reference, cell by cell: folded (NFKC, stripped, placeholders empty), empty
    # and missing cells missing. n_more
    # distinct units push the codes past int8 (the narrowing is on the labels).
    from payseg._clean import _categorical
    from payseg._text import fold

    cells = cells + [f"供电所{i:03d}" for i in range(n_more)]
    keep = np.random.default_rng(seed).random(len(cells)) < 0.7
    text = pd.Series(cells, dtype=object)
    if as_category:
        text = text.astype("category")
    got = _categorical(text, keep)
    every = ["" if c is None else fold([c])[0] for c in cells]
    labels = [x for x, k in zip(every, keep) if k]
    # Categories: the labels of every row, rejected ones too (a region whose
    # rows were all rejected still has its name).
    assert list(got.categories) == sorted({x for x in every if x})
    assert [("" if pd.isna(v) else v) for v in got] == labels


@pytest.mark.parametrize("ordered", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_repeated_keys_match_numpy_isin(seed, ordered):
    # Shuffled keys go through the sort, keys in order (bills sorted by customer
    # and period) through the neighbour comparison: both as numpy's isin says.
    from payseg._ledger import repeated_keys

    rng = np.random.default_rng(seed)
    key = rng.integers(0, [50, 5_000, 2**63][seed], 20_000, dtype=np.uint64)
    key[:3] = np.iinfo(np.uint64).max  # the largest key repeats
    if ordered:
        key = np.sort(key)
    values, counts = np.unique(key, return_counts=True)
    want = np.isin(key, values[counts > 1])
    assert want.any()
    assert np.array_equal(repeated_keys(key), want)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_repeated_keys_of_signed_keys(dtype):
    from payseg._ledger import repeated_keys

    rng = np.random.default_rng(5)
    key = rng.integers(-3_000, 3_000, 10_000).astype(dtype)
    # Keys equal in their low 22 bits but not equal: the prefilter lets both
    # through, the search tells them apart.
    key[:4] = [-1, (1 << 22) - 1, -(1 << 30), 0]
    values, counts = np.unique(key, return_counts=True)
    assert np.array_equal(repeated_keys(key), np.isin(key, values[counts > 1]))


FIXED_WIDTH_SPELLINGS = [
    "2024-04-30 07:51:43",
    "2024/04/30 07:51:43",
    "2024.04.30 07:51",
    "2024/04/30",
    "20240430",
    "2024-04/30 10:00",
    "2024/04.30",
    "2024-13-01",
    "2024-00-10",
    "2024-04-00",
    "2024-04-31",
    "2024-02-29 12:00",
    "2023-02-29",
    "2000-02-29",
    "1989-12-31",
    "2100-01-01 00:00:00",
    "2024-04-30 23:59:60",
    "2024-04-30 24:00",
    "2024-04-30 10:3a",
    "2024-04-30x10:30",
    "2024-04-30 10-30-00",
    "2024 04 30",
    "  2024-04-30 10:30 ",
    "２０２４－０４－３０ １０：３０",
    "2024年04月30",
    "2024-04-3０",
    "12345678",
    "99999999",
    "2024-4-30 7:51",
    "",
]


def test_fixed_width_dates_match_the_split_kernel(monkeypatch):
    # The byte-level reader of fixed-width forms takes only values the split
    # kernel reads, to the same stamp; the rest go to the split kernel as before.
    from payseg._text import arrow_text

    rng = np.random.default_rng(7)
    stamps = pd.Series(
        pd.Timestamp("2023-01-01")
        + pd.to_timedelta(rng.integers(0, 3 * 365 * 86_400, 3_000), unit="s")
    )
    col = pd.concat(
        [
            _column(FIXED_WIDTH_SPELLINGS, 2_000, 7),
            stamps.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object),
            stamps.dt.strftime("%Y/%m/%d %H:%M").astype(object),
        ],
        ignore_index=True,
    )
    col[rng.random(len(col)) < 0.01] = None
    text = arrow_text(col)
    fixed, done = _parsers._fixed_width_dates(text)
    split, _ = _parsers._fast_dates_slice(text.combine_chunks(), {})
    assert done.sum() > 5_000
    assert (fixed[done] == split[done]).all()
    # By hand.
    hand = pd.Series(["2024/04/30 07:51", "20240229", "2024-02-30", "2024.04.30"])
    s, d = _parsers._fixed_width_dates(arrow_text(hand))
    assert d.tolist() == [True, True, False, True]
    assert list(s[d].view("datetime64[ns]")) == [
        np.datetime64("2024-04-30T07:51"),
        np.datetime64("2024-02-29"),
        np.datetime64("2024-04-30"),
    ]
    got = _parsers._fast_dates(text)

    def none_done(text):
        n = len(text)
        return np.full(n, _parsers._NAT_NS), np.zeros(n, dtype=bool)

    monkeypatch.setattr(_parsers, "_fixed_width_dates", none_done)
    want = _parsers._fast_dates(text)
    assert np.array_equal(got[0], want[0], equal_nan=True)
    assert (got[1] == want[1]).all()


@pytest.mark.parametrize("fmt", ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"])
@pytest.mark.parametrize(
    "odd", [None, "2024-02-30", "1989-12-31", "2100-01-01", "2024-04-30T10:30:00"]
)
def test_iso_cast_reads_what_the_byte_kernel_reads(monkeypatch, fmt, odd):
    # Arrow's ISO cast of a clean column gives the byte kernel's stamps and mask;
    # an odd value (a day that does not exist, outside the window, a T) either
    # stays unread by both or sends the block to the byte kernel.
    from payseg._text import arrow_text

    rng = np.random.default_rng(11)
    stamps = pd.Timestamp("1990-01-01") + pd.to_timedelta(
        rng.integers(0, 110 * 365 * 86_400, 5_000), unit="s"
    )
    col = pd.Series(stamps.strftime(fmt), dtype=object)
    width = len(col[0])
    if odd is not None:
        odd = (odd + " 10:30:00")[:width] if len(odd) == 10 else odd[:width]
        col[::97] = odd
    text = arrow_text(col)
    got = _parsers._fixed_width_dates(text)
    calls = []
    real = _parsers._iso_block
    monkeypatch.setattr(
        _parsers, "_iso_block", lambda *a: calls.append(real(*a)) or None
    )
    want = _parsers._fixed_width_dates(text)
    assert np.array_equal(got[1], want[1])
    assert np.array_equal(got[0], want[0])
    assert got[1].sum() > 4_000
    # The cast did the clean columns (not only the fallback).
    refused = odd is not None and (odd.startswith("2024-02-30") or "T" in odd)
    assert (calls[0] is None) == refused


@pytest.mark.parametrize("order", ["grouped", "shuffled"])
def test_run_codes_match_dictionary_encoding(order):
    # Codes from runs of equal neighbours equal the plain dictionary encoding of
    # the whole column, in id order or not (one value per run is hashed).
    import pyarrow as pa
    import pyarrow.compute as pc

    from payseg._text import run_codes

    rng = np.random.default_rng(3)
    ids = np.repeat([f"{i:06d}" for i in range(300)], rng.integers(1, 30, 300))
    ids = np.concatenate([ids, ["", "00001", "000001", "Ｂ7", "000001"]])
    if order == "shuffled":
        ids = ids[rng.permutation(len(ids))]
    col = pd.Series(ids, dtype="str")
    codes, uniques = run_codes(col)
    want = pc.dictionary_encode(pa.array(ids))
    assert codes.tolist() == np.asarray(want.indices).tolist()
    assert uniques.to_pylist() == want.dictionary.to_pylist()
    assert (np.asarray(uniques.to_pylist(), dtype=object)[codes] == ids).all()
    # A Parquet read's chunks, a run crossing a chunk boundary: the same codes.
    bounds = [0, 1, 17, 17, 400, len(ids)]
    chunked = pa.chunked_array(
        [pa.array(ids[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    )
    c2, u2 = run_codes(chunked)
    assert c2.tolist() == codes.tolist() and u2.to_pylist() == uniques.to_pylist()
    empty, none = run_codes(pd.Series([], dtype="str"))
    missing, uniques = run_codes(pa.array(["a", None, "a", None]))
    assert missing.tolist() == [0, -1, 0, -1] and uniques.to_pylist() == ["a"]
    assert len(empty) == 0 and len(none) == 0


@pytest.mark.parametrize("nulls", [False, True])
def test_factorize_text_matches_pandas_on_chunked_columns(nulls):
    # Arrow's chunk-by-chunk encoding gives pandas' codes and order of first
    # appearance, missing values -1, whether the column comes in one chunk or many.
    import pyarrow as pa

    from payseg._text import factorize_text

    rng = np.random.default_rng(4)
    values = np.array([f"{v:.2f}" for v in rng.integers(0, 500, 3_000) / 4], object)
    if nulls:
        values[rng.random(len(values)) < 0.05] = None
    for chunks in (1, 7):
        parts = np.array_split(values, chunks)
        col = pd.Series(
            pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(p) for p in parts]))
        ).astype("str")
        codes, uniques = factorize_text(col)
        want_codes, want_uniques = pd.factorize(pd.Series(values, dtype=object))
        assert codes.tolist() == want_codes.tolist()
        assert uniques.tolist() == list(want_uniques)
        assert uniques.dtype == "str"


def test_bills_in_a_second_thread_load_as_in_turn(tmp_path, monkeypatch):
    # Large bill files are loaded in a second thread while the payments are: the
    # tables, ledger, counts, notes and health are those of loading in turn.
    import threading
    import warnings

    import payseg
    from payseg import _clean, data

    raw = payseg.synth.generate(60, seed=5, months=6)
    payseg.synth.write(raw, tmp_path, format="parquet", seed=5)
    files = {k: tmp_path / f"{k}.parquet" for k in ("payments", "bills", "customers")}
    # Rows for the ledger and the notes: a day-first date, an impossible one, a
    # repeated row, an amount that is no number, an unknown channel.
    import pyarrow as pa
    import pyarrow.parquet as pq

    for kind, rows in {
        "bills": [
            {"发行日期": "15/01/2024", "电费年月": "202401"},
            {"发行日期": "2024-13-45", "电费年月": "202402"},
            {"应收金额": "abc", "电费年月": "202403"},
        ],
        "payments": [{"缴费方式": "飞鸽传书"}, {"实收金额": "¥"}],
    }.items():
        table = pq.read_table(files[kind])
        first = table.slice(0, 1).to_pylist()[0]
        extra = pa.Table.from_pylist(
            [{**first, **row} for row in rows] + [first], schema=table.schema
        )
        pq.write_table(pa.concat_tables([table, extra]), files[kind])
    threads = []
    cust_threads = []

    def spying(clean, seen):
        def spy(*args, **kw):
            seen.append(threading.current_thread().name)
            return clean(*args, **kw)

        return spy

    monkeypatch.setattr(data, "clean_bills", spying(_clean.clean_bills, threads))
    monkeypatch.setattr(
        data, "clean_customers", spying(_clean.clean_customers, cust_threads)
    )

    def load():
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            out = payseg.load(
                files["payments"], bills=files["bills"], customers=files["customers"]
            )
        return out, sorted(str(w.message) for w in seen)

    monkeypatch.setattr(data, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(data, "PARALLEL_MAX_ROWS", 0)  # too many rows: in turn
    (seq, seq_warned), in_turn = load(), threads[-1]
    monkeypatch.setattr(data, "PARALLEL_MAX_ROWS", 10**9)
    par, par_warned = load()
    assert in_turn == threading.current_thread().name
    assert threads[-1].startswith("payseg-bills")
    # The customers file is checked after the bills, in their thread.
    assert cust_threads[0] == in_turn and cust_threads[-1] == threads[-1]
    assert par.encodings == seq.encodings and par.sources == seq.sources
    pd.testing.assert_frame_equal(par.payments, seq.payments)
    pd.testing.assert_frame_equal(par.bills, seq.bills)
    pd.testing.assert_frame_equal(par.customers, seq.customers)
    pd.testing.assert_frame_equal(par.rejected, seq.rejected)
    assert par.counts == seq.counts and par.notes == seq.notes
    assert par.health == seq.health and par_warned == seq_warned
    assert len(seq.bills) > 0 and len(seq.notes) > 0 and len(seq.rejected) >= 5
    assert set(seq.rejected["source"].str.rsplit("/", n=1).str[-1]) >= {
        "payments.parquet",
        "bills.parquet",
    }


def test_two_digit_table_reads_every_pair_and_nothing_else():
    pairs = np.array([[48 + a, 48 + b] for a in range(10) for b in range(10)], np.uint8)
    assert _parsers._two_digits()[pairs.view("<u2")[:, 0]].tolist() == list(range(100))
    odd = np.array([[47, 48], [48, 58], [32, 49], [0, 0], [255, 57]], np.uint8)
    assert (_parsers._two_digits()[odd.view("<u2")[:, 0]] == 255).all()


@pytest.mark.parametrize(
    "cell",
    [" 12", "12 ", "\t12", "12\r\n", "'12", '="12"', "\u300012", "12\u3000", "=12"],
)
def test_arrow_text_trims_only_when_an_end_needs_it(cell):
    from payseg._text import STRIP, _ends_to_strip, arrow_text

    plain = pd.Series(["12", "元", "a b", "", None] * 300, dtype="str")
    assert not _ends_to_strip(arrow_text(plain))
    assert arrow_text(plain).to_pylist() == [
        v.strip(STRIP) if isinstance(v, str) else "" for v in plain.tolist()
    ]
    # One padded cell anywhere (the last of a sliced chunk too) is trimmed.
    padded = pd.concat([plain, pd.Series([cell], dtype="str")], ignore_index=True)
    got = arrow_text(padded.iloc[1:])
    assert got.to_pylist()[-1] == "12"
    assert got.to_pylist()[:-1] == arrow_text(plain.iloc[1:]).to_pylist()


def test_merged_codes_equal_for_equal_ids_across_tables(tmp_path):
    # The health checks of load reuse the cleaners' id codes of each file, merged
    # into one coding; the checks must count what they count on the ids themselves.
    from payseg.data import _health

    def pay(rows):
        return pd.DataFrame(rows, columns=["户号", "缴费日期", "金额", "供电单位"])

    pay(
        [
            ["100", "2025-04-01 10:00:00", "50", "城东所"],
            ["200", "2025-04-02 10:00:00", "20", "城东所"],
            ["300", "2025-04-03 10:00:00", "30", "城西所"],
        ]
    ).to_csv(tmp_path / "p1.csv", index=False)
    pay(
        [
            ["300", "2025-05-03 10:00:00", "30", "城西所"],
            ["100", "2025-05-01 10:00:00", "50", "城西所"],  # 100 in a second unit
            ["400", "2025-05-04 10:00:00", "10", "城南所"],
        ]
    ).to_csv(tmp_path / "p2.csv", index=False)
    bills = pd.DataFrame(
        {
            "户号": ["400", "200", "200", "500", "400"],
            "电费年月": ["202504", "202504", "202504", "202504", "202505"],
            "应收金额": ["10", "20", "21", "5", "10"],
            "供电单位": ["城南所", "城北所", "城东所", "城南所", "城南所"],
        }
    )
    bills.iloc[:3].to_csv(tmp_path / "b1.csv", index=False)
    bills.iloc[3:].to_csv(tmp_path / "b2.csv", index=False)
    with pytest.warns(UserWarning, match="more than one 供电单位"):
        data = payseg.load(
            sorted(tmp_path.glob("p*.csv")), bills=sorted(tmp_path.glob("b*.csv"))
        )
    # By hand: ids 100 (城东/城西) and 200 (城北/城东) have two units; 200 has
    # two bills of 2025-04.
    assert data.health["reused_ids"] == 2
    assert data.health["duplicated_bills"] == 2
    with pytest.warns(UserWarning):
        again = _health(data, {}, False)  # without the loader's codes
    for key in ("reused_ids", "duplicated_bills", "customers_with_duplicated_bills"):
        assert data.health[key] == again[key]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_amounts_arrow_reads_whole_equal_the_general_parser(dtype):
    # Every value a number to Arrow: the column is cast in one pass; the general
    # parser, value by value, is the reference.
    castable = ["129.28", "-0", "1e5", "inf", "+3", ".5", "7.", "0012.10", None]
    col = _column(castable, 2_000, 4).astype(dtype)
    alone = {
        v: _parse_amount_text(as_text(pd.Series([v], dtype=object)))[0] + 0.0
        for v in castable
    }
    want = np.array([alone[v] if isinstance(v, str) else np.nan for v in col])
    got = parse_amounts(col).to_numpy()
    assert _parsers._cast_plain(col) is not None  # the one-pass cast was taken
    assert np.array_equal(got, want, equal_nan=True)
    assert not np.signbit(got[col.to_numpy(dtype=object) == "-0"]).any()  # -0 is 0
    # One value that is not a number sends the column to the other kernels.
    assert _parsers._cast_plain(pd.concat([col, pd.Series(["12元"])])) is None


def test_customers_error_in_the_bills_thread_is_raised_in_order(tmp_path, monkeypatch):
    # With the customers checked in the bills' thread, a damaged customers file
    # still fails the load with the error one thread gives, and a bills error
    # still comes first.
    from payseg import data

    raw = payseg.synth.generate(40, seed=6, months=4)
    payseg.synth.write(raw, tmp_path, format="parquet", seed=6)
    files = {k: tmp_path / f"{k}.parquet" for k in ("payments", "bills", "customers")}
    files["customers"].write_bytes(b"PAR1 not a parquet file PAR1")
    monkeypatch.setattr(data, "PARALLEL_BYTES", 0)

    def message(max_rows):
        monkeypatch.setattr(data, "PARALLEL_MAX_ROWS", max_rows)
        with pytest.raises(payseg.PaymentDataError) as err:
            payseg.load(
                files["payments"], bills=files["bills"], customers=files["customers"]
            )
        return str(err.value)

    assert message(0) == message(10**9)
    assert "customers.parquet" in message(10**9)
    files["bills"].write_bytes(b"")
    assert "bills.parquet" in message(10**9) and message(0) == message(10**9)


@settings(max_examples=60, deadline=None)
@given(
    pay=st.lists(
        st.tuples(st.sampled_from(["001", "002", "A-7", "x"]), st.integers(-1, 30)),
        max_size=40,
    ),
    bills=st.lists(
        st.tuples(st.sampled_from(["001", "002", "003", "x"]), st.integers(-1, 30)),
        max_size=40,
    ),
    bitmap=st.booleans(),
)
def test_payments_without_bill_match_a_set_of_pairs(pay, bills, bitmap):
    # Month -1 is a missing period; ``bitmap=False`` takes the sorted-keys path.
    from unittest import mock

    from payseg import data

    def frame(rows):
        period = [
            pd.Period(ordinal=648 + m, freq="M") if m >= 0 else pd.NaT for _, m in rows
        ]
        return pd.DataFrame(
            {
                "customer_id": pd.Series([i for i, _ in rows], dtype="str"),
                "period": pd.Series(period, dtype="period[M]"),
            }
        )

    billed = {(i, m) for i, m in bills if m >= 0}
    want = sum((i, m) not in billed for i, m in pay if m >= 0)
    cells = data._BITMAP_CELLS if bitmap else 0
    with mock.patch.object(data, "_BITMAP_CELLS", cells):
        assert data._payments_without_bill(frame(pay), frame(bills)) == want


@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(
        st.lists(st.one_of(st.none(), st.text(max_size=3)), min_size=0, max_size=6),
        min_size=1,
        max_size=5,
    ),
    data=st.data(),
)
def test_take_rows_of_chunked_columns_equal_iloc(chunks, data):
    import pyarrow as pa

    from payseg._text import decode_categoricals, take_rows

    col = pd.Series(pd.array(pa.chunked_array(chunks, pa.large_string()), dtype="str"))
    n = len(col)
    frame = pd.DataFrame(
        {"text": col, "n": np.arange(n), "cat": col.astype("category")}
    )
    picked = (
        data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n)) if n else set()
    )
    positions = np.array(sorted(picked), dtype=np.int64)
    want = frame.iloc[positions].reset_index(drop=True)
    taken = take_rows(frame, positions)
    pd.testing.assert_frame_equal(taken, want)
    # The duplicate check compares the taken rows with categories decoded.
    decoded = decode_categoricals(taken)
    assert decoded["cat"].isna().tolist() == want["text"].isna().tolist()
    assert decoded["cat"].dropna().tolist() == want["text"].dropna().tolist()
    assert decoded.duplicated().tolist() == want.duplicated().tolist()


_CUSTOMER_CELLS = [
    None,
    "",
    "-",
    "NULL",
    "预付费",
    " 费控表 ",
    "后付费",
    "普通表",
    "IC卡预付费",
    "Prepaid",
    "是",
    "否",
    "1",
    "0",
    "有窃电",
    "无窃电",
    "不窃电",
    "窃电",
    "居民生活用电",
    "非居民照明",
    "一般工商业",
    "居民",
    "ＹＥＳ",
    "\u3000true",
]


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(st.sampled_from(_CUSTOMER_CELLS), min_size=1, max_size=40),
    kind=st.sampled_from(["str", "category", "object"]),
    data=st.data(),
)
def test_customer_attributes_per_label_equal_row_by_row(cells, kind, data):
    """Meter type, theft flag and customer type read once per distinct cell (the
    loader) equal the same readers run on every row."""
    from payseg._clean import _customer_type, _meter, _per_label, _theft

    series = pd.Series(cells, dtype=kind)
    keep = np.array(
        data.draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells))),
        dtype=bool,
    )
    for read in (_meter, _theft, _customer_type):
        want = read(as_text(series)[keep])
        got = _per_label(series, keep, read)
        assert _plain(got) == _plain(want)
        if isinstance(want, pd.Categorical):
            assert list(got.categories) == list(want.categories)


def _plain(values) -> list:
    return [None if pd.isna(v) else v for v in np.asarray(values, dtype=object)]


def _row_key_by_hand(columns) -> list[int]:
    """The duplicate check's row key, one row at a time with Python ints: each
    column's value as its 64-bit two's-complement bits (NaN as -1.0), XORed into
    the key, then the key times the FNV prime modulo 2**64."""
    import struct

    keys = []
    for row in zip(*columns, strict=True):
        key = 0
        for value in row:
            if isinstance(value, float):
                value = -1.0 if np.isnan(value) else value
                bits = struct.unpack("<Q", struct.pack("<d", value))[0]
            elif isinstance(value, bool):
                bits = int(value)
            else:
                bits = int(value) % 2**64
            key = ((key ^ bits) * 0x100000001B3) % 2**64
        keys.append(key)
    return keys


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 40),
    dtypes=st.lists(
        st.sampled_from(["int8", "int32", "int64", "float64", "bool"]),
        min_size=1,
        max_size=4,
    ),
    seed=st.integers(0, 2**32 - 1),
    slice_rows=st.sampled_from([1, 3, 16, 1 << 18]),
)
def test_row_key_matches_the_key_by_hand(n, dtypes, seed, slice_rows):
    # The key is mixed in slices of rows: any slice size gives the same keys as
    # the row-by-row definition (negative ints, NaN and bools included).
    from payseg import _ledger

    rng = np.random.default_rng(seed)
    columns = []
    for dtype in dtypes:
        if dtype == "float64":
            v = rng.normal(0, 1e6, n)
            v[rng.random(n) < 0.3] = np.nan
        elif dtype == "bool":
            v = rng.random(n) < 0.5
        else:
            info = np.iinfo(dtype)
            v = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
        columns.append(v)
    with pytest.MonkeyPatch.context() as mp, np.errstate(over="ignore"):
        mp.setattr(_ledger, "_KEY_SLICE", slice_rows)
        got = _ledger._row_key(columns)
    assert got.dtype == np.uint64
    py = [[x.item() for x in c] for c in columns]
    assert got.tolist() == _row_key_by_hand(py)


@settings(max_examples=30, deadline=None)
@given(
    amounts=st.lists(
        st.sampled_from([-50.0, -20.0, 20.0, 50.0, 80.0]), min_size=1, max_size=30
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_reversals_without_status_equal_an_empty_status_column(amounts, seed):
    # Without a status column the reversal rules skip the status comparisons; the
    # pairs, rejections and counts equal those of a status column of '' everywhere.
    from payseg._ledger import Ledger
    from payseg._reversals import match_reversals

    rng = np.random.default_rng(seed)
    n = len(amounts)
    raw = pd.DataFrame({"customer_id": rng.choice(["a", "b"], n)})
    ids = raw["customer_id"].astype("str")
    days = np.sort(rng.integers(0, 120, n))
    paid = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"))
    amount = pd.Series(amounts, dtype="float64")
    results = []
    for status in (None, np.full(n, "", dtype=object)):
        ledger = Ledger(raw, "f.csv", 2, None)
        counts = match_reversals(ledger, ids, paid, amount, status)
        results.append((counts, ledger.alive.tolist()))
    assert results[0] == results[1]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 3), st.integers(0, 4), st.sampled_from(["1.00", "2.50"])
        ),
        min_size=1,
        max_size=40,
    ),
    order=st.booleans(),
    dead=st.lists(st.integers(0, 39), max_size=5),
)
def test_duplicates_of_ordered_rows_equal_the_full_check(rows, order, dead):
    # Rows in (id, time) order are keyed only where a neighbour has the same id
    # and time; what is rejected, and as a repeat of which line, equals the check
    # of every row's key (rows out of order, and rows already rejected, included).
    from payseg import _ledger
    from payseg._ledger import Ledger, reject_duplicates

    if order:
        rows = sorted(rows)
    raw = pd.DataFrame(rows, columns=["customer_id", "paid_at", "amount"]).astype(str)
    parsed = [
        np.array([r[0] for r in rows]),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([float(r[2]) for r in rows]),
    ]
    results = []
    for neighbours in (True, False):
        ledger = Ledger(raw, "f.csv", 2, None)
        gone = np.zeros(len(rows), dtype=bool)
        gone[[d for d in dead if d < len(rows)]] = True
        ledger.reject(gone, "amount", "already rejected")
        with pytest.MonkeyPatch.context() as mp:
            if not neighbours:
                mp.setattr(_ledger, "_neighbour_candidates", lambda a, b: None)
            dup = reject_duplicates(ledger, parsed, order=parsed[:2])
        results.append((dup.tolist(), ledger.alive.tolist(), ledger.frame()))
    assert results[0][:2] == results[1][:2]
    pd.testing.assert_frame_equal(results[0][2], results[1][2])


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.sampled_from(["2024-01-05", "x", "2024/2/1", " 7 "])),
        min_size=1,
        max_size=30,
    ),
    extra=st.lists(st.sampled_from(["unused", "2023-12-31", "zz"]), max_size=3),
    shuffle=st.booleans(),
)
def test_per_distinct_of_a_categorical_equals_its_text(values, extra, shuffle):
    # A categorical column is parsed per used category, from its own codes: the
    # same values, and parse sees the same distinct texts in the same order (first
    # appearance; unused categories left out), as for the column as text.
    from payseg._text import per_distinct, repeats

    values = values * (1_000 // len(values) + 1)  # enough rows to parse per value
    text = pd.Series(values, dtype="str")
    cats = list(dict.fromkeys([v for v in values if v is not None] + extra))
    if shuffle:
        cats = cats[::-1]
    cat = pd.Series(pd.Categorical(values, categories=cats))
    seen = []

    def parse(folded):
        seen.append(list(folded))
        return folded.str.len().to_numpy()

    assert repeats(cat) and repeats(text)
    want = per_distinct(text, parse, -1)
    got = per_distinct(cat, parse, -1)
    np.testing.assert_array_equal(got, want)
    assert seen[0] == seen[1]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "d", "ab"]), max_size=12),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
)
def test_merge_codes_decode_to_the_values_of_every_part(tables, same):
    # Each part's codes decode, through the merged distinct values, to that part's
    # values, and the distinct values are distinct. ``same`` makes every part the
    # same values (each part's dictionary equal to the first's).
    import pyarrow as pa

    from payseg._text import merge_codes, run_codes

    if same:
        tables = [tables[0]] * len(tables)
    parts = [run_codes(pa.array(t, pa.string())) for t in tables]
    codes, distinct = merge_codes(parts)
    values = distinct.to_pylist()
    assert len(set(values)) == len(values)
    assert [values[c] for c in codes] == [v for t in tables for v in t]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just(np.iinfo(np.int64).min),  # NaT
            st.integers(min_value=-(10**18), max_value=4 * 10**18),
        ),
        max_size=30,
    ),
    st.integers(min_value=1, max_value=8),
    st.booleans(),
)
def test_days_and_timed_are_floor_days_and_nonzero_times(stamps, chunk, all_timed):
    # Reference with Python integers: floor division by a day, and a remainder.
    from payseg._clean import _days_and_timed

    day_ns = 86_400 * 10**9
    day, timed = _days_and_timed(np.array(stamps, dtype=np.int64), all_timed, chunk)
    assert day.tolist() == [s // day_ns for s in stamps]
    assert timed.tolist() == [all_timed or s % day_ns != 0 for s in stamps]
