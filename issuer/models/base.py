"""Shared column helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A stored time with its zone (SQLite hands them back naive; they are UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def json_column() -> Any:
    return Column(JSON, nullable=False)


def time_column(nullable: bool = False) -> Any:
    return Column(DateTime(timezone=True), nullable=nullable)
