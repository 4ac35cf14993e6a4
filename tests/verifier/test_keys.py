"""Key resolution: did:key (Ed25519, P-256), did:jwk, did:web, HTTPS methods, the fragment form."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from issuer.crypto.keys import (
    did_jwk,
    did_key,
    generate_ed25519,
    generate_for_jwt,
    multikey,
    public_jwk,
)
from verifier.errors import FetchError, KeyResolutionError, UnsupportedMethod
from verifier.fetch import NO_NETWORK, MappingFetcher
from verifier.keys import DefaultKeyResolver, PublicKey

ED = generate_ed25519()
P256 = ec.generate_private_key(ec.SECP256R1())


def _same(a: PublicKey, b: PublicKey) -> bool:
    assert not isinstance(a, rsa.RSAPublicKey) and not isinstance(b, rsa.RSAPublicKey)
    return multikey(a) == multikey(b)


def test_did_key_ed25519_and_p256() -> None:
    resolve = DefaultKeyResolver(NO_NETWORK)
    for key in (ED, P256):
        did = did_key(key)
        for method in (did, f"{did}#{did.removeprefix('did:key:')}"):
            resolved = resolve(method)
            assert resolved.controller == did
            assert _same(resolved.key, key.public_key())


def test_did_key_with_a_foreign_fragment_is_refused() -> None:
    with pytest.raises(KeyResolutionError):
        DefaultKeyResolver(NO_NETWORK)(f"{did_key(ED)}#z6MkSomethingElse")


def test_did_jwk() -> None:
    key = generate_for_jwt("RS256")
    resolved = DefaultKeyResolver(NO_NETWORK)(f"{did_jwk(key)}#0")
    assert resolved.controller == did_jwk(key)


def _document(did: str) -> bytes:
    return json.dumps(
        {
            "id": did,
            "verificationMethod": [
                {
                    "id": "#key-1",
                    "type": "Multikey",
                    "controller": did,
                    "publicKeyMultibase": multikey(ED),
                },
            ],
            "assertionMethod": ["#key-1"],
        }
    ).encode()


def test_did_web_with_and_without_path() -> None:
    with_path = "did:web:example.org:issuers:hrd"
    bare = "did:web:example.org%3A8443"
    fetcher = MappingFetcher(
        {
            "https://example.org/issuers/hrd/did.json": _document(with_path),
            "https://example.org:8443/.well-known/did.json": _document(bare),
        }
    )
    resolve = DefaultKeyResolver(fetcher)
    for did in (with_path, bare):
        resolved = resolve(f"{did}#key-1")
        assert resolved.controller == did
        assert _same(resolved.key, ED.public_key())
    with pytest.raises(KeyResolutionError):
        resolve(f"{with_path}#key-2")


def test_did_web_document_with_another_id_is_refused() -> None:
    fetcher = MappingFetcher(
        {
            "https://example.org/did.json": b"{}",
            "https://example.org/.well-known/did.json": _document("did:web:evil"),
        }
    )
    with pytest.raises(KeyResolutionError):
        DefaultKeyResolver(fetcher)("did:web:example.org#key-1")


def test_https_method_document_and_controller_document() -> None:
    method = "https://example.org/keys/1"
    vm = {
        "id": method,
        "type": "Multikey",
        "controller": "https://example.org/issuer",
        "publicKeyMultibase": multikey(ED),
    }
    controller = {
        "id": "https://example.org/issuer",
        "assertionMethod": [{**vm, "id": "https://example.org/issuer#k"}],
    }
    fetcher = MappingFetcher(
        {
            method: json.dumps(vm).encode(),
            "https://example.org/issuer": json.dumps(controller).encode(),
        }
    )
    resolve = DefaultKeyResolver(fetcher)
    assert resolve(method).controller == "https://example.org/issuer"
    assert resolve("https://example.org/issuer#k").confirmed


def test_fragment_multikey_is_used_unconfirmed_when_unreachable() -> None:
    method = f"https://example.org/issuers/1#{multikey(ED)}"
    resolved = DefaultKeyResolver(NO_NETWORK)(method)
    assert not resolved.confirmed
    assert resolved.controller == "https://example.org/issuers/1"
    with pytest.raises(FetchError):
        DefaultKeyResolver(NO_NETWORK)("https://example.org/issuers/1#not-a-key")


@pytest.mark.parametrize(
    "method",
    [
        "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
        "xxx:abc",
        "did:example:123",
        "http://example.org/key",
    ],
)
def test_unsupported_methods(method: str) -> None:
    with pytest.raises(UnsupportedMethod):
        DefaultKeyResolver(NO_NETWORK)(method)


def test_private_jwk_is_refused() -> None:
    from verifier.keys import key_from_jwk

    jwk = public_jwk(generate_for_jwt("ES256"))
    with pytest.raises(KeyResolutionError):
        key_from_jwk({**jwk, "d": "AAAA"})
