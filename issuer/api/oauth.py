"""The OAuth 2.0 authorization server's machine endpoints: RFC 8414 metadata, RFC 7591 dynamic
registration, the token endpoint (authorization code with PKCE, refresh) and RFC 7009
revocation. Their errors are the standards' JSON (``{"error": …}``), not problem+json. The
authorize endpoint, a page for the learner, is in ``issuer.web.oauth``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.oauth import read_form, read_json, server
from issuer.http.problems import responses
from issuer.http.rates import RegistrationAllowance
from issuer.oauth.oid4vci import PRE_AUTHORIZED
from issuer.oauth.server import REGISTER, REVOKE, TOKEN, metadata

router = APIRouter(tags=["oauth"])
_URLS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
_REGISTRATION = {
    "type": "object",
    "required": [
        "client_name",
        *_URLS,
        "software_id",
        "software_version",
        "redirect_uris",
        "scope",
    ],
    "properties": {
        "client_name": {"type": "string", "maxLength": 200},
        **{name: {"type": "string", "format": "uri", "maxLength": 2000} for name in _URLS},
        "software_id": {"type": "string", "maxLength": 200},
        "software_version": {"type": "string", "maxLength": 100},
        "redirect_uris": {
            "type": "array",
            "minItems": 1,
            "maxItems": 20,
            "items": {"type": "string", "format": "uri", "maxLength": 2000},
        },
        "scope": {"type": "string", "maxLength": 1000},
        "token_endpoint_auth_method": {"type": "string", "enum": ["client_secret_basic"]},
        "grant_types": {
            "type": "array",
            "items": {"type": "string", "enum": ["authorization_code", "refresh_token"]},
        },
        "response_types": {"type": "array", "items": {"type": "string", "enum": ["code"]}},
        "contacts": {"type": "array", "items": {"type": "string"}},
    },
}


def _form(*required: str, **properties: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "required": list(required), "properties": properties}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


_TEXT: dict[str, Any] = {"type": "string", "maxLength": 1000}
_TOKEN_FORM = _form(
    "grant_type",
    grant_type={"type": "string", "enum": ["authorization_code", "refresh_token", PRE_AUTHORIZED]},
    code=_TEXT,
    redirect_uri=_TEXT,
    code_verifier=_TEXT,
    refresh_token=_TEXT,
    scope=_TEXT,
    **{"pre-authorized_code": _TEXT},
    tx_code=_TEXT,
)
_REVOKE_FORM = _form(
    "token",
    token=_TEXT,
    token_type_hint={"type": "string", "enum": ["access_token", "refresh_token"]},
)
_ERRORS: dict[int | str, dict[str, Any]] = responses(
    503,
    also={
        400: {"description": "An RFC 6749 / RFC 7591 error: `{error, error_description}`."},
        401: {"description": "`invalid_client`: no or wrong HTTP Basic client credentials."},
    },
)


@router.get("/.well-known/oauth-authorization-server", responses=responses(503))
def authorization_server_metadata(services: ServicesDep) -> JSONResponse:
    """RFC 8414 metadata: the endpoints, the OB 3.0 scopes, PKCE `S256`."""
    return JSONResponse(
        metadata(services.settings.base_url), headers={"Cache-Control": "public, max-age=3600"}
    )


@router.post(
    REGISTER,
    status_code=201,
    responses=_ERRORS | responses(429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _REGISTRATION}},
        }
    },
)
async def register(
    request: Request, services: ServicesDep, db: SessionDep, _: RegistrationAllowance
) -> Response:
    """RFC 7591 dynamic client registration with the OB 3.0 rules: answers 201 with the
    registered metadata and `client_id`, `client_secret`, `client_id_issued_at`,
    `client_secret_expires_at`. Each client address may register `LAUREL_REGISTRATION_RATE`
    clients (default 20 an hour, 100 a day), then gets 429 with `Retry-After`."""
    sent = await read_json(request, services)
    answer: Response = await run_in_threadpool(
        server(db, services).create_endpoint_response, "client_registration", sent
    )
    return answer


@router.post(TOKEN, responses=_ERRORS, openapi_extra=_TOKEN_FORM)
async def token(request: Request, services: ServicesDep, db: SessionDep) -> Response:
    """The token endpoint (form body, HTTP Basic client authentication): `authorization_code`
    with the PKCE `code_verifier`, and `refresh_token` (the refresh token rotates). Also
    OpenID4VCI's `urn:ietf:params:oauth:grant-type:pre-authorized_code` with `pre-authorized_code`
    and `tx_code`, anonymous (no client authentication): its token reaches only the OpenID4VCI
    credential endpoint, for the offered badge."""
    sent = await read_form(request, services)
    answer: Response = await run_in_threadpool(server(db, services).create_token_response, sent)
    return answer


@router.post(REVOKE, responses=_ERRORS, openapi_extra=_REVOKE_FORM)
async def revoke(request: Request, services: ServicesDep, db: SessionDep) -> Response:
    """RFC 7009 revocation of an access or refresh token (HTTP Basic client authentication);
    200 for an unknown token too."""
    sent = await read_form(request, services)
    answer: Response = await run_in_threadpool(
        server(db, services).create_endpoint_response, "revocation", sent
    )
    return answer
