"""The append-only, hash-chained audit log, and its anchored head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from issuer.models.base import json_column, time_column, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    actor: str = Field(max_length=100)  # "apikey:<prefix>" or "cli"
    action: str = Field(max_length=50)
    subject: str = Field(max_length=600)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    prev_hash: str = Field(unique=True, max_length=64)  # a fork in the chain is refused
    hash: str = Field(unique=True, max_length=64)


class AuditHead(SQLModel, table=True):
    """Where the chain ends: the last entry's ``seq`` and ``hash`` (0 and the genesis hash while
    the log is empty), updated in the transaction of every append. One row, ``id`` 1."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int
    hash: str = Field(max_length=64)
