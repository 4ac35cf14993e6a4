"""Bitstring Status Lists: indexes are handed out by the database, in order, never reused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow


class StatusList(SQLModel, table=True):
    __tablename__ = "status_list"

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    purpose: str = Field(default="revocation", max_length=16)
    size: int
    next_index: int = 0
    bits: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
