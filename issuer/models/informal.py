"""Informal learning a member claims (a study group, mentoring, coaching, job rotation,
shadowing, a project) and the supervisor of their department endorses or returns
(``issuer.orgs.informal``). An endorsed claim became a badge of the organisation's home issuer
(``credential_id``) with the supervisor's EndorsementCredential (``endorsement``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from issuer.models.base import NEVER_REUSED, time_column, utcnow


class InformalClaim(SQLModel, table=True):
    __tablename__ = "informal_claim"
    __table_args__ = NEVER_REUSED  # its audit subject and badge's idempotency key name the id

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    category: str = Field(max_length=32)
    """One of ``issuer.orgs.rules.INFORMAL_CATEGORIES``."""
    title: str = Field(max_length=200)
    started_on: date
    ended_on: date
    hours: float
    """The hours the learner claimed."""
    evidence_url: str | None = Field(default=None, max_length=2000)
    evidence_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    learned: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default="submitted", max_length=16, index=True)
    """``submitted``, ``returned``, ``endorsed`` or ``withdrawn``."""
    supervisor_email: str = Field(max_length=320, index=True)
    """Who was asked to endorse it (the unit's supervisor when it was submitted)."""
    supervisor_comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    hours_endorsed: float | None = None
    """The hours the supervisor endorsed (at most those claimed)."""
    hours_counted: float | None = None
    """The hours the badge carries: the endorsed hours within the category's yearly cap."""
    cap_hours: float | None = None
    """The category's yearly cap when it was endorsed (``Rules.informal_caps``)."""
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    decided_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    credential_id: str | None = Field(default=None, foreign_key="credential.id", max_length=36)
    endorsement: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The signed OB 3.0 EndorsementCredential embedded in the badge."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
