"""A scripted OpenID4VCI holder for the Python tests: keys, key proofs, and the steps of the
pre-authorized code flow against the app under test."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from fastapi.testclient import TestClient

from issuer.crypto import keys

BASE_URL = "https://laurel.test"
PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
LDP, JWT = "OpenBadgeCredential_ldp_vc", "OpenBadgeCredential_jwt_vc_json"
AUDIENCE = f"{BASE_URL}/issuers/hrd"


@dataclass
class Holder:
    key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    did: str
    kid: str

    @classmethod
    def ed25519(cls) -> Holder:
        key = ed25519.Ed25519PrivateKey.generate()
        return cls(key, keys.did_key(key), keys.did_key_method(key))

    @property
    def alg(self) -> str:
        return "EdDSA" if isinstance(self.key, ed25519.Ed25519PrivateKey) else "ES256"

    def proof(
        self,
        nonce: str | None,
        *,
        aud: str = AUDIENCE,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        payload: dict[str, Any] = {"aud": aud, "iat": int(time.time())}
        if nonce is not None:
            payload["nonce"] = nonce
        head = {"typ": "openid4vci-proof+jwt", "kid": self.kid, **(header or {})}
        head = {k: v for k, v in head.items() if v is not None}
        return jwt.encode({**payload, **(claims or {})}, self.key, algorithm=self.alg, headers=head)


def p256_jwk_holder() -> tuple[Holder, dict[str, Any]]:
    """A P-256 holder that names its key by a ``jwk`` header (its DID is that key's did:jwk)."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {k: v for k, v in keys.public_jwk(key).items() if k in ("kty", "crv", "x", "y")}
    thumbprint_order = json.dumps(jwk, separators=(",", ":"), sort_keys=True)
    encoded = base64.urlsafe_b64encode(thumbprint_order.encode())
    holder = Holder(key, "did:jwk:" + encoded.rstrip(b"=").decode(), "")
    return holder, jwk


def offer(client: TestClient, credential_id: str, headers: dict[str, str]) -> dict[str, Any]:
    made = client.post(f"/api/v1/credentials/{credential_id}/offers", headers=headers)
    assert made.status_code == 201, made.text
    answer: dict[str, Any] = made.json()
    return answer


def offer_document(client: TestClient, made: dict[str, Any]) -> httpx2.Response:
    [uri] = parse_qs(urlsplit(made["offer"]).query)["credential_offer_uri"]
    assert uri == made["credential_offer_uri"]
    return client.get(uri.removeprefix(BASE_URL))


def pre_authorized_code(client: TestClient, made: dict[str, Any]) -> str:
    document = offer_document(client, made).json()
    code: str = document["grants"][PRE_AUTHORIZED]["pre-authorized_code"]
    return code


def token(client: TestClient, code: str, tx_code: str | None) -> httpx2.Response:
    form = {"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code}
    if tx_code is not None:
        form["tx_code"] = tx_code
    return client.post("/oauth/token", data=form)


def access_token(client: TestClient, made: dict[str, Any]) -> str:
    answer = token(client, pre_authorized_code(client, made), made["tx_code"])
    assert answer.status_code == 200, answer.text
    found: str = answer.json()["access_token"]
    return found


def nonce(client: TestClient) -> str:
    answer = client.post("/oid4vci/nonce")
    assert answer.status_code == 200, answer.text
    found: str = answer.json()["c_nonce"]
    return found


def request_credential(
    client: TestClient, access: str | None, body: Any, *, raw: bytes | None = None
) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {access}"} if access else {}
    content = raw if raw is not None else json.dumps(body).encode()
    return client.post(
        "/oid4vci/credential",
        content=content,
        headers={**headers, "Content-Type": "application/json"},
    )


def ask(
    client: TestClient, access: str, holder: Holder, configuration: str = LDP, **proof: Any
) -> httpx2.Response:
    body = {
        "credential_configuration_id": configuration,
        "proofs": {"jwt": [holder.proof(nonce(client), **proof)]},
    }
    return request_credential(client, access, body)
