"""Reuse freed memory inside a large load instead of asking the kernel for more.

glibc's ``malloc`` maps every block above its mmap threshold (at most 32 MB) fresh
from the kernel and unmaps it when freed. A load of 25M payments frees and allocates
row-sized arrays (100-200 MB each) over and over: each new one costs a page fault
and the zeroing of every page it touches. On the 2-core virtual machines payseg is
benchmarked on, a fresh 256 MB array took 0.19 s against 0.009 s to write it again,
and the kernel's page clearing was a third of a 1M customer load's samples
(docs/performance.md).

:func:`reuse_freed_memory` turns mapping off for the duration (blocks come from the
heap, freed blocks are reused, nothing is trimmed) and, on leaving, gives the free
memory back (``malloc_trim``) and restores glibc's settings (the defaults, or the
``MALLOC_*`` / ``GLIBC_TUNABLES`` values the process was started with), so the
process holds no more afterwards than before. Only with glibc;
``PAYSEG_REUSE_MEMORY=0`` turns it off. Arrow allocates from the same heap
meanwhile (its system pool instead of mimalloc), so the memory one library frees
the other reuses, and the loader's trims between stages
(``_read.release_memory``) wait until leaving (:func:`keeping`).

Threads that first allocate inside (the bills' thread, Arrow's readers) share the
main malloc arena, so their large blocks come from the same heap too. glibc sets
its limit on arenas once per process, when a thread first needs one: if that
happens inside, new threads keep sharing the main arena after leaving. Python
threads take turns on the GIL and Arrow allocates few, large buffers, so sharing
costs little; ``PAYSEG_REUSE_MEMORY=0`` before the first load avoids it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import threading
from contextlib import contextmanager

# mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
# glibc's defaults, restored on leaving unless the environment set others.
_DEFAULT_TRIM_THRESHOLD = 128 * 1024
_DEFAULT_MMAP_MAX = 65536
# Where a user sets them before the process starts: glibc's environment aliases
# and its GLIBC_TUNABLES names (which win, as glibc reads them last).
_SETTINGS = {
    _M_MMAP_MAX: ("MALLOC_MMAP_MAX_", "glibc.malloc.mmap_max"),
    _M_TRIM_THRESHOLD: ("MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),
    _M_ARENA_MAX: ("MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),
}
# Kept, not trimmed, while inside (the largest value mallopt accepts).
_KEEP = 2**31 - 1

_lock = threading.Lock()
_depth = 0
_arrow_pool = None  # Arrow's default pool, restored on leaving


def _libc():
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        return (
            libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
        )
    except OSError:  # pragma: no cover - a static or unusual libc
        return None


_LIBC = _libc()


@contextmanager
def reuse_freed_memory():
    """Inside, freed row-sized arrays are reused instead of mapped anew (see module
    docstring); nested and concurrent uses share one setting.

    >>> import numpy as np
    >>> with reuse_freed_memory():
    ...     total = float(np.ones(1000).sum())
    >>> total
    1000.0
    """
    global _depth
    libc = _LIBC if os.environ.get("PAYSEG_REUSE_MEMORY", "1") != "0" else None
    if libc is None:
        yield
        return
    import pyarrow as pa

    global _arrow_pool
    with _lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(_M_MMAP_MAX, 0)
            libc.mallopt(_M_TRIM_THRESHOLD, _KEEP)
            # Threads that get their malloc arena now share the main one. A
            # thread's own arena takes blocks above 64 MB straight from mmap
            # whatever M_MMAP_MAX says, and gives them back on free: the bills'
            # thread and Arrow's reader threads got fresh memory every time (at
            # 1M customers, 2,250 huge pages a load against 1,250). glibc fixes
            # its arena limit the first time it needs it, so in a process whose
            # first threads start inside, the limit stays (module docstring).
            libc.mallopt(_M_ARENA_MAX, 1)
            # Arrow's buffers from the same heap: memory numpy frees is reused by
            # Arrow and the other way round (mimalloc keeps a pool of its own).
            _arrow_pool = pa.default_memory_pool()
            pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                pa.set_memory_pool(_arrow_pool)
                _arrow_pool = None
                for param, value in _RESTORE.items():
                    libc.mallopt(param, value)
                libc.malloc_trim(0)


def _settings_to_restore(environ) -> dict[int, int]:
    """The mallopt value of each setting changed inside, as the process started
    with it: the user's ``MALLOC_*`` variable or GLIBC_TUNABLES entry where one is
    set (and valid), else glibc's default.

    >>> env = {"MALLOC_MMAP_MAX_": "0", "GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}
    >>> sorted(_settings_to_restore(env).items())
    [(-8, 2), (-4, 0), (-1, 131072)]
    """
    tunables = {}
    for item in environ.get("GLIBC_TUNABLES", "").split(":"):
        name, _, value = item.partition("=")
        tunables[name.strip()] = value.strip()
    defaults = {
        _M_MMAP_MAX: _DEFAULT_MMAP_MAX,
        _M_TRIM_THRESHOLD: _DEFAULT_TRIM_THRESHOLD,
        _M_ARENA_MAX: _default_arenas(),
    }
    out = {}
    for param, (alias, tunable) in _SETTINGS.items():
        out[param] = defaults[param]
        for given in (environ.get(alias), tunables.get(tunable)):
            try:
                value = int(given, 0) if given else None
            except ValueError:  # glibc ignores what it cannot read
                value = None
            if value is not None and 0 <= value < 2**31:
                out[param] = value
    return out


def _default_arenas() -> int:
    """glibc's default limit on malloc arenas: 8 per core on 64-bit systems."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return 8 * (cores or os.cpu_count() or 2)


# Read once: glibc took its settings from the environment the process started with.
_RESTORE = _settings_to_restore(os.environ)


def keeping() -> bool:
    """Whether freed memory is being kept for reuse (inside
    :func:`reuse_freed_memory`, with glibc): a trim now would hand back pages the
    next row-sized array takes fresh again (at 1M customers, trims in the middle of
    the load cost 3-7 s of page clearing for 1.4 GiB less peak)."""
    return _depth > 0 and _LIBC is not None


def reuses_freed_memory(func):
    """Decorator: ``func`` runs inside :func:`reuse_freed_memory`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with reuse_freed_memory():
            return func(*args, **kwargs)

    return wrapper
