"""Issued credentials, with what idempotency and revocation need."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from issuer.models.base import json_column, time_column, utcnow


class Credential(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("issuer_id", "idempotency_key"),
        UniqueConstraint("status_list_id", "status_index"),
    )

    id: str = Field(primary_key=True, max_length=36)  # the UUID of urn:uuid:…
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    achievement_id: int = Field(foreign_key="achievement.id", index=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: str = Field(max_length=64)
    status_list_id: int = Field(foreign_key="status_list.id")
    status_index: int
    document: dict[str, Any] = Field(sa_column=json_column())
    jwt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    issued_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    valid_until: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    revocation_reason: str | None = None
    holder_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The DID a wallet proved control of when it collected the badge (``issuing.holders``)."""
    bound_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
