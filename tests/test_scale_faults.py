"""Out-of-core results never go stale: changed inputs or parameters restart exactly
the stages they affect, kill -9 at any stage resumes to the uninterrupted result, and
temporary copies never stay behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import payseg
from payseg.data import PaymentDataError
from payseg.scale import build_features_out_of_core, segment_out_of_core

TOL = {"check_exact": False, "rtol": 1e-12, "atol": 1e-15}


@pytest.fixture(scope="module")
def data():
    return payseg.synth.generate(300, seed=5, months=6)


def _write_plain(frame: pd.DataFrame, path) -> None:
    """Parquet whose size depends only on the shape: no compression, no dictionary,
    so a file with other values has the very same size."""
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False),
        path,
        compression="none",
        use_dictionary=False,
        write_statistics=False,
    )


def _files(data, folder):
    folder.mkdir(exist_ok=True)
    _write_plain(data.payments, folder / "payments.parquet")
    data.bills.to_parquet(folder / "bills.parquet")
    data.customers.reset_index().to_parquet(folder / "customers.parquet")
    return (
        folder / "payments.parquet",
        folder / "bills.parquet",
        folder / "customers.parquet",
    )


def _stamps(folder):
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_changed_content_same_size_and_time_restarts(data, tmp_path):
    paths = _files(data, tmp_path / "in")
    work = tmp_path / "w"
    first = build_features_out_of_core(*paths, n_buckets=3, out=work, progress=False)
    first = first.to_pandas()
    pay = paths[0]
    st = pay.stat()
    tripled = data.payments.assign(amount=data.payments["amount"] * 3)
    _write_plain(tripled, pay)
    os.utime(pay, ns=(st.st_atime_ns, st.st_mtime_ns))  # as `cp -p` would keep it
    assert pay.stat().st_size == st.st_size  # only the content tells them apart
    assert pay.stat().st_mtime_ns == st.st_mtime_ns
    again = build_features_out_of_core(*paths, n_buckets=3, out=work, progress=False)
    got = again.to_pandas()
    ref = payseg.build_features(payseg.load(*paths))
    pd.testing.assert_frame_equal(got, ref, **TOL)
    # amounts tripled: every amount feature changed, timing features did not
    np.testing.assert_allclose(
        got["amount_mean"].dropna(), 3 * first["amount_mean"].dropna(), rtol=1e-12
    )
    assert not (work / "parts").exists()


def test_changed_parameters_restart_exactly_the_stages_after_them(data, tmp_path):
    paths = _files(data, tmp_path / "in")
    work = tmp_path / "w"
    build_features_out_of_core(*paths, n_buckets=3, out=work, progress=False)
    canon = _stamps(work / "canon")
    # as_of is a features parameter: the loaded buckets are kept as they are
    t = build_features_out_of_core(
        *paths, n_buckets=3, out=work, progress=False, as_of="2024-04-30"
    )
    assert _stamps(work / "canon") == canon
    ref = payseg.build_features(payseg.load(*paths), as_of="2024-04-30")
    pd.testing.assert_frame_equal(t.to_pandas(), ref, **TOL)
    # drop_duplicates is a load parameter: load and features start over
    dup = payseg.load(*paths, drop_duplicates=False)
    t = build_features_out_of_core(
        *paths, n_buckets=3, out=work, progress=False, drop_duplicates=False
    )
    assert _stamps(work / "canon") != canon
    pd.testing.assert_frame_equal(t.to_pandas(), payseg.build_features(dup), **TOL)
    assert t.rejected.equals(dup.rejected)


@pytest.mark.parametrize("buckets", [(3, 5, 2), (4, 1, 4)])
def test_changed_bucket_count_has_each_customer_once(data, tmp_path, buckets):
    paths = _files(data, tmp_path / "in")
    work = tmp_path / "w"
    ref = payseg.build_features(payseg.load(*paths))
    for n in buckets:
        t = build_features_out_of_core(*paths, n_buckets=n, out=work, progress=False)
        got = t.to_pandas()
        assert len(t) == n and len(got) == data.n_customers
        assert got.index.is_unique
        pd.testing.assert_frame_equal(got, ref, **TOL)
        _, labels = segment_out_of_core(
            t, payseg.Segmenter(n_clusters=3, random_state=0), progress=False
        )
        assert labels.to_pandas().index.equals(ref.index)


def test_input_changed_while_read_is_an_error(data, tmp_path, monkeypatch):
    from payseg.scale import _partition

    paths = _files(data, tmp_path / "in")
    real = _partition.partition_file

    def touch_then_partition(con, path, *args, **kw):
        if path == paths[1]:
            os.utime(path, ns=(1, 1))  # another program rewrote it meanwhile
        return real(con, path, *args, **kw)

    monkeypatch.setattr(_partition, "partition_file", touch_then_partition)
    with pytest.raises(PaymentDataError, match="changed while payseg was reading"):
        build_features_out_of_core(
            *paths, n_buckets=2, out=tmp_path / "w", progress=False
        )
    assert not (tmp_path / "w" / "parts").exists()


# ------------------------------------------------------------------ kill -9

_CHILD = textwrap.dedent(
    """
    import os, re, signal, sys
    from payseg.scale import build_features_out_of_core

    pattern, when, work, *paths = sys.argv[1:]
    real = os.replace

    def replace(src, dst):
        hit = re.search(pattern, str(dst).replace(os.sep, "/"))
        if hit and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        real(src, dst)
        if hit:
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace
    build_features_out_of_core(*paths, n_buckets=3, out=work, progress=False)
    print("not killed")
    """
)


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("uninterrupted")
    paths = _files(data, folder / "in")
    t = build_features_out_of_core(
        *paths, n_buckets=3, out=folder / "w", progress=False
    )
    return paths, t.to_pandas(), t.rejected


@pytest.mark.parametrize(
    "pattern, when",
    [
        ("parts/payments/file_00000$", "before"),  # mid-copy of the first file
        ("parts/customers/file_00000$", "after"),  # partition done, nothing loaded
        ("canon/b00001$", "before"),  # load: one bucket done, one half-written
        ("canon/done.json$", "after"),  # between load and features (parts/ left)
        ("features/b00001.parquet$", "before"),  # features half-written
    ],
)
def test_kill_9_at_each_stage_resumes_bit_identically(
    uninterrupted, tmp_path, pattern, when
):
    paths, ref, ref_rejected = uninterrupted
    work = tmp_path / "w"
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, pattern, when, str(work), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == -9, done.stdout + done.stderr
    again = build_features_out_of_core(*paths, n_buckets=3, out=work, progress=False)
    pd.testing.assert_frame_equal(again.to_pandas(), ref, check_exact=True)
    pd.testing.assert_frame_equal(again.rejected, ref_rejected, check_exact=True)
    # nothing of the killed run is left: no raw copies, no half-written outputs
    assert sorted(p.name for p in work.iterdir()) == [
        ".payseg-work",
        "canon",
        "features",
    ]
    assert [str(p) for p in work.rglob("*.tmp")] == []


def test_labels_never_outlive_their_features(data, tmp_path):
    paths = _files(data, tmp_path / "in")
    work = tmp_path / "w"
    t = build_features_out_of_core(*paths, n_buckets=2, out=work, progress=False)
    seg = payseg.Segmenter(n_clusters=3, random_state=0)
    for out in (work, tmp_path):  # the work folder, a folder above it
        with pytest.raises(PaymentDataError, match="holds the features being"):
            segment_out_of_core(t, seg, out=out, progress=False)
    assert len(t.to_pandas()) == data.n_customers  # nothing was deleted
    segment_out_of_core(t, seg, progress=False)
    assert (work / "labels").is_dir()
    # same inputs and parameters: the labels stay; other ones: the labels go with
    # the features they labelled
    build_features_out_of_core(*paths, n_buckets=2, out=work, progress=False)
    assert (work / "labels").is_dir()
    build_features_out_of_core(*paths, n_buckets=3, out=work, progress=False)
    assert not (work / "labels").exists()
