"""Time payseg.report.render (HTML) on a segmentation of generated customers.

    python benchmarks/bench_report.py --customers 100000 --months 24

Generates ``payseg.synth.generate(customers, months=months)``, runs
``payseg.segment(data, n_clusters=9)`` (not timed), then times
``result.report("report.html")`` and ``result.report("report.md")``. Baseline in the
same run: saving as many matplotlib figures of the same sizes with one empty Axes each
as the report draws (the fixed cost of matplotlib layout and PNG encoding), so the
ratio shows what the report's own data work adds. Prints seconds, peak RSS and the
ratio; target: the HTML report within 3x the baseline at 1M customers.
"""

from __future__ import annotations

import argparse
import io
import resource
import tempfile
import time
import warnings
from pathlib import Path


def rss_gib() -> float:
    """Peak resident set size of this process so far, GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def baseline(n_figures: int) -> float:
    from matplotlib.figure import Figure

    t = time.perf_counter()
    for _ in range(n_figures):
        fig = Figure(figsize=(8.0, 5.0), layout="constrained")
        ax = fig.subplots()
        ax.set_title("baseline")
        fig.savefig(io.BytesIO(), format="png", dpi=100)
    return time.perf_counter() - t


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import payseg

    t = time.perf_counter()
    data = payseg.synth.generate(args.customers, seed=args.seed, months=args.months)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = payseg.segment(data, n_clusters=9, random_state=0)
    print(
        f"setup (generate + segment, not timed): {time.perf_counter() - t:.1f} s; "
        f"{len(data.payments):,} payments, {args.customers:,} customers"
    )

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = result.report(Path(tmp) / "report.html")
        t_html = time.perf_counter() - t
        size = path.stat().st_size
        n_fig = path.read_text(encoding="utf-8").count("data:image/png;base64,")
        t = time.perf_counter()
        result.report(Path(tmp) / "report.md")
        t_md = time.perf_counter() - t
    t_base = baseline(n_fig)
    print(f"report.html: {t_html:.2f} s ({n_fig} figures, {size / 2**20:.2f} MiB)")
    print(f"report.md:   {t_md:.2f} s")
    print(f"baseline ({n_fig} empty figures saved as PNG): {t_base:.2f} s")
    print(f"ratio html / baseline: {t_html / t_base:.1f}x")
    print(f"peak RSS: {rss_gib():.2f} GiB")


if __name__ == "__main__":
    main()
