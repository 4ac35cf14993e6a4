"""Credential artifacts: bundled font, badge PNG/SVG, QR codes (read back by zxing-cpp) and the
A4 certificate PDF (rendered back by PDFium)."""

from __future__ import annotations

import io
import re
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TypedDict

import pypdfium2 as pdfium
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops

from issuer.artifacts.certificate import CertificateData, certificate_pdf
from issuer.artifacts.fonts import (
    LICENSE_PATH,
    font_path,
    has_glyph,
    missing_characters,
    pil_font,
)
from issuer.artifacts.images import (
    SHAPES,
    BadgeDesign,
    contrast_ratio,
    render_badge_png,
    render_badge_png_cached,
    render_badge_svg,
    render_badge_svg_cached,
    text_color,
)
from issuer.artifacts.qr import QUIET_ZONE, qr_matrix, qr_png, qr_svg
from issuer.catalogue import Design

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
VERIFY_URL = "https://laurel.test/verify/0b7e6c9a-4e2f-4a55-9a1e-4b3c2f1d0e9a?lang=ko&v=1"
KOREAN_TITLE = "리더십 기초 과정"
KOREAN_LEARNER = "김민준"
HANGUL_SYLLABLES = "".join(chr(cp) for cp in range(0xAC00, 0xD7A4))


def decode_qr(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def catalogue_designs() -> list[dict[str, object]]:
    designs = []
    for path in sorted((ROOT / "badge_templates" / "achievements").glob("*.toml")):
        with path.open("rb") as file:
            designs += [entry["design"] for entry in tomllib.load(file)["achievements"]]
    return designs


def catalogue_names() -> list[str]:
    names = []
    for path in sorted((ROOT / "badge_templates").glob("*/*.toml")):
        with path.open("rb") as file:
            data = tomllib.load(file)
        for entries in data.values():
            if isinstance(entries, list):
                for entry in entries:
                    if isinstance(entry, dict):
                        names += [entry[key] for key in ("name", "name_ko") if key in entry]
    return names


# --- font -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bold", [False, True])
def test_bundled_font_covers_latin_and_every_hangul_syllable(bold: bool) -> None:
    path = font_path(bold)
    assert path.is_file() and path.stat().st_size < 2_500_000
    with TTFont(str(path), lazy=True) as font:
        cmap = font.getBestCmap()
    assert all(0xAC00 + i in cmap for i in range(11_172))
    assert all(cp in cmap for cp in range(0x20, 0x7F))
    assert missing_characters(HANGUL_SYLLABLES + "Åé ‘’“” – — … · ★ ㄱㅎ", bold) == set()
    assert missing_characters("漢字😀", bold) == {"漢", "字", "😀"}
    assert has_glyph("김", bold) and not has_glyph("漢", bold)
    assert "SIL OPEN FONT LICENSE" in LICENSE_PATH.read_text(encoding="utf-8")


def test_pillow_draws_real_hangul_glyphs_not_notdef() -> None:
    font = pil_font(64, True)
    notdef = font.getmask("\ue000")  # private use: not in the font, so .notdef
    masks = {}
    for char in "김민준리더십":
        mask = font.getmask(char)
        assert mask.getbbox() is not None
        assert bytes(mask) != bytes(notdef)
        masks[char] = bytes(mask)
    assert len(set(masks.values())) == len(masks)  # distinct glyphs, not one box repeated


def test_every_catalogue_name_can_be_drawn() -> None:
    names = catalogue_names()
    assert any("\uac00" <= char <= "\ud7a3" for name in names for char in name)
    assert {char for name in names for char in missing_characters(name)} == set()


# --- badge images ---------------------------------------------------------------------------


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", [128, 512])
def test_badge_png_has_the_size_and_opens(shape: str, size: int) -> None:
    data = render_badge_png(
        {"shape": shape, "color": "#00897B", "level": 2},
        title=KOREAN_TITLE,
        issuer_name="Laurel Academy",
        year=2025,
        size=size,
    )
    image = png(data)
    assert image.format == "PNG" and image.size == (size, size) and image.mode == "RGBA"
    corner, centre = image.getpixel((0, 0)), image.getpixel((size // 2, size // 2))
    assert isinstance(corner, tuple) and isinstance(centre, tuple)  # RGBA pixels are tuples
    assert corner[3] == 0  # transparent outside the shape
    assert centre[3] == 255


class BadgeText(TypedDict):
    title: str
    issuer_name: str
    year: int | None


def test_badge_png_is_deterministic_and_depends_on_every_input() -> None:
    design = {"shape": "shield", "color": "#37474F", "level": 1}
    args: BadgeText = {"title": "Team Development", "issuer_name": "OPM", "year": 2025}
    first = render_badge_png(design, **args)
    assert first == render_badge_png(dict(design), **args)
    assert b"tIME" not in first and b"tEXt" not in first
    variants = [
        render_badge_png({**design, "color": "#C0392B"}, **args),
        render_badge_png({**design, "shape": "circle"}, **args),
        render_badge_png({**design, "level": 3}, **args),
        render_badge_png({**design, "level": None}, **args),
        render_badge_png(design, **(args | {"title": "Team Leadership"})),
        render_badge_png(design, **(args | {"issuer_name": "MPM"})),
        render_badge_png(design, **(args | {"year": 2026})),
    ]
    assert len({first, *variants}) == len(variants) + 1


def test_badge_default_design_and_validation() -> None:
    default = png(render_badge_png({}, title="A", issuer_name="B", year=None))
    assert default.size == (512, 512)
    assert BadgeDesign.parse({}) == BadgeDesign.parse(None) == BadgeDesign()
    assert BadgeDesign.parse({"color": "#00897b"}).color == "#00897B"
    model = Design(shape="ribbon", color="#B8860B", level=2)
    parsed = BadgeDesign.parse(model)  # type: ignore[arg-type]  # parse() also takes models
    assert parsed == BadgeDesign("ribbon", "#B8860B", 2)
    for bad in ({"shape": "star"}, {"color": "teal"}, {"level": 0}, {"level": "2"}):
        with pytest.raises(ValueError):
            BadgeDesign.parse(bad)
    with pytest.raises(ValueError):
        render_badge_png({}, title="A", issuer_name="B", year=None, size=16)


def title_area(data: bytes) -> Image.Image:
    return png(data).convert("RGB").crop((60, 130, 452, 330))


def test_korean_title_is_drawn_with_real_glyphs() -> None:
    design = {"shape": "circle", "color": "#1B3A5C"}
    korean = render_badge_png(design, title=KOREAN_TITLE, issuer_name="한국", year=2025)
    blank = render_badge_png(design, title=" " * len(KOREAN_TITLE), issuer_name="한국", year=2025)
    other = render_badge_png(design, title="김민준 박서연 과", issuer_name="한국", year=2025)
    assert ImageChops.difference(title_area(korean), title_area(blank)).getbbox() is not None
    # Tofu boxes would look alike for any two titles of the same length and spacing.
    diff = ImageChops.difference(title_area(korean), title_area(other)).convert("L")
    assert sum(diff.histogram()[65:]) > 500  # pixels that differ clearly


def test_long_titles_wrap_and_never_overflow() -> None:
    for title in ("리더십기초과정심화프로그램수료를축하합니다" * 3, "Supercalifragilistic " * 20):
        for shape in SHAPES:
            image = png(
                render_badge_png(
                    {"shape": shape}, title=title, issuer_name="X" * 80, year=2025, size=256
                )
            )
            assert image.size == (256, 256)


def test_badge_svg_is_well_formed_self_contained_and_escaped() -> None:
    title = 'AI <Competency> & "Ethics" \x00\x1f'
    data = render_badge_svg(
        {"shape": "ribbon", "color": "#B8860B", "level": 4},
        title=title,
        issuer_name="R&D <Lab>",
        year=2025,
    )
    assert b"&lt;Competency&gt; &amp;" in data and b"R&amp;D &lt;Lab&gt;" in data
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 512 512"
    texts = [element.text or "" for element in root.iter(f"{SVG}text")]
    assert "R&D <Lab>" in texts and "2025" in texts
    assert (
        " ".join(t for t in texts if t not in {"R&D <Lab>", "2025"}) == 'AI <Competency> & "Ethics"'
    )
    assert all("Noto Sans CJK KR" in (e.get("font-family") or "") for e in root.iter(f"{SVG}text"))
    assert b"href" not in data and b"url(" not in data and b"<script" not in data
    korean = ET.fromstring(render_badge_svg({}, title=KOREAN_TITLE, issuer_name="한국", year=None))
    assert "리더십" in " ".join(element.text or "" for element in korean.iter(f"{SVG}text"))


def test_cached_renders_once_per_input() -> None:
    design = {"shape": "hexagon", "color": "#6A1B9A"}
    first = render_badge_png_cached(design, title="T", issuer_name="I", year=2024)
    assert render_badge_png_cached(dict(design), title="T", issuer_name="I", year=2024) is first
    assert first == render_badge_png(design, title="T", issuer_name="I", year=2024)
    svg = render_badge_svg_cached(design, title="T", issuer_name="I", year=2024)
    assert svg is render_badge_svg_cached(design, title="T", issuer_name="I", year=2024)


# --- contrast -------------------------------------------------------------------------------


def test_contrast_ratio_matches_wcag() -> None:
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)


def test_text_colour_meets_aa_on_every_catalogue_colour() -> None:
    colours = {str(design["color"]) for design in catalogue_designs()}
    assert len(colours) >= 10
    for colour in colours:
        assert contrast_ratio(text_color(colour), colour) >= 4.5, colour


def test_text_colour_meets_aa_on_any_colour() -> None:
    steps = range(0, 256, 15)
    for r in steps:
        for g in steps:
            for b in steps:
                colour = f"#{r:02X}{g:02X}{b:02X}"
                assert contrast_ratio(text_color(colour), colour) >= 4.5, colour


# --- QR codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        VERIFY_URL,
        "https://laurel.test/v/1",
        "https://laurel.test/credentials/urn:uuid:0b7e6c9a-4e2f-4a55-9a1e-4b3c2f1d0e9a/verify"
        "?issuer=did:web:laurel.test&view=employer#summary",
    ],
)
def test_qr_png_reads_back_exactly(url: str) -> None:
    image = png(qr_png(url))
    assert decode_qr(image) == [url]
    modules = len(qr_matrix(url))
    assert image.size == (modules * 10, modules * 10)
    quiet = image.convert("L").crop((0, 0, image.width, QUIET_ZONE * 10))
    assert quiet.getextrema() == (255, 255)
    result = zxingcpp.read_barcodes(image)[0]
    assert result.format == zxingcpp.BarcodeFormat.QRCode and result.ec_level == "Q"


def test_qr_level_h_and_scale() -> None:
    image = png(qr_png(VERIFY_URL, scale=3, level="H"))
    assert image.size[0] == len(qr_matrix(VERIFY_URL, level="H")) * 3
    assert [r.ec_level for r in zxingcpp.read_barcodes(image)] == ["H"]
    assert qr_png(VERIFY_URL) == qr_png(VERIFY_URL)
    with pytest.raises(ValueError):
        qr_png(VERIFY_URL, scale=0)
    with pytest.raises(ValueError):
        qr_matrix("")


def test_qr_svg_is_well_formed() -> None:
    data = qr_svg(VERIFY_URL)
    root = ET.fromstring(data)
    modules = len(qr_matrix(VERIFY_URL))
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == f"0 0 {modules} {modules}"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == VERIFY_URL
    assert root.find(f"{SVG}path") is not None


# --- certificate ----------------------------------------------------------------------------


def make_certificate(**changes: object) -> CertificateData:
    logo = io.BytesIO()
    Image.new("RGB", (240, 80), "#C0392B").save(logo, format="PNG")
    data = CertificateData(
        issuer_name="한국생산성본부 Korea Productivity Center",
        issuer_logo_png=logo.getvalue(),
        learner_name=KOREAN_LEARNER,
        achievement_name="Leadership Skills for Non-Supervisors",
        achievement_description="Leading by influence rather than authority, taking ownership "
        "of results, and working well in a team.",
        issued_on=date(2025, 3, 12),
        valid_until=date(2028, 3, 11),
        learning_hours=24.0,
        signatory_name="이서연",
        signatory_title="Director, Leadership Academy",
        credential_id="urn:uuid:0b7e6c9a-4e2f-4a55-9a1e-4b3c2f1d0e9a",
        verify_url=VERIFY_URL,
        badge_png=render_badge_png_cached(
            {"shape": "circle", "color": "#1B3A5C", "level": 1},
            title="Leadership Skills for Non-Supervisors",
            issuer_name="한국생산성본부",
            year=2025,
        ),
    )
    return replace(data, **changes)  # type: ignore[arg-type]  # callers pass valid fields


@pytest.fixture(scope="module")
def certificate() -> bytes:
    return certificate_pdf(make_certificate())


def page_text_and_image(pdf: bytes, dpi: int = 170) -> tuple[str, tuple[float, float], Image.Image]:
    document = pdfium.PdfDocument(pdf)
    try:
        assert len(document) == 1
        page = document[0]
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        bitmap = page.render(scale=dpi / 72)
        image = bitmap.to_pil().copy()
        size = page.get_size()
        for thing in (bitmap, textpage, page):
            thing.close()
    finally:
        document.close()
    return text, size, image


def test_certificate_is_one_a4_landscape_page(certificate: bytes) -> None:
    assert certificate.startswith(b"%PDF-")
    _, (width, height), _ = page_text_and_image(certificate, dpi=72)
    assert width == pytest.approx(842, abs=1) and height == pytest.approx(595, abs=1)


def test_certificate_text_includes_korean_and_details(certificate: bytes) -> None:
    text, _, _ = page_text_and_image(certificate, dpi=72)
    for expected in (
        KOREAN_LEARNER,
        "Leadership Skills for Non-Supervisors",
        "한국생산성본부 Korea Productivity Center",
        "Certificate",
        "12 March 2025",
        "11 March 2028",
        "24",
        "이서연",
        "Director, Leadership Academy",
        "Scan to verify",
        VERIFY_URL,
        "urn:uuid:0b7e6c9a-4e2f-4a55-9a1e-4b3c2f1d0e9a",
    ):
        assert expected in text, expected


def test_certificate_embeds_the_font(certificate: bytes) -> None:
    # Both weights are embedded as subsets ("ABCDEF+Name"), with their font programs.
    fonts = set(re.findall(rb"/FontName /[A-Z]{6}\+(\S+)", certificate))
    assert fonts == {b"NotoSansCJKKR", b"NotoSansCJKKRBold"}
    assert len(re.findall(rb"/FontFile[23] \d+ 0 R", certificate)) == 2
    assert b"/ToUnicode" in certificate


def test_certificate_qr_reads_back_as_the_verify_url(certificate: bytes) -> None:
    _, _, image = page_text_and_image(certificate, dpi=170)
    assert decode_qr(image) == [VERIFY_URL]


def test_certificate_is_deterministic_and_renders_minimal_data(certificate: bytes) -> None:
    assert certificate_pdf(make_certificate()) == certificate
    minimal = make_certificate(
        issuer_logo_png=None,
        learner_name=None,
        achievement_name="리더십 기초 과정",
        achievement_description=None,
        valid_until=None,
        learning_hours=None,
        signatory_name=None,
        signatory_title=None,
        badge_png=None,
        verify_url="https://laurel.test/v/1",
    )
    text, _, image = page_text_and_image(certificate_pdf(minimal), dpi=150)
    assert "리더십 기초 과정" in text and "the holder of this credential" in text
    assert decode_qr(image) == ["https://laurel.test/v/1"]


def test_certificate_rejects_an_unreadable_logo() -> None:
    with pytest.raises(ValueError, match="logo"):
        certificate_pdf(make_certificate(issuer_logo_png=b"not an image"))
