"""Reading the QR code (ISO/IEC 18004) on what an employer uploads to /verify, with zxing-cpp.

A picture is checked before its pixels are decoded (the byte count, then the pixel size in its
header) and decoded at reduced size: a JPEG straight from libjpeg at 1/2 to 1/8 scale, in grey.
If nothing is found at about 2000 pixels, a sharper full frame and then its centre are tried, for
phone photos where the QR code is small. Every decode fits the budget of
:mod:`issuer.artifacts.pixels` (a sharper look that would not is skipped; a first look that
would not is refused), and pictures and PDFs are decoded two at a time, in a pool of their own.
Nothing is fetched and nothing is written.

A PDF's first pages are rendered by PDFium at most 3000 pixels on their long side, in a child
process of their own (:mod:`issuer.artifacts.pdfchild`) with hard limits: PDFium has none. A
3 KB PDF of nested forms (each drawing the one below ten times) makes it build 10^depth page
objects as it loads the page: six levels took 23 s and 1.8 GB, seven made it abort the process.
The child may use ``PDF_MEMORY_BYTES`` of address space and ``PDF_CPU_SECONDS`` of CPU time,
and is killed after ``PDF_SECONDS``; a PDF that needs more is refused (``PDFTooComplex``). A
Laurel certificate takes ~60 MB and 0.2 s there; three pages of 48 MP scans ~350 MB and 1.5 s.
No pre-scan for nested forms: the forms may sit in compressed object streams, which only a PDF
parser reads, and the limits bound any other way of making PDFium work hard too.

Every refusal is an :class:`UploadError` a person can act on::

    UploadError (ValueError)     kind
    ├── NoQRCode                 "no-qr"               a picture, but no QR code in it
    ├── NoQRCodeInPDF            "pdf-no-qr"           a PDF, but no QR code on its first pages
    ├── NotAPicture              "not-a-picture"       text, JSON, SVG, a damaged file …
    ├── UnsupportedFormat        "unsupported-format"  HEIC/HEIF, the iPhone's photo format
    ├── TooLarge                 "too-large"           over 12 MB, or too many pixels
    └── PDFTooComplex            "pdf-too-complex"     a PDF over the child's time or memory
"""

from __future__ import annotations

import io
import json
import logging
import signal
import struct
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Literal, TypeAlias

import zxingcpp
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from issuer.artifacts.pixels import MAX_PIXELS, decoded, fits

UploadErrorKind: TypeAlias = Literal[
    "no-qr", "pdf-no-qr", "not-a-picture", "unsupported-format", "too-large", "pdf-too-complex"
]

MAX_UPLOAD_BYTES = 12 * 1024 * 1024
PDF_PAGES = 3
PDF_MEMORY_BYTES = 512 * 1024 * 1024
"""Address space (``RLIMIT_AS``) of the process that reads a PDF: Python, PDFium and the pages."""
PDF_CPU_SECONDS = 5
"""CPU time (``RLIMIT_CPU``) of the process that reads a PDF."""
PDF_SECONDS = 10
"""Wall-clock time after which the process that reads a PDF is killed (a busy machine's share)."""
ACCEPTED = "JPEG, PNG, WebP, GIF, BMP or TIFF picture, or a PDF"

# (long side in pixels of the region read, share of the frame around its centre)
_ATTEMPTS = ((2000, 1.0), (3000, 1.0), (3000, 0.5))
_PDF_SIZES = (2000, 3000)  # long side of a rendered page
_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")
_HEIF_BRANDS = frozenset(
    b"heic heix heim heis hevc hevx hevm hevs mif1 mif2 msf1 avif avis avio".split()
)
_ORIENTATION = 0x0112  # EXIF tag; its values as ImageOps.exif_transpose reads them
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_BROKEN = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)  # from Pillow
_SMALLER = "Upload a smaller photo, or a crop around the QR code."
_BAD_PDF = (
    f"This PDF could not be read: it may be damaged or password-protected. Upload a {ACCEPTED}."
)
_INSTEAD = "Upload a screenshot or a photo of the page with the QR code instead."
_TOO_LONG = f"This PDF took too long to read. {_INSTEAD}"
_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
OUT_OF_MEMORY = 3
"""The exit code of :mod:`issuer.artifacts.pdfchild` when Python ran out of address space."""
_ROOT = Path(__file__).resolve().parents[2]  # where the ``issuer`` package running now lives

log = logging.getLogger("laurel")


class UploadError(ValueError):
    """An upload that yields no QR code; ``str(error)`` is a message for the person.

    Raised only as one of its subclasses, whose ``kind`` names the cause.
    """

    kind: ClassVar[UploadErrorKind]
    default_message: ClassVar[str]

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NoQRCode(UploadError):
    kind = "no-qr"
    default_message = (
        "No QR code found in this picture. "
        "Take the photo straight on, with the whole QR code in focus."
    )


class NoQRCodeInPDF(UploadError):
    kind = "pdf-no-qr"
    default_message = (
        f"No QR code found in this PDF's first pages (pages 1 to {PDF_PAGES} are read). "
        "Upload the page with the QR code, or a photo of it."
    )


class NotAPicture(UploadError):
    kind = "not-a-picture"
    default_message = f"This file is not a picture that can be read. Upload a {ACCEPTED}."


class UnsupportedFormat(UploadError):
    kind = "unsupported-format"
    default_message = (
        "This photo is in HEIC/HEIF format (the iPhone's own), which cannot be read here. "
        "Export or share it as JPEG (on an iPhone, Settings › Camera › Formats › Most "
        f"Compatible takes JPEG photos) and upload that. Accepted: a {ACCEPTED}."
    )


class TooLarge(UploadError):
    kind = "too-large"
    default_message = f"This file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. {_SMALLER}"

    def __init__(self, message: str | None = None, size: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.size = size
        """The picture's width and height when it has too many pixels (None: too many bytes)."""


class PDFTooComplex(UploadError):
    """A PDF whose reading went over a limit of its process: it draws too much to read here."""

    kind = "pdf-too-complex"
    default_message = f"This PDF needs too much memory to read. {_INSTEAD}"


def read_qr_from_upload(data: bytes) -> str:
    """The text of the first QR code in an uploaded picture or PDF; else :class:`UploadError`."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge()
    if b"%PDF-" in data[:1024]:
        return decoded(lambda: _read_pdf(data))
    if _is_heif(data):
        raise UnsupportedFormat()
    return decoded(lambda: _read_picture(data))


def read_qr(data: bytes) -> str | None:
    """The text of the first QR code in a picture or PDF, or None (unreadable, or no QR code)."""
    try:
        return read_qr_from_upload(data)
    except UploadError:
        return None


def vpqr_in_picture(data: bytes) -> str | None:
    """The ``VP1-…`` text of an offline QR code (a VPQR) in a picture or PDF, or None: not a
    picture (a badge file, JSON, a JWS …), no QR code, or a QR code that holds something else.

    A PDF that went over the limits of its reading is :class:`PDFTooComplex`, raised: its bytes
    are no credential either, and the person needs to know why nothing was read."""
    from verifier.baking import PNG_SIGNATURE, read_png
    from verifier.errors import VerifierError
    from verifier.vpqr import is_vpqr

    if not may_be_picture(data):
        return None
    if data.startswith(PNG_SIGNATURE):
        try:
            read_png(data)
        except VerifierError:
            pass  # a picture with no baked credential: maybe of a QR code
        else:
            return None
    try:
        text = read_qr_from_upload(data)
    except PDFTooComplex:
        raise
    except UploadError:
        return None
    return text if is_vpqr(text) else None


def may_be_picture(data: bytes) -> bool:
    """False for what is surely text (JSON, XML or SVG, a compact JWS, a VPQR's text), from
    its first bytes: cheap enough for the event loop."""
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return not head.startswith((b"{", b"[", b"<", b"ey", b"VP1-"))


def _decode(image: Image.Image) -> str | None:
    for result in zxingcpp.read_barcodes(image, formats=_QR_ONLY):
        if result.format == zxingcpp.BarcodeFormat.QRCode and result.text:
            return str(result.text)
    return None


# --- pictures -------------------------------------------------------------------------------


def _read_picture(data: bytes) -> str:
    with _open(data) as image:
        width, height = image.size
    tried = 0.0
    grey, decoded_size = None, (0, 0)
    for target, share in _ATTEMPTS:
        scale = min(1.0, target / (share * max(width, height)))
        if scale <= tried:
            continue  # the same pixels, or fewer, were read already
        tried = scale
        with _open(data) as image:
            image.draft("L", (max(1, int(width * scale)), max(1, int(height * scale))))
            if grey is None or image.size != decoded_size:  # formats without draft: decode once
                if grey is not None and not fits(image, transparent=_transparent(image)):
                    continue  # a sharper look would not fit the budget; the last one stands
                decoded_size = image.size
                grey = _grey(image)
        text = _decode(_region(grey, share, target))
        if text:
            return text
    raise NoQRCode()


@lru_cache(maxsize=1)
def _formats() -> tuple[str, ...]:
    Image.init()
    return tuple(name for name in _FORMATS if name in Image.OPEN)


def _open(data: bytes) -> ImageFile.ImageFile:
    """The picture with its header read and its size checked, its pixels not yet decoded."""
    try:
        image = Image.open(io.BytesIO(data), formats=_formats())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooLarge(f"This picture has too many pixels to read. {_SMALLER}") from exc
    except (UnidentifiedImageError, *_BROKEN) as exc:
        raise NotAPicture() from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise TooLarge(
            f"This picture is {width}×{height} pixels, too many to read. {_SMALLER}",
            (width, height),
        )
    return image


def _transparent(image: Image.Image) -> bool:
    return bool(image.has_transparency_data)


def _grey(image: ImageFile.ImageFile) -> Image.Image:
    """The pixels in grey, transparency as white paper, upright as the EXIF orientation says."""
    transparent = _transparent(image)
    if not fits(image, transparent=transparent):
        raise TooLarge(
            f"This picture is {image.width}×{image.height} pixels, too many to read in this "
            "format. Upload it as JPEG, or a crop around the QR code.",
            image.size,
        )
    try:
        image.load()
        grey = _flatten(image, transparent)
        orientation = image.getexif().get(_ORIENTATION, 1)
    except _BROKEN as exc:
        raise NotAPicture(
            f"This picture could not be read: it may be damaged or cut short. Upload a {ACCEPTED}."
        ) from exc
    method = _TRANSPOSE.get(orientation)
    return grey if method is None else grey.transpose(method)


def _flatten(image: Image.Image, transparent: bool) -> Image.Image:
    if transparent:
        grey, alpha = image.convert("LA").split()
        grey.paste(255, mask=ImageOps.invert(alpha))
        return grey
    if image.mode == "L":
        return image.copy()
    if image.mode.startswith("I;16"):  # 16-bit scans: to "L" directly would clip them to white
        return image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert("L")


def _region(grey: Image.Image, share: float, target: int) -> Image.Image:
    """The centre ``share`` of the picture, at most ``target`` pixels on its long side."""
    if share < 1:
        width, height = grey.size
        left, top = round(width * (1 - share) / 2), round(height * (1 - share) / 2)
        grey = grey.crop((left, top, width - left, height - top))
    if max(grey.size) > target:
        grey = grey.copy()
        grey.thumbnail((target, target))
    return grey


def _is_heif(data: bytes) -> bool:
    """An ISO-BMFF file (ISO/IEC 14496-12) whose ``ftyp`` box names a HEIF brand, not AVIF."""
    if data[4:8] != b"ftyp":
        return False
    major = data[8:12]
    if major in (b"avif", b"avis") and "AVIF" in _formats():
        return False
    size = min(int.from_bytes(data[:4], "big"), 256)
    compatible = {data[offset : offset + 4] for offset in range(16, size - 3, 4)}
    return bool(({major} | compatible) & _HEIF_BRANDS)


# --- PDF ------------------------------------------------------------------------------------


def _read_pdf(data: bytes) -> str:
    """The QR code's text, read by ``python -m issuer.artifacts.pdfchild`` under the limits
    above. Started with ``subprocess`` (fork and exec at once: forking this process, with its
    threads and database pool, and going on in Python would be unsafe), from the ``issuer``
    package running here (``-m`` looks in the working directory first)."""
    command = [
        sys.executable,
        "-m",
        "issuer.artifacts.pdfchild",
        str(PDF_MEMORY_BYTES),
        str(PDF_CPU_SECONDS),
    ]
    try:
        child = subprocess.run(
            command, input=data, capture_output=True, timeout=PDF_SECONDS, cwd=_ROOT, check=False
        )
    except subprocess.TimeoutExpired:  # run() killed it
        raise _stopped(PDFTooComplex(_TOO_LONG), data, "wall-clock time") from None
    if child.returncode == 0:
        answer = json.loads(child.stdout)
        if "text" in answer:
            return str(answer["text"])
        raise _BY_KIND[answer["kind"]](answer["message"])
    if child.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # the soft, then hard CPU limit
        raise _stopped(PDFTooComplex(_TOO_LONG), data, "CPU time")
    if child.returncode in (-signal.SIGABRT, OUT_OF_MEMORY):  # PDFium aborts when malloc fails
        raise _stopped(PDFTooComplex(), data, "memory")
    if child.returncode < 0:  # PDFium crashed on it
        raise _stopped(NotAPicture(_BAD_PDF), data, f"signal {-child.returncode}")
    stderr = child.stderr.decode(errors="replace")[-2000:]
    raise RuntimeError(f"the PDF reader failed (exit {child.returncode}): {stderr}")


def _stopped(error: UploadError, data: bytes, limit: str) -> UploadError:
    """``error``, logged: an operator sees PDFs that stop their reader (many may be an attack)."""
    log.warning("a PDF upload (%d bytes) was refused: its reader stopped (%s)", len(data), limit)
    return error


def read_pdf_pages(data: bytes) -> str:
    """What :func:`_read_pdf` does, in this process: only in the child, PDFium has no limits."""
    for page in _render_pdf(data):
        for target in _PDF_SIZES:
            text = _decode(_region(page, 1.0, target))
            if text:
                return text
    raise NoQRCodeInPDF()


def _render_pdf(data: bytes) -> list[Image.Image]:
    """The first pages in grey, at most ``max(_PDF_SIZES)`` pixels on their long side."""
    import pypdfium2 as pdfium

    pages = []
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise NotAPicture(_BAD_PDF) from exc
    try:
        for index in range(min(len(document), PDF_PAGES)):
            page = document[index]
            try:
                width, height = page.get_size()
                if min(width, height) <= 0:
                    continue
                scale = max(_PDF_SIZES) / max(width, height)
                bitmap = page.render(scale=scale, grayscale=True)
                try:
                    pages.append(bitmap.to_pil().convert("L"))
                finally:
                    bitmap.close()
            finally:
                page.close()
    except pdfium.PdfiumError as exc:
        raise NotAPicture(_BAD_PDF) from exc
    finally:
        document.close()
    return pages


_BY_KIND: dict[str, type[UploadError]] = {kind.kind: kind for kind in (NoQRCodeInPDF, NotAPicture)}
