"""The printable certificate of a credential: one A4 landscape PDF page.

Implements the human-readable certificate an employer or learner prints or attaches: issuer (and
logo), a "Certificate" heading, the learner, the achievement and its description, dates, learning
hours, a signatory line, the badge image and a QR code to the verification page, with the URL and
credential id in small print. Built with fpdf2; all text is vector text in the bundled Noto Sans
CJK KR (embedded as a font subset), so Korean renders and the text can be searched and copied.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos
from PIL import Image, UnidentifiedImageError

from issuer.artifacts.fonts import font_path
from issuer.artifacts.images import clean_text, parse_hex
from issuer.artifacts.qr import QUIET_ZONE, dark_runs, qr_matrix

PAGE_WIDTH, PAGE_HEIGHT = 297.0, 210.0  # mm, A4 landscape
_FAMILY = "NotoSansCJKkr"
_INK = (33, 33, 33)
_MUTED = (96, 96, 96)
_CONTENT_WIDTH = 235.0
_LEFT = (PAGE_WIDTH - _CONTENT_WIDTH) / 2
_TOP = 20.0  # mm from the top: the highest the issuer's logo or name starts
_BOTTOM_ROW = 142.0  # mm from the top: where the badge and the QR code start


@dataclass(frozen=True)
class CertificateLabels:
    """The fixed wording, English by default; replace to localise (e.g. Korean)."""

    heading: str = "Certificate"
    certifies: str = "This certifies that"
    anonymous_learner: str = "the holder of this credential"
    completed: str = "has successfully completed"
    issued: str = "Issued"
    valid_until: str = "Valid until"
    learning_hours: str = "Learning hours"
    scan_to_verify: str = "Scan to verify"
    credential_id: str = "Credential ID"


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on a certificate. Images are PNG (or any format Pillow reads)."""

    issuer_name: str
    issuer_logo_png: bytes | None
    learner_name: str | None
    achievement_name: str
    achievement_description: str | None
    issued_on: date
    valid_until: date | None
    learning_hours: float | None
    signatory_name: str | None
    signatory_title: str | None
    credential_id: str
    verify_url: str
    badge_png: bytes | None
    accent_color: str = "#1B3A5C"
    labels: CertificateLabels = field(default_factory=CertificateLabels)


def _text(value: str | None) -> str:
    return clean_text(value or "")


def _hours(hours: float) -> str:
    return f"{hours:.2f}".rstrip("0").rstrip(".")


def _image_size(data: bytes, what: str) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            return image.size
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"{what} is not a readable image") from error


class _Certificate:
    """Draws one certificate page; ``y`` values are mm from the top."""

    def __init__(self, data: CertificateData) -> None:
        self.data = data
        self.accent = parse_hex(data.accent_color)
        pdf = FPDF(orientation="landscape", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(0, 0, 0)
        pdf.add_font(_FAMILY, "", str(font_path(False)))
        pdf.add_font(_FAMILY, "B", str(font_path(True)))
        # Fixed creation date: the same data gives the same bytes.
        pdf.set_creation_date(datetime.combine(data.issued_on, time(0), tzinfo=UTC))
        pdf.set_creator("Laurel")
        pdf.set_author(_text(data.issuer_name))
        pdf.set_title(f"{_text(data.labels.heading)}: {_text(data.achievement_name)}")
        pdf.set_subject(_text(data.learner_name) or _text(data.achievement_name))
        pdf.add_page()
        self.pdf = pdf
        self.measuring = False  # when set, body() only computes its height

    def font(self, size: float, bold: bool = False, color: tuple[int, int, int] = _INK) -> None:
        self.pdf.set_font(_FAMILY, "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def fit(self, text: str, width: float, largest: float, smallest: float, bold: bool) -> float:
        """The largest font size from ``largest`` down to ``smallest`` at which text fits."""
        size = largest
        while size > smallest:
            self.pdf.set_font(_FAMILY, "B" if bold else "", size)
            if self.pdf.get_string_width(text) <= width:
                return size
            size = max(smallest, size - 0.5)
        return smallest

    def centred(self, text: str, y: float, height: float) -> None:
        if self.measuring:
            return
        self.pdf.set_xy(_LEFT, y)
        self.pdf.cell(_CONTENT_WIDTH, height, text, align=Align.C)

    def lines(self, text: str, width: float, max_lines: int, height: float) -> list[str]:
        """``text`` wrapped to ``width`` (between characters if a word is too long), at most
        ``max_lines`` lines, the last ending in an ellipsis if cut."""
        pdf = self.pdf
        result = pdf.multi_cell(
            width, height, text, dry_run=True, output="LINES", wrapmode=WrapMode.WORD
        )
        assert isinstance(result, list)
        wrapped = [str(line) for line in result]
        if len(wrapped) <= max_lines:
            return wrapped
        kept = wrapped[:max_lines]
        last = kept[-1].rstrip()
        while last and pdf.get_string_width(last + "…") > width:
            last = last[:-1].rstrip()
        kept[-1] = last + "…"
        return kept

    def block(
        self,
        text: str,
        y: float,
        size: float,
        bold: bool,
        max_lines: int,
        color: tuple[int, int, int],
    ) -> float:
        """Centred wrapped text from ``y``; returns the y below it."""
        self.font(size, bold, color)
        height = size * 0.3528 * 1.3  # pt → mm, with line spacing
        for line in self.lines(text, _CONTENT_WIDTH - 20, max_lines, height):
            self.centred(line, y, height)
            y += height
        return y

    def frame(self) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*self.accent)
        pdf.set_line_width(1.4)
        pdf.rect(8, 8, PAGE_WIDTH - 16, PAGE_HEIGHT - 16)
        pdf.set_line_width(0.3)
        pdf.rect(11.5, 11.5, PAGE_WIDTH - 23, PAGE_HEIGHT - 23)

    def header(self, y: float) -> float:
        """Logo and issuer name from ``y``; returns the y below them."""
        data, pdf = self.data, self.pdf
        if data.issuer_logo_png:
            w_px, h_px = _image_size(data.issuer_logo_png, "issuer logo")
            height = min(16.0, 60.0 * h_px / w_px)
            width = height * w_px / h_px
            if not self.measuring:
                logo = io.BytesIO(data.issuer_logo_png)
                pdf.image(logo, (PAGE_WIDTH - width) / 2, y, width, height)
            y += height + 3
        name = _text(data.issuer_name)
        size = self.fit(name, _CONTENT_WIDTH, 14, 9, True)
        self.font(size, True, self.accent)
        self.centred(name, y, 7)
        return y + 12

    def body(self, y: float) -> float:
        data, labels = self.data, self.data.labels
        heading = _text(labels.heading)
        self.font(self.fit(heading, _CONTENT_WIDTH, 34, 20, True), True, self.accent)
        self.pdf.set_char_spacing(1.5)
        self.centred(heading, y, 14)
        self.pdf.set_char_spacing(0)
        y += 20
        self.font(11, False, _MUTED)
        self.centred(_text(labels.certifies), y, 6)
        y += 8
        learner = _text(data.learner_name)
        if learner:
            size = self.fit(learner, _CONTENT_WIDTH - 20, 30, 16, True)
            y = self.block(learner, y, size, True, 2, _INK) + 1
        else:
            self.font(16, False, _INK)
            self.centred(_text(labels.anonymous_learner), y, 9)
            y += 11
        self.font(11, False, _MUTED)
        self.centred(_text(labels.completed), y, 6)
        y += 8
        y = self.block(_text(data.achievement_name), y, 19, True, 2, self.accent) + 1.5
        description = _text(data.achievement_description)
        if description:
            y = self.block(description, y, 9.5, False, 2, _MUTED) + 1.5
        details = [f"{_text(labels.issued)} {data.issued_on.isoformat()}"]
        if data.valid_until is not None:
            details.append(f"{_text(labels.valid_until)} {data.valid_until.isoformat()}")
        if data.learning_hours is not None:
            details.append(f"{_text(labels.learning_hours)}: {_hours(data.learning_hours)}")
        self.font(10, False, _INK)
        self.centred("   ·   ".join(details), y, 6)
        return y + 6

    def signatory(self, bottom: float) -> None:
        name, title = _text(self.data.signatory_name), _text(self.data.signatory_title)
        if not (name or title):
            return
        pdf, left, width = self.pdf, 28.0, 72.0
        y = bottom - 14
        if name:
            self.font(self.fit(name, width, 12, 8, True), True, _INK)
            pdf.set_xy(left, y)
            pdf.cell(width, 6, name, align=Align.C)
        if title:
            self.font(self.fit(title, width, 9, 6.5, False), False, _MUTED)
            pdf.set_xy(left, y + 6)
            pdf.cell(width, 5, title, align=Align.C)
        pdf.set_draw_color(*_MUTED)
        pdf.set_line_width(0.3)
        pdf.line(left, bottom, left + width, bottom)

    def badge(self, top: float, size: float) -> None:
        if not self.data.badge_png:
            return
        _image_size(self.data.badge_png, "badge image")
        x = (PAGE_WIDTH - size) / 2
        self.pdf.image(io.BytesIO(self.data.badge_png), x, top, size, size)

    def qr(self, top: float, size: float) -> None:
        """The QR code as vector squares (crisp in print), the quiet zone kept white."""
        pdf, url = self.pdf, self.data.verify_url
        matrix = qr_matrix(url)
        module = size / len(matrix)
        left = PAGE_WIDTH - 28 - size
        pdf.set_fill_color(255, 255, 255)
        pdf.rect(left, top, size, size, style="F")
        pdf.set_fill_color(0, 0, 0)
        overlap = module * 0.04  # no hairline seams between adjacent runs when rasterised
        for x, y, length in dark_runs(matrix):
            pdf.rect(
                left + x * module,
                top + y * module,
                length * module + overlap,
                module + overlap,
                style="F",
            )
        pdf.link(left, top, size, size, url)
        self.font(8.5, True, _INK)
        pdf.set_xy(left, top + size - module * QUIET_ZONE + 1)
        pdf.cell(size, 4, _text(self.data.labels.scan_to_verify), align=Align.C)

    def footer(self) -> None:
        data, labels, pdf = self.data, self.data.labels, self.pdf
        url = data.verify_url
        identifier = f"{_text(labels.credential_id)}: {_text(data.credential_id)}"
        y = PAGE_HEIGHT - 24
        for text, link in ((url, url), (identifier, "")):
            self.font(self.fit(text, _CONTENT_WIDTH + 20, 7, 5, False), False, _MUTED)
            for line in self.lines(text, _CONTENT_WIDTH + 20, 2, 3.2):
                pdf.set_xy(_LEFT - 10, y)
                pdf.cell(
                    _CONTENT_WIDTH + 20,
                    3.2,
                    line,
                    align=Align.C,
                    link=link,
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )
                y += 3.4

    def render(self) -> bytes:
        self.frame()
        self.measuring = True
        height = self.body(self.header(0.0))
        self.measuring = False
        # Centre header and body between the frame and the bottom row (badge, QR, signatory).
        y = self.body(self.header(max(_TOP, (_TOP + _BOTTOM_ROW - 4 - height) / 2)))
        top = max(y + 4, _BOTTOM_ROW)
        size = min(38.0, PAGE_HEIGHT - 30 - top)
        self.badge(top, size)
        self.qr(top, min(size, 36.0))
        self.signatory(top + size - 4)
        self.footer()
        return bytes(self.pdf.output())

    def close(self) -> None:
        """fpdf2 leaves each font file open in fontTools; close them rather than leak them."""
        for font in self.pdf.fonts.values():
            ttfont = getattr(font, "ttfont", None)
            if ttfont is not None:
                ttfont.close()


def certificate_pdf(data: CertificateData) -> bytes:
    """The certificate as a one-page A4 landscape PDF with the bundled font embedded.

    The same ``data`` gives the same bytes (the PDF creation date is ``issued_on``).
    ``ValueError`` if a logo or badge image cannot be read.
    """
    certificate = _Certificate(data)
    try:
        return certificate.render()
    finally:
        certificate.close()
