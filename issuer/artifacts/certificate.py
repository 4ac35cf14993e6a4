"""The printable certificate of a credential: one A4 landscape PDF page.

Implements the human-readable certificate an employer or learner prints or attaches: issuer (and
logo), a "Certificate" heading, the learner, the achievement and its description, dates, learning
hours, a signatory line, the badge image and a QR code to the verification page, with the URL and
credential id in small print. Built with fpdf2; all text is vector text in the bundled Noto Sans
CJK KR (embedded as a font subset), so Korean renders and the text can be searched and copied.
The wording comes in English (:class:`CertificateLabels`) and Korean (:data:`KOREAN_LABELS`), with
dates written as readers of that language write them (:func:`format_date`). A credential that is
revoked, expired or not yet valid carries a :class:`~issuer.artifacts.stamps.Stamp`: a solid band
at the top and large translucent diagonal text, both clear of the QR code so it still scans.
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
from issuer.artifacts.links import http_url
from issuer.artifacts.qr import OFFLINE_LEVEL, QUIET_ZONE, dark_runs, qr_matrix
from issuer.artifacts.stamps import Stamp

PAGE_WIDTH, PAGE_HEIGHT = 297.0, 210.0  # mm, A4 landscape
_FAMILY = "NotoSansCJKkr"
_INK = (33, 33, 33)
_MUTED = (96, 96, 96)
_CONTENT_WIDTH = 235.0
_LEFT = (PAGE_WIDTH - _CONTENT_WIDTH) / 2
_TOP = 20.0  # mm from the top: the highest the issuer's logo or name starts
_BOTTOM_ROW = 142.0  # mm from the top: where the badge and the QR code start
_FRAME = 11.5  # mm: the inner frame line, on every side
_STAMP_ANGLE = 20.0  # degrees anticlockwise: bottom-left to top-right, away from the QR code
_STAMP_LENGTH = 220.0  # mm: the longest the diagonal stamp text gets
_STAMP_OPACITY = 0.28
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
LANGUAGES = ("en", "ko")


def format_date(day: date, lang: str) -> str:
    """``day`` as a reader of ``lang`` writes it: ``1 March 2024`` (en), ``2024년 3월 1일`` (ko).

    ``lang`` is a language tag; only its primary subtag counts (``ko-KR`` is ``ko``).
    ``ValueError`` for a language not in :data:`LANGUAGES`.
    """
    primary = lang.split("-")[0].lower()
    if primary == "en":
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    if primary == "ko":
        return f"{day.year}년 {day.month}월 {day.day}일"
    raise ValueError(f"no date format for language {lang!r}; expected one of {LANGUAGES}")


@dataclass(frozen=True)
class CertificateLabels:
    """The fixed wording, English by default; :data:`KOREAN_LABELS` is the Korean one.

    ``lang`` (a language tag) picks the date format (:func:`format_date`) and is the PDF's
    language; ``hours_unit`` follows the number of learning hours.
    """

    heading: str = "Certificate"
    certifies: str = "This certifies that"
    anonymous_learner: str = "the holder of this credential"
    completed: str = "has successfully completed"
    issued: str = "Issued"
    valid_until: str = "Valid until"
    learning_hours: str = "Learning hours"
    scan_to_verify: str = "Scan to verify"
    credential_id: str = "Credential ID"
    hours_unit: str = ""
    lang: str = "en"
    offline_heading: str = "Offline copy"
    offline_text: str = (
        "This QR code holds the signed badge itself, so it can be checked with no network "
        "(laurel verify, the Learner Credential Wallet, any VPQR reader). It proves who issued "
        "the badge and what it says; it cannot tell whether the badge was revoked since it was "
        "issued. For that, scan the QR code on the first page."
    )


#: Korean wording, read in the certificate's order: "다음 사람이 <learner> 아래 과정을
#: 성공적으로 이수하였음을 증명합니다 <achievement>" (the course named below it).
KOREAN_LABELS = CertificateLabels(
    heading="수료증",
    certifies="다음 사람이",
    anonymous_learner="이 자격 증명의 소지자",
    completed="아래 과정을 성공적으로 이수하였음을 증명합니다",
    issued="발급일",
    valid_until="유효 기간",
    learning_hours="학습 시간",
    scan_to_verify="QR 코드로 진위 확인",
    credential_id="자격 증명 ID",
    hours_unit="시간",
    lang="ko",
    offline_heading="오프라인 사본",
    offline_text=(
        "이 QR 코드에는 서명된 배지 자체가 들어 있어 네트워크 없이도 검증할 수 있습니다"
        "(laurel verify, Learner Credential Wallet, VPQR을 읽는 앱). 누가 발급했고 무엇을 담고 "
        "있는지는 증명하지만, 발급 후 취소되었는지는 알 수 없습니다. 그것은 첫 페이지의 QR 코드로 "
        "확인하세요."
    ),
)


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
    stamp: Stamp | None = None  # set when the credential is revoked, expired or not yet valid
    offline_qr: str | None = None
    """The text of the offline QR code (a VPQR, ``VP1-…``), drawn on a second page when set."""


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
        pdf.set_lang(data.labels.lang)
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

    def shorten(self, text: str, width: float) -> str:
        """``text`` on one line of ``width``, cut with an ellipsis if it is too long."""
        if self.pdf.get_string_width(text) <= width:
            return text
        while text and self.pdf.get_string_width(text + "…") > width:
            text = text[:-1].rstrip()
        return text + "…"

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
        details = [f"{_text(labels.issued)} {format_date(data.issued_on, labels.lang)}"]
        if data.valid_until is not None:
            valid_until = format_date(data.valid_until, labels.lang)
            details.append(f"{_text(labels.valid_until)} {valid_until}")
        if data.learning_hours is not None:
            hours = _hours(data.learning_hours) + _text(labels.hours_unit)
            details.append(f"{_text(labels.learning_hours)}: {hours}")
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
        self.symbol(matrix, left, top, size)
        if http_url(url):  # a PDF link is followed like a web page's: http(s) only
            pdf.link(left, top, size, size, url)
        self.font(8.5, True, _INK)
        pdf.set_xy(left, top + size - module * QUIET_ZONE + 1)
        pdf.cell(size, 4, _text(self.data.labels.scan_to_verify), align=Align.C)

    def symbol(self, matrix: list[list[bool]], left: float, top: float, size: float) -> None:
        pdf = self.pdf
        module = size / len(matrix)
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

    def offline_page(self, text: str) -> None:
        """A second page with the offline QR code (0.9 mm modules at version 25, well within
        a phone camera's reach) and what a check of it can and cannot know."""
        pdf, labels = self.pdf, self.data.labels
        pdf.add_page()
        self.frame()
        self.block(_text(labels.offline_heading), 20.0, 20, True, 1, self.accent)
        size = 120.0
        self.symbol(qr_matrix(text, level=OFFLINE_LEVEL), (PAGE_WIDTH - size) / 2, 36.0, size)
        self.block(_text(labels.offline_text), 160.0, 10, False, 4, _MUTED)

    def stamp(self, stamp: Stamp) -> None:
        """A solid band inside the top of the frame and large translucent diagonal text over the
        body; both stay above the bottom row, so the QR code is never covered."""
        pdf, label = self.pdf, stamp.label
        colour, ink = parse_hex(stamp.color), parse_hex(stamp.ink)
        width, height = PAGE_WIDTH - 2 * _FRAME, _TOP - _FRAME - 1
        pdf.set_fill_color(*colour)
        pdf.rect(_FRAME, _FRAME, width, height, style="F")
        if not label:
            return
        self.font(self.fit(label, width - 10, 13, 7, True), True, ink)
        pdf.set_xy(_FRAME, _FRAME)
        pdf.cell(width, height, self.shorten(label, width - 10), align=Align.C)
        size = self.fit(label, _STAMP_LENGTH, 80, 24, True)
        self.font(size, True, colour)
        text = self.shorten(label, _STAMP_LENGTH)
        cx, cy = PAGE_WIDTH / 2, (_TOP + _BOTTOM_ROW) / 2
        baseline = cy + size * 0.3528 * 0.35  # pt → mm; about half the cap height below the centre
        with pdf.local_context(fill_opacity=_STAMP_OPACITY), pdf.rotation(_STAMP_ANGLE, cx, cy):
            pdf.text(cx - pdf.get_string_width(text) / 2, baseline, text)

    def footer(self) -> None:
        data, labels, pdf = self.data, self.data.labels, self.pdf
        url = data.verify_url
        identifier = f"{_text(labels.credential_id)}: {_text(data.credential_id)}"
        y = PAGE_HEIGHT - 24
        for text, link in ((url, http_url(url) or ""), (identifier, "")):
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
        if self.data.stamp is not None:
            self.stamp(self.data.stamp)
        self.qr(top, min(size, 36.0))  # after the stamp, so nothing can paint over it
        self.signatory(top + size - 4)
        self.footer()
        if self.data.offline_qr:
            self.offline_page(self.data.offline_qr)
        return bytes(self.pdf.output())

    def close(self) -> None:
        """fpdf2 leaves each font file open in fontTools; close them rather than leak them."""
        for font in self.pdf.fonts.values():
            ttfont = getattr(font, "ttfont", None)
            if ttfont is not None:
                ttfont.close()


def certificate_pdf(data: CertificateData) -> bytes:
    """The certificate as a one-page A4 landscape PDF with the bundled font embedded (two
    pages when ``data.offline_qr`` is set: the second carries the offline QR code).

    The same ``data`` gives the same bytes (the PDF creation date is ``issued_on``).
    ``ValueError`` if a logo or badge image cannot be read.
    """
    certificate = _Certificate(data)
    try:
        return certificate.render()
    finally:
        certificate.close()
