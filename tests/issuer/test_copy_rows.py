"""``copy_rows``: PostgreSQL takes a bulk step's rows by COPY, and stores exactly what an INSERT
of the same rows stores (on SQLite it declines and the caller inserts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from issuer.context import Services
from issuer.core.db import COPY_FROM, copy_rows, is_postgres, migrate, unit_of_work
from issuer.models import Learner, LearnerEmail, PendingEffect
from issuer.models.base import table_of

SEOUL = timezone(timedelta(hours=9))


def _effects(kind: str) -> list[dict[str, Any]]:
    return [
        {
            "kind": kind,
            "payload": {"n": n, "이름": '김민준 "K"\n\\', "none": None, "list": [1.5, True]},
            "created_at": datetime(2026, 12, 3, 9, 0, n % 60, tzinfo=SEOUL),
            "run_after": datetime(2026, 12, 3, 0, 0, tzinfo=UTC) + timedelta(minutes=n),
            "attempts": n,
        }
        for n in range(COPY_FROM + 8)
    ]


def _stored(services: Services, kind: str) -> list[tuple[Any, ...]]:
    table = table_of(PendingEffect)
    with unit_of_work(services.engine, write=False) as session:
        found = session.execute(
            select(table.c.payload, table.c.created_at, table.c.run_after, table.c.attempts)
            .where(table.c.kind == kind)
            .order_by(table.c.attempts)
        ).all()
    return [tuple(row) for row in found]


def test_copy_stores_what_an_insert_stores(services: Services) -> None:
    migrate(services.engine)
    table = table_of(PendingEffect)
    with unit_of_work(services.engine) as session:
        copied = copy_rows(session, table, _effects("copied"))
        if not copied:
            session.execute(insert(table), _effects("copied"))
        session.execute(insert(table), _effects("inserted"))
        assert not copy_rows(session, table, _effects("few")[: COPY_FROM - 1])
    assert copied == is_postgres(services.engine)
    stored = _stored(services, "copied")
    assert stored == _stored(services, "inserted")
    assert len(stored) == COPY_FROM + 8
    assert stored[0][1] == datetime(2026, 12, 3, 0, 0, 0, tzinfo=UTC)  # 09:00 in Seoul
    assert stored[1][0]["이름"] == '김민준 "K"\n\\' and stored[1][0]["none"] is None


def test_a_violated_constraint_is_an_integrity_error_and_writes_nothing(
    services: Services,
) -> None:
    migrate(services.engine)
    if not is_postgres(services.engine):
        pytest.skip("only PostgreSQL copies")
    with unit_of_work(services.engine) as session:
        learner = Learner(subject_id="urn:uuid:copy-test")
        session.add(learner)
        session.flush()
        learner_id = learner.id
    now = datetime.now(UTC)
    rows = [
        {
            "learner_id": learner_id,
            "email": f"l{n}@example.org",
            "verified": False,
            "is_primary": n == 0,
            "created_at": now,
        }
        for n in range(COPY_FROM)
    ]
    with unit_of_work(services.engine) as session:  # the rows themselves are fine
        assert copy_rows(session, table_of(LearnerEmail), rows)
        session.rollback()
    rows.append(dict(rows[3]))  # the same email twice
    with (
        pytest.raises(IntegrityError, match="duplicate key"),
        unit_of_work(services.engine) as session,
    ):
        copy_rows(session, table_of(LearnerEmail), rows)
    with unit_of_work(services.engine, write=False) as session:
        assert session.execute(select(table_of(LearnerEmail))).all() == []
