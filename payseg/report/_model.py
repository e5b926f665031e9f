"""Report building blocks: the document model, number formatting, figures as PNG."""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass, field

import pandas as pd


# --------------------------------------------------------------------------- model
@dataclass
class _Swatch:
    color: str
    text: str


@dataclass
class _Two:
    """A cell with a main line and a muted second line (Chinese / English)."""

    main: str
    second: str


@dataclass
class _Table:
    header: list
    rows: list
    num: set = field(default_factory=set)  # right-aligned column positions
    nowrap: set = field(default_factory=set)  # columns kept on one line
    highlight: set = field(default_factory=set)  # row positions


@dataclass
class _Figure:
    name: str
    png: bytes | None
    caption: str
    error: str | None = None


@dataclass
class _Para:
    text: str
    kind: str = "p"  # p, note, callout, warn


@dataclass
class _Cards:
    items: list  # (value, label)


@dataclass
class _Bullets:
    items: list


@dataclass
class _Sub:
    en: str
    zh: str


@dataclass
class _Grid:
    figures: list


@dataclass
class _Section:
    anchor: str
    en: str
    zh: str
    blocks: list


# ------------------------------------------------------------------ formatting
def _isnan(v) -> bool:
    try:
        return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
    except TypeError:  # pragma: no cover - exotic scalars
        return False


def _int(v) -> str:
    return "–" if _isnan(v) else f"{int(round(float(v))):,}"


def _pct(v, digits=1) -> str:
    return "–" if _isnan(v) else f"{float(v):.{digits}%}"


def _num(v, digits=2) -> str:
    if _isnan(v):
        return "–"
    v = float(v)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def _money(v) -> str:
    return "–" if _isnan(v) else f"{float(v):,.2f}"


def _text(v) -> str:
    return "" if _isnan(v) else str(v)


_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


# ---------------------------------------------------------------- figures
def _figure(name, draw, caption, size=(8.0, 4.5)) -> _Figure:
    """Draw one plot into a PNG; a failing plot becomes a note, not a broken report."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    ax = fig.subplots()
    try:
        draw(ax)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
    except Exception as exc:  # noqa: BLE001 - one bad plot must not lose the report
        warnings.warn(
            f"payseg.report: figure {name!r} failed: {exc!r}",
            RuntimeWarning,
            stacklevel=2,
        )
        return _Figure(name, None, caption, error=f"{type(exc).__name__}: {exc}")
    return _Figure(name, buf.getvalue(), caption)
