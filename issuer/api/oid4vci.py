"""OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow
(``issuer.oauth.oid4vci``): the issuing API's offer endpoint, each issuer's credential issuer
metadata, the offer a ``credential_offer_uri`` names, and the nonce and credential endpoints. The
token endpoint is the OAuth server's (``/oauth/token``, ``issuer.api.oauth``).

The wallet-facing endpoints answer the standard's JSON errors (``{"error": …}``), not
problem+json, and ``Cache-Control: no-store``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from issuer.http.deps import (
    ApiKeyDep,
    AuthorizationHeader,
    CredentialId,
    ServicesDep,
    SessionDep,
    Slug,
    parse_json,
    require,
)
from issuer.http.problems import READ, responses
from issuer.http.rates import NonceAllowance
from issuer.institutes.issuers import get_issuer
from issuer.oauth import oid4vci
from issuer.oauth.delivery import CredentialError, issue_credential

router = APIRouter(tags=["oid4vci"])
NO_STORE = {"Cache-Control": "no-store"}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}
_JSON: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}


@router.post(
    "/api/v1/credentials/{credential_id}/offers",
    status_code=201,
    tags=["api"],
    summary="Offer an issued badge to an OpenID4VCI wallet (pre-authorized code flow)",
    description="Needs the `issue` scope; the credential must be the key's issuer's (else 404), "
    "and not revoked (409). Answers `offer` (an `openid-credential-offer://` link to show as a "
    "QR code), `credential_offer_uri` and `tx_code`, the 6-digit code the wallet asks its user "
    "for: deliver it on another channel than the offer (e.g. by email). The offer is used once "
    "and expires in 10 minutes (`expires_at`); five wrong `tx_code`s end it. The wallet collects "
    "the badge bound to its own key, as `ldp_vc` or `jwt_vc_json`.",
    responses=responses(*READ, 409),
)
def create_offer(
    credential_id: CredentialId, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> JSONResponse:
    require(key, "issue")
    made = oid4vci.create_offer(
        db, services, credential_id, actor=f"apikey:{key.prefix}", api_key=key
    )
    return JSONResponse(
        {
            "offer": made.offer,
            "credential_offer_uri": made.credential_offer_uri,
            "tx_code": made.tx_code,
            "expires_at": made.expires_at.isoformat().replace("+00:00", "Z"),
        },
        status_code=201,
        headers=NO_STORE,
    )


@router.get(
    "/.well-known/openid-credential-issuer/issuers/{slug}",
    summary="The issuer's OpenID4VCI Credential Issuer Metadata",
    description="OpenID4VCI 1.0 §12.2: the credential issuer `{base}/issuers/{slug}`, its "
    "credential and nonce endpoints, Laurel's OAuth server as its authorization server, and two "
    "configurations of the badge: `OpenBadgeCredential_ldp_vc` (Data Integrity, "
    "eddsa-rdfc-2022) and `OpenBadgeCredential_jwt_vc_json` (the OB 3.0 VC-JWT), each with "
    "`credential_metadata` (display names in English and Korean).",
    responses=responses(404, 422, 503, also={200: {"description": "Metadata", "content": _JSON}}),
)
def credential_issuer_metadata(slug: Slug, db: SessionDep, services: ServicesDep) -> JSONResponse:
    issuer = get_issuer(db, slug)
    return JSONResponse(
        oid4vci.issuer_metadata(db, services, issuer),
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get(
    oid4vci.OFFERS + "/{secret}",
    summary="A Credential Offer (by reference)",
    description="The offer a `credential_offer_uri` names (OpenID4VCI 1.0 §4.1): the credential "
    "issuer, both configuration ids and the pre-authorized code grant, which needs a numeric "
    "6-digit `tx_code`. 404 once the offer was redeemed, expired or ended by wrong codes.",
    responses=responses(
        400, 404, 422, 503, also={200: {"description": "The offer", "content": _JSON}}
    ),
)
def credential_offer(
    secret: Annotated[str, Path(max_length=100)], db: SessionDep, services: ServicesDep
) -> JSONResponse:
    return JSONResponse(oid4vci.offer_document(db, services, secret), headers=NO_STORE)


@router.post(
    oid4vci.NONCE,
    summary="A fresh c_nonce for a key proof",
    description='OpenID4VCI 1.0 §7: `{"c_nonce": …}`, good for one key proof within 5 '
    "minutes. No authentication; each client address may ask for `LAUREL_NONCE_RATE` nonces "
    "(default 30 a minute, 300 an hour), then gets 429 (problem+json) with `Retry-After`.",
    responses=responses(429, 503, also={200: {"description": "`{c_nonce}`", "content": _JSON}}),
)
def nonce(_: NonceAllowance, db: SessionDep) -> JSONResponse:
    return JSONResponse({"c_nonce": oid4vci.new_nonce(db)}, headers=NO_STORE)


@router.post(
    oid4vci.CREDENTIAL,
    summary="The offered badge, bound to the wallet's key",
    description="OpenID4VCI 1.0 §8, with the access token of the pre-authorized code grant "
    "(`Authorization: Bearer …`; it reaches only the offered badge). The body names "
    "`credential_configuration_id` and holds one `jwt` key proof (`typ` "
    "`openid4vci-proof+jwt`, EdDSA or ES256, `kid` a did:key or did:jwk DID URL or a `jwk` "
    "header, `aud` the credential issuer, a recent `iat`, the `nonce` from the nonce endpoint). "
    "The badge names the proof's DID as `credentialSubject.id` and is signed again; the answer "
    'is `{"credentials": [{"credential": …}]}`: the JSON-LD document (`ldp_vc`) or the '
    "VC-JWT (`jwt_vc_json`). Errors: 401 `invalid_token`; 400 `invalid_credential_request`, "
    "`unknown_credential_configuration`, `unknown_credential_identifier`, `invalid_proof`, "
    "`invalid_nonce` (fetch a new nonce), `invalid_encryption_parameters`, "
    "`credential_request_denied` (the badge is revoked or bound to another key).",
    responses={
        200: {"description": "The credential", "content": _JSON},
        400: {
            "description": "An OpenID4VCI error",
            "content": {"application/json": {"schema": _ERROR}},
        },
        401: {
            "description": "`invalid_token`",
            "content": {"application/json": {"schema": _ERROR}},
        },
        **responses(413, 503),
    },
    openapi_extra={"requestBody": {"required": True, "content": _JSON}},
)
async def credential(
    request: Request,
    db: SessionDep,
    services: ServicesDep,
    authorization: AuthorizationHeader = None,
) -> Response:
    try:
        body: Any = parse_json(await request.body())
    except json.JSONDecodeError:
        body = None
    try:
        answer = await run_in_threadpool(issue_credential, db, services, authorization, body)
    except CredentialError as exc:
        headers = dict(NO_STORE)
        if exc.status == 401:
            headers["WWW-Authenticate"] = f'Bearer error="{exc.code}"'
        return JSONResponse(
            {"error": exc.code, "error_description": exc.description},
            status_code=exc.status,
            headers=headers,
        )
    return JSONResponse(answer, headers=NO_STORE)
