"""Issuing credentials: one at a time (with ``Idempotency-Key``) or in bulk.

Order of work, so that nothing half-issues and no status index is ever reused:

1. validate the request and resolve the learner (its own small transaction, race-safe);
2. allocate a status index (committed by itself: a crash later leaves a gap, never a reuse);
3. build and sign the credential (Data Integrity ``eddsa-rdfc-2022``);
4. one transaction inserts the credential and its audit entry; a concurrent request with the same
   idempotency key loses on the unique constraint and returns the winner's credential.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from issuer.core import audit
from issuer.core.context import Services
from issuer.core.db import transaction, writer
from issuer.core.errors import BadRequest, Conflict
from issuer.crypto.signing import sign_data_integrity
from issuer.institutes.issuers import get_issuer, profile, signing_key
from issuer.issuing import statuslists
from issuer.issuing.achievements import get_achievement, ob_achievement
from issuer.models import Achievement, Credential, Issuer, Learner, LearnerEmail
from issuer.models.base import utcnow
from issuer.people import groups
from issuer.schemas import IssueRequest
from issuer.skills.cloud import skill_rows, store_skills

OB_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


@dataclass(frozen=True)
class Issued:
    credential: Credential
    created: bool


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def add_duration(start: datetime, duration: str) -> datetime:
    """``start`` plus an ISO 8601 period of years, months and days (``P3Y``, ``P1Y6M``)."""
    match = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?", duration)
    if not match or duration == "P":
        raise BadRequest(f"{duration!r} is not a period like P3Y")
    years, months, days = (int(part or 0) for part in match.groups())
    month_index = start.month - 1 + months + 12 * years
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(
        start.day,
        [
            31,
            29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][month - 1],
    )
    return start.replace(year=year, month=month, day=day) + timedelta(days=days)


def request_hash(request: IssueRequest) -> str:
    """What an idempotency key stands for: the request, without the learner's groups (HR data
    that never enters the credential, and absent from requests hashed before it existed)."""
    data = request.model_dump(mode="json", exclude={"recipient": {"groups"}})
    body = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def resolve_learner(services: Services, email: str, name: str | None, did: str | None) -> Learner:
    """The learner who owns ``email`` (created on first sight). Safe against concurrent creation."""
    for _ in range(3):
        with Session(writer(services.engine), expire_on_commit=False) as session:
            found = session.exec(
                select(Learner).join(LearnerEmail).where(LearnerEmail.email == email)
            ).first()
            if found is not None:
                return found
            learner = Learner(subject_id=did or f"urn:uuid:{uuid.uuid4()}", name=name, did=did)
            session.add(learner)
            try:
                session.flush()
                assert learner.id is not None
                session.add(LearnerEmail(learner_id=learner.id, email=email, is_primary=True))
                session.commit()
                return learner
            except IntegrityError:
                session.rollback()
    raise Conflict(f"the learner record for {email} is being changed; retry")


def build_credential(
    services: Services,
    issuer: Issuer,
    achievement: Achievement,
    request: IssueRequest,
    learner: Learner,
    status: dict[str, Any],
    credential_id: str,
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential (DESIGN.md, "Standards profile")."""
    start = request.validFrom or utcnow()
    end = request.validUntil or (
        add_duration(start, achievement.validity) if achievement.validity else None
    )
    if end is not None and end <= start:
        raise BadRequest("validUntil must be after validFrom")
    salt = secrets.token_hex(16)
    identifiers: list[dict[str, Any]] = [
        {
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            "salt": salt,
            "identityHash": "sha256$"
            + hashlib.sha256((request.recipient.email + salt).encode("utf-8")).hexdigest(),
        }
    ]
    if request.recipient.name:
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": request.recipient.name,
            }
        )
    subject: dict[str, Any] = {
        "id": learner.did or learner.subject_id,
        "type": ["AchievementSubject"],
        "identifier": identifiers,
        "achievement": ob_achievement(services, issuer, achievement),
    }
    if request.creditsEarned is not None:
        subject["creditsEarned"] = request.creditsEarned
    elif "creditsAvailable" in achievement.data:
        subject["creditsEarned"] = achievement.data["creditsAvailable"]
    if request.narrative:
        subject["narrative"] = request.narrative
    if request.results:
        subject["result"] = [
            {"type": ["Result"], **r.model_dump(exclude_none=True)} for r in request.results
        ]
    credential: dict[str, Any] = {
        "@context": list(OB_CONTEXTS),
        "id": f"urn:uuid:{credential_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement.data["name"],
        "issuer": profile(issuer),
        "validFrom": iso(start),
        "credentialSubject": subject,
        "credentialStatus": status,
    }
    if end is not None:
        credential["validUntil"] = iso(end)
    if request.evidence:
        credential["evidence"] = [
            {"type": ["Evidence"], **e.model_dump(exclude_none=True)} for e in request.evidence
        ]
    return credential


def find_by_key(session: Session, issuer_id: int, key: str) -> Credential | None:
    return session.exec(
        select(Credential).where(
            Credential.issuer_id == issuer_id, Credential.idempotency_key == key
        )
    ).first()


def _replay(existing: Credential, digest: str) -> Issued:
    if existing.request_hash != digest:
        raise Conflict("this Idempotency-Key was used for a different request")
    return Issued(existing, created=False)


def issue(
    services: Services,
    slug: str,
    request: IssueRequest,
    *,
    idempotency_key: str | None = None,
    actor: str = "cli",
    check_programs: bool = True,
) -> Issued:
    digest = request_hash(request)
    with Session(services.engine, expire_on_commit=False) as session:
        issuer = get_issuer(session, slug)
        assert issuer.id is not None
        achievement = get_achievement(session, issuer, request.achievement)
        key_row = signing_key(session, issuer, "di")
        if idempotency_key and (existing := find_by_key(session, issuer.id, idempotency_key)):
            return _replay(existing, digest)
    learner = resolve_learner(
        services, request.recipient.email, request.recipient.name, request.recipient.did
    )
    if request.recipient.groups:
        with transaction(services.engine) as session:
            assert learner.id is not None
            groups.add(session, issuer.id, ((learner.id, g) for g in request.recipient.groups))
    [(list_id, index)] = statuslists.allocate(services, issuer.id)
    credential_id = str(uuid.uuid4())
    document = build_credential(
        services,
        issuer,
        achievement,
        request,
        learner,
        statuslists.entry(services, list_id, index),
        credential_id,
    )
    signed = sign_data_integrity(document, services.keystore.load(key_row), key_row.kid)  # type: ignore[arg-type]
    assert achievement.id is not None and learner.id is not None
    row = Credential(
        id=credential_id,
        issuer_id=issuer.id,
        achievement_id=achievement.id,
        learner_id=learner.id,
        idempotency_key=idempotency_key,
        request_hash=digest,
        status_list_id=list_id,
        status_index=index,
        document=signed,
        valid_until=_parse(signed.get("validUntil")),
    )
    try:
        with transaction(services.engine) as session:
            session.add(row)
            session.flush()
            store_skills(session, [skill_rows(row.id, issuer.id, learner.id, signed)])
            audit.append(
                session,
                actor,
                "credential.issue",
                signed["id"],
                {"issuer": slug, "achievement": request.achievement, "status": [list_id, index]},
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        with Session(services.engine, expire_on_commit=False) as session:
            existing = find_by_key(session, issuer.id, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, digest)
    if check_programs:
        from issuer.issuing.programs import after_issuance

        after_issuance(services, slug, request.achievement, learner.id)
    return Issued(row, created=True)


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
