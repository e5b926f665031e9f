"""payseg._memory: freed memory is reused inside a load and given back after it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from payseg import _memory

pytestmark = pytest.mark.skipif(
    _memory._LIBC is None, reason="glibc's malloc only (Linux)"
)

# A fresh process each: the allocator's settings and RSS are the process's own.
_CHILD = r"""
import os, sys
import numpy as np
import pyarrow as pa
from payseg._memory import keeping, reuse_freed_memory
from payseg._read import release_memory

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

MB = 1 << 20
base = rss()
with reuse_freed_memory():
    # A thread's large block comes from the main heap too and stays for reuse
    # (a thread's own arena maps blocks above 64 MB and unmaps them on free).
    import threading
    def work():
        c = np.ones(320 * MB // 8)
        del c
    t = threading.Thread(target=work)
    t.start(); t.join()
    threaded = rss() - base
    with reuse_freed_memory():  # nested: one setting, left by the outer exit
        a = np.ones(256 * MB // 8)
        del a
    release_memory()  # the loader's trims between stages: not while keeping
    inside = rss() - base  # freed, kept for reuse: still resident
    kept = keeping()
    b = np.ones(256 * MB // 8)  # reuses it: no more resident memory
    again = rss() - base
    del b
    pool_inside = pa.default_memory_pool().backend_name
after = rss() - base  # given back on leaving
e = np.ones(256 * MB // 8)  # glibc's settings again: unmapped on free
del e
post = rss() - base
print(inside // MB, again // MB, after // MB, threaded // MB, post // MB, pool_inside,
      pa.default_memory_pool().backend_name, kept, keeping())
"""


def _run(env=None):
    import os

    out = subprocess.run(
        [sys.executable, "-c", _CHILD],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    *sizes, pool_inside, pool_after, kept, kept_after = out.stdout.split()
    return [int(v) for v in sizes] + [pool_inside, pool_after, kept, kept_after]


def test_freed_arrays_are_reused_inside_and_given_back_after():
    import pyarrow as pa

    inside, again, after, threaded, post, pool_inside, pool_after, kept, kept_after = (
        _run()
    )
    assert inside >= 200  # kept after del and after release_memory
    assert (kept, kept_after) == ("True", "False")
    assert again < inside + 100  # the second array took the freed memory
    assert after < 100  # malloc_trim on leaving
    assert threaded >= 250  # a thread's freed 320 MB block kept for reuse
    assert post < 100  # glibc's default mapping restored: unmapped on free
    # Arrow on glibc's heap inside, its own pool again after.
    assert pool_inside == "system"
    assert pool_after == pa.default_memory_pool().backend_name


def test_opt_out_leaves_glibc_alone():
    inside, _, after, threaded, _, pool_inside, _, kept, _ = _run(
        {"PAYSEG_REUSE_MEMORY": "0"}
    )
    assert threaded < 100  # the thread's block unmapped on free
    assert kept == "False"  # release_memory trims as usual
    assert inside < 100 and after < 100  # unmapped on del, as glibc does
    assert pool_inside == _default_pool()  # Arrow left on its own pool


def test_the_users_malloc_settings_are_restored_not_glibcs_defaults():
    # A process started with mapping off and no trimming keeps them after leaving
    # (restoring glibc's defaults unmapped the freed block).
    *_, post, _, _, _, _ = _run(
        {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**31 - 1)}
    )
    assert post >= 200
    *_, post, _, _, _, _ = _run(
        {
            "GLIBC_TUNABLES": f"glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold={2**31 - 1}"
        }
    )
    assert post >= 200


def test_load_keeps_its_signature_and_docstring():
    import inspect

    import payseg

    assert "progress" in inspect.signature(payseg.load).parameters
    assert payseg.load.__doc__ and "Parameters" in payseg.load.__doc__


def _default_pool():
    import pyarrow as pa

    return pa.default_memory_pool().backend_name
