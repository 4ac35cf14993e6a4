"""Issuer binding: is the signing key the issuer's own key for issuing credentials?

Data Integrity and VC-JWT ``kid`` (OB 3.0 Implementation Guide, "Key provenance"; Controlled
Identifiers 1.0 §"Retrieve Verification Method"; VC Data Integrity §"Proof Purposes"): the
verification method's controller must be ``issuer.id``, and the issuer's *own* controller document
— fetched from the issuer id, not from wherever the key was found — must list the method under
``assertionMethod``. A key listed only for ``authentication`` does not sign credentials.

VC-JWT ``jwk`` (no ``kid``): for a DID issuer, the key must be one the issuer's DID document lists
under ``assertionMethod``; for an https issuer, it must be in the JWKS at
``https://{authority of issuer.id}/.well-known/jwks.json``, and a JWK ``iss`` member (in the header
or in the set) must equal the issuer id.

An issuer id that is a ``urn:`` names no key at all, so no binding can hold; that is reported as a
failure of this check, which ``verify_credential`` treats as a warning (the 1EdTech validator and
the vectors accept such credentials). Any other mismatch is a hard failure.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from verifier.errors import BindingError, FetchError, Indeterminate, KeyResolutionError
from verifier.fetch import Fetcher, fetch_json
from verifier.keys import (
    ASSERTION,
    DefaultKeyResolver,
    KeyResolver,
    ResolvedKey,
    key_from_jwk,
    spki,
)


class UnbindableIssuer(BindingError):
    """The issuer id is not a URL or DID, so no key can be bound to it."""


def check_binding(
    resolved: ResolvedKey, issuer_id: str | None, *, fetcher: Fetcher, resolve_key: KeyResolver
) -> str:
    """Raise ``BindingError`` (or ``Indeterminate`` when it cannot be decided)."""
    if not issuer_id:
        raise BindingError("the credential has no issuer id")
    if resolved.id == "jwk":
        return _jwk_binding(resolved, issuer_id, fetcher, resolve_key)
    if resolved.controller != issuer_id:
        if issuer_id.startswith("urn:"):
            raise UnbindableIssuer(
                f"the issuer id {issuer_id} names no key; "
                f"the signing key belongs to {resolved.controller}"
            )
        raise BindingError(
            f"the signing key {resolved.id} is controlled by {resolved.controller}, "
            f"not by the issuer {issuer_id}"
        )
    if not resolved.confirmed:
        raise Indeterminate(
            f"the key is named in {resolved.id}, but {issuer_id} could not be fetched to confirm it"
        )
    if ASSERTION not in resolved.purposes:
        if resolved.purposes:
            purposes = ", ".join(sorted(resolved.purposes))
            raise BindingError(
                f"the issuer {issuer_id} lists the key {resolved.id} only for {purposes}, "
                "not for issuing credentials (assertionMethod)"
            )
        raise BindingError(
            f"the key {resolved.id} names {issuer_id} as its controller, but the issuer's own "
            "document does not list it under assertionMethod"
        )
    return f"the issuer's own document ({issuer_id}) lists the signing key for issuing credentials"


def _jwk_binding(
    resolved: ResolvedKey, issuer_id: str, fetcher: Fetcher, resolve_key: KeyResolver
) -> str:
    if resolved.controller and resolved.controller != issuer_id:
        raise BindingError(f"the JWK names {resolved.controller} as its issuer, not {issuer_id}")
    if issuer_id.startswith("did:"):
        return _did_jwk_binding(resolved, issuer_id, fetcher, resolve_key)
    if issuer_id.startswith("urn:"):
        raise UnbindableIssuer(f"the issuer id {issuer_id} names no key set")
    parts = urlsplit(issuer_id)
    if parts.scheme != "https" or not parts.netloc:
        raise BindingError(f"the issuer id {issuer_id} is not an https URL or a DID")
    jwks_url = f"https://{parts.netloc}/.well-known/jwks.json"
    try:
        jwks = fetch_json(fetcher, jwks_url)
    except FetchError as exc:
        raise Indeterminate(f"the issuer's key set {jwks_url} could not be fetched") from exc
    keys = jwks.get("keys", []) if isinstance(jwks, dict) else []
    for entry in keys if isinstance(keys, list) else []:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("iss", issuer_id) != issuer_id:
            continue  # a key set shared by several issuers names each key's issuer
        try:
            if spki(key_from_jwk(entry)) == spki(resolved.key):
                return f"the JWT key is in the issuer's key set {jwks_url}"
        except KeyResolutionError:
            continue
    raise BindingError(f"the JWT key is not in the issuer's key set {jwks_url}")


def _did_jwk_binding(
    resolved: ResolvedKey, issuer_id: str, fetcher: Fetcher, resolve_key: KeyResolver
) -> str:
    try:
        document = DefaultKeyResolver(fetcher).document(issuer_id)
    except FetchError as exc:
        raise Indeterminate(f"the issuer's DID document could not be fetched: {exc}") from exc
    except KeyResolutionError as exc:
        raise BindingError(f"the issuer's DID does not give a key: {exc}") from exc
    entries = document.get(ASSERTION, [])
    for entry in entries if isinstance(entries, list) else [entries]:
        reference = entry.get("id") if isinstance(entry, dict) else entry
        if not isinstance(reference, str):
            continue
        method = issuer_id + reference if reference.startswith("#") else reference
        try:
            candidate = resolve_key(method)
        except (KeyResolutionError, FetchError):
            continue
        if (
            candidate.controller == issuer_id
            and ASSERTION in candidate.purposes
            and spki(candidate.key) == spki(resolved.key)
        ):
            return f"the JWT key is the issuer's key {method} for issuing credentials"
    raise BindingError("the JWT key is not one the issuer's DID document lists for assertions")
