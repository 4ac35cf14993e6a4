"""The bundled font for badge images and certificates: Latin plus every Korean Hangul syllable.

Implements font lookup for :mod:`issuer.artifacts`: a subset of Noto Sans CJK KR (SIL OFL 1.1,
``fonts/OFL.txt``) shipped as package data, so rendering works after ``pip install`` with no
system fonts. The subset covers ASCII, Latin-1, Latin Extended-A, common punctuation and symbols,
CJK punctuation, Hangul compatibility jamo and all precomposed Hangul syllables U+AC00–U+D7A3;
it has no Hanja, other CJK ideographs or emoji (:func:`missing_characters` finds those).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

FONT_DIR = Path(__file__).parent / "fonts"
FAMILY = "Noto Sans CJK KR"
#: CSS font stack for SVG: the bundled family first, then common Korean-capable system fonts.
SVG_FONT_FAMILY = (
    "'Noto Sans CJK KR', 'Noto Sans KR', 'Apple SD Gothic Neo', 'Malgun Gothic', "
    "'NanumGothic', 'Helvetica Neue', Arial, sans-serif"
)
LICENSE_PATH = FONT_DIR / "OFL.txt"
_FILES = {False: "NotoSansCJKkr-Regular-Subset.otf", True: "NotoSansCJKkr-Bold-Subset.otf"}


def font_path(bold: bool = False) -> Path:
    """The OpenType (CFF) font file, regular or bold; ``FileNotFoundError`` if not installed."""
    path = FONT_DIR / _FILES[bool(bold)]
    if not path.is_file():
        raise FileNotFoundError(
            f"bundled font {path} is missing: reinstall laurel (package data artifacts/fonts)"
        )
    return path


@lru_cache(maxsize=64)
def pil_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The bundled font at ``size`` pixels for Pillow (cached: loading parses a 1 MB file)."""
    return ImageFont.truetype(str(font_path(bold)), size)


@lru_cache(maxsize=2)
def _cmap(bold: bool) -> frozenset[int]:
    with TTFont(str(font_path(bold)), lazy=True) as font:
        return frozenset(font.getBestCmap())


def has_glyph(char: str, bold: bool = False) -> bool:
    """Whether the font maps the single character ``char`` to a glyph (not .notdef)."""
    return ord(char) in _cmap(bool(bold))


def missing_characters(text: str, bold: bool = False) -> set[str]:
    """The characters of ``text`` (NFC, ignoring line breaks) the font cannot draw."""
    cmap = _cmap(bool(bold))
    return {
        char
        for char in unicodedata.normalize("NFC", text)
        if char not in "\r\n\t" and ord(char) not in cmap
    }
