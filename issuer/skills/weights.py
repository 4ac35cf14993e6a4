"""How much a credential adds to a skill, and the ``credential_skill`` rows written when it is
issued (in the issuing transaction), from which the skills cloud is summed.

A skill's weight from one credential::

    weight = type_weight(achievementType) × (1 + ln(1 + hours / 8)) × 0.5 ** (age_days / 730)

with type weights Course/Badge 1, MicroCredential 1.25, Certificate 1.5, Certification/License 2
(other types 1); hours add with diminishing returns; the recency half-life is two years. Each row
stores ``base × 2^(t_issued / half-life)`` (t in days from 2000-01-01), so that a sum of those
times ``decay(now) = 2^(−t_now / half-life)`` is exactly the sum of ``base × 0.5^(age /
half-life)``: the database adds weights without date arithmetic. The exponent is held within
±``MAX_HALVINGS`` so that no date, however far (the API admits 1900–9999), overflows a float or a
sum of them; a credential counts only from its ``validFrom`` on.

A skill is identified by (framework, code): alignments to Laurel's own frameworks carry the
framework id in their ``targetUrl`` (``…/frameworks/{id}/{code}``); any other alignment is kept
under its ``targetFramework`` name (ESCO, O*NET, …), never dropped.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from issuer.models import CredentialSkill
from issuer.models.base import aware, parse_time, table_of

HALF_LIFE_DAYS = 730
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MAX_HALVINGS = 600.0
"""±1,200 years around 2000: 2^600 × any sum of weights stays far below a float's 2^1024."""


TYPE_WEIGHTS = {
    "Course": 1.0,
    "Badge": 1.0,
    "MicroCredential": 1.25,
    "Certificate": 1.5,
    "Certification": 2.0,
    "License": 2.0,
}


def framework_of(alignment: dict[str, Any]) -> str:
    url = str(alignment.get("targetUrl", ""))
    if "/frameworks/" in url:
        return url.split("/frameworks/", 1)[1].split("/", 1)[0]
    return str(alignment.get("targetFramework") or "external")


def base_weight(document: dict[str, Any]) -> float:
    """The weight before recency: achievement type × hours factor."""
    achievement = document["credentialSubject"]["achievement"]
    subject = document["credentialSubject"]
    hours = subject.get("creditsEarned", achievement.get("creditsAvailable", 0)) or 0
    base = TYPE_WEIGHTS.get(str(achievement.get("achievementType")), 1.0)
    return base * (1 + math.log1p(float(hours) / 8))


def recency(issued: datetime, now: datetime) -> float:
    issued = aware(issued)
    age_days = max(0.0, (now - issued).total_seconds() / 86400)
    return float(0.5 ** (age_days / HALF_LIFE_DAYS))


def _halvings(moment: datetime) -> float:
    moment = aware(moment)
    halvings = (moment - EPOCH).total_seconds() / 86400 / HALF_LIFE_DAYS
    return max(-MAX_HALVINGS, min(MAX_HALVINGS, halvings))


def scaled_weight(base: float, issued: datetime) -> float:
    """``base × 2^(halvings from 2000-01-01 to issued)``: a sum of these times ``decay(now)`` is
    the sum of ``base × recency(issued, now)``, so the database adds weights without date math."""
    return float(base * 2.0 ** _halvings(issued))


def decay(at: datetime) -> float:
    return float(2.0 ** -_halvings(at))


def skill_rows(
    credential_id: str, issuer_id: int, learner_id: int, document: dict[str, Any]
) -> list[dict[str, Any]]:
    """The ``credential_skill`` rows of an issued credential (one per distinct alignment)."""
    achievement = document["credentialSubject"]["achievement"]
    issued = parse_time(str(document["validFrom"]))
    weight = base_weight(document)
    until = document.get("validUntil")
    valid_until = parse_time(str(until)) if until else None
    rows, seen = [], set()
    for alignment in achievement.get("alignment", []):
        key = (
            framework_of(alignment),
            str(alignment.get("targetCode") or alignment.get("targetName")),
        )
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            {
                "credential_id": credential_id,
                "issuer_id": issuer_id,
                "learner_id": learner_id,
                "framework": key[0][:200],
                "code": key[1][:200],
                "name": str(alignment.get("targetName", key[1]))[:500],
                "base_weight": weight,
                "scaled_weight": scaled_weight(weight, issued),
                "issued_at": issued,
                "valid_until": valid_until,
                "revoked_at": None,
            }
        )
    return rows


def store_skills(session: Session, per_credential: list[list[dict[str, Any]]]) -> None:
    """Insert the skill rows of newly issued credentials (in the caller's transaction)."""
    rows = [row for rows in per_credential for row in rows]
    if rows:
        session.execute(insert(table_of(CredentialSkill)), rows)
