"""Shaping a team request into ``teams.smallest_team`` and its answer into JSON."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from issuer.models import Issuer
from issuer.schemas import TeamRequest, TeamSkill
from issuer.skills.cloud import learner_emails, profiles
from issuer.skills.teams import smallest_team


def form(session: Session, issuer: Issuer, request: TeamRequest) -> dict[str, Any]:
    wanted = [s if isinstance(s, TeamSkill) else TeamSkill(code=s) for s in request.skills]
    codes = [w.code for w in wanted]
    people = profiles(session, issuer, codes=codes)
    emails = learner_emails(session, people)
    excluded = set(request.exclude)  # normalised by TeamRequest
    abilities: dict[int, frozenset[str]] = {}
    for learner, skills in people.items():
        if emails.get(learner) in excluded:
            continue
        held = frozenset(
            w.code
            for w in wanted
            for (framework, code), entry in skills.items()
            if code == w.code
            and (w.framework is None or w.framework == framework)
            and entry.level >= w.minLevel
        )
        if held:
            abilities[learner] = held
    result = smallest_team(abilities, codes, request.size)
    return {
        "members": [
            {"email": emails.get(m), "skills": sorted(abilities[m])} for m in result.members
        ],
        "covered": list(result.covered),
        "uncovered": list(result.uncovered),
        "perSkill": {
            code: [emails.get(m) for m in result.members if code in abilities[m]]
            for code in result.covered
        },
        "exact": result.exact,
    }
