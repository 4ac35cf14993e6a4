"""No database transaction stays open across the network (docs/operations.md, "Background work"):
while Laurel waits for another host — a badge host the learner connects (discovery, registration,
the token exchange, revocation), a webhook receiver — it holds none of the pool's connections,
and on SQLite another writer takes the write lock at once (``BEGIN IMMEDIATE`` with a busy
timeout of 0: a held lock fails it with "database is locked", no clock involved). The effect
lease: two workers never send one webhook delivery twice. The allowance on starting connections:
429 with ``Retry-After``. Audit round 6 (a slow host held the one SQLite write lock ~7 s per
connect; on PostgreSQL a pooled connection each)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from issuer.context import Services
from issuer.core import effects
from issuer.core.db import unit_of_work
from issuer.core.effects import WEBHOOK_DELIVER
from issuer.core.errors import HostFailed
from issuer.effects import run_due, run_one
from issuer.issuing import issuance
from issuer.models import ObConnection, ObHost, PendingEffect, WebhookDelivery
from issuer.obclient import connections, discovery
from issuer.people import signin
from issuer.people.learners import resolve_learner
from issuer.schemas import IssueRequest
from tests.issuer.conftest import issue_body, make_issuer
from tests.issuer.test_webhooks import _add, api, loopback

__all__ = ["api", "loopback"]  # the fixtures
HOST = "https://host.example"


def assert_database_free(services: Services) -> None:
    """Nothing of the database is held: no pooled connection is checked out and, on SQLite,
    another connection takes the write lock without waiting."""
    assert services.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    if services.engine.dialect.name == "sqlite":
        other = sqlite3.connect(str(services.engine.url.database), timeout=0)
        try:
            other.isolation_level = None
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if a writer holds it
            other.execute("COMMIT")
        finally:
            other.close()


class Network:
    """A fake other host: each call first checks that the database is free, then answers."""

    def __init__(self, services: Services) -> None:
        self.services, self.calls = services, []  # type: ignore[var-annotated]
        self.during: Callable[[], None] | None = None

    def wait(self, what: str) -> None:
        self.calls.append(what)
        assert_database_free(self.services)
        if self.during is not None:
            during, self.during = self.during, None
            during()

    def call(self, services: Services, method: str, url: str, **_: Any) -> httpx.Response:
        self.wait(f"{method} {url}")
        if url.endswith("/token"):
            return httpx.Response(200, json={"access_token": "a", "token_type": "Bearer"})
        return httpx.Response(200, text="ok")


def _description() -> discovery.Description:
    return discovery.Description(
        sdd_url=HOST + discovery.SUFFIX,
        name="Slow Host",
        api_base=HOST + "/ims/ob/v3p0",
        registration_url=HOST + "/register",
        authorize_url=HOST + "/authorize",
        token_url=HOST + "/token",
        revocation_url=HOST + "/revoke",
        scopes=(discovery.UPSERT,),
    )


@pytest.fixture
def wallet(loopback: Services, api: TestClient) -> Iterator[tuple[TestClient, str]]:
    with unit_of_work(loopback.engine) as db:
        learner = resolve_learner(db, "mallory@example.org")
        started = signin.start_session(db, learner_id=learner.id)
    api.cookies.set("laurel_wallet", started.token)
    yield api, started.csrf


def test_connecting_calling_back_and_disconnecting_hold_no_database_while_the_host_answers(
    loopback: Services, wallet: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, csrf = wallet
    network = Network(loopback)

    def discover(services: Services, url: str) -> discovery.Description:
        network.wait("GET " + url)
        return _description()

    def register(services: Services, found: discovery.Description) -> ObHost:
        network.wait("POST " + found.registration_url)
        return ObHost(
            sdd_url=found.sdd_url,
            client_id="laurel",
            client_secret=connections._seal(services, "ob_host.client_secret", "s"),
            name=found.name,
            api_base=found.api_base,
            authorize_url=found.authorize_url,
            token_url=found.token_url,
        )

    monkeypatch.setattr(discovery, "discover", discover)
    monkeypatch.setattr(connections, "register", register)
    monkeypatch.setattr(connections, "call", network.call)
    started = client.post(
        "/wallet/connections", data={"csrf": csrf, "sdd_url": HOST}, follow_redirects=False
    )
    assert started.status_code == 303, started.text
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    back = client.get(
        connections.CALLBACK, params={"state": state, "code": "c"}, follow_redirects=False
    )
    assert back.status_code == 303 and back.headers["location"].endswith("done=connected")
    with unit_of_work(loopback.engine, write=False) as db:
        [connection] = db.exec(select(ObConnection)).all()
        assert connection.connected_at is not None
    gone = client.post(
        f"/wallet/connections/{connection.id}/disconnect",
        data={"csrf": csrf},
        follow_redirects=False,
    )
    assert gone.status_code == 303, gone.text
    assert [c.split()[0] for c in network.calls] == ["GET", "POST", "POST", "POST"]
    assert network.calls[2].endswith("/token") and network.calls[3].endswith("/revoke")
    with unit_of_work(loopback.engine, write=False) as db:
        assert db.exec(select(ObConnection)).all() == []


def test_starting_connections_is_allowed_so_often_per_learner_and_address(
    loopback: Services, wallet: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, csrf = wallet
    loopback.settings.connect_rate = "2/minute"

    def slow(services: Services, url: str) -> discovery.Description:
        raise HostFailed("the host did not answer")

    monkeypatch.setattr(discovery, "discover", slow)
    for _ in range(2):
        tried = client.post("/wallet/connections", data={"csrf": csrf, "sdd_url": HOST})
        assert tried.status_code == 502, tried.text
    refused = client.post("/wallet/connections", data={"csrf": csrf, "sdd_url": HOST})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "at most 2 per 1 minute" in refused.text


def _issued_with_a_webhook(services: Services, client: TestClient) -> None:
    """An issuance with a webhook endpoint, committed; its effects not run yet."""
    headers = make_issuer(services, client, "hrd")
    _add(client, headers, "https://hooks.example.org/in", ["credential.issued"])
    with unit_of_work(services.engine) as db:
        issuance.issue(db, services, "hrd", IssueRequest.model_validate(issue_body()))


def _deliver_effects(services: Services) -> list[int]:
    with unit_of_work(services.engine, write=False) as db:
        query = select(PendingEffect.id).where(PendingEffect.kind == WEBHOOK_DELIVER)
        return [i for i in db.exec(query) if i is not None]


def test_a_webhook_is_sent_with_no_database_held_and_once_by_two_workers(
    loopback: Services, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from issuer.notify import deliveries

    network = Network(loopback)
    monkeypatch.setattr(deliveries, "call", network.call)
    _issued_with_a_webhook(loopback, api)
    # The event effect records the delivery; a worker runs its effect and, while the receiver
    # "answers", a second worker tries the same effect, then a replay of the same attempt.
    seen: list[bool] = []

    def second_worker() -> None:
        [effect_id] = _deliver_effects(loopback)
        seen.append(run_one(loopback, effect_id))
        with unit_of_work(loopback.engine) as db:
            [delivery] = db.exec(select(WebhookDelivery)).all()
            effects.emit(db, WEBHOOK_DELIVER, {"delivery": delivery.id, "attempt": 0})
        seen.append(run_one(loopback, max(_deliver_effects(loopback))))

    network.during = second_worker
    run_due(loopback)
    assert seen == [True, True]  # each found it leased: nothing to do, nothing sent
    assert len(network.calls) == 1
    with unit_of_work(loopback.engine, write=False) as db:
        [delivery] = db.exec(select(WebhookDelivery)).all()
        assert delivery.state == "delivered" and delivery.attempts == 1
        assert delivery.lease_until is None
        done = db.exec(select(PendingEffect).where(PendingEffect.kind == WEBHOOK_DELIVER)).all()
        assert len(done) == 2 and all(e.done_at and e.lease_until is None for e in done)
