"""Learners: one person, many emails, one pseudonymous subject id."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow


class Learner(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    subject_id: str = Field(unique=True, max_length=200)  # urn:uuid:… or the learner's DID
    name: str | None = None
    did: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    deleted_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """Set when the learner deleted their account: their personal data is gone; the issuers'
    records of what they issued stay."""


class LearnerEmail(SQLModel, table=True):
    __tablename__ = "learner_email"

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    email: str = Field(unique=True, max_length=320)  # trimmed and lower-cased
    verified: bool = False
    is_primary: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
