"""One unit of work per request: a request takes one database connection, never a second, so a
small pool serves concurrent requests; post-commit effects run after the commit, and one that
fails is recorded, visible and retried — never swallowed."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from issuer.app import create_app
from issuer.context import Services
from issuer.core import metrics
from issuer.core.db import make_engine
from issuer.core.settings import Settings
from issuer.effects import pending, run_due
from issuer.models import Achievement, Credential, PendingEffect
from issuer.models.base import utcnow
from issuer.programs import awards
from tests.databases import postgres_schema, serving
from tests.issuer.conftest import issue_body, make_issuer
from tests.units import create_api_key, create_issuer, issue, load_templates
from tests.web.conftest import free_port


@pytest.fixture
def small_pool(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    """A real server on PostgreSQL (a schema of its own) whose pool holds two connections."""
    with postgres_schema() as url:
        port = free_port()
        settings = Settings(
            database_url=url,
            keys_dir=tmp_path / "keys",
            key_passphrase="test-passphrase",
            base_url=f"http://127.0.0.1:{port}",
        )
        engine = make_engine(url, pool_size=2, max_overflow=0, pool_timeout=15)
        services = Services.from_settings(settings, engine)
        try:
            with serving(create_app(services=services), port):
                yield f"http://127.0.0.1:{port}", services
        finally:
            engine.dispose()


def test_concurrent_requests_share_a_pool_of_two(small_pool: tuple[str, Services]) -> None:
    """Eight issue requests and eight page views at once on a pool of two connections: every
    one succeeds (before, each request held its session while issuing opened more: two
    concurrent issues on a pool of two stalled and failed with 'QueuePool … timed out')."""
    base, services = small_pool
    create_issuer(services, slug="hrd", name="HRD Institute", did_method="key")
    key = create_api_key(services, "hrd", ["issue", "admin"])
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=60) as client:
        from tests.issuer.conftest import ACHIEVEMENT

        made = client.post("/api/v1/issuers/hrd/achievements", json=ACHIEVEMENT, headers=headers)
        assert made.status_code == 201, made.text

        def one(number: int) -> httpx.Response:
            body = issue_body(f"learner{number}@example.org")
            return client.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers)

        with ThreadPoolExecutor(8) as workers:
            issued = list(workers.map(one, range(8)))
        assert [r.status_code for r in issued] == [201] * 8, [r.text for r in issued]
        ids = [r.json()["id"].removeprefix("urn:uuid:") for r in issued]
        with ThreadPoolExecutor(8) as workers:
            pages = list(workers.map(lambda i: client.get(f"/v/{i}"), ids))
        assert all(p.status_code == 200 and ">Verified<" in p.text for p in pages)


def test_a_failing_effect_is_recorded_retried_and_visible(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A programme award that fails does not undo the credential that triggered it: the effect
    stays pending with its error, ``laurel effects list`` shows it, and it runs again."""
    from issuer.effects import HANDLERS

    make_issuer(services, client, "lead")
    load_templates(services, "lead")
    calls: list[dict[str, Any]] = []

    def broken(session: Session, services: Services, payload: dict[str, Any]) -> None:
        calls.append(payload)
        raise RuntimeError("the mail server is down")

    monkeypatch.setitem(HANDLERS, awards.EFFECT, broken)
    from issuer.schemas import IssueRequest

    request = IssueRequest.model_validate(
        {
            "recipient": {"email": "kim@example.org"},
            "achievement": "leadership-skills-for-non-supervisors",
        }
    )
    issued = issue(services, "lead", request)
    assert issued.created and calls  # the effect ran after the commit, and failed
    with Session(services.engine) as session:
        assert session.get(Credential, issued.credential.id) is not None
        [effect] = pending(session)
    assert effect.attempts == 1 and "mail server is down" in str(effect.last_error)
    assert effect.run_after > utcnow()  # backed off, not lost

    from issuer.cli import app as cli

    environment = {
        "LAUREL_DATABASE_URL": services.settings.database_url,
        "LAUREL_KEYS_DIR": str(services.settings.keys_dir),
        "LAUREL_KEY_PASSPHRASE": services.settings.key_passphrase,
        "LAUREL_BASE_URL": services.settings.base_url,
    }
    listed = CliRunner().invoke(cli, ["effects", "list"], env=environment)
    assert listed.exit_code == 1 and "mail server is down" in listed.output
    monkeypatch.setitem(HANDLERS, awards.EFFECT, awards.handle)
    with Session(services.engine) as session:
        row = session.get(PendingEffect, effect.id)
        assert row is not None
        row.run_after = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
    assert run_due(services) == (1, 0)
    again = CliRunner().invoke(cli, ["effects", "list"], env=environment)
    assert again.exit_code == 0 and "0 pending" in again.output


def test_one_effect_per_learner_not_per_credential(client: TestClient, services: Services) -> None:
    """Bulk issuance records one award effect per learner whose credentials count towards a
    programme, and none for the others."""
    headers = make_issuer(services, client, "lead")
    load_templates(services, "lead")
    rows = [
        {
            "recipient": {"email": "a@example.org"},
            "achievement": "leadership-skills-for-non-supervisors",
        },
        {"recipient": {"email": "a@example.org"}, "achievement": "leading-people"},
        {"recipient": {"email": "b@example.org"}, "achievement": "leading-people"},
    ]
    report = client.post("/api/v1/issuers/lead/credentials/bulk", json=rows, headers=headers)
    assert report.json()["summary"]["issued"] == 3
    with Session(services.engine) as session:
        effects = list(
            session.exec(select(PendingEffect).where(PendingEffect.kind == awards.EFFECT))
        )
    # a took a programme course and a custom one: one effect; b took only the custom one: none
    [effect] = effects
    assert effect.kind == awards.EFFECT and effect.done_at is not None  # ran after the request
    with Session(services.engine) as session:
        course = session.exec(
            select(Achievement).where(Achievement.key == "leadership-skills-for-non-supervisors")
        ).one()
        [counted] = session.exec(select(Credential).where(Credential.achievement_id == course.id))
    assert effect.payload["learner"] == counted.learner_id


def test_an_effect_without_a_handler_fails_visibly(client: TestClient, services: Services) -> None:
    """An effect of an unknown kind (written by a newer version) is kept and reported as failed,
    not marked done and not retried in a tight loop."""
    from issuer.core.db import unit_of_work
    from issuer.core.effects import emit

    with unit_of_work(services.engine) as session:
        emit(session, "sms.send", {"to": "+82 10 0000 0000"})
    failures = metrics.EFFECT_FAILURES.labels("sms.send")._value.get()
    assert run_due(services) == (0, 1)
    assert run_due(services) == (0, 0)  # backed off
    assert metrics.EFFECT_FAILURES.labels("sms.send")._value.get() == failures + 1
    with Session(services.engine) as session:
        [effect] = pending(session)
    assert effect.attempts == 1 and "no handler" in str(effect.last_error)


def test_local_effects_run_together_and_fail_alone(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Due effects of a local kind (``issuer.effects.LOCAL``) run in one transaction. When one
    fails, that transaction is rolled back and they run one by one: the failing one leaves
    nothing behind, is recorded as failed and retried, the others are done once. An effect that
    reaches outside the database is leased in a short transaction of its own and recorded in
    another, none open while it calls (``issuer.effects.REMOTE``)."""
    from issuer.core.db import unit_of_work
    from issuer.core.effects import WEBHOOK_DELIVER, WEBHOOK_EVENT, Record, Send, emit
    from issuer.effects import HANDLERS, LOCAL, REMOTE

    assert WEBHOOK_EVENT in LOCAL and WEBHOOK_DELIVER not in LOCAL and awards.EFFECT not in LOCAL
    sessions: dict[str, list[Session]] = {"local": [], "remote": []}  # kept: ids stay unique

    def record(session: Session, _services: Services, payload: dict[str, Any]) -> None:
        sessions["local"].append(session)
        session.add(PendingEffect(kind="test.mark", payload=payload, done_at=utcnow()))
        session.flush()
        if payload["n"] == 13:
            raise RuntimeError("this one breaks")

    def deliver(
        session: Session, _services: Services, payload: dict[str, Any], _until: Any
    ) -> Send:
        sessions["remote"].append(session)  # the short unit that leases it

        def send() -> Record:
            return lambda recording: sessions["remote"].append(recording)  # and the one after

        return send

    def marks() -> list[int]:
        with Session(services.engine) as session:
            found = session.exec(select(PendingEffect).where(PendingEffect.kind == "test.mark"))
            return sorted(mark.payload["n"] for mark in found)

    monkeypatch.setitem(HANDLERS, WEBHOOK_EVENT, record)
    monkeypatch.setitem(REMOTE, WEBHOOK_DELIVER, deliver)
    with unit_of_work(services.engine) as session:
        for n in range(1, 6):
            emit(session, WEBHOOK_EVENT, {"n": n})
        emit(session, WEBHOOK_DELIVER, {"n": 6})
        emit(session, WEBHOOK_DELIVER, {"n": 7})

    assert run_due(services) == (7, 0)
    local, remote = ({id(s) for s in sessions[name]} for name in ("local", "remote"))
    assert len(sessions["local"]) == 5 and len(local) == 1  # one transaction for the five
    assert len(remote) == 4 and not remote & local  # two short ones each for the others
    assert marks() == [1, 2, 3, 4, 5]

    with unit_of_work(services.engine) as session:
        for n in (11, 12, 13, 14):
            emit(session, WEBHOOK_EVENT, {"n": n})
    assert run_due(services) == (3, 1)
    assert marks() == [1, 2, 3, 4, 5, 11, 12, 14]  # the batch's first try left nothing
    with Session(services.engine) as session:
        [failed] = pending(session)
    assert failed.kind == WEBHOOK_EVENT and failed.payload == {"n": 13}
    assert failed.attempts == 1 and "this one breaks" in str(failed.last_error)
    assert failed.run_after > utcnow()

    monkeypatch.setitem(HANDLERS, WEBHOOK_EVENT, lambda session, services, payload: None)
    with unit_of_work(services.engine) as session:
        row = session.get(PendingEffect, failed.id)
        assert row is not None
        row.run_after = utcnow() - timedelta(seconds=1)
        session.add(row)
    assert run_due(services) == (1, 0)  # retried once its back-off passed, and done
