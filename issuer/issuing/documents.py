"""The unsigned OpenBadgeCredential of an issue request (DESIGN.md, "Standards profile"), and
what an idempotency key stands for.

Every document is checked against the OB 3.0 JSON Schema before it is signed, with the verifier's
own rules (``verifier.schema``): a credential the verifier would reject is refused (422) instead,
before it takes a status index. Valid documents pass a compiled copy of the same bundled schema
(jsonschema-rs, microseconds); only one it finds invalid goes through the verifier's validator,
which decides and explains.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs

from issuer.context import Services
from issuer.core.errors import BadRequest, LaurelError
from issuer.institutes.issuers import profile
from issuer.issuing.achievements import ob_achievement
from issuer.issuing.results import checked_results
from issuer.issuing.text import clean_text
from issuer.models import Achievement, Issuer
from issuer.models.base import iso, utcnow
from issuer.schemas import IssueRequest
from verifier.checks import types_of
from verifier.schema import SCHEMAS_PACKAGE, SchemaViolation, validate

OB_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


class NotConforming(LaurelError):
    """The credential a request asks for would not conform to the OB 3.0 JSON Schema."""

    status, title = 422, "Not an OB 3.0 credential"


def add_duration(start: datetime, duration: str) -> datetime:
    """``start`` plus an ISO 8601 period of years, months and days (``P3Y``, ``P1Y6M``);
    ``BadRequest`` when it is not one or the sum is past the year 9999."""
    match = re.fullmatch(r"P(?:(\d{1,5})Y)?(?:(\d{1,6})M)?(?:(\d{1,7})D)?", duration)
    if not match or duration == "P":
        raise BadRequest(f"{duration!r} is not a period like P3Y")
    years, months, days = (int(part or 0) for part in match.groups())
    month_index = start.month - 1 + months + 12 * years
    year, month = start.year + month_index // 12, month_index % 12 + 1
    if year > 9999:
        raise BadRequest(f"{duration} after {iso(start)} is past the year 9999")
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
    try:
        return start.replace(year=year, month=month, day=day) + timedelta(days=days)
    except OverflowError:
        raise BadRequest(f"{duration} after {iso(start)} is past the year 9999") from None


@cache
def _compiled() -> jsonschema_rs.Draft201909Validator:
    """The verifier's bundled OB 3.0 AchievementCredential schema, compiled."""
    schema = resources.files(SCHEMAS_PACKAGE).joinpath("achievementcredential.json")
    return jsonschema_rs.Draft201909Validator(json.loads(schema.read_text("utf-8")))


def check_conforms(document: dict[str, Any]) -> None:
    """Raise ``NotConforming`` if the verifier would find ``document`` against the OB 3.0
    schema (``verifier.schema.validate``, the verifier's schema check)."""
    if _compiled().is_valid(document):
        return
    try:
        validate(document, types_of(document))
    except SchemaViolation as exc:
        raise NotConforming(
            f"the credential would not conform to the OB 3.0 schema: {exc}"
        ) from None


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
    subject_id: str,
    status: dict[str, Any],
    credential_id: str,
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential (DESIGN.md, "Standards profile") naming ``subject_id``
    (``issuer.people.dids.subject``); ``BadRequest`` for impossible dates, ``ControlCharacter``
    for text that JSON-LD stacks would canonicalise differently (``issuer.issuing.text``: the
    achievement's and the issuer's text too, not only the request's), ``NotConforming`` if it
    would not conform to the OB 3.0 schema."""
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
        "id": subject_id,
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
        subject["result"] = checked_results(achievement.data, request.results)
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
    credential = clean_text(credential)
    check_conforms(credential)
    return credential
