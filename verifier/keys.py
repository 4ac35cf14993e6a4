"""Resolving verification methods and JWT key ids to public keys, and the relationships under
which their controllers authorise them.

Supported (OB 3.0 §"Key provenance"; Controlled Identifiers 1.0; did:key, did:web, did:jwk):

* ``did:key:z6Mk…`` (Ed25519) and ``did:key:zDn…`` (P-256), with or without a fragment;
* ``did:jwk:<base64url JWK>``;
* ``did:web:host[%3Aport][:path]#frag`` — the DID document at ``https://host[:port]/path/did.json``
  (``/.well-known/did.json`` without a path);
* ``https://…`` verification-method URLs, dereferenced to a Multikey / JsonWebKey document or to a
  controller document that lists the method;
* ``<issuer-id>#<publicKeyMultibase>`` (the form the 1EdTech validator accepts), used only when
  the URL cannot be dereferenced; ``ResolvedKey.confirmed`` is then false.

Key ownership is never taken on the word of the document the key was found in. A verification
method names its ``controller``; the controller's *own* document (fetched from the controller id)
must list the method under a verification relationship (``assertionMethod``, ``authentication``,
…), and ``ResolvedKey.purposes`` holds exactly those relationships. A key found in
``did:web:attacker`` that says ``"controller": "did:web:victim"`` therefore has no purposes at all
unless ``did:web:victim``'s document lists it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from verifier.errors import FetchError, KeyResolutionError, UnsupportedMethod
from verifier.fetch import Fetcher, fetch_json
from verifier.multibase import b64url_decode, decode_multikey

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

ASSERTION = "assertionMethod"
RELATIONSHIPS = (
    ASSERTION,
    "authentication",
    "capabilityInvocation",
    "capabilityDelegation",
    "keyAgreement",
)
SIGNING_RELATIONSHIPS = frozenset(RELATIONSHIPS) - {"keyAgreement"}
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


@dataclass(frozen=True)
class ResolvedKey:
    """A public key, the entity that controls it, and what that controller authorises it for."""

    id: str
    controller: str
    key: PublicKey
    confirmed: bool = True
    """False when the key was read from the URL itself and not confirmed by its controller."""
    purposes: frozenset[str] = field(default_factory=frozenset)
    """The verification relationships under which the controller's own document lists the key
    (e.g. ``assertionMethod``). Empty when the controller does not list it."""


class KeyResolver(Protocol):
    def __call__(self, method: str, /) -> ResolvedKey: ...


def spki(key: PublicKey) -> bytes:
    """The key's DER SubjectPublicKeyInfo, to compare keys whatever their encoding."""
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


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


def did_web_url(did: str) -> str:
    """The URL of a did:web DID document (did:web method spec §3.2, "Read (Resolve)").

    The host may carry a percent-encoded port (``example.org%3A8443``); every path segment must be
    a plain name, so no DID can point at another path, host or query."""
    parts = did.removeprefix("did:web:").split(":")
    host = unquote(parts[0])
    if not _HOST.match(host):
        raise KeyResolutionError(f"{did} is not a valid did:web (bad host {host!r})")
    segments = [unquote(part) for part in parts[1:]]
    for segment in segments:
        if segment in ("", ".", "..") or any(char in segment for char in "/\\?#@%"):
            raise KeyResolutionError(f"{did} is not a valid did:web (bad path {segment!r})")
    path = "/".join(segments) + "/did.json" if segments else ".well-known/did.json"
    return f"https://{host}/{path}"


def _absolute(reference: str, base: str) -> str:
    """A relative DID URL (``#key-1``) made absolute against the document id."""
    return base + reference if reference.startswith("#") else reference


def _entries(document: dict[str, Any], relation: str) -> list[Any]:
    entries = document.get(relation, [])
    return entries if isinstance(entries, list) else [entries]


def find_method(document: Any, method: str) -> dict[str, Any] | None:
    """The verification method ``method`` as defined in ``document``: the document itself, an
    entry of ``verificationMethod``, or one embedded in a relationship."""
    if not isinstance(document, dict):
        return None
    base = str(document.get("id", ""))
    if base == method and ("publicKeyMultibase" in document or "publicKeyJwk" in document):
        return document
    for relation in ("verificationMethod", *RELATIONSHIPS):
        for entry in _entries(document, relation):
            if isinstance(entry, dict) and _absolute(str(entry.get("id", "")), base) == method:
                return entry
    return None


def purposes_in(controller_document: dict[str, Any], method: str, key: PublicKey) -> frozenset[str]:
    """The relationships under which ``controller_document`` lists ``method`` (by reference, or
    embedded with the same key)."""
    base = str(controller_document.get("id", ""))
    found = set()
    for relation in RELATIONSHIPS:
        for entry in _entries(controller_document, relation):
            if isinstance(entry, str) and _absolute(entry, base) == method:
                found.add(relation)
            elif isinstance(entry, dict) and _absolute(str(entry.get("id", "")), base) == method:
                try:
                    if spki(key_from_method_document(entry)) == spki(key):
                        found.add(relation)
                except KeyResolutionError:
                    continue
    return frozenset(found)


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document a did:key stands for: its one key, for every signing relationship."""
    multibase = did.removeprefix("did:key:")
    try:
        decode_multikey(multibase)
    except ValueError as exc:
        raise KeyResolutionError(f"{did}: {exc}") from exc
    method = f"{did}#{multibase}"
    document: dict[str, Any] = {
        "id": did,
        "verificationMethod": [
            {"id": method, "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
        ],
    }
    for relation in sorted(SIGNING_RELATIONSHIPS):
        document[relation] = [method]
    return document


def did_jwk_document(did: str) -> dict[str, Any]:
    """The DID document a did:jwk stands for (did:jwk spec: ``#0``; a ``use: enc`` key is for
    key agreement only, a ``use: sig`` key for signing only)."""
    try:
        jwk_dict = json.loads(b64url_decode(did.removeprefix("did:jwk:")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeyResolutionError(f"{did} does not encode a JWK") from exc
    key_from_jwk(jwk_dict)
    method = f"{did}#0"
    use = jwk_dict.get("use")
    relations = (
        {"keyAgreement"}
        if use == "enc"
        else SIGNING_RELATIONSHIPS
        if use == "sig"
        else set(RELATIONSHIPS)
    )
    document: dict[str, Any] = {
        "id": did,
        "verificationMethod": [
            {"id": method, "type": "JsonWebKey", "controller": did, "publicKeyJwk": jwk_dict}
        ],
    }
    for relation in sorted(relations):
        document[relation] = [method]
    return document


class DefaultKeyResolver:
    """Resolves every supported method; network access goes through ``fetcher``."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    def __call__(self, method: str, /) -> ResolvedKey:
        base, _, fragment = method.partition("#")
        if method.startswith("did:key:"):
            if fragment and fragment != base.removeprefix("did:key:"):
                raise KeyResolutionError("a did:key fragment must repeat the key")
            method = f"{base}#{base.removeprefix('did:key:')}"
        elif method.startswith("did:jwk:"):
            if fragment not in ("", "0"):
                raise KeyResolutionError("a did:jwk has one key, '#0'")
            method = f"{base}#0"
        elif method.startswith("did:web:"):
            if not fragment:
                raise KeyResolutionError(f"{method} names a DID, not one of its keys")
        elif method.startswith("did:"):
            raise UnsupportedMethod(f"DID method {method.split(':')[1]!r} is not supported")
        elif method.startswith("https://"):
            return self._https(method, base, fragment)
        elif ":" not in method:
            raise UnsupportedMethod(f"verification method {method!r} has no URI scheme")
        else:
            raise UnsupportedMethod(f"URI scheme {method.split(':')[0]!r} is not supported")
        return self._from_document(method, self.document(base))

    def document(self, identifier: str) -> dict[str, Any]:
        """The controller document of ``identifier`` (a DID or an https URL), fetched from the
        identifier itself; its ``id`` must be ``identifier``."""
        if "#" in identifier:
            raise KeyResolutionError(f"{identifier} is a key, not a controller")
        if identifier.startswith("did:key:"):
            return did_key_document(identifier)
        if identifier.startswith("did:jwk:"):
            return did_jwk_document(identifier)
        if identifier.startswith("did:web:"):
            url = did_web_url(identifier)
        elif identifier.startswith("https://"):
            url = identifier
        elif identifier.startswith("did:"):
            raise UnsupportedMethod(f"DID method {identifier.split(':')[1]!r} is not supported")
        else:
            raise UnsupportedMethod(f"{identifier!r} is not a DID or https URL")
        document = fetch_json(self.fetcher, url)
        if not isinstance(document, dict) or document.get("id") != identifier:
            raise KeyResolutionError(f"the document at {url} is not the one of {identifier}")
        return document

    def _from_document(self, method: str, document: dict[str, Any]) -> ResolvedKey:
        entry = find_method(document, method)
        if entry is None:
            raise KeyResolutionError(f"{method} is not in the document of {document['id']}")
        key = key_from_method_document(entry)
        controller = entry.get("controller", document["id"])
        if not isinstance(controller, str) or not controller:
            raise KeyResolutionError(f"the verification method {method} has no single controller")
        if controller == document["id"]:
            controller_document = document
        else:
            try:
                controller_document = self.document(controller)
            except FetchError:
                # Signed by this key, but whether its controller vouches for it is unknown.
                return ResolvedKey(id=method, controller=controller, key=key, confirmed=False)
        return ResolvedKey(
            id=method,
            controller=controller,
            key=key,
            purposes=purposes_in(controller_document, method, key),
        )

    def _https(self, method: str, url: str, fragment: str) -> ResolvedKey:
        try:
            document = fetch_json(self.fetcher, url)
        except FetchError:
            fragment_key = _fragment_multikey(fragment)
            if fragment_key is None:
                raise
            return ResolvedKey(id=method, controller=url, key=fragment_key, confirmed=False)
        if not isinstance(document, dict):
            raise KeyResolutionError(f"{url} is not a JSON object")
        if fragment and document.get("id") != url:
            raise KeyResolutionError(f"the document at {url} says it is {document.get('id')!r}")
        if not fragment and not (document.get("id") == method and "controller" in document):
            raise KeyResolutionError(f"{url} is not a verification method with a controller")
        return self._from_document(method, document)


def _fragment_multikey(fragment: str) -> PublicKey | None:
    try:
        return decode_multikey(fragment) if fragment else None
    except ValueError:
        return None


class TableKeyResolver:
    """Resolves from a table of verification-method documents the caller vouches for, falling
    back to ``fallback``. An entry's ``purposes`` (default: ``assertionMethod``) says what its
    controller authorises it for."""

    def __init__(self, table: dict[str, dict[str, Any]], fallback: KeyResolver) -> None:
        self.table = table
        self.fallback = fallback

    def __call__(self, method: str, /) -> ResolvedKey:
        doc = self.table.get(method)
        if doc is None:
            return self.fallback(method)
        purposes = doc.get("purposes", [ASSERTION])
        return ResolvedKey(
            id=str(doc.get("id", method)),
            controller=str(doc.get("controller", "")),
            key=key_from_method_document(doc),
            purposes=frozenset(str(p) for p in purposes if isinstance(p, str)),
        )
