"""An issuer's named staff (owner, issuer or viewer), their invitations, and the access log of
who looked at which person's data. Invitation tokens are stored as SHA-256 hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow

ROLES = ("owner", "issuer", "viewer")
"""Each role can do what the ones after it can: an owner also issues, an issuer also reads."""


class StaffMember(SQLModel, table=True):
    """A person who works in the console for one issuer."""

    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("issuer_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    email: str = Field(index=True, max_length=320)
    role: str = Field(max_length=10)
    totp_secret: str | None = Field(default=None, max_length=64)
    """Base32; set while enrolling, in force once ``totp_enabled_at`` is set."""
    totp_enabled_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    totp_last_step: int | None = None
    """The last time step whose code was accepted: a code is never accepted twice."""
    totp_failures: int = 0
    """Wrong codes since the last right one (``issuer.people.staff.MAX_CODE_FAILURES``)."""
    totp_locked_until: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """No code is looked at before then: too many wrong ones were sent."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    removed_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))

    def can(self, role: str) -> bool:
        """Whether this member's role includes ``role``'s rights."""
        return ROLES.index(self.role) <= ROLES.index(role)


class StaffInvitation(SQLModel, table=True):
    """A single-use invitation, emailed, to join an issuer's staff with a role."""

    __tablename__ = "staff_invitation"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    email: str = Field(max_length=320)
    role: str = Field(max_length=10)
    invited_by: str = Field(max_length=400)
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    expires_at: datetime = Field(sa_column=time_column())
    used_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """When it was accepted, cancelled, or replaced by a newer invitation to the same email
    (``issuer.people.staff``): it no longer works."""


class AccessLogEntry(SQLModel, table=True):
    """Someone (staff or an API key) looked at a person's data (badges, skills, hours) or
    searched for people."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    actor: str = Field(max_length=400)
    action: str = Field(max_length=40)
    subject: str = Field(max_length=400)
    at: datetime = Field(default_factory=utcnow, sa_column=time_column())
