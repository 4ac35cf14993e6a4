"""The unsigned OpenBadgeCredential of an issue request (DESIGN.md, "Standards profile"), and
what an idempotency key stands for."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from issuer.context import Services
from issuer.core.errors import BadRequest
from issuer.institutes.issuers import profile
from issuer.issuing.achievements import ob_achievement
from issuer.models import Achievement, Issuer
from issuer.models.base import iso, utcnow
from issuer.people.learners import LearnerRef
from issuer.schemas import IssueRequest

OB_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


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


def build_credential(
    services: Services,
    issuer: Issuer,
    achievement: Achievement,
    request: IssueRequest,
    learner: LearnerRef,
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
