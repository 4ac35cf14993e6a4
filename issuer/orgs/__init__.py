"""Organisations across issuers: what the people on an organisation's roster hold, from every
issuer it trusts — its home issuer, other issuers on this Laurel, and credentials from elsewhere
that members shared with it (``SharedCredential``).

``held`` is the one place that answers "which badges count for this organisation": the hours
report, programmes, skills clouds and development plans read it, so every view agrees on what
came from where.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from issuer.core.errors import NotFound
from issuer.models import (
    Achievement,
    Credential,
    Issuer,
    Organisation,
    OrgMember,
    OrgTrust,
    SharedCredential,
)
from issuer.models.base import maybe_time

Source = Literal["here", "shared"]


@dataclass(frozen=True)
class Held:
    """One valid badge a member holds that counts for the organisation."""

    learner_id: int
    source: Source
    """``here``: issued on this Laurel by a trusted issuer; ``shared``: from elsewhere, shared
    by the learner and verified."""
    issuer_ref: str
    issuer_name: str
    credential_ref: str
    achievement_key: str | None
    """The catalogue key of a badge issued here (``None`` for one from elsewhere)."""
    achievement_name: str
    achievement_type: str | None
    hours: float
    valid_from: datetime
    document: dict[str, Any]


def organisation(session: Session, slug: str) -> Organisation:
    found = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if found is None:
        raise NotFound(f"no organisation {slug!r}")
    return found


def of_issuer(session: Session, issuer: Issuer) -> Organisation | None:
    """The organisation ``issuer`` is the home of, if any."""
    return session.exec(select(Organisation).where(Organisation.issuer_id == issuer.id)).first()


def members(session: Session, org: Organisation, *, current: bool = True) -> list[OrgMember]:
    query = select(OrgMember).where(OrgMember.org_id == org.id)
    if current:
        query = query.where(col(OrgMember.left_at).is_(None))
    return list(session.exec(query.order_by(col(OrgMember.id))))


def trusted_here(session: Session, org: Organisation) -> dict[int, Issuer]:
    """The issuers on this Laurel whose badges count: the home issuer and every trusted one that
    agreed (a trust still pending shows nothing of another tenant's badges)."""
    ids = {org.issuer_id} | {
        issuer_id
        for issuer_id in session.exec(
            select(OrgTrust.issuer_id).where(
                OrgTrust.org_id == org.id,
                col(OrgTrust.issuer_id).is_not(None),
                col(OrgTrust.agreed_at).is_not(None),
            )
        )
        if issuer_id is not None
    }
    return {
        issuer.id: issuer
        for issuer in session.exec(select(Issuer).where(col(Issuer.id).in_(sorted(ids))))
        if issuer.id is not None
    }


def held(
    session: Session,
    org: Organisation,
    learners: Iterable[int] | None = None,
    at: datetime | None = None,
) -> list[Held]:
    """The badges valid at ``at`` (default now) that members (or ``learners`` among them) hold
    from the organisation's trusted issuers: issued here by the home issuer or one that agreed
    to the trust, and shared from elsewhere by issuers it still trusts. Hours are the
    credential's ``creditsEarned`` (0 when it has none)."""
    at = at or datetime.now(UTC)
    roster = {m.learner_id for m in members(session, org)}
    wanted = roster if learners is None else roster & set(learners)
    if not wanted:
        return []
    issuers = trusted_here(session, org)
    found: list[Held] = []
    rows = session.exec(
        select(Credential, Achievement)
        .join(Achievement, col(Achievement.id) == col(Credential.achievement_id))
        .where(
            col(Credential.issuer_id).in_(sorted(issuers)),
            col(Credential.learner_id).in_(sorted(wanted)),
            col(Credential.revoked_at).is_(None),
            col(Credential.valid_until).is_(None) | (col(Credential.valid_until) > at),
        )
    )
    for credential, achievement in rows:
        subject = credential.document.get("credentialSubject", {})
        valid_from = maybe_time(credential.document.get("validFrom")) or credential.issued_at
        if valid_from > at:
            continue
        issuer = issuers[credential.issuer_id]
        found.append(
            Held(
                learner_id=credential.learner_id,
                source="here",
                issuer_ref=issuer.did,
                issuer_name=issuer.name,
                credential_ref=f"urn:uuid:{credential.id}",
                achievement_key=achievement.key,
                achievement_name=str(achievement.data.get("name", achievement.key)),
                achievement_type=_text(achievement.data.get("achievementType")),
                hours=_hours(subject.get("creditsEarned")),
                valid_from=valid_from,
                document=credential.document,
            )
        )
    trusted_elsewhere = set(
        session.exec(
            select(OrgTrust.issuer_ref).where(
                OrgTrust.org_id == org.id, col(OrgTrust.issuer_id).is_(None)
            )
        )
    )
    names: dict[str, str] = {
        ref: name
        for ref, name in session.exec(
            select(OrgTrust.issuer_ref, OrgTrust.name).where(OrgTrust.org_id == org.id)
        )
    }
    shared = session.exec(
        select(SharedCredential).where(
            SharedCredential.org_id == org.id,
            col(SharedCredential.learner_id).in_(sorted(wanted)),
            col(SharedCredential.withdrawn_at).is_(None),
            col(SharedCredential.revoked_at).is_(None),
            col(SharedCredential.rejected_at).is_(None),
            col(SharedCredential.valid_from) <= at,
            col(SharedCredential.valid_until).is_(None) | (col(SharedCredential.valid_until) > at),
        )
    )
    for row in shared:
        if row.issuer_ref not in trusted_elsewhere:
            continue
        achievement = row.document.get("credentialSubject", {}).get("achievement", {})
        found.append(
            Held(
                learner_id=row.learner_id,
                source="shared",
                issuer_ref=row.issuer_ref,
                issuer_name=names.get(row.issuer_ref, row.issuer_ref),
                credential_ref=row.credential_ref,
                achievement_key=None,
                achievement_name=row.achievement_name,
                achievement_type=_text(achievement.get("achievementType"))
                if isinstance(achievement, dict)
                else None,
                hours=row.hours or 0.0,
                valid_from=row.valid_from,
                document=row.document,
            )
        )
    return sorted(found, key=lambda h: (h.learner_id, h.valid_from, h.credential_ref))


def _hours(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return max(0.0, float(value))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
