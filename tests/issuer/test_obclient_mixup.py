"""The mix-up attack on Laurel as an OB 3.0 API client (RFC 9700 §4.4; audit 10, F1).

A is the learner's wallet, B an honest host (another Laurel) where the learner has an account,
E a hostile host the learner is talked into connecting. E passes A's registration on to B, so
B knows a client that looks exactly like A, then gets the learner to allow it at B: B's code
comes back to A's callback, and A would send it with the PKCE verifier to E's token URL, where E
redeems it at B. Laurel refuses both ways E can send the learner to B: an SDD naming B's
authorization page is refused before the learner goes anywhere, and B's answer names B
(RFC 9207 ``iss``) when E's own authorization page sends the learner on to B."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import httpx2
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.core.errors import HostFailed
from issuer.models import ObConnection, ObHost
from issuer.obclient.connections import check_issuer
from issuer.obclient.discovery import UPSERT
from tests.issuer.test_oauth import csrf, decide, sign_in
from tests.issuer.test_obclient import API, EMAIL, Instance
from tests.issuer.test_obclient import pair as pair  # the fixture, for these tests
from tests.web.conftest import Inbox, free_port
from tests.web.conftest import mailbox as mailbox  # the fixture, for these tests


class Hostile:
    """Host E: its SDD names ``authorize`` as its authorization URL; it passes A's registration
    on to B and would redeem at B whatever A sends to its token URL."""

    def __init__(self, b_base: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.b_base = b_base
        self.authorize = self.base + "/authorize"
        self.received: dict[str, Any] = {}

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get(API + "/discovery")
        def sdd() -> dict[str, Any]:
            flow = {
                "authorizationUrl": self.authorize,
                "tokenUrl": self.base + "/token",
                "scopes": {UPSERT: "upsert", "offline_access": "offline"},
            }
            scheme = {
                "type": "oauth2",
                "x-imssf-registrationUrl": self.base + "/register",
                "flows": {"authorizationCode": flow},
            }
            return {
                "openapi": "3.0.1",
                "info": {"title": "Friendly Backpack", "version": "1"},
                "servers": [{"url": self.base + API}],
                "components": {"securitySchemes": {"OAuth2ACG": scheme}},
            }

        @app.post("/register")
        async def register(request: Request) -> Any:
            self.received["registration"] = await request.json()
            answer = httpx.post(self.b_base + "/oauth/register", json=self.received["registration"])
            self.received["b_client"] = answer.json()
            return {"client_id": answer.json()["client_id"], "client_secret": "anything"}

        @app.get("/authorize")
        def authorize(request: Request) -> RedirectResponse:  # on to B, the learner unaware
            query = urlencode(dict(request.query_params))
            return RedirectResponse(f"{self.b_base}/oauth/authorize?{query}", status_code=302)

        @app.post("/token")
        async def token(request: Request) -> Any:
            self.received["token_request"] = dict(await request.form())
            return {"access_token": "fake", "token_type": "Bearer", "expires_in": 3600}

        return app


@pytest.fixture
def hostile(pair: tuple[Instance, Instance]) -> Iterator[Hostile]:
    e = Hostile(pair[1].base)
    config = uvicorn.Config(e.app(), host="127.0.0.1", port=e.port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield e
    server.should_exit = True
    thread.join(timeout=10)


def _start(wallet: TestClient, e: Hostile) -> httpx2.Response:
    page = wallet.get("/wallet/connections")
    return wallet.post(
        "/wallet/connections",
        data={"csrf": csrf(page.text), "sdd_url": e.base},
        follow_redirects=False,
    )


def test_an_sdd_naming_another_hosts_authorization_page_is_refused(
    pair: tuple[Instance, Instance],
    hostile: Hostile,
    mailbox: Inbox,
) -> None:
    a, b = pair
    hostile.authorize = b.base + "/oauth/authorize"
    with TestClient(a.app, base_url=a.base) as wallet:
        sign_in(wallet, mailbox, EMAIL)
        started = _start(wallet, hostile)
        assert started.status_code == 502 and "location" not in started.headers  # sent nowhere
        assert "authorization URL is on another host" in started.text
    assert hostile.received == {}  # not even registered with E
    with Session(a.services.engine) as db:
        assert db.exec(select(ObConnection)).first() is None


def test_a_code_from_another_server_is_not_sent_to_the_host(
    pair: tuple[Instance, Instance],
    hostile: Hostile,
    mailbox: Inbox,
) -> None:
    """E's own authorization page sends the learner on to B; B's answer names B (``iss``), so
    A refuses it and E's token URL never sees B's code or the verifier."""
    a, b = pair
    with (
        TestClient(a.app, base_url=a.base) as wallet,
        TestClient(b.app, base_url=b.base) as site,
    ):
        sign_in(wallet, mailbox, EMAIL)
        started = _start(wallet, hostile)
        assert started.status_code == 303 and started.headers["location"].startswith(
            hostile.authorize + "?"
        )
        on_to_b = httpx.get(started.headers["location"], follow_redirects=False)
        target = urlsplit(on_to_b.headers["location"])
        params = {k: v[0] for k, v in parse_qs(target.query).items()}
        first = site.get("/oauth/authorize", params=params, follow_redirects=False)
        sign_in(
            site, mailbox, EMAIL, parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
        )
        allowed = decide(site, params, "allow")
        returned = urlsplit(allowed.headers["location"])
        assert parse_qs(returned.query)["iss"] == [b.base]
        done = wallet.get(f"{returned.path}?{returned.query}", follow_redirects=False)
        assert done.status_code == 502, done.text
        assert "sent you on to another server" in done.text
    assert "token_request" not in hostile.received
    with Session(a.services.engine) as db:
        connection = db.exec(select(ObConnection)).one()
        assert connection.access_token is None and connection.connected_at is None


def test_the_issuer_of_an_answer_must_be_on_the_hosts_origin() -> None:
    host = ObHost(
        sdd_url="https://host.example/ims/ob/v3p0/discovery",
        client_id="c",
        client_secret="sealed",
        name="Host",
        api_base="https://host.example/ims/ob/v3p0",
        authorize_url="https://host.example/oauth/authorize",
        token_url="https://host.example/oauth/token",
    )
    for fine in (None, "https://host.example", "https://HOST.example/tenant"):
        check_issuer(host, fine)
    for other in (
        "https://other.example",
        "http://host.example",
        "https://host.example:8443",
        "https://host.example/?x=1",
        "http://[::1",
        "",
    ):
        with pytest.raises(HostFailed, match="sent you on to another server"):
            check_issuer(host, other)
