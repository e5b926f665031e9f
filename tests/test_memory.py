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
from payseg._memory import reuse_freed_memory

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

MB = 1 << 20
base = rss()
with reuse_freed_memory():
    with reuse_freed_memory():  # nested: one setting, left by the outer exit
        a = np.ones(256 * MB // 8)
        del a
    inside = rss() - base  # freed, kept for reuse: still resident
    b = np.ones(256 * MB // 8)  # reuses it: no more resident memory
    again = rss() - base
    del b
after = rss() - base  # given back on leaving
print(inside // MB, again // MB, after // MB)
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
    return [int(v) for v in out.stdout.split()]


def test_freed_arrays_are_reused_inside_and_given_back_after():
    inside, again, after = _run()
    assert inside >= 200  # kept after del
    assert again < inside + 100  # the second array took the freed memory
    assert after < 100  # malloc_trim on leaving


def test_opt_out_leaves_glibc_alone():
    inside, _, after = _run({"PAYSEG_REUSE_MEMORY": "0"})
    assert inside < 100 and after < 100  # unmapped on del, as glibc does


def test_load_keeps_its_signature_and_docstring():
    import inspect

    import payseg

    assert "progress" in inspect.signature(payseg.load).parameters
    assert payseg.load.__doc__ and "Parameters" in payseg.load.__doc__
