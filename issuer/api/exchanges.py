"""Wallet exchanges (W3C VC-API / VCALM), as the DCC Learner Credential Wallet collects a badge:
an institute creates a single-use exchange for one issued badge; the wallet opens the
interaction URL or the deep link, authenticates its DID at the exchange and receives the badge
bound to that DID (``issuer.wallet.exchanges``; docs/api.md, "Learner Credential Wallet").

The exchange and interaction URLs are capabilities: whoever holds one may collect the badge
once, before it expires. They answer ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Path, Response

from issuer.http.deps import (
    ApiKeyDep,
    CredentialId,
    ReadSessionDep,
    ServicesDep,
    SessionDep,
    StrictJSONRoute,
    read_then_write,
    require,
)
from issuer.http.gate import VerificationSlot
from issuer.http.problems import WRITE, responses
from issuer.issuing.credentials import get_credential
from issuer.models.base import utcnow
from issuer.wallet import exchanges

router = APIRouter(tags=["exchanges"], route_class=StrictJSONRoute)
NO_STORE = {"Cache-Control": "no-store"}
Secret = Annotated[
    str, Path(max_length=100, description="The exchange's secret (part of its capability URL).")
]
JsonBody = Annotated[dict[str, Any], Body()]

_OFFER = {
    "type": "object",
    "required": ["exchange", "interaction", "lcw", "dccrequest", "expires"],
    "properties": {
        "exchange": {"type": "string", "description": "The VC-API exchange (capability URL)."},
        "interaction": {"type": "string", "description": "The VCALM interaction URL (`iuv=1`)."},
        "lcw": {"type": "string", "description": "The Learner Credential Wallet deep link."},
        "dccrequest": {"type": "string", "description": "The legacy `dccrequest://` link."},
        "expires": {"type": "string", "format": "date-time"},
    },
}


@router.post(
    "/api/v1/credentials/{credential_id}/exchanges",
    status_code=201,
    summary="Create a wallet exchange for a badge (Learner Credential Wallet)",
    description="Needs the `issue` scope and a badge of the key's issuer (else 404). Answers "
    "201 with a single-use VC-API `exchange` (a capability URL, valid for "
    "`LAUREL_EXCHANGE_TTL_SECONDS`, 15 minutes by default), the VCALM `interaction` URL, the "
    "`lcw` deep link (`https://lcw.app/request?request=…`, for a button or a QR code) and the "
    "legacy `dccrequest://request?…` link. The wallet that collects it proves control of a DID, "
    "and the badge is bound to that DID. 409 for a revoked badge.",
    responses=responses(
        *WRITE, 409, also={201: {"content": {"application/json": {"schema": _OFFER}}}}
    ),
)
def create(
    credential_id: CredentialId,
    db: SessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
    response: Response,
) -> dict[str, str]:
    credential = get_credential(db, credential_id, key)
    require(key, "issue")
    offer = exchanges.create_exchange(db, services, credential, actor=f"apikey:{key.prefix}")
    response.headers.update(NO_STORE)
    return offer.to_dict()


@router.get(
    "/interactions/{secret}",
    summary="Start an interaction (VCALM): the protocols a wallet may use",
    description='Answers `{"protocols": {"vcapi": <exchange URL>}}` while the exchange is '
    "pending; 404 once it is used or expired, or for an unknown one.",
    responses=responses(400, 404, 422, 503),
)
def interaction(
    secret: Secret, db: ReadSessionDep, services: ServicesDep, response: Response
) -> dict[str, Any]:
    response.headers.update(NO_STORE)
    return exchanges.protocols(db, services, secret)


@router.post(
    "/exchanges/{secret}",
    summary="Take part in a wallet exchange (VCALM participateInExchange)",
    description="`{}` answers a DIDAuthentication `verifiablePresentationRequest` with a "
    "`challenge` and this server's `domain`. `{verifiablePresentation}` (signed with "
    "Ed25519Signature2020 or eddsa-rdfc-2022, `proofPurpose` `authentication`, that challenge "
    "and domain, one proof, by a key of the `holder` DID that its document lists under "
    "`authentication`) answers "
    '`{"verifiablePresentation": {"verifiableCredential": [badge]}}` with the badge bound to '
    "the holder, and spends the exchange. A presentation posted bare (the legacy "
    "`dccrequest://` flow) gets the presentation back bare. A presentation that fails a check "
    "is refused with 400 and spends nothing; a used, expired or unknown exchange is 404; a "
    "revoked badge, or one bound to another DID, 409.",
    responses=responses(400, 404, 409, 413, 422, 429, 503),
)
async def participate(
    secret: Secret,
    body: JsonBody,
    services: ServicesDep,
    background: BackgroundTasks,
    response: Response,
    _slot: VerificationSlot,
) -> dict[str, Any]:
    """The holder's DID document read first, with no write transaction open; then the exchange
    spent and the badge bound in a short unit of work (``read_then_write``)."""
    response.headers.update(NO_STORE)
    now = utcnow()
    return await read_then_write(
        services,
        background,
        lambda db: exchanges.authenticate(db, services, secret, body, now),
        lambda db: exchanges.participate(db, services, secret, body, now),
    )
