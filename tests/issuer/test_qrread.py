"""Reading the QR code on an upload to /verify: phone photos, PDF certificates, and refusals."""

from __future__ import annotations

import io
import json
import random
import resource
import struct
import sys
import zlib
from datetime import date

import pytest
from fpdf import FPDF
from PIL import Image, ImageChops, ImageFilter, ImageOps

from issuer.artifacts.certificate import CertificateData, certificate_pdf
from issuer.artifacts.qr import qr_png, qr_svg
from issuer.artifacts.qrread import (
    MAX_UPLOAD_BYTES,
    NoQRCode,
    NoQRCodeInPDF,
    NotAPicture,
    TooLarge,
    UnsupportedFormat,
    UploadError,
    read_qr,
    read_qr_from_upload,
)

URL = "https://laurel.test/v/urn:uuid:0b7e6c9a-4e2f-4a55-9a1e-4b3c2f1d0e9a"
PHOTO_SIZE = (4032, 3024)  # a 12 MP phone camera, held sideways
ORIENTATION = 0x0112


def noise(size: tuple[int, int], amplitude: int, seed: int) -> Image.Image:
    """Grey noise around 128, the same for the same seed."""
    raw = Image.frombytes("L", size, random.Random(seed).randbytes(size[0] * size[1]))
    return raw.point(lambda value: 128 + (value - 128) * amplitude / 128)


def phone_photo(qr_share: float | None, *, seed: int = 1) -> bytes:
    """A JPEG as a phone takes it: paper on a desk, a tilted QR code, blur, sensor grain, and
    the pixels stored sideways with EXIF orientation 6 (rotate 90° clockwise to view)."""
    width, height = PHOTO_SIZE
    light = Image.blend(
        Image.linear_gradient("L").resize(PHOTO_SIZE),
        ImageOps.invert(Image.radial_gradient("L")).resize(PHOTO_SIZE),
        0.5,
    )
    paper = light.point(lambda value: 175 + value * 0.3)
    photo = Image.merge("RGB", (paper, paper.point(lambda v: v - 6), paper.point(lambda v: v - 18)))
    if qr_share is not None:
        side = round(width * qr_share)
        qr = Image.open(io.BytesIO(qr_png(URL))).convert("L").resize((side, side))
        mask = Image.new("L", qr.size, 255).rotate(8, Image.Resampling.BICUBIC, expand=True)
        qr = qr.rotate(8, Image.Resampling.BICUBIC, expand=True, fillcolor=255)
        ink = qr.point(lambda value: 30 + value * 0.85)
        corner = (width * 43 // 100, height * 37 // 100)
        photo.paste(Image.merge("RGB", (ink, ink, ink)), corner, mask)
    photo = photo.filter(ImageFilter.GaussianBlur(1.0))
    grain = [noise(PHOTO_SIZE, 24, seed + band) for band in range(3)]
    photo = ImageChops.add(photo, Image.merge("RGB", grain), offset=-128)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    out = io.BytesIO()
    photo.transpose(Image.Transpose.ROTATE_90).save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def refusal(data: bytes) -> UploadError:
    with pytest.raises(UploadError) as caught:
        read_qr_from_upload(data)
    return caught.value


def png_header(width: int, height: int, colour_type: int = 0) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` pixels (8-bit, ``colour_type``)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + chunk(b"IEND", b"")
    )


def peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes; bytes on macOS
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


# --- phone photos ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photo() -> bytes:
    return phone_photo(0.16)


def test_phone_photo_is_read_through_the_downscale_path(photo: bytes) -> None:
    assert 2_000_000 < len(photo) < MAX_UPLOAD_BYTES  # a few MB, as a real 12 MP photo
    with Image.open(io.BytesIO(photo)) as stored:
        assert stored.format == "JPEG" and stored.size == (3024, 4032)
        assert stored.getexif()[ORIENTATION] == 6
    assert read_qr_from_upload(photo) == URL


@pytest.mark.parametrize("share", [0.12, 0.20])
def test_qr_code_of_any_usual_size_is_read(share: float) -> None:
    assert read_qr_from_upload(phone_photo(share, seed=7)) == URL


def test_small_qr_code_is_found_on_a_closer_look() -> None:
    assert read_qr_from_upload(phone_photo(0.04, seed=11)) == URL


def test_photo_without_qr_code_says_so() -> None:
    error = refusal(phone_photo(None))
    assert isinstance(error, NoQRCode) and error.kind == "no-qr"
    assert "No QR code found in this picture" in str(error)


def test_qr_code_on_transparent_background_is_read_as_on_paper() -> None:
    qr = Image.open(io.BytesIO(qr_png(URL))).convert("L")
    sticker = Image.new("RGBA", qr.size, (0, 0, 0, 0))
    sticker.putalpha(ImageOps.invert(qr))  # black modules, nothing around them
    out = io.BytesIO()
    sticker.save(out, format="PNG")
    assert read_qr_from_upload(out.getvalue()) == URL


def test_cut_short_photo_is_not_a_picture(photo: bytes) -> None:
    error = refusal(photo[: len(photo) // 3])
    assert error.kind == "not-a-picture" and "JPEG" in str(error)


# --- PDF ------------------------------------------------------------------------------------


def test_certificate_pdf_leads_to_its_verify_url() -> None:
    certificate = CertificateData(
        issuer_name="Korea Productivity Center",
        issuer_logo_png=None,
        learner_name="Kim Minjun",
        achievement_name="Leadership Skills for Non-Supervisors",
        achievement_description=None,
        issued_on=date(2025, 3, 12),
        valid_until=None,
        learning_hours=24.0,
        signatory_name=None,
        signatory_title=None,
        credential_id="urn:uuid:0b7e6c9a-4e2f-4a55-9a1e-4b3c2f1d0e9a",
        verify_url=URL,
        badge_png=None,
    )
    assert read_qr_from_upload(certificate_pdf(certificate)) == URL


def pdf(pages: int, qr_on: int | None = None) -> bytes:
    document = FPDF()
    document.set_font("helvetica", size=14)
    for number in range(1, pages + 1):
        document.add_page()
        document.cell(text=f"Page {number} of a certificate")
        if number == qr_on:
            document.image(io.BytesIO(qr_png(URL)), x=140, y=230, w=40)
    return bytes(document.output())


def test_pdf_is_read_to_its_third_page() -> None:
    assert read_qr_from_upload(pdf(3, qr_on=3)) == URL


@pytest.mark.parametrize(("pages", "qr_on"), [(1, None), (5, 4)])
def test_pdf_without_qr_code_on_its_first_pages_says_so(pages: int, qr_on: int | None) -> None:
    error = refusal(pdf(pages, qr_on))
    assert isinstance(error, NoQRCodeInPDF) and error.kind == "pdf-no-qr"
    assert "No QR code found in this PDF's first pages" in str(error)


@pytest.mark.parametrize("data", [b"%PDF-1.7\n garbage", b"%PDF-", pdf(1, qr_on=1)[:400]])
def test_broken_pdf_is_not_a_picture(data: bytes) -> None:
    error = refusal(data)
    assert isinstance(error, NotAPicture) and error.kind == "not-a-picture"
    assert "PDF" in str(error)


# --- refusals -------------------------------------------------------------------------------


def test_decompression_bomb_is_refused_from_its_header() -> None:
    before = peak_memory_mb()
    error = refusal(png_header(60_000, 60_000))
    assert isinstance(error, TooLarge) and error.kind == "too-large"
    assert peak_memory_mb() - before < 200  # 3.6 gigapixels were never allocated


@pytest.mark.parametrize(
    ("width", "height", "colour_type"),
    [(10_000, 8_100, 0), (6_000, 6_000, 6)],  # 81 MP grey; 36 MP colour with alpha
)
def test_too_many_pixels_are_refused(width: int, height: int, colour_type: int) -> None:
    before = peak_memory_mb()
    error = refusal(png_header(width, height, colour_type))
    assert error.kind == "too-large" and f"{width}×{height}" in str(error)
    assert peak_memory_mb() - before < 200


def test_upload_over_the_byte_limit_is_refused() -> None:
    error = refusal(b"\xff\xd8\xff\xe0" + bytes(MAX_UPLOAD_BYTES))
    assert error.kind == "too-large" and "12 MB" in str(error)


@pytest.mark.parametrize("brand", [b"heic", b"heix", b"mif1"])
def test_heic_photo_asks_for_jpeg(brand: bytes) -> None:
    error = refusal(b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1heic" + bytes(64))
    assert isinstance(error, UnsupportedFormat) and error.kind == "unsupported-format"
    assert "JPEG" in str(error)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a picture, just some words\n",
        json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"]}).encode(),
        qr_svg(URL),
        b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41" + bytes(64),  # a video
    ],
    ids=["empty", "text", "json", "svg", "mp4"],
)
def test_what_is_not_a_picture_says_which_kinds_are(data: bytes) -> None:
    error = refusal(data)
    assert isinstance(error, NotAPicture) and error.kind == "not-a-picture"
    for kind in ("JPEG", "PNG", "WebP", "GIF", "BMP", "TIFF", "PDF"):
        assert kind in str(error)


def test_every_refusal_is_a_value_error_with_its_own_kind() -> None:
    classes = [NoQRCode, NoQRCodeInPDF, NotAPicture, UnsupportedFormat, TooLarge]
    assert {cls.kind for cls in classes} == {
        "no-qr",
        "pdf-no-qr",
        "not-a-picture",
        "unsupported-format",
        "too-large",
    }
    for cls in classes:
        error = cls()
        assert isinstance(error, ValueError) and str(error) == error.message != ""


# --- the old entry point --------------------------------------------------------------------


def test_read_qr_still_reads_a_plain_qr_png() -> None:
    assert read_qr(qr_png(URL)) == URL


def test_read_qr_answers_none_where_there_is_nothing_to_read() -> None:
    assert read_qr(b"not a picture") is None
    assert read_qr(qr_svg(URL)) is None
