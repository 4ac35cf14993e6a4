"""The access log: every view of a person's data (a learner's badges, skills, hours) and every
search for people, by whom and when, for the issuer's owners to read beside the audit chain
(which records changes). Written in the request's own unit of work."""

from __future__ import annotations

from sqlmodel import Session, col, select

from issuer.models import AccessLogEntry, Issuer
from issuer.models.base import utcnow

PER_PAGE = 100


def record(session: Session, issuer_id: int | None, actor: str, action: str, subject: str) -> None:
    """Note that ``actor`` did ``action`` (``credential.view``, ``learner.skills``,
    ``learner.hours``, ``people.search``, …) on ``subject`` (an email, a query)."""
    assert issuer_id is not None
    session.add(
        AccessLogEntry(
            issuer_id=issuer_id,
            actor=actor[:400],
            action=action[:40],
            subject=subject[:400],
            at=utcnow(),
        )
    )


def entries(session: Session, issuer: Issuer, page: int = 1) -> list[AccessLogEntry]:
    query = select(AccessLogEntry).where(AccessLogEntry.issuer_id == issuer.id)
    return list(
        session.exec(
            query.order_by(col(AccessLogEntry.id).desc())
            .offset((max(1, page) - 1) * PER_PAGE)
            .limit(PER_PAGE)
        )
    )
