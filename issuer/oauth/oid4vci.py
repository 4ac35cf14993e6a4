"""OpenID for Verifiable Credential Issuance 1.0 (Final), the pre-authorized code flow: each
issuer is a credential issuer at ``{base}/issuers/{slug}`` whose badges a wallet collects.

1. The institute (``POST /api/v1/credentials/{id}/offers``) or the learner (the wallet page)
   creates an offer of one issued badge: ``create_offer`` answers the ``openid-credential-offer://``
   link, its ``credential_offer_uri`` and a 6-digit ``tx_code`` delivered on another channel.
2. The wallet fetches the offer (``offer_document``: the credential issuer, both configurations,
   the pre-authorized code) and the metadata (``issuer_metadata``), then redeems the code with the
   ``tx_code`` at the OAuth server's token endpoint (``redeem``, called by the Authlib grant in
   ``issuer.oauth.server``): once, within 10 minutes, with at most ``MAX_TX_ATTEMPTS`` wrong codes.
3. It asks the nonce endpoint for a ``c_nonce`` (``new_nonce``) and the credential endpoint for the
   badge with a key proof signing it (``issue_credential`` in ``issuer.oauth.delivery``).

Secrets are random (≥ 256 bits, the tx_code aside) and stored as SHA-256 hashes. The pre-authorized
code is derived from the offer URI's secret, so that the offer can be served without storing the
code; the tx_code is hashed together with the code. Single use is enforced by conditional UPDATEs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError
from sqlalchemy import delete, update
from sqlmodel import Session, col, or_, select

from issuer.context import Services
from issuer.core import audit
from issuer.core.errors import Conflict, NotFound
from issuer.institutes.issuers import signing_key
from issuer.issuing.credentials import get_credential
from issuer.models import ApiKey, CredentialNonce, CredentialOffer, Issuer
from issuer.models.base import utcnow
from issuer.oauth.clients import digest
from issuer.oauth.proofs import ALGORITHMS

PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
LDP_VC = "OpenBadgeCredential_ldp_vc"
JWT_VC = "OpenBadgeCredential_jwt_vc_json"
CONFIGURATIONS = (LDP_VC, JWT_VC)
OFFERS, NONCE, CREDENTIAL = "/oid4vci/offers", "/oid4vci/nonce", "/oid4vci/credential"
OFFER_LIFETIME = timedelta(minutes=10)
ACCESS_SECONDS = 600
NONCE_LIFETIME = timedelta(minutes=5)
MAX_TX_ATTEMPTS = 5
TX_CODE_LENGTH = 6
MAX_CODE_LENGTH = 200
OB_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
OB_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]


def credential_issuer(services: Services, issuer: Issuer) -> str:
    """The issuer's credential issuer identifier (what key proofs name as ``aud``)."""
    return f"{services.settings.base_url}/issuers/{issuer.slug}"


def metadata_url(services: Services, slug: str) -> str:
    """Where the metadata is: the well-known segment between the host and the path (§12.2.2)."""
    return f"{services.settings.base_url}/.well-known/openid-credential-issuer/issuers/{slug}"


# --- offers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    offer: str
    credential_offer_uri: str
    tx_code: str
    expires_at: datetime


def _code_for(offer_secret: str) -> str:
    """The pre-authorized code of the offer whose URI carries ``offer_secret`` (one-way)."""
    mac = hmac.new(offer_secret.encode("ascii"), b"oid4vci pre-authorized code", hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


def _tx_hash(code: str, tx_code: str) -> str:
    return digest(f"{code}:{tx_code}")


def create_offer(
    session: Session,
    services: Services,
    credential_id: str,
    *,
    actor: str,
    api_key: ApiKey | None = None,
) -> Offer:
    """A new single-use offer of the credential (with ``api_key``: only one of the key's issuer,
    else 404). A revoked badge is not offered (409)."""
    credential = get_credential(session, credential_id, api_key)
    if credential.revoked_at is not None:
        raise Conflict("the badge was revoked; it cannot be offered to a wallet")
    secret = secrets.token_urlsafe(32)
    code = _code_for(secret)
    tx_code = "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH))
    now = utcnow()
    row = CredentialOffer(
        offer_hash=digest(secret),
        code_hash=digest(code),
        tx_code_hash=_tx_hash(code, tx_code),
        credential_id=credential.id,
        issuer_id=credential.issuer_id,
        created_by=actor[:200],
        created_at=now,
        expires_at=now + OFFER_LIFETIME,
    )
    session.add(row)
    session.flush()
    audit.append(session, actor, "credential.offer", f"urn:uuid:{credential.id}", {"id": row.id})
    uri = f"{services.settings.base_url}{OFFERS}/{secret}"
    link = "openid-credential-offer://?credential_offer_uri=" + quote(uri, safe="")
    return Offer(link, uri, tx_code, row.expires_at)


def _open_offer(session: Session, column: Any, secret: str) -> CredentialOffer | None:
    if not isinstance(secret, str) or not secret or len(secret) > MAX_CODE_LENGTH:
        return None
    row = session.exec(select(CredentialOffer).where(column == digest(secret))).first()
    return row


def offer_document(session: Session, services: Services, secret: str) -> dict[str, Any]:
    """The Credential Offer (§4.1) behind ``credential_offer_uri``: 404 once it was redeemed,
    expired or died of wrong transaction codes (the same answer for each, and for none)."""
    row = _open_offer(session, col(CredentialOffer.offer_hash), secret)
    if row is None or not _live(row, utcnow()):
        raise NotFound("there is no such credential offer, or it was used or expired")
    issuer = session.get(Issuer, row.issuer_id)
    assert issuer is not None
    return {
        "credential_issuer": credential_issuer(services, issuer),
        "credential_configuration_ids": list(CONFIGURATIONS),
        "grants": {
            PRE_AUTHORIZED: {
                "pre-authorized_code": _code_for(secret),
                "tx_code": {
                    "input_mode": "numeric",
                    "length": TX_CODE_LENGTH,
                    "description": "The 6-digit code you were given with this offer. "
                    "/ 오퍼와 함께 받은 6자리 코드를 입력하세요.",
                },
            }
        },
    }


def _live(row: CredentialOffer, now: datetime) -> bool:
    return (
        row.redeemed_at is None and row.expires_at > now and row.failed_attempts < MAX_TX_ATTEMPTS
    )


def redeem(session: Session, code: object, tx_code: object) -> dict[str, Any]:
    """The token response (RFC 6749 §5.1) for a pre-authorized code and its transaction code.
    ``invalid_request`` without a ``tx_code``; ``invalid_grant`` for a wrong one (counted: the
    offer dies after ``MAX_TX_ATTEMPTS``) and for an unknown, used or expired code."""
    if not isinstance(code, str) or not code:
        raise InvalidRequestError("'pre-authorized_code' is required")
    if not isinstance(tx_code, str) or not tx_code:
        raise InvalidRequestError("this offer needs its 'tx_code'")
    row = _open_offer(session, col(CredentialOffer.code_hash), code)
    now = utcnow()
    if row is None or not _live(row, now):
        raise InvalidGrantError("the pre-authorized code is unknown, used or expired")
    if not hmac.compare_digest(row.tx_code_hash, _tx_hash(code, tx_code[:100])):
        session.execute(
            update(CredentialOffer)
            .where(col(CredentialOffer.id) == row.id)
            .values(failed_attempts=col(CredentialOffer.failed_attempts) + 1)
        )
        raise InvalidGrantError("the tx_code is wrong")
    token = secrets.token_urlsafe(32)
    claimed = session.execute(
        update(CredentialOffer)
        .where(
            col(CredentialOffer.id) == row.id,
            col(CredentialOffer.redeemed_at).is_(None),
            col(CredentialOffer.expires_at) > now,
            col(CredentialOffer.failed_attempts) < MAX_TX_ATTEMPTS,
        )
        .values(
            redeemed_at=now,
            access_hash=digest(token),
            access_expires_at=now + timedelta(seconds=ACCESS_SECONDS),
        )
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's count
        raise InvalidGrantError("the pre-authorized code is unknown, used or expired")
    return {"access_token": token, "token_type": "Bearer", "expires_in": ACCESS_SECONDS}


def offer_for_token(session: Session, token: str) -> CredentialOffer | None:
    """The redeemed offer whose live access token ``token`` is."""
    if not token or len(token) > MAX_CODE_LENGTH:
        return None
    return session.exec(
        select(CredentialOffer).where(
            CredentialOffer.access_hash == digest(token),
            col(CredentialOffer.access_expires_at) > utcnow(),
        )
    ).first()


# --- nonces ---------------------------------------------------------------------------------


def new_nonce(session: Session) -> str:
    """A fresh ``c_nonce`` (§7), good for one key proof within ``NONCE_LIFETIME``."""
    nonce = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        CredentialNonce(nonce_hash=digest(nonce), created_at=now, expires_at=now + NONCE_LIFETIME)
    )
    return nonce


def use_nonce(session: Session, nonce: str | None) -> bool:
    """Whether ``nonce`` was live, spending it (one conditional UPDATE)."""
    if not nonce or len(nonce) > MAX_CODE_LENGTH:
        return False
    now = utcnow()
    spent = session.execute(
        update(CredentialNonce)
        .where(
            col(CredentialNonce.nonce_hash) == digest(nonce),
            col(CredentialNonce.used_at).is_(None),
            col(CredentialNonce.expires_at) > now,
        )
        .values(used_at=now)
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]  # a CursorResult's count


def purge(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete nonces and offers (with their access tokens) expired more than ``older_than`` ago;
    returns how many rows went."""
    cutoff = utcnow() - older_than
    nonces = session.execute(
        delete(CredentialNonce).where(col(CredentialNonce.expires_at) < cutoff)
    )
    token_gone = or_(
        col(CredentialOffer.access_expires_at).is_(None),
        col(CredentialOffer.access_expires_at) < cutoff,
    )
    offers = session.execute(
        delete(CredentialOffer).where(col(CredentialOffer.expires_at) < cutoff, token_gone)
    )
    return int(nonces.rowcount + offers.rowcount)  # type: ignore[attr-defined]  # CursorResults


# --- metadata -------------------------------------------------------------------------------


def _display(en: str, ko: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"name": en, "locale": "en", **extra}, {"name": ko, "locale": "ko", **extra}]


_CLAIMS = [
    {
        "path": ["credentialSubject", "achievement", "name"],
        "display": _display("Achievement", "성취"),
    },
    {"path": ["issuer", "name"], "display": _display("Issued by", "발급 기관")},
    {"path": ["validFrom"], "display": _display("Issued on", "발급일")},
]


def issuer_metadata(session: Session, services: Services, issuer: Issuer) -> dict[str, Any]:
    """The Credential Issuer Metadata (§12.2.4) of ``issuer``: the badge as ``ldp_vc``
    (eddsa-rdfc-2022) and as ``jwt_vc_json`` (the OB 3.0 VC-JWT), each with its 1.0
    ``credential_metadata``; the authorization server is Laurel's OAuth server."""
    base = services.settings.base_url
    proof_types = {"jwt": {"proof_signing_alg_values_supported": list(ALGORITHMS)}}
    common: dict[str, Any] = {
        "cryptographic_binding_methods_supported": ["did:key", "did:jwk", "jwk"],
        "proof_types_supported": proof_types,
    }
    jwt_alg = signing_key(session, issuer, "jwt").alg
    return {
        "credential_issuer": credential_issuer(services, issuer),
        "authorization_servers": [base],
        "credential_endpoint": base + CREDENTIAL,
        "nonce_endpoint": base + NONCE,
        "display": _display(issuer.name, issuer.name),
        "credential_configurations_supported": {
            LDP_VC: {
                "format": "ldp_vc",
                "scope": LDP_VC,
                "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                **common,
                "credential_definition": {"@context": OB_CONTEXTS, "type": OB_TYPES},
                "credential_metadata": _credential_metadata("Data Integrity", "데이터 무결성"),
            },
            JWT_VC: {
                "format": "jwt_vc_json",
                "scope": JWT_VC,
                "credential_signing_alg_values_supported": [jwt_alg],
                **common,
                "credential_definition": {"type": OB_TYPES},
                "credential_metadata": _credential_metadata("VC-JWT", "VC-JWT"),
            },
        },
    }


def _credential_metadata(en_form: str, ko_form: str) -> dict[str, Any]:
    return {
        "display": _display(
            f"Open Badge ({en_form})",
            f"오픈배지 ({ko_form})",
            background_color="#12107c",
            text_color="#FFFFFF",
        ),
        "claims": _CLAIMS,
    }
