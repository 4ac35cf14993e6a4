"""Why a skill has the weight and level shown: the badges that contributed, each with its type
factor × hours factor × alignment factor × recency factor = contribution
(``issuer.skills.weights``). The contributions add up to the weight the cloud and the profile
show (equivalent codes merged: a badge aligned to both codes of one skill counts once, its larger
contribution); the level is the evidence level of that sum, or an assessed result's proficiency.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer.core.errors import BadRequest, NotFound
from issuer.models import Credential, CredentialSkill, Issuer, LearnerGroup
from issuer.models.base import aware
from issuer.skills.cloud import LEVELS, learner_emails, level
from issuer.skills.equivalence import Key, SkillMap, bundled, bundled_catalogue
from issuer.skills.weights import (
    alignment_factor,
    framework_of,
    hours_factor,
    hours_of,
    recency,
    type_factor,
)


def skill_key(text: str, framework: str | None = None) -> Key:
    """A skill named as ``framework:code`` (an external framework's too), or a code unique in the
    catalogue (equivalent codes counting as one); ``BadRequest``/``NotFound`` otherwise."""
    text = text.strip()
    if not text:
        raise BadRequest("name a skill: framework:code or a code")
    smap = bundled()
    if ":" in text:
        framework, _, text = text.partition(":")
    if framework:
        catalogue = bundled_catalogue()
        if framework in {f.id for f in catalogue.frameworks}:
            try:
                catalogue.skill(framework, text)
            except KeyError:
                raise NotFound(
                    f"there is no skill {text!r} in the framework {framework!r}"
                ) from None
        return smap.canon((framework, text))  # an external framework's code (O*NET, ESCO …)
    found = {
        smap.canon((f.id, s.code))
        for f in bundled_catalogue().frameworks
        for s in f.skills
        if s.code == text
    }
    if not found:
        raise NotFound(f"there is no skill {text!r} in the catalogue; name it as framework:code")
    if len(found) > 1:
        options = ", ".join(sorted(f"{f}:{c}" for f, c in found))
        raise BadRequest(f"the code {text!r} is in several frameworks; name one of {options}")
    return found.pop()


def _position(document: dict[str, Any], key: Key) -> int:
    alignments = document["credentialSubject"]["achievement"].get("alignment", [])
    for position, alignment in enumerate(alignments):
        code = str(alignment.get("targetCode") or alignment.get("targetName"))
        if (framework_of(alignment), code) == key:
            return position
    return 0


def contributions(
    session: Session,
    issuer: Issuer | None,
    key: Key,
    learners: Iterable[int],
    at: datetime | None = None,
    *,
    issuer_ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """Each valid credential of ``learners`` that adds to the skill ``key`` (any of its codes),
    with the factors of its contribution, largest first."""
    at = at or datetime.now(UTC)
    smap: SkillMap = bundled()
    codes = smap.all_codes(key)
    people = list(learners)
    query = select(CredentialSkill, Credential).where(
        col(CredentialSkill.credential_id) == col(Credential.id),
        col(CredentialSkill.learner_id).in_(people),
        col(CredentialSkill.code).in_([c for _, c in codes]),
    )
    if issuer is not None:
        query = query.where(CredentialSkill.issuer_id == issuer.id)
    elif issuer_ids is not None:
        query = query.where(col(CredentialSkill.issuer_id).in_(list(issuer_ids)))
    best: dict[str, dict[str, Any]] = {}
    for row, credential in session.exec(query):
        if (row.framework, row.code) not in codes or not _valid(row, at):
            continue
        document = credential.document
        achievement = document["credentialSubject"]["achievement"]
        hours = hours_of(document)
        kind = achievement.get("achievementType")
        position = _position(document, (row.framework, row.code))
        factors = {
            "typeFactor": type_factor(kind),
            "hoursFactor": hours_factor(hours),
            "alignmentFactor": alignment_factor(position),
            "recencyFactor": recency(row.issued_at, at),
        }
        # rows written before alignment factors existed carry 1 in their stored weight
        stored = row.base_weight / (factors["typeFactor"] * factors["hoursFactor"])
        if abs(stored - factors["alignmentFactor"]) > 1e-6:
            factors["alignmentFactor"] = stored
        contribution = 1.0
        for value in factors.values():
            contribution *= value
        item = {
            "credential": credential.id,
            "learner": row.learner_id,
            "achievement": str(achievement.get("name", "")),
            "achievementType": str(kind or ""),
            "hours": hours,
            "issuedAt": aware(row.issued_at).isoformat().replace("+00:00", "Z"),
            "alignedAs": {"framework": row.framework, "code": row.code},
            "primary": position == 0,
            **{name: round(value, 4) for name, value in factors.items()},
            "contribution": round(contribution, 4),
            "exact": contribution,
            "assessedLevel": row.assessed_level,
        }
        held = best.get(credential.id)
        if held is None or contribution > held["exact"]:
            best[credential.id] = item
    return sorted(best.values(), key=lambda item: (-item["exact"], item["credential"]))


def _valid(row: CredentialSkill, at: datetime) -> bool:
    return (
        aware(row.issued_at) <= at
        and (row.revoked_at is None or aware(row.revoked_at) > at)
        and (row.valid_until is None or aware(row.valid_until) > at)
    )


def explain(
    session: Session,
    issuer: Issuer | None,
    key: Key,
    learners: Iterable[int],
    *,
    at: datetime | None = None,
    lang: str = "en",
    issuer_ids: Iterable[int] | None = None,
) -> dict[str, Any]:
    """The explanation of one skill for one learner or a group: its codes, the contributions,
    their sum (``weight``), the evidence level and the proficiency basis."""
    smap = bundled()
    key = smap.canon(key)
    people = sorted(set(learners))
    items = contributions(session, issuer, key, people, at, issuer_ids=issuer_ids)
    shown = {item["learner"] for item in items}
    emails = learner_emails(session, issuer, shown) if issuer is not None else {}
    for item in items:
        item["email"] = emails.get(item.pop("learner"))
    weight = sum(item.pop("exact") for item in items)
    assessed = [item["assessedLevel"] for item in items if item["assessedLevel"]]
    evidence = level(weight)
    single = len(people) == 1
    basis = "assessed" if assessed and single else "evidence"
    next_at = next((t for t in LEVELS if weight < t), None)
    return {
        "skill": skill_info(key, lang),
        "learners": len(people),
        "weight": round(weight, 3),
        "evidenceLevel": evidence,
        "assessedLevel": max(assessed) if assessed and single else None,
        "level": max(assessed) if basis == "assessed" else evidence,
        "basis": basis,
        "levelThresholds": list(LEVELS),
        "nextLevelAt": next_at,
        "contributions": items,
    }


def skill_info(key: Key, lang: str = "en") -> dict[str, Any]:
    """A skill's names, all its codes and its roll-up parent."""
    smap = bundled()
    catalogue = bundled_catalogue()
    try:
        skill = catalogue.skill(*key)
        name, name_ko = skill.name, skill.name_ko
    except KeyError:
        name, name_ko = key[1], None
    parent = smap.parent.get(key)
    return {
        "framework": key[0],
        "code": key[1],
        "name": name_ko if lang == "ko" and name_ko else name,
        "nameEn": name,
        "nameKo": name_ko,
        "codes": [{"framework": f, "code": c} for f, c in smap.all_codes(key)],
        "parent": {"framework": parent[0], "code": parent[1]} if parent else None,
    }


def group_learners(session: Session, issuer: Issuer, group: str) -> list[int]:
    """The learners of one of ``issuer``'s groups."""
    from issuer.people.groups import normalized, require_group

    name = normalized(group)
    require_group(session, issuer, name)
    return list(
        session.exec(
            select(LearnerGroup.learner_id).where(
                LearnerGroup.issuer_id == issuer.id, LearnerGroup.name == name
            )
        )
    )


def everyone(session: Session, issuer: Issuer) -> list[int]:
    """Every learner with a skill row from ``issuer``."""
    return list(
        session.exec(
            select(CredentialSkill.learner_id)
            .where(CredentialSkill.issuer_id == issuer.id)
            .distinct()
        )
    )
