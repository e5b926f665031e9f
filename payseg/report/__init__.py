"""The segmentation report: one self-contained HTML file, or Markdown with PNG files.

:func:`render` writes the report of a :class:`payseg.SegmentationResult` (what
``result.report(path)`` calls); :func:`summary_html` is the compact table a notebook
shows for a result. Every string that comes from the data (customer ids, channel and
region names, file names, rejected values) is escaped, so a value like
``<script>`` appears as text.
"""

from __future__ import annotations

import html
from pathlib import Path

from ._common import (
    _action,
    _action_texts,
    _colors,
    _method,
    _n_no_data,
    _n_segments,
    _n_warnings,
)
from ._document import _document
from ._model import _int, _pct, _text
from ._render import _plain, _to_html, _to_markdown
from ._workbook import write_workbook

_E = html.escape

__all__ = ["render", "summary_html", "write_workbook"]

_SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


# -------------------------------------------------------------------- public API
def render(result, path, *, title=None, lang="auto", embed_images=False) -> Path:
    """Write the segmentation report as HTML or Markdown (chosen by the suffix).

    Sections: data summary and rejected rows by reason; the segments with their
    sizes, shares and recommended actions; profiles; how k was chosen; stability;
    value matrix, pyramid and credit grades; the early-warning top list; migration
    (when computed). The HTML file is self-contained (images embedded as base64 PNG,
    inline CSS, no external resources); Markdown writes its images as PNG files in
    ``<stem>_files/`` beside it (or embeds them with ``embed_images=True``).

    Parameters
    ----------
    result : payseg.SegmentationResult
        The output of :func:`payseg.segment`.
    path : str or path-like
        Output file; ``.html``/``.htm`` for HTML, ``.md``/``.markdown`` for Markdown.
    title : str, optional
        Report title (default a bilingual "segmentation report").
    lang : {"auto", "zh", "en"}, default "auto"
        Language of the plot labels ("auto": Chinese when a CJK font is installed);
        headings and tables are bilingual either way.
    embed_images : bool, default False
        Markdown only: embed the images as data URIs instead of writing files.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import tempfile, pathlib, pandas as pd, payseg
    >>> from payseg._pipeline import SegmentationResult
    >>> data = payseg.load(pd.DataFrame({"户号": ["1", "1", "2", "2"],
    ...     "缴费日期": ["2025-01-03", "2025-02-03", "2025-01-20", "2025-02-25"],
    ...     "实收金额": ["100", "120", "80", "90"]}))
    >>> ids = pd.Index(["1", "2"], name="customer_id")
    >>> X = pd.DataFrame({"pay_count_per_year": [12.0, 6.0],
    ...                   "amount_per_year": [1300.0, 700.0]}, index=ids)
    >>> labels = pd.Series([0, 1], index=ids)
    >>> segs = pd.DataFrame({"name_zh": ["线上及时型", "柜台忠实型"],
    ...                      "name_en": ["prompt online", "counter-loyal"]})
    >>> res = SegmentationResult(data=data, features=X, segmenter=None, labels=labels,
    ...                          segments=segs, customers=pd.DataFrame(index=ids),
    ...                          profiles=pd.DataFrame())
    >>> out = render(res, pathlib.Path(tempfile.mkdtemp()) / "report.html", lang="en")
    >>> "Data health" in out.read_text(encoding="utf-8")
    True
    """
    path = Path(path)
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"cannot tell the report format from {path.name!r}: use a .html, .htm or "
            ".md file name"
        )
    from .. import _fonts

    lang = _fonts.resolve_lang(lang)
    title = title or "Payment-behaviour segmentation report · 缴费行为客户细分报告"
    cards, meta, sections = _document(result, lang)
    if kind == "html":
        text = _to_html(result, cards, meta, sections, title)
    else:
        text = _to_markdown(result, cards, meta, sections, title, path, embed_images)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def summary_html(result, *, max_rows=30) -> str:
    """Compact HTML summary of a result (what a notebook shows for it).

    Parameters
    ----------
    result : payseg.SegmentationResult
    max_rows : int, default 30
        Segments listed at most.

    Returns
    -------
    str
        An HTML fragment: one line of totals and a table of the segments (colour,
        names, customers, share, recommended action). Strings from the data are
        escaped.

    Examples
    --------
    >>> import pandas as pd, payseg
    >>> from payseg._pipeline import SegmentationResult
    >>> data = payseg.load(pd.DataFrame({"户号": ["1", "2"],
    ...     "缴费日期": ["2025-01-03", "2025-01-20"], "实收金额": ["100", "80"]}))
    >>> ids = pd.Index(["1", "2"], name="customer_id")
    >>> res = SegmentationResult(data=data, features=pd.DataFrame(index=ids),
    ...     segmenter=None, labels=pd.Series([0, 1], index=ids),
    ...     segments=pd.DataFrame({"name_en": ["a <b>", "c"]}),
    ...     customers=pd.DataFrame(index=ids), profiles=pd.DataFrame())
    >>> "a &lt;b&gt;" in summary_html(res)
    True
    """
    segs = result.segments
    colors = _colors(list(segs.index))
    n_cust = int(segs["size"].sum())
    head = (
        f"<b>payseg segmentation</b>: {n_cust:,} customers, "
        f"{_n_segments(result)} segments ({_E(_method(result))}), "
        f"{len(result.data.payments):,} payments, "
        f"{len(result.data.rejected):,} rejected rows"
    )
    if _n_warnings(result.warnings):
        head += f", {_n_warnings(result.warnings):,} early warnings"
    if _n_no_data(result):
        head += (
            f", {_n_no_data(result):,} customers without any payment or bill "
            "(no data: not segmented)"
        )
    td = 'style="padding:2px 8px;text-align:{a};border-bottom:1px solid #ddd"'
    left, right = td.format(a="left"), td.format(a="right")
    nowrap = left[:-1] + ';white-space:nowrap"'
    texts = _action_texts(result)
    rows = []
    for sid, r in segs.head(max_rows).iterrows():
        color = colors.get(sid, "#999999")
        sw = (
            f'<span style="display:inline-block;width:10px;height:10px;'
            f'background:{color};margin-right:5px"></span>'
        )
        rows.append(
            f"<tr><td {left}>{sw}{_E(str(sid))}</td>"
            f"<td {nowrap}>{_E(_text(r['name_zh']))}</td>"
            f"<td {left}>{_E(_text(r['name_en']))}</td>"
            f"<td {right}>{_int(r['size'])}</td><td {right}>{_pct(r['share'])}</td>"
            f"<td {left}>{_E(_plain(_action(r['action'], r['key'], texts)))}</td></tr>"
        )
    more = (
        f"<p>... {len(segs) - max_rows} more segments</p>"
        if len(segs) > max_rows
        else ""
    )
    header = "".join(
        f"<th {left if i < 3 or i == 5 else right}>{h}</th>"
        for i, h in enumerate(
            ["segment", "名称", "name", "customers", "share", "action"]
        )
    )
    return (
        f'<div class="payseg-summary"><p>{head}</p>'
        f'<table style="border-collapse:collapse">'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f'{more}<p style="color:#666;font-size:90%">result.report("report.html") '
        "writes the full report.</p></div>"
    )
