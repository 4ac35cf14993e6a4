"""The learner's wallet: sign-in links, browser sessions, share links, the public profile and
badges imported from other issuers. Secrets (link and session tokens) are stored as SHA-256
hashes; share tokens are capabilities for public pages and are stored as they are, so that the
learner can copy a link again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow


class SignInLink(SQLModel, table=True):
    """A one-time link sent by email: to sign in, or to prove a further email."""

    __tablename__ = "sign_in_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    email: str = Field(index=True, max_length=320)
    purpose: str = Field(max_length=20)  # "sign-in" or "add-email"
    learner_id: int | None = Field(default=None, foreign_key="learner.id")  # add-email: who asks
    requester: str = Field(index=True, max_length=64)  # SHA-256 of the client address
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    expires_at: datetime = Field(sa_column=time_column())
    used_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


class WebSession(SQLModel, table=True):
    """A browser session: a learner in the wallet, or a staff member in the console."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    kind: str = Field(max_length=10)  # "learner" or "staff"
    learner_id: int | None = Field(default=None, foreign_key="learner.id", index=True)
    api_key_id: int | None = Field(default=None, foreign_key="api_key.id")  # no longer set
    staff_id: int | None = Field(default=None, foreign_key="staff_member.id", index=True)
    """Staff sessions (kinds ``staff``; ``staff-mfa``: the second factor is still to come;
    ``staff-new``: a TOTP enrolment is required first)."""
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    expires_at: datetime = Field(sa_column=time_column())


class ImportedCredential(SQLModel, table=True):
    """A badge from another issuer, kept in its original form with the verdict of its last
    check."""

    __tablename__ = "imported_credential"
    __table_args__ = (
        # one row per credential (its issuer and id) and learner, whatever races: the database
        # decides. A credential of another issuer with the same id is another credential.
        Index(
            "uq_imported_learner_issuer_credential",
            "learner_id",
            "credential_id",
            "issuer_ref",
            unique=True,
            sqlite_where=text("credential_id IS NOT NULL"),
            postgresql_where=text("credential_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    original: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    media_type: str = Field(max_length=100)  # of ``original``
    source_url: str | None = Field(default=None, max_length=2000)
    legacy: bool = False  # an Open Badges 2.0 assertion: shown, never signature-verified
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    credential_id: str | None = Field(default=None, max_length=500)  # the credential's own id
    issuer_ref: str = Field(default="", max_length=600)
    """Its issuer's id (``imports_legacy.issuer_ref_of``), ``""`` when it names none."""
    name: str = Field(max_length=500)
    issuer_name: str = Field(max_length=500)
    issued_on: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    verdict: str = Field(max_length=30)  # verifier.Verdict value, or "legacy"
    report: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    checked_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class ShareLink(SQLModel, table=True):
    """A revocable, optionally expiring link to one badge (issued here, or imported)."""

    __tablename__ = "share_link"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(unique=True, max_length=64)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    credential_id: str | None = Field(default=None, foreign_key="credential.id", max_length=36)
    imported_id: int | None = Field(default=None, foreign_key="imported_credential.id")
    label: str | None = Field(default=None, max_length=100)
    views: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    expires_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


class PublicProfile(SQLModel, table=True):
    """An opt-in public page with the badges the learner chooses."""

    __tablename__ = "public_profile"
    __table_args__ = (UniqueConstraint("learner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id")
    slug: str = Field(unique=True, max_length=64)
    display_name: str = Field(max_length=200)
    headline: str | None = Field(default=None, max_length=300)
    published: bool = False
    badges: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """``c:{credential uuid}`` for badges issued here, ``i:{imported id}`` for imported ones."""
    updated_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
