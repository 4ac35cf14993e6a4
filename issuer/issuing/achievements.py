"""Achievements an issuer awards: created over the API or loaded from the catalogue."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import Conflict, NotFound
from issuer.institutes.issuers import achievement_id
from issuer.models import Achievement, Issuer
from issuer.models.base import utcnow
from issuer.schemas import AchievementIn, Alignment, ResultDescription


def ob_achievement(services: Services, issuer: Issuer, row: Achievement) -> dict[str, Any]:
    """The OB 3.0 Achievement JSON, with its id."""
    return {"id": achievement_id(services, issuer, row.key), **row.data}


def get_achievement(session: Session, issuer: Issuer, key: str) -> Achievement:
    found = session.exec(
        select(Achievement).where(Achievement.issuer_id == issuer.id, Achievement.key == key)
    ).first()
    if found is None:
        raise NotFound(f"issuer {issuer.slug!r} has no achievement {key!r}")
    return found


def list_achievements(session: Session, issuer: Issuer) -> list[Achievement]:
    query = select(Achievement).where(Achievement.issuer_id == issuer.id)
    return list(session.exec(query.order_by(col(Achievement.key))))


def _alignments(alignments: list[Alignment]) -> list[dict[str, Any]]:
    return [{"type": ["Alignment"], **a.model_dump(exclude_none=True)} for a in alignments]


def _result_description(description: ResultDescription) -> dict[str, Any]:
    """An OB 3.0 ResultDescription, with its rubric levels and alignments typed."""
    data: dict[str, Any] = {
        "id": description.id,
        "type": ["ResultDescription"],
        **description.model_dump(
            exclude_none=True, exclude={"id", "rubricCriterionLevel", "alignment"}
        ),
    }
    if description.rubricCriterionLevel:
        data["rubricCriterionLevel"] = [
            {
                "id": level.id,
                "type": ["RubricCriterionLevel"],
                **level.model_dump(exclude_none=True, exclude={"id"}),
            }
            for level in description.rubricCriterionLevel
        ]
    if description.alignment:
        data["alignment"] = _alignments(description.alignment)
    return data


def _untyped(value: Any) -> Any:
    """OB JSON without its ``type`` arrays: the shape ``AchievementIn`` takes."""
    if isinstance(value, list):
        return [_untyped(item) for item in value]
    if isinstance(value, dict):
        return {k: _untyped(v) for k, v in value.items() if k != "type"}
    return value


def result_descriptions_of(row: Achievement) -> list[dict[str, Any]]:
    """The achievement's ``resultDescription`` entries as ``AchievementIn.resultDescriptions``
    (for forms that do not edit them, so that saving keeps them)."""
    return list(_untyped(row.data.get("resultDescription", [])))


def _data(body: AchievementIn) -> dict[str, Any]:
    alignments = _alignments(body.alignments)
    data: dict[str, Any] = {
        "type": ["Achievement"],
        "name": body.name,
        "description": body.description,
        "criteria": {"narrative": body.criteria},
        "achievementType": body.achievementType,
    }
    if body.creditsAvailable is not None:
        data["creditsAvailable"] = body.creditsAvailable
    if body.tags:
        data["tag"] = body.tags
    if alignments:
        data["alignment"] = alignments
    if body.resultDescriptions:
        data["resultDescription"] = [_result_description(d) for d in body.resultDescriptions]
    return data


def save_achievement(
    session: Session,
    issuer: Issuer,
    body: AchievementIn,
    *,
    update: bool = False,
    design: dict[str, Any] | None = None,
) -> Achievement:
    assert issuer.id is not None
    existing = session.exec(
        select(Achievement).where(Achievement.issuer_id == issuer.id, Achievement.key == body.key)
    ).first()
    if existing is not None and not update:
        raise Conflict(f"issuer {issuer.slug!r} already has an achievement {body.key!r}")
    row = existing or Achievement(issuer_id=issuer.id, key=body.key, data={})
    row.data = _data(body)
    row.validity = body.validity
    row.design = design if design is not None else row.design
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row
