"""What an issuer publishes without authentication: Profile, DID document, JWT key set, status
lists and achievements."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from issuer.http.deps import ServicesDep, SessionDep
from issuer.institutes import issuers
from issuer.institutes.registry import published_registry
from issuer.issuing import statuslists
from issuer.issuing.achievements import get_achievement, ob_achievement

router = APIRouter(tags=["public"])
OB_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


@router.get("/issuers/{slug}", summary="The issuer's OB 3.0 Profile")
def profile(slug: str, db: SessionDep) -> dict[str, Any]:
    return {"@context": OB_CONTEXTS, **issuers.profile(issuers.get_issuer(db, slug))}


@router.get("/issuers/{slug}/did.json", summary="The issuer's did:web DID document")
def did_document(slug: str, db: SessionDep, services: ServicesDep) -> Response:
    document = issuers.did_document(db, issuers.get_issuer(db, slug), services.settings)
    return _json(document, "application/did+json")


@router.get(
    "/.well-known/did-configuration.json",
    summary="This instance's DID Configuration: it hosts its did:web issuers",
)
def hosted_did_configuration(db: SessionDep, services: ServicesDep) -> Response:
    return _json(issuers.hosted_did_configuration(db, services), "application/json")


@router.get(
    "/trust/registry.json",
    summary="This instance's issuers as a trust list (DCC registry format)",
    description="The format VerifierPlus and the Learner Credential Wallet read: add this URL "
    "to a verifier's registries to trust this instance's issuers.",
)
def registry(db: SessionDep, services: ServicesDep) -> Response:
    return _json(published_registry(db, services), "application/json")


@router.get("/.well-known/jwks.json", summary="Every issuer's VC-JWT public keys")
def jwks(db: SessionDep) -> Response:
    return _json(issuers.jwks(db), "application/jwk-set+json")


@router.get("/issuers/{slug}/achievements/{key}", summary="An achievement (OB 3.0 JSON)")
def achievement(slug: str, key: str, db: SessionDep, services: ServicesDep) -> dict[str, Any]:
    issuer = issuers.get_issuer(db, slug)
    return {
        "@context": OB_CONTEXTS,
        **ob_achievement(services, issuer, get_achievement(db, issuer, key)),
    }


@router.get("/status/{list_id}", summary="A signed Bitstring Status List credential")
def status_list(list_id: int, request: Request, db: SessionDep, services: ServicesDep) -> Response:
    body, version = statuslists.signed_list(db, services, list_id)
    etag = f'"{list_id}-{version}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=0, must-revalidate"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/vc+ld+json", headers=headers)


def _json(document: Any, media_type: str) -> Response:
    import json

    return Response(json.dumps(document, ensure_ascii=False), media_type=media_type)
