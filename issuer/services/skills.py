"""Skills from badges: learner profiles, the organisation's skills cloud and team formation.

A learner's profile counts only **valid** credentials (not revoked, not expired). Every alignment
of a credential's achievement adds weight to that skill::

    weight = type_weight(achievementType) × (1 + ln(1 + hours / 8)) × 0.5 ** (age_days / 730)

with type weights Course/Badge 1, MicroCredential 1.25, Certificate 1.5, Certification/License 2
(other types 1): a course counts less than a certificate, a certificate less than a
certification; hours add with diminishing returns; the recency half-life is two years. The level
is ``min(5, 1 + floor(log2(1 + weight)))``: one recent course gives level 2, a few
certifications level 4–5.

A skill is identified by (framework, code). Alignments to Laurel's own frameworks carry the
framework id in their ``targetUrl`` (``…/frameworks/{id}/{code}``); any other alignment is kept
under its ``targetFramework`` name (ESCO, O*NET, …), never dropped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer.models import Credential, CredentialSkill, Issuer, LearnerEmail

HALF_LIFE_DAYS = 730
TYPE_WEIGHTS = {
    "Course": 1.0,
    "Badge": 1.0,
    "MicroCredential": 1.25,
    "Certificate": 1.5,
    "Certification": 2.0,
    "License": 2.0,
}

SkillKey = tuple[str, str]


@dataclass
class SkillEntry:
    framework: str
    code: str
    name: str
    weight: float = 0.0
    learners: set[int] = field(default_factory=set)

    @property
    def level(self) -> int:
        return level(self.weight)


def level(weight: float) -> int:
    return 0 if weight <= 0 else min(5, 1 + math.floor(math.log2(1 + weight)))


def _framework(alignment: dict[str, Any]) -> str:
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
    issued = issued if issued.tzinfo else issued.replace(tzinfo=UTC)
    age_days = max(0.0, (now - issued).total_seconds() / 86400)
    return float(0.5 ** (age_days / HALF_LIFE_DAYS))


def credential_weight(document: dict[str, Any], now: datetime) -> float:
    issued = datetime.fromisoformat(str(document["validFrom"]).replace("Z", "+00:00"))
    return base_weight(document) * recency(issued, now)


def skill_rows(
    credential_id: str, issuer_id: int, learner_id: int, document: dict[str, Any]
) -> list[dict[str, Any]]:
    """The ``credential_skill`` rows of an issued credential (one per distinct alignment)."""
    achievement = document["credentialSubject"]["achievement"]
    issued = datetime.fromisoformat(str(document["validFrom"]).replace("Z", "+00:00"))
    weight = base_weight(document)
    rows, seen = [], set()
    for alignment in achievement.get("alignment", []):
        key = (
            _framework(alignment),
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
                "issued_at": issued,
            }
        )
    return rows


def profiles(
    session: Session, issuer: Issuer, now: datetime | None = None
) -> dict[int, dict[SkillKey, SkillEntry]]:
    """Every learner's skills (learner id -> skill -> entry), from valid credentials, read from
    the ``credential_skill`` rows (one scan, no credential documents)."""
    now = now or datetime.now(UTC)
    result: dict[int, dict[SkillKey, SkillEntry]] = defaultdict(dict)
    rows = session.execute(
        select(
            CredentialSkill.learner_id,
            CredentialSkill.framework,
            CredentialSkill.code,
            CredentialSkill.name,
            CredentialSkill.base_weight,
            CredentialSkill.issued_at,
        )
        .join(Credential, col(Credential.id) == CredentialSkill.credential_id)
        .where(
            CredentialSkill.issuer_id == issuer.id,
            col(Credential.revoked_at).is_(None),
            (col(Credential.valid_until).is_(None)) | (col(Credential.valid_until) > now),
        )
    )
    for learner, framework, code, name, weight, issued in rows:
        entry = result[learner].setdefault((framework, code), SkillEntry(framework, code, name))
        entry.weight += weight * recency(issued, now)
        entry.learners.add(learner)
    return result


def organisation_cloud(
    session: Session, issuer: Issuer, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Weight and number of learners per skill, heaviest first."""
    totals: dict[SkillKey, SkillEntry] = {}
    for skills in profiles(session, issuer, now).values():
        for key, entry in skills.items():
            total = totals.setdefault(key, SkillEntry(entry.framework, entry.code, entry.name))
            total.weight += entry.weight
            total.learners |= entry.learners
    ordered = sorted(totals.values(), key=lambda e: (-e.weight, e.framework, e.code))
    return [
        {
            "framework": e.framework,
            "code": e.code,
            "name": e.name,
            "weight": round(e.weight, 3),
            "learners": len(e.learners),
        }
        for e in ordered
    ]


def learner_emails(session: Session, learner_ids: Iterable[int]) -> dict[int, str]:
    rows = session.exec(
        select(LearnerEmail).where(
            col(LearnerEmail.learner_id).in_(list(learner_ids)),
            col(LearnerEmail.is_primary).is_(True),
        )
    )
    return {row.learner_id: row.email for row in rows}


def rising_overlay(
    cloud: list[dict[str, Any]], framework: Any, thin: int = 3
) -> list[dict[str, Any]]:
    """AI competency model skills whose importance rises (future rank better than current) and
    that the organisation is thin in (fewer than ``thin`` learners), most important first."""
    held = {item["code"]: item["learners"] for item in cloud if item["framework"] == framework.id}
    rising = []
    for skill in framework.skills:
        now, future = skill.importance_current, skill.importance_future
        if future is None or (now is not None and future >= now):
            continue
        learners = held.get(skill.code, 0)
        if learners < thin:
            rising.append(
                {
                    "framework": framework.id,
                    "code": skill.code,
                    "name": skill.name,
                    "importanceCurrent": now,
                    "importanceFuture": future,
                    "learners": learners,
                }
            )
    return sorted(rising, key=lambda item: (item["importanceFuture"], item["code"]))


def store_skills(session: Session, per_credential: list[list[dict[str, Any]]]) -> None:
    """Insert the skill rows of newly issued credentials (in the caller's transaction)."""
    from sqlalchemy import insert

    rows = [row for rows in per_credential for row in rows]
    if rows:
        session.execute(insert(CredentialSkill.__table__), rows)  # type: ignore[attr-defined]
