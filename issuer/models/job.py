"""Bulk issuance jobs: the rows of a large upload and what became of each, kept in the database
so that a job survives a crash and its report can be read at any time (``issuer.issuing.jobs``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow


class BulkJob(SQLModel, table=True):
    __tablename__ = "bulk_job"

    id: str = Field(primary_key=True, max_length=36)  # a UUID
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    actor: str = Field(max_length=200)
    status: str = Field(default="queued", max_length=20)  # queued, running, done
    total: int = 0
    issued: int = 0
    already: int = 0
    errors: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    finished_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    runs: int = 0
    """How many times a worker took the job up (more than one: it was resumed)."""
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


class BulkJobRow(SQLModel, table=True):
    __tablename__ = "bulk_job_row"
    __table_args__ = (Index("ix_bulk_job_row_todo", "job_id", "status", "number"),)

    job_id: str = Field(foreign_key="bulk_job.id", primary_key=True, max_length=36)
    number: int = Field(primary_key=True)
    request: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The validated issuance request (None for a row that failed validation)."""
    idempotency_key: str | None = Field(default=None, max_length=200)
    status: str = Field(default="pending", max_length=20)  # pending, issued, already issued, error
    credential_id: str | None = Field(default=None, max_length=36)
    error: str | None = Field(default=None, max_length=2000)
