"""State stamps: a banner saying "REVOKED", "EXPIRED" or the like across a badge image.

Implements the visible state of a credential that is not (or no longer) valid on its artifacts,
so a revoked, expired or not-yet-valid badge never yields a clean picture. The banner is a band
from the bottom-left to the top-right corner in the stamp colour, mostly opaque, edged and
lettered in white or near-black (whichever meets WCAG AA on the colour), in the bundled font.
:func:`stamp_png` draws it with Pillow; :func:`stamp_svg` appends the same band as the last child
of the root ``<svg>``, leaving the start tag untouched for :func:`verifier.baking.bake_svg`.
The certificate draws its own stamp (:mod:`issuer.artifacts.certificate`).
"""

from __future__ import annotations

import base64
import io
import math
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from PIL import Image, ImageDraw, UnidentifiedImageError

from issuer.artifacts.fonts import SVG_FONT_FAMILY, missing_characters, pil_font
from issuer.artifacts.images import clean_text, parse_hex, text_color
from issuer.artifacts.pixels import DECODE_BUDGET, decoded

REVOKED_COLOR = "#B3261E"
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048  # a larger picture (an imported badge's) is stamped scaled down to this
_BAND = 0.17  # band thickness, as a fraction of the image's shorter side
_TEXT = 0.56  # largest text size, as a fraction of the band thickness
_SMALLEST = 0.22  # smallest text size, likewise; longer text is cut with an ellipsis
_ROOM = 0.62  # text length, as a fraction of the diagonal (the band is clipped at the corners)
_OPACITY = 0.88
_REFERENCE = 100  # px: text is measured at this size and scaled
_CLASS = "laurel-stamp"
_VIEWBOX = re.compile(r"[\s,]+")
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(px)?\s*")


@dataclass(frozen=True)
class Stamp:
    """What a stamp says and its colour (``#RRGGBB``), e.g. ``Stamp("REVOKED 2026-11-30")``."""

    text: str
    color: str = REVOKED_COLOR

    def __post_init__(self) -> None:
        parse_hex(self.color)  # ValueError unless #RRGGBB
        object.__setattr__(self, "color", self.color.upper())

    @property
    def label(self) -> str:
        """The text as drawn: cleaned, without characters the bundled bold font lacks."""
        text = clean_text(self.text)
        missing = missing_characters(text, bold=True)
        return " ".join("".join(char for char in text if char not in missing).split())

    @property
    def ink(self) -> str:
        """The colour of the lettering and edges on the band."""
        return text_color(self.color)


@dataclass(frozen=True)
class _Banner:
    """The band in an image's own units: centred, rotated ``angle`` degrees anticlockwise."""

    cx: float
    cy: float
    angle: float
    length: float
    thickness: float
    text: str
    size: float  # font size


def _fit(label: str, room: float, largest: float, smallest: float) -> tuple[str, float]:
    """``label`` and the font size (at most ``largest``) at which it is ``room`` long or less;
    below ``smallest``, the label is cut with an ellipsis instead."""
    font = pil_font(_REFERENCE, True)
    width = font.getlength(label) / _REFERENCE  # per unit of font size
    if not label or width * largest <= room:
        return label, largest
    if width * smallest <= room:
        return label, room / width
    while label and font.getlength(label + "…") / _REFERENCE * smallest > room:
        label = label[:-1].rstrip()
    return label + "…", smallest


def _banner(left: float, top: float, width: float, height: float, stamp: Stamp) -> _Banner:
    diagonal = math.hypot(width, height)
    thickness = _BAND * min(width, height)
    text, size = _fit(stamp.label, _ROOM * diagonal, _TEXT * thickness, _SMALLEST * thickness)
    return _Banner(
        cx=left + width / 2,
        cy=top + height / 2,
        angle=math.degrees(math.atan2(height, width)),
        length=diagonal + thickness,
        thickness=thickness,
        text=text,
        size=size,
    )


# --- PNG ------------------------------------------------------------------------------------


def _open(png: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(png))
        if image.format != "PNG":
            raise ValueError("the image to stamp is not a PNG")
        if image.width * image.height > MAX_PIXELS:
            raise ValueError("the image to stamp is too large")
        if image.width * image.height * 4 > DECODE_BUDGET:  # as RGBA, before it is scaled down
            raise ValueError("the image to stamp has too many pixels")
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValueError("the image to stamp is not a readable PNG") from error
    return image


def _band_layer(banner: _Banner, stamp: Stamp) -> Image.Image:
    """The band, unrotated, as an RGBA strip."""
    r, g, b = parse_hex(stamp.color)
    ink = parse_hex(stamp.ink)
    length, thickness = math.ceil(banner.length), max(1, round(banner.thickness))
    layer = Image.new("RGBA", (length, thickness), (r, g, b, round(_OPACITY * 255)))
    draw = ImageDraw.Draw(layer)
    edge = max(1, round(thickness * 0.035))
    for y in (thickness * 0.09, thickness * 0.91 - edge):
        draw.rectangle((0, round(y), length, round(y) + edge - 1), fill=(*ink, 255))
    if banner.text:
        font = pil_font(max(1, round(banner.size)), True)
        draw.text(
            (length / 2, thickness / 2), banner.text, font=font, fill=(*ink, 255), anchor="mm"
        )
    return layer


def stamp_png(png: bytes, stamp: Stamp) -> bytes:
    """``png`` with ``stamp``'s band across it, same size (at most ``MAX_SIDE`` pixels a side:
    a larger picture is scaled down first), as PNG (no metadata is kept).

    Works on any PNG Pillow reads; an image with transparency stays RGBA, any other becomes
    RGB. ``ValueError`` if ``png`` is not a readable PNG, or has more pixels than
    :mod:`issuer.artifacts.pixels` lets one decode take.
    """
    return decoded(lambda: _stamp_png(png, stamp))


def _stamp_png(png: bytes, stamp: Stamp) -> bytes:
    with _open(png) as image:
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        if max(image.size) > MAX_SIDE:
            image.thumbnail((MAX_SIDE, MAX_SIDE))
        base = image.convert("RGBA")
    width, height = base.size
    ss = 2 if max(width, height) <= 2048 else 1  # supersampled, for smooth edges and text
    banner = _banner(0, 0, width * ss, height * ss, stamp)
    band = _band_layer(banner, stamp).rotate(
        banner.angle, resample=Image.Resampling.BICUBIC, expand=True
    )
    left = (band.width - width * ss) // 2
    top = (band.height - height * ss) // 2
    overlay = band.crop((left, top, left + width * ss, top + height * ss))
    if ss > 1:
        overlay = overlay.resize((width, height), Image.Resampling.LANCZOS)
    result = Image.alpha_composite(base, overlay)
    out = io.BytesIO()
    (result if has_alpha else result.convert("RGB")).save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- SVG ------------------------------------------------------------------------------------


def _parse(svg: bytes) -> Element:
    try:
        root: Element = SafeET.fromstring(svg)
    except DefusedXmlException as error:
        raise ValueError(
            f"the SVG uses a forbidden XML feature ({type(error).__name__})"
        ) from error
    except SafeET.ParseError as error:
        raise ValueError(f"not a well-formed SVG: {error}") from error
    if root.tag.rpartition("}")[2] != "svg":
        raise ValueError("the XML document is not an SVG image")
    return root


def _viewport(root: Element) -> tuple[float, float, float, float]:
    """(left, top, width, height) of the drawing in user units: the viewBox, else the size."""
    view_box = root.get("viewBox")
    if view_box:
        try:
            left, top, width, height = (float(v) for v in _VIEWBOX.split(view_box.strip()))
        except ValueError:
            raise ValueError(f"the SVG's viewBox {view_box!r} is not four numbers") from None
        if width > 0 and height > 0:
            return left, top, width, height
        raise ValueError(f"the SVG's viewBox {view_box!r} is empty")
    sizes = [_LENGTH.fullmatch(root.get(name) or "") for name in ("width", "height")]
    if sizes[0] and sizes[1] and float(sizes[0][1]) > 0 and float(sizes[1][1]) > 0:
        return 0.0, 0.0, float(sizes[0][1]), float(sizes[1][1])
    raise ValueError("cannot place a stamp: the SVG has no viewBox and no width and height in px")


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _svg_banner(banner: _Banner, stamp: Stamp, prefix: str) -> str:
    ascent, descent = pil_font(_REFERENCE, True).getmetrics()
    baseline = banner.cy + (ascent - descent) / 2 * banner.size / _REFERENCE
    x, y = banner.cx - banner.length / 2, banner.cy - banner.thickness / 2
    edge = banner.thickness * 0.035
    ink, t = stamp.ink, banner.thickness
    parts = [
        f'<{prefix}g class="{_CLASS}" role="img" aria-label={quoteattr(stamp.label)} '
        f'transform="rotate({_num(-banner.angle)} {_num(banner.cx)} {_num(banner.cy)})">',
        f'<{prefix}rect x="{_num(x)}" y="{_num(y)}" width="{_num(banner.length)}" '
        f'height="{_num(t)}" fill="{stamp.color}" fill-opacity="{_OPACITY}"/>',
    ]
    for edge_y in (y + t * 0.09, y + t * 0.91 - edge):
        parts.append(
            f'<{prefix}rect x="{_num(x)}" y="{_num(edge_y)}" width="{_num(banner.length)}" '
            f'height="{_num(edge)}" fill="{ink}"/>'
        )
    if banner.text:
        parts.append(
            f'<{prefix}text x="{_num(banner.cx)}" y="{_num(baseline)}" '
            f'font-family={quoteattr(SVG_FONT_FAMILY)} font-size="{_num(banner.size)}" '
            f'font-weight="700" fill="{ink}" text-anchor="middle">{escape(banner.text)}'
            f"</{prefix}text>"
        )
    parts.append(f"</{prefix}g>")
    return "".join(parts)


_END = re.compile(rb"</((?:[A-Za-z_][\w.-]*:)?svg)\s*>")
_EMPTY_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?svg)\b[^>]*?/>", re.DOTALL)


def stamp_svg(svg: bytes, stamp: Stamp) -> bytes:
    """``svg`` with ``stamp``'s band as the last child of the root ``<svg>`` (painted on top).

    Everything before the root's end tag is kept byte for byte, so the start tag is unchanged
    (unless the root was an empty ``<svg …/>``). The band is placed in the viewBox's units.
    ``ValueError`` if ``svg`` is not a well-formed SVG or has no usable viewBox or size.
    """
    root = _parse(svg)
    banner = _banner(*_viewport(root), stamp)
    ends = list(_END.finditer(svg))
    if ends:
        end = ends[-1]
        prefix = end.group(1)[:-3].decode("ascii")
        element = _svg_banner(banner, stamp, prefix).encode("utf-8")
        result = svg[: end.start()] + element + svg[end.start() :]
    else:
        empty = _EMPTY_ROOT.search(svg)
        if empty is None:
            raise ValueError("no end tag of the root <svg> found")
        name = empty.group(1)
        prefix = name[:-3].decode("ascii")
        element = _svg_banner(banner, stamp, prefix).encode("utf-8")
        opened = empty.group(0)[:-2].rstrip() + b">"
        result = svg[: empty.start()] + opened + element + b"</" + name + b">"
        result += svg[empty.end() :]
    children = list(_parse(result))
    if not children or children[-1].get("class") != _CLASS:  # e.g. "</svg>" in a comment
        raise ValueError("could not place the stamp at the end of the root <svg>")
    return result


def stamp_foreign_svg(svg: bytes, stamp: Stamp) -> bytes:
    """Someone else's SVG (an imported badge's picture) under ``stamp``'s band, in a new SVG
    document that shows the original as an ``<image>``: the original's own styles cannot reach
    the band there (``stamp_svg`` puts the band inside the document, where its
    ``<style>.laurel-stamp{display:none}</style>`` would hide it), and a picture drawn by an
    ``<image>`` runs no script and loads nothing. ``ValueError`` as for ``stamp_svg``."""
    root = _parse(svg)
    left, top, width, height = _viewport(root)
    banner = _banner(left, top, width, height, stamp)
    size = "".join(
        f' {name}="{escape(value)}"'
        for name in ("width", "height")
        if (value := root.get(name)) and _LENGTH.fullmatch(value)
    )
    embedded = base64.b64encode(svg).decode("ascii")
    box = f"{_num(left)} {_num(top)} {_num(width)} {_num(height)}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{box}"{size}>'
        f'<image x="{_num(left)}" y="{_num(top)}" width="{_num(width)}" height="{_num(height)}" '
        f'preserveAspectRatio="none" href="data:image/svg+xml;base64,{embedded}"/>'
        f"{_svg_banner(banner, stamp, '')}</svg>"
    ).encode()
