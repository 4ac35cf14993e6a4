"""One time type for every stored time (``issuer.models.base.UTCDateTime``): SQLite and
PostgreSQL store the same instant and answer the same time filters the same way, whatever zone
the question is asked in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from issuer.context import Services
from issuer.models import Credential, PendingEffect
from issuer.models.base import UTCDateTime, aware, iso, maybe_time, parse_time
from tests.issuer.conftest import issue_body, make_issuer

SEOUL = timezone(timedelta(hours=9))


def test_times_round_trip_as_aware_utc(client: TestClient, services: Services) -> None:
    """Stored as the UTC instant (SQLite: its UTC wall time), read back aware in UTC."""
    moment = datetime(2026, 3, 1, 9, 30, tzinfo=SEOUL)  # 00:30 UTC
    with Session(services.engine) as session:
        session.add(PendingEffect(kind="probe", run_after=moment))
        session.commit()
        back = session.exec(select(PendingEffect)).one().run_after
        raw = session.execute(text("SELECT run_after FROM pending_effect")).scalar_one()
    assert back == moment and back.tzinfo == UTC
    if services.engine.dialect.name == "sqlite":
        assert str(raw).startswith("2026-03-01 00:30:00")
    else:
        assert raw == moment


def test_a_naive_time_is_refused_not_guessed(services: Services) -> None:
    with pytest.raises(ValueError, match="time zone"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), services.engine.dialect)


def test_helpers() -> None:
    assert parse_time("2026-03-01T09:00:00+09:00") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_time("2026-03-01T00:00:00") == datetime(2026, 3, 1, tzinfo=UTC)  # naive: UTC
    assert iso(datetime(2026, 3, 1, 9, 0, 0, 123, tzinfo=SEOUL)) == "2026-03-01T00:00:00Z"
    assert maybe_time("not a time") is None and maybe_time(42) is None
    assert aware(datetime(2026, 1, 1)).tzinfo == UTC


@pytest.mark.parametrize(
    ("after", "before", "expected"),
    [
        ("2026-03-01T00:00:00Z", None, ["b", "c"]),
        ("2026-03-01T09:00:00+09:00", None, ["b", "c"]),  # the same instant, from Seoul
        ("2026-03-01T00:00:00", None, ["b", "c"]),  # no zone: UTC
        ("2026-03-01T00:00:01Z", None, ["c"]),
        (None, "2026-03-01T00:00:00Z", ["a"]),
        ("2026-02-28T23:00:00-01:00", "2026-03-02T08:59:59+09:00", ["b"]),
    ],
)
def test_issued_after_and_before_answer_the_same_on_both_databases(
    client: TestClient,
    services: Services,
    after: str | None,
    before: str | None,
    expected: list[str],
) -> None:
    """Three credentials issued at 2026-02-28 23:59:59, 2026-03-01 00:00:00 and 2026-03-02
    00:00:00 UTC; the same filters, asked in several zones, find the same ones on SQLite and on
    PostgreSQL (this test runs on both)."""
    headers = make_issuer(services, client, "hrd")
    moments = {
        "a": datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
        "b": datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC),
        "c": datetime(2026, 3, 2, 0, 0, 0, tzinfo=SEOUL) + timedelta(hours=9),
    }
    names = {}
    for name in moments:
        body = issue_body(f"{name}@example.org")
        created = client.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers)
        assert created.status_code == 201, created.text
        names[created.json()["id"]] = name
    with Session(services.engine) as session:
        for row in session.exec(select(Credential)):
            row.issued_at = moments[names[f"urn:uuid:{row.id}"]]
            session.add(row)
        session.commit()
    params = {k: v for k, v in {"issued_after": after, "issued_before": before}.items() if v}
    answer = client.get("/api/v1/issuers/hrd/credentials", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    found = sorted(names[c["id"]] for c in answer.json()["credentials"])
    assert found == expected
