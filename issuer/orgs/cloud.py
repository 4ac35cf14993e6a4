"""An organisation's skills cloud, across the issuers it trusts, with what came from where.

Two sources, weighed the same way (``issuer.skills.weights``: type × hours factor × alignment
factor × recency; equivalent competencies merged under one code, as in every skills cloud):

- **here**: ``credential_skill`` rows of members' valid credentials from the home issuer and the
  trusted issuers on this Laurel (one row per alignment, written at issuance);
- **shared**: the alignments of credentials members shared from trusted issuers elsewhere
  (``issuer.orgs.held``, so withdrawn, revoked and expired ones count nothing). An alignment names
  a catalogue skill when its ``targetUrl`` points at ``…/frameworks/{id}/{code}`` or its
  ``targetFramework`` is a catalogue framework's id or name, and the code is one of that
  framework's; any other is kept under the framework name it gives, marked ``catalogued: false``.

Per skill: the summed weight, its level, how many members hold it, and ``sources`` — one entry
per issuer and source with its weight, members and credentials. ``unit`` limits it to a
department and the units under it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from issuer.catalogue import Catalogue
from issuer.core.errors import NotFound
from issuer.models import CredentialSkill, Organisation, OrgUnit
from issuer.models.base import table_of
from issuer.orgs import Held, held, members, trusted_here
from issuer.skills.cloud import level, valid_at
from issuer.skills.equivalence import bundled
from issuer.skills.weights import alignment_factor, base_weight, decay, framework_of, recency

Key = tuple[str, str]


def learners_in(session: Session, org: Organisation, unit: str | None) -> list[int]:
    """Current members, or those of ``unit`` (its code) and every unit under it."""
    people = members(session, org)
    if unit is None:
        return [m.learner_id for m in people]
    units = list(session.exec(select(OrgUnit).where(OrgUnit.org_id == org.id)))
    top = next((u for u in units if u.code == unit), None)
    if top is None:
        raise NotFound(f"{org.name} has no unit {unit!r}")
    inside, grown = {top.id}, True
    while grown:
        more = {u.id for u in units if u.parent_id in inside} - inside
        inside |= more
        grown = bool(more)
    return [m.learner_id for m in people if m.unit_id in inside]


def org_cloud(
    session: Session,
    catalogue: Catalogue,
    org: Organisation,
    unit: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    at = at or datetime.now(UTC)
    learners = learners_in(session, org, unit)
    skills: dict[Key, dict[str, Any]] = {}
    holders: dict[Key, set[int]] = defaultdict(set)
    smap = bundled()
    for found, name, source, learner, weight, credentials in [
        *_here(session, org, learners, at),
        *_shared(catalogue, held(session, org, learners, at), at),
    ]:
        key = smap.canon(found)  # equivalent competencies are one skill
        if key != found:
            name = catalogue.skill(*key).name
        entry = skills.setdefault(
            key,
            {
                "framework": key[0],
                "code": key[1],
                "name": name,
                "catalogued": _catalogued(catalogue, key),
                "weight": 0.0,
                "_sources": {},
            },
        )
        entry["weight"] += weight
        holders[key].add(learner)
        part = entry["_sources"].setdefault(
            (source["issuerRef"], source["source"]),
            {**source, "weight": 0.0, "_learners": set(), "credentials": 0},
        )
        part["weight"] += weight
        part["_learners"].add(learner)
        part["credentials"] += credentials
    cloud = [_shown(entry, len(holders[key])) for key, entry in skills.items()]
    return {
        "organisation": org.slug,
        "unit": unit,
        "members": len(learners),
        "skills": sorted(cloud, key=lambda e: (-e["weight"], e["framework"], e["code"])),
    }


def _shown(entry: dict[str, Any], holders: int) -> dict[str, Any]:
    sources = [
        {
            **{k: v for k, v in part.items() if not k.startswith("_")},
            "weight": round(part["weight"], 3),
            "learners": len(part["_learners"]),
        }
        for part in entry.pop("_sources").values()
    ]
    sources.sort(key=lambda s: (-s["weight"], s["issuer"]))
    weight = entry["weight"]
    return {
        **entry,
        "weight": round(weight, 3),
        "level": level(weight),
        "learners": holders,
        "sources": sources,
    }


Row = tuple[Key, str, dict[str, str], int, float, int]


def _here(session: Session, org: Organisation, learners: list[int], at: datetime) -> list[Row]:
    if not learners:
        return []
    issuers = trusted_here(session, org)
    table = table_of(CredentialSkill)
    query = (
        sa_select(
            table.c.issuer_id,
            table.c.learner_id,
            table.c.framework,
            table.c.code,
            func.max(table.c.name),
            func.sum(table.c.scaled_weight),
            func.count(),
        )
        .where(
            valid_at(table, at),
            table.c.issuer_id.in_(sorted(issuers)),
            table.c.learner_id.in_(sorted(learners)),
        )
        .group_by(table.c.issuer_id, table.c.learner_id, table.c.framework, table.c.code)
    )
    factor = decay(at)
    rows: list[Row] = []
    for issuer_id, learner, framework, code, name, scaled, count in session.execute(query):
        issuer = issuers[issuer_id]
        source = {"issuer": issuer.name, "issuerRef": issuer.did, "source": "here"}
        rows.append(((framework, code), name, source, learner, scaled * factor, count))
    return rows


def _shared(catalogue: Catalogue, items: list[Held], at: datetime) -> list[Row]:
    rows: list[Row] = []
    for item in items:
        if item.source != "shared":
            continue
        achievement = item.document.get("credentialSubject", {}).get("achievement", {})
        if not isinstance(achievement, dict):
            continue
        minimal = {
            "credentialSubject": {
                "creditsEarned": item.hours,
                "achievement": {"achievementType": item.achievement_type},
            }
        }
        weight = base_weight(minimal) * recency(item.valid_from, at)
        source = {"issuer": item.issuer_name, "issuerRef": item.issuer_ref, "source": "shared"}
        alignments = achievement.get("alignment", [])
        seen: set[Key] = set()
        listed = alignments if isinstance(alignments, list) else [alignments]
        for position, alignment in enumerate(listed):
            if not isinstance(alignment, dict):
                continue
            key, name = _skill_of(catalogue, alignment)
            if not key[1] or key in seen:
                continue
            seen.add(key)
            factor = alignment_factor(position)  # as for badges issued here
            rows.append((key, name, source, item.learner_id, weight * factor, 1))
    return rows


def _skill_of(catalogue: Catalogue, alignment: dict[str, Any]) -> tuple[Key, str]:
    """The catalogue skill an alignment from elsewhere names, else its own framework and code."""
    code = str(alignment.get("targetCode") or alignment.get("targetName") or "")[:200]
    name = str(alignment.get("targetName") or code)[:500]
    given = str(alignment.get("targetFramework") or "").strip().lower()
    candidates = [framework_of(alignment)]
    candidates += [f.id for f in catalogue.frameworks if given and given in (f.id, f.name.lower())]
    for framework in candidates:
        if _catalogued(catalogue, (framework, code)):
            return (framework, code), catalogue.skill(framework, code).name
    return (framework_of(alignment)[:200], code), name


def _catalogued(catalogue: Catalogue, key: Key) -> bool:
    try:
        catalogue.skill(*key)
    except (KeyError, LookupError, ValueError):
        return False
    return True
