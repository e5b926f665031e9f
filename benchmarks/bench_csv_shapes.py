"""Time the CSV reader on the shapes that used to leave Arrow, against pandas.read_csv.

    python benchmarks/bench_csv_shapes.py --customers 100000 --before DIR --repeat 3

From the payments export of ``payseg.synth.write`` (CSV, every cell quoted), four
files of the same rows: ``plain`` as written; ``quoted break``, one cell holding a
line break; ``mixed``, one line in GB18030 among UTF-8 ones; ``gb18030``, the whole
file in GB18030 with one line left in UTF-8. Each file is read by the payseg reader
(``payseg._read.read_table``, the step of ``payseg.load`` before the cleaners) and by
``pandas.read_csv(dtype=str)`` (with ``encoding="gb18030"`` for the last file; pandas
cannot read the mixed file, where its time is left out), each in a fresh process,
``--repeat`` times interleaved, medians reported with CPU seconds. ``--before DIR``:
also the reader of the payseg package in DIR (``git archive main payseg | tar -x -C
DIR``), in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
step, path = sys.argv[1:3]
if step == "pandas":
    import pandas as pd
else:
    from pathlib import Path
    from payseg._headers import HEADER_MAP
    from payseg._read import read_table
u0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
if step == "pandas":
    enc = "gb18030" if path.endswith("gb18030.csv") else None
    try:
        rows = len(pd.read_csv(path, dtype=str, encoding=enc))
    except UnicodeDecodeError:
        rows = -1
else:
    keys = (HEADER_MAP, ("customer_id", "paid_at", "amount"))
    frame = read_table(Path(path), keys)
    rows = len(frame)
seconds = time.perf_counter() - t0
u = resource.getrusage(resource.RUSAGE_SELF)
cpu = u.ru_utime + u.ru_stime - u0.ru_utime - u0.ru_stime
print(json.dumps({"seconds": seconds, "cpu_s": cpu, "rows": rows}))
"""

SHAPES = ("plain", "quoted break", "mixed", "gb18030")


def make_files(directory: Path, customers: int) -> dict[str, Path]:
    src = directory / "payments.csv"
    if not src.exists():
        import payseg

        data = payseg.synth.generate(customers, seed=0, months=24)
        payseg.synth.write(data, directory, format="csv")
    raw = src.read_bytes()
    # The first data line's cells: one gets a line break, the line is re-encoded.
    start = raw.index(b"\n") + 1
    end = raw.index(b"\n", start) + 1
    line = raw[start:end]
    cut = line.index(b'","') + 3  # inside the second quoted cell
    files = {"plain": src}
    files["quoted break"] = directory / "quoted_break.csv"
    files["quoted break"].write_bytes(
        raw[:start] + line[:cut] + b"\r\n" + line[cut:] + raw[end:]
    )
    files["mixed"] = directory / "mixed.csv"
    files["mixed"].write_bytes(
        raw[:start] + line.decode("utf-8").encode("gb18030") + raw[end:]
    )
    files["gb18030"] = directory / "gb18030.csv"
    files["gb18030"].write_bytes(
        raw[:start].decode("utf-8").encode("gb18030")
        + line
        + raw[end:].decode("utf-8").encode("gb18030")
    )
    return files


def measure(step: str, path: Path, src: Path | None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, step, str(path.resolve())],
        check=True,
        capture_output=True,
        text=True,
        cwd=src,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None, help="keep the files here")
    parser.add_argument("--before", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shapes", nargs="*", default=SHAPES, choices=SHAPES)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        files = make_files(directory, args.customers)
        steps = ["pandas", "payseg"] + (["before"] if args.before else [])
        runs: dict[tuple[str, str], list[dict]] = {}
        for _ in range(args.repeat):
            for shape in args.shapes:
                for step in steps:
                    src = args.before if step == "before" else None
                    r = measure(
                        "payseg" if step == "before" else step, files[shape], src
                    )
                    runs.setdefault((shape, step), []).append(r)
        print(
            f"{'file':14} {'reader':8} {'seconds':>8} {'CPU s':>7} "
            f"{'x pandas':>8} {'CPU x pandas':>12}   (median of {args.repeat})"
        )
        for shape in args.shapes:
            base = runs[(shape, "pandas")]
            ok = base[0]["rows"] >= 0
            b_s = statistics.median(r["seconds"] for r in base)
            b_c = statistics.median(r["cpu_s"] for r in base)
            for step in steps:
                rs = runs[(shape, step)]
                s = statistics.median(r["seconds"] for r in rs)
                c = statistics.median(r["cpu_s"] for r in rs)
                if step == "pandas" and not ok:
                    print(f"{shape:14} {step:8} {'(cannot read the file)':>30}")
                    continue
                xs = f"{s / b_s:8.2f}" if ok else f"{'':8}"
                xc = f"{c / b_c:12.2f}" if ok else f"{'':12}"
                print(f"{shape:14} {step:8} {s:8.2f} {c:7.2f} {xs} {xc}")


if __name__ == "__main__":
    main()
