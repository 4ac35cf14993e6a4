"""One row per alignment of an issued credential's achievement: what the skills cloud adds up,
without reading credential documents; and the groups (departments) an issuer puts learners in."""

from __future__ import annotations

from datetime import datetime

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
