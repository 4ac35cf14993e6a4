"""How long Laurel believes a host's access token lives (``expires_in``, RFC 6749 §5.1): at most
a year, whatever the host says; a lifetime that is missing or not a positive number is taken as
missing (audit 10, F4: ``expires_in`` of 10**15 raised OverflowError, a 500 on connecting, and
on a push that refreshed, the rotated refresh token was lost and the push retried forever)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.crypto.sealing import seal, unseal
from issuer.models import ObConnection, ObHost
from issuer.models.base import aware, utcnow
from issuer.obclient import connections, transport
from issuer.obclient.connections import LONGEST_LIFETIME, Tokens
from tests.issuer.test_oauth import sign_in
from tests.issuer.test_obclient import EMAIL, Instance, _connect, _issue, _push
from tests.issuer.test_obclient import pair as pair  # the fixture, for these tests
from tests.web.conftest import Inbox
from tests.web.conftest import mailbox as mailbox  # the fixture, for these tests

HOST = "https://host.example"


def _refreshed(services: Services, monkeypatch: pytest.MonkeyPatch, **answer: Any) -> Tokens:
    """Tokens refreshed by a host whose token answer adds ``answer``."""

    def host(services: Services, method: str, url: str, **_: Any) -> httpx.Response:
        token = {"access_token": "new", "refresh_token": "rotated", "token_type": "Bearer"}
        return httpx.Response(200, json=token | answer)

    monkeypatch.setattr(connections, "call", host)
    passphrase = services.settings.key_passphrase
    tokens = Tokens(
        ObHost(
            sdd_url=HOST + "/ims/ob/v3p0/discovery",
            client_id="laurel",
            client_secret=seal(passphrase, "ob_host.client_secret", "secret"),
            name="Host",
            api_base=HOST + "/ims/ob/v3p0",
            authorize_url=HOST + "/authorize",
            token_url=HOST + "/token",
        ),
        access_token=seal(passphrase, "ob_connection.access_token", "old"),
        refresh_token=seal(passphrase, "ob_connection.refresh_token", "used"),
        expires_at=None,
        scope=None,
    )
    assert tokens.access(services, refresh=True) == "new"
    assert tokens.refresh_token is not None
    assert unseal(passphrase, "ob_connection.refresh_token", tokens.refresh_token) == "rotated"
    return tokens


def _ahead(expires_at: datetime | None) -> timedelta | None:
    return None if expires_at is None else aware(expires_at) - utcnow()


def test_a_hosts_token_lifetime_is_believed_up_to_a_year(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    for huge in (10**15, 1e300):
        ahead = _ahead(_refreshed(services, monkeypatch, expires_in=huge).expires_at)
        assert ahead is not None and LONGEST_LIFETIME - timedelta(minutes=1) < ahead
        assert ahead <= LONGEST_LIFETIME == timedelta(days=366)
    for stated, expected in ((3600, timedelta(hours=1)), (90.5, timedelta(seconds=90.5))):
        ahead = _ahead(_refreshed(services, monkeypatch, expires_in=stated).expires_at)
        assert ahead is not None and expected - timedelta(minutes=1) < ahead <= expected
    for unusable in (0, -5, "3600", True, None, [1]):
        answer = {} if unusable is None else {"expires_in": unusable}
        assert _refreshed(services, monkeypatch, **answer).expires_at is None  # missing


def test_a_push_that_refreshes_keeps_the_rotated_token_whatever_lifetime_the_host_states(
    pair: tuple[Instance, Instance], mailbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B rotates the refresh token and (as this wrapper makes it say) gives the new access token
    10**15 seconds: the push is sent, A keeps B's new refresh token, and B accepts it later."""
    a, b = pair
    (badge,) = _issue(a)
    ref = "c-" + badge["id"].removeprefix("urn:uuid:")
    honest = transport.call

    def say_forever(services: Services, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = honest(services, method, url, **kwargs)
        if url != b.base + "/oauth/token" or response.status_code != 200:
            return response
        return httpx.Response(200, json=response.json() | {"expires_in": 10**15})

    with (
        TestClient(a.app, base_url=a.base) as wallet,
        TestClient(b.app, base_url=b.base) as site,
    ):
        sign_in(wallet, mailbox, EMAIL)
        _connect(wallet, site, b, mailbox)
        monkeypatch.setattr(connections, "call", say_forever)
        for attempt in (1, 2):  # the second refresh uses the refresh token the first one kept
            with unit_of_work(a.services.engine) as db:
                row = db.exec(select(ObConnection)).one()
                before = row.refresh_token
                row.expires_at = utcnow() - timedelta(minutes=1)
                db.add(row)
            page = _push(wallet, ref)
            assert page.count('class="push push-sent"') == attempt, page
            with Session(a.services.engine) as db:
                row = db.exec(select(ObConnection)).one()
            assert row.refresh_token != before
            ahead = _ahead(row.expires_at)
            assert ahead is not None and timedelta(days=365) < ahead <= LONGEST_LIFETIME
