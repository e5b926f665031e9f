"""Out-of-core and Dask back-ends give the answers of the in-memory pandas path."""

from __future__ import annotations

import os
import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest

import payseg
from payseg.data import PaymentDataError, check_ledger
from payseg.scale import (
    BucketedTable,
    build_features_out_of_core,
    dask_build_features,
    dask_segment,
    parse_bytes,
    sample_mask,
    segment_out_of_core,
)

# BLAS may sum the 12-month trend dot product in another order for another number of
# rows (one ulp); everything else is bit for bit.
TOL = {"check_exact": False, "rtol": 1e-12, "atol": 1e-15}


@pytest.fixture(scope="module")
def data():
    return payseg.synth.generate(400, seed=3, months=8)


def _write_split(data, tmp_path):
    """Payments in two files cut mid-customer, bills and customers in one each."""
    pdir = tmp_path / "payments"
    pdir.mkdir()
    half = len(data.payments) // 2 + 7
    data.payments.iloc[:half].to_parquet(pdir / "p1.parquet")
    data.payments.iloc[half:].to_parquet(pdir / "p2.parquet")
    data.bills.to_parquet(tmp_path / "bills.parquet")
    data.customers.reset_index().to_parquet(tmp_path / "customers.parquet")
    return pdir, tmp_path / "bills.parquet", tmp_path / "customers.parquet"


def _load(paths):
    pdir, bills, customers = paths
    return payseg.load(pdir, bills=bills, customers=customers)


@pytest.mark.parametrize("n_buckets", [1, 5])
def test_out_of_core_equals_in_memory(data, tmp_path, n_buckets):
    paths = _write_split(data, tmp_path)
    ref_data = _load(paths)
    ref = payseg.build_features(ref_data)
    table = build_features_out_of_core(
        *paths, n_buckets=n_buckets, out=tmp_path / "w", progress=False
    )
    pd.testing.assert_frame_equal(table.to_pandas(), ref, **TOL)
    assert table.counts == ref_data.counts
    pd.testing.assert_frame_equal(table.rejected, ref_data.rejected)


def test_two_processes_same_result(data, tmp_path):
    paths = _write_split(data, tmp_path)
    X = build_features_out_of_core(*paths, n_buckets=3, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(X, payseg.build_features(_load(paths)), **TOL)


def test_split_in_small_blocks_keeps_file_order_and_ledger(tmp_path, monkeypatch):
    # Input files split in blocks of 50 rows (each block one record batch per
    # bucket), Parquet row groups of 37 rows with their own channel dictionaries,
    # defects in the files: same features and ledger (file lines) as in memory.
    from payseg.scale import _partition

    monkeypatch.setattr(_partition, "SPLIT_ROWS", 50)
    data = payseg.synth.generate(120, seed=7, months=4)
    payseg.synth.write(data, tmp_path, format="parquet", defects=0.05, seed=3)
    files = [tmp_path / f"{k}.parquet" for k in ("payments", "bills", "customers")]
    pay = pd.read_parquet(files[0])
    pay.to_parquet(files[0], row_group_size=37)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_data = payseg.load(*files)
        ref = payseg.build_features(ref_data)
        table = build_features_out_of_core(
            *files, n_buckets=3, out=tmp_path / "w", progress=False
        )
    assert len(ref_data.rejected) > 0
    pd.testing.assert_frame_equal(table.to_pandas(), ref, **TOL)
    pd.testing.assert_frame_equal(table.rejected, ref_data.rejected)
    assert table.counts == ref_data.counts


def test_memory_limit_is_shared_by_the_jobs(data, tmp_path):
    # memory_limit bounds the whole run: two processes get buckets half the size
    # (600 bytes per payment or bill row, each process holds one bucket).
    paths = _write_split(data, tmp_path)
    rows = len(data.payments) + len(data.bills)
    limit = rows * 600 // 3 + 1  # 3 buckets for one process
    ref = payseg.build_features(_load(paths))
    for n_jobs, expected in ((1, 3), (2, 6)):
        table = build_features_out_of_core(
            *paths,
            memory_limit=limit,
            n_jobs=n_jobs,
            out=tmp_path / f"w{n_jobs}",
            progress=False,
        )
        assert len(table) == expected
        pd.testing.assert_frame_equal(table.to_pandas(), ref, **TOL)


def test_tiny_memory_budget_forces_buckets(data, tmp_path):
    paths = _write_split(data, tmp_path)
    table = build_features_out_of_core(
        *paths, memory_limit="600kB", out=tmp_path / "work", progress=False
    )
    assert len(table) > 3
    sizes = [len(X) for X in table]
    assert min(sizes) > 0 and sum(sizes) == data.n_customers
    # Buckets hold disjoint customers and every bucket is sorted.
    ids = pd.Index(np.concatenate([X.index.to_numpy() for X in table]))
    assert ids.is_unique
    assert all(X.index.is_monotonic_increasing for X in table)
    ref = payseg.build_features(_load(paths))
    pd.testing.assert_frame_equal(table.to_pandas(), ref, **TOL)
    assert set(table.timings) == {"partition", "load", "features"}


def test_export_files_with_defects_same_ledger(tmp_path):
    data = payseg.synth.generate(150, seed=5, months=5)
    payseg.synth.write(data, tmp_path, format="parquet", defects=0.05, seed=2)
    files = [tmp_path / f"{k}.parquet" for k in ("payments", "bills", "customers")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref_data = payseg.load(*files)
    ref = payseg.build_features(ref_data)
    with pytest.warns(UserWarning, match="unknown channel spellings rejected"):
        table = build_features_out_of_core(
            *files, n_buckets=4, out=tmp_path / "w", progress=False
        )
    pd.testing.assert_frame_equal(table.to_pandas(), ref, **TOL)
    rejected = table.rejected
    assert len(rejected) > 20
    pd.testing.assert_frame_equal(rejected, ref_data.rejected)
    # Rows read = rows kept + rows rejected, per source file.
    check_ledger(
        payseg.PaymentData(
            payments=ref_data.payments, rejected=rejected, counts=table.counts
        )
    )


def test_many_files_validated_together_keep_per_file_ledger(tmp_path):
    # A bucket's rows of all files go through the cleaner in one call: duplicates
    # are still found within a file only, lines and sources stay per file, and a
    # file with other headers (or other column types) still maps.
    # Times of day: exact repeats are export duplicates (without a time they would
    # be second payments of the day, kept).
    rows = [
        (
            f"{i:03d}",
            f"2024-0{1 + i % 6}-1{i % 9} 10:{i:02d}:0{i % 7}",
            "counter",
            10.0 + i,
        )
        for i in range(30)
    ]
    a = _frame(rows + [rows[3], rows[5], ("", "2024-01-02", "counter", 1.0)])
    # Other headers and text dates in one file only.
    b = pd.DataFrame(
        rows[:10] + [rows[7], ("004", "2024-13-01", "wechat", 2.0)],
        columns=["户号", "缴费日期", "缴费方式", "实收金额"],
    )
    c = a.iloc[[0, 1, 1]]
    for name, frame in {"a": a, "b": b, "c": c}.items():
        frame.to_parquet(tmp_path / f"{name}.parquet")
    custs = pd.DataFrame({"customer_id": ["001", "002", "001"], "meter": "postpaid"})
    custs.to_parquet(tmp_path / "cust.parquet")
    paths = [tmp_path / f"{n}.parquet" for n in "abc"]
    ref_data = payseg.load(paths, customers=tmp_path / "cust.parquet")
    assert (ref_data.rejected["reason"] == "exact duplicate row").sum() == 4
    table = build_features_out_of_core(
        paths,
        customers=tmp_path / "cust.parquet",
        n_buckets=3,
        out=tmp_path / "w",
        progress=False,
    )
    pd.testing.assert_frame_equal(table.rejected, ref_data.rejected)
    assert table.counts == ref_data.counts
    ref = payseg.build_features(ref_data)
    pd.testing.assert_frame_equal(table.to_pandas(), ref, **TOL)


def _frame(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "paid_at", "channel", "amount"])
    return frame.assign(
        customer_id=frame["customer_id"].astype("str"),
        paid_at=pd.to_datetime(frame["paid_at"], format="ISO8601"),
    )


def test_data_wide_channels_time_and_ids(tmp_path):
    # One customer alone uses alipay and alone pays at a time of day; ids are spelt
    # differently across files. Buckets lacking them must still match, and the
    # latest payment (the default as_of) sits in one bucket only.
    ids = [f"{i:04d}" for i in range(40)]
    first = _frame(
        [(c, "2024-01-05", "counter", 10.0 + i) for i, c in enumerate(ids)]
        + [("0007", "2024-02-03 19:30", "alipay", 5.0)]
    )
    second = _frame(
        [(" " + c, "2024-03-01", "wechat", 20.0) for c in ids[:20]]
        + [
            ("００１２", "2024-03-09", "counter", 3.0),
            ("0031", "2024-04-30 08:00", "counter", 1.0),
        ]
    )
    first.to_parquet(tmp_path / "a.parquet")
    second.to_parquet(tmp_path / "b.parquet")
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    ref = payseg.build_features(payseg.load(paths))
    assert "channel_share__alipay" in ref and ref["channel_share__alipay"].notna().all()
    assert ref["recency_days"].min() == 0
    X = build_features_out_of_core(paths, n_buckets=9, progress=False)
    pd.testing.assert_frame_equal(X, ref, **TOL)
    assert len(X) == 40 and X.loc["0012", "amount_total"] == 10.0 + 12 + 20 + 3


def test_as_of_families_fill(data, tmp_path):
    paths = _write_split(data, tmp_path)
    kw = {
        "families": ["value", "arrears", "channel"],
        "as_of": "2024-06-15",
        "fill": -1.0,
        "late_fee_rate": 0.002,
    }
    ref = payseg.build_features(_load(paths), **kw)
    X = build_features_out_of_core(*paths, n_buckets=3, progress=False, **kw)
    pd.testing.assert_frame_equal(X, ref, **TOL)
    assert not X.isna().any().any()


def test_resume_skips_done_buckets_and_repairs(data, tmp_path):
    paths = _write_split(data, tmp_path)
    work = tmp_path / "work"
    table = build_features_out_of_core(*paths, n_buckets=4, out=work, progress=False)
    first = table.to_pandas()
    stamp = {p.name: p.stat().st_mtime_ns for p in table.paths}
    # An interrupted run: one features file lost, a half-written temp file left.
    os.remove(table.paths[2])
    (work / "features" / "b00002.parquet.tmp").write_bytes(b"garbage")
    again = build_features_out_of_core(*paths, n_buckets=4, out=work, progress=False)
    pd.testing.assert_frame_equal(again.to_pandas(), first)
    after = {p.name: p.stat().st_mtime_ns for p in again.paths}
    assert [after[n] == stamp[n] for n in sorted(stamp)] == [True, True, False, True]
    # Other parameters: features are recomputed, not mixed with the old ones.
    other = build_features_out_of_core(
        *paths, n_buckets=4, out=work, progress=False, as_of="2024-05-31"
    )
    assert other.as_of == pd.Timestamp("2024-05-31")
    assert not other.to_pandas().equals(first)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_segment_out_of_core_matches_in_memory(data, tmp_path, n_jobs, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    paths = _write_split(data, tmp_path)
    table = build_features_out_of_core(
        *paths, n_buckets=3, out=tmp_path / "w", progress=False
    )
    seg = payseg.Segmenter(n_clusters=4, random_state=0)
    fitted, labels = segment_out_of_core(
        table, seg, sample_size=150, random_state=1, progress=False, n_jobs=n_jobs
    )
    X = payseg.build_features(_load(paths))
    mask = sample_mask(X.index, 150 / len(X), random_state=1)
    ref = payseg.Segmenter(n_clusters=4, random_state=0).fit(X[mask])
    got = labels.to_pandas()["segment"]
    assert got.index.equals(X.index)
    np.testing.assert_array_equal(got.to_numpy(), np.asarray(ref.predict(X)))
    assert got.nunique() == 4 and not hasattr(seg, "labels_")
    # The workers read the fitted segmenter from one temporary pickle: removed.
    assert not list(tmp_path.glob("payseg-segmenter-*"))


def test_sample_mask_is_seeded_and_order_free():
    ids = pd.Index([f"{i:07d}" for i in range(20_000)])
    m = sample_mask(ids, 0.05, random_state=4)
    assert 800 < m.sum() < 1200
    rev = sample_mask(ids[::-1], 0.05, random_state=4)[::-1]
    np.testing.assert_array_equal(m, rev)
    assert not np.array_equal(m, sample_mask(ids, 0.05, random_state=5))
    assert sample_mask(ids, 1.0).all()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda p: build_features_out_of_core(p, fill="median", progress=False),
            ValueError,
            "needs a statistic over all customers",
        ),
        (
            lambda p: build_features_out_of_core(p, n_buckets=0, progress=False),
            ValueError,
            "n_buckets must be 'auto' or a positive int",
        ),
        (
            lambda p: build_features_out_of_core(p.with_suffix(".csv"), progress=False),
            PaymentDataError,
            "is not a Parquet file",
        ),
        (
            lambda p: build_features_out_of_core(p.parent / "none.parquet"),
            PaymentDataError,
            "file not found",
        ),
        (
            lambda p: build_features_out_of_core(p.parent / "*.pq"),
            PaymentDataError,
            "no Parquet file",
        ),
        (
            lambda p: build_features_out_of_core(pd.DataFrame()),
            TypeError,
            "for data that fits in memory use payseg.load",
        ),
        (
            lambda p: segment_out_of_core(pd.DataFrame()),
            TypeError,
            "must be the BucketedTable",
        ),
        (
            lambda p: segment_out_of_core(BucketedTable(p.parent), n_jobs=0),
            ValueError,
            "n_jobs must be a positive int",
        ),
        (
            lambda p: build_features_out_of_core(p, memory_limit="lots"),
            ValueError,
            "memory_limit must be a positive size",
        ),
        (
            lambda p: sample_mask(["a"], 0.0),
            ValueError,
            r"fraction must be in \(0, 1\]",
        ),
    ],
)
def test_errors(tmp_path, call, error, match):
    path = tmp_path / "payments.parquet"
    _frame([("1", "2024-01-01", "counter", 1.0)]).to_parquet(path)
    path.with_suffix(".csv").write_text("customer_id,paid_at,amount\n1,2024-01-01,1\n")
    with pytest.raises(error, match=match):
        call(path)


def test_missing_id_column_names_file(tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame({"who": ["1"], "paid_at": ["2024-01-01"], "amount": [1.0]}).to_parquet(
        path
    )
    with pytest.raises(PaymentDataError, match="required column 'customer_id'"):
        build_features_out_of_core(path, progress=False)
    X = build_features_out_of_core(path, columns={"who": "customer_id"}, progress=False)
    assert X.index.tolist() == ["1"]


def test_parse_bytes():
    assert parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes("3 gb") == 3 * 10**9
    with pytest.raises(ValueError, match="memory_limit must be positive"):
        parse_bytes(-5)


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside dask's Parquet IO
def test_bucketed_table_handle(data, tmp_path):
    paths = _write_split(data, tmp_path)
    table = build_features_out_of_core(
        *paths, n_buckets=2, out=tmp_path / "w", progress=False
    )
    assert isinstance(table, BucketedTable)
    assert table.n_rows == data.n_customers
    assert "late_share" in table.columns and "customer_id" not in table.columns
    assert "2 buckets" in repr(table)
    assert table.as_of == payseg.features._block.Context(data).as_of
    ddf = table.to_dask()
    assert ddf.npartitions == 2
    assert len(ddf.compute()) == data.n_customers


def test_bucketed_table_sample_is_the_segmenters_sample(data, tmp_path):
    paths = _write_split(data, tmp_path)
    table = build_features_out_of_core(
        *paths, n_buckets=3, out=tmp_path / "w", progress=False
    )
    whole = table.to_pandas()
    n = 100
    expected = whole[sample_mask(whole.index, n / len(whole), 4)]
    assert 50 < len(expected) < 150
    for n_jobs in (1, 2):
        got = table.sample(n, random_state=4, n_jobs=n_jobs)
        pd.testing.assert_frame_equal(got, expected)
    cols = ["late_share", "amount_total"]
    pd.testing.assert_frame_equal(
        table.sample(n, random_state=4, columns=cols), expected[cols]
    )
    # More than the table holds: every customer.
    pd.testing.assert_frame_equal(table.sample(10**6), whole)
    # The rows segment_out_of_core fits on.
    seg, _ = segment_out_of_core(
        table,
        payseg.Segmenter(n_clusters=3, random_state=0),
        sample_size=n,
        random_state=4,
        progress=False,
    )
    assert len(seg.labels_) == len(expected)
    np.testing.assert_array_equal(seg.predict(expected), seg.labels_)
    with pytest.raises(ValueError, match="positive int"):
        table.sample(0)


# ------------------------------------------------------------------------- dask


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_dask_equals_pandas_and_segments(data, client):
    ref = payseg.build_features(data)
    X = dask_build_features(data.payments, data.bills, data.customers, npartitions=3)
    assert X.npartitions == 3
    got = X.compute().sort_index()
    pd.testing.assert_frame_equal(got, ref, **TOL)

    seg, labels = dask_segment(
        X,
        payseg.Segmenter(n_clusters=3, random_state=0),
        sample_size=200,
        random_state=2,
    )
    mask = sample_mask(ref.index, 200 / len(ref), random_state=2)
    expect = payseg.Segmenter(n_clusters=3, random_state=0).fit(ref[mask]).predict(ref)
    lab = labels.compute()["segment"].sort_index()
    assert lab.index.equals(ref.index)
    np.testing.assert_array_equal(lab.to_numpy(), np.asarray(expect))


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside dask's Parquet IO
def test_dask_prepartitioned_inputs_and_parquet(data, client, tmp_path):
    import dask.dataframe as dd

    # Partition i of each input holds the same customers: no shuffle needed.
    ids = data.customers.index
    groups = np.arange(len(ids)) * 2 // len(ids)
    frames = {"payments": [], "bills": [], "customers": []}
    for g in range(2):
        mine = ids[groups == g]
        frames["payments"].append(
            data.payments[data.payments["customer_id"].isin(mine)]
        )
        frames["bills"].append(data.bills[data.bills["customer_id"].isin(mine)])
        frames["customers"].append(data.customers.loc[mine])
    pay, bills, cust = (
        dd.from_map(lambda f: f, frames[k]) for k in ("payments", "bills", "customers")
    )
    X = dask_build_features(
        pay, bills, cust, partitioned=True, families=["timing"], as_of="2024-07-31"
    )
    ref = payseg.build_features(data, families=["timing"], as_of="2024-07-31")
    pd.testing.assert_frame_equal(X.compute().sort_index(), ref, **TOL)
    _, labels = dask_segment(
        X, payseg.Segmenter(n_clusters=2, random_state=0), out=tmp_path / "labels"
    )
    assert len(list((tmp_path / "labels").glob("*.parquet"))) == 2
    assert len(labels.compute()) == len(ref)
    with pytest.raises(ValueError, match="partitioned=True needs inputs with equal"):
        dask_build_features(pay, bills.repartition(npartitions=1), partitioned=True)


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside dask's Parquet IO
def test_dask_checks_a_given_as_of_on_the_whole_data(client):
    import dask.dataframe as dd

    # Partition 1 holds only customers whose data start after a valid as_of: no
    # error (as in memory); an as_of before every row of every partition is one.
    as_of = "2024-08-31"
    early = payseg.synth.generate(60, seed=1, months=8, start="2024-01")
    late = payseg.synth.generate(30, seed=2, months=4, start="2024-10")
    keep_e = np.ones(len(early.customers), bool)
    keep_l = np.ones(len(late.customers), bool)
    parts = [_with_prefix(early, "E", keep_e), _with_prefix(late, "L", keep_l)]
    pay, bills, cust = (
        dd.from_map(lambda f: f, [parts[0][k], parts[1][k]]) for k in range(3)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # most customers empty (memory)
        ref = payseg.build_features(
            payseg.PaymentData(
                payments=pd.concat([parts[0][0], parts[1][0]], ignore_index=True),
                bills=pd.concat([parts[0][1], parts[1][1]], ignore_index=True),
            ),
            families=["timing"],
            as_of=as_of,
        )
    X = dask_build_features(
        pay, bills, cust, partitioned=True, families=["timing"], as_of=as_of
    ).compute()
    late_ids = X.index[X.index.str.startswith("L")]
    assert len(late_ids) and X.loc[late_ids, "delay_days_mean"].isna().all()
    pd.testing.assert_frame_equal(X.sort_index(), ref.loc[X.index].sort_index(), **TOL)
    with pytest.raises(ValueError, match="2023-12-31, before every payment"):
        dask_build_features(
            pay, bills, cust, partitioned=True, families=["timing"], as_of="2023-12-31"
        )


# ------------------------------------------------------------ folders payseg owns


def test_out_folder_with_user_files_is_refused_and_kept(data, tmp_path):
    paths = _write_split(data, tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(
        PaymentDataError,
        match=r"already holds files payseg did not "
        r"create \(1 entries: notes.txt\).*new or empty folder",
    ):
        build_features_out_of_core(*paths, n_buckets=2, out=mine, progress=False)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert (mine / "notes.txt").read_text() == "keep me"


def test_segment_out_never_deletes_a_user_folder(data, tmp_path):
    paths = _write_split(data, tmp_path)
    table = build_features_out_of_core(
        *paths, n_buckets=2, out=tmp_path / "w", progress=False
    )
    seg = payseg.Segmenter(n_clusters=3, random_state=0)
    mine = tmp_path / "results"
    mine.mkdir()
    (mine / "report.xlsx").write_bytes(b"user data")
    with pytest.raises(PaymentDataError, match="did not create"):
        segment_out_of_core(table, seg, out=mine, progress=False)
    assert [p.name for p in mine.iterdir()] == ["report.xlsx"]
    # a new folder is created and marked; a second fit replaces its labels only
    new = tmp_path / "labels_new"
    _, labels = segment_out_of_core(table, seg, out=new, progress=False)
    assert (new / ".payseg-work").is_file() and len(labels) == 2
    (new / "b00099.parquet").write_bytes(b"stale")
    _, labels = segment_out_of_core(table, seg, out=new, progress=False)
    assert sorted(p.name for p in new.iterdir()) == [
        ".payseg-work",
        "b00000.parquet",
        "b00001.parquet",
    ]
    # the default folder sits inside the marked work folder
    _, labels = segment_out_of_core(table, seg, progress=False)
    assert labels.path == tmp_path / "w" / "labels" and len(labels) == 2


def test_work_folder_is_marked_and_temporary_copies_cleaned(
    data, tmp_path, monkeypatch
):
    paths = _write_split(data, tmp_path)
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    table = build_features_out_of_core(
        *paths, n_buckets=2, out=empty_dir, progress=False
    )
    assert (empty_dir / ".payseg-work").is_file()
    # the raw bucket copies are removed once loaded; nothing half-written is left
    assert not (empty_dir / "parts").exists()
    assert not list(empty_dir.rglob("*.tmp"))
    assert sorted(p.name for p in empty_dir.iterdir()) == [
        ".payseg-work",
        "canon",
        "features",
    ]
    # other parameters: the stale features inside the marked folder are replaced
    other = build_features_out_of_core(
        *paths, n_buckets=2, out=empty_dir, progress=False, as_of="2024-05-31"
    )
    assert other.as_of == pd.Timestamp("2024-05-31") and len(table) == 2
    # without out, the temporary folder is gone afterwards
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    X = build_features_out_of_core(*paths, n_buckets=2, progress=False)
    assert len(X) == data.n_customers and list(tmp.iterdir()) == []


def test_remove_dir_refuses_folders_payseg_did_not_create(tmp_path):
    from payseg.scale._workdir import claim_dir, remove_dir

    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    with pytest.raises(PaymentDataError, match="refusing to delete"):
        remove_dir(mine / "sub")
    assert (mine / "sub").is_dir()
    work = claim_dir(tmp_path / "work")
    (work / "canon" / "b00000.tmp").mkdir(parents=True)
    remove_dir(work / "canon")
    assert not (work / "canon").exists() and work.is_dir()
    (tmp_path / "f").write_text("x")
    with pytest.raises(PaymentDataError, match="is a file, not a folder"):
        claim_dir(tmp_path / "f")


def _bucket_of(ids, n_buckets):
    """The bucket DuckDB's partition step gives each plain ASCII id."""
    import duckdb

    frame = pd.DataFrame({"id": pd.Series(ids, dtype=object)})
    con = duckdb.connect()
    con.register("frame", frame)
    return (
        con.sql(f"SELECT hash(id) % {n_buckets} AS b FROM frame").df()["b"].to_numpy()
    )


def _with_prefix(data, prefix, keep):
    """``data`` with ids prefixed, restricted to the customers ``keep`` marks."""
    ids = data.customers.index[keep]
    pay = data.payments[data.payments["customer_id"].isin(ids)]
    bills = data.bills[data.bills["customer_id"].isin(ids)]
    cust = data.customers.loc[ids].reset_index()
    return [
        t.assign(customer_id=prefix + t["customer_id"].astype(str))
        for t in (pay, bills, cust)
    ]


def test_as_of_checked_on_the_whole_data_not_per_bucket(tmp_path):
    # Bucket 2 holds only customers whose data start after a valid as_of: alone it
    # would be "as_of before every row", but the data as a whole is fine, as in
    # memory (issue 18's check is data-wide).
    n_buckets, as_of = 3, "2024-08-31"
    early = payseg.synth.generate(240, seed=1, months=8, start="2024-01")
    late = payseg.synth.generate(120, seed=2, months=4, start="2024-10")
    e_keep = _bucket_of("E" + early.customers.index.astype(str), n_buckets) != 2
    l_keep = _bucket_of("L" + late.customers.index.astype(str), n_buckets) == 2
    tables = [
        pd.concat([a, b], ignore_index=True)
        for a, b in zip(
            _with_prefix(early, "E", e_keep), _with_prefix(late, "L", l_keep)
        )
    ]
    paths = []
    for name, t in zip(("payments", "bills", "customers"), tables):
        paths.append(tmp_path / f"{name}.parquet")
        t.to_parquet(paths[-1])
    assert l_keep.sum() > 20 and e_keep.sum() > 2 * l_keep.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = payseg.build_features(payseg.load(*paths), as_of=as_of)
        table = build_features_out_of_core(
            *paths,
            n_buckets=n_buckets,
            out=tmp_path / "w",
            progress=False,
            as_of=as_of,
        )
    ids = pd.read_parquet(tmp_path / "w" / "features" / "b00002.parquet").index
    assert len(ids) == l_keep.sum() and ids.str.startswith("L").all()
    pd.testing.assert_frame_equal(table.to_pandas(), ref, **TOL)
    assert ref.loc[ids, "delay_days_mean"].isna().all()

    # The data-wide checks still hold: a warning (once) when most customers are
    # empty, an error before every row.
    with pytest.warns(UserWarning, match="leaves") as caught:
        build_features_out_of_core(
            *paths,
            n_buckets=n_buckets,
            out=tmp_path / "w",
            progress=False,
            as_of="2024-01-31",
        )
    assert sum("leaves" in str(w.message) for w in caught) == 1
    with pytest.raises(ValueError, match="before every payment and bill"):
        build_features_out_of_core(
            *paths,
            n_buckets=n_buckets,
            out=tmp_path / "w",
            progress=False,
            as_of="2023-06-30",
        )


def test_first_day_is_the_rule_of_build_features_and_dask():
    # One rule (payseg.features.first_day) behind build_features' coverage range
    # and the dask back-end's data-wide as_of check; reference by plain pandas.
    from payseg.features._block import Context
    from payseg.scale._dask import _first_ns

    data = payseg.synth.generate(200, seed=3, months=6, start="2024-01")
    bills = data.bills.copy()
    # bills without an issue date count from their period's first day; make one
    # the earliest row of all
    bills.loc[bills.index[:5], "issued_on"] = pd.NaT
    bills.loc[bills.index[0], "period"] = pd.Period("2023-07", freq="M")
    data = payseg.PaymentData(payments=data.payments, bills=bills)
    issue = bills["issued_on"].fillna(bills["period"].dt.to_timestamp())
    ref = min(data.payments["paid_at"].min(), issue.min()).normalize()
    assert ref == pd.Timestamp("2023-07-01")
    assert payseg.features.first_day(data) == ref
    assert Context(data).date_range()[0] == ref
    assert _first_ns(data.payments, data.bills) == ref.value
    # payments only; nothing dated
    pay_only = payseg.PaymentData(payments=data.payments)
    assert (
        payseg.features.first_day(pay_only)
        == data.payments["paid_at"].min().normalize()
    )
    undated = data.payments.assign(paid_at=pd.NaT)
    assert pd.isna(payseg.features.first_day(payseg.PaymentData(payments=undated)))
    assert _first_ns(undated, data.bills.iloc[:0]) is None


def test_partition_in_threads_writes_the_same_pieces(data, tmp_path, monkeypatch):
    # n_jobs files are split at once (threads, one DuckDB cursor each): every
    # bucket's rows of every file are the same as split one file at a time.
    from payseg.scale import _partition
    from payseg.scale._workdir import claim_dir

    monkeypatch.setattr(_partition, "SPLIT_ROWS", 97)  # several blocks per file
    pay = data.payments
    cuts = np.linspace(0, len(pay), 6).astype(int)
    paths = []
    for i, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:])):
        paths.append(tmp_path / f"p{i}.parquet")
        pay.iloc[lo:hi].to_parquet(paths[-1])
    got = {}
    for n_jobs in (1, 2):
        out = claim_dir(tmp_path / f"work{n_jobs}") / "parts"  # payseg's folder
        _partition.partition(
            {"payments": paths},
            out,
            4,
            memory_limit=2**30,
            progress=False,
            n_jobs=n_jobs,
        )
        got[n_jobs] = {
            (i, b): _partition.read_pieces(
                out / "payments" / f"file_{i:05d}" / _partition.PIECES, b
            )
            for i in range(len(paths))
            for b in range(4)
        }
    assert sum(len(rows) for _, rows in got[1].values()) == len(pay)
    for key, (frame, rows) in got[1].items():
        np.testing.assert_array_equal(got[2][key][1], rows)
        if frame is None:
            assert got[2][key][0] is None
        else:
            pd.testing.assert_frame_equal(got[2][key][0], frame)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_customers_without_features_warned_once_for_all_buckets(data, tmp_path, n_jobs):
    # Customers without a usable feature value sit in several buckets; the segment
    # stage gives one NoFeatureWarning with their total, not one per bucket.
    from payseg.cluster import NoFeatureWarning

    paths = _write_split(data, tmp_path)
    X = build_features_out_of_core(
        *paths, n_buckets=4, out=tmp_path / "w", progress=False
    )
    for i in (0, 2):  # three empty customers in each of two buckets
        frame = X.read(i)
        num = frame.select_dtypes("number").columns
        frame.loc[frame.index[:3], num] = np.nan
        frame.to_parquet(X.paths[i])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, labels = segment_out_of_core(
            X,
            payseg.Segmenter(n_clusters=3, random_state=0),
            progress=False,
            n_jobs=n_jobs,
        )
    mine = [
        w.message
        for w in caught
        if isinstance(w.message, NoFeatureWarning)
        and str(w.message).startswith("segment_out_of_core")
    ]
    per_bucket = [w for w in caught if str(w.message).startswith("Segmenter.predict")]
    assert len(mine) == 1 and not per_bucket
    assert mine[0].n_empty == 6
    assert (labels.to_pandas()["segment"] == -1).sum() == 6


@pytest.mark.parametrize(
    "ids",
    [
        ["7", " 7", "００７", None, "a b", "7", None, "", "\u30007", "x-1"],
        [7.0, None, 7.5, float("nan"), 7.0, -3.0],
        [7, None, 3, 7],
    ],
)
def test_bucket_of_each_distinct_id_equals_the_per_row_hash(tmp_path, ids):
    # The partition hashes each distinct id once; the reference hashes every row
    # with the same SQL expression, as the partition did before.
    import pyarrow as pa

    from payseg.scale import _partition

    con = _partition._connect(2**28, 1, tmp_path)
    for column in (pa.array(ids), pa.chunked_array([pa.array(ids[:2]), ids[2:]])):
        expr = _partition._id_expression("id", column.type)
        con.register("ref", pa.table({"id": column}))
        want = con.execute(
            f"SELECT CAST(hash({expr}) % 5 AS INTEGER) AS b FROM ref"
        ).fetchnumpy()["b"]
        con.unregister("ref")
        got = _partition._bucket_numbers(con, column, column.type, 5)
        np.testing.assert_array_equal(got, want)
        assert len(set(got)) > 1  # a test that could fail
    con.close()
