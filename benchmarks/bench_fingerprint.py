"""Benchmark: what the out-of-core stage fingerprints cost, and what they save.

Generates synthetic Parquet (``bench_scale.generate_parquet``), then in one process:

1. a first ``build_features_out_of_core`` run into a new folder (the baseline);
2. the input fingerprints alone: size + mtime (the old, stat-only fingerprint) and
   size + mtime + SHA-256 of every file (the new one), with the bytes hashed;
3. a rerun with nothing changed (every stage skipped: hashing and reading the
   stage records);
4. a rerun with another ``as_of`` (only the features stage restarts);
5. a rerun with another ``n_buckets`` (every stage restarts).

Prints seconds and the ratio of each to the first run.

    python benchmarks/bench_fingerprint.py --customers 300000 --months 12
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=300_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--n-buckets", type=int, default=4)
    ap.add_argument("--dir", type=Path, default=None, help="keep data here")
    args = ap.parse_args()

    import pandas as pd
    from bench_scale import generate_parquet

    from payseg.scale import build_features_out_of_core
    from payseg.scale._partition import fingerprint, list_parquet, stat_key

    root = args.dir or Path(tempfile.mkdtemp(prefix="bench-fp-"))
    data = root / f"data-{args.customers}-{args.months}"
    generate_parquet(data, args.customers, args.months)
    inputs = [data / "payments", data / "bills", data / "customers"]
    files = [p for d in inputs for p in list_parquet(d, d.name)]
    size = sum(p.stat().st_size for p in files)
    work = root / "work"
    shutil.rmtree(work, ignore_errors=True)

    def run(**kw):
        t0 = time.perf_counter()
        table = build_features_out_of_core(
            *inputs,
            out=work,
            progress=False,
            n_buckets=kw.pop("n", args.n_buckets),
            **kw,
        )
        return time.perf_counter() - t0, table

    first, table = run()
    t0 = time.perf_counter()
    for p in files:
        stat_key(p)
    t_stat = time.perf_counter() - t0
    t0 = time.perf_counter()
    fingerprint(files)
    t_hash = time.perf_counter() - t0
    same, _ = run()
    last = table.as_of - pd.Timedelta(days=30)
    as_of, _ = run(as_of=last)
    buckets, _ = run(n=args.n_buckets + 1)

    print(
        f"{args.customers:,} customers x {args.months} months: {len(files)} files, "
        f"{size / 1e9:.2f} GB, {args.n_buckets} buckets"
    )
    print(f"{'step':<44}{'seconds':>9}{'/ first run':>13}")
    rows = [
        ("first run (baseline)", first),
        ("fingerprint: size + mtime only (old)", t_stat),
        (f"fingerprint: + SHA-256 ({size / t_hash / 1e9:.2f} GB/s)", t_hash),
        ("rerun, nothing changed (all skipped)", same),
        ("rerun, other as_of (features restart)", as_of),
        ("rerun, other n_buckets (all restart)", buckets),
    ]
    for name, sec in rows:
        print(f"{name:<44}{sec:>9.2f}{sec / first:>13.3f}")
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
