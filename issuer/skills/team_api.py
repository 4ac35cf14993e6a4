"""Shaping a team request into ``teams.smallest_team`` and its answer into JSON: each member's
level, basis and evidence weight per wanted skill, and a second holder for each critical skill."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from issuer.models import Issuer
from issuer.schemas import TeamRequest, TeamSkill
from issuer.skills.cloud import SkillEntry, learner_emails, profiles
from issuer.skills.teams import smallest_team


def _matches(wanted: TeamSkill, framework: str, code: str, entry: SkillEntry) -> bool:
    keys = entry.codes or ((framework, code),)
    return any(
        c == wanted.code and (wanted.framework is None or wanted.framework == f) for f, c in keys
    )


def form(session: Session, issuer: Issuer, request: TeamRequest) -> dict[str, Any]:
    wanted = [s if isinstance(s, TeamSkill) else TeamSkill(code=s) for s in request.skills]
    codes = [w.code for w in wanted]
    people = profiles(session, issuer, codes=codes)
    emails = learner_emails(session, issuer, people)
    excluded = set(request.exclude)  # normalised by TeamRequest
    abilities: dict[int, frozenset[str]] = {}
    evidence: dict[int, dict[str, SkillEntry]] = {}
    for learner, skills in people.items():
        if emails.get(learner) in excluded:
            continue
        found = {
            w.code: entry
            for w in wanted
            for (framework, code), entry in skills.items()
            if _matches(w, framework, code, entry)
        }
        held = frozenset(code for code, entry in found.items() if entry.level >= _min(wanted, code))
        if held:
            abilities[learner] = held
            evidence[learner] = found
    result = smallest_team(abilities, codes, request.size)
    members = list(result.members)
    backups: dict[str, int] = {}
    for code in [c for c in request.critical if c in result.covered]:
        if sum(code in abilities[m] for m in members) >= 2:
            continue
        if request.size is not None and len(members) >= request.size:
            continue
        others = [p for p in abilities if code in abilities[p] and p not in members]
        if others:
            best = max(others, key=lambda p: (evidence[p][code].weight, -p))
            members.append(best)
            backups[code] = best
    return {
        "members": [
            {
                "email": emails.get(m),
                "skills": sorted(abilities[m]),
                "levels": {
                    code: {
                        "level": entry.level,
                        "basis": entry.basis,
                        "evidenceLevel": entry.evidence_level,
                        "weight": round(entry.weight, 3),
                    }
                    for code, entry in sorted(evidence[m].items())
                },
                "backupFor": sorted(c for c, p in backups.items() if p == m),
            }
            for m in members
        ],
        "covered": list(result.covered),
        "uncovered": list(result.uncovered),
        "perSkill": {
            code: [emails.get(m) for m in members if code in abilities[m]]
            for code in result.covered
        },
        "critical": {code: sum(code in abilities[m] for m in members) for code in request.critical},
        "exact": result.exact,
    }


def _min(wanted: list[TeamSkill], code: str) -> int:
    return max(w.minLevel for w in wanted if w.code == code)
