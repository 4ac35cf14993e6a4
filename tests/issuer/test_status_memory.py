"""Status lists served from memory: ``/status/{n}`` answers a known version (and a conditional GET
with 304) without a database query, a revocation in this process is served at once, and one made
by another process within ``statuslists.VERSION_TTL``; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlmodel import Session

from issuer.context import Services
from issuer.issuing import statuslists
from tests.issuer.conftest import issue_body, make_issuer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(statuslists, "_clock", fake)
    return fake


@pytest.fixture
def statements(services: Services) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(services.engine, "before_cursor_execute", record)
    yield seen
    event.remove(services.engine, "before_cursor_execute", record)


def _issued(client: TestClient, services: Services) -> tuple[dict[str, Any], str, dict[str, str]]:
    headers = make_issuer(services, client, "hrd")
    response = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    assert response.status_code == 201, response.text
    credential = response.json()
    url = credential["credentialStatus"]["statusListCredential"].removeprefix("https://laurel.test")
    return credential, url, headers


def _status_queries(statements: list[str]) -> list[str]:
    return [s for s in statements if "status_list" in s]


def test_known_version_is_served_without_the_database(
    client: TestClient, services: Services, clock: Clock, statements: list[str]
) -> None:
    _, url, _ = _issued(client, services)
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    statements.clear()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    again = client.get(url)
    assert (again.status_code, again.content, again.headers["etag"]) == (200, first.content, etag)
    assert _status_queries(statements) == []
    clock.now += statuslists.VERSION_TTL  # remembered no longer: asked again, once
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert len(_status_queries(statements)) == 1
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/status/999999").status_code == 404


def test_revocation_in_this_process_is_served_at_once(
    client: TestClient, services: Services, clock: Clock
) -> None:
    credential, url, headers = _issued(client, services)
    etag = client.get(url).headers["etag"]
    revoked = client.post(
        f"/api/v1/credentials/{credential['id']}/revoke", json={"reason": "error"}, headers=headers
    )
    assert revoked.status_code == 200, revoked.text
    changed = client.get(url, headers={"If-None-Match": etag})  # no time has passed
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_another_process_revocation_is_seen_within_the_ttl(
    client: TestClient, services: Services, clock: Clock
) -> None:
    _, url, _ = _issued(client, services)
    etag = client.get(url).headers["etag"]
    list_id = int(url.rsplit("/", 1)[1])
    with Session(services.engine) as other:  # as another process would: no set_revoked here
        other.execute(
            text("UPDATE status_list SET version = version + 1 WHERE id = :id"), {"id": list_id}
        )
        other.commit()
    clock.now += statuslists.VERSION_TTL * 0.9
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304  # the bound
    clock.now += statuslists.VERSION_TTL * 0.1
    fresh = client.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert _counter(fresh.headers["etag"]) == _counter(etag) + 1


def _counter(etag: str) -> int:
    """The change counter in a list's ETag, ``"{list}-{counter}-{time of the last change}"``."""
    return int(etag.strip('"').split("-")[1])


def test_a_counter_that_comes_back_over_other_bits_has_another_etag(
    client: TestClient, services: Services, clock: Clock
) -> None:
    """A database restored from a backup counts the list's changes again from the backup's
    count, over other bits. The ETag names the time of the last change too, so a cache holding
    the list of before the restore (the same count) is not answered 304."""
    first, url, headers = _issued(client, services)
    second = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    assert second.status_code == 201, second.text
    list_id = int(url.rsplit("/", 1)[1])
    query = "SELECT bits, version, updated_at FROM status_list WHERE id = :id"
    with Session(services.engine) as session:  # the backup
        backup = session.execute(text(query), {"id": list_id}).one()
    revoke = "/api/v1/credentials/{}/revoke"
    answer = client.post(revoke.format(first["id"]), json={"reason": "error"}, headers=headers)
    assert answer.status_code == 200, answer.text
    before_restore = client.get(url)
    with Session(services.engine) as session:  # the restore
        session.execute(
            text(
                "UPDATE status_list SET bits = :bits, version = :version, "
                "updated_at = :updated_at WHERE id = :id"
            ),
            {**backup._asdict(), "id": list_id},
        )
        session.commit()
    clock.now += statuslists.VERSION_TTL
    answer = client.post(
        revoke.format(second.json()["id"]), json={"reason": "error"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    after = client.get(url, headers={"If-None-Match": before_restore.headers["etag"]})
    assert after.status_code == 200
    assert _counter(after.headers["etag"]) == _counter(before_restore.headers["etag"])
    assert after.headers["etag"] != before_restore.headers["etag"]
    assert after.content != before_restore.content


def test_a_rolled_back_revocation_changes_nothing(
    client: TestClient, services: Services, clock: Clock
) -> None:
    _, url, _ = _issued(client, services)
    etag = client.get(url).headers["etag"]
    list_id = int(url.rsplit("/", 1)[1])
    with Session(services.engine) as session:
        statuslists.set_revoked(session, list_id, 0)
        session.rollback()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
