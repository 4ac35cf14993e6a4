"""What an issuer publishes without authentication: Profile, DID document, JWT key set, status
lists and achievements."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.http.deps import AchievementPath, ServicesDep, SessionDep, Slug, in_unit
from issuer.http.problems import responses
from issuer.institutes import issuers
from issuer.institutes.registry import published_registry
from issuer.issuing import statuslists
from issuer.issuing.achievements import get_achievement, ob_achievement

router = APIRouter(tags=["public"])
FOUND = responses(404, 422, 503)


def _document(media_type: str) -> dict[int | str, dict[str, Any]]:
    content = {media_type: {"schema": {"type": "object"}}}
    return responses(404, 422, 503, also={200: {"description": "The document", "content": content}})


OB_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


@router.get("/issuers/{slug}", summary="The issuer's OB 3.0 Profile", responses=FOUND)
def profile(slug: Slug, db: SessionDep) -> dict[str, Any]:
    return {"@context": OB_CONTEXTS, **issuers.profile(issuers.get_issuer(db, slug))}


@router.get(
    "/issuers/{slug}/did.json",
    summary="The issuer's did:web DID document",
    response_class=Response,
    responses=_document("application/did+json"),
)
def did_document(slug: Slug, db: SessionDep, services: ServicesDep) -> Response:
    document = issuers.did_document(db, issuers.get_issuer(db, slug), services.settings)
    return _json(document, "application/did+json")


@router.get(
    "/.well-known/did-configuration.json",
    summary="This instance's DID Configuration: it hosts its did:web issuers",
    response_class=Response,
    responses=_document("application/json"),
)
def hosted_did_configuration(db: SessionDep, services: ServicesDep) -> Response:
    return _json(issuers.hosted_did_configuration(db, services), "application/json")


@router.get(
    "/trust/registry.json",
    summary="This instance's issuers as a trust list (DCC registry format)",
    description="The format VerifierPlus and the Learner Credential Wallet read: add this URL "
    "to a verifier's registries to trust this instance's issuers.",
    response_class=Response,
    responses=_document("application/json"),
)
def registry(db: SessionDep, services: ServicesDep) -> Response:
    return _json(published_registry(db, services), "application/json")


@router.get(
    "/.well-known/jwks.json",
    summary="Every issuer's VC-JWT public keys",
    response_class=Response,
    responses=_document("application/jwk-set+json"),
)
def jwks(db: SessionDep) -> Response:
    return _json(issuers.jwks(db), "application/jwk-set+json")


@router.get(
    "/issuers/{slug}/achievements/{key}", summary="An achievement (OB 3.0 JSON)", responses=FOUND
)
def achievement(
    slug: Slug, key: AchievementPath, db: SessionDep, services: ServicesDep
) -> dict[str, Any]:
    issuer = issuers.get_issuer(db, slug)
    return {
        "@context": OB_CONTEXTS,
        **ob_achievement(services, issuer, get_achievement(db, issuer, key)),
    }


@router.get(
    "/status/{list_id}",
    summary="A signed Bitstring Status List credential",
    response_class=Response,
    responses=_document("application/vc+ld+json")
    | {304: {"description": "Not modified (If-None-Match)"}},
)
async def status_list(
    list_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    services: ServicesDep,
) -> Response:
    """Answered from this process's memory while it may (``issuing.statuslists``), in the event
    loop, with no database session or worker thread; else read and signed in one worker thread."""
    asked = request.headers.get("if-none-match")
    version = statuslists.remembered_version(services, list_id)
    if version is not None and asked == _list_etag(list_id, version):
        return _list_answer(list_id, version, None)
    if version is None or (body := statuslists.remembered_list(services, list_id, version)) is None:
        return await in_unit(services, _status_list, services, list_id, asked)
    return _list_answer(list_id, version, body)


def _status_list(services: Services, list_id: int, asked: str | None) -> Response:
    with unit_of_work(services.engine, write=False) as db:
        version = statuslists.current_version(db, services, list_id)
        if asked == _list_etag(list_id, version):
            return _list_answer(list_id, version, None)
        body, version = statuslists.signed_list(db, services, list_id)
    return _list_answer(list_id, version, body)


def _list_etag(list_id: int, version: str) -> str:
    return f'"{list_id}-{version}"'


def _list_answer(list_id: int, version: str, body: bytes | None) -> Response:
    """The list (or 304 Not Modified, without ``body``) with its ETag."""
    headers = {"ETag": _list_etag(list_id, version), "Cache-Control": CACHE_LIST}
    if body is None:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/vc+ld+json", headers=headers)


CACHE_LIST = "public, max-age=0, must-revalidate"


def _json(document: Any, media_type: str) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), media_type=media_type)
