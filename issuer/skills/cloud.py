"""The skills cloud: learner profiles and the organisation's cloud, summed in the database over
``credential_skill`` (one row per alignment of a valid credential, written at issuance; weights and
recency in ``issuer.skills.weights``), a year ago and now, per group, with the rising-importance
overlay. A learner's profile counts only **valid** credentials (not revoked, not expired). The
level of a skill is ``min(5, 1 + floor(log2(1 + weight)))``: one recent course gives level 2, a
few certifications level 4–5.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from issuer.models import CredentialSkill, Issuer, LearnerEmail, LearnerGroup
from issuer.models.base import table_of
from issuer.skills.weights import decay

SkillKey = tuple[str, str]


@dataclass
class SkillEntry:
    framework: str
    code: str
    name: str
    weight: float = 0.0

    @property
    def level(self) -> int:
        return level(self.weight)


def level(weight: float) -> int:
    return 0 if weight <= 0 else min(5, 1 + math.floor(math.log2(1 + weight)))


def profiles(
    session: Session,
    issuer: Issuer | None,
    at: datetime | None = None,
    *,
    learners: Iterable[int] | None = None,
    codes: Iterable[str] | None = None,
) -> dict[int, dict[SkillKey, SkillEntry]]:
    """Learners' skills (learner id -> skill -> entry) from their credentials valid at ``at``
    (default now), summed in the database: one row per learner and skill comes back. ``learners``
    and ``codes`` narrow the scan (one learner's gap, the skills a team needs); ``issuer`` None
    sums the credentials of every issuer (a learner's own wallet)."""
    at = at or datetime.now(UTC)
    table = table_of(CredentialSkill)
    query = (
        sa_select(
            table.c.learner_id,
            table.c.framework,
            table.c.code,
            func.max(table.c.name),
            func.sum(table.c.scaled_weight),
        )
        .where(valid_at(table, at))
        .group_by(table.c.learner_id, table.c.framework, table.c.code)
    )
    if issuer is not None:
        query = query.where(table.c.issuer_id == issuer.id)
    if learners is not None:
        query = query.where(table.c.learner_id.in_(list(learners)))
    if codes is not None:
        query = query.where(table.c.code.in_(list(codes)))
    factor = decay(at)
    _no_jit(session)
    result: dict[int, dict[SkillKey, SkillEntry]] = defaultdict(dict)
    for learner, framework, code, name, scaled in session.execute(query):
        result[learner][(framework, code)] = SkillEntry(framework, code, name, scaled * factor)
    return result


def organisation_cloud(
    session: Session, issuer: Issuer, at: datetime | None = None, group: str | None = None
) -> list[dict[str, Any]]:
    """Weight and number of learners per skill at ``at`` (default now), heaviest first, with the
    same a year earlier (``yearAgo``) and the ``change``; one scan of the skill rows. ``group``
    limits it to the learners in that group (a department)."""
    at = at or datetime.now(UTC)
    before = at - timedelta(days=365)
    table = table_of(CredentialSkill)
    now_valid, then_valid = valid_at(table, at), valid_at(table, before)
    query = (
        sa_select(
            table.c.framework,
            table.c.code,
            func.max(table.c.name),
            func.sum(case((now_valid, table.c.scaled_weight), else_=0.0)),
            func.count(distinct(case((now_valid, table.c.learner_id)))),
            func.sum(case((then_valid, table.c.scaled_weight), else_=0.0)),
            func.count(distinct(case((then_valid, table.c.learner_id)))),
        )
        .where(table.c.issuer_id == issuer.id, table.c.issued_at <= at)
        .group_by(table.c.framework, table.c.code)
    )
    if group is not None:
        members = select(LearnerGroup.learner_id).where(
            LearnerGroup.issuer_id == issuer.id, LearnerGroup.name == group
        )
        query = query.where(table.c.learner_id.in_(members))
    now_factor, then_factor = decay(at), decay(before)
    _no_jit(session)
    cloud = []
    for framework, code, name, scaled, learners, scaled_then, learners_then in session.execute(
        query
    ):
        if not learners and not learners_then:
            continue
        weight, weight_then = scaled * now_factor, scaled_then * then_factor
        cloud.append(
            {
                "framework": framework,
                "code": code,
                "name": name,
                "weight": round(weight, 3),
                "learners": learners,
                "yearAgo": {"weight": round(weight_then, 3), "learners": learners_then},
                "change": {
                    "weight": round(weight - weight_then, 3),
                    "learners": learners - learners_then,
                },
            }
        )
    return sorted(cloud, key=lambda e: (-e["weight"], e["framework"], e["code"]))


def _no_jit(session: Session) -> None:
    """PostgreSQL's JIT compiles these aggregates for longer than they then run (~0.4 s of a
    1.5 s cloud over two million rows); off for this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def valid_at(table: Any, at: datetime) -> Any:
    """The SQL condition: the credential behind a skill row was valid at ``at``."""
    return and_(
        table.c.issued_at <= at,
        or_(table.c.revoked_at.is_(None), table.c.revoked_at > at),
        or_(table.c.valid_until.is_(None), table.c.valid_until > at),
    )


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


def cloud_report(
    session: Session, services: Any, issuer: Issuer, group: str | None = None
) -> dict[str, Any]:
    """The organisation's (or one group's) cloud and the rising-importance overlay."""
    from issuer.people.groups import normalized, require_group
    from issuer.skills.frameworks import catalogue

    if group is not None:
        group = normalized(group)
        require_group(session, issuer, group)
    cloud = organisation_cloud(session, issuer, group=group)
    overlay = rising_overlay(cloud, catalogue(services).framework("ai-competency"))
    return {"group": group, "skills": cloud, "rising": overlay}


def cloud_words(cloud: list[dict[str, Any]], limit: int = 150) -> list[Any]:
    """The heaviest skills held now, as words for the cloud picture."""
    from issuer.artifacts.cloud import Word

    held = [s for s in cloud if s["learners"] > 0][:limit]
    return [Word(s["name"], s["weight"], s["framework"]) for s in held]
