"""Rebuild the bundled font subsets in ``fonts/`` (a maintenance tool, not used at run time).

Implements the reproducible recipe behind :mod:`issuer.artifacts.fonts`: take the Korean face of
Debian's ``fonts-noto-cjk`` collection (``NotoSansCJK-Regular.ttc`` / ``-Bold.ttc``, face
"Noto Sans CJK KR") and keep only Latin, common punctuation and every precomposed Hangul syllable,
so the repository carries about 2.4 MB instead of 40 MB::

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb noto
    python -m issuer.artifacts._subset_font noto/usr/share/fonts/opentype/noto

The result is a Modified Version under the SIL OFL 1.1; its only Reserved Font Name is "Source"
(Adobe's), so the subset keeps the name "Noto Sans CJK KR". See docs/artifacts.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

KOREAN_FACE = "Noto Sans CJK KR"

#: Code points kept: ASCII, Latin-1, Latin Extended-A, general punctuation, currency and
#: letterlike symbols, geometric shapes and stars, CJK symbols and punctuation, Hangul
#: compatibility jamo, all 11,172 Hangul syllables and fullwidth ASCII.
UNICODE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),
    (0x00A0, 0x017F),
    (0x2000, 0x206F),
    (0x20A0, 0x20BF),
    (0x2100, 0x214F),
    (0x2190, 0x2199),
    (0x25A0, 0x25FF),
    (0x2605, 0x2606),
    (0x2713, 0x2714),
    (0x3000, 0x303F),
    (0x3131, 0x318E),
    (0xAC00, 0xD7A3),
    (0xFF01, 0xFF5E),
)


def unicodes() -> list[int]:
    """Every code point in :data:`UNICODE_RANGES` (the font may lack a few; they are skipped)."""
    return [cp for start, end in UNICODE_RANGES for cp in range(start, end + 1)]


def korean_face(collection: Path) -> TTFont:
    """The "Noto Sans CJK KR" face of a Noto Sans CJK ``.ttc`` collection."""
    for face in TTCollection(str(collection)).fonts:
        if face["name"].getDebugName(1) == KOREAN_FACE:
            return face
    raise ValueError(f"{collection} has no {KOREAN_FACE!r} face")


def subset_font(font: TTFont) -> TTFont:
    """Subset ``font`` in place to :func:`unicodes`, without vertical metrics or hinting."""
    options = subset.Options()
    options.layout_features = ["kern", "liga", "locl", "ccmp", "palt"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables += ["VORG", "vhea", "vmtx", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes())
    subsetter.subset(font)
    names = font["name"]
    version = names.getDebugName(5) or ""
    names.setName(f"{version}; Laurel subset: Latin and Hangul syllables", 5, 3, 1, 0x409)
    return font


def main(argv: list[str]) -> None:
    """``python -m issuer.artifacts._subset_font NOTO_DIR [OUT_DIR]``."""
    source = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent / "fonts"
    for weight in ("Regular", "Bold"):
        font = subset_font(korean_face(source / f"NotoSansCJK-{weight}.ttc"))
        target = out / f"NotoSansCJKkr-{weight}-Subset.otf"
        font.save(str(target))
        print(f"{target}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
