"""Folders payseg writes: created with a marker file, and only those are deleted.

The out-of-core path keeps its stages on disk and deletes stale outputs (buckets of
other inputs, features of other parameters, labels of an earlier fit). It must never
delete a folder the user owns: every folder payseg creates for a caller carries the
marker file :data:`MARKER`, and :func:`remove_dir` refuses any folder that is not
such a folder or inside one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..exceptions import PaymentDataError

__all__ = ["MARKER", "claim_dir", "is_payseg_dir", "remove_dir"]

#: Name of the file that marks a folder as created (and owned) by payseg.
MARKER = ".payseg-work"
_NOTE = (
    "This folder was created by payseg (out-of-core work files). payseg may delete "
    "it or anything inside it when it is reused; keep your own files elsewhere.\n"
)


def is_payseg_dir(path) -> bool:
    """Whether ``path`` is a folder payseg created (it or a parent has the marker)."""
    path = Path(path).resolve()
    return any((p / MARKER).is_file() for p in (path, *path.parents))


def _mark(path: Path) -> None:
    (path / MARKER).write_text(_NOTE, encoding="utf-8")


def claim_dir(path, *, what: str = "out", fresh: bool = False) -> Path:
    """Make ``path`` a payseg folder: create and mark it, or check it already is one.

    A missing folder is created and marked, an empty one is marked, a payseg folder
    (see :func:`is_payseg_dir`) is reused (emptied first when ``fresh``). A folder
    that holds files payseg did not write is refused, and nothing in it is touched.

    Parameters
    ----------
    path : str or path
    what : str, default "out"
        Name of the argument, for the error message.
    fresh : bool, default False
        Start from an empty folder (an earlier payseg output is deleted).

    Raises
    ------
    PaymentDataError
        When ``path`` is a file, or a folder with other files and no marker.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     work = claim_dir(pathlib.Path(tmp) / "work")
    ...     (work / MARKER).is_file(), is_payseg_dir(work / "canon")
    (True, True)
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise PaymentDataError(
            f"{what}={str(path)!r} is a file, not a folder; pass a new or empty folder"
        )
    if path.is_dir() and is_payseg_dir(path):
        if not fresh:
            _mark(path)
            return path
        remove_dir(path, what=what)
    if path.is_dir():
        found = sorted(p.name for p in path.iterdir())
        if found:
            shown = ", ".join(found[:5]) + (" ..." if len(found) > 5 else "")
            raise PaymentDataError(
                f"{what}={str(path)!r} already holds files payseg did not create "
                f"({len(found)} entries: {shown}); payseg writes and deletes only "
                f"in folders it created (marked by a {MARKER} file). Pass a new or "
                "empty folder, e.g. a subfolder of this one."
            )
    else:
        path.mkdir(parents=True)
    _mark(path)
    return path


def remove_dir(path, *, what: str = "out") -> None:
    """Delete a folder payseg created (marked, or inside a marked folder).

    Nothing happens when ``path`` does not exist.

    Raises
    ------
    PaymentDataError
        When the folder is not payseg's: it is left as it is.
    """
    path = Path(path)
    if not path.exists():
        return
    if not is_payseg_dir(path):
        raise PaymentDataError(
            f"refusing to delete {str(path)!r} ({what}): payseg did not create it (no "
            f"{MARKER} file in it or a folder above); delete it yourself if it holds "
            "nothing you need, or pass another folder"
        )
    shutil.rmtree(path)
