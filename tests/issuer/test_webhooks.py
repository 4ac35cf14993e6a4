"""Webhooks per issuer: endpoints over the API, signed deliveries (checked here by an
implementation of the Standard Webhooks verification written from its specification, not
Laurel's), retries with back-off against a receiver on loopback that fails and then recovers, no
second delivery after an acknowledgement, replay, a restart between commit and delivery, and the
refusal of private receiver addresses. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col, select

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine, unit_of_work
from issuer.core.settings import Settings
from issuer.effects import run_due
from issuer.issuing import issuance
from issuer.models import PendingEffect, WebhookDelivery
from issuer.models.base import utcnow
from issuer.notify.deliveries import SCHEDULE
from issuer.schemas import IssueRequest
from tests.issuer.conftest import issue_body, make_issuer

LOOPBACK_BASE = "http://127.0.0.1:8000"


class Receiver:
    """A webhook receiver on loopback: answers each request with the next scripted status
    (then 200), and keeps what it got."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.got: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {status}".encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> None:
    """Standard Webhooks, "Verifying webhooks": the key is the base64 after ``whsec_``; the
    content ``{id}.{timestamp}.{payload}``; any ``v1,`` signature in the space-separated list
    matches; the timestamp within five minutes of now."""
    key = base64.b64decode(secret.split("_", 1)[1])
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    content = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s[:3] == "v1,"]
    assert any(hmac.compare_digest(expected, s) for s in offered), "signature does not verify"
    assert abs(int(timestamp) - utcnow().timestamp()) < 300


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def loopback(database_url: str, tmp_path: Path) -> Iterator[Services]:
    """Laurel on a loopback http base URL: loopback http receivers are allowed (as in
    development), as for OB 3.0 API hosts."""
    settings = Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url=LOOPBACK_BASE,
        did_method="key",
    )
    engine = make_engine(database_url)
    yield Services.from_settings(settings, engine)
    engine.dispose()


@pytest.fixture
def api(loopback: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=loopback)) as test_client:
        yield test_client


def _due_now(services: Services) -> None:
    """Time passes: every pending effect (scheduled retries included) is due."""
    with unit_of_work(services.engine) as db:
        db.execute(
            update(PendingEffect)
            .where(col(PendingEffect.done_at).is_(None))
            .values(run_after=utcnow() - timedelta(seconds=1))
        )


def _add(api: TestClient, headers: dict[str, str], url: str, events: list[str]) -> dict[str, Any]:
    response = api.post(
        "/api/v1/issuers/hrd/webhooks", json={"url": url, "events": events}, headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _deliveries(api: TestClient, headers: dict[str, str], endpoint: int) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/issuers/hrd/webhooks/{endpoint}/deliveries", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["deliveries"])


def test_a_failing_receiver_gets_retries_then_exactly_one_acknowledged_delivery(
    api: TestClient, loopback: Services, receiver: Receiver
) -> None:
    headers = make_issuer(loopback, api, "hrd")
    endpoint = _add(api, headers, receiver.url, ["credential.issued", "credential.revoked"])
    assert endpoint["secret"].startswith("whsec_")
    listed = api.get("/api/v1/issuers/hrd/webhooks", headers=headers).json()["webhooks"]
    assert [e["url"] for e in listed] == [receiver.url] and "secret" not in listed[0]

    receiver.script = [500, 503]
    issued = api.post(
        "/api/v1/issuers/hrd/credentials", json=issue_body("ann@example.org"), headers=headers
    )
    assert issued.status_code == 201, issued.text
    assert len(receiver.got) == 1  # the first attempt, after the commit
    [delivery] = _deliveries(api, headers, endpoint["id"])
    assert delivery["state"] == "pending" and delivery["attempts"] == 1
    assert delivery["lastStatus"] == 500 and delivery["log"][0]["response"] == "answer 500"
    waited = utcnow() + SCHEDULE[0]
    assert abs((_time(delivery["nextAttemptAt"]) - waited).total_seconds()) < 10

    run_due(loopback)  # the retry is not due yet
    assert len(receiver.got) == 1
    _due_now(loopback)
    run_due(loopback)
    _due_now(loopback)
    run_due(loopback)
    assert len(receiver.got) == 3
    [delivery] = _deliveries(api, headers, endpoint["id"])
    assert delivery["state"] == "delivered" and delivery["attempts"] == 3
    assert [a["status"] for a in delivery["log"]] == [500, 503, 200]

    _due_now(loopback)  # whatever is left over must not send it again
    run_due(loopback)
    assert len(receiver.got) == 3
    ids = {h["webhook-id"] for h, _ in receiver.got}
    assert ids == {delivery["eventId"]}  # stable across retries: receivers can deduplicate
    assert len({body for _, body in receiver.got}) == 1
    for sent_headers, body in receiver.got:
        verify_standard_webhook(endpoint["secret"], sent_headers, body)
    event = json.loads(receiver.got[-1][1])
    assert event["type"] == "credential.issued"
    credential = event["data"]["credential"]
    assert credential["id"] == issued.json()["id"]
    assert credential["recipient"]["email"] == "ann@example.org"
    assert credential["verifyUrl"].startswith(f"{LOOPBACK_BASE}/v/")
    assert credential["achievement"]["key"] == "leading-people"

    with pytest.raises(AssertionError):  # a tampered body does not verify
        verify_standard_webhook(endpoint["secret"], receiver.got[0][0], receiver.got[0][1] + b" ")

    revoked = api.post(
        f"/api/v1/credentials/{issued.json()['id']}/revoke",
        json={"reason": "issued in error"},
        headers=headers,
    )
    assert revoked.status_code == 200, revoked.text
    revocation = json.loads(receiver.got[-1][1])
    assert revocation["type"] == "credential.revoked"
    assert revocation["data"]["credential"]["status"] == "revoked"


def _time(value: str) -> Any:
    from issuer.models.base import parse_time

    return parse_time(value)


def test_replay_sends_again_with_the_same_id_but_never_after_an_acknowledgement(
    api: TestClient, loopback: Services, receiver: Receiver
) -> None:
    headers = make_issuer(loopback, api, "hrd")
    endpoint = _add(api, headers, receiver.url, ["credential.issued"])
    receiver.script = [500]
    api.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    [delivery] = _deliveries(api, headers, endpoint["id"])
    replay = f"/api/v1/issuers/hrd/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/replay"

    replayed = api.post(replay, headers=headers)
    assert replayed.status_code == 202, replayed.text
    assert len(receiver.got) == 2
    assert receiver.got[0][0]["webhook-id"] == receiver.got[1][0]["webhook-id"]
    [delivery] = _deliveries(api, headers, endpoint["id"])
    assert delivery["state"] == "delivered" and delivery["attempts"] == 2

    _due_now(loopback)  # the retry scheduled after the first failure is now stale
    run_due(loopback)
    assert len(receiver.got) == 2
    again = api.post(replay, headers=headers)
    assert again.status_code == 409 and "acknowledged" in again.json()["detail"]
    assert len(receiver.got) == 2

    missing = replay.replace(f"/deliveries/{delivery['id']}/", "/deliveries/999999/")
    assert api.post(missing, headers=headers).status_code == 404


def test_deliveries_survive_a_restart_between_commit_and_sending(
    loopback: Services, api: TestClient, receiver: Receiver, database_url: str, tmp_path: Path
) -> None:
    headers = make_issuer(loopback, api, "hrd")
    _add(api, headers, receiver.url, ["credential.issued"])
    # The process commits the issuance and dies before any post-commit effect runs.
    with unit_of_work(loopback.engine) as db:
        request = IssueRequest.model_validate(issue_body("bo@example.org"))
        issuance.issue(db, loopback, "hrd", request)
    assert receiver.got == []

    restarted = Services.from_settings(loopback.settings, make_engine(database_url))
    try:
        done, failed = run_due(restarted)
        assert failed == 0 and done >= 2  # the email, the event, its delivery
        assert len(receiver.got) == 1
        run_due(restarted)
        _due_now(restarted)
        run_due(restarted)
        assert len(receiver.got) == 1
        with unit_of_work(restarted.engine, write=False) as db:
            [row] = db.exec(select(WebhookDelivery)).all()
            assert row.state == "delivered"
    finally:
        restarted.engine.dispose()


def test_gives_up_after_the_schedule_of_more_than_a_day(
    api: TestClient, loopback: Services, receiver: Receiver
) -> None:
    assert sum(SCHEDULE, timedelta()) > timedelta(days=1)
    headers = make_issuer(loopback, api, "hrd")
    endpoint = _add(api, headers, receiver.url, ["credential.issued"])
    receiver.script = [500] * (len(SCHEDULE) + 1)
    api.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    for _ in SCHEDULE:
        _due_now(loopback)
        run_due(loopback)
    assert len(receiver.got) == len(SCHEDULE) + 1
    [delivery] = _deliveries(api, headers, endpoint["id"])
    assert delivery["state"] == "failed" and delivery["nextAttemptAt"] is None
    _due_now(loopback)
    run_due(loopback)
    assert len(receiver.got) == len(SCHEDULE) + 1


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.7/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://192.168.1.1/hooks",
        "http://hooks.example.org/in",  # not https
        "ftp://hooks.example.org/in",
        "not a url",
    ],
)
def test_private_and_non_https_receivers_are_refused(
    client: TestClient, services: Services, url: str
) -> None:
    headers = make_issuer(services, client, "hrd")
    response = client.post(
        "/api/v1/issuers/hrd/webhooks",
        json={"url": url, "events": ["credential.issued"]},
        headers=headers,
    )
    assert response.status_code == 400, response.text
    assert client.get("/api/v1/issuers/hrd/webhooks", headers=headers).json()["webhooks"] == []


def test_a_name_that_resolves_to_loopback_is_refused_when_sending(
    client: TestClient, services: Services, receiver: Receiver
) -> None:
    headers = make_issuer(services, client, "hrd")
    port = receiver.url.split(":")[2].split("/")[0]
    endpoint = _add(client, headers, f"https://localhost:{port}/hooks", ["credential.issued"])
    client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    [delivery] = _deliveries(client, headers, endpoint["id"])
    assert delivery["state"] == "pending" and delivery["lastStatus"] is None
    assert "does not call" in delivery["lastError"]
    assert receiver.got == []


def test_webhooks_need_the_admin_scope_and_the_issuers_own_key(
    client: TestClient, services: Services
) -> None:
    admin = make_issuer(services, client, "hrd")
    reader = make_issuer(services, client, "kdi", scopes=("read", "issue"))
    body = {"url": "https://hooks.example.org/in", "events": ["credential.issued"]}
    assert client.post("/api/v1/issuers/kdi/webhooks", json=body, headers=reader).status_code == 403
    assert client.post("/api/v1/issuers/kdi/webhooks", json=body, headers=admin).status_code == 404
    created = client.post("/api/v1/issuers/hrd/webhooks", json=body, headers=admin).json()
    assert (
        client.delete(f"/api/v1/issuers/kdi/webhooks/{created['id']}", headers=admin).status_code
        == 404
    )
    unknown = {**body, "events": ["credential.deleted"]}
    assert (
        client.post("/api/v1/issuers/hrd/webhooks", json=unknown, headers=admin).status_code == 422
    )
    removed = client.delete(f"/api/v1/issuers/hrd/webhooks/{created['id']}", headers=admin)
    assert removed.status_code == 204
    assert client.get("/api/v1/issuers/hrd/webhooks", headers=admin).json()["webhooks"] == []


def test_completing_a_programme_is_an_event(
    api: TestClient, loopback: Services, receiver: Receiver
) -> None:
    from tests.issuer.test_programs import AWARD, ELECTIVES, REQUIRED
    from tests.units import create_api_key, create_issuer, load_templates

    create_issuer(loopback, slug="hrd", name="HRD")
    load_templates(loopback, "hrd")
    headers = {"Authorization": f"Bearer {create_api_key(loopback, 'hrd', ['admin'])}"}
    endpoint = _add(api, headers, receiver.url, ["program.completed"])
    rows = [
        {"recipient": {"email": "lee@example.org", "name": "Lee"}, "achievement": key}
        for key in [*REQUIRED, *ELECTIVES]
    ]
    report = api.post("/api/v1/issuers/hrd/credentials/bulk", json=rows, headers=headers)
    assert report.json()["summary"]["issued"] == 5
    [(sent_headers, body)] = receiver.got  # only the event it asked for
    verify_standard_webhook(endpoint["secret"], sent_headers, body)
    event = json.loads(body)
    assert event["type"] == "program.completed"
    assert event["data"]["recipient"]["email"] == "lee@example.org"
    assert event["data"]["program"]["id"] and event["data"]["credential"]["verifyUrl"]
    award = api.get(
        "/api/v1/issuers/hrd/credentials", params={"achievement": AWARD}, headers=headers
    ).json()["credentials"]
    assert [c["id"] for c in award] == [event["data"]["credential"]["id"]]
