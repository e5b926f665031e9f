"""Time the out-of-core load stage's per-piece costs: before and after, in one run.

    python benchmarks/bench_scale_load.py --customers 100000 --chunk 5000 --buckets 40

The load stage reads, for every bucket, one DuckDB piece per input file, so its fixed
cost per piece is paid buckets x files times (139 x 150 = 20,850 at 10M customers in
200k-customer files). This script writes many small input files (``--chunk``
customers each, with :func:`bench_scale.generate_parquet`), partitions them into
``--buckets`` buckets once, then in fresh processes runs ``load_bucket`` on every
bucket twice, in the same run:

  before  the headers of each piece mapped again
  after   the current code (headers mapped once per input file and process)

(Pieces are now record batches of one Arrow IPC file per input file, see
``_partition.partition_file``; the ``pq.read_table`` patch of the first version of
this script no longer applies.)

and prints seconds and the ratio after/before; the outputs are checked to be equal.
With ``--repeat r`` the pair runs r times in alternating order (before/after, then
after/before, ...) and the fastest of each is kept: on a shared machine one pair
alone swings by 2x.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = r"""
import json, shutil, sys, time
from pathlib import Path
from payseg.scale import _partition, _stages
work, mode, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
names = json.loads((work / "names.json").read_text())
if mode == "before":
    _stages._canonical_names = lambda names, kind, columns, source: (
        _partition.mapped_names(list(names), kind, dict(columns) or None, source))
shutil.rmtree(work / "canon", ignore_errors=True)
(work / "canon").mkdir()
t0 = time.perf_counter()
for b in range(n):
    _stages.load_bucket(work, b, names, {}, True)
seconds = time.perf_counter() - t0
shutil.move(str(work / "canon"), str(work / f"canon_{mode}"))
print(json.dumps({"seconds": seconds}))
"""


def _child(work: Path, mode: str, n: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(work), mode, str(n)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main(argv=None) -> None:
    import pandas as pd

    from payseg.scale import _partition
    from payseg.scale._out_of_core import _resolve_sources
    from payseg.scale._workdir import claim_dir

    sys.path.insert(0, str(HERE))
    from bench_scale import generate_parquet

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--buckets", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="keep files here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp)
        data = root / "data"
        t0 = time.perf_counter()
        rows = generate_parquet(data, args.customers, args.months, chunk=args.chunk)
        work = claim_dir(root / "work")
        sources = _resolve_sources(
            data / "payments", data / "bills", data / "customers"
        )
        if not (work / "parts" / "manifest.json").exists():
            _partition.partition(
                sources,
                work / "parts",
                args.buckets,
                memory_limit=2 * 10**9,
                progress=False,
            )
        names = {k: [str(p) for p in v] for k, v in sources.items()}
        (work / "names.json").write_text(json.dumps(names))
        n_files = sum(len(v) for v in sources.values())
        print(
            f"{args.customers:,} customers in {n_files} files, {args.buckets} buckets "
            f"({n_files * args.buckets:,} pieces), rows {rows}; "
            f"ready in {time.perf_counter() - t0:.0f} s"
        )
        times: dict[str, list[float]] = {"before": [], "after": []}
        for r in range(args.repeat):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for mode in order:
                import shutil

                shutil.rmtree(work / f"canon_{mode}", ignore_errors=True)
                times[mode].append(_child(work, mode, args.buckets))
        print("runs (s):", {k: [round(t, 1) for t in v] for k, v in times.items()})
        before, after = min(times["before"]), min(times["after"])
        for b in range(args.buckets):
            for f in ("payments", "bills", "customers", "rejected"):
                x = pd.read_parquet(
                    work / "canon_before" / f"b{b:05d}" / f"{f}.parquet"
                )
                y = pd.read_parquet(work / "canon_after" / f"b{b:05d}" / f"{f}.parquet")
                pd.testing.assert_frame_equal(x, y)
        print(f"{'load stage':12} {'before s':>9} {'after s':>8} {'ratio':>6}")
        print(f"{'all buckets':12} {before:9.2f} {after:8.2f} {after / before:6.2f}")


if __name__ == "__main__":
    main()
