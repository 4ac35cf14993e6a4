"""Fixtures for page tests: issued credentials in each state, and a live server for the browser
and for `laurel verify` over loopback HTTP."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine, transaction
from issuer.core.settings import Settings
from tests.databases import serving
from tests.issuer.conftest import issue_body, make_issuer
from tests.issuer.conftest import services as services  # the fixture, for page tests
from verifier.errors import FetchError


@dataclass
class Badges:
    valid: str
    revoked: str
    expired: str
    tampered: str
    future: str


def seed(client: TestClient, services: Services) -> Badges:
    headers = make_issuer(services, client, "hrd")
    ids = []
    for body in (
        issue_body(
            "valid@example.org",
            evidence=[{"id": "https://lms.example.org/e/1", "name": "Capstone"}],
            narrative="Led the cohort's capstone on cross-agency change.",
            results=[{"value": "A", "status": "Completed"}],
        ),
        issue_body("revoked@example.org"),
        issue_body(
            "expired@example.org",
            validFrom="2020-01-01T00:00:00Z",
            validUntil="2021-01-01T00:00:00Z",
        ),
        issue_body("tampered@example.org"),
        issue_body("future@example.org", validFrom="2099-01-01T00:00:00Z"),
    ):
        response = client.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"].removeprefix("urn:uuid:"))
    client.post(
        f"/api/v1/credentials/{ids[1]}/revoke", json={"reason": "Issued in error"}, headers=headers
    )
    with transaction(services.engine) as session:
        row = session.get(__import__("issuer.models", fromlist=["Credential"]).Credential, ids[3])
        assert row is not None
        document = dict(row.document)
        document["credentialSubject"] = {**document["credentialSubject"], "creditsEarned": 999}
        row.document = document
        session.add(row)
    return Badges(*ids)


def post_verify(client: TestClient, path: str = "/verify", **request: Any) -> httpx2.Response:
    """Post the /verify form as a browser does: its page first (without ``?lang=``, which would
    set the language cookie), for the CSRF cookie and token, then the form with the token."""
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path.split("?")[0]).text)
    assert found, "the /verify form has no CSRF token"
    data = {**(request.pop("data", None) or {}), "csrf": found.group(1)}
    return client.post(path, data=data, **request)


def offline(url: str) -> bytes:
    raise FetchError(url, "unreachable in tests")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """A real SMTP server's mailbox (aiosmtpd on loopback): every message it accepted."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        message = BytesParser(policy=default).parsebytes(envelope.content)
        self.messages.append(message)
        return "250 OK"

    def link(self, to: str, path: str = "/wallet/login/") -> str:
        """The newest link with ``path`` in a message to ``to``."""
        for message in reversed(self.messages):
            if message["To"] == to.strip().lower():
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                found = re.search(r"https?://\S+" + re.escape(path) + r"\S+", body.get_content())
                if found:
                    return found.group(0)
        raise AssertionError(f"no message to {to} with a {path} link")


@pytest.fixture
def mailbox() -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


@dataclass
class Live:
    base_url: str
    client: TestClient
    services: Services
    badges: Badges
    mailbox: Inbox


@pytest.fixture
def live(database_url: str, tmp_path: Path, mailbox: Inbox) -> Iterator[Live]:
    """A real server on loopback HTTP (a did:key issuer, so anything can verify it offline)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url=base,
        did_method="key",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
    )
    engine = make_engine(database_url)
    services = Services.from_settings(settings, engine)
    services.network = offline  # pages never reach other hosts in tests
    app = create_app(services=services)
    with serving(app, port), TestClient(app) as client:
        badges = seed(client, services)
        yield Live(base, client, services, badges, mailbox)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()


@pytest.fixture
def mail_services(database_url: str, tmp_path: Path, mailbox: Inbox) -> Iterator[Services]:
    """Services whose mail goes to ``mailbox`` (a real SMTP server on loopback)."""
    settings = Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url="https://laurel.test",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        mail_from="badges@laurel.test",
    )
    engine = make_engine(database_url)
    services = Services.from_settings(settings, engine)
    services.network = offline
    yield services
    engine.dispose()


@pytest.fixture
def site(mail_services: Services) -> Iterator[TestClient]:
    """The app over HTTPS (its cookies are Secure), mailing through ``mailbox``."""
    with TestClient(create_app(services=mail_services), base_url="https://laurel.test") as client:
        yield client
