"""Learners: one person, many emails, one pseudonymous subject id; the DIDs issuers named for
them (``issuer.people.dids``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from issuer.models.base import NEVER_REUSED, time_column, utcnow


class Learner(SQLModel, table=True):
    __table_args__ = NEVER_REUSED  # ``learner:{id}``, idempotency keys; merging deletes rows

    id: int | None = Field(default=None, primary_key=True)
    subject_id: str = Field(unique=True, max_length=200)  # urn:uuid:…, never a DID
    name: str | None = None
    did: str | None = None
    """A DID the learner established herself, the subject of every issuer's badges that name
    none; never one an issuer named (that is the issuer's, ``LearnerDid``)."""
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


class LearnerDid(SQLModel, table=True):
    """The DID an issuer last named for a learner (``recipient.did``): that issuer's statement,
    the subject of its later badges for her that name none, never another issuer's. One DID names
    one learner per issuer."""

    __tablename__ = "learner_did"
    __table_args__ = (UniqueConstraint("issuer_id", "did"),)

    learner_id: int = Field(foreign_key="learner.id", primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", primary_key=True)
    did: str = Field(max_length=2000)
    named_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
