"""``issuer.core.db.among``: a bulk step's ``IN`` lookups as one array parameter on PostgreSQL
(``= ANY``), an ``IN`` on SQLite; the same rows either way, for integers, text, a nullable
column, values that match nothing and no values at all."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.db import among
from issuer.models import Learner, LearnerEmail
from issuer.models.base import utcnow


@pytest.fixture
def learners(services: Services, client: TestClient) -> dict[str, int]:
    """Five learners (the app, made by ``client``, migrated the database)."""
    made: dict[str, int] = {}
    with Session(services.engine) as session:
        for n in range(5):
            learner = Learner(
                subject_id=f"urn:uuid:00000000-0000-4000-8000-00000000000{n}",
                did=f"did:example:{n}" if n % 2 else None,
                created_at=utcnow(),
            )
            session.add(learner)
            session.flush()
            assert learner.id is not None
            email = f"l{n}@example.org"
            session.add(LearnerEmail(learner_id=learner.id, email=email, created_at=utcnow()))
            made[email] = learner.id
        session.commit()
    return made


def _ids(services: Services, condition: Any) -> list[int]:
    with Session(services.engine) as session:
        return sorted(i for i in session.exec(select(Learner.id).where(condition)) if i)


@pytest.mark.parametrize(
    "wanted",
    [[], ["l1@example.org"], ["l0@example.org", "l3@example.org", "nobody@example.org"]],
)
def test_text_values_find_what_in_finds(
    services: Services, learners: dict[str, int], wanted: list[str]
) -> None:
    with Session(services.engine) as session:
        found = sorted(
            session.exec(
                select(LearnerEmail.learner_id).where(
                    among(session, col(LearnerEmail.email), wanted)
                )
            )
        )
    assert found == sorted(learners[email] for email in wanted if email in learners)


def test_integer_values_and_a_nullable_column(services: Services, learners: dict[str, int]) -> None:
    some = [*sorted(learners.values())[1:4], 10**9]
    with Session(services.engine) as session:
        by_id = among(session, col(Learner.id), some)
        by_did = among(session, col(Learner.did), ["did:example:1", "did:example:2"])
        nothing = among(session, col(Learner.id), [])
    assert _ids(services, by_id) == _ids(services, col(Learner.id).in_(some)) == some[:3]
    assert _ids(services, by_did) == [learners["l1@example.org"]]
    assert _ids(services, nothing) == []
