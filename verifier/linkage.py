"""Well Known DID Configuration (DIF, "Domain Linkage"): does a DID control a web origin?

Checked both ways:

* the DID names the origin — in a ``LinkedDomains`` service of its DID document, or in the
  ``url`` of the issuer profile inside a credential the DID signed;
* the origin names the DID — ``{origin}/.well-known/did-configuration.json`` holds, in
  ``linked_dids``, a ``DomainLinkageCredential`` whose issuer and subject are the DID and whose
  ``credentialSubject.origin`` is the origin, signed with a key the DID's own document lists under
  ``assertionMethod``, and not expired.

Both Domain Linkage formats are read: the JWT form (``kid`` a DID URL of the DID; ``iss`` = ``sub``
= the DID; the credential in ``vc``) and the JSON-LD form with a Data Integrity proof.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from verifier.errors import InputError, VerifierError
from verifier.fetch import Fetcher, parse_json, served_from
from verifier.identity import origin_of, same_site
from verifier.keys import ASSERTION, KeyResolver, ResolvedKey
from verifier.proof import data_integrity
from verifier.proof import jwt as vcjwt

CONTEXT = "https://identity.foundation/.well-known/did-configuration/v1"
WELL_KNOWN_PATH = "/.well-known/did-configuration.json"
LINKAGE_TYPE = "DomainLinkageCredential"
MAX_LINKED_DIDS = 16
SKEW = timedelta(minutes=5)
_KEY_TYPES: dict[str, type] = {
    "EdDSA": ed25519.Ed25519PublicKey,
    "ES256": ec.EllipticCurvePublicKey,
    "RS256": rsa.RSAPublicKey,
}


class LinkageError(VerifierError):
    """The origin does not confirm the DID."""


def linked_domains(document: Mapping[str, Any]) -> list[str]:
    """The origins a DID document names in ``LinkedDomains`` services (``serviceEndpoint`` a
    string, a list, or ``{"origins": [...]}``)."""
    found: list[str] = []
    services = document.get("service", [])
    for service in services if isinstance(services, list) else [services]:
        if not isinstance(service, dict):
            continue
        kinds = service.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "LinkedDomains" not in kinds:
            continue
        endpoint = service.get("serviceEndpoint")
        if isinstance(endpoint, dict):
            endpoint = endpoint.get("origins", [])
        for value in endpoint if isinstance(endpoint, list) else [endpoint]:
            if isinstance(value, str):
                found.append(value)
    return found


def check_domain_linkage(
    did: str,
    origin: str,
    *,
    fetcher: Fetcher,
    resolve_key: KeyResolver,
    now: datetime | None = None,
    algorithms: Sequence[str] = ("EdDSA", "ES256", "RS256"),
) -> str:
    """A plain reason when ``origin``'s DID Configuration links ``did``; raises otherwise."""
    when = now or datetime.now(UTC)
    url = origin + WELL_KNOWN_PATH
    body = fetcher(url)
    served = served_from(body, url)
    if not same_site(url, served):
        raise LinkageError(f"{url} is served by another site ({served}) through a redirect")
    configuration = parse_json(body, url)
    linked = configuration.get("linked_dids") if isinstance(configuration, dict) else None
    if not isinstance(linked, list):
        raise LinkageError(f"{url} is not a DID Configuration (no linked_dids)")
    problems: list[str] = []
    for entry in linked[:MAX_LINKED_DIDS]:
        try:
            if isinstance(entry, str) and _jwt_linkage(
                entry, did, origin, resolve_key, when, algorithms
            ):
                break
            if isinstance(entry, dict) and _ld_linkage(entry, did, origin, resolve_key, when):
                break
        except VerifierError as exc:
            problems.append(str(exc))
    else:
        detail = f": {problems[0]}" if problems else ""
        raise LinkageError(f"{url} does not confirm {did}{detail}")
    host = origin.removeprefix("https://")
    return f"the issuer's website {host} confirms this issuer (DID Configuration)"


def _signer_ok(resolved: ResolvedKey, did: str) -> None:
    if resolved.controller != did or not resolved.confirmed or ASSERTION not in resolved.purposes:
        raise LinkageError(f"the linkage is not signed with a key {did} lists for assertions")


def _subject_ok(credential: Mapping[str, Any], did: str, origin: str) -> None:
    types = credential.get("type", [])
    types = types if isinstance(types, list) else [types]
    if LINKAGE_TYPE not in types:
        raise LinkageError(f"the linked credential is not a {LINKAGE_TYPE}")
    if vcjwt.issuer_id(credential) != did:
        raise LinkageError("the linkage credential is issued by another DID")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("id") != did:
        raise LinkageError("the linkage credential is about another DID")
    claimed = subject.get("origin")
    if not isinstance(claimed, str) or origin_of(claimed) != origin:
        raise LinkageError(f"the linkage credential names another origin ({claimed!r})")


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise LinkageError(f"{value!r} is not a date-time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _jwt_linkage(
    token: str,
    did: str,
    origin: str,
    resolve_key: KeyResolver,
    now: datetime,
    algorithms: Sequence[str],
) -> bool:
    try:
        decoded = vcjwt.decode(token)
    except InputError as exc:
        raise LinkageError(f"a linked DID JWT is malformed: {exc}") from exc
    if decoded.payload.get("iss") != did:
        return False  # another DID's linkage on the same origin
    header, payload = decoded.header, decoded.payload
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in algorithms or alg not in _KEY_TYPES:
        raise LinkageError(f"the linkage JWT algorithm {alg!r} is not allowed")
    if not isinstance(kid, str) or kid.split("#")[0] != did:
        raise LinkageError("the linkage JWT kid is not a key of the DID")
    resolved = resolve_key(kid)
    _signer_ok(resolved, did)
    if not isinstance(resolved.key, _KEY_TYPES[alg]):
        raise LinkageError(f"the linkage key is not of the type {alg} needs")
    if not jwt.get_algorithm_by_name(alg).verify(
        decoded.signing_input, resolved.key, decoded.signature
    ):
        raise LinkageError("the linkage JWT signature does not match")
    if payload.get("sub") != did:
        raise LinkageError("the linkage JWT's sub is not the DID")
    credential = payload.get("vc")
    if not isinstance(credential, dict):
        raise LinkageError("the linkage JWT carries no vc claim")
    _subject_ok(credential, did, origin)
    exp, nbf = payload.get("exp"), payload.get("nbf")
    if isinstance(exp, int | float) and exp < (now - SKEW).timestamp():
        raise LinkageError("the linkage JWT has expired")
    if isinstance(nbf, int | float) and nbf > (now + SKEW).timestamp():
        raise LinkageError("the linkage JWT is not valid yet")
    return True


def _ld_linkage(
    credential: dict[str, Any], did: str, origin: str, resolve_key: KeyResolver, now: datetime
) -> bool:
    if vcjwt.issuer_id(credential) != did:
        return False
    _subject_ok(credential, did, origin)
    expires = _time(credential.get("expirationDate") or credential.get("validUntil"))
    if expires is not None and expires < now - SKEW:
        raise LinkageError("the linkage credential has expired")
    proofs = credential.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs] if proofs else []
    problem: VerifierError = LinkageError("the linkage credential has no usable proof")
    for proof in proofs[:4]:
        if not isinstance(proof, dict):
            continue
        try:
            resolved = data_integrity.verify_proof(credential, proof, resolve_key, now=now)
            _signer_ok(resolved, did)
        except VerifierError as exc:
            problem = exc
            continue
        return True
    raise problem
