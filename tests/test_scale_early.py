"""Stage 2's early features: used only when they are what stage 3 would compute.

The out-of-core load computes each bucket's features while the bucket is in memory,
at the bucket's own latest day (or the given ``as_of``). Stage 3 must use them only
when that day is the data-wide ``as_of`` and the parameters are the same, and
compute every other bucket from its canonical tables: the result always equals the
in-memory ``build_features(load(...))``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import payseg
from payseg.scale import _stages, build_features_out_of_core

TOL = {"check_exact": False, "rtol": 1e-12, "atol": 1e-15}
N_BUCKETS = 3


def _bucket_of(ids, n_buckets):
    """The bucket DuckDB's partition step gives each plain ASCII id."""
    import duckdb

    frame = pd.DataFrame({"id": pd.Series(ids, dtype=object)})
    con = duckdb.connect()
    con.register("frame", frame)
    sql = f"SELECT hash(id) % {n_buckets} AS b FROM frame"
    return con.sql(sql).df()["b"].to_numpy()


def _write(data, tmp_path):
    paths = [tmp_path / f"{k}.parquet" for k in ("payments", "bills", "customers")]
    data.payments.to_parquet(paths[0])
    data.bills.to_parquet(paths[1])
    data.customers.reset_index().to_parquet(paths[2])
    return paths


def _stopped_early(data, bucket: int, last: str):
    """``data`` with the rows of the customers of ``bucket`` cut after ``last``."""
    ids = data.customers.index
    stop = set(ids[_bucket_of(ids.astype(str), N_BUCKETS) == bucket])
    pay, bills = data.payments, data.bills
    pay = pay[~(pay["customer_id"].isin(stop) & (pay["paid_at"] > last))]
    period_start = pd.PeriodIndex(bills["period"], freq="M").start_time
    cut = bills["customer_id"].isin(stop) & (period_start > last)
    return payseg.PaymentData(
        payments=pay.reset_index(drop=True),
        bills=bills[~cut].reset_index(drop=True),
        customers=data.customers,
    )


@pytest.fixture
def recorded(monkeypatch):
    """The buckets stage 3 had to read back from ``canon/``."""
    read = []
    original = _stages.read_bucket

    def spy(work, bucket):
        read.append(bucket)
        return original(work, bucket)

    monkeypatch.setattr(_stages, "read_bucket", spy)
    return read


def _own_day_differs(work, as_of) -> list[int]:
    """Buckets whose own latest day (stage 2's statistics) is not ``as_of``."""
    out = []
    for b in range(N_BUCKETS):
        stats = json.loads((work / "canon" / f"b{b:05d}" / "stats.json").read_text())
        if pd.Timestamp(stats["as_of_ns"]).normalize() != as_of:
            out.append(b)
    return out


def test_early_features_used_only_where_the_bucket_ends_on_the_data_wide_day(
    tmp_path, recorded
):
    data = _stopped_early(payseg.synth.generate(300, seed=5, months=8), 1, "2024-05-31")
    paths = _write(data, tmp_path)
    ref = payseg.build_features(payseg.load(*paths))
    work = tmp_path / "w"
    table = build_features_out_of_core(
        *paths, n_buckets=N_BUCKETS, out=work, progress=False
    )
    pd.testing.assert_frame_equal(table.to_pandas(), ref, **TOL)
    late = _own_day_differs(work, table.as_of)
    assert late == [1]  # the cut bucket ends months before the others
    assert sorted(recorded) == late  # the two others were not read back
    # Used early features were moved into place, the unused one is left in canon.
    early = [
        (work / "canon" / f"b{b:05d}" / "features.parquet").exists() for b in range(3)
    ]
    assert early == [False, True, False]


def test_other_feature_parameters_never_reuse_early_features(tmp_path, recorded):
    data = payseg.synth.generate(300, seed=6, months=8)
    paths = _write(data, tmp_path)
    work = tmp_path / "w"
    # Stage 2 with the defaults; the load is then reused with other parameters.
    build_features_out_of_core(*paths, n_buckets=N_BUCKETS, out=work, progress=False)
    recorded.clear()
    for b in range(N_BUCKETS):  # as if stage 3 had not run: early features kept
        (work / "features" / f"b{b:05d}.parquet").unlink()
    kw = {"late_fee_rate": 0.002, "families": ["timing", "arrears", "channel"]}
    X = build_features_out_of_core(
        *paths, n_buckets=N_BUCKETS, out=work, progress=False, **kw
    )
    ref = payseg.build_features(payseg.load(*paths), **kw)
    pd.testing.assert_frame_equal(X.to_pandas(), ref, **TOL)
    assert sorted(recorded) == list(range(N_BUCKETS))


@pytest.mark.parametrize("fill", [None, -1.0])
def test_bucket_without_a_channel_gets_the_data_wide_columns(tmp_path, fill, recorded):
    # Only customers of bucket 0 pay by one channel: the other buckets' early
    # features lack its share column and get it (0, or the fill) when used.
    data = payseg.synth.generate(300, seed=7, months=6)
    pay = data.payments
    ids = pay["customer_id"].astype(str)
    bucket = _bucket_of(ids, N_BUCKETS)
    channel = pay["channel"].astype(str)
    rare = channel == channel[bucket == 0].value_counts().index[-1]
    assert rare[bucket == 0].sum() > 0 and rare[bucket != 0].sum() > 0
    pay = pay[~rare | (bucket == 0)].reset_index(drop=True)
    data = payseg.PaymentData(payments=pay, bills=data.bills, customers=data.customers)
    paths = _write(data, tmp_path)
    ref = payseg.build_features(payseg.load(*paths), fill=fill)
    X = build_features_out_of_core(
        *paths, n_buckets=N_BUCKETS, out=tmp_path / "w", progress=False, fill=fill
    )
    pd.testing.assert_frame_equal(X.to_pandas(), ref, **TOL)
    assert recorded == []
    if fill is not None:
        assert not np.isnan(X.to_pandas().to_numpy()).any()
