"""VC-JWTs from other stacks (issue 15, part 3): VC-JOSE-COSE ``typ: vc+jwt``, a subject known
only by its ``identifier`` (no ``sub``), and VCDM 1.1 tokens whose credential properties live in
the registered claims (VCDM 1.1 §6.3.2). Each is accepted with a warning where it departs from
OB 3.0 §8.2; each disagreement between a claim and the credential fails; the header and key
rules stay as strict as for Laurel's own tokens.

The tokens are signed with PyJWT's own ``PyJWS.encode`` (not Laurel's ``signing_input``), with
did:key (Ed25519) and did:web (P-256) keys; the did:web documents are served by a
``MappingFetcher``, so nothing leaves the machine."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.crypto.keys import did_key, generate_ed25519, public_jwk
from tests.issuer.credentials import make_credential
from tests.vectors import check
from verifier import Outcome, Report, Verdict, verify_credential
from verifier.fetch import MappingFetcher

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ED_KEY = generate_ed25519()
DID_KEY = did_key(ED_KEY)
DID_KEY_KID = f"{DID_KEY}#{DID_KEY.removeprefix('did:key:')}"
P256_KEY = ec.generate_private_key(ec.SECP256R1())
ATTACKER_KEY = generate_ed25519()
ATTACKER = did_key(ATTACKER_KEY)
ATTACKER_KID = f"{ATTACKER}#{ATTACKER.removeprefix('did:key:')}"
WEB = "did:web:college.example"
WEB_KID = f"{WEB}#es256-1"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
START, END = "2026-01-15T09:00:00Z", "2027-01-15T09:00:00Z"
NBF, EXP = 1768467600, 1800003600


def _jwk(key: Any) -> dict[str, Any]:
    return {k: v for k, v in public_jwk(key).items() if k not in ("kid", "iss")}


def world() -> MappingFetcher:
    """The did:web issuer's document, listing its P-256 key for assertions."""
    document = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": WEB,
        "verificationMethod": [
            {
                "id": WEB_KID,
                "type": "JsonWebKey",
                "controller": WEB,
                "publicKeyJwk": _jwk(P256_KEY),
            }
        ],
        "assertionMethod": [WEB_KID],
    }
    url = "https://college.example/.well-known/did.json"
    return MappingFetcher({url: json.dumps(document).encode()})


def sign(payload: dict[str, Any], header: dict[str, Any], key: Any = ED_KEY) -> str:
    """A compact JWS made by PyJWT: ``header`` as given (``typ`` only when given)."""
    alg = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "EdDSA"
    fields = {"typ": None, "alg": alg, **header}
    body = json.dumps(payload, separators=(",", ":")).encode()
    return pyjwt.PyJWS().encode(body, key, algorithm=fields["alg"], headers=fields)


def verify(token: str) -> Report:
    return verify_credential(token, now=NOW, fetcher=world())


def claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The four OB 3.0 claims (and exp) for ``credential``."""
    found = {"iss": credential["issuer"]["id"], "jti": credential["id"], "nbf": NBF}
    subject = credential["credentialSubject"].get("id")
    return found | ({"sub": subject} if subject else {})


def verified(report: Report) -> None:
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert check(report, "issuer").outcome is Outcome.PASSED


def profile_warning(report: Report) -> str:
    found = check(report, "jwt profile")
    assert found.outcome is Outcome.FAILED and not found.required
    assert any(w.startswith("jwt profile: ") for w in report.warnings)
    return found.reason


def refused(report: Report, name: str, text: str) -> None:
    assert report.verdict is Verdict.NOT_VERIFIED, report.to_dict()
    assert check(report, name).outcome is Outcome.FAILED
    assert text in check(report, name).reason, check(report, name).reason


# --- the control: Laurel's own OB 3.0 form gives no warning --------------------------------------


def test_an_ob3_token_verifies_without_a_profile_warning() -> None:
    credential = make_credential(DID_KEY)
    report = verify(sign(credential | claims(credential), {"typ": "JWT", "kid": DID_KEY_KID}))
    verified(report)
    assert report.check("jwt profile") is None
    assert report.warnings == ()


# --- 1. VC-JOSE-COSE: typ vc+jwt, the payload is the credential ---------------------------------


def test_vc_jose_cose_token_with_no_claims_verifies_with_warnings() -> None:
    credential = make_credential(DID_KEY)
    report = verify(sign(credential, {"typ": "vc+jwt", "cty": "vc", "kid": DID_KEY_KID}))
    verified(report)
    warning = profile_warning(report)
    assert "typ is 'vc+jwt'" in warning and "'cty'" in warning
    assert "no 'iss', 'jti', 'nbf', 'sub' claim" in warning
    assert "no JWT claims" in check(report, "jwt claims").reason


def test_vc_jose_cose_token_with_claims_and_a_did_web_p256_key() -> None:
    credential = make_credential(WEB)
    token = sign(credential | claims(credential), {"typ": "vc+jwt", "kid": WEB_KID}, P256_KEY)
    report = verify(token)
    verified(report)
    assert "iss, sub, jti, nbf agree" in check(report, "jwt claims").reason
    assert "typ is 'vc+jwt'" in profile_warning(report)


@pytest.mark.parametrize(
    "typ", ["application/vc+jwt", "VC+JWT", "vc+ld+json+jwt", "application/vc+ld+jwt"]
)
def test_the_drafts_and_media_type_forms_of_typ_are_accepted(typ: str) -> None:
    credential = make_credential(DID_KEY)
    cty = "application/vc+ld+json" if "ld" in typ else "vc"
    verified(verify(sign(credential, {"typ": typ, "cty": cty, "kid": DID_KEY_KID})))


@pytest.mark.parametrize(
    "header",
    [
        {"typ": "vc+sd-jwt"},
        {"typ": "vp+jwt"},
        {"typ": "openid4vci-proof+jwt"},
        {"typ": "vc+jwt", "cty": "JWT"},
        {"typ": "vc+jwt", "cty": "vp"},
    ],
    ids=["sd-jwt", "vp", "key-proof", "nested-jwt", "cty-vp"],
)
def test_other_token_types_are_refused(header: dict[str, Any]) -> None:
    credential = make_credential(DID_KEY)
    refused(verify(sign(credential, {**header, "kid": DID_KEY_KID})), "proof", "JOSE header")


def test_a_vc_jwt_claim_that_disagrees_with_the_credential_fails() -> None:
    credential = make_credential(DID_KEY)
    token = sign(credential | {"iss": ATTACKER}, {"typ": "vc+jwt", "kid": DID_KEY_KID})
    refused(verify(token), "jwt claims", "'iss' claim")


def test_a_vc_jwt_token_with_a_vc_claim_fails() -> None:
    credential = make_credential(DID_KEY)
    payload = {"vc": credential, **claims(credential)}
    refused(verify(sign(payload, {"typ": "vc+jwt", "kid": DID_KEY_KID})), "jwt claims", "'vc'")


def test_a_vc_jwt_token_cannot_bind_another_issuers_key() -> None:
    """The payload names the did:web issuer, the attacker's did:key signs it."""
    credential = make_credential(WEB)
    report = verify(sign(credential, {"typ": "vc+jwt", "kid": ATTACKER_KID}, ATTACKER_KEY))
    assert report.verdict is Verdict.NOT_VERIFIED
    assert check(report, "issuer").outcome is Outcome.FAILED


# --- 2. a subject known only by its identifier: no sub -------------------------------------------


def identified_only(issuer: str) -> dict[str, Any]:
    credential = make_credential(issuer)
    credential["credentialSubject"] = {
        k: v for k, v in credential["credentialSubject"].items() if k != "id"
    }
    return credential


def test_identifier_only_subject_without_sub_verifies_with_a_warning() -> None:
    credential = identified_only(DID_KEY)
    token = sign(credential | claims(credential), {"typ": "JWT", "kid": DID_KEY_KID})
    report = verify(token)
    verified(report)
    assert "sub" not in claims(credential)
    assert "no 'sub' claim: the subject has no id" in profile_warning(report)
    with_email = verify_credential(token, now=NOW, fetcher=world(), email="learner@example.org")
    assert check(with_email, "recipient").outcome is Outcome.PASSED


def test_identifier_only_subject_with_a_sub_fails() -> None:
    credential = identified_only(DID_KEY)
    payload = credential | claims(credential) | {"sub": "did:example:someone-else"}
    token = sign(payload, {"typ": "JWT", "kid": DID_KEY_KID})
    refused(verify(token), "jwt claims", "which the credential does not have")


def test_a_subject_with_an_id_still_needs_sub() -> None:
    """The 1EdTech fixtures' case (tests/verifier/test_vectors.py): the subject has an id."""
    credential = make_credential(DID_KEY)
    payload = {k: v for k, v in (credential | claims(credential)).items() if k != "sub"}
    refused(verify(sign(payload, {"kid": DID_KEY_KID})), "jwt claims", "no 'sub' claim")


@pytest.mark.parametrize("claim", ["iss", "jti", "nbf"])
def test_an_ob3_token_still_needs_iss_jti_and_nbf(claim: str) -> None:
    credential = make_credential(DID_KEY)
    payload = {k: v for k, v in (credential | claims(credential)).items() if k != claim}
    refused(verify(sign(payload, {"typ": "JWT", "kid": DID_KEY_KID})), "jwt claims", claim)


# --- 3. VCDM 1.1: the vc claim, rebuilt from the registered claims -------------------------------


def vcdm1(issuer_id: str, **overrides: Any) -> dict[str, Any]:
    """A VCDM 1.1 OpenBadgeCredential with nothing that the claims carry."""
    credential = make_credential(issuer_id)
    for name in ("id", "validFrom", "issuer"):
        credential.pop(name)
    credential["@context"] = [VC_V1, OB]
    credential["issuer"] = {"type": ["Profile"], "name": "HRD Institute"}
    credential["credentialSubject"] = {
        k: v for k, v in credential["credentialSubject"].items() if k != "id"
    }
    return credential | overrides


SUBJECT = "did:example:learner-1"
JTI = "urn:uuid:7e1b1f3a-31a6-4a57-9f4e-0c1d2e3f4a5b"


def vcdm1_claims(issuer: str) -> dict[str, Any]:
    return {"iss": issuer, "nbf": NBF, "exp": EXP, "jti": JTI, "sub": SUBJECT}


def test_vcdm1_token_is_rebuilt_from_its_claims() -> None:
    payload = {"vc": vcdm1(DID_KEY), **vcdm1_claims(DID_KEY), "iat": NBF, "aud": "x"}
    report = verify(sign(payload, {"typ": "JWT", "kid": DID_KEY_KID}))
    verified(report)
    credential = report.credential
    assert credential is not None
    assert credential["issuer"] == {"type": ["Profile"], "name": "HRD Institute", "id": DID_KEY}
    assert credential["issuanceDate"] == "2026-01-15T09:00:00Z"
    assert credential["expirationDate"] == "2027-01-15T09:00:00Z"
    assert credential["id"] == JTI
    assert credential["credentialSubject"]["id"] == SUBJECT
    assert report.summary.issuer_id == DID_KEY
    warning = profile_warning(report)
    assert "a VCDM 1.1 token" in warning
    assert "issuer.id, issuanceDate, expirationDate, id, credentialSubject.id taken" in warning


def test_vcdm1_issuer_as_a_string_is_rebuilt_from_iss() -> None:
    credential = vcdm1(WEB)
    credential.pop("issuer")
    payload = {"vc": credential, **vcdm1_claims(WEB)}
    report = verify(sign(payload, {"kid": WEB_KID}, P256_KEY))
    verified(report)
    assert report.credential is not None and report.credential["issuer"] == WEB


def test_vcdm1_token_that_carries_everything_twice_agrees() -> None:
    credential = vcdm1(
        DID_KEY,
        id=JTI,
        issuer={"id": DID_KEY, "type": ["Profile"], "name": "HRD Institute"},
        issuanceDate=START,
        expirationDate="2027-01-15T09:00:00Z",
    )
    credential["credentialSubject"] = {**credential["credentialSubject"], "id": SUBJECT}
    payload = {"vc": credential, **vcdm1_claims(DID_KEY)}
    report = verify(sign(payload, {"kid": DID_KEY_KID}))
    verified(report)
    assert "taken from the JWT claims" not in profile_warning(report)


@pytest.mark.parametrize(
    ("field", "value", "claim"),
    [
        ("issuer", {"id": ATTACKER, "type": ["Profile"], "name": "HRD"}, "'iss'"),
        ("issuer", ATTACKER, "'iss'"),
        ("issuanceDate", "2026-02-01T00:00:00Z", "'nbf'"),
        ("expirationDate", "2028-01-01T00:00:00Z", "'exp'"),
        ("id", "urn:uuid:00000000-0000-4000-8000-000000000000", "'jti'"),
        ("credentialSubject.id", "did:example:someone-else", "'sub'"),
    ],
    ids=["issuer profile", "issuer id", "nbf", "exp", "jti", "sub"],  # stable across processes
)
def test_vcdm1_claim_and_credential_that_disagree_fail(field: str, value: Any, claim: str) -> None:
    credential = vcdm1(DID_KEY)
    if field == "credentialSubject.id":
        credential["credentialSubject"] = {**credential["credentialSubject"], "id": value}
    else:
        credential[field] = value
    payload = {"vc": credential, **vcdm1_claims(DID_KEY)}
    report = verify(sign(payload, {"kid": DID_KEY_KID}))
    refused(report, "jwt claims", claim)


def test_vcdm1_iss_cannot_bind_another_issuers_key() -> None:
    """``iss`` names the did:web issuer (rebuilt into ``issuer``); the attacker's key signs."""
    payload = {"vc": vcdm1(WEB), **vcdm1_claims(WEB)}
    report = verify(sign(payload, {"kid": ATTACKER_KID}, ATTACKER_KEY))
    assert report.verdict is Verdict.NOT_VERIFIED
    assert check(report, "issuer").outcome is Outcome.FAILED
    assert report.credential is not None and report.credential["issuer"]["id"] == WEB


def test_vcdm1_vc_issuer_differs_from_iss() -> None:
    """The attacker's own did:key in ``vc.issuer`` (so the key binds), the victim in ``iss``."""
    credential = vcdm1(ATTACKER, issuer=ATTACKER)
    payload = {"vc": credential, **vcdm1_claims(WEB)}
    refused(verify(sign(payload, {"kid": ATTACKER_KID}, ATTACKER_KEY)), "jwt claims", "'iss'")


def test_vcdm1_token_without_issuer_anywhere_fails() -> None:
    payload = {"vc": vcdm1(DID_KEY), **vcdm1_claims(DID_KEY)}
    payload.pop("iss")
    report = verify(sign(payload, {"kid": DID_KEY_KID}))
    assert report.verdict is Verdict.NOT_VERIFIED
    assert check(report, "jwt claims").outcome is Outcome.FAILED


def test_vcdm1_nbf_that_is_not_a_number_fails() -> None:
    payload = {"vc": vcdm1(DID_KEY), **vcdm1_claims(DID_KEY), "nbf": "2026-01-15T09:00:00Z"}
    refused(verify(sign(payload, {"kid": DID_KEY_KID})), "jwt claims", "must be a number")


def test_vcdm1_token_expired_by_its_exp_claim() -> None:
    payload = {"vc": vcdm1(DID_KEY), **vcdm1_claims(DID_KEY), "exp": NBF + 3600}
    refused(verify(sign(payload, {"kid": DID_KEY_KID})), "validity", "expired")


# --- header tricks stay refused in every form -------------------------------------------------


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    segment = pyjwt.utils.base64url_encode
    head = segment(json.dumps(header).encode()).decode()
    body = segment(json.dumps(payload).encode()).decode()
    return f"{head}.{body}."


@pytest.mark.parametrize("typ", ["JWT", "vc+jwt"])
def test_alg_none_is_refused(typ: str) -> None:
    credential = make_credential(DID_KEY)
    token = _unsigned({"alg": "none", "typ": typ, "kid": DID_KEY_KID}, credential)
    refused(verify(token), "proof", "'none'")


def test_alg_confusion_hs256_with_the_public_key_is_refused() -> None:
    """HMAC keyed with the issuer's public key, which a verifier that took the key for a
    secret would accept."""
    credential = make_credential(DID_KEY)
    public = ED_KEY.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    header = {"typ": "vc+jwt", "kid": DID_KEY_KID}
    token = pyjwt.encode(credential, public, algorithm="HS256", headers=header)
    refused(verify(token), "proof", "'HS256' is not in the allow-list")


def test_eddsa_header_with_a_p256_key_is_refused() -> None:
    credential = make_credential(WEB)
    token = sign(credential, {"typ": "vc+jwt", "kid": WEB_KID, "alg": "EdDSA"}, ED_KEY)
    refused(verify(token), "proof", "EdDSA needs an Ed25519 key")


@pytest.mark.parametrize(
    "extra",
    [
        {"jku": "https://attacker.example/jwks.json"},
        {"x5u": "https://attacker.example/cert.pem"},
        {"crit": ["exp"], "exp": 1},
    ],
    ids=["jku", "x5u", "crit"],
)
def test_key_carrying_and_critical_headers_are_refused(extra: dict[str, Any]) -> None:
    credential = make_credential(DID_KEY)
    token = sign(credential, {"typ": "vc+jwt", "kid": DID_KEY_KID, **extra})
    refused(verify(token), "proof", "not allowed")


def test_a_header_jwk_of_the_attacker_for_a_vc_jwt_issuer_is_refused() -> None:
    credential = make_credential(WEB)
    token = sign(credential, {"typ": "vc+jwt", "jwk": _jwk(ATTACKER_KEY)}, ATTACKER_KEY)
    report = verify(token)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert check(report, "issuer").outcome is Outcome.FAILED


# --- 4. the "vc" profile: a token's nbf and exp hold when the credential gives no dates ---------


def generic(**extra: Any) -> dict[str, Any]:
    """A VCDM 2.0 credential of any kind, with no validFrom or validUntil (both optional)."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": JTI,
        "type": ["VerifiableCredential"],
        "issuer": DID_KEY,
        "credentialSubject": {"id": SUBJECT},
        **extra,
    }


def verify_vc(token: str) -> Report:
    return verify_credential(token, now=NOW, fetcher=world(), profile="vc")


A_YEAR = 365 * 24 * 3600


@pytest.mark.parametrize(
    ("times", "text"),
    [
        ({"exp": int(NOW.timestamp()) - A_YEAR}, "it expired on 2025-06-01T00:00:00Z"),
        ({"nbf": int(NOW.timestamp()) + A_YEAR}, "not valid until 2027-06-01T00:00:00Z"),
    ],
    ids=["expired by exp", "not yet valid by nbf"],
)
def test_a_vc_jose_token_is_held_to_its_nbf_and_exp(times: dict[str, int], text: str) -> None:
    """A ``vc+jwt`` token whose credential names no dates: its own ``exp`` and ``nbf`` are the
    window (they were read only where the credential named a start date)."""
    payload = {**generic(), "iss": DID_KEY, "jti": JTI, "sub": SUBJECT, **times}
    refused(verify_vc(sign(payload, {"typ": "vc+jwt", "kid": DID_KEY_KID})), "validity", text)
    within = {"nbf": int(NOW.timestamp()) - 60, "exp": int(NOW.timestamp()) + A_YEAR}
    payload = {**generic(), "iss": DID_KEY, "jti": JTI, "sub": SUBJECT, **within}
    report = verify_vc(sign(payload, {"typ": "vc+jwt", "kid": DID_KEY_KID}))
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert check(report, "validity").reason.startswith("valid from 2026-05-31T23:59:00Z until")
    assert report.summary.valid_from == "2026-05-31T23:59:00Z"
    assert report.summary.valid_until == "2027-06-01T00:00:00Z"


def test_a_vc_jose_token_expired_by_exp_says_so_in_its_summary() -> None:
    """Regression (audit 8, F3): the summary's dates are the window the verdict used, so a
    ``vc+jwt`` carrying only ``exp`` is not read as never expiring by those who store them
    (an organisation's shared credentials, a wallet's imports)."""
    payload = {**generic(), "iss": DID_KEY, "jti": JTI, "sub": SUBJECT, "exp": 1609459200}
    report = verify_vc(sign(payload, {"typ": "vc+jwt", "kid": DID_KEY_KID}))
    refused(report, "validity", "it expired on 2021-01-01T00:00:00Z")
    assert report.summary.valid_until == "2021-01-01T00:00:00Z"


def test_a_vcdm1_token_whose_context_is_one_string_is_a_vcdm1_credential() -> None:
    """``"@context": "https://www.w3.org/2018/credentials/v1"`` (a string, not a list) is VCDM
    1.1: its issuanceDate/expirationDate, rebuilt from nbf/exp, are the window."""
    vc = {
        "@context": VC_V1,
        "type": ["VerifiableCredential"],
        "issuer": DID_KEY,
        "credentialSubject": {"id": SUBJECT},
    }
    expired = {"iss": DID_KEY, "sub": SUBJECT, "jti": JTI, "nbf": 1577836800, "exp": 1609459200}
    report = verify_vc(sign({"vc": vc, **expired}, {"typ": "JWT", "kid": DID_KEY_KID}))
    refused(report, "validity", "it expired on 2021-01-01T00:00:00Z")
    assert report.summary.valid_until == "2021-01-01T00:00:00Z"
