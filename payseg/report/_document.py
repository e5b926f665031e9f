"""The whole report as document blocks: header, key points and every section."""

from __future__ import annotations

from ._choose_k import _section_k
from ._common import _colors
from ._data import _section_data
from ._header import _header, _key_points
from ._migration import _section_migration
from ._model import _Bullets
from ._profiles import _section_profiles
from ._regions import _section_regions
from ._segments import _section_segments
from ._stability import _section_stability
from ._value import _section_value
from ._warnings import _section_warnings


def _document(result, lang):
    segs = result.segments  # one row per segment, noise last (SegmentationResult)
    colors = _colors(list(segs.index))
    cards, meta = _header(result)
    meta.append(_Bullets(_key_points(result, segs)))
    sections = [
        _section_data(result, lang),
        _section_segments(result, segs, colors, lang),
    ]
    regions = _section_regions(result, segs, lang=lang)
    if regions is not None:
        sections.append(regions)
    sections += [
        _section_profiles(result, segs, colors, lang),
        _section_k(result, lang),
        _section_stability(result, segs, colors),
        _section_value(result, lang),
        _section_warnings(result, segs, colors),
    ]
    mig = _section_migration(result, segs, lang)
    if mig is not None:
        sections.append(mig)
    return cards, meta, sections
