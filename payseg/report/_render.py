"""Report renderers: the document as self-contained HTML or as Markdown."""

from __future__ import annotations

import base64
import html
import re
import string
from importlib import resources
from pathlib import Path

from ._model import (
    _HEX,
    _Bullets,
    _Cards,
    _Figure,
    _Grid,
    _Para,
    _Sub,
    _Swatch,
    _Table,
    _Two,
)

# ----------------------------------------------------------------- HTML renderer
_E = html.escape


def _plain(cell) -> str:
    if isinstance(cell, _Two):
        return cell.main if not cell.second else f"{cell.main} ({cell.second})"
    return str(cell)


def _html_cell(cell) -> str:
    if isinstance(cell, _Two):
        return f'{_E(cell.main)}<br><span class="en">{_E(cell.second)}</span>'
    if isinstance(cell, _Swatch):
        color = cell.color if _HEX.match(str(cell.color)) else "#999999"
        return f'<span class="sw" style="background:{color}"></span>{_E(cell.text)}'
    return _E(str(cell))


def _compact(t: _Table) -> _Table:
    """Drop columns that are empty in every row (e.g. no actions, no BIC)."""
    if not t.rows:
        return t
    keep = [
        i
        for i in range(len(t.header))
        if i == 0
        or any(not (isinstance(r[i], str) and r[i] in ("", "–")) for r in t.rows)
    ]
    if len(keep) == len(t.header):
        return t
    pos = {old: new for new, old in enumerate(keep)}
    return _Table(
        [t.header[i] for i in keep],
        [[r[i] for i in keep] for r in t.rows],
        num={pos[i] for i in t.num if i in pos},
        highlight=t.highlight,
        nowrap={pos[i] for i in t.nowrap if i in pos},
    )


def _html_table(t: _Table) -> str:
    t = _compact(t)
    head = "".join(
        f'<th class="num">{_E(h)}</th>' if i in t.num else f"<th>{_E(h)}</th>"
        for i, h in enumerate(t.header)
    )
    body = []
    for r, row in enumerate(t.rows):
        cls = ' class="hl"' if r in t.highlight else ""
        cells = "".join(
            f'<td class="num">{_html_cell(c)}</td>'
            if i in t.num
            else f'<td class="nw">{_html_cell(c)}</td>'
            if i in t.nowrap
            else f"<td>{_html_cell(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return (
        f'<div class="wrap"><table><thead><tr>{head}</tr></thead><tbody>'
        + "".join(body)
        + "</tbody></table></div>"
    )


def _html_figure(f: _Figure) -> str:
    if f.png is None:
        return (
            f'<p class="callout warn">Figure {_E(f.name)} could not be drawn: '
            f"{_E(f.error or '')}</p>"
        )
    data = base64.b64encode(f.png).decode("ascii")
    return (
        f'<figure><img alt="{_E(f.caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_E(f.caption)}</figcaption></figure>"
    )


def _html_block(b) -> str:
    if isinstance(b, _Para):
        if b.kind == "p":
            return f"<p>{_E(b.text)}</p>"
        cls = {"note": "note", "callout": "callout", "warn": "callout warn"}[b.kind]
        return f'<p class="{cls}">{_E(b.text)}</p>'
    if isinstance(b, _Table):
        return _html_table(b)
    if isinstance(b, _Figure):
        return _html_figure(b)
    if isinstance(b, _Grid):
        return (
            '<div class="grid2">'
            + "".join(_html_figure(f) for f in b.figures)
            + "</div>"
        )
    if isinstance(b, _Bullets):
        return (
            '<ul class="keys">'
            + "".join(f"<li>{_E(x)}</li>" for x in b.items)
            + "</ul>"
        )
    if isinstance(b, _Sub):
        return f'<h3>{_E(b.en)}<span class="zh">{_E(b.zh)}</span></h3>'
    if isinstance(b, _Cards):
        return (
            '<div class="cards">'
            + "".join(
                f'<div class="card"><div class="v{" s" if len(v) > 10 else ""}">{_E(v)}'
                f'</div><div class="k">{_E(k)}</div></div>'
                for v, k in b.items
            )
            + "</div>"
        )
    raise TypeError(f"unknown report block {type(b).__name__}")  # pragma: no cover


def _to_html(result, cards, meta, sections, title) -> str:
    from .._version import __version__

    keys = meta.pop() if meta and isinstance(meta[-1], _Bullets) else _Bullets([])
    toc = " ".join(
        f'<a href="#{s.anchor}">{i}. {_E(s.en)}</a>' for i, s in enumerate(sections, 1)
    )
    parts = [
        f"<header><h1>{_E(title)}</h1>",
        f'<p class="sub">{_E(" · ".join(meta))}</p>',
        _html_block(_Cards(cards)),
        _html_block(keys) if keys.items else "",
        f'<nav class="toc">{toc}</nav></header>',
    ]
    for i, s in enumerate(sections, 1):
        parts.append(
            f'<section id="{s.anchor}"><h2><span class="num">{i}.</span>'
            f'{_E(s.en)}<span class="zh">{_E(s.zh)}</span></h2>'
        )
        parts.extend(_html_block(b) for b in s.blocks)
        parts.append("</section>")
    parts.append(
        f"<footer>payseg {_E(__version__)} · segments are statistical groups; "
        "check the actions against local rules before acting. "
        "分群结果为统计分组，实施措施前请结合本地规定。</footer>"
    )
    template = string.Template(
        resources.files("payseg.report").joinpath("template.html").read_text("utf-8")
    )
    return template.substitute(
        title=_E(title), version=_E(__version__), body="\n".join(parts)
    )


# ------------------------------------------------------------- Markdown renderer
def _md_escape(text: str) -> str:
    # HTML-escape (Markdown passes raw HTML through) and neutralise table pipes,
    # emphasis and link syntax.
    text = html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")
    return re.sub(r"([\\`*_\[\]])", r"\\\1", text).replace("\\\\|", "\\|")


def _md_cell(cell) -> str:
    if isinstance(cell, _Two):
        return _md_escape(f"{cell.main} / {cell.second}")
    if isinstance(cell, _Swatch):
        return _md_escape(cell.text)
    return _md_escape(cell)


def _md_table(t: _Table) -> str:
    t = _compact(t)
    head = "| " + " | ".join(_md_escape(h) for h in t.header) + " |"
    sep = (
        "|"
        + "|".join("---:" if i in t.num else "---" for i in range(len(t.header)))
        + "|"
    )
    rows = []
    for r, row in enumerate(t.rows):
        cells = [_md_cell(c) for c in row]
        if r in t.highlight:
            cells = [f"**{c}**" if c else c for c in cells]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, sep, *rows])


def _to_markdown(result, cards, meta, sections, title, path: Path, embed: bool) -> str:
    from .._version import __version__

    img_dir = path.parent / f"{path.stem}_files"
    keys = meta.pop() if meta and isinstance(meta[-1], _Bullets) else _Bullets([])
    lines = [f"# {_md_escape(title)}", "", f"_{_md_escape(' · '.join(meta))}_", ""]
    lines += [
        "| " + " | ".join(_md_escape(k) for _, k in cards) + " |",
        "|" + "|".join("---:" for _ in cards) + "|",
        "| " + " | ".join(_md_escape(v) for v, _ in cards) + " |",
        "",
    ]
    lines += [f"- {_md_escape(x)}" for x in keys.items] + ([""] if keys.items else [])

    def fig(f: _Figure) -> str:
        if f.png is None:
            return (
                f"> Figure {_md_escape(f.name)} could not be drawn: "
                f"{_md_escape(f.error or '')}"
            )
        if embed:
            src = "data:image/png;base64," + base64.b64encode(f.png).decode("ascii")
        else:
            img_dir.mkdir(parents=True, exist_ok=True)
            (img_dir / f"{f.name}.png").write_bytes(f.png)
            src = f"{img_dir.name}/{f.name}.png"
        return f"![{_md_escape(f.caption)}]({src})\n\n_{_md_escape(f.caption)}_"

    for i, s in enumerate(sections, 1):
        lines += [f"## {i}. {_md_escape(s.en)} · {_md_escape(s.zh)}", ""]
        for b in s.blocks:
            if isinstance(b, _Para):
                prefix = "> " if b.kind in ("callout", "warn") else ""
                text = _md_escape(b.text)
                lines += [prefix + (f"_{text}_" if b.kind == "note" else text), ""]
            elif isinstance(b, _Table):
                lines += [_md_table(b), ""]
            elif isinstance(b, _Figure):
                lines += [fig(b), ""]
            elif isinstance(b, _Grid):
                lines += [fig(f) + "\n" for f in b.figures]
            elif isinstance(b, _Sub):
                lines += [f"### {_md_escape(b.en)} · {_md_escape(b.zh)}", ""]
    lines += ["---", f"payseg {_md_escape(__version__)}", ""]
    return "\n".join(lines)
