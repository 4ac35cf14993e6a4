"""Proficiency from an assessed result on a badge (OB 3.0 ``credentialSubject.result``).

A result counts as an assessment when it points (``resultDescription``) at one of the
achievement's ``resultDescription`` entries and that entry gives a scale:

- a rubric (``resultType`` ``RubricCriterionLevel`` with ``rubricCriterionLevel``): the result's
  ``achievedLevel`` is one of the rubric levels. Its position on the scale, ``p``, is
  ``(points − lowest points) / (highest − lowest)`` when every level has ``points``, otherwise its
  place in the list (OB lists rubric levels from lowest to highest) divided by the number of
  levels minus one;
- a score (any other ``resultType`` with a numeric ``value``): ``p = (value − valueMin) /
  (valueMax − valueMin)``, clipped to 0..1; a ``Percent`` without bounds is out of 0..100.

The proficiency level is then ``1 + round(4 × p)`` (halves up): the lowest rubric level or score is
level 1, the highest level 5; a five-level rubric maps one to one, a three-level rubric to 1, 3
and 5. A result whose ``status`` is ``Failed`` gives nothing. An assessment applies to the skills
its result description aligns to, or to every skill of the badge when it aligns to none; where
several apply to one skill the highest counts.
"""

from __future__ import annotations

import math
from typing import Any

from issuer.skills.alignments import skill_of

Key = tuple[str, str] | None


def level_of(position: float) -> int:
    """A position on a scale (0 lowest .. 1 highest) as a proficiency level 1-5."""
    position = min(1.0, max(0.0, position))
    return 1 + math.floor(4 * position + 0.5)


def _number(value: object) -> float | None:
    try:
        number = float(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _rubric_position(description: dict[str, Any], achieved: object) -> float | None:
    levels = [lv for lv in description.get("rubricCriterionLevel", []) if isinstance(lv, dict)]
    ids = [lv.get("id") for lv in levels]
    if achieved not in ids or len(levels) < 2:
        return 1.0 if achieved in ids else None
    points = [_number(lv.get("points")) for lv in levels]
    if all(p is not None for p in points):
        known = [p for p in points if p is not None]
        low, high = min(known), max(known)
        if high > low:
            return (known[ids.index(achieved)] - low) / (high - low)
    return ids.index(achieved) / (len(levels) - 1)


def _score_position(description: dict[str, Any], value: object) -> float | None:
    score = _number(value)
    if score is None:
        return None
    low, high = _number(description.get("valueMin")), _number(description.get("valueMax"))
    if description.get("resultType") == "Percent":
        low, high = (0.0 if low is None else low), (100.0 if high is None else high)
    if low is None or high is None or high <= low:
        return None
    return (score - low) / (high - low)


def assessed_levels(document: dict[str, Any]) -> dict[Key, int]:
    """Skill key (framework, code), or None for "every skill of the badge" -> level 1-5."""
    subject = document.get("credentialSubject", {})
    achievement = subject.get("achievement", {})
    descriptions = {
        d.get("id"): d for d in achievement.get("resultDescription", []) if isinstance(d, dict)
    }
    found: dict[Key, int] = {}
    for result in subject.get("result", []) or []:
        if not isinstance(result, dict) or result.get("status") == "Failed":
            continue
        description = descriptions.get(result.get("resultDescription"))
        if description is None:
            continue
        if "achievedLevel" in result:
            position = _rubric_position(description, result["achievedLevel"])
        else:
            position = _score_position(description, result.get("value"))
        if position is None:
            continue
        level = level_of(position)
        aligned = [skill_of(a) for a in description.get("alignment", []) if isinstance(a, dict)]
        keys: list[Key] = list(aligned) if aligned else [None]
        for key in keys:
            found[key] = max(level, found.get(key, 0))
    return found
