"""QR codes that lead a reader to a credential's verification page.

Implements the verification QR code (ISO/IEC 18004) for certificates and badges: encoded by the
``qrcode`` library at error-correction level Q (≈25 % of codewords recoverable, enough for a
scuffed or folded print) or H (≈30 %), always with the standard quiet zone of 4 modules, and
drawn here as PNG (Pillow, black on white, deterministic bytes) or SVG (one path).

The offline QR code (a VPQR, the signed badge itself) is far larger, so it is encoded at level M
(≈15 %), in the alphanumeric mode its ``VP1-…`` text is written for.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Literal, TypeAlias

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M, ERROR_CORRECT_Q

from issuer.artifacts.xmltext import xml_text

Level: TypeAlias = Literal["M", "Q", "H"]
QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 requires
_LEVELS = {"M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
OFFLINE_LEVEL: Level = "M"


def qr_matrix(url: str, *, level: Level = "Q") -> list[list[bool]]:
    """The modules of the symbol for ``url`` (True = dark), including the 4-module quiet zone."""
    if not url:
        raise ValueError("a QR code needs a non-empty URL")
    if level not in _LEVELS:
        raise ValueError(f"QR error-correction level must be M, Q or H, not {level!r}")
    return [[bool(module) for module in row] for row in _symbol(url, level).get_matrix()]


def qr_version(text: str, *, level: Level = "Q") -> int:
    """The symbol version (1–40) ``text`` needs at ``level``: 17 + 4 × version modules a side."""
    return int(_symbol(text, level).version)


def _symbol(text: str, level: Level) -> qrcode.QRCode:
    code = qrcode.QRCode(version=None, error_correction=_LEVELS[level], border=QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    return code


def dark_runs(matrix: list[list[bool]]) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as (x, y, length), for drawing the code as vector."""
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append((start, y, x - start))
            else:
                x += 1
    return runs


def qr_png(url: str, *, scale: int = 10, level: Level = "Q") -> bytes:
    """A black-on-white 1-bit PNG of the QR code, ``scale`` pixels per module."""
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 100:
        raise ValueError("QR scale must be an integer from 1 to 100 pixels per module")
    matrix = qr_matrix(url, level=level)
    count = len(matrix)
    image = Image.new("1", (count, count), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    image = image.resize((count * scale, count * scale), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def qr_svg(url: str, *, level: Level = "Q") -> bytes:
    """The QR code as standalone UTF-8 SVG: one unit per module, the URL as its ``<title>``."""
    matrix = qr_matrix(url, level=level)
    count = len(matrix)
    runs = "".join(f"M{x} {y}h{length}v1h-{length}z" for x, y, length in dark_runs(matrix))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {count} {count}" '
        f'width="{count * 10}" height="{count * 10}" shape-rendering="crispEdges">\n'
        f"<title>{xml_text(url)}</title>\n"
        f'<rect width="{count}" height="{count}" fill="#FFFFFF"/>\n'
        f'<path fill="#000000" d="{runs}"/>\n'
        "</svg>\n"
    ).encode()


@lru_cache(maxsize=4096)
def qr_png_cached(url: str) -> bytes:
    """:func:`qr_png` memoised per URL: a credential's QR code is rendered once per process."""
    return qr_png(url)


@lru_cache(maxsize=4096)
def qr_svg_cached(url: str) -> bytes:
    """:func:`qr_svg` memoised per URL."""
    return qr_svg(url)
