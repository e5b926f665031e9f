"""Time the out-of-core partition step's Parquet codec: write the bucket pieces, read
them back, for each codec, in one run (the load stage reads every piece once).

    python benchmarks/bench_scale_parts.py \
        /tmp/oocspeed/data_300000_24/payments/part-00000.parquet --buckets 5 --repeat 3

The input is a payments file of ``bench_scale.py --keep`` (``data_<n>_<months>/``).
Each codec runs the partition step's ``COPY ... PARTITION_BY`` (the same id
expression) ``--repeat`` times in alternation; the fastest write and read of each are
kept (a shared machine swings by 2x) and printed with the ratio to Snappy, the DuckDB
default and the previous setting.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import tempfile
import time


def main(argv=None) -> None:
    import duckdb
    import pyarrow.parquet as pq

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="a payments Parquet file (column customer_id)")
    parser.add_argument("--buckets", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    raw = "CAST(customer_id AS VARCHAR)"
    key = (
        f"coalesce(CASE WHEN regexp_full_match({raw}, '[0-9A-Za-z_-]+') THEN {raw} "
        f"ELSE trim({raw}) END, '')"
    )
    src = args.input.replace("'", "''")
    best: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-parts-") as tmp:
        for _ in range(args.repeat):
            for codec in ("snappy", "lz4", "zstd", "uncompressed"):
                out = os.path.join(tmp, codec)
                shutil.rmtree(out, ignore_errors=True)
                t = time.perf_counter()
                con.execute(
                    f"COPY (SELECT *, file_row_number AS _r, "
                    f"CAST(hash({key}) % {args.buckets} AS INTEGER) AS _b "
                    f"FROM read_parquet('{src}', file_row_number = true)) "
                    f"TO '{out}' (FORMAT parquet, PARTITION_BY (_b), "
                    f"COMPRESSION {codec})"
                )
                write = time.perf_counter() - t
                files = glob.glob(os.path.join(out, "*", "*.parquet"))
                t = time.perf_counter()
                for f in files:
                    with pq.ParquetFile(f) as pf:
                        pf.read()
                read = time.perf_counter() - t
                size = sum(os.path.getsize(f) for f in files) / 2**20
                b = best.setdefault(codec, [float("inf"), float("inf"), size])
                b[0], b[1] = min(b[0], write), min(b[1], read)
    w0, r0, s0 = best["snappy"]
    for codec, (w, r, s) in best.items():
        print(
            f"{codec:>12}: write {w:5.2f} s ({w / w0:.2f}x snappy), read {r:5.2f} s "
            f"({r / r0:.2f}x), {s:6.0f} MiB ({s / s0:.2f}x)"
        )


if __name__ == "__main__":
    main()
