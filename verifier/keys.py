"""Resolving verification methods and JWT key ids to public keys.

Supported (OB 3.0 §"Key provenance"; did:key, did:web and did:jwk method specs):

* ``did:key:z6Mk…`` (Ed25519) and ``did:key:zDn…`` (P-256), with or without a fragment;
* ``did:jwk:<base64url JWK>``;
* ``did:web:host[:path]#frag`` — the DID document at ``https://host/path/did.json``
  (``/.well-known/did.json`` without a path);
* ``https://…`` verification-method URLs, dereferenced to a Multikey / JsonWebKey document or a
  controller document that lists the method;
* ``<issuer-id>#<publicKeyMultibase>`` (the form the 1EdTech validator accepts), used only when
  the URL cannot be dereferenced; ``ResolvedKey.confirmed`` is then false.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from verifier.errors import FetchError, KeyResolutionError, UnsupportedMethod
from verifier.fetch import Fetcher, fetch_json
from verifier.multibase import b64url_decode, decode_multikey

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


@dataclass(frozen=True)
class ResolvedKey:
    """A public key and the entity that controls it."""

    id: str
    controller: str
    key: PublicKey
    confirmed: bool = True
    """False when the key was read from the URL itself and not confirmed by its controller."""


class KeyResolver(Protocol):
    def __call__(self, method: str, /) -> ResolvedKey: ...


def key_from_jwk(jwk_dict: dict[str, Any]) -> PublicKey:
    """A public key from a JWK; a JWK with private members is refused."""
    if not isinstance(jwk_dict, dict):
        raise KeyResolutionError("the JWK is not a JSON object")
    if "d" in jwk_dict:
        raise KeyResolutionError("the JWK contains a private key ('d')")
    try:
        key = jwt.PyJWK.from_dict(jwk_dict).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
        raise KeyResolutionError(f"the JWK is not a usable public key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise KeyResolutionError("the JWK is not an Ed25519, EC or RSA public key")
    return key


def key_from_method_document(doc: dict[str, Any]) -> PublicKey:
    if "publicKeyMultibase" in doc:
        try:
            return decode_multikey(str(doc["publicKeyMultibase"]))
        except ValueError as exc:
            raise KeyResolutionError(str(exc)) from exc
    if "publicKeyJwk" in doc:
        return key_from_jwk(doc["publicKeyJwk"])
    raise KeyResolutionError("the verification method has no publicKeyMultibase or publicKeyJwk")


def _find_method(document: Any, method: str) -> dict[str, Any] | None:
    if not isinstance(document, dict):
        return None
    if document.get("id") == method and (
        "publicKeyMultibase" in document or "publicKeyJwk" in document
    ):
        return document
    base = str(document.get("id", ""))
    for relation in ("verificationMethod", "assertionMethod", "authentication"):
        entries = document.get(relation, [])
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, dict):
                entry_id = str(entry.get("id", ""))
                if entry_id == method or (entry_id.startswith("#") and base + entry_id == method):
                    return entry
    return None


class DefaultKeyResolver:
    """Resolves every supported method; network access goes through ``fetcher``."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    def __call__(self, method: str, /) -> ResolvedKey:
        if method.startswith("did:key:"):
            return self._did_key(method)
        if method.startswith("did:jwk:"):
            return self._did_jwk(method)
        if method.startswith("did:web:"):
            return self._did_web(method)
        if method.startswith("did:"):
            raise UnsupportedMethod(f"DID method {method.split(':')[1]!r} is not supported")
        if method.startswith("https://"):
            return self._https(method)
        if ":" not in method:
            raise UnsupportedMethod(f"verification method {method!r} has no URI scheme")
        raise UnsupportedMethod(f"URI scheme {method.split(':')[0]!r} is not supported")

    def _did_key(self, method: str) -> ResolvedKey:
        did = method.split("#")[0]
        multibase = did.removeprefix("did:key:")
        if "#" in method and method.split("#", 1)[1] != multibase:
            raise KeyResolutionError("a did:key fragment must repeat the key")
        try:
            key = decode_multikey(multibase)
        except ValueError as exc:
            raise KeyResolutionError(f"{did}: {exc}") from exc
        return ResolvedKey(id=f"{did}#{multibase}", controller=did, key=key)

    def _did_jwk(self, method: str) -> ResolvedKey:
        did = method.split("#")[0]
        try:
            jwk_dict = json.loads(b64url_decode(did.removeprefix("did:jwk:")))
        except (ValueError, UnicodeDecodeError) as exc:
            raise KeyResolutionError(f"{did} does not encode a JWK") from exc
        return ResolvedKey(id=f"{did}#0", controller=did, key=key_from_jwk(jwk_dict))

    def _did_web(self, method: str) -> ResolvedKey:
        did = method.split("#")[0]
        parts = [unquote(part) for part in did.removeprefix("did:web:").split(":")]
        if not parts[0] or "/" in parts[0]:
            raise KeyResolutionError(f"{did} is not a valid did:web")
        path = "/".join(parts[1:]) + "/did.json" if len(parts) > 1 else ".well-known/did.json"
        document = fetch_json(self.fetcher, f"https://{parts[0]}/{path}")
        if not isinstance(document, dict) or document.get("id") != did:
            raise KeyResolutionError(f"the DID document for {did} has a different id")
        entry = _find_method(document, method if "#" in method else "")
        if entry is None:
            raise KeyResolutionError(f"{method} is not in the DID document of {did}")
        return ResolvedKey(
            id=method,
            controller=str(entry.get("controller", did)),
            key=key_from_method_document(entry),
        )

    def _https(self, method: str) -> ResolvedKey:
        url = method.split("#")[0]
        try:
            document = fetch_json(self.fetcher, url)
        except FetchError:
            fragment_key = _fragment_multikey(method)
            if fragment_key is None:
                raise
            return ResolvedKey(id=method, controller=url, key=fragment_key, confirmed=False)
        entry = _find_method(document, method)
        if entry is None:
            raise KeyResolutionError(f"{url} does not list the verification method {method}")
        controller = str(
            entry.get("controller") or (document.get("id") if isinstance(document, dict) else url)
        )
        return ResolvedKey(id=method, controller=controller, key=key_from_method_document(entry))


def _fragment_multikey(method: str) -> PublicKey | None:
    if "#" not in method:
        return None
    try:
        return decode_multikey(method.split("#", 1)[1])
    except ValueError:
        return None


class TableKeyResolver:
    """Resolves from a table of verification-method documents, falling back to ``fallback``."""

    def __init__(self, table: dict[str, dict[str, Any]], fallback: KeyResolver) -> None:
        self.table = table
        self.fallback = fallback

    def __call__(self, method: str, /) -> ResolvedKey:
        doc = self.table.get(method)
        if doc is None:
            return self.fallback(method)
        return ResolvedKey(
            id=str(doc.get("id", method)),
            controller=str(doc.get("controller", "")),
            key=key_from_method_document(doc),
        )
