"""The ``payseg`` command line: segment files, run the demo, generate data, predict.

Exit codes: 0 ok, 2 bad input or an output folder that cannot be written (one line on
stderr saying what and how to fix it), 1 a bug in payseg (its traceback and a line
asking to report it). ``segment`` and ``demo`` write their outputs as one set: every
file is written into a staging folder beside ``--out``, then moved into place under a
lock, with a journal that lets the next run roll a killed move back to the previous
set, and ``manifest.json`` is written last; a set without it is incomplete.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
import sys
import tempfile
import traceback
import warnings
from contextlib import contextmanager
from pathlib import Path

import click

from ._version import __version__

MANIFEST = "manifest.json"
INCOMPLETE = ".payseg-incomplete"


class _UserError(click.ClickException):
    """A bad input: printed as one line, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"payseg: error: {self.format_message()}", err=True)


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


@contextmanager
def _user_errors():
    from .exceptions import PaymentDataError

    try:
        yield
    except _UserError:
        raise
    except (PaymentDataError, FileNotFoundError, ValueError, KeyError) as exc:
        raise _UserError(_first_line(exc)) from None


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """A warning as one line an analyst reads, not Python's source-location form."""
    click.echo(f"payseg: warning: {message}", err=True)


class _Group(click.Group):
    """Usage errors in one line; a real bug shows its traceback and asks to report."""

    def main(self, args=None, prog_name=None, **kwargs):
        warnings.showwarning = _show_warning
        try:
            rv = super().main(
                args=args,
                prog_name=prog_name or "payseg",
                standalone_mode=False,
                **kwargs,
            )
        except click.UsageError as exc:
            hint = ""
            if exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            click.echo(
                f"payseg: error: {_first_line(exc.format_message())}{hint}", err=True
            )
            sys.exit(2)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("payseg: aborted", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("payseg: interrupted", err=True)
            sys.exit(130)
        except Exception:  # a bug: show everything, ask for a report
            traceback.print_exc()
            click.echo(
                f"payseg: internal error (payseg {__version__}). This is a bug: "
                "please report it to the payseg developers with the command "
                "and the traceback above.",
                err=True,
            )
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_csv(frame, path: Path, *, index=True, quote_text=False) -> None:
    with atomic_path(path) as tmp:
        # utf-8-sig so that Excel opens the Chinese names correctly. With
        # quote_text, every text cell (ids first) is quoted and numbers are not:
        # csv readers that honour quoting (Python's csv with QUOTE_NONNUMERIC,
        # LibreOffice's "quoted field as text") keep 0531000011 as text; pandas
        # needs dtype={"customer_id": str} (docs/cli.md).
        kw = {"quoting": csv.QUOTE_NONNUMERIC} if quote_text else {}
        if quote_text:
            # bools (no_data) as quoted "True"/"False": QUOTE_NONNUMERIC would leave
            # them bare, and csv readers then take False for a number
            bools = [c for c in frame.columns if str(frame[c].dtype) == "bool"]
            frame = frame.astype(dict.fromkeys(bools, "str")) if bools else frame
        frame.to_csv(tmp, index=index, encoding="utf-8-sig", **kw)


def _echo(quiet: bool, message: str) -> None:
    if not quiet:
        click.echo(message, err=True)


_OUTPUTS = {  # name -> file, in writing order (the manifest comes last)
    "customers": "customers.csv",
    "segments": "segments.csv",
    "profiles": "profiles.csv",
    "rejected": "rejected.csv",
    "workbook": "workbook.xlsx",
    "report": "report.html",
    "model": "model.payseg",
}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _set_problem(folder: Path) -> str | None:
    if (folder / INCOMPLETE).exists():
        return "an earlier run was interrupted while replacing the results"
    mpath = folder / MANIFEST
    if not mpath.exists():
        return f"{MANIFEST} is missing"
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"{MANIFEST} is unreadable"
    for name, entry in files.items():
        f = folder / name
        if not f.exists():
            return f"{name} is missing"
        if f.stat().st_size != entry.get("size"):
            return f"{name} does not match {MANIFEST}"
    return None


def check_result_set(folder: Path) -> str | None:
    """None when ``folder`` holds a complete result set, else what is wrong.

    A set left half-replaced by a killed run is first rolled back to the previous
    complete set when its journal allows (as SQLite rolls back a hot journal before
    reading).
    """
    folder = Path(folder)
    if (folder / INCOMPLETE).exists():
        # A folder this reader cannot change (read-only) stays marked incomplete.
        with _folder_lock(folder), contextlib.suppress(OSError):
            _roll_back(folder)
    return _set_problem(folder)


# --------------------------------------------------------------- one set at a time
# A run writes its set into a staging folder of its own (unique name, locked with
# flock for as long as the run lives, marked by STAGING_MARK). It then takes the
# lock of --out, hard-links the current complete set into ``staging/previous`` (the
# journal's backup), writes the journal (INCOMPLETE, naming the backup) and moves
# the new files in, the manifest last. A run killed in between leaves the journal:
# whoever next takes the lock (segment, demo, predict) moves the previous set back.
# Staging folders of dead runs (their lock is free) are deleted by the next run.

STAGING_MARK = ".payseg-staging"
_PREVIOUS = "previous"


def _lock_fd(folder: Path, *, wait: bool) -> tuple[bool, int | None]:
    """(held, fd) of an exclusive flock on ``folder``; close ``fd`` to release it.

    Without flock (Windows, some network file systems) the lock is always "held".
    """
    try:
        import fcntl
    except ImportError:  # Windows
        return True, None
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return True, None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return False, None
    except OSError:  # a file system without locks
        pass
    return True, fd


@contextmanager
def _folder_lock(folder: Path):
    _, fd = _lock_fd(folder, wait=True)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _staging_root(out: Path) -> tuple[Path, str]:
    """Folder beside ``out`` on the same file system, and the staging prefix."""
    base = out.resolve()
    parent = base.parent
    try:
        if parent.stat().st_dev != base.stat().st_dev:
            parent = base  # out is a mount point: renames must stay inside it
    except OSError:
        pass
    return parent, f".{base.name or 'out'}.payseg-"


def _remove_stale_staging(out: Path) -> None:
    """Delete the staging folders of runs on ``out`` that died (kill -9, power cut).

    Only folders payseg made (the prefix and STAGING_MARK) whose lock is free, i.e.
    whose run is gone; without flock, only those a day old.
    """
    import glob
    import time

    parent, prefix = _staging_root(out)
    try:  # the backup a journal still needs is kept
        journal = json.loads((out / INCOMPLETE).read_text(encoding="utf-8"))
        needed = Path(journal["backup"]).parent
    except (OSError, ValueError, KeyError, TypeError):
        needed = None
    for d in parent.glob(glob.escape(prefix) + "*"):
        try:
            if d.is_symlink() or not (d / STAGING_MARK).is_file() or d == needed:
                continue
            age = time.time() - d.stat().st_mtime
        except OSError:
            continue
        held, fd = _lock_fd(d, wait=False)
        if not held or (fd is None and age < 86400):
            continue
        try:
            shutil.rmtree(d, ignore_errors=True)
        finally:
            if fd is not None:
                os.close(fd)


def _roll_back(out: Path) -> None:
    """Put back the previous set of a run killed while moving its files in.

    Call with the lock of ``out`` held. Idempotent: a rollback killed half-way is
    finished by the next one. Without a usable backup (no complete set before, or
    an old-style marker) the set stays marked incomplete.
    """
    jpath = out / INCOMPLETE
    try:
        journal = json.loads(jpath.read_text(encoding="utf-8"))
        backup = Path(journal["backup"])
        added = [n for n in journal["files"] if n in _OUTPUTS.values()]
    except (OSError, ValueError, KeyError, TypeError):
        return
    parent, prefix = _staging_root(out)
    staging = backup.parent
    ours = (
        backup.name == _PREVIOUS
        and staging.parent == parent
        and staging.name.startswith(prefix)
        and (staging / STAGING_MARK).is_file()
    )
    if ours and (backup / MANIFEST).is_file():
        try:
            old = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            return
        names = [n for n in old if n in _OUTPUTS.values()]
        (out / MANIFEST).unlink(missing_ok=True)
        for name in added:
            if name not in names:  # new in the killed run's set: not in the old one
                (out / name).unlink(missing_ok=True)
        for name in names:
            if (backup / name).exists():  # else already moved back by a rollback
                os.replace(backup / name, out / name)
        os.replace(backup / MANIFEST, out / MANIFEST)
    if (out / MANIFEST).exists():
        jpath.unlink(missing_ok=True)
        if _set_problem(out) is not None:  # the restored set is not whole after all
            jpath.touch()
        elif ours:
            shutil.rmtree(staging, ignore_errors=True)


def _keep_previous(out: Path, backup: Path) -> None:
    """Hard-link the complete set in ``out`` into ``backup`` (copy where links fail)."""
    backup.mkdir()
    if _set_problem(out) is not None:
        return  # nothing complete to go back to
    files = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    for name in [*(n for n in files if n in _OUTPUTS.values()), MANIFEST]:
        try:
            os.link(out / name, backup / name)
        except OSError:
            shutil.copy2(out / name, backup / name)


def _write_set(result, staging: Path, *, lang: str, sheets) -> dict[str, Path]:
    paths = {k: staging / v for k, v in _OUTPUTS.items()}
    customers = result.customers
    features = getattr(result, "features", None)
    if features is not None and "cycle_months" in features:
        # The billing cycle each customer's rates were counted in (given with
        # --cycle-months or 抄表周期, else inferred; empty when unknown), in place
        # of a 抄表周期 attribute that --cycle-months overrode.
        used = features["cycle_months"].reindex(customers.index)
        customers = customers.assign(cycle_months=used)
    _write_csv(customers, paths["customers"], quote_text=True)
    _write_csv(result.segments, paths["segments"], quote_text=True)
    _write_csv(result.profiles, paths["profiles"])
    _write_csv(result.rejected, paths["rejected"], index=False)
    result.workbook(paths["workbook"], lang=lang, sheets=sheets)
    result.report(paths["report"], lang="en" if lang == "en" else "auto")
    result.save_model(paths["model"])
    manifest = {
        "payseg": __version__,
        "complete": True,
        "files": {
            p.name: {"size": p.stat().st_size, "sha256": _sha256(p)}
            for p in paths.values()
        },
    }
    mpath = staging / MANIFEST
    mpath.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    for p in [*paths.values(), mpath]:
        with open(p, "rb") as f:
            os.fsync(f.fileno())
    return paths


def _collect_quietly() -> None:
    import gc

    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _writable_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise _UserError(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _UserError(
            f"--out {out}: cannot create the folder ({exc.strerror or exc})"
        ) from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise _UserError(f"--out {out}: the folder is not writable")


def write_outputs(
    result, out: Path, *, quiet: bool = False, lang: str = "zh", sheets=None
) -> dict[str, Path]:
    """Write every output of ``result`` into ``out`` as one set.

    All files are written into a staging folder beside ``out`` (unique name, locked
    while the run lives); only when all of them are complete are they moved into
    ``out``, ``manifest.json`` (names, sizes, SHA-256) last, under a lock on ``out``
    and with a journal (``.payseg-incomplete``) naming hard links of the previous
    set. A failure while writing (full disk, no permission) leaves the previous set
    as it was; a run killed while moving files in is rolled back to the previous set
    by the next ``segment``, ``demo`` or ``predict``. Staging folders of killed runs
    are deleted by the next run.
    """
    out = Path(out)
    _writable_folder(out)
    try:
        if (out / INCOMPLETE).exists():
            with _folder_lock(out):
                _roll_back(out)
        _remove_stale_staging(out)
    except OSError as exc:
        raise _UserError(
            f"--out {out}: cannot clean up after an interrupted run "
            f"({exc.strerror or exc})"
        ) from None
    problem = None
    if any((out / f).exists() for f in _OUTPUTS.values()):
        problem = _set_problem(out)
        if problem:
            _echo(
                quiet,
                f"warning: the results in {out} were incomplete "
                f"({problem}); replacing them",
            )
    parent, prefix = _staging_root(out)
    try:
        staging = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except OSError as exc:
        raise _UserError(
            f"--out {out}: cannot write beside it ({exc.strerror or exc})"
        ) from None
    _, lock = _lock_fd(staging, wait=False)
    try:
        try:
            (staging / STAGING_MARK).touch()
            paths = _write_set(result, staging, lang=lang, sheets=sheets)
        except OSError as exc:
            err: _UserError | None = _UserError(
                f"could not write the results for {out} ({exc.strerror or exc}); "
                "the previous results there are unchanged"
            )
        else:
            err = None
        if err is not None:
            # Writers abandoned half-way (openpyxl's XML generators) complain when
            # collected; the one line above says all there is to say.
            _collect_quietly()
            raise err
        with _folder_lock(out):
            try:
                if (out / INCOMPLETE).exists():  # a run killed since we looked
                    _roll_back(out)
                backup = staging / _PREVIOUS
                _keep_previous(out, backup)
                journal = {"backup": str(backup), "files": sorted(_OUTPUTS.values())}
                (staging / INCOMPLETE).write_text(json.dumps(journal), "utf-8")
            except OSError as exc:
                raise _UserError(
                    f"could not write the results for {out} "
                    f"({exc.strerror or exc}); the previous results there are "
                    "unchanged"
                ) from None
            try:
                os.replace(staging / INCOMPLETE, out / INCOMPLETE)
                (out / MANIFEST).unlink(missing_ok=True)
                for key, src in paths.items():
                    os.replace(src, out / src.name)
                    paths[key] = out / src.name
                os.replace(staging / MANIFEST, out / MANIFEST)
                (out / INCOMPLETE).unlink()
            except OSError as exc:
                with contextlib.suppress(OSError):
                    _roll_back(out)
                raise _UserError(
                    f"could not move the results into {out} ({exc.strerror or exc}); "
                    + (
                        "the previous results there are unchanged"
                        if not (out / INCOMPLETE).exists()
                        else f"the set there is incomplete ({INCOMPLETE} marks it)"
                    )
                ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if lock is not None:
            os.close(lock)
    return paths


def _initial_lang() -> str:
    """Language of help texts: --lang on the command line, else the locale."""
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return "zh" if argv[i + 1].lower().startswith("zh") else "en"
        if a.startswith("--lang="):
            return "zh" if a.split("=", 1)[1].lower().startswith("zh") else "en"
    for var in ("PAYSEG_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        v = os.environ.get(var, "")
        if v:
            return "zh" if v.lower().startswith("zh") else "en"
    return "en"


_HELP_LANG = _initial_lang()


def _h(en: str, zh: str) -> str:
    return zh if _HELP_LANG == "zh" else en


def _segment_kwargs(
    method,
    k,
    seed,
    quiet,
    stability=0,
    as_of=None,
    actions=None,
    small_arrears=100.0,
    cycle_months=None,
):
    n_clusters = "auto" if k == "auto" else int(k)
    return {
        "cycle_months": cycle_months,
        "method": method,
        "n_clusters": n_clusters,
        "random_state": seed,
        "progress": not quiet,
        "stability": stability,
        "as_of": as_of,
        "actions": actions,
        "small_arrears": small_arrears,
    }


def _parse_k(ctx, param, value):
    if value == "auto":
        return value
    try:
        k = int(value)
    except ValueError:
        raise click.BadParameter("use 'auto' or a whole number such as 6") from None
    if k < 2:
        raise click.BadParameter("need at least 2 segments")
    return k


def _parse_month(ctx, param, value):
    import pandas as pd

    try:
        return str(pd.Period(str(value), freq="M"))
    except (ValueError, TypeError):
        raise click.BadParameter(
            f"{value!r} is not a month: use YYYY-MM, e.g. 2024-01"
        ) from None


def _parse_day(ctx, param, value):
    if value is None:
        return None
    import pandas as pd

    try:
        day = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        day = pd.NaT
    if pd.isna(day):
        raise click.BadParameter(
            f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2025-06-30"
        )
    return day


def _read_text(path: str, option: str) -> str:
    raw = Path(path).read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise _UserError(f"{option} {path}: not a text file in UTF-8 or GBK/GB18030")


def _read_columns(path: str | None) -> dict | None:
    """The --columns JSON file: {"your header": "canonical name"}."""
    if not path:
        return None
    try:
        mapping = json.loads(_read_text(path, "--columns"))
    except json.JSONDecodeError as exc:
        raise _UserError(
            f"--columns {path}: not valid JSON ({exc.msg} at line "
            f"{exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise _UserError(
            f"--columns {path}: expected a JSON object "
            '{"your header": "canonical name", ...}'
        )
    return mapping


def _register_channels(path: str | None) -> int:
    """--channels FILE: JSON {code: [aliases]} (or {code: {...}}) or CSV code,alias."""
    if not path:
        return 0
    from . import channels as registry

    text = _read_text(path, "--channels")
    entries: dict = {}
    if Path(path).suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _UserError(
                f"--channels {path}: not valid JSON ({exc.msg} at line "
                f"{exc.lineno}, column {exc.colno})"
            ) from None
        if not isinstance(data, dict):
            raise _UserError(f'--channels {path}: expected {{"code": ["alias", ...]}}')
        for code, spec in data.items():
            if isinstance(spec, str):
                spec = {"aliases": [spec]}
            elif isinstance(spec, list):
                spec = {"aliases": spec}
            if not isinstance(spec, dict):
                raise _UserError(
                    f"--channels {path}: entry {code!r} must be a list of "
                    "spellings or an object"
                )
            entries[str(code)] = spec
    else:
        rows = list(csv.DictReader(text.splitlines()))
        if (
            not rows
            or "code" not in rows[0]
            or not ({"alias", "aliases"} & set(rows[0]))
        ):
            raise _UserError(
                f"--channels {path}: a CSV needs the columns code and "
                "alias (optional: name_zh, name_en, group)"
            )
        for r in rows:
            spec = entries.setdefault(r["code"].strip(), {"aliases": []})
            alias = (r.get("alias") or r.get("aliases") or "").strip()
            if alias:
                spec["aliases"].extend(a.strip() for a in alias.split("|") if a.strip())
            for key in ("name_zh", "name_en", "group"):
                if r.get(key):
                    spec[key] = r[key].strip()
    known = set(registry.codes())
    for code, spec in entries.items():
        aliases = [str(a) for a in spec.get("aliases", [])]
        kw = {}
        if code not in known:  # a new channel: an app unless told otherwise
            group = spec.get("group", "online")
            kw = {
                "group": group,
                "online": float(spec.get("online", group == "online")),
                "self_service": float(
                    spec.get("self_service", group in ("online", "self_service"))
                ),
                "automatic": float(spec.get("automatic", group == "automatic")),
                "prepaid": float(spec.get("prepaid", group == "prepaid")),
            }
        try:
            registry.register(
                code, spec.get("name_zh"), spec.get("name_en"), aliases=aliases, **kw
            )
        except (ValueError, TypeError) as exc:
            raise _UserError(
                f"--channels {path}: {code!r}: {_first_line(exc)}"
            ) from None
    return len(entries)


def _load_actions(path):
    if not path:
        return None
    from .labels import load_actions

    try:
        return load_actions(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _UserError(f"--actions {path}: {_first_line(exc)}") from None


_METHODS = ["kmeans", "minibatch_kmeans", "gmm", "hdbscan", "agglomerative"]
_SHEET_KINDS = [
    "all",
    "action",
    "region",
    "vip",
    "bad_credit",
    "reminders",
    "warnings",
    "movers",
]


def _parse_sheets(ctx, param, value):
    if not value:
        return None
    kinds = [v.strip() for v in value.split(",") if v.strip()]
    bad = [k for k in kinds if k not in _SHEET_KINDS]
    if bad:
        raise click.BadParameter(
            f"unknown sheet kinds {bad}; choose from {', '.join(_SHEET_KINDS)}"
        )
    return kinds


_LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help=_h(
        "Language of help, workbook and report labels (default: Chinese outputs; "
        "help from the locale).",
        "帮助、工作簿与报告的语言（默认输出中文）。",
    ),
)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=_h(
        "Segment utility customers by when and through which channel they pay.",
        "按缴费时间与缴费渠道对电力客户分群。",
    ),
)
@click.version_option(__version__, prog_name="payseg")
def main():
    pass


_CYCLE_OPTION = click.option(
    "--cycle-months",
    type=click.IntRange(1, 12),
    default=None,
    help=_h(
        "Billing cycle in months for every customer (1 monthly, 2 bimonthly, up to "
        "12); default: a 抄表周期 column of the customers file, else inferred from "
        "the bill periods.",
        "所有客户的抄表（计费）周期月数（1 单月，2 双月，最多 12）；默认取客户档案的"
        "抄表周期列，否则按账单电费年月推断。",
    ),
)


def _segment_options(f):
    for opt in reversed(
        [
            click.option(
                "--method",
                type=click.Choice(_METHODS),
                default="kmeans",
                show_default=True,
                help=_h("Clustering method.", "聚类方法。"),
            ),
            click.option(
                "--k",
                "k",
                default="auto",
                callback=_parse_k,
                show_default=True,
                help=_h("Number of segments, or 'auto'.", "分群数，或 auto 自动选择。"),
            ),
            click.option(
                "--seed",
                default=0,
                show_default=True,
                help=_h("Random seed.", "随机种子。"),
            ),
            click.option(
                "--stability",
                type=click.IntRange(min=0),
                default=0,
                show_default=True,
                help=_h(
                    "Bootstrap refits to measure segment stability (0: skip; "
                    "20 is a good start).",
                    "评估分群稳定性的自助重抽样次数（0 不计算，建议 20）。",
                ),
            ),
            click.option(
                "--as-of",
                "as_of",
                callback=_parse_day,
                default=None,
                help=_h(
                    "Reference day of the features (default: the last date "
                    "in the data).",
                    "特征计算基准日（默认数据中最后日期）。",
                ),
            ),
            _CYCLE_OPTION,
            click.option(
                "--actions",
                "actions_file",
                type=click.Path(exists=True, dir_okay=False),
                help=_h(
                    "Your own service-actions table (CSV; see docs/labels.md).",
                    "自定义服务措施表（CSV，见 docs/labels.md）。",
                ),
            ),
            click.option(
                "--small-arrears",
                type=click.FloatRange(min=0),
                default=100.0,
                show_default=True,
                help=_h(
                    "Arrears (yuan) below this get a reminder, never a cut-off notice.",
                    "低于此金额（元）的欠费只提醒，不发停电通知。",
                ),
            ),
            click.option(
                "--sheets",
                callback=_parse_sheets,
                default=None,
                help=_h(
                    "Workbook sheets, comma-separated: "
                    + ",".join(_SHEET_KINDS)
                    + " (default: all).",
                    "工作簿包含的工作表，逗号分隔（默认全部）："
                    + ",".join(_SHEET_KINDS),
                ),
            ),
            _LANG_OPTION,
            click.option(
                "--quiet",
                "-q",
                is_flag=True,
                help=_h("No progress bars or messages.", "不显示进度与提示。"),
            ),
        ]
    ):
        f = opt(f)
    return f


def _list_outputs(paths: dict, out: Path) -> None:
    """Every output file, on stdout (scripts can read it)."""
    for path in [*paths.values(), Path(out) / MANIFEST]:
        click.echo(str(path))


@main.command(
    help=_h(
        "Segment the customers in PAYMENTS (CSV, Parquet or Excel files).",
        "对 PAYMENTS（CSV、Parquet 或 Excel 缴费文件）中的客户分群。",
    )
)
@click.argument("payments", nargs=-1, required=True)
@click.option(
    "--bills",
    multiple=True,
    help=_h("Bill file(s): 户号, 电费年月, 发行日期, ...", "应收（账单）文件。"),
)
@click.option(
    "--customers",
    multiple=True,
    help=_h(
        "Customer file(s): 户号, 户名, 用电地址, 供电单位, 收费员, 表计类型",
        "客户档案文件：户号、户名、用电地址、供电单位、收费员、表计类型。",
    ),
)
@click.option(
    "--columns",
    type=click.Path(exists=True, dir_okay=False),
    help=_h(
        "JSON file mapping your headers to canonical names.", "表头映射 JSON 文件。"
    ),
)
@click.option(
    "--channels",
    "channels_file",
    type=click.Path(exists=True, dir_okay=False),
    help=_h(
        "Register channel spellings: JSON {code: [aliases]} or CSV code,alias.",
        "登记新的缴费渠道写法：JSON {代码: [别名]} 或 CSV。",
    ),
)
@click.option(
    "--id-width",
    type=click.IntRange(min=1),
    default=None,
    help=_h(
        "Left-pad all-digit customer ids with zeros to this width.",
        "将纯数字户号左侧补零到此长度。",
    ),
)
@click.option(
    "--sheet",
    "sheet",
    default=None,
    help=_h(
        "Workbook sheet of the payments (default: every sheet whose "
        "headers are payments).",
        "缴费明细所在工作表（默认按表头识别）。",
    ),
)
@click.option(
    "--bills-sheet",
    default=None,
    help=_h("Workbook sheet of the bills.", "应收明细所在工作表。"),
)
@click.option(
    "--customers-sheet",
    default=None,
    help=_h("Workbook sheet of the customers.", "客户档案所在工作表。"),
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help=_h("Directory for the results.", "结果输出目录。"),
)
@_segment_options
def segment(
    payments,
    bills,
    customers,
    columns,
    channels_file,
    id_width,
    sheet,
    bills_sheet,
    customers_sheet,
    out,
    method,
    k,
    seed,
    stability,
    as_of,
    cycle_months,
    actions_file,
    small_arrears,
    sheets,
    lang,
    quiet,
):
    import payseg

    lang = lang or "zh"
    with _user_errors():
        mapping = _read_columns(columns)
        n_channels = _register_channels(channels_file)
        if n_channels:
            _echo(quiet, f"registered {n_channels} channel(s) from {channels_file}")
        actions = _load_actions(actions_file)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            sheet_names = {
                role: name
                for role, name in (
                    ("payments", sheet),
                    ("bills", bills_sheet),
                    ("customers", customers_sheet),
                )
                if name is not None
            }
            try:
                data = payseg.load(
                    list(payments),
                    bills=list(bills) or None,
                    customers=list(customers) or None,
                    columns=mapping,
                    id_width=id_width,
                    sheet=sheet_names or None,
                    progress=not quiet,
                )
            except payseg.PaymentDataError as exc:
                for w in caught:
                    _echo(quiet, f"warning: {w.message}")
                if getattr(exc, "rejected", None) is not None:
                    # Nothing kept: the ledger still says why, row by row.
                    path = Path(out) / "rejected.csv"
                    _write_csv(exc.rejected, path, index=False)
                    _echo(quiet, f"wrote {path} ({len(exc.rejected):,} rejected rows)")
                raise
        for w in caught:
            _echo(quiet, f"warning: {w.message}")
        if not quiet:
            data.summary(file=sys.stderr)
        result = payseg.segment(
            data,
            **_segment_kwargs(
                method,
                k,
                seed,
                quiet,
                stability,
                as_of,
                actions,
                small_arrears,
                cycle_months,
            ),
        )
    _echo(quiet, f"{result.segmenter.n_clusters_} segments; {result.k_reason}")
    paths = write_outputs(result, Path(out), quiet=quiet, lang=lang, sheets=sheets)
    _list_outputs(paths, Path(out))


@main.command(
    help=_h(
        "Generate customers with planted archetypes and segment them end to end.",
        "生成带已知类型的模拟客户并完整分群。",
    )
)
@click.option(
    "--out", type=click.Path(file_okay=False), default="out", show_default=True
)
@click.option(
    "--customers",
    "n_customers",
    type=click.IntRange(min=10),
    default=20_000,
    show_default=True,
    help=_h("Number of generated customers.", "模拟客户数。"),
)
@click.option("--months", type=click.IntRange(min=1), default=24, show_default=True)
@_segment_options
def demo(
    out,
    n_customers,
    months,
    method,
    k,
    seed,
    stability,
    as_of,
    cycle_months,
    actions_file,
    small_arrears,
    sheets,
    lang,
    quiet,
):
    import payseg

    lang = lang or "zh"
    with _user_errors():
        actions = _load_actions(actions_file)
        _echo(quiet, f"generating {n_customers:,} customers x {months} months ...")
        data = payseg.synth.generate(n_customers, seed=seed, months=months)
        if not quiet:
            data.summary(file=sys.stderr)
        result = payseg.segment(
            data,
            **_segment_kwargs(
                method,
                k,
                seed,
                quiet,
                stability,
                as_of,
                actions,
                small_arrears,
                cycle_months,
            ),
        )
    ari = payseg.evaluate.ari(data.truth["archetype"], result.labels)
    _echo(
        quiet,
        f"{result.segmenter.n_clusters_} segments ({result.k_reason}); "
        f"agreement with the planted archetypes: ARI {ari:.3f}",
    )
    paths = write_outputs(result, Path(out), quiet=quiet, lang=lang, sheets=sheets)
    _list_outputs(paths, Path(out))


@main.command(
    help=_h(
        "Write generated customers as utility-export files (Chinese headers).",
        "将模拟客户写成营销系统导出格式的文件（中文表头）。",
    )
)
@click.option(
    "--customers",
    "n_customers",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
)
@click.option("--months", type=click.IntRange(min=1), default=24, show_default=True)
@click.option(
    "--start",
    default="2024-01",
    show_default=True,
    callback=_parse_month,
    help=_h("First month, YYYY-MM.", "起始月份 YYYY-MM。"),
)
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--market", type=click.Choice(["cn", "us", "uk"]), default="cn", show_default=True
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--defects",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help=_h(
        "Fraction of defective rows to inject (each kind the loader rejects).",
        "注入的缺陷行比例。",
    ),
)
@click.option("--out", type=click.Path(file_okay=False), required=True)
@click.option("--quiet", "-q", is_flag=True)
def synth(n_customers, months, start, seed, market, fmt, defects, out, quiet):
    import payseg

    _writable_folder(Path(out))
    with _user_errors():
        data = payseg.synth.generate(
            n_customers, seed=seed, start=start, months=months, market=market
        )
        try:
            payseg.synth.write(data, out, format=fmt, defects=defects, seed=seed)
            data.truth.to_csv(Path(out) / "truth.csv", encoding="utf-8-sig")
        except OSError as exc:
            raise _UserError(
                f"--out {out}: could not write ({exc.strerror or exc})"
            ) from None
    _echo(
        quiet,
        f"wrote {len(data.payments):,} payments, {len(data.bills):,} bills, "
        f"{n_customers:,} customers to {out}",
    )


@main.command(
    help=_h(
        "Assign the customers in PAYMENTS to the segments of a saved model.",
        "用已保存的模型为 PAYMENTS 中的客户分配分群。",
    )
)
@click.argument("payments", nargs=-1, required=True)
@click.option("--model", type=click.Path(exists=True, dir_okay=False), required=True)
@click.option("--bills", multiple=True)
@click.option("--customers", multiple=True)
@click.option("--columns", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--channels",
    "channels_file",
    type=click.Path(exists=True, dir_okay=False),
    help=_h(
        "Channel spellings to register (as for segment).",
        "登记渠道写法（同 segment）。",
    ),
)
@click.option("--id-width", type=click.IntRange(min=1), default=None)
@_CYCLE_OPTION
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help=_h(
        "CSV to write (default: print to stdout).", "输出 CSV（默认打印到标准输出）。"
    ),
)
@click.option("--quiet", "-q", is_flag=True)
def predict(
    payments,
    model,
    bills,
    customers,
    columns,
    channels_file,
    id_width,
    cycle_months,
    out,
    quiet,
):
    import payseg
    from payseg._pipeline import predict_saved

    folder = Path(model).parent
    if (folder / INCOMPLETE).exists() or (folder / MANIFEST).exists():
        problem = check_result_set(folder)
        if problem:
            raise _UserError(
                f"--model {model}: the result set in {folder} is "
                f"incomplete ({problem}); run payseg segment again"
            )
    with _user_errors():
        segmenter = payseg.Segmenter.load(model)  # a bad model file fails first
        mapping = _read_columns(columns)
        _register_channels(channels_file)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            data = payseg.load(
                list(payments),
                bills=list(bills) or None,
                customers=list(customers) or None,
                columns=mapping,
                id_width=id_width,
                progress=not quiet,
            )
        assigned = predict_saved(segmenter, data, cycle_months=cycle_months)
    if out:
        try:
            _write_csv(assigned, Path(out), quote_text=True)
        except OSError as exc:
            raise _UserError(
                f"--out {out}: could not write ({exc.strerror or exc})"
            ) from None
        _echo(quiet, f"wrote {len(assigned):,} customers to {out}")
    else:
        click.echo(assigned.to_csv(), nl=False)


@main.command(help=_h("List the payment-channel registry.", "列出缴费渠道登记表。"))
@click.option("--aliases", is_flag=True, help="Also list every recognised spelling.")
def channels(aliases):
    from . import channels as registry

    table = registry.table(include_aliases=aliases)
    if aliases:
        table["aliases"] = table["aliases"].map(", ".join)
    with _pd_wide():
        click.echo(table.to_string())


@contextmanager
def _pd_wide():
    import pandas as pd

    with pd.option_context(
        "display.width", 200, "display.max_rows", None, "display.max_colwidth", 80
    ):
        yield


if __name__ == "__main__":  # pragma: no cover
    main()
