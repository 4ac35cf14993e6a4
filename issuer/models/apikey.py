"""API keys: stored as SHA-256 hashes, scoped, owned by one issuer."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow

SCOPES = ("issue", "revoke", "read", "admin")


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    prefix: str = Field(unique=True, max_length=16)
    key_hash: str = Field(max_length=64)
    scopes: str = Field(max_length=100)
    name: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    last_used_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """Updated at most once a minute (``institutes.apikeys.authenticate``)."""
    revoked_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))

    def has(self, scope: str) -> bool:
        granted = set(self.scopes.split(","))
        return scope in granted or "admin" in granted
