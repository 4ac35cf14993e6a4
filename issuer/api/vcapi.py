"""The W3C VC-API (VCALM) for this instance's issuers and its verifier: issue any VC, change its
status, verify credentials and presentations (docs/api.md, "W3C VC-API").

Issuing needs an API key of the issuer with the ``issue`` scope (status changes: ``revoke``);
verifying is public and bounded like ``/api/v1/verify``. A failed verification answers 422 with
the VerificationResult as its body (``verified: false`` and its ``errors``): the W3C suites take
only 400 or 422 as a refusal.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from issuer.http.deps import (
    ApiKeyDep,
    ReadSessionDep,
    ServicesDep,
    SessionDep,
    Slug,
    StrictJSONRoute,
    issuer_for,
)
from issuer.http.gate import VerificationSlot
from issuer.http.problems import PROBLEM, WRITE, responses
from issuer.issuing import vcapi
from issuer.verification.vcapi import verify_vc, verify_vp

router = APIRouter(prefix="/vc-api", tags=["vc-api"], route_class=StrictJSONRoute)
JsonBody = Annotated[dict[str, Any], Body()]


VERIFICATION_RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["verified", "checks", "warnings"],
    "properties": {
        "verified": {"type": "boolean"},
        "checks": {"type": "array", "items": {"type": "string"}},
        "warnings": {"type": "array", "items": {"type": "object"}},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
_RESULT = {"application/json": {"schema": VERIFICATION_RESULT}}
VERIFY_ANSWERS = responses(
    400,
    413,
    429,
    503,
    also={
        200: {"description": "Verified: the VerificationResult.", "content": _RESULT},
        422: {
            "description": "Not verified: the VerificationResult with its `errors` "
            "(application/json); or a body that is not a JSON object (problem+json).",
            "content": {**_RESULT, PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        },
    },
)


def _actor(key: Any) -> str:
    return f"apikey:{key.prefix}"


@router.post(
    "/issuers/{slug}/credentials/issue",
    status_code=201,
    summary="Issue any VC (VCALM issueCredential), signed eddsa-rdfc-2022",
    description="Body `{credential, options}`; answers 201 `{verifiableCredential}`. Needs the "
    "`issue` scope. A VCDM 2.0 credential without `credentialStatus` gets a "
    "`BitstringStatusListEntry`. 400 for a credential JSON-LD would not keep whole, an "
    "`issuer` other than this issuer's DID, or an issuer `name` or `url` that is another "
    "issuer's on this instance.",
    responses=responses(*WRITE),
)
def issue(
    slug: Slug, body: JsonBody, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "issue")
    signed = vcapi.issue(
        db, services, issuer, body.get("credential"), body.get("options"), _actor(key)
    )
    return {"verifiableCredential": signed}


@router.post(
    "/issuers/{slug}/credentials/status",
    summary="Change a credential's status (VCALM updateCredentialStatus, or the DCC shape)",
    description="`{credentialId, credentialStatus: {type, statusPurpose}, status: true}` or "
    '`{credentialId, credentialStatus: [{type, status: "revoked"}]}`. Needs the `revoke` '
    "scope. Revocation only; it cannot be undone (409).",
    responses=responses(*WRITE),
)
def update_status(slug: Slug, body: JsonBody, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "revoke")
    return vcapi.update_status(db, issuer, body, key, _actor(key))


def _answer(result: dict[str, Any]) -> JSONResponse:
    return JSONResponse(result, status_code=200 if result["verified"] else 422)


@router.post(
    "/credentials/verify",
    summary="Verify any VC (VCALM verifyCredential)",
    description="Body `{verifiableCredential, options}`. 200 with the VerificationResult when "
    "verified, 422 with it (and its `errors`) when not.",
    responses=VERIFY_ANSWERS,
)
def verify_credential(
    body: JsonBody, db: ReadSessionDep, services: ServicesDep, _slot: VerificationSlot
) -> JSONResponse:
    return _answer(verify_vc(db, services, body))


@router.post(
    "/presentations/verify",
    summary="Verify a VP and its credentials (VCALM verifyPresentation)",
    description="Body `{verifiablePresentation, options: {challenge, domain}}`. With a "
    "challenge the presentation must carry an `authentication` proof with it (and the domain). "
    "200 when verified, 422 with the result when not.",
    responses=VERIFY_ANSWERS,
)
def verify_presentation(
    body: JsonBody, db: ReadSessionDep, services: ServicesDep, _slot: VerificationSlot
) -> JSONResponse:
    return _answer(verify_vp(db, services, body))
