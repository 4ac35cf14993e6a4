"""An organisation's learning-hours rules (``Organisation.rules``, JSON), with Korea's Ongoing
Learning System as the default (the source study, §3.2): officials at grade 4 or below complete
80 hours a year, at least 40% of them in department-designated learning, and informal learning
(study groups, mentoring, coaching, job rotation, shadowing, projects) counts within caps.

What the study does not give a figure for is Laurel's default and says so in ``docs/skills.md``:
the mandatory digital-training share (10 hours) and the per-category informal caps.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

INFORMAL_CATEGORIES = (
    "study_group",
    "mentoring",
    "coaching",
    "job_rotation",
    "shadowing",
    "project",
)
"""The kinds of informal learning a member can claim (``issuer.orgs.informal``)."""

Hours = Annotated[float, Field(ge=0)]
"""A number of hours: never negative (a negative requirement or cap would count backwards)."""


class Rules(BaseModel):
    """An organisation's learning-hours rules. Every number is finite and none is negative:
    NaN or Infinity (which the console's JSON form would otherwise take) makes no valid report
    and no valid JSON answer, and negative hours would count backwards."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    required_hours: dict[str, Hours] = Field(
        default_factory=lambda: {grade: 80.0 for grade in ("4", "5", "6", "7", "8", "9")}
    )
    """Hours a year by grade as the roster writes it; a grade not listed has no requirement
    (grades 1–3 and the senior civil service, under the Ongoing Learning System)."""
    default_required: Hours = 0.0
    """Hours for a member whose grade is not listed (or unknown)."""
    designated_share: float = Field(default=0.4, ge=0, le=1)
    """The share of the required hours that must be department-designated learning."""
    designated: dict[str, list[str]] = Field(default_factory=dict)
    """Unit code (or ``"*"`` for every unit) -> achievement keys or tags that unit designates;
    a unit's designations include its parents'."""
    mandatory_hours: Hours = 10.0
    """Hours a year of the mandatory training below (Laurel's default: digital training)."""
    mandatory_tags: list[str] = Field(default_factory=lambda: ["digital", "digital-literacy"])
    """Achievements with any of these tags (or catalogue badge area) count as mandatory."""
    informal_caps: dict[str, Hours] = Field(
        default_factory=lambda: {
            "study_group": 20.0,
            "mentoring": 20.0,
            "coaching": 20.0,
            "job_rotation": 30.0,
            "shadowing": 10.0,
            "project": 30.0,
        }
    )
    """Most hours a year each category of informal learning can add."""
    informal_share: float = Field(default=0.5, ge=0, le=1)
    """Informal learning counts for at most this share of the required hours (of 80 when the
    member has no requirement)."""
    annual_badge: str | None = "ongoing-learning-annual"
    """The achievement key the organisation awards when a member meets the year's rule
    (``None``: none)."""

    def required_for(self, grade: str | None) -> float:
        if grade is None:
            return self.default_required
        return self.required_hours.get(grade.strip().removesuffix("급"), self.default_required)


def load(stored: dict[str, Any] | None) -> Rules:
    """The rules an organisation stored (``Organisation.rules``); empty means the defaults.
    ``pydantic.ValidationError`` for rules that are not valid (the API answers 422)."""
    return Rules.model_validate(stored or {})
