"""Per-learner views for an issuer: talent search, programme progress and learning hours.

Learning hours: per learner and calendar year, the sum of ``creditsEarned`` of valid credentials
whose ``validFrom`` falls in that year, against an annual requirement (default 80 hours, the lower
bound of the 80–100 hours of Korea's Ongoing Learning System). Each hour counts once: badges that
record completion of learning counted in other badges (programme awards, the annual badge —
``Catalogue.completion_keys``) add none, also those issued before their credentials stopped
carrying hours.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import BadRequest, NotFound
from issuer.core.spreadsheet import record
from issuer.models import (
    Achievement,
    Credential,
    Issuer,
    LearnerEmail,
)
from issuer.models.base import parse_time
from issuer.people.emails import known_addresses
from issuer.schemas import normalize_email
from issuer.skills.cloud import learner_emails, profiles

DEFAULT_ANNUAL_HOURS = 80.0


def talent(
    session: Session, issuer: Issuer, skill: str, minimum: int, framework: str | None = None
) -> list[dict[str, Any]]:
    """Learners holding ``skill`` at level ≥ ``minimum``, strongest first."""
    found = []
    people = profiles(session, issuer, codes=[skill])
    emails = learner_emails(session, issuer, people)
    for learner, skills in people.items():
        for (fw, code), entry in skills.items():
            named = any(  # any of the skill's codes (equivalent ones are merged)
                c == skill and (framework is None or f == framework)
                for f, c in entry.codes or ((fw, code),)
            )
            if named and entry.level >= minimum:
                found.append(
                    {
                        "email": emails.get(learner),
                        "framework": fw,
                        "code": code,
                        "level": entry.level,
                        "basis": entry.basis,
                        "weight": round(entry.weight, 3),
                    }
                )
    return sorted(found, key=lambda item: (-item["weight"], str(item["email"])))


def learner_of(session: Session, issuer: Issuer, email: str) -> int:
    """The learner with ``email`` among ``issuer``'s people: those it issued a badge to and those
    on the roster of the organisation it runs, by an address the issuer itself used
    (``credentials.known_addresses``). Anyone else — unknown, known only to other issuers on this
    Laurel, or asked for by another address she joined to her wallet — is the same 404, so an
    issuer's key cannot learn who the others know nor which addresses are one person."""
    assert issuer.id is not None
    try:
        normalized = normalize_email(email)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    owner = session.exec(
        select(LearnerEmail.learner_id).where(LearnerEmail.email == normalized)
    ).first()
    if owner is None or normalized not in known_addresses(session, issuer.id, [owner]).get(
        owner, []
    ):
        raise NotFound(f"no learner of this issuer has the email {normalized}")
    return owner


def program_progress(
    session: Session, services: Services, issuer: Issuer, email: str
) -> list[dict[str, Any]]:
    from issuer.programs.awards import _held, progress
    from issuer.skills.frameworks import catalogue

    held = _held(session, issuer, learner_of(session, issuer, email))
    programs = catalogue(services).programs
    awards = {p.id: p.award for p in programs}
    return [progress(p, held, awards) for p in programs]


def hours(
    session: Session,
    issuer: Issuer,
    year: int,
    required: float = DEFAULT_ANNUAL_HOURS,
    completion: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Hours earned per learner in ``year`` (1900–9999, as credentials' dates) against
    ``required``; credentials of the achievements ``completion`` (keys) add none."""
    if not 1900 <= year <= 9999:
        raise BadRequest("the year lies between 1900 and 9999")
    now = datetime.now(UTC)
    totals: dict[int, float] = {}
    rows = session.exec(
        select(Credential)
        .join(Achievement, col(Achievement.id) == col(Credential.achievement_id))
        .where(
            Credential.issuer_id == issuer.id,
            col(Credential.revoked_at).is_(None),
            col(Credential.valid_until).is_(None) | (col(Credential.valid_until) > now),
            col(Achievement.key).not_in(sorted(completion)),
        )
    )
    for credential in rows:
        if parse_time(str(credential.document["validFrom"])).year != year:
            continue
        earned = credential.document["credentialSubject"].get("creditsEarned") or 0
        totals[credential.learner_id] = totals.get(credential.learner_id, 0.0) + float(earned)
    emails = learner_emails(session, issuer, totals)
    report = [
        {
            "email": emails.get(learner),
            "year": year,
            "hours": round(total, 2),
            "required": required,
            "met": total >= required,
            "remaining": round(max(0.0, required - total), 2),
        }
        for learner, total in totals.items()
    ]
    return sorted(report, key=lambda item: str(item["email"]))


def hours_csv(report: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["email", "year", "hours", "required", "met", "remaining"]
    )
    writer.writeheader()
    writer.writerows(record(row) for row in report)
    return buffer.getvalue()
