"""Assessed results at issuance: each ``Result`` of a request checked against the achievement's
OB 3.0 ``resultDescription`` entries, as ``credentialSubject.result`` (typed ``Result``).

A result that names a ``resultDescription`` must name one of the achievement's; its
``achievedLevel`` must be one of that description's rubric levels; a ``value`` must be a number
within ``valueMin``..``valueMax`` (where given); a ``value`` must be one of ``allowedValue`` (where
given); a result of a ``Status`` description must give a ``status``. Anything else is a
``BadRequest``, before anything is signed.
"""

from __future__ import annotations

import math
from typing import Any

from issuer.core.errors import BadRequest
from issuer.schemas import Result


def _number(value: object) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _check(result: Result, descriptions: dict[str, dict[str, Any]]) -> None:
    if result.resultDescription is None:
        return
    description = descriptions.get(result.resultDescription)
    if description is None:
        raise BadRequest(f"the achievement has no resultDescription {result.resultDescription!r}")
    name = description.get("name", result.resultDescription)
    if description.get("resultType") == "Status" and result.status is None:
        raise BadRequest(f"a result of {name!r} (resultType Status) needs a status")
    if result.achievedLevel is not None:
        levels = [lv.get("id") for lv in description.get("rubricCriterionLevel", [])]
        if result.achievedLevel not in levels:
            raise BadRequest(f"{result.achievedLevel!r} is not a rubric level of {name!r}")
    if result.value is None:
        return
    allowed = description.get("allowedValue")
    if allowed and result.value not in allowed:
        raise BadRequest(f"{result.value!r} is not an allowed value of {name!r}")
    score = _number(result.value)
    low, high = _number(description.get("valueMin")), _number(description.get("valueMax"))
    if score is None and (low is not None or high is not None):
        raise BadRequest(f"{name!r} is scored with a number, not {result.value!r}")
    if score is not None and (
        (low is not None and score < low) or (high is not None and score > high)
    ):
        bounds = f"{description.get('valueMin', '…')}..{description.get('valueMax', '…')}"
        raise BadRequest(f"{result.value} is outside {bounds}, the range of {name!r}")


def checked_results(achievement: dict[str, Any], results: list[Result]) -> list[dict[str, Any]]:
    """The OB 3.0 ``result`` entries of a credential of ``achievement`` (its JSON)."""
    descriptions = {
        str(d.get("id")): d
        for d in achievement.get("resultDescription", []) or []
        if isinstance(d, dict)
    }
    for result in results:
        _check(result, descriptions)
    return [{"type": ["Result"], **r.model_dump(exclude_none=True)} for r in results]
