"""Wallet exchanges (``issuer.wallet.exchanges``) over HTTP, with presentations signed here
(eddsa-rdfc-2022 through ``verifier.proof.data_integrity``): the four links of an offer, the
capability stored only as a hash, who may create one, the DIDAuthentication request and its
checks (a did:web holder whose document lists the key for ``authentication`` only, or not),
bad bodies, and one exchange raced by two wallets; on SQLite and PostgreSQL. The Node wallet
built from LCW's own packages is in tests/interop/test_lcw_exchange.py."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.crypto import keys
from issuer.effects import work
from issuer.models import AuditEntry, Credential, WalletExchange
from issuer.wallet import exchanges
from tests.issuer.conftest import BASE_URL, ClientFetcher, issue_body, make_issuer
from tests.issuer.test_network_outside_transactions import assert_database_free
from tests.units import create_api_key
from verifier import Verdict, verify_credential
from verifier.errors import FetchError
from verifier.proof import data_integrity

V2 = "https://www.w3.org/ns/credentials/v2"
HOLDER = keys.ed25519_from_seed(bytes(range(32)))
HOLDER_DID = keys.did_key(HOLDER)
STRANGER = keys.ed25519_from_seed(bytes(range(1, 33)))


def _badge(client: TestClient, services: Services) -> tuple[dict[str, Any], dict[str, str]]:
    headers = make_issuer(services, client, "hrd")
    issued = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    assert issued.status_code == 201, issued.text
    document: dict[str, Any] = issued.json()
    return document, headers


def _offer(client: TestClient, credential_id: str, headers: dict[str, str]) -> dict[str, Any]:
    made = client.post(f"/api/v1/credentials/{credential_id}/exchanges", headers=headers)
    assert made.status_code == 201, made.text
    offer: dict[str, Any] = made.json()
    return offer


def _path(url: str) -> str:
    return url.removeprefix(BASE_URL)


def _did_auth(
    challenge: str,
    domain: str,
    *,
    holder: str = HOLDER_DID,
    key: Any = HOLDER,
    method: str | None = None,
) -> dict[str, Any]:
    presentation = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": holder}
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "verificationMethod": method or keys.did_key_method(key),
        "proofPurpose": "authentication",
        "challenge": challenge,
        "domain": domain,
    }
    signature = key.sign(data_integrity.signing_input(presentation, options))
    return data_integrity.attach_proof(presentation, options, signature)


def _request(client: TestClient, offer: dict[str, Any]) -> dict[str, Any]:
    asked = client.post(_path(offer["exchange"]), json={})
    assert asked.status_code == 200, asked.text
    request: dict[str, Any] = asked.json()["verifiablePresentationRequest"]
    return request


def test_an_offer_is_four_links_to_one_capability_kept_only_as_a_hash(
    client: TestClient, services: Services
) -> None:
    badge, headers = _badge(client, services)
    offer = _offer(client, badge["id"], headers)
    secret = offer["exchange"].removeprefix(f"{BASE_URL}/exchanges/")
    assert len(secret) == 43 and set(secret) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )  # 256 random bits
    assert offer["interaction"] == f"{BASE_URL}/interactions/{secret}?iuv=1"
    lcw = urlsplit(offer["lcw"])
    assert (lcw.scheme, lcw.netloc, lcw.path) == ("https", "lcw.app", "/request")
    assert json.loads(unquote(lcw.query.removeprefix("request="))) == {
        "protocols": {"vcapi": offer["exchange"]}
    }
    legacy = urlsplit(offer["dccrequest"])
    assert (legacy.scheme, legacy.netloc) == ("dccrequest", "request")
    query = {name: values[0] for name, values in parse_qs(legacy.query).items()}
    assert query["issuer"] == badge["issuer"]["id"]
    assert query["vc_request_url"] == offer["exchange"] and query["auth_type"] == "bearer"
    assert query["challenge"] == _request(client, offer)["challenge"]
    with Session(services.engine) as db:
        row = db.exec(select(WalletExchange)).one()
        assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in json.dumps(row.model_dump(mode="json"))
        assert (row.expires_at - row.created_at).total_seconds() == 900
        audit = db.exec(select(AuditEntry).where(AuditEntry.action == "credential.exchange"))
        assert audit.one().subject == badge["id"]
    opened = client.get(_path(offer["interaction"]))
    assert opened.status_code == 200 and opened.headers["cache-control"] == "no-store"
    assert opened.json() == {"protocols": {"vcapi": offer["exchange"]}}


def test_only_the_badges_issuer_with_the_issue_scope_creates_an_exchange(
    client: TestClient, services: Services
) -> None:
    badge, _ = _badge(client, services)
    path = f"/api/v1/credentials/{badge['id']}/exchanges"
    read_only = {"Authorization": f"Bearer {create_api_key(services, 'hrd', ['read'])}"}
    assert client.post(path, headers=read_only).status_code == 403
    assert client.post(path).status_code == 401
    make_issuer(services, client, "other")
    other = {"Authorization": f"Bearer {create_api_key(services, 'other', ['issue'])}"}
    assert client.post(path, headers=other).status_code == 404
    unknown = "/api/v1/credentials/urn:uuid:00000000-0000-4000-8000-000000000000/exchanges"
    assert client.post(unknown, headers=other).status_code == 404


def test_the_holder_authenticates_and_receives_the_badge_bound_to_it_once(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    badge, headers = _badge(client, services)
    offer = _offer(client, badge["id"], headers)
    request = _request(client, offer)
    assert request["domain"] == BASE_URL
    assert request["interact"]["service"] == [
        {"type": "UnmediatedPresentationService2021", "serviceEndpoint": offer["exchange"]}
    ]
    presentation = _did_auth(request["challenge"], request["domain"])
    answered = client.post(_path(offer["exchange"]), json={"verifiablePresentation": presentation})
    assert answered.status_code == 200, answered.text
    assert answered.headers["cache-control"] == "no-store"
    [received] = answered.json()["verifiablePresentation"]["verifiableCredential"]
    assert received["credentialSubject"]["id"] == HOLDER_DID
    report = verify_credential(received, fetcher=fetcher)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    again = client.post(_path(offer["exchange"]), json={"verifiablePresentation": presentation})
    assert again.status_code == 404
    assert client.post(_path(offer["exchange"]), json={}).status_code == 404
    with Session(services.engine) as db:
        row = db.exec(select(WalletExchange)).one()
        assert (row.state, row.holder_id) == ("spent", HOLDER_DID)
        credential = db.get(Credential, badge["id"].removeprefix("urn:uuid:"))
        assert credential is not None and credential.holder_id == HOLDER_DID


HOLDER_WEB = "did:web:holder.example"
HOLDER_WEB_KEY = "did:web:holder.example#key-1"


class DidWebHost:
    """A fetcher serving one did:web document, and refusing everything else. Every URL asked
    is noted in ``asked``; with ``services``, each answer is given only after checking that the
    database is free, and what was not is noted in ``held`` (an assertion raised here would be
    taken by the verifier for a failed fetch)."""

    def __init__(self, document: dict[str, Any], services: Services | None = None) -> None:
        self.document, self.services = document, services
        self.asked: list[str] = []
        self.held: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.asked.append(url)
        if self.services is not None:
            try:
                assert_database_free(self.services)
            except (AssertionError, sqlite3.OperationalError) as exc:
                self.held.append(f"{url}: {exc!r}")
        if url == "https://holder.example/.well-known/did.json":
            return json.dumps(self.document).encode()
        raise FetchError(url, "unreachable in tests")


def _holder_document(listed_for: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": HOLDER_WEB,
        "verificationMethod": [
            {
                "id": HOLDER_WEB_KEY,
                "type": "Multikey",
                "controller": HOLDER_WEB,
                "publicKeyMultibase": keys.multikey(HOLDER),
            }
        ],
        listed_for: [HOLDER_WEB_KEY],
    }


@pytest.mark.parametrize("listed_for", ["authentication", "assertionMethod"])
def test_a_did_web_holder_must_list_the_key_for_authentication(
    client: TestClient, services: Services, listed_for: str
) -> None:
    did, method = HOLDER_WEB, HOLDER_WEB_KEY
    services.network = DidWebHost(_holder_document(listed_for))
    badge, headers = _badge(client, services)
    offer = _offer(client, badge["id"], headers)
    request = _request(client, offer)
    presentation = _did_auth(request["challenge"], request["domain"], holder=did, method=method)
    answered = client.post(_path(offer["exchange"]), json={"verifiablePresentation": presentation})
    if listed_for == "authentication":
        assert answered.status_code == 200, answered.text
        [received] = answered.json()["verifiablePresentation"]["verifiableCredential"]
        assert received["credentialSubject"]["id"] == did
    else:
        assert answered.status_code == 400
        assert "does not list the signing key under authentication" in answered.json()["detail"]


@pytest.mark.parametrize("listed_for", ["authentication", "assertionMethod"])
def test_the_holders_did_document_is_read_with_no_write_transaction_open(
    client: TestClient, services: Services, listed_for: str
) -> None:
    """Audit round 8: the presentation was verified inside the request's write transaction, so
    a slow did:web host (the holder's own choice) held the SQLite write lock, or a pooled
    connection, for every fetch, and a refused presentation could be posted again and again.
    Now the holder's document is read first, with the database free, accepted or refused."""
    host = DidWebHost(_holder_document(listed_for), services)
    services.network = host
    badge, headers = _badge(client, services)
    offer = _offer(client, badge["id"], headers)
    request = _request(client, offer)
    presentation = _did_auth(
        request["challenge"], request["domain"], holder=HOLDER_WEB, method=HOLDER_WEB_KEY
    )
    answered = client.post(_path(offer["exchange"]), json={"verifiablePresentation": presentation})
    assert answered.status_code == (200 if listed_for == "authentication" else 400), answered.text
    assert host.asked == ["https://holder.example/.well-known/did.json"]  # once, then remembered
    assert host.held == []
    with Session(services.engine) as db:
        row = db.exec(select(WalletExchange)).one()
        assert row.state == ("spent" if listed_for == "authentication" else "pending")


def test_one_proof_by_a_key_of_the_holder_or_nothing_is_fetched(
    client: TestClient, services: Services
) -> None:
    """Audit round 8: up to 8 proofs, each by a key of any DID (and its controller's), were
    resolved before the holder check refused them: 16 fetches a request. A DIDAuthentication
    presentation carries one proof, by a key of its holder; anything else is refused unread."""
    host = DidWebHost(_holder_document("authentication"), services)
    services.network = host
    badge, headers = _badge(client, services)
    offer = _offer(client, badge["id"], headers)
    request = _request(client, offer)
    challenge, domain = request["challenge"], request["domain"]
    signed = _did_auth(challenge, domain, holder=HOLDER_WEB, method=HOLDER_WEB_KEY)
    elsewhere = _did_auth(
        challenge, domain, holder=HOLDER_WEB, method="did:web:elsewhere.example#key-1"
    )
    for presentation, reason in [
        ({**signed, "proof": signed["proof"] * 2}, "carries one proof, by its holder"),
        (elsewhere, "must be a key of the holder did:web:holder.example"),
        ({**signed, "proof": ["not a proof"]}, "must be a key of the holder"),
    ]:
        for body in ({"verifiablePresentation": presentation}, presentation):  # legacy too
            answer = client.post(_path(offer["exchange"]), json=body)
            assert answer.status_code == 400, answer.text
            assert reason in answer.json()["detail"]
    assert host.asked == []
    answered = client.post(_path(offer["exchange"]), json={"verifiablePresentation": signed})
    assert answered.status_code == 200, answered.text
    assert host.asked == ["https://holder.example/.well-known/did.json"] and host.held == []


def test_bad_bodies_are_refused_and_spend_nothing(client: TestClient, services: Services) -> None:
    badge, headers = _badge(client, services)
    offer = _offer(client, badge["id"], headers)
    path = _path(offer["exchange"])
    challenge = _request(client, offer)["challenge"]
    signed = _did_auth(challenge, BASE_URL)
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    wrapped = {"verifiablePresentation": {**signed, "holder": keys.did_key(STRANGER)}}
    for body, status in [
        ([], 422),
        ({"hello": "world"}, 400),
        ({"verifiablePresentation": "a string"}, 400),
        ({"verifiablePresentation": unsigned}, 400),
        ({"verifiablePresentation": {**signed, "holder": "mallory"}}, 400),
        (wrapped, 400),  # signed by HOLDER, naming another holder
        ({"verifiablePresentation": {**signed, "verifiableCredential": [{}]}}, 400),
    ]:
        answer = client.post(path, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    too_large = {"verifiablePresentation": {**signed, "padding": "x" * 70_000}}
    assert client.post(path, json=too_large).status_code == 413
    assert client.post("/exchanges/short", json={}).status_code == 404
    assert client.post("/exchanges/" + "A" * 43, json={}).status_code == 404
    assert client.get("/interactions/" + "A" * 43).status_code == 404
    ok = client.post(path, json={"verifiablePresentation": signed})
    assert ok.status_code == 200, ok.text


def test_two_wallets_racing_for_one_exchange_get_one_badge(
    client: TestClient, services: Services
) -> None:
    """The first wallet's transaction holds the exchange (spent, not yet committed) while the
    second one posts: the second waits for it and then finds the exchange spent."""
    badge, headers = _badge(client, services)
    offer = _offer(client, badge["id"], headers)
    secret = offer["exchange"].rsplit("/", 1)[1]
    challenge = _request(client, offer)["challenge"]
    first = {"verifiablePresentation": _did_auth(challenge, BASE_URL)}
    stranger = keys.did_key(STRANGER)
    second = {
        "verifiablePresentation": _did_auth(challenge, BASE_URL, holder=stranger, key=STRANGER)
    }
    spent, go_on = threading.Event(), threading.Event()
    outcomes: dict[str, Any] = {}

    def wallet(name: str, body: dict[str, Any], hold: bool) -> None:
        try:
            with work(services) as db:
                outcomes[name] = exchanges.participate(db, services, secret, body)
                if hold:
                    spent.set()
                    go_on.wait()
        except NotFound as exc:
            outcomes[name] = exc

    one = threading.Thread(target=wallet, args=("first", first, True))
    one.start()
    spent.wait()
    two = threading.Thread(target=wallet, args=("second", second, False))
    two.start()
    raced = _wait_until_blocked(services, two)
    go_on.set()
    one.join()
    two.join()
    received = outcomes["first"]["verifiablePresentation"]["verifiableCredential"][0]
    assert received["credentialSubject"]["id"] == HOLDER_DID
    assert isinstance(outcomes["second"], NotFound)
    assert raced  # the second wallet did wait on the first one's spent exchange
    with Session(services.engine) as db:
        credential = db.get(Credential, badge["id"].removeprefix("urn:uuid:"))
        assert credential is not None and credential.holder_id == HOLDER_DID


def _wait_until_blocked(services: Services, thread: threading.Thread) -> bool:
    """PostgreSQL: until the second transaction's conditional UPDATE waits on the first one's
    row lock (true), or the thread ends (false). SQLite serialises writers with BEGIN IMMEDIATE:
    the second waits at its start, before it reads the exchange."""
    if services.engine.dialect.name != "postgresql":
        thread.join(timeout=0.5)
        return True
    with services.engine.connect() as connection:
        while thread.is_alive():
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE 'UPDATE wallet_exchange SET state=%'"
                )
            ).scalar_one()
            if waiting:
                return True
            connection.rollback()
            threading.Event().wait(0.02)
    return False
