"""Run every stage benchmark, one fresh process each, and print how each ended.

    python benchmarks/run_all.py            # quick sizes, a few minutes on 2 cores
    python benchmarks/run_all.py --full     # each script's own default sizes

Each script times its stage against a baseline in the same run and prints the ratio
(see docs/performance.md); this runner only starts them in turn, so that ``make
bench`` has one entry point, and exits non-zero if any of them failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# script -> arguments of the quick run (small enough for a shared 2-core machine)
QUICK = {
    "bench_load.py": ["--rows", "200000"],
    "bench_load_features.py": ["--customers", "5000"],
    "bench_excel.py": ["--customers", "500"],
    "bench_synth.py": ["--customers", "20000"],
    "bench_features.py": ["--customers", "20000"],
    "bench_segment.py": ["--customers", "20000"],
    "bench_labels.py": ["--customers", "20000"],
    "bench_report.py": ["--customers", "5000"],
    "bench_region_channel.py": ["--payments", "1000000", "--customers", "50000"],
    "bench_quality.py": ["--customers", "2000", "--seeds", "0"],
    "bench_field.py": ["--customers", "2000", "--seeds", "0", "--no-districts"],
    "bench_scale.py": ["--sizes", "50000", "--quiet"],
    "bench_model_file.py": ["--customers", "20000"],
    "bench_degenerate.py": ["--customers", "20000"],
    "bench_scale_load.py": [
        "--customers",
        "5000",
        "--chunk",
        "500",
        "--buckets",
        "5",
        "--repeat",
        "1",
    ],
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--full", action="store_true", help="each script's default sizes"
    )
    parser.add_argument("--only", nargs="+", choices=sorted(QUICK), default=None)
    args = parser.parse_args(argv)
    failed = []
    for script, quick in QUICK.items():
        if args.only and script not in args.only:
            continue
        cmd = [sys.executable, str(HERE / script), *([] if args.full else quick)]
        print(f"\n=== {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, check=False).returncode
        print(
            f"=== {script}: exit {rc} after {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        if rc:
            failed.append(script)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
