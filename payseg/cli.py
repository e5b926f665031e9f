"""The ``payseg`` command line: segment files, run the demo, generate data, predict.

Exit codes: 0 ok, 2 bad input (one line on stderr saying what and how to fix it).
Every output file is written to a temporary name and renamed when complete, so an
interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import click

from ._version import __version__


class _UserError(click.ClickException):
    """A bad input: printed as one line, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"payseg: error: {self.format_message()}", err=True)


@contextmanager
def _user_errors():
    from .exceptions import PaymentDataError

    try:
        yield
    except (PaymentDataError, FileNotFoundError, ValueError, KeyError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise _UserError(message) from None


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


def _write_csv(frame, path: Path, *, index=True) -> None:
    with atomic_path(path) as tmp:
        # utf-8-sig so that Excel opens the Chinese names correctly.
        frame.to_csv(tmp, index=index, encoding="utf-8-sig")


def _echo(quiet: bool, message: str) -> None:
    if not quiet:
        click.echo(message, err=True)


def write_outputs(result, out: Path, *, quiet: bool = False) -> dict[str, Path]:
    """Write customers.csv, segments.csv, profiles.csv, rejected.csv, report.html, model."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "customers": out / "customers.csv",
        "segments": out / "segments.csv",
        "profiles": out / "profiles.csv",
        "rejected": out / "rejected.csv",
        "report": out / "report.html",
        "model": out / "model.payseg",
    }
    _write_csv(result.customers, paths["customers"])
    _write_csv(result.segments, paths["segments"])
    _write_csv(result.profiles, paths["profiles"])
    _write_csv(result.rejected, paths["rejected"], index=False)
    with atomic_path(paths["report"]) as tmp:
        result.report(tmp.with_suffix(".html"))
        os.replace(tmp.with_suffix(".html"), tmp)
    with atomic_path(paths["model"]) as tmp:
        result.save_model(tmp)
    for name, path in paths.items():
        _echo(quiet, f"  {name:9} {path}")
    return paths


def _segment_kwargs(method, k, seed, quiet):
    n_clusters = "auto" if k == "auto" else int(k)
    return {"method": method, "n_clusters": n_clusters, "random_state": seed,
            "progress": not quiet}


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


_METHODS = ["kmeans", "minibatch_kmeans", "gmm", "hdbscan", "agglomerative"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="payseg")
def main():
    """Segment utility customers by when and through which channel they pay."""


@main.command()
@click.argument("payments", nargs=-1, required=True)
@click.option("--bills", multiple=True, help="Bill file(s): 户号, 电费年月, 发行日期, ...")
@click.option("--customers", multiple=True, help="Customer file(s): 户号, 供电单位, 表计类型")
@click.option("--columns", type=click.Path(exists=True, dir_okay=False),
              help="JSON file mapping your headers to canonical names.")
@click.option("--id-width", type=int, default=None,
              help="Left-pad all-digit customer ids with zeros to this width.")
@click.option("--method", type=click.Choice(_METHODS), default="kmeans", show_default=True)
@click.option("--k", "k", default="auto", callback=_parse_k, show_default=True,
              help="Number of segments, or 'auto'.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option("--out", type=click.Path(file_okay=False), required=True,
              help="Directory for the results.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or messages.")
def segment(payments, bills, customers, columns, id_width, method, k, seed, out, quiet):
    """Segment the customers in PAYMENTS (CSV, Parquet or Excel files)."""
    import payseg

    with _user_errors():
        mapping = None
        if columns:
            mapping = json.loads(Path(columns).read_text(encoding="utf-8"))
            if not isinstance(mapping, dict):
                raise ValueError(f"{columns}: expected a JSON object "
                                 '{"your header": "canonical name"}')
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            try:
                data = payseg.load(list(payments), bills=list(bills) or None,
                                   customers=list(customers) or None, columns=mapping,
                                   id_width=id_width)
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
        result = payseg.segment(data, **_segment_kwargs(method, k, seed, quiet))
    _echo(quiet, f"{result.segmenter.n_clusters_} segments; {result.k_reason}")
    write_outputs(result, Path(out), quiet=quiet)


@main.command()
@click.option("--out", type=click.Path(file_okay=False), default="out", show_default=True)
@click.option("--customers", "n_customers", default=20_000, show_default=True,
              help="Number of generated customers.")
@click.option("--months", default=24, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--method", type=click.Choice(_METHODS), default="kmeans", show_default=True)
@click.option("--quiet", "-q", is_flag=True)
def demo(out, n_customers, months, seed, method, quiet):
    """Generate customers with planted archetypes and segment them end to end."""
    import payseg

    with _user_errors():
        _echo(quiet, f"generating {n_customers:,} customers x {months} months ...")
        data = payseg.synth.generate(n_customers, seed=seed, months=months)
        if not quiet:
            data.summary(file=sys.stderr)
        result = payseg.segment(data, **_segment_kwargs(method, "auto", seed, quiet))
    ari = payseg.evaluate.ari(data.truth["archetype"], result.labels)
    _echo(quiet, f"{result.segmenter.n_clusters_} segments ({result.k_reason}); "
                 f"agreement with the planted archetypes: ARI {ari:.3f}")
    write_outputs(result, Path(out), quiet=quiet)
    click.echo(Path(out) / "report.html")


@main.command()
@click.option("--customers", "n_customers", default=10_000, show_default=True)
@click.option("--months", default=24, show_default=True)
@click.option("--start", default="2024-01", show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--market", type=click.Choice(["cn", "us", "uk"]), default="cn",
              show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True)
@click.option("--defects", default=0.0, show_default=True,
              help="Fraction of defective rows to inject (each kind the loader rejects).")
@click.option("--out", type=click.Path(file_okay=False), required=True)
@click.option("--quiet", "-q", is_flag=True)
def synth(n_customers, months, start, seed, market, fmt, defects, out, quiet):
    """Write generated customers as utility-export files (Chinese headers)."""
    import payseg

    with _user_errors():
        data = payseg.synth.generate(n_customers, seed=seed, start=start, months=months,
                                     market=market)
        payseg.synth.write(data, out, format=fmt, defects=defects, seed=seed)
        data.truth.to_csv(Path(out) / "truth.csv", encoding="utf-8-sig")
    _echo(quiet, f"wrote {len(data.payments):,} payments, {len(data.bills):,} bills, "
                 f"{n_customers:,} customers to {out}")


@main.command()
@click.argument("payments", nargs=-1, required=True)
@click.option("--model", type=click.Path(exists=True, dir_okay=False), required=True)
@click.option("--bills", multiple=True)
@click.option("--customers", multiple=True)
@click.option("--columns", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="CSV to write (default: print to stdout).")
@click.option("--quiet", "-q", is_flag=True)
def predict(payments, model, bills, customers, columns, out, quiet):
    """Assign the customers in PAYMENTS to the segments of a saved model."""
    import payseg
    from payseg._pipeline import predict_saved

    with _user_errors():
        segmenter = payseg.Segmenter.load(model)  # a bad model file fails first
        mapping = json.loads(Path(columns).read_text(encoding="utf-8")) if columns else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            data = payseg.load(list(payments), bills=list(bills) or None,
                               customers=list(customers) or None, columns=mapping)
        assigned = predict_saved(segmenter, data)
    if out:
        _write_csv(assigned, Path(out))
        _echo(quiet, f"wrote {len(assigned):,} customers to {out}")
    else:
        click.echo(assigned.to_csv(), nl=False)


@main.command()
@click.option("--aliases", is_flag=True, help="Also list every recognised spelling.")
def channels(aliases):
    """List the payment-channel registry."""
    from . import channels as registry

    table = registry.table(include_aliases=aliases)
    if aliases:
        table["aliases"] = table["aliases"].map(", ".join)
    with _pd_wide():
        click.echo(table.to_string())


@contextmanager
def _pd_wide():
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_rows", None,
                           "display.max_colwidth", 80):
        yield


if __name__ == "__main__":  # pragma: no cover
    main()
