"""xAPI both ways (issue 17): statements whose actor is an LMS ``account`` award badges to the
roster member with that employee number (unknown accounts are error rows); badges awarded and
revoked are reported to the issuer's LRS as xAPI 1.0.3 statements — ``earned`` (the xAPI Open
Badges recipe) and ``voided`` — after the commit, with Basic auth and the version header,
retried with back-off when the LRS fails, never sent again once it accepted them. The fake LRS
below is a loopback HTTP server. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.effects import run_due
from issuer.models import (
    Issuer,
    Learner,
    LearnerEmail,
    Organisation,
    OrgMember,
    PendingEffect,
    XapiSettings,
)
from issuer.models.base import utcnow
from tests.issuer.conftest import issue_body, make_issuer
from tests.issuer.test_webhooks import _due_now, api, loopback

LOOPBACK_BASE = "http://127.0.0.1:8000"
__all__ = ["api", "loopback"]  # fixtures shared with the webhook tests
LMS = "https://lms.ministry.example.kr"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
SECRET = "s3cret-lrs-password"


class FakeLrs:
    """An LRS on loopback: answers each POST with the next scripted status (then 200 and the
    ids, as xAPI 1.0.3 §2.1.3 says), and keeps the path, headers and statements it got."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.got: list[tuple[str, dict[str, str], list[dict[str, Any]]]] = []
        lrs = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                lrs.got.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = lrs.script.pop(0) if lrs.script else 200
                answer = json.dumps([s["id"] for s in body] if status == 200 else {"e": status})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Experience-API-Version", "1.0.3")
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xapi/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def statements(self) -> list[dict[str, Any]]:
        return [s for _, _, body in self.got for s in body]


@pytest.fixture
def lrs() -> Iterator[FakeLrs]:
    found = FakeLrs()
    yield found
    found.close()


def _roster(services: Services, slug: str, people: list[tuple[str, str, bool]]) -> None:
    """An organisation run from ``slug`` with members (employee number, email, still there)."""
    with unit_of_work(services.engine) as db:
        issuer = db.exec(select(Issuer).where(Issuer.slug == slug)).one()
        assert issuer.id is not None
        org = Organisation(slug="mois", issuer_id=issuer.id, name="Ministry of the Interior")
        db.add(org)
        db.flush()
        for number, email, current in people:
            learner = Learner(subject_id=f"urn:uuid:{uuid.uuid4()}", name=f"Member {number}")
            db.add(learner)
            db.flush()
            assert learner.id is not None and org.id is not None
            db.add(LearnerEmail(learner_id=learner.id, email=email, is_primary=True))
            db.add(
                OrgMember(
                    org_id=org.id,
                    learner_id=learner.id,
                    employee_no=number,
                    left_at=None if current else utcnow(),
                )
            )


def _from_lms(number: str, home: str = LMS, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": home, "name": number}},
        "verb": {"id": COMPLETED},
        "object": {"id": "https://lms.ministry.example.kr/courses/leading-people"},
        **extra,
    }


def test_lms_accounts_award_badges_to_the_roster_member(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "hrd")
    _roster(services, "hrd", [("E-1024", "park@example.org", True), ("E-7", "gone@x.org", False)])
    post = "/api/v1/issuers/hrd/xapi/statements"

    unmapped = client.post(post, json=_from_lms("E-1024"), headers=headers)
    assert unmapped.status_code == 200, unmapped.text
    [entry] = unmapped.json()["statements"]
    assert entry["status"] == "error" and "accountHomePage" in entry["error"]

    bad_home = client.put(
        "/api/v1/issuers/hrd/xapi/settings", json={"accountHomePage": "lms"}, headers=headers
    )
    assert bad_home.status_code == 400
    assert bad_home.headers["content-type"].startswith("application/problem+json")
    configured = client.put(
        "/api/v1/issuers/hrd/xapi/settings", json={"accountHomePage": LMS}, headers=headers
    )
    assert configured.status_code == 200, configured.text
    assert configured.json() == {"accountHomePage": LMS, "lrs": None}

    statements = [
        _from_lms("E-1024", timestamp="2025-12-30T09:00:00+09:00"),
        _from_lms("E-9999"),
        _from_lms("E-7"),  # left the organisation
        _from_lms("E-1024", home="https://other-lms.example.org"),
        _from_lms("E-1024", home=LMS + "/"),  # the same home page
    ]
    answer = client.post(post, json=statements, headers=headers)
    assert answer.status_code == 200, answer.text
    entries = answer.json()["statements"]
    assert [e["status"] for e in entries] == ["issued", "error", "error", "error", "issued"]
    assert "'E-9999'" in entries[1]["error"] and "Ministry of the Interior" in entries[1]["error"]
    assert "'E-7'" in entries[2]["error"]
    assert "other-lms.example.org" in entries[3]["error"] and LMS in entries[3]["error"]

    listed = client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()
    assert listed["total"] == 2
    assert {c["recipient"]["email"] for c in listed["credentials"]} == {"park@example.org"}
    dated = [c for c in listed["credentials"] if c["validFrom"].startswith("2025-12-30")]
    assert len(dated) == 1

    # an actor that is neither an mbox nor an account is malformed: the request is refused
    hashed = {**_from_lms("E-1024"), "actor": {"mbox_sha1sum": "0" * 40}}
    refused = client.post(post, json=[hashed, _from_lms("E-1024")], headers=headers)
    assert refused.status_code == 400 and "account" in refused.json()["detail"]
    nameless = client.post(
        post, json={**_from_lms(""), "actor": {"account": {"homePage": LMS}}}, headers=headers
    )
    assert nameless.status_code == 400 and "homePage and a name" in nameless.json()["detail"]
    assert client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()["total"] == 2


def _basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def test_awards_and_revocations_reach_the_lrs_once_with_retries(
    api: TestClient, loopback: Services, lrs: FakeLrs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = make_issuer(loopback, api, "hrd")
    _roster(loopback, "hrd", [("E-1024", "park@example.org", True)])
    settings = {
        "accountHomePage": LMS,
        "lrs": {"endpoint": lrs.url, "key": "laurel", "secret": SECRET},
    }
    configured = api.put("/api/v1/issuers/hrd/xapi/settings", json=settings, headers=headers)
    assert configured.status_code == 200, configured.text
    shown = api.get("/api/v1/issuers/hrd/xapi/settings", headers=headers).json()
    assert shown == {
        "accountHomePage": LMS,
        "lrs": {"endpoint": lrs.url.rstrip("/"), "key": "laurel"},
    }
    with unit_of_work(loopback.engine, write=False) as db:
        [stored] = db.exec(select(XapiSettings)).all()
        assert stored.lrs_secret and SECRET not in stored.lrs_secret  # sealed

    lrs.script = [500]
    issued = api.post(
        "/api/v1/issuers/hrd/credentials",
        json=issue_body("ann@example.org", validFrom="2026-03-02T09:00:00Z"),
        headers=headers,
    )
    assert issued.status_code == 201, issued.text
    credential = issued.json()
    assert len(lrs.got) == 1  # the first attempt, after the commit; it failed
    run_due(loopback)  # the retry is not due yet
    assert len(lrs.got) == 1
    _due_now(loopback)
    run_due(loopback)
    assert len(lrs.got) == 2
    _due_now(loopback)  # accepted: nothing sends it again
    run_due(loopback)
    assert len(lrs.got) == 2

    (path, sent, first), (_, _, second) = lrs.got
    assert first == second  # the same statement, id included: the LRS can tell a repeat
    assert path == "/xapi/statements"
    assert sent["x-experience-api-version"] == "1.0.3"
    assert sent["authorization"] == _basic("laurel", SECRET)
    assert sent["content-type"] == "application/json"
    [earned] = first
    assert uuid.UUID(earned["id"])
    assert earned["actor"] == {
        "objectType": "Agent",
        "name": "Kim Min-jun",
        "mbox": "mailto:ann@example.org",
    }
    assert earned["verb"]["id"] == "http://specification.openbadges.org/xapi/verbs/earned"
    achievement = credential["credentialSubject"]["achievement"]
    assert earned["object"]["objectType"] == "Activity"
    assert earned["object"]["id"] == achievement["id"]
    definition = earned["object"]["definition"]
    assert definition["type"] == "http://activitystrea.ms/schema/1.0/badge"
    assert definition["name"] == {"en": achievement["name"]}
    badge_class = definition["extensions"][
        "http://specification.openbadges.org/xapi/extensions/badgeclass"
    ]
    assert badge_class == {"@id": achievement["id"], "issuer": credential["issuer"]["id"]}
    assertion = earned["result"]["extensions"][
        "http://specification.openbadges.org/xapi/extensions/badgeassertion"
    ]
    assert assertion == {"@id": f"{LOOPBACK_BASE}/v/{credential['id'].removeprefix('urn:uuid:')}"}
    assert earned["result"]["completion"] is True
    assert earned["timestamp"] == credential["validFrom"] == "2026-03-02T09:00:00Z"

    # a badge awarded from an LMS account is reported with that account
    from_lms = api.post(
        "/api/v1/issuers/hrd/xapi/statements", json=_from_lms("E-1024"), headers=headers
    )
    assert from_lms.json()["statements"][0]["status"] == "issued", from_lms.text
    assert len(lrs.got) == 3
    assert lrs.got[2][2][0]["actor"]["account"] == {"homePage": LMS, "name": "E-1024"}
    assert "mbox" not in lrs.got[2][2][0]["actor"]

    revoked = api.post(
        f"/api/v1/credentials/{credential['id']}/revoke",
        json={"reason": "issued in error"},
        headers=headers,
    )
    assert revoked.status_code == 200, revoked.text
    assert len(lrs.got) == 4
    path, sent, [voided] = lrs.got[3]
    assert path == "/xapi/statements" and sent["x-experience-api-version"] == "1.0.3"
    assert voided["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert voided["object"] == {"objectType": "StatementRef", "id": earned["id"]}
    assert voided["id"] != earned["id"]
    assert voided["actor"]["account"] == {"homePage": LOOPBACK_BASE, "name": "hrd"}

    # the secret is in no log and no recorded error
    assert SECRET not in caplog.text
    assert base64.b64encode(f"laurel:{SECRET}".encode()).decode() not in caplog.text
    with unit_of_work(loopback.engine, write=False) as db:
        errors = [e.last_error or "" for e in db.exec(select(PendingEffect)).all()]
        assert any("HTTP 500" in e for e in errors) and not any(SECRET in e for e in errors)
        assert all(e.done_at is not None for e in db.exec(select(PendingEffect)).all())


def test_an_lrs_that_already_has_the_statements_counts_as_delivered(
    api: TestClient, loopback: Services, lrs: FakeLrs
) -> None:
    """The process sent them, then died before recording it: the LRS answers 409 Conflict to the
    same ids the next time, and Laurel stops."""
    headers = make_issuer(loopback, api, "hrd")
    settings = {"lrs": {"endpoint": lrs.url, "key": "k", "secret": SECRET}}
    assert api.put("/api/v1/issuers/hrd/xapi/settings", json=settings, headers=headers).is_success
    lrs.script = [409]
    api.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    _due_now(loopback)
    run_due(loopback)
    assert len(lrs.got) == 1
    with unit_of_work(loopback.engine, write=False) as db:
        assert all(e.done_at is not None for e in db.exec(select(PendingEffect)).all())


def test_a_revocation_never_overtakes_the_award_it_voids(
    api: TestClient, loopback: Services, lrs: FakeLrs
) -> None:
    """The LRS is down when the badge is issued and revoked: the voiding statement waits until
    the earned statement is accepted, then follows it."""
    headers = make_issuer(loopback, api, "hrd")
    settings = {"lrs": {"endpoint": lrs.url, "key": "k", "secret": SECRET}}
    assert api.put("/api/v1/issuers/hrd/xapi/settings", json=settings, headers=headers).is_success
    lrs.script = [503, 503]
    issued = api.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    revoked = api.post(
        f"/api/v1/credentials/{issued.json()['id']}/revoke",
        json={"reason": "issued in error"},
        headers=headers,
    )
    assert revoked.status_code == 200, revoked.text
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in lrs.statements()] == ["earned"]
    with unit_of_work(loopback.engine, write=False) as db:
        [waiting] = [
            e for e in db.exec(select(PendingEffect)).all() if e.payload.get("event") == "voided"
        ]
        assert waiting.done_at is None and "waits" in (waiting.last_error or "")
    _due_now(loopback)
    run_due(loopback)  # the earned statement fails again; the voided one waits again
    _due_now(loopback)
    run_due(loopback)
    verbs = [s["verb"]["id"].rsplit("/", 1)[1] for s in lrs.statements()]
    assert verbs == ["earned", "earned", "earned", "voided"]
    _due_now(loopback)
    run_due(loopback)
    assert len(lrs.got) == 4


def test_without_an_lrs_nothing_is_queued_and_the_lrs_can_be_removed(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "hrd")
    client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    with unit_of_work(services.engine, write=False) as db:
        kinds = {e.kind for e in db.exec(select(PendingEffect)).all()}
        assert "xapi.send" not in kinds
    settings = {"lrs": {"endpoint": "https://lrs.example.org/xapi", "key": "k", "secret": "s"}}
    assert client.put(
        "/api/v1/issuers/hrd/xapi/settings", json=settings, headers=headers
    ).is_success
    removed = client.put("/api/v1/issuers/hrd/xapi/settings", json={"lrs": None}, headers=headers)
    assert removed.json() == {"accountHomePage": None, "lrs": None}
    private = {"lrs": {"endpoint": "https://10.0.0.7/xapi", "key": "k", "secret": "s"}}
    refused = client.put("/api/v1/issuers/hrd/xapi/settings", json=private, headers=headers)
    assert refused.status_code == 400, refused.text
    reader = make_issuer(services, client, "kdi", scopes=("read", "issue"))
    assert client.get("/api/v1/issuers/kdi/xapi/settings", headers=reader).status_code == 403


def test_xapi_settings_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from issuer.cli import app

    env = {
        "LAUREL_DATABASE_URL": database_url,
        "LAUREL_KEYS_DIR": str(tmp_path / "keys"),
        "LAUREL_KEY_PASSPHRASE": "cli-test-passphrase",
        "LAUREL_BASE_URL": "https://laurel.test",
    }

    def run(*args: str, secret: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(
            app, list(args), env={**env, **({"LAUREL_LRS_SECRET": secret} if secret else {})}
        )
        return result.exit_code, result.output

    assert run("issuer", "create", "--name", "HRD Institute", "--slug", "hrd")[0] == 0
    endpoint = ("--lrs-endpoint", "https://lrs.example.org/xapi", "--lrs-key", "laurel")
    code, out = run(
        "xapi", "set", "--issuer", "hrd", "--account-home-page", LMS, *endpoint, secret=SECRET
    )
    assert code == 0, out
    code, out = run("xapi", "show", "--issuer", "hrd")
    assert code == 0 and SECRET not in out
    assert json.loads(out) == {
        "accountHomePage": LMS,
        "lrs": {"endpoint": "https://lrs.example.org/xapi", "key": "laurel"},
    }
    code, out = run(
        "xapi",
        "set",
        "--issuer",
        "hrd",
        "--lrs-endpoint",
        "https://10.0.0.1/x",
        "--lrs-key",
        "k",
        secret="s",
    )
    assert code == 1 and "does not send" in out
    assert (
        run("xapi", "set", "--issuer", "hrd", "--lrs-endpoint", "https://lrs.example.org")[0] == 2
    )
    assert run("xapi", "set", "--issuer", "hrd", "--no-lrs")[0] == 0
    assert json.loads(run("xapi", "show", "--issuer", "hrd")[1])["lrs"] is None
    assert run("xapi", "set", "--issuer", "nope", "--no-lrs")[0] == 1
