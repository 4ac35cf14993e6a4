"""Skill gaps: a learner's profile against a target profile (``badge_templates/targets``: roles,
programmes and the Korean grades 5급 … 고위공무원), with a readiness percentage, the next step,
and for each missing skill the achievements that would close it, ranked by how well they close it
(docs/skills.md, "The skills picture"):
the ranking of ``issuer.skills.recommend`` (competency match, fit to the target, programme
progress, the evidence added).

Only achievements the issuer offers (with an organisation's home issuer: every issuer the
organisation trusts here) are recommended when ``offered`` is known.

``readiness`` = the mean over the target's skills of min(level held, level wanted) / level
wanted, as a percentage rounded to a whole number.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import BadRequest
from issuer.models import Issuer
from issuer.programs.awards import _held
from issuer.reports.learners import learner_of
from issuer.skills.cloud import profiles
from issuer.skills.frameworks import catalogue
from issuer.skills.recommend import recommendations, started_programmes
from issuer.skills.targets import target, target_label, targets


def gap(
    session: Session,
    services: Services,
    issuer: Issuer,
    email: str,
    target_id: str | None,
    lang: str = "en",
) -> dict[str, Any]:
    """A learner's (by email, among ``issuer``'s people: ``learner_of``) gap to a target, from
    what ``issuer`` issued them, with recommendations among what ``issuer`` (or its
    organisation's trusted issuers) offers.
    Without ``target_id``, the target of the learner's grade on the roster of the organisation
    ``issuer`` runs (``next_target``): a 5급 official's gap to 4급 과장, say."""
    if target_id:
        target(services, target_id)  # an unknown target is a 404 before the learner is looked up
    learner = learner_of(session, issuer, email)
    grade = roster_grade(session, issuer, learner)
    if not target_id:
        for_grade = next_target(services, grade)
        if for_grade is None:
            raise BadRequest(
                "name a target: the learner has no grade on the roster of an organisation "
                "this issuer runs, or no target is set for their grade"
                if grade is None
                else f"name a target: no target is set for grade {grade}"
            )
        target_id = str(for_grade["id"])
    profile = profiles(session, issuer, learners=[learner]).get(learner, {})
    held = set(_held(session, issuer, learner))
    return gap_report(
        services,
        profile,
        held,
        target_id,
        offered=offered_keys(session, issuer),
        started=started_programmes(services, held),
        lang=lang,
    ) | {"rosterGrade": grade}


def roster_grade(session: Session, issuer: Issuer, learner: int) -> str | None:
    """The learner's grade on the roster of the organisation ``issuer`` runs, if any."""
    from sqlmodel import col, select

    from issuer.models import OrgMember
    from issuer.orgs import of_issuer

    org = of_issuer(session, issuer)
    if org is None:
        return None
    return session.exec(
        select(OrgMember.grade).where(
            OrgMember.org_id == org.id,
            OrgMember.learner_id == learner,
            col(OrgMember.left_at).is_(None),
        )
    ).first()


def offered_keys(session: Session, issuer: Issuer) -> set[str]:
    """Achievement keys ``issuer`` offers; for an organisation's home issuer, those of every
    issuer the organisation trusts on this Laurel too."""
    from sqlmodel import col, select

    from issuer.models import Achievement
    from issuer.orgs import of_issuer, trusted_here

    org = of_issuer(session, issuer)
    ids = sorted(trusted_here(session, org)) if org is not None else [issuer.id]
    query = select(Achievement.key).where(col(Achievement.issuer_id).in_(ids))
    return set(session.exec(query))


def gap_report(
    services: Services,
    profile: dict[Any, Any],
    held: set[str],
    target_id: str,
    *,
    offered: set[str] | None = None,
    started: set[str] | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """The skills of a target below the wanted level in ``profile`` (skill -> entry with a
    ``level``), each with the achievements not in ``held`` that would close it, best first;
    ``offered`` (achievement keys; None: any) filters them, ``started`` (programme ids) ranks
    their achievements higher. ``readiness`` and ``nextStep`` sum it up."""
    from issuer.skills.equivalence import bundled

    wanted = target(services, target_id)
    data = catalogue(services)
    smap = bundled()
    missing, levels, shares = [], [], []
    for skill in wanted["skills"]:
        key = smap.canon((skill["framework"], skill["code"]))
        entry = profile.get(key) or profile.get((skill["framework"], skill["code"]))
        have = entry.level if entry is not None else 0
        want = int(skill["level"])
        found = data.skill(skill["framework"], skill["code"])
        shares.append(min(have, want) / want)
        levels.append(
            {
                "skill": found.label(lang),
                "skillEn": found.name,
                "skillKo": found.name_ko,
                "framework": skill["framework"],
                "code": skill["code"],
                "level": have,
                "levelWanted": want,
                "basis": entry.basis if entry is not None else "evidence",
            }
        )
        if have >= want:
            continue
        missing.append(
            {
                "framework": skill["framework"],
                "code": skill["code"],
                "name": found.label(lang),
                "nameEn": found.name,
                "nameKo": found.name_ko,
                "level": have,
                "levelWanted": want,
                "closedBy": recommendations(
                    services, key, wanted, held, offered=offered, started=started, lang=lang
                ),
            }
        )
    readiness = round(100 * sum(shares) / len(shares)) if shares else 100
    return {
        "target": target_id,
        "name": target_label(wanted, lang),
        "nameEn": wanted["name"],
        "nameKo": wanted.get("name_ko"),
        "grade": wanted.get("grade"),
        "skills": len(wanted["skills"]),
        "met": len(wanted["skills"]) - len(missing),
        "readiness": readiness,
        "nextStep": next_step(missing),
        "missing": missing,
        "levels": levels,
    }


def next_step(missing: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first recommendation for the skill furthest below its wanted level (the target's
    order breaking ties), or that skill alone when nothing offered closes it."""
    if not missing:
        return None
    worst = max(missing, key=lambda m: m["levelWanted"] - m["level"])
    step: dict[str, Any] = {
        "framework": worst["framework"],
        "code": worst["code"],
        "skill": worst["name"],
        "level": worst["level"],
        "levelWanted": worst["levelWanted"],
        "achievement": None,
    }
    if worst["closedBy"]:
        best = worst["closedBy"][0]
        step["achievement"] = {"key": best["key"], "name": best["name"], "hours": best["hours"]}
    return step


def next_target(services: Services, grade: str | None) -> dict[str, Any] | None:
    """The target a person of roster ``grade`` (``5`` or ``5급``) works towards (the one listing
    it in ``for_grades``), if any."""
    if not grade:
        return None
    grade = grade.strip().removesuffix("급")  # the roster may write 5급 for 5
    for found in targets(services).values():
        if grade in [str(g) for g in found.get("for_grades", [])]:
            return found
    return None
