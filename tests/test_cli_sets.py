"""The CLI's one-set writing (``payseg.cli.write_outputs``) under kill -9 at every
rename of the swap and under runs at once, with a stub result (no segmentation), each
writer in a fresh process."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from payseg.cli import MANIFEST, check_result_set

# A result whose every output is a line of text naming its tag: a set is whole when
# every file carries the same tag and the manifest lists their sizes and hashes.
_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import payseg.cli as c

    class Frame:
        columns = ()  # no columns for the CLI's per-column conversions

        def __init__(self, tag):
            self.tag = tag
        def to_csv(self, path, **kw):
            Path(path).write_text(self.tag)

    class Result:
        def __init__(self, tag):
            self.customers = self.segments = self.profiles = Frame(tag)
            self.rejected = Frame(tag)
            self.tag = tag
        def workbook(self, path, **kw):
            Path(path).write_text(self.tag)
        def report(self, path, **kw):
            Path(path).write_text(self.tag)
        def save_model(self, path):
            Path(path).write_text(self.tag)

    out, tag, kill_at, times = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    real, n = os.replace, [0]
    def replace(a, b):
        real(a, b)
        n[0] += 1
        if n[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    c.os.replace = replace
    for i in range(times):
        c.write_outputs(Result(f"{tag}-{i}"), Path(out), quiet=True)
    """
)


def _write(out, tag, *, kill_at=0, times=1, wait=True):
    cmd = [sys.executable, "-c", _WRITER, str(out), tag, str(kill_at), str(times)]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _whole_set(out: Path) -> str:
    """The tag of the one complete set in ``out`` (asserts it is whole)."""
    assert check_result_set(out) is None
    files = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    tags = set()
    for name, entry in files.items():
        data = (out / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        tags.add(data.decode())
    assert len(tags) == 1, tags
    return tags.pop()


@pytest.fixture(scope="module")
def first_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("first") / "res"
    done = _write(out, "old")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("kill_at", range(5, 14))
def test_kill_9_at_every_rename_of_the_swap(first_set, tmp_path, kill_at):
    """Renames 1-4 stage the CSV files, 5 puts the journal in, 6-12 move the set,
    13 moves the manifest; each kill is rolled back to the old set by the next
    reader, and the next run writes its own set and removes the dead one's folder."""
    import shutil

    out = tmp_path / "res"
    shutil.copytree(first_set, out)
    done = _write(out, "new", kill_at=kill_at)
    assert done.returncode == -9, done.stderr
    assert _whole_set(out) == "old-0"
    done = _write(out, "next")
    assert done.returncode == 0, done.stderr
    assert _whole_set(out) == "next-0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_runs_at_once_never_mix_or_collide(first_set, tmp_path):
    import shutil

    out = tmp_path / "res"
    shutil.copytree(first_set, out)
    runs = [_write(out, tag, times=6, wait=False) for tag in ("a", "b", "c")]
    for r in runs:
        _, err = r.communicate(timeout=300)
        assert r.returncode == 0, err.decode()
    assert _whole_set(out) in {"a-5", "b-5", "c-5"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
