"""Out of core with a given billing cycle: one contradiction warning per run (the
sum over the buckets), and a per-customer cycle Series in the stage fingerprint."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import payseg
from payseg.scale import build_features_out_of_core

CLASH = "the given billing cycle contradicts the bill periods of"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    data = payseg.synth.generate(240, seed=5, months=6)
    folder = tmp_path_factory.mktemp("cycle")
    data.payments.to_parquet(folder / "payments.parquet")
    data.bills.to_parquet(folder / "bills.parquet")
    return data, folder


def _clashing(bills: pd.DataFrame, given: float) -> int:
    """Customers whose median gap between distinct bill periods (months) differs
    from ``given``: a slow, obvious reference (bills of the bills table, so any
    difference is a contradiction)."""
    n = 0
    for _, periods in bills.groupby("customer_id")["period"]:
        months = sorted({p.year * 12 + p.month for p in periods})
        if len(months) >= 2 and np.median(np.diff(months)) != given:
            n += 1
    return n


def _run(folder, out, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = build_features_out_of_core(
            folder / "payments.parquet",
            bills=folder / "bills.parquet",
            n_buckets=4,
            out=out,
            progress=False,
            **kw,
        )
    return table, [str(w.message) for w in caught if CLASH in str(w.message)]


def test_contradictions_warned_once_with_the_sum(files, tmp_path):
    data, folder = files
    expected = _clashing(data.bills, 2)
    assert expected > 50  # monthly customers of the generator
    table, clash = _run(folder, tmp_path / "w", cycle_months=2)
    assert len(clash) == 1, clash
    assert f"{CLASH} {expected:,} customer(s)" in clash[0]
    # several buckets had contradictions, each counted once in the sum
    per_bucket = [
        json.loads(p.read_text()).get("cycle_clash", {}).get("n", 0)
        for p in sorted((tmp_path / "w" / "features").glob("b*.json"))
    ]
    assert len(per_bucket) == 4 and sum(n > 0 for n in per_bucket) >= 2
    assert sum(per_bucket) == expected
    # the same as in memory, where one call sees every customer
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref = payseg.build_features(data, cycle_months=2)
    mem = [str(w.message) for w in caught if CLASH in str(w.message)]
    assert len(mem) == 1 and f"{CLASH} {expected:,} customer(s)" in mem[0]
    got = table.to_pandas()["cycle_months"]  # customers with payments or bills
    pd.testing.assert_series_equal(got, ref["cycle_months"].reindex(got.index))

    # a rerun reuses every feature bucket and still warns once, with the sum
    _, again = _run(folder, tmp_path / "w", cycle_months=2)
    assert again == clash
    # without a given cycle: no warning
    _, none = _run(folder, tmp_path / "w")
    assert none == []


def test_a_changed_cycle_series_recomputes(files, tmp_path):
    """Issue: str() of a long Series shows only its ends; a change in its middle
    reused the features of the previous Series."""
    data, folder = files
    ids = pd.Index(sorted(data.payments["customer_id"].unique()), dtype="str")
    cycle = pd.Series(1, index=ids)
    first, _ = _run(folder, tmp_path / "w", cycle_months=cycle)
    assert (first.to_pandas()["cycle_months"] == 1).all()
    cycle.iloc[len(cycle) // 2] = 3  # not shown by str(cycle)
    assert str(cycle) == str(pd.Series(1, index=ids))
    second, clash = _run(folder, tmp_path / "w", cycle_months=cycle)
    got = second.to_pandas()["cycle_months"]
    assert got[got == 3].index.tolist() == [ids[len(ids) // 2]]
