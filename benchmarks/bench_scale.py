"""Benchmark: province-size data out of core (DuckDB buckets) and on a Dask LocalCluster.

For each size, synthetic customers are generated in chunks straight to Parquet (never
all in memory), then the full pipeline runs in a fresh process: load + features
(:func:`payseg.scale.build_features_out_of_core`), segment (Segmenter fitted on a seeded
sample, predicted per bucket) and labels (archetype names on the sample, value matrix
and value pyramid for everyone, from the feature buckets). Prints seconds per stage and
peak memory per size, and the ratio time(largest)/time(smallest).

    python benchmarks/bench_scale.py --sizes 1000000 3000000 10000000 --months 24 \
        --dask-sizes 1000000 --plot docs/img/scale.png

With ``--baseline DIR`` each size also runs out of core with the payseg package found
in ``DIR`` (the previous code, e.g. ``git archive <commit> payseg | tar -x -C DIR``), in
the same run just before the current code, and the ratio current/baseline is printed
per stage:

    python benchmarks/bench_scale.py --sizes 1000000 --months 24 --dask-sizes \
        --baseline /tmp/payseg-base

Peak RSS: ``ru_maxrss`` of the run's process, and the peak summed RSS of the process
tree (Dask workers, ``--n-jobs`` workers) sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHUNK = 200_000


# ---------------------------------------------------------------------- generate


def generate_parquet(
    directory: Path, n_customers: int, months: int, seed: int = 0, chunk: int = CHUNK
) -> dict:
    """Write ``payments/``, ``bills/``, ``customers/`` part files chunk by chunk.

    Chunk ``i`` holds customers generated with seed ``(seed, i)``; their ids get the
    chunk number as a prefix so they stay unique. Only one chunk is in memory.
    """
    import payseg

    done = directory / "done.json"
    if done.exists():
        return json.loads(done.read_text())
    for kind in ("payments", "bills", "customers"):
        (directory / kind).mkdir(parents=True, exist_ok=True)
    rows = {"payments": 0, "bills": 0, "customers": 0}
    n_chunks = -(-n_customers // chunk)
    for i in range(n_chunks):
        n = min(chunk, n_customers - i * chunk)
        paths = {k: directory / k / f"part-{i:05d}.parquet" for k in rows}
        if all(p.exists() for p in paths.values()):
            for k, p in paths.items():
                import pyarrow.parquet as pq

                rows[k] += pq.ParquetFile(p).metadata.num_rows
            continue
        data = payseg.synth.generate(
            n, seed=np.random.SeedSequence([seed, i]), months=months
        )
        prefix = f"{i:05d}"
        customers = data.customers.reset_index()
        tables = {
            "payments": data.payments.assign(
                customer_id=prefix + data.payments["customer_id"]
            ),
            "bills": data.bills.assign(customer_id=prefix + data.bills["customer_id"]),
            "customers": customers.assign(
                customer_id=prefix + customers["customer_id"]
            ),
        }
        for k, frame in tables.items():
            tmp = paths[k].with_suffix(".tmp")
            frame.to_parquet(tmp, index=False, row_group_size=1_000_000)
            os.replace(tmp, paths[k])
            rows[k] += len(frame)
        del data, tables
        print(f"  generated chunk {i + 1}/{n_chunks}", file=sys.stderr, flush=True)
    done.write_text(json.dumps(rows))
    return rows


# ------------------------------------------------------------------------ memory


class TreeRSS:
    """Peak summed RSS of this process and its children, sampled in a thread."""

    def __init__(self, interval=0.2):
        self.interval = interval
        self.peak = 0
        self.child_cpu: dict[int, float] = {}  # pid -> last CPU seconds seen
        self._stop = threading.Event()

    def _sample(self):
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                    if p.pid != me.pid:
                        cpu = p.cpu_times()
                        self.child_cpu[p.pid] = cpu.user + cpu.system
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _maxrss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB


# ------------------------------------------------------------------------ labels


def _cpu_seconds(tree: TreeRSS) -> float:
    """User + system CPU seconds of this process and of every process below it
    (the worker processes of ``n_jobs``, last sampled by ``tree``): on a shared
    machine a steadier figure than the wall time."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime + sum(tree.child_cpu.values())


def _label_bucket(fpath, lpath, names, t_count, t_amount, cuts, dest) -> dict:
    """Archetype, value class and tier of one bucket's customers, written to
    ``dest``; returns the archetype counts."""
    from payseg.labels import ValuePyramid

    X = pd.read_parquet(fpath, columns=["pay_count_per_year", "amount_per_year"])
    seg = pd.read_parquet(lpath)["segment"]
    count, amount = X["pay_count_per_year"], X["amount_per_year"]
    value = np.select(
        [
            (count > t_count) & (amount > t_amount),
            count > t_count,
            amount > t_amount,
        ],
        ["high_value", "mass", "potential"],
        "low_value",
    )
    tier = ValuePyramid(thresholds=cuts).fit(amount.fillna(0.0)).labels_
    frame = pd.DataFrame(
        {
            "archetype": seg.map(names).to_numpy(),
            "value_class": value,
            "tier": tier.to_numpy(),
        },
        index=X.index,
    )
    frame.to_parquet(dest)
    return {k: int(v) for k, v in frame["archetype"].value_counts().items()}


def _column_part(path, cols):
    return pd.read_parquet(path, columns=cols).reset_index(drop=True)


def _pool_map(fn, tasks, pool):
    """``[fn(*t) for t in tasks]``, in ``pool`` when given (task order)."""
    if pool is None:
        return [fn(*t) for t in tasks]
    return list(pool.map(fn, *zip(*tasks, strict=True)))


def _labels_out_of_core(
    features, labels, sample_X, sample_labels, out: Path, n_jobs: int = 1
) -> dict:
    """Archetype names (on the sample), value matrix and pyramid for every customer;
    the per-bucket passes in ``n_jobs`` threads."""
    import payseg

    info = {}
    try:
        from payseg.labels import ArchetypeLabeller
    except ImportError as exc:  # pragma: no cover - labels land later
        print(f"  labels skipped: {exc}", file=sys.stderr)
        return {"skipped": str(exc)}
    names = ArchetypeLabeller().fit(sample_X, sample_labels).archetypes_
    # Value matrix (per year, against the mean: payseg.labels.ValueMatrix's rule on
    # the feature columns pay_count_per_year / amount_per_year) and value pyramid
    # (top 1/4/15 % by amount_per_year): one column pass for the global cuts.
    del payseg
    import contextlib
    from concurrent.futures import ThreadPoolExecutor

    # Threads: Parquet decoding and writing release the GIL, and a process pool's
    # start (importing pandas, pyarrow, payseg in each worker) cost more than the
    # labels at 1M customers.
    pool = (
        ThreadPoolExecutor(n_jobs) if n_jobs > 1 and len(features.paths) > 1 else None
    )
    with pool or contextlib.nullcontext():
        return _labels_passes(features, labels, names, out, pool, info)


def _labels_passes(features, labels, names, out: Path, pool, info: dict) -> dict:
    from payseg.labels import ValuePyramid

    cols = ["pay_count_per_year", "amount_per_year"]
    parts = _pool_map(_column_part, [(p, cols) for p in features.paths], pool)
    allv = pd.concat(parts, ignore_index=True)
    t_count = float(allv["pay_count_per_year"].mean())
    t_amount = float(allv["amount_per_year"].mean())
    pyramid = ValuePyramid().fit(allv["amount_per_year"].dropna())
    cuts = tuple(float(v) for v in pyramid.thresholds_.iloc[:-1])
    del allv, parts
    out.mkdir(parents=True, exist_ok=True)
    tasks = [
        (fp, lp, dict(names), t_count, t_amount, cuts, out / f"b{i:05d}.parquet")
        for i, (fp, lp) in enumerate(zip(features.paths, labels.paths, strict=True))
    ]
    counts: dict = {}
    for part in _pool_map(_label_bucket, tasks, pool):
        for k, v in part.items():
            counts[k] = counts.get(k, 0) + v
    info["archetypes"] = counts
    info["value_cuts"] = [t_count, t_amount]
    return info


# --------------------------------------------------------------------------- runs


def run_out_of_core(data_dir: Path, work: Path, args) -> dict:
    from payseg import Segmenter
    from payseg.scale import (
        build_features_out_of_core,
        sample_mask,
        segment_out_of_core,
    )

    times = {}
    with TreeRSS() as tree:
        t0 = time.perf_counter()
        features = build_features_out_of_core(
            data_dir / "payments",
            bills=data_dir / "bills",
            customers=data_dir / "customers",
            memory_limit=args.memory_limit,
            out=work,
            n_jobs=args.n_jobs,
            progress=not args.quiet,
        )
        t1 = time.perf_counter()
        times.update(features.timings)
        seg = Segmenter(n_clusters=args.k, random_state=0)
        # n_jobs of segment_out_of_core is new in 0.3.0 (a --baseline may lack it)
        kw = (
            {"n_jobs": args.n_jobs}
            if "n_jobs" in inspect.signature(segment_out_of_core).parameters
            else {}
        )
        segmenter, labels = segment_out_of_core(
            features,
            seg,
            sample_size=args.sample_size,
            random_state=0,
            progress=not args.quiet,
            **kw,
        )
        t2 = time.perf_counter()
        times["segment"] = t2 - t1
        n = features.n_rows
        if hasattr(features, "sample"):  # the segmenter's sample, both cores
            sample = features.sample(args.sample_size, random_state=0)
        else:  # a --baseline before BucketedTable.sample
            frac = min(1.0, args.sample_size / n)
            sample = pd.concat([X[sample_mask(X.index, frac, 0)] for X in features])
            sample = sample.sort_index(kind="stable")
        info = _labels_out_of_core(
            features,
            labels,
            sample,
            pd.Series(segmenter.predict(sample), index=sample.index),
            work / "named",
            args.n_jobs,
        )
        t3 = time.perf_counter()
        times["labels"] = t3 - t2
    return {
        "times": times,
        "total": t3 - t0,
        "cpu_seconds": _cpu_seconds(tree),
        "n_customers": n,
        "n_buckets": len(features),
        "peak_rss_gb": _maxrss_gb(),
        "peak_tree_gb": tree.peak / 2**30,
        "labels": info,
    }


def run_dask(data_dir: Path, work: Path, args) -> dict:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from payseg import Segmenter
    from payseg.scale import dask_build_features, dask_segment

    times = {}
    with (
        TreeRSS() as tree,
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.dask_worker_memory,
            dashboard_address=None,
        ) as cluster,
        Client(cluster),
    ):
        t0 = time.perf_counter()
        # One partition per chunk file: chunk i of each table holds the same
        # customers, so the inputs are partitioned by customer already.
        pay, bills, cust = (
            dd.read_parquet(str(data_dir / k), split_row_groups=False)
            for k in ("payments", "bills", "customers")
        )
        X = dask_build_features(pay, bills, cust, partitioned=args.dask_partitioned)
        X.to_parquet(str(work / "features"))
        t1 = time.perf_counter()
        times["load+features"] = t1 - t0
        X = dd.read_parquet(str(work / "features"))
        _, labels = dask_segment(
            X,
            Segmenter(n_clusters=args.k, random_state=0),
            sample_size=args.sample_size,
            random_state=0,
            out=work / "labels",
        )
        t2 = time.perf_counter()
        times["segment"] = t2 - t1
        n = int(X.map_partitions(len).compute().sum())
    return {
        "times": times,
        "total": t2 - t0,
        "n_customers": n,
        "n_partitions": X.npartitions,
        "peak_rss_gb": _maxrss_gb(),
        "peak_tree_gb": tree.peak / 2**30,
    }


def child(args) -> None:
    size, mode = args.child
    size = int(size)
    root = Path(args.work)
    data_dir = root / f"data_{size}_{args.months}"
    work = root / f"{mode}_{size}_{args.months}"
    if mode == "gen":
        t0 = time.perf_counter()
        rows = generate_parquet(data_dir, size, args.months, chunk=args.chunk)
        result = {
            "seconds": time.perf_counter() - t0,
            "rows": rows,
            "peak_rss_gb": _maxrss_gb(),
        }
    elif mode in ("ooc", "base"):
        import payseg

        # Always from scratch: with --keep a rerun would resume the last run's
        # stages (and a baseline would resume the other code's buckets).
        shutil.rmtree(work, ignore_errors=True)

        result = run_out_of_core(data_dir, work, args)
        result["payseg"] = str(Path(payseg.__file__).parent)
    else:
        result = run_dask(data_dir, work, args)
    if mode != "gen" and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print("RESULT " + json.dumps(result), flush=True)


def _spawn(size: int, mode: str, argv: list[str], source: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", str(size), mode, *argv]
    env = None
    if source:  # the baseline's payseg package comes first on the path
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [source, *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        return {"error": f"exit code {proc.returncode}", "stdout": proc.stdout[-2000:]}
    return json.loads(lines[-1][len("RESULT ") :])


def _line(r: dict) -> str:
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in r["times"].items())
    return (
        f"{r['size']:>11,} {r['mode']:>5}: {r['total']:8.1f} s ({stages}); "
        + (
            f"{r['n_buckets']} buckets, n_jobs {r['n_jobs']}; "
            if "n_jobs" in r and "n_buckets" in r
            else ""
        )
        + (f"CPU {r['cpu_seconds']:.0f} s; " if "cpu_seconds" in r else "")
        + f"peak "
        f"RSS {r['peak_rss_gb']:.2f} GiB, process tree {r['peak_tree_gb']:.2f} GiB"
    )


def _print_ratio(results: list[dict], size: int) -> None:
    """Current / baseline time per stage for one size (both out of core)."""
    got = {
        r["mode"]: r
        for r in results
        if r["size"] == size and r["mode"] in ("base", "ooc") and "total" in r
    }
    if len(got) < 2:
        return
    base, new = got["base"], got["ooc"]
    parts = [
        f"{k} {new['times'][k] / v:.2f}"
        for k, v in base["times"].items()
        if k in new["times"] and v > 0
    ]
    print(
        f"{size:>11,} current/baseline: total {new['total'] / base['total']:.2f} "
        f"({', '.join(parts)}); peak RSS {base['peak_tree_gb']:.2f} -> "
        f"{new['peak_tree_gb']:.2f} GiB"
        + (
            f"; CPU {new['cpu_seconds'] / base['cpu_seconds']:.2f}"
            if base.get("cpu_seconds") and new.get("cpu_seconds")
            else ""
        ),
        flush=True,
    )


def _plot(results: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, marker in (("ooc", "o"), ("dask", "s")):
        rows = sorted(
            (r for r in results if r["mode"] == mode and "total" in r),
            key=lambda r: r["size"],
        )
        if not rows:
            continue
        sizes = np.array([r["size"] for r in rows]) / 1e6
        label = "out of core (DuckDB buckets)" if mode == "ooc" else "Dask LocalCluster"
        ax1.plot(sizes, [r["total"] / 60 for r in rows], marker=marker, label=label)
        ax2.plot(sizes, [r["peak_tree_gb"] for r in rows], marker=marker, label=label)
    ooc = sorted(
        (r for r in results if r["mode"] == "ooc" and "total" in r),
        key=lambda r: r["size"],
    )
    if ooc:
        s0, t0 = ooc[0]["size"], ooc[0]["total"]
        xs = np.array([r["size"] for r in ooc])
        ax1.plot(xs / 1e6, t0 * xs / s0 / 60, ":", color="grey", label="linear")
    ax1.set_ylim(bottom=0)
    ax1.set(
        xlabel="customers (millions), 24 months",
        ylabel="minutes",
        title="load + features + segment + labels",
    )
    ax2.set(
        xlabel="customers (millions)", ylabel="GiB", title="peak RSS (process tree)"
    )
    ax2.set_ylim(bottom=0)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1_000_000],
        help="customer counts (the smallest is the baseline)",
    )
    parser.add_argument(
        "--customers", type=int, nargs="+", dest="sizes", help="alias of --sizes"
    )
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument(
        "--dask-sizes",
        type=int,
        nargs="*",
        default=None,
        help="sizes also run on a Dask LocalCluster (default: --sizes)",
    )
    parser.add_argument(
        "--dask-partitioned",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="inputs are partitioned by customer (the "
        "generator's chunks are): skip the shuffle",
    )
    parser.add_argument("--dask-worker-memory", default="6GiB")
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=2,
        help="processes for the load and features stages (default 2: both cores; "
        "buckets are sized to memory-limit / n-jobs)",
    )
    parser.add_argument(
        "--base-n-jobs",
        type=int,
        default=None,
        help="--n-jobs of the --baseline run (default: the same)",
    )
    parser.add_argument("--sample-size", type=int, default=200_000)
    parser.add_argument("--k", type=int, default=8, help="segments")
    parser.add_argument("--chunk", type=int, default=CHUNK)
    parser.add_argument("--work", default="/tmp/payseg_bench_scale")
    parser.add_argument("--keep", action="store_true", help="keep generated data")
    parser.add_argument("--plot", default=None, help="write a PNG figure here")
    parser.add_argument("--json", default=None, help="write all results here")
    parser.add_argument(
        "--previous",
        nargs="*",
        default=[],
        help="JSON results of earlier runs to add to the ratio and plot",
    )
    parser.add_argument(
        "--baseline",
        default=None,
        help="folder holding the previous code's payseg package: each size also "
        "runs out of core with it, in the same run, and ratios are printed",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument(
        "--replot",
        action="store_true",
        help="run nothing: print ratios and plot the --previous results",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return
    passthrough = (
        [
            "--months",
            str(args.months),
            "--memory-limit",
            args.memory_limit,
            "--n-jobs",
            str(args.n_jobs),
            "--sample-size",
            str(args.sample_size),
            "--k",
            str(args.k),
            "--chunk",
            str(args.chunk),
            "--work",
            args.work,
            "--dask-worker-memory",
            args.dask_worker_memory,
            "--dask-partitioned" if args.dask_partitioned else "--no-dask-partitioned",
        ]
        + (["--keep"] if args.keep else [])
        + (["--quiet"] if args.quiet else [])
    )
    dask_sizes = args.sizes if args.dask_sizes is None else args.dask_sizes
    results = []
    print(
        f"bench_scale: sizes {args.sizes}, {args.months} months, memory_limit "
        f"{args.memory_limit}, n_jobs {args.n_jobs}, cores {os.cpu_count()}",
        flush=True,
    )
    for size in [] if args.replot else args.sizes:
        gen = _spawn(size, "gen", passthrough)
        print(
            f"{size:>11,} customers: generated in {gen.get('seconds', float('nan')):.0f}"
            f" s, rows {gen.get('rows')}",
            flush=True,
        )
        modes = (
            (["base"] if args.baseline else [])
            + ["ooc"]
            + (["dask"] if size in dask_sizes else [])
        )
        for mode in modes:
            argv = passthrough
            if mode == "base" and args.base_n_jobs is not None:
                i = argv.index("--n-jobs")
                argv = [*argv[: i + 1], str(args.base_n_jobs), *argv[i + 2 :]]
            r = _spawn(size, mode, argv, args.baseline if mode == "base" else None)
            r["n_jobs"] = int(argv[argv.index("--n-jobs") + 1])
            r.update(
                size=size,
                mode=mode,
                generate_seconds=gen.get("seconds"),
                rows=gen.get("rows"),
            )
            results.append(r)
            if args.json:  # after every run: an interrupted benchmark keeps its figures
                Path(args.json).write_text(json.dumps(results, indent=1))
            if "error" in r:
                print(
                    f"{size:>11,} {mode:>5}: FAILED {r['error']}\n{r['stdout']}",
                    flush=True,
                )
                continue
            print(_line(r), flush=True)
        _print_ratio(results, size)
        if not args.keep:
            shutil.rmtree(
                Path(args.work) / f"data_{size}_{args.months}", ignore_errors=True
            )
    for path in args.previous:
        sizes = {(r["size"], r["mode"]) for r in results}
        results += [
            r
            for r in json.loads(Path(path).read_text())
            if (r["size"], r["mode"]) not in sizes
        ]
    print("summary:")
    for r in sorted(results, key=lambda r: (r["mode"], r["size"])):
        if "total" in r:
            print(_line(r))
    for mode in ("ooc", "dask"):
        done = [r for r in results if r["mode"] == mode and "total" in r]
        if len(done) >= 2:
            a = min(done, key=lambda r: r["size"])
            b = max(done, key=lambda r: r["size"])
            print(
                f"{mode}: time({b['size']:,})/time({a['size']:,}) = "
                f"{b['total'] / a['total']:.2f} for {b['size'] / a['size']:.0f}x the "
                f"customers",
                flush=True,
            )
    if args.plot:
        _plot(results, args.plot)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
