"""OAuth 2.0 (RFC 6749) as an authorization server for learners' data: registered client
applications (RFC 7591), authorization codes and access/refresh tokens. Client secrets, codes and
tokens are high-entropy random values stored only as SHA-256 hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from issuer.models.base import json_column, time_column, utcnow


class OAuthClient(SQLModel, table=True):
    """A client application registered by RFC 7591 dynamic registration (the OB 3.0 profile)."""

    __tablename__ = "oauth_client"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(unique=True, max_length=64)
    secret_hash: str = Field(max_length=64)
    registered: dict[str, Any] = Field(sa_column=json_column())
    """The registered metadata as echoed to the client (names, URLs, redirect URIs, scope…)."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class OAuthCode(SQLModel, table=True):
    """An authorization code: single-use, short-lived, bound to its client and redirect URI."""

    __tablename__ = "oauth_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64)
    client_id: int = Field(foreign_key="oauth_client.id", index=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    redirect_uri: str = Field(max_length=2000)
    scope: str = Field(max_length=1000)
    code_challenge: str = Field(max_length=128)
    code_challenge_method: str = Field(max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    expires_at: datetime = Field(sa_column=time_column())
    used_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


class OAuthToken(SQLModel, table=True):
    """An access token and (optionally) its refresh token. ``code_id`` ties every token issued
    from one authorization code (and the refreshes after it) together, so that a replayed code or
    a replayed rotated refresh token can revoke them all."""

    __tablename__ = "oauth_token"

    id: int | None = Field(default=None, primary_key=True)
    access_hash: str = Field(unique=True, max_length=64)
    refresh_hash: str | None = Field(default=None, unique=True, max_length=64)
    client_id: int = Field(foreign_key="oauth_client.id", index=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    code_id: int | None = Field(default=None, foreign_key="oauth_code.id", index=True)
    scope: str = Field(max_length=1000)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    expires_at: datetime = Field(sa_column=time_column())
    refresh_expires_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
