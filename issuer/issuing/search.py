"""Finding an issuer's credentials for the console: by recipient (part of an email), achievement,
status (``active``, ``revoked``, ``expired``) and issue date, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from issuer.core.errors import BadRequest, NotFound
from issuer.issuing.credentials import parse_id
from issuer.models import Achievement, Credential, Issuer, LearnerEmail
from issuer.models.base import utcnow
from issuer.people.emails import issued_email

STATUSES = ("active", "revoked", "expired")
PER_PAGE = 25


@dataclass(frozen=True)
class Found:
    credential: Credential
    recipient: str
    achievement: str

    @property
    def status(self) -> str:
        return status_of(self.credential)


@dataclass(frozen=True)
class Results:
    items: list[Found]
    total: int
    page: int
    pages: int


def status_of(credential: Credential, now: datetime | None = None) -> str:
    if credential.revoked_at is not None:
        return "revoked"
    if credential.valid_until is not None and credential.valid_until <= (now or utcnow()):
        return "expired"
    return "active"


def _day(value: date, *, end: bool = False) -> datetime:
    moment = datetime.combine(value, time(), tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment


def search(
    session: Session,
    issuer: Issuer,
    *,
    recipient: str | None = None,
    achievement: str | None = None,
    status: str | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
    now: datetime | None = None,
) -> Results:
    """One page of the issuer's credentials matching every filter given."""
    now = now or utcnow()
    query = select(Credential).where(Credential.issuer_id == issuer.id)
    if recipient:
        pattern = "%" + recipient.strip().lower().replace("\\", "").replace("%", "") + "%"
        owners = select(LearnerEmail.learner_id).where(col(LearnerEmail.email).like(pattern))
        query = query.where(col(Credential.learner_id).in_(owners))
    if achievement:
        keys = select(Achievement.id).where(
            Achievement.issuer_id == issuer.id, Achievement.key == achievement
        )
        query = query.where(col(Credential.achievement_id).in_(keys))
    if status == "revoked":
        query = query.where(col(Credential.revoked_at).is_not(None))
    elif status == "expired":
        query = query.where(
            col(Credential.revoked_at).is_(None), col(Credential.valid_until) <= now
        )
    elif status == "active":
        query = query.where(
            col(Credential.revoked_at).is_(None),
            or_(col(Credential.valid_until).is_(None), col(Credential.valid_until) > now),
        )
    elif status:
        raise BadRequest(f"the status is one of {', '.join(STATUSES)}")
    if issued_from:
        query = query.where(col(Credential.issued_at) >= _day(issued_from))
    if issued_to:
        query = query.where(col(Credential.issued_at) < _day(issued_to, end=True))
    total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.exec(
        query.order_by(col(Credential.issued_at).desc(), col(Credential.id))
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return Results([describe(session, row) for row in rows], total, page, pages)


def describe(session: Session, credential: Credential) -> Found:
    """The credential with the address it was issued to (never another address the learner
    joined to her wallet, which only another issuer may know: audit 11), if still hers."""
    hers = session.exec(
        select(LearnerEmail.email)
        .where(LearnerEmail.learner_id == credential.learner_id)
        .order_by(col(LearnerEmail.is_primary).desc(), col(LearnerEmail.id))
    ).all()
    email = issued_email(credential.document, hers)
    subject = credential.document.get("credentialSubject", {})
    name = subject.get("achievement", {}).get("name", "")
    return Found(credential, email or "", str(name))


def find(session: Session, issuer: Issuer, credential_id: str) -> Found:
    """One of the issuer's credentials (404 for any other issuer's, as for none)."""
    found = session.get(Credential, parse_id(credential_id))
    if found is None or found.issuer_id != issuer.id:
        raise NotFound(f"there is no credential {credential_id!r}")
    return describe(session, found)


__all__ = ["STATUSES", "Found", "Results", "describe", "find", "search", "status_of"]
