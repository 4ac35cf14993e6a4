"""State stamps on badge PNG/SVG (read back by Pillow, defusedxml and the baking reader) and on
the certificate PDF (rendered back by PDFium, its QR code by zxing-cpp); Korean certificate."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from PIL import Image, ImageChops

from issuer.artifacts.certificate import (
    _BOTTOM_ROW,
    KOREAN_LABELS,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    certificate_pdf,
    format_date,
)
from issuer.artifacts.images import parse_hex, render_badge_png, render_badge_svg
from issuer.artifacts.stamps import Stamp, stamp_foreign_svg, stamp_png, stamp_svg
from tests.issuer.test_artifacts import (
    VERIFY_URL,
    decode_qr,
    make_certificate,
    page_text_and_image,
)
from verifier.baking import bake_svg, read_svg

SVG = "{http://www.w3.org/2000/svg}"
REVOKED = Stamp("REVOKED 2026-11-30")
EXPIRED = Stamp("EXPIRED 2024-03-01", "#8A5300")
HOSTILE = Stamp("<script>&]]> REVOKED")
BADGE = {"shape": "circle", "color": "#1B3A5C", "level": 2}
CREDENTIAL = {"id": "urn:uuid:0b7e6c9a", "name": "A <b>&]] credential", "type": ["X"]}


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def badge_png(size: int = 256) -> bytes:
    return render_badge_png(BADGE, title="Leadership", issuer_name="Laurel", year=2025, size=size)


def colour_share(image: Image.Image, colour: str, tolerance: int = 40) -> float:
    """The share of opaque pixels within ``tolerance`` (per channel) of ``colour``."""
    target = parse_hex(colour)
    data = image.convert("RGBA").tobytes()
    near = total = 0
    for i in range(0, len(data), 4):
        r, g, b, a = data[i : i + 4]
        if a < 250:
            continue
        total += 1
        near += all(abs(c - t) <= tolerance for c, t in zip((r, g, b), target, strict=True))
    return near / total


# --- PNG ------------------------------------------------------------------------------------


def test_stamped_badge_png_keeps_size_and_shows_the_band_in_its_colour() -> None:
    original = badge_png()
    stamped = png(stamp_png(original, REVOKED))
    before = png(original)
    assert stamped.size == before.size and stamped.mode == "RGBA"
    # The band runs corner to corner through the centre; the far corners stay as they were.
    centre = (96, 96, 160, 160)
    diff = ImageChops.difference(stamped.crop(centre), before.crop(centre)).convert("L")
    assert sum(diff.histogram()[40:]) > 0.5 * 64 * 64
    assert stamped.getpixel((4, 4)) == before.getpixel((4, 4))
    assert stamped.getpixel((251, 251)) == before.getpixel((251, 251))
    assert colour_share(before, REVOKED.color) == 0
    assert colour_share(stamped, REVOKED.color) > 0.1


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "L"])
def test_any_png_can_be_stamped(mode: str) -> None:
    source = Image.new("RGB", (400, 150), "#EEEEEE").convert(mode)
    data = io.BytesIO()
    source.save(data, format="PNG")
    stamped = png(stamp_png(data.getvalue(), EXPIRED))
    assert stamped.size == (400, 150)
    assert stamped.mode == ("RGBA" if mode == "RGBA" else "RGB")
    assert colour_share(stamped, EXPIRED.color) > 0.1
    corner, pixel = source.convert("RGB").getpixel((0, 0)), stamped.getpixel((0, 0))
    assert isinstance(pixel, tuple) and pixel[:3] == corner  # the band runs the other diagonal


def test_stamping_draws_the_text_and_korean_glyphs() -> None:
    original = badge_png()
    plain, korean = Stamp(""), Stamp("취소됨 2026-11-30")
    blank = png(stamp_png(original, plain)).convert("RGB")
    for stamp in (REVOKED, korean):
        image = png(stamp_png(original, stamp)).convert("RGB")
        diff = ImageChops.difference(image, blank).convert("L")
        assert sum(diff.histogram()[128:]) > 500, stamp.text  # the lettering
    assert stamp_png(original, korean) != stamp_png(original, Stamp("취소 2026-11-30"))


def test_stamp_label_drops_what_the_font_cannot_draw() -> None:
    assert Stamp("취소됨 漢字 2026\x00-11-30 😀").label == "취소됨 2026-11-30"
    assert Stamp("x", "#b3261e").color == "#B3261E"
    with pytest.raises(ValueError):
        Stamp("x", "red")
    with pytest.raises(ValueError):
        stamp_png(b"not a png", REVOKED)


# --- SVG ------------------------------------------------------------------------------------


def badge_svg() -> bytes:
    return render_badge_svg(BADGE, title="Leadership", issuer_name="Laurel", year=2025)


def start_tag(svg: bytes) -> bytes:
    start = svg.index(b"<svg")
    return svg[start : svg.index(b">", start) + 1]


def test_stamped_svg_is_well_formed_with_the_band_last() -> None:
    original = badge_svg()
    stamped = stamp_svg(original, REVOKED)
    assert start_tag(stamped) == start_tag(original)
    assert stamped.startswith(original[: original.rindex(b"</svg>")])
    root = ET.fromstring(stamped)
    band = list(root)[-1]
    assert band.tag == f"{SVG}g" and "rotate(-45 256 256)" in (band.get("transform") or "")
    rect = band.find(f"{SVG}rect")
    assert rect is not None and rect.get("fill") == REVOKED.color
    assert [text.text for text in band.iter(f"{SVG}text")] == ["REVOKED 2026-11-30"]


def test_a_foreign_svg_cannot_hide_its_stamp() -> None:
    """An imported badge's own SVG with ``<style>.laurel-stamp{display:none}</style>`` (or
    ``svg > :last-child``) hid the band ``stamp_svg`` puts inside it (audit round 7). The band
    now sits in a new document that shows the original as an ``<image>``: the original's styles
    and scripts do not reach it."""
    import base64

    hiding = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100" width="400" '
        b'height="200"><style>.laurel-stamp{display:none} svg>:last-child{display:none}'
        b'</style><rect width="200" height="100" fill="#1B3A5C"/></svg>'
    )
    stamped = stamp_foreign_svg(hiding, EXPIRED)
    root = ET.fromstring(stamped)
    assert (root.get("viewBox"), root.get("width"), root.get("height")) == (
        "0 0 200 100",
        "400",
        "200",
    )
    image, band = list(root)
    assert image.tag == f"{SVG}image" and band.tag == f"{SVG}g"
    href = image.get("href") or ""
    assert href.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(href.split(",", 1)[1]) == hiding  # shown as it was
    assert b"<style>" not in stamped and b"laurel-stamp{" not in stamped
    assert [text.text for text in band.iter(f"{SVG}text")] == ["EXPIRED 2024-03-01"]
    with pytest.raises(ValueError):
        stamp_foreign_svg(b"<svg xmlns='http://www.w3.org/2000/svg'>", EXPIRED)


def test_svg_stamp_text_stays_escaped() -> None:
    stamped = stamp_svg(badge_svg(), HOSTILE)
    assert b"<script" not in stamped and b"]]>" not in stamped
    assert b"&lt;script&gt;&amp;]]&gt; REVOKED" in stamped
    texts = [text.text for text in list(ET.fromstring(stamped))[-1].iter(f"{SVG}text")]
    assert texts == ["<script>&]]> REVOKED"]


@pytest.mark.parametrize("is_jws", [False, True])
def test_stamped_svg_bakes_and_reads_back(is_jws: bool) -> None:
    credential = "eyJhbGciOiJFZERTQSJ9.eyJ4IjoxfQ.c2ln" if is_jws else json.dumps(CREDENTIAL)
    baked = bake_svg(stamp_svg(badge_svg(), HOSTILE), credential, is_jws=is_jws)
    assert read_svg(baked) == credential
    root = ET.fromstring(baked)
    assert list(root)[-1].get("class") == "laurel-stamp"


def test_svg_stamp_follows_the_view_box_and_prefixes() -> None:
    prefixed = (
        b'<?xml version="1.0"?>\n<!-- </svg> -->\n<s:svg xmlns:s="http://www.w3.org/2000/svg" '
        b'viewBox="10,20 200 100"><s:rect width="5" height="5"/></s:svg>\n'
    )
    root = ET.fromstring(stamp_svg(prefixed, EXPIRED))
    band = list(root)[-1]
    assert band.tag == f"{SVG}g" and (band.get("transform") or "").endswith(" 110 70)")
    empty = stamp_svg(b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"/>', EXPIRED)
    assert list(ET.fromstring(empty))[-1].get("class") == "laurel-stamp"
    for bad in (b"<svg", b"<html/>", b'<svg xmlns="http://www.w3.org/2000/svg" width="50%"/>'):
        with pytest.raises(ValueError):
            stamp_svg(bad, EXPIRED)


# --- certificate ----------------------------------------------------------------------------

QR_AREA_MM = (PAGE_WIDTH - 28 - 40, _BOTTOM_ROW - 2, PAGE_WIDTH - 24, PAGE_HEIGHT - 26)


def mm_box(dpi: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = (round(v / 25.4 * dpi) for v in QR_AREA_MM)
    return left, top, right, bottom


def test_stamped_certificate_says_so_and_its_qr_code_is_untouched() -> None:
    plain = certificate_pdf(make_certificate())
    stamped = certificate_pdf(make_certificate(stamp=REVOKED))
    text, _, image = page_text_and_image(stamped, dpi=170)
    assert text.count("REVOKED 2026-11-30") == 2  # the band and the diagonal
    assert decode_qr(image) == [VERIFY_URL]
    _, _, before = page_text_and_image(plain, dpi=170)
    box = mm_box(170)
    assert ImageChops.difference(image.crop(box), before.crop(box)).getbbox() is None
    assert ImageChops.difference(image, before).getbbox() is not None
    assert colour_share(image.crop((0, 0, image.width, box[1])), REVOKED.color, 10) > 0.02


def test_stamp_on_a_korean_certificate() -> None:
    stamp = Stamp("취소됨 2026-11-30")
    data = make_certificate(labels=KOREAN_LABELS, stamp=stamp)
    text, _, image = page_text_and_image(certificate_pdf(data), dpi=170)
    assert "취소됨 2026-11-30" in text and decode_qr(image) == [VERIFY_URL]


def test_korean_certificate_uses_korean_wording_and_dates() -> None:
    data = make_certificate(
        labels=KOREAN_LABELS, issued_on=date(2024, 3, 1), valid_until=date(2027, 2, 28)
    )
    text, _, image = page_text_and_image(certificate_pdf(data), dpi=150)
    for expected in (
        "수료증",
        "다음 사람이",
        "아래 과정을 성공적으로 이수하였음을 증명합니다",
        "발급일 2024년 3월 1일",
        "유효 기간 2027년 2월 28일",
        "학습 시간: 24시간",
        "QR 코드로 진위 확인",
        "자격 증명 ID",
    ):
        assert expected in text, expected
    assert "Certificate" not in text and "2024-03-01" not in text
    assert decode_qr(image) == [VERIFY_URL]


def test_english_certificate_writes_dates_in_words() -> None:
    data = make_certificate(issued_on=date(2024, 3, 1), valid_until=None, learning_hours=7.5)
    text, _, _ = page_text_and_image(certificate_pdf(data), dpi=72)
    assert "Issued 1 March 2024" in text and "Learning hours: 7.5" in text


@pytest.mark.parametrize(
    ("day", "lang", "expected"),
    [
        (date(2024, 3, 1), "en", "1 March 2024"),
        (date(2024, 12, 31), "en-GB", "31 December 2024"),
        (date(2024, 3, 1), "ko", "2024년 3월 1일"),
        (date(2026, 11, 30), "ko-KR", "2026년 11월 30일"),
    ],
)
def test_format_date(day: date, lang: str, expected: str) -> None:
    assert format_date(day, lang) == expected


def test_format_date_refuses_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="fr"):
        format_date(date(2024, 3, 1), "fr")
