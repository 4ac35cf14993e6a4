"""The OpenID4VCI 1.0 credential endpoint (§8): the badge an offer's access token is for, bound
to the key the wallet proves it holds, as ``ldp_vc`` (the Data Integrity document) or
``jwt_vc_json`` (the OB 3.0 VC-JWT, signed again after binding).

Errors are the ones §8.3.1.2 names, each a ``CredentialError`` (400 unless said): the access
token missing, unknown or expired (``invalid_token``, 401); a request that is not an object or
names no configuration (``invalid_credential_request``); an unknown configuration
(``unknown_credential_configuration``) or identifier (``unknown_credential_identifier``; Laurel
answers no ``authorization_details``, so there are none); a missing or bad key proof
(``invalid_proof``); a nonce Laurel did not issue, already used or expired (``invalid_nonce``: the
wallet fetches a fresh one from the nonce endpoint); response encryption
(``invalid_encryption_parameters``: not supported); a badge that cannot be bound to this key —
revoked, or bound to another DID — (``credential_request_denied``).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import BadRequest, Conflict
from issuer.issuing.credentials import as_jwt
from issuer.issuing.holders import bind_to_holder
from issuer.models import CredentialOffer, Issuer
from issuer.models.base import utcnow
from issuer.oauth.oid4vci import (
    CONFIGURATIONS,
    JWT_VC,
    credential_issuer,
    offer_for_token,
    use_nonce,
)
from issuer.oauth.proofs import Proof, ProofError, check_jwt_proof


class CredentialError(Exception):
    """An error answer of the credential endpoint: ``{"error": code, "error_description": …}``."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code, self.description, self.status = code, description, status


def token_offer(session: Session, authorization: str | None) -> CredentialOffer:
    """The offer whose access token the ``Authorization: Bearer`` header carries."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise CredentialError("invalid_token", "an access token is required (Bearer)", 401)
    offer = offer_for_token(session, value.strip())
    if offer is None:
        raise CredentialError("invalid_token", "the access token is unknown or expired", 401)
    return offer


def issue_credential(
    session: Session, services: Services, authorization: str | None, request: Any
) -> dict[str, Any]:
    """The credential response (§8.3) for ``request`` under the bearer token in
    ``authorization``."""
    offer = token_offer(session, authorization)
    configuration = _configuration(request)
    issuer = session.get(Issuer, offer.issuer_id)
    assert issuer is not None
    proof = _checked(_one_jwt_proof(request), credential_issuer(services, issuer))
    if not use_nonce(session, proof.nonce):
        raise CredentialError(
            "invalid_nonce",
            "the proof's nonce is not a live c_nonce: get one from the nonce endpoint",
        )
    try:
        credential = bind_to_holder(
            session, services, offer.credential_id, proof.holder, actor=f"oid4vci:{offer.id}"
        )
    except (Conflict, BadRequest) as exc:
        raise CredentialError("credential_request_denied", exc.detail) from None
    offer.delivered_at = utcnow()
    session.add(offer)
    issued = (
        as_jwt(session, services, credential) if configuration == JWT_VC else credential.document
    )
    return {"credentials": [{"credential": issued}]}


def _configuration(request: Any) -> str:
    if not isinstance(request, dict):
        raise CredentialError("invalid_credential_request", "the request must be a JSON object")
    if "credential_response_encryption" in request:
        raise CredentialError(
            "invalid_encryption_parameters", "credential response encryption is not supported"
        )
    if "credential_identifier" in request:
        raise CredentialError(
            "unknown_credential_identifier",
            "no credential identifiers were issued; send credential_configuration_id",
        )
    configuration = request.get("credential_configuration_id")
    if configuration is None:
        raise CredentialError(
            "invalid_credential_request", "credential_configuration_id is required"
        )
    if configuration not in CONFIGURATIONS:
        raise CredentialError(
            "unknown_credential_configuration",
            f"the configurations are {', '.join(CONFIGURATIONS)}",
        )
    return str(configuration)


def _one_jwt_proof(request: dict[str, Any]) -> str:
    proofs = request.get("proofs")
    if proofs is None:
        raise CredentialError("invalid_proof", "a key proof is required (proofs.jwt)")
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise CredentialError("invalid_proof", "proofs must hold exactly one proof type")
    if "jwt" not in proofs:
        raise CredentialError("invalid_proof", "the only proof type supported is jwt")
    found = proofs["jwt"]
    if not isinstance(found, list) or len(found) != 1:
        raise CredentialError("invalid_proof", "send exactly one jwt proof (no batch issuance)")
    token = found[0]
    return token if isinstance(token, str) else ""


def _checked(token: str, audience: str) -> Proof:
    try:
        return check_jwt_proof(token, audience, utcnow())
    except ProofError as exc:
        raise CredentialError("invalid_proof", str(exc)) from None
