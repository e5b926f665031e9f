"""Time two per-bucket steps of the out-of-core path against their previous form, in
one run, and print the ratios (issue 19):

- the partition's bucket numbers: DuckDB's hash of the normalised id on every row (the
  previous code) against once per distinct id of a block (``_bucket_numbers``);
- a features bucket written and read back as Parquet with the writer's default
  dictionary encoding (the previous code) against without it (``write_parquet``).

    python benchmarks/bench_scale_steps.py \\
        --payments /tmp/ooc-w2/data_1000000_24/payments/part-00000.parquet \\
        --features /tmp/ooc-w2/ooc_1000000_24/features/b00001.parquet --repeat 3

The inputs are a payments file of ``bench_scale.py --keep`` (``data_<n>_<months>/``)
and a features bucket of the same run (``ooc_<n>_<months>/features/``). CPU seconds of
this process (the steps run here, DuckDB and Arrow threads included), the fastest of
``--repeat`` alternating runs: a shared machine swings by 2x in wall time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def _per_row(con, ids, arrow_type, n_buckets: int) -> np.ndarray:
    """The previous bucket numbers: the SQL expression on every row."""
    import pyarrow as pa

    from payseg.scale import _partition

    con.register("_ids", pa.table({"id": ids}))
    try:
        expr = _partition._id_expression("id", arrow_type)
        got = con.execute(
            f"SELECT CAST(hash({expr}) % {n_buckets} AS INTEGER) AS b FROM _ids"
        ).fetchnumpy()["b"]
    finally:
        con.unregister("_ids")
    return np.asarray(got, dtype=np.int32)


def _cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def main(argv=None) -> None:
    import pandas as pd
    import pyarrow.parquet as pq

    from payseg.scale import _partition
    from payseg.scale._buckets import write_parquet

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", required=True)
    parser.add_argument("--features", required=True)
    parser.add_argument("--buckets", type=int, default=277)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-steps-") as tmp:
        con = _partition._connect(2**30, None, Path(tmp))
        with pq.ParquetFile(args.payments) as pf:
            blocks = [
                b.column(0)
                for b in pf.iter_batches(
                    batch_size=_partition.SPLIT_ROWS, columns=["customer_id"]
                )
            ]
        rows = sum(len(b) for b in blocks)
        best = {"per row": np.inf, "per distinct id": np.inf}
        for _ in range(args.repeat):
            for name, fn in (
                ("per row", _per_row),
                ("per distinct id", _partition._bucket_numbers),
            ):
                t = _cpu(
                    lambda fn=fn: [fn(con, b, b.type, args.buckets) for b in blocks]
                )
                best[name] = min(best[name], t)
        for b in blocks[:2]:  # the same buckets, or the figures mean nothing
            want = _per_row(con, b, b.type, args.buckets)
            got = _partition._bucket_numbers(con, b, b.type, args.buckets)
            np.testing.assert_array_equal(got, want)
        con.close()
        old, new = best["per row"], best["per distinct id"]
        print(
            f"bucket numbers, {rows:,} ids in {len(blocks)} blocks, {args.buckets} "
            f"buckets: per row {old:.3f} CPU s, per distinct id {new:.3f} CPU s "
            f"({new / old:.2f}x)"
        )

        X = pd.read_parquet(args.features)
        out = Path(tmp) / "f.parquet"
        cost = {}
        for _ in range(args.repeat):
            for name, write in (
                ("dictionary", lambda: X.to_parquet(out)),
                ("plain", lambda: write_parquet(X, out)),
            ):
                w = _cpu(write)
                r = _cpu(lambda: pd.read_parquet(out))
                pd.testing.assert_frame_equal(pd.read_parquet(out), X)
                size = out.stat().st_size / 2**20
                prev = cost.get(name, (np.inf, np.inf, size))
                cost[name] = (min(prev[0], w), min(prev[1], r), size)
        (w0, r0, s0), (w1, r1, s1) = cost["dictionary"], cost["plain"]
        print(
            f"features bucket {X.shape[0]:,} x {X.shape[1]}: write {w0:.3f} -> "
            f"{w1:.3f} CPU s ({w1 / w0:.2f}x), read {r0:.3f} -> {r1:.3f} CPU s "
            f"({r1 / r0:.2f}x), {s0:.1f} -> {s1:.1f} MiB ({s1 / s0:.2f}x)"
        )


if __name__ == "__main__":
    main()
