"""Laurel as an Open Badges 3.0 API client ("Service Consumer (Write)", shared/spec/wave2-apis.md
§1.10, last item): two Laurels on loopback HTTP, each with its own database. The learner, in
instance A's wallet, connects instance B from its Service Description Document (A registers
with B, the learner signs in at B by emailed link and allows), pushes a badge A issued, and B's
``getCredentials`` returns it; the access token expires and is refreshed (rotation kept); B
stops and the push fails visibly with a retry scheduled; disconnecting revokes A's tokens at B;
unknown or tampered SDDs and private addresses are refused with a clear error."""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine, unit_of_work
from issuer.core.effects import OB_PUSH
from issuer.core.errors import BadRequest, HostFailed
from issuer.core.settings import Settings
from issuer.crypto.sealing import Unsealable, seal, unseal
from issuer.models import (
    Credential,
    ImportedCredential,
    OAuthToken,
    ObConnection,
    ObHost,
    ObPush,
    PendingEffect,
)
from issuer.models.base import utcnow
from issuer.obclient import discovery
from issuer.obclient.transport import call, check_url
from issuer.wallet.imports import MEDIA_TYPES
from tests.databases import postgres_schema
from tests.issuer.conftest import issue_body, make_issuer
from tests.issuer.test_oauth import READ, csrf, decide, sign_in
from tests.issuer.test_ob_api import token
from tests.units import create_api_key
from tests.web.conftest import Inbox, free_port
from tests.web.conftest import mailbox as mailbox  # the fixture, for these tests
from verifier.fetch import HttpFetcher

EMAIL = "kim@example.org"
API = "/ims/ob/v3p0"


@dataclass
class Instance:
    base: str
    services: Services
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _second_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'host.db'}"
        return
    with postgres_schema() as url:
        yield url


def _start(database_url: str, keys: Path, mailbox: Inbox) -> Instance:
    """A Laurel served by uvicorn on a loopback port; it fetches loopback documents (the other
    instance's status lists) over HTTP."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        keys_dir=keys,
        key_passphrase="test-passphrase",
        base_url=base,
        did_method="key",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
    )
    services = Services.from_settings(settings, make_engine(database_url))
    services.network = HttpFetcher(allow_loopback_http=True, cache_seconds=0)
    app = create_app(services=services)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return Instance(base, services, app, server, thread)


@pytest.fixture
def pair(database_url: str, tmp_path: Path, mailbox: Inbox) -> Iterator[tuple[Instance, Instance]]:
    """Instance A (the learner's wallet, the client) and B (the host), two databases."""
    for second in _second_database(database_url, tmp_path):
        a = _start(database_url, tmp_path / "keys-a", mailbox)
        b = _start(second, tmp_path / "keys-b", mailbox)
        yield a, b
        for instance in (a, b):
            instance.stop()
            instance.services.engine.dispose()


def _issue(a: Instance, count: int = 1) -> list[dict[str, Any]]:
    with TestClient(a.app, base_url=a.base) as api:
        headers = make_issuer(a.services, api, "hrd")
        documents = []
        for _ in range(count):
            issued = api.post(
                "/api/v1/issuers/hrd/credentials", json=issue_body(EMAIL), headers=headers
            )
            assert issued.status_code == 201, issued.text
            documents.append(issued.json())
        return documents


def _connect(wallet: TestClient, site: TestClient, b: Instance, mailbox: Inbox) -> None:
    """The learner (signed in at A) connects B: A redirects to B's authorization page; the
    learner signs in at B, allows, and B sends the browser back to A's callback."""
    page = wallet.get("/wallet/connections")
    assert page.status_code == 200 and 'id="no-hosts"' in page.text
    started = wallet.post(
        "/wallet/connections",
        data={"csrf": csrf(page.text), "sdd_url": b.base + API + "/discovery"},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    target = urlsplit(started.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == b.base + "/oauth/authorize"
    params = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["redirect_uri"] == wallet.base_url.join("/wallet/connections/callback")
    first = site.get("/oauth/authorize", params=params, follow_redirects=False)
    if first.status_code == 303:  # not signed in at B yet
        back = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
        sign_in(site, mailbox, EMAIL, back)
    allowed = decide(site, params, "allow")
    assert allowed.status_code == 302, allowed.text
    returned = urlsplit(allowed.headers["location"])
    assert parse_qs(returned.query)["iss"] == [b.base]  # RFC 9207: checked by the callback
    done = wallet.get(f"{returned.path}?{returned.query}", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("done=connected")
    replay = wallet.get(f"{returned.path}?{returned.query}")
    assert replay.status_code == 400 and "unknown, used or expired" in replay.text  # single-use


def _push(wallet: TestClient, ref: str) -> str:
    page = wallet.get("/wallet/connections")
    found = re.search(r'action="(/wallet/connections/\d+/push)"', page.text)
    assert found, page.text
    pushed = wallet.post(found.group(1), data={"csrf": csrf(page.text), "ref": ref})
    assert pushed.status_code == 200, pushed.text
    return pushed.text


def _one(services: Services, model: type[Any]) -> Any:
    with Session(services.engine) as db:
        return db.exec(select(model).order_by(model.id.desc())).first()


def test_connect_push_refresh_and_failure_between_two_laurels(
    pair: tuple[Instance, Instance], mailbox: Inbox
) -> None:
    a, b = pair
    (badge,) = _issue(a)
    with (
        TestClient(a.app, base_url=a.base) as wallet,
        TestClient(b.app, base_url=b.base) as site,
    ):
        sign_in(wallet, mailbox, EMAIL)
        _connect(wallet, site, b, mailbox)
        host = _one(a.services, ObHost)
        connection = _one(a.services, ObConnection)
        assert host.name and host.revocation_url == b.base + "/oauth/revoke"
        passphrase = a.services.settings.key_passphrase
        secret = unseal(passphrase, "ob_host.client_secret", host.client_secret)
        access = unseal(passphrase, "ob_connection.access_token", connection.access_token)
        refresh = unseal(passphrase, "ob_connection.refresh_token", connection.refresh_token)
        assert secret not in host.client_secret and access not in connection.access_token
        assert connection.state_hash is None and connection.code_verifier is None

        text_ = _push(wallet, "c-" + badge["id"].removeprefix("urn:uuid:"))
        assert 'class="push push-sent"' in text_, text_
        reader = token(site, mailbox, (READ,))
        held = site.get(API + "/credentials", headers={"Authorization": f"Bearer {reader}"})
        assert held.status_code == 200 and held.json()["credential"] == [badge]

        with unit_of_work(a.services.engine) as db:  # the access token expires
            row = db.get(ObConnection, connection.id)
            assert row is not None
            row.expires_at = utcnow() - timedelta(minutes=1)
            db.add(row)
        text_ = _push(wallet, "c-" + badge["id"].removeprefix("urn:uuid:"))
        assert text_.count('class="push push-sent"') == 2, text_
        renewed = _one(a.services, ObConnection)
        assert unseal(passphrase, "ob_connection.access_token", renewed.access_token) != access
        assert unseal(passphrase, "ob_connection.refresh_token", renewed.refresh_token) != refresh
        assert renewed.expires_at > utcnow()
        with Session(b.services.engine) as db:  # the old refresh token is dead at B
            assert len([t for t in db.exec(select(OAuthToken)) if t.revoked_at is None]) >= 1

        b.stop()
        text_ = _push(wallet, "c-" + badge["id"].removeprefix("urn:uuid:"))
        failed = _one(a.services, ObPush)
        assert failed.state == "failed" and failed.attempts == 1
        assert "could not be reached" in failed.last_error
        assert failed.next_attempt_at > utcnow() + timedelta(seconds=20)
        assert 'class="push push-failed"' in text_ and "could not be reached" in text_
        assert "Next attempt:" in text_ and "Try again now" in text_
        with Session(a.services.engine) as db:
            retry = db.exec(select(PendingEffect).where(PendingEffect.kind == OB_PUSH)).all()
            assert any(e.done_at is None and e.run_after > utcnow() for e in retry)
        korean = wallet.get("/wallet/connections", params={"lang": "ko"})
        assert "배지 호스트" in korean.text and "실패" in korean.text
        wallet.get("/wallet/connections", params={"lang": "en"})

        again = wallet.get("/wallet/connections")
        found = re.search(r'action="(/wallet/connections/pushes/\d+/retry)"', again.text)
        assert found
        retried = wallet.post(found.group(1), data={"csrf": csrf(again.text)})
        assert retried.status_code == 200 and 'class="push push-failed"' in retried.text
        gone = re.search(r'action="(/wallet/connections/\d+/disconnect)"', retried.text)
        assert gone
        left = wallet.post(gone.group(1), data={"csrf": csrf(retried.text)})
        assert left.status_code == 200 and 'id="warning"' in left.text  # B could not be told
        assert 'id="no-hosts"' in left.text
        assert _one(a.services, ObConnection) is None


def test_disconnect_revokes_the_tokens_at_the_host(
    pair: tuple[Instance, Instance], mailbox: Inbox
) -> None:
    a, b = pair
    with (
        TestClient(a.app, base_url=a.base) as wallet,
        TestClient(b.app, base_url=b.base) as site,
    ):
        sign_in(wallet, mailbox, EMAIL)
        page = wallet.get("/wallet/connections")  # first the learner says no at B
        started = wallet.post(
            "/wallet/connections",
            data={"csrf": csrf(page.text), "sdd_url": b.base},  # the SDD path is added
            follow_redirects=False,
        )
        params = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["location"]).query).items()}
        first = site.get("/oauth/authorize", params=params, follow_redirects=False)
        sign_in(
            site, mailbox, EMAIL, parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
        )
        denied = urlsplit(decide(site, params, "deny").headers["location"])
        refused = wallet.get(f"{denied.path}?{denied.query}")
        assert refused.status_code == 200 and "did not connect: access_denied" in refused.text
        assert 'id="no-hosts"' in refused.text

        _connect(wallet, site, b, mailbox)
        page = wallet.get("/wallet/connections")
        found = re.search(r'action="(/wallet/connections/\d+/disconnect)"', page.text)
        assert found
        forged = wallet.post(found.group(1), data={"csrf": "forged"})
        assert forged.status_code == 403
        left = wallet.post(found.group(1), data={"csrf": csrf(page.text)}, follow_redirects=False)
        assert left.status_code == 303 and left.headers["location"].endswith("done=disconnected")
        assert _one(a.services, ObConnection) is None
        with Session(b.services.engine) as db:
            assert all(t.revoked_at is not None for t in db.exec(select(OAuthToken)))

        _connect(wallet, site, b, mailbox)  # again; then the learner deletes their account at A
        assert _one(a.services, ObConnection).access_token is not None
        account = wallet.get("/wallet/account")
        deleted = wallet.post(
            "/wallet/account/delete", data={"csrf": csrf(account.text), "confirm": "DELETE"}
        )
        assert deleted.status_code == 200
        assert _one(a.services, ObConnection) is None  # Laurel's tokens at B are forgotten


def test_unknown_and_tampered_service_descriptions_are_refused(
    pair: tuple[Instance, Instance], mailbox: Inbox
) -> None:
    a, b = pair
    with TestClient(a.app, base_url=a.base) as wallet:
        sign_in(wallet, mailbox, EMAIL)
        page = wallet.get("/wallet/connections")
        unknown = wallet.post(
            "/wallet/connections",
            data={"csrf": csrf(page.text), "sdd_url": b.base + "/nothing" + API + "/discovery"},
        )
        assert unknown.status_code == 502 and "answered HTTP 404" in unknown.text
        bare = wallet.post(  # a host's base URL is completed to its SDD
            "/wallet/connections",
            data={"csrf": csrf(page.text), "sdd_url": "ftp://example.org"},
        )
        assert bare.status_code == 400 and "must be an https URL" in bare.text
    with TestClient(b.app, base_url=b.base) as site:
        sdd = site.get(API + "/discovery").json()
    url = b.base + API + "/discovery"
    found = discovery.read(a.services, url, sdd)
    assert found.token_url == b.base + "/oauth/token" and discovery.UPSERT in found.scopes
    scheme = ("components", "securitySchemes", "OAuth2ACG")

    def tampered(change: Any) -> str:
        document = copy.deepcopy(sdd)
        target = document
        for name in scheme:
            target = target[name]
        change(document, target)
        with pytest.raises(HostFailed) as refused:
            discovery.read(a.services, url, document)
        return refused.value.detail

    assert "on another host" in tampered(
        lambda d, s: s["flows"]["authorizationCode"].update(tokenUrl="http://localhost:9/token")
    )
    assert "authorization URL is on another host" in tampered(  # a mix-up (audit 10, F1)
        lambda d, s: s["flows"]["authorizationCode"].update(
            authorizationUrl="http://localhost:9/oauth/authorize"
        )
    )
    assert "registration URL is missing" in tampered(lambda d, s: s.pop("x-imssf-registrationUrl"))
    assert "lack" in tampered(lambda d, s: s["flows"]["authorizationCode"].update(scopes={}))
    assert "info.title" in tampered(lambda d, s: d["info"].pop("title"))
    assert "OAuth2ACG" in tampered(lambda d, s: d["components"]["securitySchemes"].clear())


def test_only_public_https_hosts_unless_laurel_itself_is_on_loopback(services: Services) -> None:
    """The loopback rule: ``services`` runs on https://laurel.test, so loopback and private
    hosts are refused before any connection is made."""
    with pytest.raises(HostFailed, match="https"):
        check_url(services, "http://127.0.0.1:9/ims/ob/v3p0/discovery", "the address")
    with pytest.raises(HostFailed, match="does not call"):
        call(services, "GET", "https://10.0.0.1/ims/ob/v3p0/discovery")
    with pytest.raises(HostFailed, match="does not call"):
        call(services, "GET", "https://[::1]/ims/ob/v3p0/discovery")
    with pytest.raises(BadRequest):
        discovery.sdd_url(services, "http://127.0.0.1:8000")
    assert discovery.sdd_url(services, "https://host.example/") == (
        "https://host.example/ims/ob/v3p0/discovery"
    )


def test_sealed_secrets_open_only_with_their_passphrase_and_label() -> None:
    sealed = seal("passphrase-one", "ob_connection.access_token", "the-token")
    assert "the-token" not in sealed and sealed.startswith("v1.")
    assert unseal("passphrase-one", "ob_connection.access_token", sealed) == "the-token"
    for passphrase, label in (
        ("passphrase-two", "ob_connection.access_token"),
        ("passphrase-one", "ob_connection.refresh_token"),
    ):
        with pytest.raises(Unsealable):
            unseal(passphrase, label, sealed)
    with pytest.raises(Unsealable):
        unseal("passphrase-one", "ob_connection.access_token", sealed[:-4] + "AAAA")


def test_a_jws_goes_as_text_plain_and_a_refused_badge_is_not_retried(
    pair: tuple[Instance, Instance], mailbox: Inbox
) -> None:
    a, b = pair
    first, second = _issue(a, 2)
    uuid_ = first["id"].removeprefix("urn:uuid:")
    with TestClient(a.app, base_url=a.base) as api:
        key = create_api_key(a.services, "hrd", ["read", "revoke"])
        headers = {"Authorization": f"Bearer {key}"}
        jws = api.get(
            f"/api/v1/credentials/{uuid_}", headers={**headers, "Accept": "application/vc+jwt"}
        )
        assert jws.status_code == 200, jws.text
        revoked = second["id"].removeprefix("urn:uuid:")
        answer = api.post(
            f"/api/v1/credentials/{revoked}/revoke", json={"reason": "x"}, headers=headers
        )
        assert answer.status_code == 200, answer.text
    with unit_of_work(a.services.engine) as db:  # stands in for a VC-JWT imported from elsewhere
        issued = db.get(Credential, uuid_)
        assert issued is not None and issued.learner_id is not None
        kept = ImportedCredential(
            learner_id=issued.learner_id,
            original=jws.text.encode("ascii"),
            media_type=MEDIA_TYPES["jwt"],
            document=first,
            credential_id=first["id"],
            name="Leading People (JWT)",
            issuer_name="HRD Institute",
            verdict="verified",
            report={},
        )
        db.add(kept)
        db.flush()
        imported_ref = f"i-{kept.id}"
    with (
        TestClient(a.app, base_url=a.base) as wallet,
        TestClient(b.app, base_url=b.base) as site,
    ):
        sign_in(wallet, mailbox, EMAIL)
        _connect(wallet, site, b, mailbox)
        text_ = _push(wallet, imported_ref)
        assert 'class="push push-sent"' in text_, text_
        reader = token(site, mailbox, (READ,))
        held = site.get(API + "/credentials", headers={"Authorization": f"Bearer {reader}"})
        assert held.json() == {"credential": [], "compactJwsString": [jws.text.strip()]}

        text_ = _push(wallet, f"c-{revoked}")
        refused = _one(a.services, ObPush)
        assert refused.state == "failed" and refused.last_status == 400
        assert refused.next_attempt_at is None  # the host will not change its mind
        assert "does not verify" in refused.last_error and "does not verify" in text_
        metrics = wallet.get("/metrics").text
        assert 'laurel_ob_push_failures_total{retried="no"}' in metrics


def _consent(wallet: TestClient, yes: bool) -> str:
    page = wallet.get("/wallet/connections")
    found = re.search(r'action="(/wallet/connections/\d+/send-new)"', page.text)
    assert found, page.text
    data = {"csrf": csrf(page.text)} | ({"consent": "yes"} if yes else {})
    saved = wallet.post(found.group(1), data=data)
    assert saved.status_code == 200 and 'id="done"' in saved.text, saved.text
    return saved.text


def test_badges_issued_after_the_learners_consent_go_to_their_host(
    pair: tuple[Instance, Instance], mailbox: Inbox
) -> None:
    """An institute's award reaches the learner's connected host only with the learner's
    consent: nothing before it, every badge issued while it holds (one by one and in bulk, each
    once), nothing after it is withdrawn."""
    a, b = pair
    (before,) = _issue(a)
    with (
        TestClient(a.app, base_url=a.base) as wallet,
        TestClient(b.app, base_url=b.base) as site,
        TestClient(a.app, base_url=a.base) as api,
    ):
        sign_in(wallet, mailbox, EMAIL)
        _connect(wallet, site, b, mailbox)
        assert 'name="consent" value="yes">' in wallet.get("/wallet/connections").text
        page = _consent(wallet, True)
        assert 'name="consent" value="yes" checked>' in page
        assert "앞으로 받는 배지" in wallet.get("/wallet/connections", params={"lang": "ko"}).text
        wallet.get("/wallet/connections", params={"lang": "en"})

        headers = {"Authorization": f"Bearer {create_api_key(a.services, 'hrd', ['issue'])}"}
        one = api.post("/api/v1/issuers/hrd/credentials", json=issue_body(EMAIL), headers=headers)
        assert one.status_code == 201, one.text
        rows = [issue_body(EMAIL, idempotencyKey=f"row-{n}") for n in (1, 2, 3)]
        rows[1]["recipient"]["email"] = "someone-else@example.org"
        many = api.post("/api/v1/issuers/hrd/credentials/bulk", json=rows, headers=headers)
        assert many.status_code == 200, many.text
        ids = [r["id"] for r in many.json()["rows"] if r["status"] == "issued"]
        assert len(ids) == 3, many.json()

        reader = token(site, mailbox, (READ,))
        held = site.get(API + "/credentials", headers={"Authorization": f"Bearer {reader}"})
        assert held.status_code == 200, held.text
        sent = {c["id"] for c in held.json()["credential"]}
        mine = {one.json()["id"], *(f"urn:uuid:{i.removeprefix('urn:uuid:')}" for i in ids[::2])}
        assert sent == mine  # not the badge from before, not someone else's
        assert before["id"] not in sent
        with Session(a.services.engine) as db:
            pushes = db.exec(select(ObPush)).all()
            assert len(pushes) == 3 and {p.state for p in pushes} == {"sent"}

        _consent(wallet, False)
        later = api.post("/api/v1/issuers/hrd/credentials", json=issue_body(EMAIL), headers=headers)
        assert later.status_code == 201
        with Session(a.services.engine) as db:
            assert len(db.exec(select(ObPush)).all()) == 3
