"""Reading, listing and revoking issued credentials."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import audit
from issuer.core.effects import PROGRAM_RECHECK, emit
from issuer.core.errors import AlreadyRevoked, BadRequest, NotFound
from issuer.crypto.signing import sign_jwt
from issuer.institutes.issuers import signing_key
from issuer.issuing import notices, statuslists
from issuer.models import (
    Achievement,
    ApiKey,
    Credential,
    CredentialSkill,
    Issuer,
    LearnerEmail,
    Organisation,
    OrgMember,
)
from issuer.models.base import aware, utcnow
from issuer.people.emails import issued_email, known_addresses, known_emails
from issuer.schemas import normalize_email


def parse_id(value: str) -> str:
    """The UUID of ``urn:uuid:…`` or a bare UUID; 404 for anything else."""
    raw = value.removeprefix("urn:uuid:")
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise NotFound(f"there is no credential {value!r}") from None


def get_credential(
    session: Session, credential_id: str, api_key: ApiKey | None = None, *, for_update: bool = False
) -> Credential:
    """The credential; with ``api_key``, only if it belongs to the key's issuer (else 404)."""
    query = select(Credential).where(Credential.id == parse_id(credential_id))
    found = session.exec(query.with_for_update() if for_update else query).first()
    if found is None or (api_key is not None and found.issuer_id != api_key.issuer_id):
        raise NotFound(f"there is no credential {credential_id!r}")
    return found


def as_jwt(session: Session, services: Services, credential: Credential) -> str:
    """The VC-JWT form (RS256 with the issuer's JWT key), signed on first request and kept (the
    caller's unit of work writes it)."""
    if credential.jwt:
        return credential.jwt
    issuer = session.get(Issuer, credential.issuer_id)
    assert issuer is not None
    key_row = signing_key(session, issuer, "jwt")
    credential.jwt = sign_jwt(
        credential.document, services.keystore.load(key_row), kid=key_row.kid, alg=key_row.alg
    )
    session.add(credential)
    return credential.jwt


@dataclass(frozen=True)
class Page:
    items: list[Credential]
    total: int


def list_credentials(
    session: Session,
    issuer_id: int,
    *,
    email: str | None = None,
    achievement: str | None = None,
    status: str | None = None,
    issued_after: datetime | None = None,
    issued_before: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    query = select(Credential).where(Credential.issuer_id == issuer_id)
    if email is not None:
        try:
            normalized = normalize_email(email)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        # only by an address this issuer used: another she joined to her wallet finds nothing
        owner = session.exec(
            select(LearnerEmail.learner_id).where(LearnerEmail.email == normalized)
        ).first()
        known = known_addresses(session, issuer_id, [owner] if owner is not None else [])
        query = query.where(
            Credential.learner_id == (owner if normalized in known.get(owner or 0, []) else -1)
        )
    if achievement is not None:
        keys = select(Achievement.id).where(
            Achievement.issuer_id == issuer_id, Achievement.key == achievement
        )
        query = query.where(col(Credential.achievement_id).in_(keys))
    query = _with_status(query, status, utcnow())
    if issued_after is not None:  # a time without a zone is UTC, on every database alike
        query = query.where(Credential.issued_at >= aware(issued_after))
    if issued_before is not None:
        query = query.where(Credential.issued_at < aware(issued_before))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    items = session.exec(
        query.order_by(col(Credential.issued_at).desc(), col(Credential.id))
        .offset(offset)
        .limit(limit)
    )
    return Page(list(items), int(total))


def revoke(
    session: Session, credential_id: str, reason: str, api_key: ApiKey | None, actor: str = "cli"
) -> Credential:
    """Revoke in the caller's unit of work: the status bit, the credential, its skill rows and
    an audit entry, all or nothing; after the commit, the programme awards it counted towards
    are checked again (``programs.recheck``)."""
    credential = get_credential(session, credential_id, api_key, for_update=True)
    if credential.revoked_at is not None:
        raise AlreadyRevoked(
            f"the credential was already revoked on {credential.revoked_at.date().isoformat()}"
        )
    statuslists.set_revoked(session, credential.status_list_id, credential.status_index)
    credential.revoked_at = utcnow()
    credential.revocation_reason = reason
    session.add(credential)
    session.execute(
        update(CredentialSkill)
        .where(col(CredentialSkill.credential_id) == credential.id)
        .values(revoked_at=credential.revoked_at)
    )
    audit.append(
        session, actor, "credential.revoke", f"urn:uuid:{credential.id}", {"reason": reason}
    )
    notices.revoked(session, credential)
    # a programme award it helped earn is checked again (issuer.programs.awards.recheck)
    emit(session, PROGRAM_RECHECK, {"credential": credential.id})
    return credential


STATUSES = ("active", "expired", "revoked")


def _with_status(query: Any, status: str | None, now: datetime) -> Any:
    """``active``: neither revoked nor past its ``validUntil``; ``expired``: past it and not
    revoked; ``revoked``: revoked (whether or not it has expired since)."""
    live = col(Credential.revoked_at).is_(None)
    ended = col(Credential.valid_until).is_not(None) & (col(Credential.valid_until) <= now)
    if status == "revoked":
        return query.where(col(Credential.revoked_at).is_not(None))
    if status == "active":
        return query.where(live, ~ended)
    if status == "expired":
        return query.where(live, ended)
    if status is not None:
        raise BadRequest("status is 'active', 'expired' or 'revoked'")
    return query


def status_of(credential: Credential, now: datetime | None = None) -> str:
    if credential.revoked_at is not None:
        return "revoked"
    until = credential.valid_until
    if until is not None and aware(until) <= (now or utcnow()):
        return "expired"
    return "active"


@dataclass(frozen=True)
class Recipient:
    """A learner as one issuer knows them: the email that issuer used (``known_addresses``: the
    one its credential was issued to, else its roster's), and the name that issuer gave
    (``name_in`` its credential, else ``roster_names``), never ``Learner.name``: that is set by
    whichever issuer first named the email (or by the learner), so another issuer's text."""

    email: str | None
    name: str | None

    def public(self) -> dict[str, Any]:
        return {"email": self.email, "name": self.name}


def name_in(document: dict[str, Any]) -> str | None:
    """The recipient's name a credential's issuer signed: its unhashed ``name`` IdentityObject
    (``issuer.issuing.documents.build_credential``)."""
    subject = document.get("credentialSubject")
    found = subject.get("identifier") if isinstance(subject, dict) else None
    for item in found if isinstance(found, list) else []:
        if (
            isinstance(item, dict)
            and item.get("identityType") == "name"
            and item.get("hashed") is False
            and isinstance(item.get("identityHash"), str)
            and item["identityHash"].strip()
        ):
            return str(item["identityHash"])
    return None


def primary_emails(session: Session, learner_ids: Iterable[int]) -> dict[int, str]:
    """Each learner's primary email (none for a deleted account): for mail to the learner
    herself, never for what an issuer or organisation is shown (``known_emails``)."""
    wanted = sorted(set(learner_ids))
    if not wanted:
        return {}
    return dict(
        session.exec(
            select(LearnerEmail.learner_id, LearnerEmail.email).where(
                col(LearnerEmail.learner_id).in_(wanted), col(LearnerEmail.is_primary).is_(True)
            )
        ).all()
    )


def roster_names(session: Session, issuer_id: int, learner_ids: Iterable[int]) -> dict[int, str]:
    """Each learner's name on the roster of the organisation run from this issuer (also after
    they left it)."""
    wanted = sorted(set(learner_ids))
    if not wanted:
        return {}
    rows = session.exec(
        select(OrgMember.learner_id, OrgMember.name)
        .join(Organisation, col(Organisation.id) == col(OrgMember.org_id))
        .where(
            Organisation.issuer_id == issuer_id,
            col(OrgMember.learner_id).in_(wanted),
            col(OrgMember.name).is_not(None),
        )
    )
    return {learner: str(name) for learner, name in rows if str(name).strip()}


def recipients(
    session: Session, issuer_id: int, rows: Iterable[Credential]
) -> dict[str, Recipient]:
    """Who holds each of the issuer's credentials ``rows``, by credential id (``Recipient``)."""
    rows = list(rows)
    assert all(c.issuer_id == issuer_id for c in rows)
    named = {c.id: name_in(c.document) for c in rows}
    known = known_addresses(session, issuer_id, (c.learner_id for c in rows))
    roster = roster_names(session, issuer_id, (c.learner_id for c in rows if not named[c.id]))
    found = {}
    for c in rows:
        emails = known.get(c.learner_id, [])
        email = issued_email(c.document, emails) or next(iter(emails), None)
        found[c.id] = Recipient(email, named[c.id] or roster.get(c.learner_id))
    return found


def recipient(
    session: Session, issuer_id: int, learner_id: int, rows: Iterable[Credential] = ()
) -> Recipient:
    """One learner as the issuer knows them: the name the last of its credentials ``rows`` (about
    this learner) that signs one gives, else its roster's (``Recipient``)."""
    names = [name_in(c.document) for c in rows if c.learner_id == learner_id]
    name = next((n for n in reversed(names) if n), None)
    if name is None:
        name = roster_names(session, issuer_id, [learner_id]).get(learner_id)
    return Recipient(known_emails(session, issuer_id, [learner_id]).get(learner_id), name)


def summary(
    credential: Credential, recipient: Recipient | None = None, base_url: str | None = None
) -> dict[str, Any]:
    """A credential as lists show it; with ``recipient`` and ``base_url``, also who holds it
    and its public page (``/v/{id}``)."""
    document = credential.document
    found = {
        "id": document["id"],
        "achievement": document["credentialSubject"]["achievement"]["name"],
        "validFrom": document.get("validFrom"),
        "validUntil": document.get("validUntil"),
        "status": status_of(credential),
        "revocationReason": credential.revocation_reason,
    }
    if recipient is not None:
        found["recipient"] = recipient.public()
    if base_url is not None:
        found["verifyUrl"] = f"{base_url}/v/{credential.id}"
    return found
