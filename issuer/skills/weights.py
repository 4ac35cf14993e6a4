"""How much a credential adds to a skill, and the ``credential_skill`` rows written when it is
issued (in the issuing transaction), from which the skills cloud is summed.

A skill's weight from one credential (its contribution, shown part by part in
``issuer.skills.explain``)::

    contribution = type factor × hours factor × alignment factor × recency factor
    type factor      = TYPE_WEIGHTS[achievementType]   (Course/Badge 1, MicroCredential 1.25,
                                                        Certificate 1.5, Certification/License 2,
                                                        other types 1)
    hours factor     = 1 + ln(1 + hours / 8)            (diminishing returns)
    alignment factor = 1 for the achievement's first (primary) alignment, 0.5 for the others
    recency factor   = 0.5 ** (age_days / 730)          (a two-year half-life)

The alignment factor is stored in ``base_weight`` (rows written before it existed carry 1). Each row
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
from issuer.skills.alignments import framework_of as framework_of  # used from here too
from issuer.skills.assessed import assessed_levels

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
PRIMARY = 1.0
"""The alignment factor of an achievement's first alignment: what it is mainly about."""
SECONDARY = 0.5
"""The alignment factor of every further alignment: a skill it also exercises."""


def hours_of(document: dict[str, Any]) -> float:
    """The learning hours a credential carries (``creditsEarned``, else ``creditsAvailable``)."""
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    return float(subject.get("creditsEarned", achievement.get("creditsAvailable", 0)) or 0)


def type_factor(achievement_type: object) -> float:
    return TYPE_WEIGHTS.get(str(achievement_type), 1.0)


def hours_factor(hours: float) -> float:
    return 1 + math.log1p(max(0.0, hours) / 8)


def alignment_factor(position: int) -> float:
    """``PRIMARY`` for the first alignment (position 0), ``SECONDARY`` for later ones."""
    return PRIMARY if position == 0 else SECONDARY


def base_weight(document: dict[str, Any]) -> float:
    """The weight before recency and alignment: type factor × hours factor."""
    achievement = document["credentialSubject"]["achievement"]
    return type_factor(achievement.get("achievementType")) * hours_factor(hours_of(document))


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
    """The ``credential_skill`` rows of an issued credential (one per distinct alignment), each
    weighted by its alignment factor and with the level an assessed result gives it, if any."""
    achievement = document["credentialSubject"]["achievement"]
    assessed = assessed_levels(document)
    issued = parse_time(str(document["validFrom"]))
    weight = base_weight(document)
    until = document.get("validUntil")
    valid_until = parse_time(str(until)) if until else None
    rows, seen = [], set()
    for position, alignment in enumerate(achievement.get("alignment", [])):
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
                "base_weight": weight * alignment_factor(position),
                "scaled_weight": scaled_weight(weight * alignment_factor(position), issued),
                "assessed_level": assessed.get(key, assessed.get(None)),
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
