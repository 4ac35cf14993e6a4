"""Laurel as an Open Badges 3.0 API client ("Service Consumer (Write)"): the hosts it registered
with, the learners' connections to them and the badges pushed there.

Laurel's client secret at a host and a learner's access and refresh tokens are Laurel's own
credentials at the other host, so they must be usable, not only checkable: they are stored
sealed (AES-256-GCM under a key derived from ``LAUREL_KEY_PASSPHRASE``, ``crypto.sealing``),
never in the clear and never logged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from issuer.models.base import NEVER_REUSED, time_column, utcnow


class ObHost(SQLModel, table=True):
    """An OB 3.0 API host Laurel registered with (RFC 7591), found from its Service Description
    Document; one registration per host, shared by every learner who connects it."""

    __tablename__ = "ob_host"

    id: int | None = Field(default=None, primary_key=True)
    sdd_url: str = Field(unique=True, max_length=2000)
    name: str = Field(max_length=500)
    api_base: str = Field(max_length=2000)
    """``servers[0].url`` of the SDD: where ``/credentials`` is."""
    authorize_url: str = Field(max_length=2000)
    token_url: str = Field(max_length=2000)
    revocation_url: str | None = Field(default=None, max_length=2000)
    client_id: str = Field(max_length=500)
    client_secret: str = Field(max_length=2000)  # sealed
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class ObConnection(SQLModel, table=True):
    """A learner's connection to a host: pending (an authorization request under way, bound to
    the learner's web session by ``state``) or connected (tokens held)."""

    __tablename__ = "ob_connection"
    __table_args__ = (UniqueConstraint("learner_id", "host_id"), NEVER_REUSED)
    # the token exchange finds the row by id after a call to the host; it can be deleted meanwhile

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    host_id: int = Field(foreign_key="ob_host.id", index=True)
    state_hash: str | None = Field(default=None, max_length=64)
    web_session_id: int | None = Field(default=None)
    code_verifier: str | None = Field(default=None, max_length=500)  # sealed
    state_expires_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    scope: str | None = Field(default=None, max_length=1000)
    access_token: str | None = Field(default=None, max_length=4000)  # sealed
    refresh_token: str | None = Field(default=None, max_length=4000)  # sealed
    expires_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    connected_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    send_new: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    """The learner's consent: badges issued to them from now on are sent to this host."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class ObPush(SQLModel, table=True):
    """One badge pushed to a connected host with ``upsertCredential``: queued, sent or failed
    (with the host's last answer and when it is tried again)."""

    __tablename__ = "ob_push"

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    connection_id: int = Field(foreign_key="ob_connection.id", index=True)
    badge_ref: str = Field(max_length=100)
    """The wallet's reference (``wallet.badges.find``): ``c-{credential uuid}`` or
    ``i-{imported id}``."""
    badge_name: str = Field(max_length=500)
    state: str = Field(default="queued", max_length=10)  # queued | sent | failed
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=2000)
    next_attempt_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    lease_until: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """Held by the worker calling the other host until then (``issuer.effects``, LEASE)."""
    sent_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
