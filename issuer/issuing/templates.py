"""Loading the catalogue (``badge_templates/``) into an issuer's achievements."""

from __future__ import annotations

from sqlmodel import Session, select

from issuer.catalogue import Catalogue, Language, load_catalogue, to_ob_achievement
from issuer.context import Services
from issuer.core import audit
from issuer.institutes.issuers import get_issuer
from issuer.models import Achievement, IssuerMail
from issuer.models.base import utcnow


def load_templates(
    session: Session,
    services: Services,
    slug: str,
    catalogue: Catalogue | None = None,
    actor: str = "cli",
    language: Language | None = None,
) -> int:
    """Add or update every catalogue achievement for issuer ``slug``; returns how many. Their
    text is in ``language``, by default the issuer's own (the language its emails use, "en"
    unless set to "ko"): a Korean issuer's credentials carry the Korean name, description and
    criteria."""
    catalogue = catalogue or load_catalogue()
    issuer = get_issuer(session, slug)
    assert issuer.id is not None
    language = language or issuer_language(session, issuer.id)
    for template in catalogue.achievements:
        data = to_ob_achievement(
            template,
            catalogue,
            achievement_id="",
            base_url=services.settings.base_url,
            language=language,
        )
        data.pop("id", None)
        row = session.exec(
            select(Achievement).where(
                Achievement.issuer_id == issuer.id, Achievement.key == template.key
            )
        ).first()
        row = row or Achievement(issuer_id=issuer.id, key=template.key, data={})
        row.data, row.validity = data, template.validity
        row.design, row.updated_at = template.design.model_dump(), utcnow()
        session.add(row)
    audit.append(
        session,
        actor,
        "templates.load",
        issuer.did,
        {"achievements": len(catalogue.achievements), "language": language},
    )
    return len(catalogue.achievements)


def issuer_language(session: Session, issuer_id: int) -> Language:
    """The issuer's language: the one chosen for its emails (``issuer_mail``), else English."""
    row = session.get(IssuerMail, issuer_id)
    return "ko" if row is not None and row.language == "ko" else "en"
