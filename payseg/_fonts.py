"""Find a font that can draw Chinese, so plots never show tofu boxes.

matplotlib's default font (DejaVu Sans) has no CJK glyphs: Chinese text drawn with it
comes out as empty boxes. :func:`cjk_font` looks for one of the common CJK families
(Noto Sans CJK, Source Han Sans, WenQuanYi, SimHei, Microsoft YaHei, AR PL, ...),
then for the font payseg installs with its ``pylopdf-fonts-zh-cn`` dependency (Noto
Sans SC, SIL Open Font License 1.1), and :func:`resolve_lang` turns ``lang="auto"`` into ``"zh"`` when one is installed and
``"en"`` otherwise. Plots then use Chinese labels only when they can be drawn.
"""

from __future__ import annotations

import functools
import os
import re
import warnings

__all__ = ["cjk_font", "font_family", "has_cjk", "resolve_lang"]

# Preferred families, Simplified Chinese faces first.
_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Hiragino Sans GB",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "AR PL SungtiL GB",
    "Droid Sans Fallback",
    "Arial Unicode MS",
)
# File-name hints for fonts installed after matplotlib built its font cache.
_FILE_HINTS = (
    "notosanscjk",
    "notoserifcjk",
    "notosanssc",
    "sourcehansans",
    "wqy",
    "simhei",
    "msyh",
    "uming",
    "ukai",
    "gbsn",
    "droidsansfallback",
    "pingfang",
)
_CJK_RE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
_LANGS = ("auto", "zh", "en")


def has_cjk(text) -> bool:
    """True when ``text`` holds a CJK character (Han, kana, full-width forms).

    Examples
    --------
    >>> has_cjk("自动代扣型"), has_cjk("auto-debit")
    (True, False)
    """
    return bool(_CJK_RE.search(str(text)))


def _installed_names() -> set[str]:
    from matplotlib import font_manager

    return {f.name for f in font_manager.fontManager.ttflist}


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font family with Chinese glyphs, or None.

    The result is cached for the session; call ``cjk_font.cache_clear()`` after
    installing a font.

    Examples
    --------
    >>> name = cjk_font()
    >>> name is None or isinstance(name, str)
    True
    """
    names = _installed_names()
    found = _pick(names)
    if found is None:
        # The font cache may predate the font: register matching system files.
        from matplotlib import font_manager

        for path in font_manager.findSystemFonts():
            base = os.path.basename(path).lower().replace("-", "").replace("_", "")
            if any(hint in base for hint in _FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # unreadable font file
                    continue
        found = _pick(_installed_names())
    if found is None:
        found = _packaged_font()
    return found


# pip packages that ship a CJK font: (module, function returning the font's path).
_PACKAGED = (("pylopdf_fonts_zh_cn", "sans_path"),)


def _packaged_font() -> str | None:
    """Register the CJK font of an installed pip package (payseg depends on
    ``pylopdf-fonts-zh-cn``: Noto Sans SC, SIL Open Font License 1.1)."""
    import importlib

    from matplotlib import font_manager

    for module, func in _PACKAGED:
        try:
            path = str(getattr(importlib.import_module(module), func)())
            font_manager.fontManager.addfont(path)
            name = font_manager.FontProperties(fname=path).get_name()
        except (ImportError, AttributeError, OSError, RuntimeError, ValueError):
            continue  # package missing or its font unreadable: try the next
        if name in _installed_names():
            return name
    return None


def _pick(names: set[str]) -> str | None:
    for family in _FAMILIES:
        if family in names:
            return family
    # Any other family that says it is CJK (e.g. "Noto Serif CJK SC").
    others = sorted(n for n in names if "CJK" in n and "Mono" not in n)
    return others[0] if others else None


def font_family() -> list[str]:
    """Font family list for text that may hold Chinese: the CJK font, then DejaVu.

    matplotlib falls back glyph by glyph along the list, so Latin digits keep the
    default look while Han characters come from the CJK font.

    Examples
    --------
    >>> font_family()[-1]
    'DejaVu Sans'
    """
    font = cjk_font()
    return [font, "DejaVu Sans"] if font else ["DejaVu Sans"]


def resolve_lang(lang="auto") -> str:
    """Turn ``"auto"``/``"zh"``/``"en"`` into the language plots can draw.

    ``"auto"`` is ``"zh"`` when a CJK font is installed, else ``"en"``. ``"zh"``
    without a CJK font warns and falls back to ``"en"`` (never tofu boxes).

    Examples
    --------
    >>> resolve_lang("en")
    'en'
    >>> resolve_lang("auto") in ("zh", "en")
    True
    """
    if lang not in _LANGS:
        raise ValueError(f"lang must be one of {_LANGS}, got {lang!r}")
    if lang == "en":
        return "en"
    if cjk_font() is None:
        if lang == "zh":
            warnings.warn(
                "lang='zh' but no CJK font is installed (pip install "
                "pylopdf-fonts-zh-cn, or apt-get install fonts-noto-cjk); drawing English labels instead of empty boxes",
                UserWarning,
                stacklevel=3,
            )
        return "en"
    return "zh"
