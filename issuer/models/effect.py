"""Post-commit effects waiting to run (``issuer.core.effects``, ``issuer.effects``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from issuer.models.base import json_column, time_column, utcnow


class PendingEffect(SQLModel, table=True):
    """Work that follows a committed change (a programme award, an email, a webhook): written in
    the same transaction as the change, run after it commits, retried until done."""

    __tablename__ = "pending_effect"
    __table_args__ = (Index("ix_pending_effect_due", "done_at", "run_after", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    run_after: datetime = Field(default_factory=utcnow, sa_column=time_column())
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    done_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    lease_until: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """Held by the worker calling the other host until then (``issuer.effects``, LEASE)."""
