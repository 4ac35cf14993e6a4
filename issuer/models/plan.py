"""Development plans (the study, section 4.2.1): a yearly Individual Development Plan per person,
an Executive Development Plan for executives, built on the Executive Core Qualifications.

A plan's objectives are competencies with the level wanted and the level at the start; its
activities are what the person plans to do (dates, costs), each optionally expected to yield a
catalogue achievement, whose badge then marks it done (``issuer.orgs.plans``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow


class DevelopmentPlan(SQLModel, table=True):
    __tablename__ = "development_plan"
    __table_args__ = (UniqueConstraint("org_id", "learner_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    year: int
    kind: str = Field(max_length=3)
    """``IDP`` or ``EDP`` (an executive's: ECQ objectives only)."""
    target: str = Field(max_length=100)
    """The target profile (``badge_templates/targets``) the objectives were seeded from."""
    career_goal: str = Field(default="", sa_column=Column(Text, nullable=False))
    state: str = Field(default="draft", max_length=16)
    """``draft`` → (both signatures) ``signed`` → (the supervisor's year-end review)
    ``reviewed``."""
    supervisor_email: str | None = Field(default=None, max_length=320)
    signed_by_person_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    signed_by_supervisor_at: datetime | None = Field(
        default=None, sa_column=time_column(nullable=True)
    )
    review: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reviewed_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class PlanObjective(SQLModel, table=True):
    """A developmental objective: a competency and the level wanted by the year's end."""

    __tablename__ = "plan_objective"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="development_plan.id", index=True)
    framework: str = Field(max_length=200)
    code: str = Field(max_length=200)
    name: str = Field(max_length=500)
    level_wanted: int
    level_at_start: int
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The supervisor's year-end outcome for this objective."""


class PlanActivity(SQLModel, table=True):
    """A planned developmental activity (a course, a rotation, a reading) with dates and costs."""

    __tablename__ = "plan_activity"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="development_plan.id", index=True)
    objective_id: int | None = Field(default=None, foreign_key="plan_objective.id")
    title: str = Field(max_length=300)
    achievement_key: str | None = Field(default=None, max_length=100)
    """A catalogue achievement the activity is expected to yield: a badge of it marks it done."""
    starts_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    ends_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    cost: float = 0.0
    currency: str = Field(default="KRW", max_length=3)
    done_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """Marked done by hand (an activity with no badge), or frozen at the year-end review."""
    credential_ref: str | None = Field(default=None, max_length=600)
    """The badge that completed it (``urn:uuid:…``), frozen at the year-end review."""
