"""Which catalogue achievements would close a skill for a target, best first: the ranking the gap
report (``issuer.reports.gaps``) and development plans (``issuer.orgs.plans``) share
(docs/skills.md, "The skills picture"):

1. competency match: the skill is the achievement's primary alignment (factor 1) before a
   secondary one (0.5), equivalent codes counting as the skill;
2. fit to the target: achievements whose tags include the target's ``tracks`` (a leadership
   programme for a senior-executive target) first; tags in its ``exclude_tags`` never (no IT
   qualification for a senior-executive competency);
3. programme progress: achievements of a programme the person has started but not completed;
4. the evidence it adds (type × hours × alignment factor), then fewer hours.

Badges that record completion (programme awards, the annual badge) are never recommended: they
follow from their parts.
"""

from __future__ import annotations

from typing import Any

from issuer.context import Services
from issuer.skills.frameworks import catalogue


def started_programmes(services: Services, held: set[str]) -> set[str]:
    """Programmes with some of their achievements held but not their award."""
    return {
        p.id
        for p in catalogue(services).programs
        if p.award not in held and held & {*p.required, *p.electives}
    }


def recommendations(
    services: Services,
    key: tuple[str, str],
    wanted: dict[str, Any],
    held: set[str],
    *,
    offered: set[str] | None = None,
    started: set[str] | None = None,
    lang: str = "en",
) -> list[dict[str, Any]]:
    """The achievements that would close the skill ``key`` for the target ``wanted``, ranked as
    the module says."""
    from issuer.skills.equivalence import bundled
    from issuer.skills.weights import alignment_factor, hours_factor, type_factor

    data = catalogue(services)
    codes = set(bundled().all_codes(key))
    tracks = set(wanted.get("tracks", []))
    excluded = set(wanted.get("exclude_tags", []))
    started = started or set()
    completion = data.completion_keys
    programmes: dict[str, list[str]] = {}
    for program in data.programs:
        for member in (*program.required, *program.electives):
            programmes.setdefault(member, []).append(program.id)
    ranked = []
    for t in data.achievements:
        if t.key in held or (offered is not None and t.key not in offered):
            continue
        if excluded & set(t.tags) or t.key in completion:
            continue
        positions = [i for i, a in enumerate(t.alignments) if (a.framework, a.code) in codes]
        if not positions:
            continue
        match = alignment_factor(positions[0])
        fit = len(tracks & set(t.tags))
        progresses = sorted(set(programmes.get(t.key, [])) & started)
        gain = type_factor(t.achievement_type) * hours_factor(float(t.hours)) * match
        ranked.append(
            {
                "key": t.key,
                "name": t.label(lang),
                "nameEn": t.name,
                "nameKo": t.name_ko,
                "hours": t.hours,
                "match": "primary" if positions[0] == 0 else "secondary",
                "alignmentFactor": match,
                "fit": fit,
                "programmes": progresses,
                "gain": round(gain, 3),
            }
        )
    return sorted(
        ranked,
        key=lambda r: (
            -r["alignmentFactor"],
            -min(r["fit"], 1),
            -len(r["programmes"]),
            -r["gain"],
            r["hours"],
            r["key"],
        ),
    )
