"""Badge images: the achievement's shape, colour and level, with its title, issuer and year.

Implements the badge artwork of a credential (the ``image`` of an OB 3.0 Achievement) as PNG
(Pillow, 4x supersampled, deterministic bytes) and SVG (self-contained XML, same layout). The
design comes from the catalogue (``{"shape", "color", "level"}``); the text colour is white or
near-black, whichever meets WCAG 2.x AA contrast (4.5:1) on the fill. Titles wrap on spaces and,
for a word too long for a line (e.g. Korean written without spaces), between characters.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, TypeAlias, get_args
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont

from issuer.artifacts.fonts import SVG_FONT_FAMILY, pil_font
from issuer.artifacts.uploads import uploaded_png, uploaded_svg

Shape: TypeAlias = Literal["circle", "shield", "hexagon", "ribbon"]
RGB: TypeAlias = tuple[int, int, int]
Point: TypeAlias = tuple[float, float]
Polygon: TypeAlias = tuple[Point, ...]

SHAPES: tuple[Shape, ...] = get_args(Shape)
DEFAULT_SHAPE: Shape = "circle"
DEFAULT_COLOR = "#1B3A5C"
WHITE = "#FFFFFF"
DARK = "#1A1A1A"
BLACK = "#000000"
#: WCAG 2.x AA minimum contrast for normal-size text.
AA_CONTRAST = 4.5
MIN_SIZE, MAX_SIZE = 64, 2048
MAX_STARS = 5
MAX_TITLE_LINES = 4

_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ELLIPSIS = "…"
_LINE_HEIGHT = 1.22
_PAD = 0.035  # horizontal padding inside the fill, as a fraction of the badge size


@dataclass(frozen=True)
class BadgeDesign:
    """A validated badge design; hashable, so it can key a cache."""

    shape: Shape = DEFAULT_SHAPE
    color: str = DEFAULT_COLOR
    level: int | None = None

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"badge shape {self.shape!r} is not one of {', '.join(SHAPES)}")
        if not isinstance(self.color, str) or not _COLOUR.fullmatch(self.color):
            raise ValueError(f"badge colour {self.color!r} is not #RRGGBB")
        object.__setattr__(self, "color", self.color.upper())
        level = self.level
        if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
            raise ValueError(f"badge level {level!r} is not an integer")
        if level is not None and level < 1:
            raise ValueError(f"badge level {level!r} is below 1")

    @classmethod
    def parse(cls, design: DesignInput) -> BadgeDesign:
        """A design from a catalogue mapping (``{}`` or ``None`` → the default design).

        A pydantic model (the catalogue's ``Design``) is read through ``model_dump()``; keys
        other than ``shape``, ``color`` and ``level`` are ignored.
        """
        if isinstance(design, BadgeDesign):
            return design
        if design is None:
            return cls()
        if not isinstance(design, Mapping):
            dump = getattr(design, "model_dump", None)
            if not callable(dump):
                raise TypeError(f"badge design must be a mapping, not {type(design).__name__}")
            design = dump()
        assert isinstance(design, Mapping)
        return cls(
            shape=design.get("shape") or DEFAULT_SHAPE,
            color=design.get("color") or DEFAULT_COLOR,
            level=design.get("level"),
        )


DesignInput: TypeAlias = Mapping[str, Any] | BadgeDesign | None


# --- colour ---------------------------------------------------------------------------------


def parse_hex(color: str) -> RGB:
    """``"#RRGGBB"`` as an (r, g, b) tuple of 0–255."""
    if not _COLOUR.fullmatch(color):
        raise ValueError(f"colour {color!r} is not #RRGGBB")
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def to_hex(rgb: RGB) -> str:
    """An (r, g, b) tuple as ``"#RRGGBB"``."""
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def relative_luminance(color: str | RGB) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (0 for black, 1 for white)."""
    rgb = parse_hex(color) if isinstance(color, str) else color

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str | RGB, b: str | RGB) -> float:
    """WCAG 2.x contrast ratio of two colours, from 1 to 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_color(fill: str) -> str:
    """White or near-black text for ``fill``: the higher-contrast one, always at least 4.5:1.

    The softer ``#1A1A1A`` stands in for black where it still meets AA; where neither it nor
    white does, pure black does (one of pure white and pure black always reaches 4.58:1).
    """
    best = max((WHITE, DARK), key=lambda ink: contrast_ratio(fill, ink))
    if contrast_ratio(fill, best) >= AA_CONTRAST:
        return best
    return max((WHITE, BLACK), key=lambda ink: contrast_ratio(fill, ink))


def mix(color: str, other: str, amount: float) -> str:
    """``color`` moved ``amount`` (0–1) of the way towards ``other``."""
    a, b = parse_hex(color), parse_hex(other)
    r, g, bl = (round(x + (y - x) * amount) for x, y in zip(a, b, strict=True))
    return to_hex((r, g, bl))


def rim_color(fill: str) -> str:
    """The slightly darker rim around a fill."""
    return mix(fill, BLACK, 0.3)


# --- geometry (unit square: 0..1, y down) ---------------------------------------------------


@dataclass(frozen=True)
class _Geometry:
    back: tuple[Polygon, ...]  # drawn first in the tail colour (ribbon tails)
    outer: Polygon  # rim
    inner: Polygon  # fill; all text sits inside it
    stars_y: float
    title_zone: tuple[float, float]
    issuer_y: float
    year_y: float
    outer_circle: tuple[float, float, float] | None = None  # (cx, cy, r) when outer is a circle
    inner_circle: tuple[float, float, float] | None = None


def _circle(cx: float, cy: float, r: float, n: int = 128) -> Polygon:
    return tuple(
        (cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n))
        for i in range(n)
    )


def _chaikin(points: Polygon, rounds: int = 3, keep: float = 0.25) -> Polygon:
    """Round a polygon's corners by corner cutting (keeps it convex)."""
    for _ in range(rounds):
        out: list[Point] = []
        for i, (x0, y0) in enumerate(points):
            x1, y1 = points[(i + 1) % len(points)]
            out.append((x0 + (x1 - x0) * keep, y0 + (y1 - y0) * keep))
            out.append((x0 + (x1 - x0) * (1 - keep), y0 + (y1 - y0) * (1 - keep)))
        points = tuple(out)
    return points


def _scale(points: Polygon, factor: float, cx: float = 0.5, cy: float = 0.5) -> Polygon:
    return tuple((cx + (x - cx) * factor, cy + (y - cy) * factor) for x, y in points)


def _quad(p0: Point, p1: Point, p2: Point, n: int = 24) -> list[Point]:
    out = []
    for i in range(1, n + 1):
        t = i / n
        out.append(
            (
                (1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * p1[0] + t * t * p2[0],
                (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * p1[1] + t * t * p2[1],
            )
        )
    return out


def _shield_outline(top: float, half: float, shoulder: float, bottom: float) -> Polygon:
    left, right = 0.5 - half, 0.5 + half
    points: list[Point] = [(left, top + 0.05)]
    points += _quad((left, top + 0.05), (0.5, top - 0.03), (right, top + 0.05))
    points.append((right, shoulder))
    points += _quad((right, shoulder), (right - 0.02, bottom - 0.16), (0.5, bottom))
    points += _quad((0.5, bottom), (left + 0.02, bottom - 0.16), (left, shoulder))
    return _chaikin(tuple(points), rounds=2)


@lru_cache(maxsize=len(SHAPES))
def _geometry(shape: Shape) -> _Geometry:
    """The outlines and text positions of a shape, in the unit square."""
    rim = 0.045
    if shape == "circle":
        return _Geometry(
            back=(),
            outer=_circle(0.5, 0.5, 0.48),
            inner=_circle(0.5, 0.5, 0.48 - rim),
            stars_y=0.2,
            title_zone=(0.27, 0.64),
            issuer_y=0.715,
            year_y=0.795,
            outer_circle=(0.5, 0.5, 0.48),
            inner_circle=(0.5, 0.5, 0.48 - rim),
        )
    if shape == "hexagon":  # pointy top, so the text rows get the full width
        corners = tuple(
            (0.5 + 0.485 * math.cos(math.radians(a)), 0.5 + 0.485 * math.sin(math.radians(a)))
            for a in range(-90, 270, 60)
        )
        outer = _chaikin(corners, rounds=3, keep=0.12)
        return _Geometry(
            back=(),
            outer=outer,
            inner=_scale(outer, 1 - 2.2 * rim),
            stars_y=0.215,
            title_zone=(0.28, 0.63),
            issuer_y=0.705,
            year_y=0.785,
        )
    if shape == "shield":
        return _Geometry(
            back=(),
            outer=_shield_outline(0.04, 0.42, 0.5, 0.97),
            inner=_shield_outline(0.04 + rim, 0.42 - rim, 0.5, 0.97 - rim * 1.6),
            stars_y=0.185,
            title_zone=(0.25, 0.58),
            issuer_y=0.655,
            year_y=0.74,
        )
    # ribbon: a scalloped medallion over two tails with notched ends
    cx, cy, radius = 0.5, 0.4, 0.37
    scallops = tuple(
        (
            cx + radius * (1 + 0.04 * math.cos(18 * t)) * math.cos(t),
            cy + radius * (1 + 0.04 * math.cos(18 * t)) * math.sin(t),
        )
        for t in (2 * math.pi * i / 360 for i in range(360))
    )
    left_tail: Polygon = ((0.3, 0.6), (0.47, 0.68), (0.4, 0.98), (0.33, 0.91), (0.23, 0.95))
    return _Geometry(
        back=(left_tail, tuple((1 - x, y) for x, y in left_tail)),
        outer=scallops,
        inner=_circle(cx, cy, radius - 0.065),
        stars_y=0.165,
        title_zone=(0.22, 0.5),
        issuer_y=0.565,
        year_y=0.635,
        inner_circle=(cx, cy, radius - 0.065),
    )


def _span(polygon: Polygon, y: float) -> float:
    """Half the width of a convex polygon symmetric about x=0.5 at height ``y`` (0 if outside)."""
    xs = []
    for i, (x0, y0) in enumerate(polygon):
        x1, y1 = polygon[(i + 1) % len(polygon)]
        if (y0 <= y <= y1 or y1 <= y <= y0) and y0 != y1:
            xs.append(x0 + (x1 - x0) * (y - y0) / (y1 - y0))
    if len(xs) < 2:
        return 0.0
    return max(0.0, min(0.5 - min(xs), max(xs) - 0.5))


def _room(polygon: Polygon, top: float, bottom: float) -> float:
    """Usable text width (unit) for a line band ``top..bottom`` inside a convex polygon."""
    return max(0.0, 2 * (min(_span(polygon, top), _span(polygon, bottom)) - _PAD))


# --- text layout ----------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """NFC, without characters XML forbids, with runs of whitespace folded to one space."""
    text = _NOT_XML.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def _fit_prefix(word: str, font: ImageFont.FreeTypeFont, width: float) -> int:
    """The most leading characters of ``word`` that fit ``width`` (0 if not even one)."""
    low, high = 0, len(word)
    while low < high:
        mid = (low + high + 1) // 2
        if font.getlength(word[:mid]) <= width:
            low = mid
        else:
            high = mid - 1
    return low


def _wrap(
    text: str, font: ImageFont.FreeTypeFont, widths: Sequence[float], split: bool = True
) -> tuple[list[str], list[str]]:
    """Fill lines of the given pixel widths with the words of ``text``.

    Returns the lines and the words left over. With ``split``, a word too long for an empty line
    is broken between characters (how Korean without spaces, or a very long Latin word, wraps);
    without, wrapping stops there.
    """
    queue = text.split()
    lines: list[str] = []
    current = ""
    while queue and len(lines) < len(widths):
        width = widths[len(lines)]
        word = queue[0]
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            queue.pop(0)
        elif current:
            lines.append(current)
            current = ""
        else:
            cut = _fit_prefix(word, font, width) if split else 0
            if cut == 0:
                break
            lines.append(word[:cut])
            queue[0] = word[cut:]
    if current:
        lines.append(current)
    return lines, queue


def _ellipsize(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    if font.getlength(text) <= width:
        return text
    cut = _fit_prefix(text, font, width - font.getlength(_ELLIPSIS))
    return text[:cut].rstrip() + _ELLIPSIS


@dataclass(frozen=True)
class _Line:
    text: str
    y: float  # vertical middle, canvas px
    px: int  # font size, canvas px
    bold: bool


@dataclass(frozen=True)
class _Star:
    cx: float
    cy: float
    r: float


@dataclass(frozen=True)
class _Layout:
    lines: tuple[_Line, ...]
    stars: tuple[_Star, ...]
    numeral: _Line | None  # a level above MAX_STARS, drawn as a number in a ring


def _fit_line(
    text: str, polygon: Polygon, y: float, canvas: int, sizes: tuple[float, float], bold: bool
) -> _Line | None:
    """One line centred at unit height ``y``, shrunk from sizes[0] to sizes[1], then ellipsized."""
    if not text:
        return None
    largest, smallest = (max(8, round(s * canvas)) for s in sizes)
    px = largest
    while True:
        half = px * 0.6 / canvas
        width = _room(polygon, y - half, y + half) * canvas
        font = pil_font(px, bold)
        if font.getlength(text) <= width or px <= smallest:
            return _Line(_ellipsize(text, font, width), y * canvas, px, bold)
        px = max(smallest, px - max(1, px // 20))


def _title_slots(
    px: int, count: int, polygon: Polygon, zone: tuple[float, float], canvas: int
) -> tuple[list[float], list[float]]:
    """Middles and usable widths (canvas px) of ``count`` title lines centred in ``zone``."""
    height = px * _LINE_HEIGHT
    first = (zone[0] + zone[1]) / 2 * canvas - count * height / 2
    mids = [first + height * (i + 0.5) for i in range(count)]
    half = px * 0.6
    widths = [_room(polygon, (m - half) / canvas, (m + half) / canvas) * canvas for m in mids]
    return mids, widths


def _balance(
    text: str, font: ImageFont.FreeTypeFont, widths: Sequence[float], lines: list[str]
) -> list[str]:
    """Re-wrap into the same number of lines, as narrow as possible (no long line, short tail)."""
    words = len(text.split())

    def splits(wrapped: list[str]) -> int:  # words broken between characters
        return len(" ".join(wrapped).split()) - words

    best = lines
    for step in range(1, 9):
        narrower = [width * (1 - 0.05 * step) for width in widths]
        candidate, rest = _wrap(text, font, narrower)
        if rest or len(candidate) != len(lines) or splits(candidate) > splits(lines):
            break
        best = candidate
    return best


def _fit_title(title: str, polygon: Polygon, zone: tuple[float, float], canvas: int) -> list[_Line]:
    """The title at the largest size that fits in at most MAX_TITLE_LINES lines in ``zone``.

    Words are kept whole if a size down to 0.06 of the badge allows it (Korean "keep-all");
    failing that, words may break between characters, from the largest size again (a long
    Korean compound written without spaces wraps onto two big lines rather than one small one).
    At the smallest size, an ellipsis ends what still does not fit.
    """
    if not title:
        return []
    zone_height = (zone[1] - zone[0]) * canvas
    largest, smallest = max(8, round(0.1 * canvas)), max(8, round(0.045 * canvas))
    for split, floor in ((False, max(smallest, round(0.06 * canvas))), (True, smallest)):
        px = largest
        while True:
            font = pil_font(px, True)
            most = max(1, min(MAX_TITLE_LINES, int(zone_height // (px * _LINE_HEIGHT))))
            for count in range(1, most + 1):
                mids, widths = _title_slots(px, count, polygon, zone, canvas)
                lines, rest = _wrap(title, font, widths, split)
                if not rest:
                    lines = _balance(title, font, widths, lines)
                    return [
                        _Line(text, mid, px, True) for text, mid in zip(lines, mids, strict=False)
                    ]
            if px == floor:
                break
            px = max(floor, px - max(1, px // 25))
    # Even the smallest size overflows: keep what fits and end the last line with an ellipsis.
    mids, widths = _title_slots(px, most, polygon, zone, canvas)
    lines, rest = _wrap(title, font, widths)
    if not lines:
        lines = [_ellipsize(title, font, widths[0])]
    elif rest:
        last = len(lines) - 1
        lines[last] = _ellipsize(f"{lines[last]} {' '.join(rest)}", font, widths[last])
    return [_Line(text, mid, px, True) for text, mid in zip(lines, mids, strict=False)]


def _layout(
    design: BadgeDesign, title: str, issuer_name: str, year: int | None, canvas: int
) -> _Layout:
    geometry = _geometry(design.shape)
    inner = geometry.inner
    lines = _fit_title(clean_text(title), inner, geometry.title_zone, canvas)
    issuer = _fit_line(
        clean_text(issuer_name), inner, geometry.issuer_y, canvas, (0.045, 0.03), False
    )
    year_line = _fit_line(
        "" if year is None else str(year), inner, geometry.year_y, canvas, (0.052, 0.04), True
    )
    lines += [line for line in (issuer, year_line) if line is not None]
    stars: tuple[_Star, ...] = ()
    numeral = None
    if design.level is not None and design.level <= MAX_STARS:
        count = design.level
        radius = 0.034
        y = geometry.stars_y
        room = _room(inner, y - radius, y + radius)
        radius = min(radius, room / (count * 2 + (count - 1) * 0.5))
        pitch = radius * 2.5
        first = 0.5 - pitch * (count - 1) / 2
        stars = tuple(
            _Star((first + pitch * i) * canvas, y * canvas, radius * canvas) for i in range(count)
        )
    elif design.level is not None:
        numeral = _Line(str(design.level), geometry.stars_y * canvas, round(0.045 * canvas), True)
    return _Layout(tuple(lines), stars, numeral)


def _star_points(star: _Star) -> list[Point]:
    points = []
    for i in range(10):
        radius = star.r if i % 2 == 0 else star.r * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((star.cx + radius * math.cos(angle), star.cy + radius * math.sin(angle)))
    return points


# --- rendering ------------------------------------------------------------------------------


def _check(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"badge size must be an integer from {MIN_SIZE} to {MAX_SIZE}")


def _supersample(size: int) -> int:
    return 4 if size <= 1024 else 2


def _render_png(
    design: BadgeDesign, title: str, issuer_name: str, year: int | None, size: int
) -> bytes:
    _check(size)
    ss = _supersample(size)
    canvas = size * ss
    geometry = _geometry(design.shape)
    fill, rim, ink = design.color, rim_color(design.color), text_color(design.color)

    def px(polygon: Sequence[Point]) -> list[Point]:
        return [(x * canvas, y * canvas) for x, y in polygon]

    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for tail in geometry.back:
        draw.polygon(px(tail), fill=mix(fill, BLACK, 0.15), outline=rim, width=ss * 2)
    draw.polygon(px(geometry.outer), fill=rim)
    draw.polygon(px(geometry.inner), fill=fill)
    highlight = px(geometry.inner)
    draw.line(
        [*highlight, highlight[0]], fill=mix(fill, WHITE, 0.35), width=max(1, ss * 2), joint="curve"
    )
    layout = _layout(design, title, issuer_name, year, canvas)
    for star in layout.stars:
        draw.polygon(_star_points(star), fill=ink)
    if layout.numeral is not None:
        ring = layout.numeral.px * 0.85
        y = layout.numeral.y
        draw.ellipse(
            (canvas / 2 - ring, y - ring, canvas / 2 + ring, y + ring),
            outline=ink,
            width=max(1, ss * 3),
        )
    for line in (*layout.lines, *([layout.numeral] if layout.numeral else [])):
        font = pil_font(line.px, line.bold)
        draw.text((canvas / 2, line.y), line.text, font=font, fill=ink, anchor="mm")
    image = image.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _path(polygon: Sequence[Point], scale: float) -> str:
    head, *rest = polygon
    parts = [f"M{_num(head[0] * scale)} {_num(head[1] * scale)}"]
    parts += [f"L{_num(x * scale)} {_num(y * scale)}" for x, y in rest]
    return " ".join(parts) + " Z"


def _svg_shape(
    polygon: Polygon, circle: tuple[float, float, float] | None, scale: float, style: str
) -> str:
    if circle is None:
        return f'<path d="{_path(polygon, scale)}" {style}/>'
    cx, cy, r = (_num(v * scale) for v in circle)
    return f'<circle cx="{cx}" cy="{cy}" r="{r}" {style}/>'


def _render_svg(
    design: BadgeDesign, title: str, issuer_name: str, year: int | None, size: int
) -> bytes:
    _check(size)
    ss = _supersample(size)
    canvas = size * ss  # lay out exactly as the PNG does, then scale down
    geometry = _geometry(design.shape)
    fill, rim, ink = design.color, rim_color(design.color), text_color(design.color)
    layout = _layout(design, title, issuer_name, year, canvas)
    label = " · ".join(
        part for part in (clean_text(title), clean_text(issuer_name), str(year or "")) if part
    )
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" role="img">',
        f"<title>{escape(label)}</title>",
    ]
    for tail in geometry.back:
        out.append(
            f'<path d="{_path(tail, size)}" fill="{mix(fill, BLACK, 0.15)}" '
            f'stroke="{rim}" stroke-width="{_num(2 * size / 512)}"/>'
        )
    out.append(_svg_shape(geometry.outer, geometry.outer_circle, size, f'fill="{rim}"'))
    inner_style = (
        f'fill="{fill}" stroke="{mix(fill, WHITE, 0.35)}" stroke-width="{_num(2 * size / 512)}"'
    )
    out.append(_svg_shape(geometry.inner, geometry.inner_circle, size, inner_style))
    for star in layout.stars:
        points = [(x / canvas, y / canvas) for x, y in _star_points(star)]
        out.append(f'<path d="{_path(points, size)}" fill="{ink}"/>')
    lines = list(layout.lines)
    if layout.numeral is not None:
        ring = layout.numeral.px * 0.85 / ss
        out.append(
            f'<circle cx="{_num(size / 2)}" cy="{_num(layout.numeral.y / ss)}" r="{_num(ring)}" '
            f'fill="none" stroke="{ink}" stroke-width="{_num(3 * size / 512)}"/>'
        )
        lines.append(layout.numeral)
    family = quoteattr(SVG_FONT_FAMILY)
    for line in lines:
        ascent, descent = pil_font(line.px, line.bold).getmetrics()
        baseline = (line.y + (ascent - descent) / 2) / ss
        weight = "700" if line.bold else "400"
        out.append(
            f'<text x="{_num(size / 2)}" y="{_num(baseline)}" font-family={family} '
            f'font-size="{_num(line.px / ss)}" font-weight="{weight}" fill="{ink}" '
            f'text-anchor="middle">{escape(line.text)}</text>'
        )
    out.append("</svg>")
    return ("\n".join(out) + "\n").encode("utf-8")


def render_badge_png(
    design: DesignInput, *, title: str, issuer_name: str, year: int | None, size: int = 512
) -> bytes:
    """A ``size``×``size`` RGBA PNG of the badge (transparent outside the shape).

    Same inputs give the same bytes (no timestamps or other metadata), for a given Pillow and
    font. ``ValueError`` for an invalid design or a size outside 64–2048.
    """
    uploaded = uploaded_png(design)
    if uploaded is not None:
        return uploaded
    return _render_png(BadgeDesign.parse(design), title, issuer_name, year, size)


def render_badge_svg(
    design: DesignInput, *, title: str, issuer_name: str, year: int | None, size: int = 512
) -> bytes:
    """The badge as standalone UTF-8 SVG with the PNG's layout; text by font-family name.

    The layout is measured with the bundled font; a viewer without "Noto Sans CJK KR" falls back
    to the next family in :data:`issuer.artifacts.fonts.SVG_FONT_FAMILY`, so widths may differ a
    little. No external references, scripts or embedded fonts.
    """
    uploaded = uploaded_png(design)
    if uploaded is not None:
        return uploaded_svg(uploaded)
    return _render_svg(BadgeDesign.parse(design), title, issuer_name, year, size)


_png_cached = lru_cache(maxsize=256)(_render_png)
_svg_cached = lru_cache(maxsize=256)(_render_svg)


def render_badge_png_cached(
    design: DesignInput, *, title: str, issuer_name: str, year: int | None, size: int = 512
) -> bytes:
    """:func:`render_badge_png`, memoised per (design, title, issuer, year, size) in-process."""
    uploaded = uploaded_png(design)
    if uploaded is not None:
        return uploaded
    return _png_cached(BadgeDesign.parse(design), title, issuer_name, year, size)


def render_badge_svg_cached(
    design: DesignInput, *, title: str, issuer_name: str, year: int | None, size: int = 512
) -> bytes:
    """:func:`render_badge_svg`, memoised like :func:`render_badge_png_cached`."""
    uploaded = uploaded_png(design)
    if uploaded is not None:
        return uploaded_svg(uploaded)
    return _svg_cached(BadgeDesign.parse(design), title, issuer_name, year, size)


def clear_badge_cache() -> None:
    """Forget every memoised badge (e.g. after a catalogue reload)."""
    _png_cached.cache_clear()
    _svg_cached.cache_clear()
