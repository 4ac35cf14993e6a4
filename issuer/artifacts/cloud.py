"""The skills cloud as a picture: size by weight, colour by framework, a deterministic layout.

Words are placed heaviest first along an Archimedean spiral from the centre, each at the first
spot where its box overlaps no earlier word; the same skills and weights always give the same
picture. Text uses the bundled font, so Korean names render.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from issuer.artifacts.fonts import pil_font
from issuer.artifacts.xmltext import xml_text

PALETTE = ["#1B3A5C", "#8A3B12", "#1E5E3A", "#5B2A86", "#7A5C00", "#0F5E6E", "#8B1E3F"]
MIN_SIZE, MAX_SIZE = 14, 56


@dataclass(frozen=True)
class Word:
    text: str
    weight: float
    group: str


@dataclass(frozen=True)
class Placed:
    text: str
    x: float
    y: float
    width: float
    height: float
    size: int
    color: str


def _colors(words: list[Word]) -> dict[str, str]:
    groups = sorted({w.group for w in words})
    return {group: PALETTE[i % len(PALETTE)] for i, group in enumerate(groups)}


def layout(words: list[Word], width: int = 800, height: int = 500) -> list[Placed]:
    ordered = sorted(words, key=lambda w: (-w.weight, w.text))
    if not ordered:
        return []
    heaviest = ordered[0].weight or 1.0
    colors = _colors(ordered)
    placed: list[Placed] = []
    for word in ordered:
        size = round(MIN_SIZE + (MAX_SIZE - MIN_SIZE) * math.sqrt(max(word.weight, 0) / heaviest))
        left, top, right, bottom = pil_font(size).getbbox(word.text)
        w, h = right - left + 6, bottom - top + 6
        for step in range(4000):
            angle = step * 0.3
            radius = 3 * angle
            x = width / 2 + radius * math.cos(angle) * 1.6 - w / 2
            y = height / 2 + radius * math.sin(angle) - h / 2
            if x < 0 or y < 0 or x + w > width or y + h > height:
                continue
            if all(
                x + w <= p.x or p.x + p.width <= x or y + h <= p.y or p.y + p.height <= y
                for p in placed
            ):
                placed.append(Placed(word.text, x, y, w, h, size, colors[word.group]))
                break
    return placed


def cloud_svg(words: list[Word], width: int = 800, height: int = 500) -> bytes:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Skills cloud">',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    for p in layout(words, width, height):
        parts.append(
            f'<text x="{p.x + 3:.1f}" y="{p.y + p.height - 6:.1f}" font-size="{p.size}" '
            f'font-family="Noto Sans CJK KR, Noto Sans KR, sans-serif" fill="{p.color}">'
            f"{xml_text(p.text)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts).encode("utf-8")


def cloud_png(words: list[Word], width: int = 800, height: int = 500) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for p in layout(words, width, height):
        font = pil_font(p.size)
        left, top, _, _ = font.getbbox(p.text)
        draw.text((p.x + 3 - left, p.y + 3 - top), p.text, font=font, fill=p.color)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def profile_bars_svg(title: str, rows: list[tuple[str, int, int]], width: int = 720) -> bytes:
    """A learner's levels against a target as horizontal bars: (skill, level, wanted) per row.
    The wanted level is a dark outline, the level held a filled bar; levels run 0–5."""
    row_height, label_width, top = 26, 300, 40
    scale = (width - label_width - 40) / 5
    height = top + row_height * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{xml_text(title)}">',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="10" y="24" font-size="16" font-weight="bold" fill="#1f2937" '
        f'font-family="Noto Sans CJK KR, sans-serif">{xml_text(title)}</text>',
    ]
    for index, (name, held, wanted) in enumerate(rows):
        y = top + index * row_height
        fill = "#166534" if held >= wanted else "#b45309"
        parts.append(
            f'<text x="10" y="{y + 17}" font-size="13" fill="#1f2937" '
            f'font-family="Noto Sans CJK KR, sans-serif">{xml_text(name[:40])}</text>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{held * scale:.1f}" '
            f'height="16" fill="{fill}"><title>level {held} of {wanted}</title></rect>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{wanted * scale:.1f}" '
            f'height="16" fill="none" stroke="#111827" stroke-width="1.5"/>'
        )
    parts.append("</svg>")
    return "\n".join(parts).encode("utf-8")
