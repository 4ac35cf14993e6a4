"""Skill frameworks and programmes from the catalogue, as the service publishes them.

Every skill has a stable URL, ``/frameworks/{framework}/{code}``, which is what achievements'
alignments point to; programmes are listed per issuer with their achievements' ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from issuer.catalogue import Catalogue, Framework, Skill, shared
from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.institutes.issuers import achievement_id
from issuer.models import Achievement, Issuer


def catalogue(services: Services) -> Catalogue:
    """The bundled catalogue, loaded once per process."""
    return shared(services.cache)


def localised(
    services: Services, items: Iterable[dict[str, Any]], lang: str
) -> list[dict[str, Any]]:
    """Skill entries (with ``framework``, ``code`` and ``name``) with the name in ``lang``: the
    catalogue's Korean name on a Korean page; names of skills outside the catalogue stay."""
    data = catalogue(services)
    return [
        {**item, "name": data.skill_label(item["framework"], item["code"], lang, item["name"])}
        for item in items
    ]


def skill_view(services: Services, framework_id: str, code: str) -> dict[str, Any]:
    """A skill with its framework, parent, narrower skills and the achievements aligned to it."""
    data = catalogue(services)
    try:
        framework: Framework = data.framework(framework_id)
        skill: Skill = framework.skill(code)
    except (KeyError, ValueError, LookupError):
        raise NotFound(f"there is no skill {code!r} in the framework {framework_id!r}") from None
    base = services.settings.base_url
    return {
        "id": f"{base}/frameworks/{framework.id}/{skill.code}",
        "framework": {
            "id": framework.id,
            "name": framework.name,
            "nameKo": framework.name_ko,
            "source": framework.source,
        },
        "code": skill.code,
        "name": skill.name,
        "nameKo": skill.name_ko,
        "definition": skill.definition,
        "descriptionKo": skill.description_ko,
        "translated": skill.translated,
        "group": skill.group,
        "importanceCurrent": skill.importance_current,
        "importanceFuture": skill.importance_future,
        "parent": f"{base}/frameworks/{framework.id}/{skill.parent}" if skill.parent else None,
        "narrower": [
            {
                "code": s.code,
                "name": s.name,
                "nameKo": s.name_ko,
                "url": f"{base}/frameworks/{framework.id}/{s.code}",
            }
            for s in framework.skills
            if s.parent == skill.code
        ],
        "achievements": [
            {
                "key": t.key,
                "name": t.name,
                "nameKo": t.name_ko,
                "hours": t.hours,
                "badgeArea": t.badge_area,
            }
            for t in data.achievements
            if any(a.framework == framework.id and a.code == skill.code for a in t.alignments)
        ],
    }


def programs(session: Session, services: Services, issuer: Issuer) -> list[dict[str, Any]]:
    """The catalogue programmes whose achievements this issuer offers."""
    offered = set(session.exec(select(Achievement.key).where(Achievement.issuer_id == issuer.id)))
    result = []
    for program in catalogue(services).programs:
        keys = [*program.required, *program.electives, program.award]
        if not set(keys) <= offered:
            continue

        def ids(selected: tuple[str, ...]) -> list[str]:
            return [achievement_id(services, issuer, key) for key in selected]

        result.append(
            {
                "id": program.id,
                "name": program.name,
                "nameKo": program.name_ko,
                "description": program.description,
                "descriptionKo": program.description_ko,
                "required": ids(program.required),
                "electives": ids(program.electives),
                "electivesNeeded": program.electives_needed,
                "award": achievement_id(services, issuer, program.award),
                "programs": list(program.programs),
            }
        )
    return result
