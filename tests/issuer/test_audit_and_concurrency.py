"""The audit chain, and concurrent issuance with overlapping idempotency keys (PostgreSQL and
SQLite): no duplicate credential, no reused status index."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import audit
from issuer.core.db import transaction
from issuer.models import AuditEntry, Credential
from tests.issuer.conftest import issue_body, make_issuer


def test_audit_chain_records_and_detects_tampering(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "alpha")
    credential = client.post(
        "/api/v1/issuers/alpha/credentials", json=issue_body(), headers=headers
    ).json()
    client.post(
        f"/api/v1/credentials/{credential['id']}/revoke", json={"reason": "error"}, headers=headers
    )
    with Session(services.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))]
        count, problem = audit.verify_chain(session)
    assert actions == ["issuer.create", "apikey.create", "credential.issue", "credential.revoke"]
    assert (count, problem) == (4, None)
    with transaction(services.engine) as session:
        session.execute(text("UPDATE audit_entry SET subject = 'forged' WHERE seq = 3"))
    with Session(services.engine) as session:
        count, problem = audit.verify_chain(session)
    assert count == 2 and problem is not None and "altered" in problem


def test_concurrent_issuance_with_overlapping_keys(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "alpha")

    def issue(number: int) -> tuple[int, str]:
        key = f"key-{number % 8}"  # 32 requests, 8 distinct keys, 4 racing per key
        response = client.post(
            "/api/v1/issuers/alpha/credentials",
            json=issue_body(f"learner{number % 8}@example.org"),
            headers={**headers, "Idempotency-Key": key},
        )
        assert response.status_code in (200, 201), response.text
        return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(issue, range(32)))
    ids = {credential_id for _, credential_id in results}
    assert len(ids) == 8
    assert sum(1 for status, _ in results if status == 201) == 8
    with Session(services.engine) as session:
        rows = list(session.exec(select(Credential)))
        entries = list(session.exec(select(AuditEntry)))
        assert audit.verify_chain(session)[1] is None
    assert len(rows) == 8
    slots = {(row.status_list_id, row.status_index) for row in rows}
    assert len(slots) == 8
    assert sum(1 for e in entries if e.action == "credential.issue") == 8


def _issue_in_process(args: tuple[str, str, str, list[int]]) -> list[str]:
    """Runs in another process: its own engine, key store and caches, like another app server."""
    from pathlib import Path

    from issuer.context import Services
    from issuer.core.db import make_engine
    from issuer.core.settings import Settings
    from issuer.schemas import IssueRequest
    from tests.units import issue

    database_url, keys_dir, slug, numbers = args
    settings = Settings(
        database_url=database_url,
        keys_dir=Path(keys_dir),
        key_passphrase="test-passphrase",
        base_url="https://laurel.test",
    )
    services = Services.from_settings(settings, make_engine(database_url))
    ids = []
    for number in numbers:
        request = IssueRequest.model_validate(issue_body(f"p{number % 5}@example.org"))
        issued = issue(services, slug, request, idempotency_key=f"k{number % 5}", actor="test")
        ids.append(issued.credential.id)
    services.engine.dispose()
    return ids


def test_two_processes_share_idempotency_and_status_indexes(
    client: TestClient, services: Services
) -> None:
    import multiprocessing

    make_issuer(services, client, "alpha")
    url = services.settings.database_url
    keys = str(services.settings.keys_dir)
    work = [(url, keys, "alpha", list(range(start, 20, 2))) for start in (0, 1)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_issue_in_process, work)
    assert len({i for ids in results for i in ids}) == 5
    with Session(services.engine) as session:
        rows = list(session.exec(select(Credential)))
    assert len(rows) == 5
    assert len({(r.status_list_id, r.status_index) for r in rows}) == 5
