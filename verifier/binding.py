"""Issuer binding (OB 3.0 Implementation Guide, "Key provenance").

Data Integrity: the verification method's controller must equal ``issuer.id``. VC-JWT: a key named
by ``kid`` must be controlled by the issuer; a key given only as ``jwk`` must appear in the issuer's
JWKS at ``https://{authority of issuer.id}/.well-known/jwks.json`` (and a JWK ``iss`` member, if
any, must equal the issuer id) or, for a DID issuer, in the issuer's DID document.

An issuer id that is a ``urn:`` names no key at all, so no binding can hold; that is reported as a
failure of this check, which ``verify_credential`` treats as a warning (the 1EdTech validator and
the vectors accept such credentials). Any other mismatch is a hard failure.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from verifier.errors import BindingError, FetchError, Indeterminate, KeyResolutionError
from verifier.fetch import Fetcher, fetch_json
from verifier.keys import KeyResolver, PublicKey, ResolvedKey, key_from_jwk


class UnbindableIssuer(BindingError):
    """The issuer id is not a URL or DID, so no key can be bound to it."""


def _spki(key: PublicKey) -> bytes:
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def check_binding(
    resolved: ResolvedKey, issuer_id: str | None, *, fetcher: Fetcher, resolve_key: KeyResolver
) -> str:
    """Raise ``BindingError`` (or ``Indeterminate`` when it cannot be decided)."""
    if not issuer_id:
        raise BindingError("the credential has no issuer id")
    if resolved.id == "jwk":
        return _jwk_binding(resolved, issuer_id, fetcher, resolve_key)
    if resolved.controller == issuer_id:
        if not resolved.confirmed:
            raise Indeterminate(
                f"the key is named in {resolved.id}, but {issuer_id} could not be fetched "
                "to confirm it"
            )
        return f"the signing key is controlled by the issuer {issuer_id}"
    if issuer_id.startswith("urn:"):
        raise UnbindableIssuer(
            f"the issuer id {issuer_id} names no key; "
            f"the signing key belongs to {resolved.controller}"
        )
    raise BindingError(
        f"the signing key belongs to {resolved.controller}, not to the issuer {issuer_id}"
    )


def _jwk_binding(
    resolved: ResolvedKey, issuer_id: str, fetcher: Fetcher, resolve_key: KeyResolver
) -> str:
    if resolved.controller and resolved.controller != issuer_id:
        raise BindingError(f"the JWK names {resolved.controller} as its issuer, not {issuer_id}")
    if issuer_id.startswith("did:"):
        try:
            issuer_key = resolve_key(issuer_id)
        except KeyResolutionError as exc:
            raise BindingError(f"the issuer's DID does not give a key: {exc}") from exc
        if _spki(issuer_key.key) == _spki(resolved.key):
            return "the JWT key is the issuer DID's key"
        raise BindingError("the JWT key is not the issuer DID's key")
    if issuer_id.startswith("urn:"):
        raise UnbindableIssuer(f"the issuer id {issuer_id} names no key set")
    authority = urlsplit(issuer_id).netloc
    jwks_url = f"https://{authority}/.well-known/jwks.json"
    try:
        jwks = fetch_json(fetcher, jwks_url)
    except FetchError as exc:
        raise Indeterminate(f"the issuer's key set {jwks_url} could not be fetched") from exc
    keys = jwks.get("keys", []) if isinstance(jwks, dict) else []
    for entry in keys if isinstance(keys, list) else []:
        try:
            if _spki(key_from_jwk(entry)) == _spki(resolved.key):
                return f"the JWT key is in the issuer's key set {jwks_url}"
        except KeyResolutionError:
            continue
    raise BindingError(f"the JWT key is not in the issuer's key set {jwks_url}")
