"""The Learner Credential Wallet collects a badge from a Laurel served on loopback, through the
VC-API exchange (``issuer.wallet.exchanges``), played by ``js-lcw/lcw.mjs``: the npm packages LCW
2.2 ships (``@digitalcredentials/vc``, ``…/ed25519-signature-2020``, ``…/did-method-key``,
``…/security-document-loader``) sign the DIDAuthentication presentation, and
``@digitalcredentials/verifier-core`` (LCW's verifier) checks the badge received. Every refusal
the digest names (spec §3.7) is here too; on SQLite and PostgreSQL. Skipped without node/npm."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine
from issuer.core.settings import Settings
from issuer.models import Credential, WalletExchange
from issuer.models.base import utcnow
from tests.databases import serving
from tests.interop.dcc import NODE_TIMEOUT_S, ensure_node_modules
from tests.issuer.conftest import issue_body, make_issuer
from tests.units import create_api_key, revoke
from tests.web.conftest import free_port
from verifier.fetch import HttpFetcher

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="needs node and npm"
)
JS_DIR = Path(__file__).resolve().parent / "js-lcw"
SEED = "01" * 32
OTHER_SEED = "02" * 32


@dataclass
class Laurel:
    base: str
    services: Services
    app: FastAPI

    def api(self) -> TestClient:
        return TestClient(self.app, base_url=self.base)


@pytest.fixture(scope="module", autouse=True)
def _node_modules() -> None:
    ensure_node_modules(JS_DIR)


@pytest.fixture
def laurel(database_url: str, tmp_path: Path) -> Iterator[Laurel]:
    """Laurel on a loopback port; its issuers sign with did:key (LCW's verifier resolves
    did:key offline; a did:web on plain-HTTP loopback it cannot)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url=base,
        did_method="key",
    )
    services = Services.from_settings(settings, make_engine(database_url))
    services.network = HttpFetcher(allow_loopback_http=True, cache_seconds=0)
    app = create_app(services=services)
    with serving(app, port):
        yield Laurel(base, services, app)
    services.engine.dispose()


def _badge(laurel: Laurel) -> tuple[dict[str, Any], dict[str, str]]:
    with laurel.api() as api:
        headers = make_issuer(laurel.services, api, "hrd")
        issued = api.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
        assert issued.status_code == 201, issued.text
        return issued.json(), headers


def _offer(laurel: Laurel, credential_id: str, headers: dict[str, str]) -> dict[str, Any]:
    with laurel.api() as api:
        made = api.post(f"/api/v1/credentials/{credential_id}/exchanges", headers=headers)
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    offer: dict[str, Any] = made.json()
    return offer


def _wallet(**options: Any) -> dict[str, Any]:
    """Run the wallet; its answer lists every HTTP step (url, status, body)."""
    with tempfile.TemporaryDirectory(prefix="lcw-") as tmp:
        path = Path(tmp) / "options.json"
        path.write_text(json.dumps({"seed": SEED, **options}), encoding="utf-8")
        proc = subprocess.run(
            ["node", str(JS_DIR / "lcw.mjs"), str(path)],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_S,
            check=False,
        )
    assert proc.returncode in (0, 2), proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _holder_of(laurel: Laurel, credential_id: str) -> str | None:
    with Session(laurel.services.engine) as db:
        row = db.get(Credential, credential_id.removeprefix("urn:uuid:"))
        assert row is not None
        return row.holder_id


@pytest.mark.parametrize(
    ("suite", "vcdm"),
    [("Ed25519Signature2020", 1), ("Ed25519Signature2020", 2), ("eddsa-rdfc-2022", 2)],
)
def test_the_wallet_collects_the_badge_bound_to_its_did(
    laurel: Laurel, suite: str, vcdm: int
) -> None:
    badge, headers = _badge(laurel)
    offer = _offer(laurel, badge["id"], headers)
    result = _wallet(start=offer["lcw"], suite=suite, vcdm=vcdm, verify=True)
    assert "error" not in result, result
    asked, answered = result["steps"]
    request = asked["body"]["verifiablePresentationRequest"]
    assert request["domain"] == laurel.base and request["challenge"]
    assert request["query"] == [{"type": "DIDAuthentication"}]
    assert answered["status"] == 200, answered
    [credential] = result["credentials"]
    holder = result["holder"]
    assert holder.startswith("did:key:z6Mk")
    assert credential["id"] == badge["id"]
    assert credential["credentialSubject"]["id"] == holder
    assert credential["credentialStatus"] == badge["credentialStatus"]
    assert _holder_of(laurel, badge["id"]) == holder
    verification = result["verification"]
    signature = [e for e in verification["log"] if e["id"] == "valid_signature"]
    assert signature == [{"id": "valid_signature", "valid": True}], verification
    assert "errors" not in verification, verification
    checked = {entry["id"]: entry["valid"] for entry in verification["log"]}
    assert checked["revocation_status"] is True  # the status list, fetched from Laurel
    # The one expected failure (spec §3.7): Laurel's test issuer is in no DCC registry.
    assert {name for name, valid in checked.items() if not valid} == {"registered_issuer"}
    # The exchange is spent: the same link now answers 404.
    again = _wallet(start=offer["lcw"], suite=suite, vcdm=vcdm)
    assert again["steps"][0]["status"] == 404


def test_the_interaction_url_names_the_vcapi_exchange(laurel: Laurel) -> None:
    badge, headers = _badge(laurel)
    offer = _offer(laurel, badge["id"], headers)
    assert offer["interaction"].endswith("?iuv=1")
    result = _wallet(start=offer["interaction"], verify=True)
    opened = result["steps"][0]
    assert opened["method"] == "GET" and opened["status"] == 200
    assert opened["body"] == {"protocols": {"vcapi": offer["exchange"]}}
    assert result["steps"][-1]["status"] == 200
    assert result["credentials"][0]["credentialSubject"]["id"] == result["holder"]
    with laurel.api() as api:  # spent: the interaction is gone too
        assert api.get(offer["interaction"].removeprefix(laurel.base)).status_code == 404


def test_the_legacy_dccrequest_link_posts_the_presentation_itself(laurel: Laurel) -> None:
    badge, headers = _badge(laurel)
    offer = _offer(laurel, badge["id"], headers)
    result = _wallet(start=offer["dccrequest"])
    [posted] = result["steps"]
    assert posted["status"] == 200, posted
    assert posted["body"]["type"] == ["VerifiablePresentation"]
    assert posted["body"]["verifiableCredential"][0]["credentialSubject"]["id"] == result["holder"]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"challenge": "not-the-challenge"}, "challenge"),
        ({"domain": "https://elsewhere.example"}, "domain"),
        ({"signerSeed": OTHER_SEED}, "must be a key of the holder"),
        ({"signerSeed": OTHER_SEED, "forgedVm": True}, "did:key fragment"),
        ({"purpose": "assertionMethod"}, "proofPurpose"),
    ],
    ids=["wrong-challenge", "wrong-domain", "other-signer", "forged-method", "assertion-purpose"],
)
def test_a_presentation_that_fails_a_check_is_refused_and_spends_nothing(
    laurel: Laurel, options: dict[str, Any], reason: str
) -> None:
    badge, headers = _badge(laurel)
    offer = _offer(laurel, badge["id"], headers)
    refused = _wallet(start=offer["lcw"], **options)
    posted = refused["steps"][-1]
    assert posted["status"] == 400, posted
    assert posted["body"]["title"] == "Invalid presentation"
    assert reason in posted["body"]["detail"]
    assert refused["credentials"] == []
    assert _holder_of(laurel, badge["id"]) is None
    collected = _wallet(start=offer["lcw"])  # the exchange is still there for the real wallet
    assert collected["steps"][-1]["status"] == 200


def test_a_replayed_presentation_finds_the_exchange_spent(laurel: Laurel) -> None:
    badge, headers = _badge(laurel)
    offer = _offer(laurel, badge["id"], headers)
    result = _wallet(start=offer["lcw"], repeat=2)
    first, second = result["steps"][1:]
    assert first["status"] == 200 and second["status"] == 404
    assert "expired or been used" in second["body"]["detail"]


def test_an_expired_exchange_answers_404(laurel: Laurel) -> None:
    badge, headers = _badge(laurel)
    offer = _offer(laurel, badge["id"], headers)
    with Session(laurel.services.engine) as db:
        row = db.exec(select(WalletExchange)).one()
        assert utcnow() + timedelta(minutes=14) < row.expires_at
        assert row.expires_at <= utcnow() + timedelta(minutes=15)
        db.connection().execute(
            update(WalletExchange).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.commit()
    result = _wallet(start=offer["lcw"])
    assert [step["status"] for step in result["steps"]] == [404]
    with laurel.api() as api:
        assert api.get(offer["interaction"].removeprefix(laurel.base)).status_code == 404


def test_another_issuers_key_cannot_create_an_exchange(laurel: Laurel) -> None:
    badge, _ = _badge(laurel)
    with laurel.api() as api:
        make_issuer(laurel.services, api, "other")
        other = {"Authorization": f"Bearer {create_api_key(laurel.services, 'other', ['issue'])}"}
        made = api.post(f"/api/v1/credentials/{badge['id']}/exchanges", headers=other)
    assert made.status_code == 404
    assert made.headers["content-type"] == "application/problem+json"


def test_a_revoked_badge_gets_no_exchange_and_an_open_one_cannot_deliver_it(
    laurel: Laurel,
) -> None:
    badge, headers = _badge(laurel)
    offer = _offer(laurel, badge["id"], headers)
    revoke(laurel.services, badge["id"], "issued in error")
    with laurel.api() as api:
        made = api.post(f"/api/v1/credentials/{badge['id']}/exchanges", headers=headers)
    assert made.status_code == 409
    result = _wallet(start=offer["lcw"])
    assert result["steps"][-1]["status"] == 409
    with Session(laurel.services.engine) as db:  # the refusal spent nothing
        assert db.exec(select(WalletExchange)).one().state == "pending"
