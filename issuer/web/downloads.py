"""What a credential's page offers for download, as this instance renders it: the baked PNG and
SVG badges and the printable certificate — each stamped with the state and date while the
credential is revoked, expired or not yet valid, so such a badge never yields a clean artifact."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from sqlmodel import Session

from issuer.artifacts.stamps import REVOKED_COLOR, Stamp, stamp_png, stamp_svg
from issuer.context import Services
from issuer.models import Achievement, Credential, Issuer
from issuer.verification.verdicts import stored_state
from verifier.baking import bake_png, bake_svg
from verifier.summary import summarize

_STAMP_WORDS = {
    "revoked": ("REVOKED {date}", "취소됨 {date}"),
    "expired": ("EXPIRED {date}", "만료됨 {date}"),
    "not-yet-valid": ("NOT VALID BEFORE {date}", "{date}부터 유효"),
}
_STAMP_COLOURS = {"revoked": REVOKED_COLOR, "expired": "#8A5300", "not-yet-valid": "#8A5300"}
# What may not stand as itself in an XML CDATA section: "]]>" (which would end it) and what is
# not an XML 1.0 character (controls, lone surrogates, U+FFFE/U+FFFF).
_NOT_IN_CDATA = re.compile("]]>|[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def verification_url(services: Services, credential_id: str) -> str:
    return f"{services.settings.base_url}/v/{credential_id}"


def embeddable_json(document: dict[str, Any]) -> str:
    """``document`` as JSON that can be baked into an SVG's CDATA section or a PNG's text chunk
    as it is: the same JSON value, with ``]]>`` written ``]]\\u003e`` and any character XML
    cannot hold as a ``\\u`` escape (both only occur inside JSON strings, where the escapes
    mean the same characters)."""

    def escape(match: re.Match[str]) -> str:
        found = match.group(0)
        if found == "]]>":
            return "]]\\u003e"
        return "".join(f"\\u{unit:04x}" for unit in _utf16(found))

    return _NOT_IN_CDATA.sub(escape, json.dumps(document, ensure_ascii=False))


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def state_stamp(row: Credential, lang: str) -> Stamp | None:
    """The stamp a credential's artifacts carry while it is revoked, expired or not yet valid."""
    state = stored_state(row.revoked_at, row.document.get("validFrom"), row.valid_until)
    if state is None:
        return None
    kind, day = state
    english, korean = _STAMP_WORDS[kind]
    text = (korean if lang == "ko" else english).format(date=day.isoformat())
    return Stamp(text, _STAMP_COLOURS[kind])


def _badge_inputs(session: Session, row: Credential) -> dict[str, Any]:
    achievement = session.get(Achievement, row.achievement_id)
    document = row.document
    return {
        "design": achievement.design if achievement else {},
        "title": document["credentialSubject"]["achievement"]["name"],
        "issuer_name": document["issuer"].get("name", ""),
        "year": int(str(document.get("validFrom", ""))[:4] or date.today().year),
    }


def badge_png(session: Session, row: Credential, lang: str) -> bytes:
    """The badge picture with the credential baked in (``iTXt`` ``openbadgecredential``)."""
    from issuer.artifacts.images import render_badge_png_cached

    inputs = _badge_inputs(session, row)
    image = render_badge_png_cached(
        inputs["design"],
        title=inputs["title"],
        issuer_name=inputs["issuer_name"],
        year=inputs["year"],
    )
    stamp = state_stamp(row, lang)
    if stamp is not None:
        image = stamp_png(image, stamp)
    return bake_png(image, embeddable_json(row.document))


def badge_svg(session: Session, row: Credential, lang: str) -> bytes:
    """The SVG badge with the credential in ``<openbadges:credential>``."""
    from issuer.artifacts.images import render_badge_svg_cached

    inputs = _badge_inputs(session, row)
    image = render_badge_svg_cached(
        inputs["design"],
        title=inputs["title"],
        issuer_name=inputs["issuer_name"],
        year=inputs["year"],
    )
    stamp = state_stamp(row, lang)
    if stamp is not None:
        image = stamp_svg(image, stamp)
    return bake_svg(image, embeddable_json(row.document), is_jws=False)


def certificate_pdf(session: Session, services: Services, row: Credential, lang: str) -> bytes:
    """The printable certificate, in ``lang``."""
    from issuer.artifacts.certificate import (
        KOREAN_LABELS,
        CertificateData,
        CertificateLabels,
    )
    from issuer.artifacts.certificate import certificate_pdf as render
    from issuer.artifacts.images import render_badge_png_cached
    from issuer.issuing.qr_edition import vpqr_text

    issuer = session.get(Issuer, row.issuer_id)
    assert issuer is not None
    document = row.document
    inputs = _badge_inputs(session, row)
    stamp = state_stamp(row, lang)
    badge = render_badge_png_cached(
        inputs["design"],
        title=inputs["title"],
        issuer_name=inputs["issuer_name"],
        year=inputs["year"],
    )
    until = document.get("validUntil")
    data = CertificateData(
        issuer_name=issuer.name,
        issuer_logo_png=None,
        learner_name=summarize(document, "json").recipient_name,
        achievement_name=inputs["title"],
        achievement_description=document["credentialSubject"]["achievement"].get("description"),
        issued_on=date.fromisoformat(document["validFrom"][:10]),
        valid_until=date.fromisoformat(until[:10]) if until else None,
        learning_hours=document["credentialSubject"].get("creditsEarned"),
        signatory_name=issuer.signatory_name,
        signatory_title=issuer.signatory_title,
        credential_id=document["id"],
        verify_url=verification_url(services, row.id),
        badge_png=stamp_png(badge, stamp) if stamp else badge,
        labels=KOREAN_LABELS if lang == "ko" else CertificateLabels(),
        stamp=stamp,
        offline_qr=vpqr_text(session, services, row, "B"),
    )
    return render(data)
