"""Shared column helpers, and the one time type every stored time uses.

Times are UTC everywhere: ``UTCDateTime`` stores an aware time converted to UTC (PostgreSQL:
``timestamptz``; SQLite, which has no time zones: the UTC wall time as text) and reads it back
aware, in UTC, on both databases, so the same query compares the same instants on both. A naive
time is refused rather than guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

NEVER_REUSED = {"sqlite_autoincrement": True}
"""``__table_args__`` of a table whose ids are named where no foreign key follows them (an
idempotency key, an audit subject, a request that outlives its transaction) and whose rows can
be deleted: SQLite would otherwise give the highest deleted id to the next row (PostgreSQL's
sequences never reuse one). Migration 0022 rebuilt the tables that have it."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A time with its zone, in UTC (a naive time is taken to be UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_time(value: str) -> datetime:
    """An ISO 8601 / RFC 3339 time (``Z`` or an offset; naive means UTC), in UTC.
    ``ValueError`` if it is not one."""
    return aware(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))


def maybe_time(value: Any) -> datetime | None:
    """``parse_time`` for what a foreign document says: ``None`` when it is no time at all."""
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def iso(moment: datetime) -> str:
    """``2026-03-01T09:00:00Z``: UTC, whole seconds, as credentials write times."""
    return aware(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware time stored as UTC and read back aware in UTC, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a stored time needs a time zone: {value!r}")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else aware(value)


def json_column() -> Any:
    return Column(JSON, nullable=False)


def time_column(nullable: bool = False) -> Any:
    return Column(UTCDateTime(), nullable=nullable)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for bulk ``insert``/``update`` (SQLModel does not declare
    ``__table__`` to type checkers)."""
    table = model.__dict__.get("__table__")
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table
