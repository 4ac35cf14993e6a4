"""VC-JWTs signed by panva/jose (tests/interop/js-jose), verified by Laurel (issue 15, part 3).

jose signs the exact payload bytes the test writes (``CompactSign``), with an Ed25519 did:key and
a P-256 did:jwk: a VC-JOSE-COSE ``vc+jwt`` token, a VCDM 1.1 token whose issuer, dates, id and
subject id live only in the registered claims, and an OB 3.0 token whose subject has only an
``identifier``. Each verifies, with its ``jwt profile`` warning; a VCDM 1.1 token whose
``vc.issuer`` and ``iss`` disagree does not. All tokens are signed in one node run."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from issuer.crypto.keys import did_key, generate_ed25519
from tests.issuer.credentials import make_credential
from tests.vectors import NOW, check
from verifier import Outcome, Report, Verdict, verify_credential
from verifier.fetch import NO_NETWORK
from verifier.multibase import b64url_decode, b64url_encode

from .dcc import ensure_node_modules

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are needed for the jose harness",
)

JS_DIR = Path(__file__).parent / "js-jose"
ED_KEY = generate_ed25519()
DID_KEY = did_key(ED_KEY)
DID_KEY_KID = f"{DID_KEY}#{DID_KEY.removeprefix('did:key:')}"
P256 = ec.generate_private_key(ec.SECP256R1())
P256_PRIVATE: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(P256))
P256_PUBLIC = {k: v for k, v in P256_PRIVATE.items() if k != "d"}
DID_JWK = "did:jwk:" + b64url_encode(json.dumps(P256_PUBLIC, separators=(",", ":")).encode())
ED_PRIVATE: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(ED_KEY))
NBF, EXP = 1768467600, 1800003600
SUBJECT = "did:example:learner-1"
JTI = "urn:uuid:7e1b1f3a-31a6-4a57-9f4e-0c1d2e3f4a5b"


def _vcdm1(issuer: Any) -> dict[str, Any]:
    credential = make_credential(DID_JWK)
    for name in ("id", "validFrom", "issuer"):
        credential.pop(name)
    credential["@context"] = [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    if issuer is not None:
        credential["issuer"] = issuer
    credential["credentialSubject"].pop("id")
    return credential


def _identified_only() -> dict[str, Any]:
    credential = make_credential(DID_JWK)
    credential["credentialSubject"].pop("id")
    return credential


def _jobs() -> dict[str, dict[str, Any]]:
    es256 = {"alg": "ES256", "kid": f"{DID_JWK}#0"}
    identified = _identified_only()
    claims_v1 = {"iss": DID_JWK, "nbf": NBF, "exp": EXP, "jti": JTI, "sub": SUBJECT}
    return {
        "vc+jwt": {
            "header": {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": DID_KEY_KID},
            "payload": make_credential(DID_KEY),
            "jwk": ED_PRIVATE,
        },
        "vcdm1.1": {
            "header": {**es256, "typ": "JWT"},
            "payload": {"vc": _vcdm1({"type": ["Profile"], "name": "HRD"}), **claims_v1},
            "jwk": P256_PRIVATE,
        },
        "identifier only": {
            "header": {**es256, "typ": "JWT"},
            "payload": {
                **identified,
                "iss": DID_JWK,
                "jti": identified["id"],
                "nbf": NBF,
            },
            "jwk": P256_PRIVATE,
        },
        "vcdm1.1 issuer differs": {
            "header": es256,
            "payload": {"vc": _vcdm1(DID_KEY), **claims_v1},
            "jwk": P256_PRIVATE,
        },
    }


@cache
def _tokens() -> dict[str, str]:
    ensure_node_modules(JS_DIR)
    jobs = _jobs()
    proc = subprocess.run(
        ["node", str(JS_DIR / "sign.mjs")],
        input=json.dumps(list(jobs.values())),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"sign.mjs failed (exit {proc.returncode}):\n{proc.stderr}")
    return dict(zip(jobs, json.loads(proc.stdout), strict=True))


def _verify(name: str) -> Report:
    return verify_credential(_tokens()[name], now=NOW, fetcher=NO_NETWORK)


def _verified_with_warning(report: Report, warning: str) -> None:
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert check(report, "issuer").outcome is Outcome.PASSED
    assert warning in check(report, "jwt profile").reason


def test_jose_signs_the_header_as_given() -> None:
    header = _tokens()["vc+jwt"].split(".")[0]
    decoded = json.loads(b64url_decode(header))
    assert decoded == {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": DID_KEY_KID}


def test_vc_jose_cose_token_from_jose_verifies() -> None:
    _verified_with_warning(_verify("vc+jwt"), "typ is 'vc+jwt'")


def test_vcdm1_token_from_jose_is_rebuilt_and_verifies() -> None:
    report = _verify("vcdm1.1")
    _verified_with_warning(report, "issuer.id, issuanceDate, expirationDate, id")
    assert report.credential is not None
    assert report.credential["issuer"]["id"] == DID_JWK
    assert report.credential["credentialSubject"]["id"] == SUBJECT


def test_identifier_only_token_from_jose_verifies() -> None:
    _verified_with_warning(_verify("identifier only"), "no 'sub' claim")


def test_vcdm1_token_from_jose_whose_issuer_differs_from_iss_fails() -> None:
    report = _verify("vcdm1.1 issuer differs")
    assert report.verdict is Verdict.NOT_VERIFIED
    assert check(report, "proof").outcome is Outcome.PASSED
    assert "'iss'" in check(report, "jwt claims").reason
