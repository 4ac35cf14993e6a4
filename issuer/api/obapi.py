"""The 1EdTech Open Badges 3.0 API as a host, at ``/ims/ob/v3p0`` (OB 3.0 §6; the official
OpenAPI file, profiled, is the discovery document). Learners' wallet credentials and profile,
reached with an OAuth 2.0 access token from Laurel's authorization server (``issuer/oauth``).

Errors are ``Imsx_StatusInfo`` bodies, not problem details, as the standard requires:
400 ``invalid_data``/``invalid_query_parameter``, 401 ``unauthorizedrequest`` (with
``WWW-Authenticate: Bearer error="invalid_token"``), 403 ``forbidden`` (``insufficient_scope``),
404 ``not_found``, 409 ``invalid_data`` (the wallet is full), 413 ``invalid_data``, 415
``not_acceptable``, 429/503 ``server_busy`` and 500 ``internal_server_error``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from issuer.core.errors import BadRequest, Conflict, LaurelError, UnsupportedMedia
from issuer.core.settings import Settings
from issuer.http.deps import ServicesDep, WriteSessionDep, parse_json, read_then_write
from issuer.http.oauth import bearer, detached_bearer
from issuer.http.problems import RETRY_AFTER_SECONDS, unavailable
from issuer.oauth.tokens import Access
from issuer.wallet import obapi
from issuer.wallet.imports import foresee_upsert, upsert_badge

log = logging.getLogger("laurel")

BASE = "/ims/ob/v3p0"
SCOPE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
READ_CREDENTIALS = SCOPE + "credential.readonly"
UPSERT_CREDENTIALS = SCOPE + "credential.upsert"
READ_PROFILE = SCOPE + "profile.readonly"
UPDATE_PROFILE = SCOPE + "profile.update"
OPENAPI = Path(__file__).parent / "data" / "ob_v3p0_openapi.json"
MAX_BODY = 2_000_000
JSON_TYPES = ("application/json", "application/vc+ld+json", "application/ld+json")


def imsx(
    status: int, minor: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """An ``Imsx_StatusInfo`` answer (``imsx_statusinfo.json``: only these keys)."""
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_codeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "laurel", "imsx_codeMinorFieldValue": minor}
            ]
        },
    }
    return JSONResponse(body, status_code=status, headers=headers)


_MINOR = {
    400: "invalid_data",
    401: "unauthorizedrequest",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    406: "not_acceptable",
    409: "invalid_data",
    413: "invalid_data",
    415: "not_acceptable",
    422: "invalid_data",
    429: "server_busy",
    503: "server_busy",
}


def _from_laurel(exc: LaurelError) -> JSONResponse:
    headers: dict[str, str] = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if exc.challenge is not None:
        headers["WWW-Authenticate"] = exc.challenge
    minor = _MINOR.get(exc.status, "internal_server_error")
    return imsx(exc.status, minor, exc.detail, headers or None)


IMSX_SCHEMA: dict[str, Any] = {"$ref": "#/components/schemas/Imsx_StatusInfo"}
_IMSX_MEANINGS = {
    304: "Not modified (`If-None-Match`).",
    400: "`invalid_query_parameter` (limit, offset, since) or `invalid_data` (the body).",
    401: "`unauthorizedrequest`: no access token, or an unknown, expired or revoked one.",
    403: "`forbidden`: the access token lacks this operation's scope.",
    409: "`invalid_data`: the learner's wallet keeps as many credentials from elsewhere as it "
    "may (a number, or a total size); nothing was stored.",
    415: "`not_acceptable`: the body is not of a media type this accepts.",
    503: "`server_busy`: try again after `Retry-After` seconds.",
}


def imsx_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``Imsx_StatusInfo`` answers an operation may give (OpenAPI ``responses=``)."""
    answers: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        answers[status] = {
            "description": _IMSX_MEANINGS[status],
            "content": {"application/json": {"schema": IMSX_SCHEMA}},
        }
    return answers


PROTECTED = (400, 401, 403, 503)


def document_imsx(app: FastAPI) -> None:
    """Add 1EdTech's ``Imsx_StatusInfo`` schemas (from the official file) to the app's OpenAPI
    description, which the OB API's answers refer to."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in _official()["components"]["schemas"].items():
            if name.startswith("Imsx_"):
                schemas.setdefault(name, copy.deepcopy(schema))
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it


class ImsxRoute(APIRoute):
    """A route whose every error is an ``Imsx_StatusInfo`` body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except LaurelError as exc:
                return _from_laurel(exc)
            except RequestValidationError as exc:
                where = request.url.path
                fields = "; ".join(
                    f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg')}"
                    for error in exc.errors()
                )
                query = any(error.get("loc", ("",))[0] == "query" for error in exc.errors())
                minor = "invalid_query_parameter" if query else "invalid_data"
                return imsx(400, minor, f"{where}: {fields}")
            except HTTPException as exc:
                return imsx(exc.status_code, _MINOR.get(exc.status_code, "unknown"), exc.detail)
            except (DBAPIError, PoolTimeout) as exc:
                if not unavailable(exc):
                    raise
                headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
                return imsx(503, "server_busy", "the database cannot be reached", headers)
            except ClientDisconnect:
                raise
            except Exception:
                log.exception("OB API error")
                return imsx(500, "internal_server_error", "an internal error; it was logged")

        return answer


router = APIRouter(prefix=BASE, tags=["Open Badges 3.0 API"], route_class=ImsxRoute)


# ----------------------------------------------------------------------------- discovery


@cache
def _official() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return loaded


def discovery_document(settings: Settings) -> dict[str, Any]:
    """The Service Description Document: the official OpenAPI file with this host's server,
    terms, privacy policy and OAuth 2.0 endpoints filled in (OB 3.0 §6.2, security §"Request
    the SDD")."""
    base = settings.base_url.rstrip("/")
    document = copy.deepcopy(_official())
    document["servers"] = [{"url": base + BASE, "description": settings.service_name}]
    info = document["info"]
    info["title"] = f"{settings.service_name}: Open Badges 3.0 API"
    info["termsOfService"] = settings.terms_url or f"{base}/terms"
    info["x-imssf-privacyPolicyUrl"] = settings.privacy_url or f"{base}/privacy"
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    scheme["x-imssf-name"] = settings.service_name
    scheme["x-imssf-registrationUrl"] = f"{base}/oauth/register"
    scheme["x-imssf-revocationUrl"] = f"{base}/oauth/revoke"
    scheme["x-imssf-privacyPolicyUrl"] = info["x-imssf-privacyPolicyUrl"]
    scheme["x-imssf-termsOfServiceUrl"] = info["termsOfService"]
    flow = scheme["flows"]["authorizationCode"]
    flow["authorizationUrl"] = f"{base}/oauth/authorize"
    flow["tokenUrl"] = f"{base}/oauth/token"
    flow["refreshUrl"] = f"{base}/oauth/token"
    return document


@router.get(
    "/discovery",
    responses={**imsx_responses(503), 304: {"description": _IMSX_MEANINGS[304]}},
    summary="getServiceDescription: this host's Service Description Document",
    description="Unauthenticated. The official OB 3.0 OpenAPI file with this server's URL, "
    "terms, privacy policy and OAuth 2.0 endpoints. Cacheable for an hour (`ETag`).",
)
def discovery(request: Request, services: ServicesDep) -> Response:
    body = json.dumps(discovery_document(services.settings), ensure_ascii=False).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"Cache-Control": "public, max-age=3600", "ETag": etag}
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


# ---------------------------------------------------------------------------- credentials

Limit = Annotated[int | None, Query(ge=1, le=1000, description="Page size (1–1000).")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Zero-based position.")]
Since = Annotated[
    datetime | None, Query(description="Only credentials issued after this date and time.")
]
DEFAULT_LIMIT = 100


@router.get(
    "/credentials",
    responses=imsx_responses(*PROTECTED),
    summary="getCredentials: the learner's verifiable credentials",
    description="Scope `credential.readonly`. Credentials issued here to the learner (not "
    "revoked) and those kept in their wallet that verified and were issued to them (one of "
    "their confirmed emails is the recipient), oldest first. Paging with `limit` and `offset`; "
    "`X-Total-Count` and `Link` (first, last, next, prev).",
)
def get_credentials(
    request: Request,
    db: WriteSessionDep,
    access: Annotated[Access, Depends(bearer(READ_CREDENTIALS))],
    limit: Limit = None,
    offset: Offset = 0,
    since: Since = None,
) -> Response:
    if since is not None and since.tzinfo is None:
        raise BadRequest("since must be a date and time with its offset (e.g. …Z)")
    assert access.learner.id is not None
    size = limit or DEFAULT_LIMIT
    total, page = obapi.page(db, access.learner.id, since, size, offset)
    headers = {"X-Total-Count": str(total)}
    url = str(request.url.remove_query_params(["limit", "offset"]))
    if offset > 0 or offset + size < total or limit is not None:
        links = obapi.paging_links(url, total, size, offset)
        headers["Link"] = ", ".join(f'<{target}>; rel="{rel}"' for rel, target in links)
    return JSONResponse(obapi.page_body(page), headers=headers)


@router.post(
    "/credentials",
    responses={
        **imsx_responses(*PROTECTED, 409, 415),
        200: {"description": "Replaced an equal credential (or kept a newer one)."},
    },
    summary="upsertCredential: keep a credential in the learner's wallet",
    description="Scope `credential.upsert`. The body is an OB 3.0 credential: JSON "
    "(`application/json` or `application/vc+ld+json`) or a compact JWS (`text/plain`). It is "
    "verified first and stored only if it verifies and was issued to the learner (one of their "
    "confirmed emails is its recipient), else 400 `invalid_data`. 201 when new, 200 when it "
    "replaced an equal one (the same `issuer.id` and `id`: another issuer's credential with "
    "the same `id` is another credential); the answer echoes the body. 409 when the wallet "
    "keeps as many credentials from elsewhere as it may.",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/vc+ld+json": {"schema": {"type": "object"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
async def upsert_credential(
    request: Request,
    services: ServicesDep,
    background: BackgroundTasks,
    access: Annotated[Access, Depends(detached_bearer(UPSERT_CREDENTIALS))],
) -> Response:
    """Verified with the hosts the credential names read first, with no write transaction
    open, then kept in a short unit of work (``read_then_write``)."""
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media not in (*JSON_TYPES, "text/plain"):
        raise UnsupportedMedia(
            "send the credential as application/json, application/vc+ld+json or text/plain "
            "(a compact JWS)"
        )
    body = await _body(request)
    if media == "text/plain" and body.strip().startswith(b"{"):
        raise BadRequest("text/plain is for a compact JWS; send JSON as application/json")
    if media != "text/plain" and not body.strip().startswith(b"{"):
        raise BadRequest(f"{media} must be a JSON object")
    learner = access.learner.id
    assert learner is not None
    try:
        _, created = await read_then_write(
            services,
            background,
            lambda db: foresee_upsert(db, services, body),
            lambda db: upsert_badge(db, services, learner, body),
        )
    except Conflict:  # issued here to this learner: in their wallet already, nothing to store
        created = False
    status = 201 if created else 200
    answer_type = "text/plain" if media == "text/plain" else media
    return Response(body, status_code=status, media_type=answer_type)


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BadRequest(f"the credential is over {MAX_BODY:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


# -------------------------------------------------------------------------------- profile


@router.get(
    "/profile",
    responses=imsx_responses(*PROTECTED),
    summary="getProfile: the learner's profile",
    description="Scope `profile.readonly`.",
)
def get_profile(
    db: WriteSessionDep, access: Annotated[Access, Depends(bearer(READ_PROFILE))]
) -> JSONResponse:
    assert access.learner.id is not None
    return JSONResponse(obapi.profile(db, access.learner.id))


@router.put(
    "/profile",
    responses=imsx_responses(*PROTECTED, 415),
    summary="putProfile: change the learner's profile",
    description="Scope `profile.update`. The whole Profile; Laurel keeps the name. A field it "
    "does not keep, or a change to the id or email, is 400 `invalid_data`.",
)
async def put_profile(
    request: Request,
    db: WriteSessionDep,
    access: Annotated[Access, Depends(bearer(UPDATE_PROFILE))],
) -> JSONResponse:
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise UnsupportedMedia("send the Profile as application/json")
    try:
        given = parse_json(await _body(request))
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the body is not JSON: {exc.msg}") from None
    if not isinstance(given, dict):
        raise BadRequest("the body must be a Profile object")
    assert access.learner.id is not None
    updated = await run_in_threadpool(obapi.update_profile, db, access.learner.id, given)
    return JSONResponse(updated)


# ------------------------------------------------------------------ methods the API has not

_ALLOWED = {
    "/discovery": ("GET",),
    "/credentials": ("GET", "POST"),
    "/profile": ("GET", "PUT"),
}


def _not_allowed(allowed: tuple[str, ...]) -> Callable[[], Response]:
    def answer() -> Response:
        response = imsx(405, "not_allowed", f"this resource answers {', '.join(allowed)} only")
        response.headers["Allow"] = ", ".join(allowed)
        return response

    return answer


for _path, _methods in _ALLOWED.items():
    _others = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m not in _methods]
    router.add_api_route(_path, _not_allowed(_methods), methods=_others, include_in_schema=False)
