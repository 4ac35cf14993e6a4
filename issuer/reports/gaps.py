"""Skill gaps: a learner's profile against a target profile (``badge_templates/targets``), with
the catalogue achievements that would close each missing skill, fewest hours first."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sqlmodel import Session

import badge_templates
from issuer.catalogue import Catalogue
from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.models import Issuer
from issuer.programs.awards import _held
from issuer.reports.learners import learner_id
from issuer.skills.cloud import profiles
from issuer.skills.frameworks import catalogue

TARGETS = badge_templates.PATH / "targets"


def load_targets(catalogue_: Catalogue, directory: Path = TARGETS) -> dict[str, dict[str, Any]]:
    """Every target profile, checked against the catalogue's frameworks."""
    targets: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.toml")):
        for target in tomllib.loads(path.read_text("utf-8")).get("targets", []):
            for skill in target["skills"]:
                catalogue_.skill(skill["framework"], skill["code"])  # raises if unknown
                if not 1 <= int(skill["level"]) <= 5:
                    raise ValueError(f"{path.name}: level of {skill['code']} is not 1-5")
            if not target.get("name_ko") or not target.get("description_ko"):
                needs = "needs name_ko and description_ko"
                raise ValueError(f"{path.name}: target {target['id']!r} {needs}")
            targets[target["id"]] = target
    return targets


def targets(services: Services) -> dict[str, dict[str, Any]]:
    found = services.cache.get("targets")
    if not isinstance(found, dict):
        found = services.cache["targets"] = load_targets(catalogue(services))
    return found


def target_label(target: dict[str, Any], lang: str) -> str:
    """A target's display name in ``lang`` (its ``name_ko`` on a Korean page)."""
    return str(target.get("name_ko") or target["name"]) if lang == "ko" else str(target["name"])


def gap(
    session: Session,
    services: Services,
    issuer: Issuer,
    email: str,
    target_id: str,
    lang: str = "en",
) -> dict[str, Any]:
    """A learner's (by email) gap to a target, from what ``issuer`` issued them; names in
    ``lang`` ("ko": the catalogue's Korean names)."""
    target(services, target_id)  # an unknown target is a 404 before the learner is looked up
    learner = learner_id(session, email)
    profile = profiles(session, issuer, learners=[learner]).get(learner, {})
    return gap_report(services, profile, set(_held(session, issuer, learner)), target_id, lang)


def target(services: Services, target_id: str) -> dict[str, Any]:
    found = targets(services).get(target_id)
    if found is None:
        raise NotFound(
            f"there is no target profile {target_id!r}; "
            f"known: {', '.join(sorted(targets(services)))}"
        )
    return found


def gap_report(
    services: Services,
    profile: dict[Any, Any],
    held: set[str],
    target_id: str,
    lang: str = "en",
) -> dict[str, Any]:
    """The skills of a target below the wanted level in ``profile`` (skill -> entry with a
    ``level``), each with the catalogue achievements not in ``held`` that would close it; the
    names of the target, skills and achievements in ``lang`` (Korean: ``name_ko``)."""
    wanted = target(services, target_id)
    data = catalogue(services)
    missing, levels = [], []
    for skill in wanted["skills"]:
        key = (skill["framework"], skill["code"])
        have = profile[key].level if key in profile else 0
        name = data.skill(*key).label(lang)
        levels.append({"skill": name, "level": have, "levelWanted": int(skill["level"])})
        if have >= skill["level"]:
            continue
        closing = sorted(
            (
                {"key": t.key, "name": t.label(lang), "hours": t.hours}
                for t in data.achievements
                if t.key not in held
                and any(a.framework == key[0] and a.code == key[1] for a in t.alignments)
            ),
            key=lambda item: (item["hours"], item["key"]),
        )
        missing.append(
            {
                "framework": key[0],
                "code": key[1],
                "name": name,
                "level": have,
                "levelWanted": skill["level"],
                "closedBy": closing,
            }
        )
    return {
        "target": target_id,
        "name": target_label(wanted, lang),
        "skills": len(wanted["skills"]),
        "met": len(wanted["skills"]) - len(missing),
        "missing": missing,
        "levels": levels,
    }
