"""Sharing, private by default: per-badge share links that can be revoked and may expire, an
opt-in public profile with the badges the learner chooses, and the "Add to LinkedIn profile"
link. A share token is a capability for one badge's public view; revoking it stops the link,
though not what someone already downloaded through it."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import BadRequest, Conflict, NotFound
from issuer.models import Credential, ImportedCredential, Learner, PublicProfile, ShareLink
from issuer.models.base import aware, parse_time, utcnow
from issuer.wallet import badges as wallet
from issuer.wallet.imports import issued_to_any

MAX_DAYS = 3650
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$")


def create_link(
    session: Session,
    learner_id: int,
    ref: str,
    *,
    label: str | None = None,
    days: int | None = None,
) -> ShareLink:
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise BadRequest(f"a link lasts 1 to {MAX_DAYS} days, or never expires")
    badge = wallet.find(session, learner_id, ref)
    link = ShareLink(
        token=secrets.token_urlsafe(16),
        learner_id=learner_id,
        credential_id=badge.id if isinstance(badge, Credential) else None,
        imported_id=badge.id if isinstance(badge, ImportedCredential) else None,
        label=(label or "").strip()[:100] or None,
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    session.add(link)
    session.flush()
    return link


def revoke_link(session: Session, learner_id: int, link_id: int) -> None:
    link = session.get(ShareLink, link_id)
    if link is None or link.learner_id != learner_id:
        raise NotFound("there is no such link in your wallet")
    if link.revoked_at is not None:
        raise Conflict("this link was already revoked")
    link.revoked_at = utcnow()
    session.add(link)


def links(session: Session, learner_id: int, ref: str) -> list[ShareLink]:
    badge = wallet.find(session, learner_id, ref)
    column = ShareLink.credential_id if isinstance(badge, Credential) else ShareLink.imported_id
    return list(
        session.exec(
            select(ShareLink)
            .where(ShareLink.learner_id == learner_id, column == badge.id)
            .order_by(col(ShareLink.created_at).desc())
        )
    )


def link_state(link: ShareLink) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at is not None and aware(link.expires_at) <= utcnow():
        return "expired"
    return "active"


def listing(session: Session, services: Services, learner_id: int) -> list[dict[str, Any]]:
    rows = session.exec(select(ShareLink).where(ShareLink.learner_id == learner_id))
    return [
        {
            "url": share_url(services, link),
            "badge": f"c-{link.credential_id}" if link.credential_id else f"i-{link.imported_id}",
            "label": link.label,
            "state": link_state(link),
            "views": link.views,
            "createdAt": link.created_at.isoformat(),
            "expiresAt": link.expires_at.isoformat() if link.expires_at else None,
        }
        for link in rows
    ]


def share_url(services: Services, link: ShareLink) -> str:
    return f"{services.settings.base_url}/s/{link.token}"


@dataclass(frozen=True)
class Shared:
    link: ShareLink
    credential: Credential | None
    imported: ImportedCredential | None


def open_link(session: Session, token: str, *, count: bool = True) -> Shared:
    """What a share link shows; ``NotFound`` once it is revoked or expired (said plainly)."""
    if not token or len(token) > 64:
        raise NotFound("there is no such share link")
    link = session.exec(select(ShareLink).where(ShareLink.token == token)).first()
    if link is None:
        raise NotFound("there is no such share link")
    state = link_state(link)
    if state != "active":
        raise NotFound(f"this share link was {state} by the badge's holder")
    if count:
        session.execute(
            update(ShareLink).where(col(ShareLink.id) == link.id).values(views=link.views + 1)
        )
    credential = session.get(Credential, link.credential_id) if link.credential_id else None
    imported = session.get(ImportedCredential, link.imported_id) if link.imported_id else None
    return Shared(link, credential, imported)


def linkedin_url(session: Session, services: Services, learner_id: int, ref: str) -> str:
    """LinkedIn's "Add to profile" form, filled with the certification's name, organisation,
    issue (and expiry) month, URL and id. The URL is a share link labelled LinkedIn (made once),
    so the learner can withdraw it later."""
    credential = wallet.issued_credential(session, learner_id, ref)
    existing = [
        link
        for link in links(session, learner_id, ref)
        if link.label == "LinkedIn" and link_state(link) == "active"
    ]
    link = existing[0] if existing else create_link(session, learner_id, ref, label="LinkedIn")
    document = credential.document
    issued = parse_time(document["validFrom"])
    params: dict[str, Any] = {
        "startTask": "CERTIFICATION_NAME",
        "name": document["credentialSubject"]["achievement"]["name"],
        "organizationName": document["issuer"].get("name", ""),
        "issueYear": issued.year,
        "issueMonth": issued.month,
    }
    if document.get("validUntil"):
        until = parse_time(document["validUntil"])
        params |= {"expirationYear": until.year, "expirationMonth": until.month}
    params |= {"certUrl": share_url(services, link), "certId": document["id"]}
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


def get_profile(session: Session, learner_id: int) -> PublicProfile | None:
    return session.exec(select(PublicProfile).where(PublicProfile.learner_id == learner_id)).first()


def save_profile(
    session: Session,
    learner_id: int,
    *,
    slug: str,
    display_name: str,
    headline: str | None,
    published: bool,
    badges: list[str],
) -> PublicProfile:
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise BadRequest("the address has 3 to 64 letters, digits or dashes, no dash at either end")
    display_name = " ".join(display_name.split())
    if not 1 <= len(display_name) <= 200:
        raise BadRequest("the name shown has 1 to 200 characters")
    for ref in badges:
        _showable(session, learner_id, ref)
    taken = session.exec(select(PublicProfile).where(PublicProfile.slug == slug)).first()
    if taken is not None and taken.learner_id != learner_id:
        raise Conflict(f"the address {slug!r} is taken; choose another")
    profile = get_profile(session, learner_id) or PublicProfile(
        learner_id=learner_id, slug=slug, display_name=display_name
    )
    profile.slug, profile.display_name = slug, display_name
    profile.headline = (headline or "").strip()[:300] or None
    profile.published = published
    profile.badges = list(dict.fromkeys(badges))
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    return profile


def toggle_on_profile(session: Session, learner_id: int, ref: str, shown: bool) -> None:
    """Add a badge to the profile (creating an unpublished profile if needed) or remove it."""
    if shown:
        _showable(session, learner_id, ref)
    else:
        wallet.find(session, learner_id, ref)
    profile = get_profile(session, learner_id)
    if profile is None:
        learner = session.get(Learner, learner_id)
        profile = PublicProfile(
            learner_id=learner_id,
            slug=f"learner-{secrets.token_hex(4)}",
            display_name=(learner.name if learner and learner.name else "Learner"),
        )
    chosen = [r for r in profile.badges if r != ref] + ([ref] if shown else [])
    profile.badges = chosen
    profile.updated_at = utcnow()
    session.add(profile)


def public_profile(session: Session, slug: str) -> tuple[PublicProfile, list[wallet.WalletBadge]]:
    """A published profile and its chosen badges that are still valid and hers: an import
    issued to an email she has not confirmed (now) is not shown, whatever was chosen."""
    profile = session.exec(select(PublicProfile).where(PublicProfile.slug == slug)).first()
    if profile is None or not profile.published:
        raise NotFound("there is no public profile at this address")
    chosen = set(profile.badges)
    shown = [
        b
        for b in wallet.badges(session, profile.learner_id)
        if b.ref in chosen and b.usable and b.yours
    ]
    return profile, shown


def _showable(session: Session, learner_id: int, ref: str) -> None:
    """``BadRequest`` unless the learner's badge ``ref`` may go on her public profile: issued
    here to her, or imported and issued to one of her confirmed emails (not an Open Badges 2.0
    assertion, which is never verified)."""
    badge = wallet.find(session, learner_id, ref)
    if isinstance(badge, Credential):
        return
    if badge.legacy:
        raise BadRequest(
            f"{badge.name!r} is an Open Badges 2.0 badge, which cannot be verified, so it "
            "cannot go on your public profile"
        )
    if not issued_to_any(badge.document, wallet.emails(session, learner_id)):
        raise BadRequest(
            f"{badge.name!r} was not issued to any of your confirmed email addresses, so it "
            "cannot go on your public profile; add and confirm the email it was issued to"
        )
