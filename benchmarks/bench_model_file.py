"""Time Segmenter.load's checks of an untrusted model file against skops alone.

    python benchmarks/bench_model_file.py --customers 1000000

Fits a k-means Segmenter (n_clusters=4) on a random feature table of ``--customers``
rows, saves it, then times in the same run:
  baseline: what loading cost before the checks: read both members with
            ``ZipFile.read``, sha256 the payload, ``skops.io.get_untrusted_types``,
            ``skops.io.loads`` and rebuild the pandas objects;
  payseg:   ``Segmenter.load`` and its stages (the file's zip read within limits, the
            payload's directory, schema and array headers, skops, the state checks
            including one made-up customer predicted).
Prints seconds, the ratio to the baseline, the file and payload sizes, and bytes per
customer (how many customers the default 1 GiB ``max_bytes`` holds).
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import skops.io as sio

    from payseg.cluster import Segmenter, _modelzip, _persist

    rng = np.random.default_rng(0)
    n = args.customers
    index = pd.Index([f"{i:010d}" for i in range(n)], name="customer_id")
    X = pd.DataFrame(
        rng.normal(size=(n, 5)) + 6 * rng.integers(0, 4, size=(n, 1)),
        index=index,
        columns=[f"f{j}" for j in range(5)],
    )
    seg = Segmenter(n_clusters=4, random_state=0).fit(X)
    path = Path(tempfile.mkdtemp()) / "model.payseg"
    seg.save(path)
    with zipfile.ZipFile(path) as zf:
        payload_size = zf.getinfo(_persist._PAYLOAD).file_size

    def baseline():
        with zipfile.ZipFile(path) as zf:
            zf.read(_persist._MANIFEST)
            payload = zf.read(_persist._PAYLOAD)
        hashlib.sha256(payload).hexdigest()
        found = sio.get_untrusted_types(data=payload)
        state = sio.loads(payload, trusted=found)
        return {k: _persist._decode(v) for k, v in state.items()}

    manifest, payload = _persist._read(path)

    def stage_payload():
        _persist._check_payload(
            payload, "bench", _modelzip.Budget(_modelzip.MAX_MODEL_BYTES)
        )

    def stage_skops():
        found = sio.get_untrusted_types(data=payload)
        sio.loads(payload, trusted=found)

    state = sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))

    def stage_decode():
        return {k: _persist._decode(v) for k, v in state.items()}

    loaded = Segmenter.load(path)

    def stage_state():
        _persist.check_state(loaded, manifest, path)

    rows = [
        ("baseline (zip read, sha256, skops, pandas)", best_of(baseline, args.repeat)),
        (
            "Segmenter.load (all checks)",
            best_of(lambda: Segmenter.load(path), args.repeat),
        ),
        (
            "  file zip within limits + sha256",
            best_of(lambda: _persist._read(path), args.repeat),
        ),
        ("  payload directory, schema, arrays", best_of(stage_payload, args.repeat)),
        ("  skops (untrusted types + loads)", best_of(stage_skops, args.repeat)),
        ("  pandas objects rebuilt (as before)", best_of(stage_decode, args.repeat)),
        ("  state checks + one customer", best_of(stage_state, args.repeat)),
    ]
    base = rows[0][1]
    size = path.stat().st_size
    print(
        f"customers {n:,}; file {size / 2**20:.1f} MiB; payload {payload_size / 2**20:.1f}"
        f" MiB inflated ({payload_size / n:.0f} bytes per customer: the default "
        f"max_bytes holds {_modelzip.MAX_MODEL_BYTES // max(payload_size // n, 1):,} "
        "customers)"
    )
    print(f"{'stage':40s} {'seconds':>9s} {'x baseline':>11s}")
    for name, seconds in rows:
        print(f"{name:40s} {seconds:9.3f} {seconds / base:10.2f}x")
    assert (loaded.predict(X.iloc[:1000]) == seg.predict(X.iloc[:1000])).all()


if __name__ == "__main__":
    main()
