"""Reading, listing and revoking issued credentials."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import audit
from issuer.core.errors import AlreadyRevoked, BadRequest, NotFound
from issuer.crypto.signing import sign_jwt
from issuer.institutes.issuers import signing_key
from issuer.issuing import statuslists
from issuer.models import Achievement, ApiKey, Credential, CredentialSkill, Issuer, LearnerEmail
from issuer.models.base import aware, utcnow
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
        owner = select(LearnerEmail.learner_id).where(LearnerEmail.email == normalized)
        query = query.where(col(Credential.learner_id).in_(owner))
    if achievement is not None:
        keys = select(Achievement.id).where(
            Achievement.issuer_id == issuer_id, Achievement.key == achievement
        )
        query = query.where(col(Credential.achievement_id).in_(keys))
    if status == "revoked":
        query = query.where(col(Credential.revoked_at).is_not(None))
    elif status == "active":
        query = query.where(col(Credential.revoked_at).is_(None))
    elif status is not None:
        raise BadRequest("status is 'active' or 'revoked'")
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
    an audit entry, all or nothing."""
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
    return credential


def summary(credential: Credential) -> dict[str, Any]:
    document = credential.document
    return {
        "id": document["id"],
        "achievement": document["credentialSubject"]["achievement"]["name"],
        "validFrom": document.get("validFrom"),
        "validUntil": document.get("validUntil"),
        "status": "revoked" if credential.revoked_at else "active",
        "revocationReason": credential.revocation_reason,
    }
