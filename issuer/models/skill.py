"""One row per alignment of an issued credential's achievement: what the skills cloud adds up,
without reading credential documents; and the groups (departments) an issuer puts learners in."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow


class CredentialSkill(SQLModel, table=True):
    """Validity (``valid_until``, ``revoked_at``) is copied from the credential, so that the
    cloud is one scan of this table; revocation updates both in one transaction."""

    __tablename__ = "credential_skill"

    id: int | None = Field(default=None, primary_key=True)
    credential_id: str = Field(foreign_key="credential.id", index=True, max_length=36)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    framework: str = Field(max_length=200)
    code: str = Field(max_length=200)
    name: str = Field(max_length=500)
    base_weight: float  # type × hours × alignment factor; recency is applied when read
    scaled_weight: float  # base_weight × 2^(days from 2000-01-01 to issued_at / half-life)
    assessed_level: int | None = None  # proficiency 1-5 from an assessed result on the badge
    issued_at: datetime = Field(sa_column=time_column())
    valid_until: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


class LearnerGroup(SQLModel, table=True):
    """A learner's group at one issuer (a department, a cohort, an office): HR data, never in a
    credential."""

    __tablename__ = "learner_group"
    __table_args__ = (
        UniqueConstraint("issuer_id", "learner_id", "name"),
        Index("ix_learner_group_issuer_name", "issuer_id", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id")
    learner_id: int = Field(foreign_key="learner.id", index=True)
    name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class SkillSpan(SQLModel, table=True):
    """Derived from ``credential_skill`` (``issuer.skills.spans``): for one learner of an issuer
    and one skill (``kind`` "skill", equivalent codes merged), an ECQ it rolls up to ("rollup"),
    or any skill at all ("any", framework and code empty), a span of time over which the same
    valid credentials count: from ``starts_at`` until ``ends_at`` (none: still), their summed
    ``weight`` (scaled, as in ``credential_skill``). A learner's spans of one skill never overlap,
    so the learners holding a skill at a time are its spans that contain that time, counted
    without a distinct count."""

    __tablename__ = "skill_span"
    __table_args__ = (
        Index("ix_skill_span_issuer_learner", "issuer_id", "learner_id"),
        Index("ix_skill_span_starts", "issuer_id", "kind", "starts_at"),
        Index("ix_skill_span_ends", "issuer_id", "kind", "ends_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int
    learner_id: int
    kind: str = Field(max_length=10)
    framework: str = Field(max_length=200)
    code: str = Field(max_length=200)
    name: str = Field(max_length=500)
    starts_at: datetime = Field(sa_column=time_column())
    ends_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    weight: float


class SkillSpanDay(SQLModel, table=True):
    """``skill_span`` summed per issuer, kind, skill and day (UTC) on which spans start (weight
    and learners added) or end (taken away): the issuer's whole cloud at a time is the sum of the
    days before it plus that day's spans up to the time, whatever the number of learners. Kept
    in the transaction that rebuilds the spans. ``name``: the largest name of the spans that
    started that day."""

    __tablename__ = "skill_span_day"

    issuer_id: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=10)
    framework: str = Field(primary_key=True, max_length=200)
    code: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    name: str = Field(max_length=500)
    weight: float
    learners: int


class SkillSpanLog(SQLModel, table=True):
    """A learner whose ``skill_span`` rows are out of date: written by database triggers on every
    insert, update and delete of ``credential_skill`` (migration 0016), removed when the spans are
    rebuilt. Until then the cloud reads that learner's ``credential_skill`` rows instead."""

    __tablename__ = "skill_span_log"
    __table_args__ = (Index("ix_skill_span_log_issuer_learner", "issuer_id", "learner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int
    learner_id: int


class SkillSpanState(SQLModel, table=True):
    """What the stored spans were built with (``skill_map``: a digest of the equivalences and
    roll-ups): when a release changes them, every span is rebuilt."""

    __tablename__ = "skill_span_state"

    name: str = Field(primary_key=True, max_length=50)
    value: str = Field(max_length=200)
