"""The "collect your badge" link of a badge email: ``{base}/collect/{token}``, a long-lived link
whose page makes, on request, a fresh single-use VC-API exchange for the Learner Credential Wallet
or an OpenID4VCI offer (an email cannot carry those: they live 15 and 10 minutes).

The token is ``{credential id}.{expiry, Unix seconds}.{HMAC-SHA256}`` over both, keyed from
``LAUREL_KEY_PASSPHRASE`` (HKDF, RFC 5869): nothing is stored, nobody can make one for another
badge or stretch its life, and it is bound to one credential. It works for
``LAUREL_COLLECT_LINK_DAYS`` (30 by default) and only while the badge is not revoked and not yet
bound to a holder (collected into a wallet): after that it is refused. A token that does not
verify and one for an unknown badge are refused alike (404)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta
from functools import lru_cache

from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import Conflict, NotFound
from issuer.models import Credential
from issuer.models.base import utcnow

PATH = "/collect/"
_TOKEN = re.compile(r"^([0-9a-f-]{36})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
INVALID = "this link to collect a badge is not valid"


@lru_cache(maxsize=8)
def _key(passphrase: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"laurel collect v1", info=b"mail"
    ).derive(passphrase.encode("utf-8"))


def _mac(passphrase: str, credential_id: str, expires: int) -> str:
    signed = f"collect:{credential_id}:{expires}".encode()
    digest = hmac.new(_key(passphrase), signed, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def token(services: Services, credential: Credential, now: datetime | None = None) -> str:
    lifetime = timedelta(days=services.settings.collect_link_days)
    expires = int(((now or utcnow()) + lifetime).timestamp())
    mac = _mac(services.settings.key_passphrase, credential.id, expires)
    return f"{credential.id}.{expires}.{mac}"


def link(services: Services, credential: Credential) -> str | None:
    """The link for an issued badge's email (None for a revoked or already collected one)."""
    if credential.revoked_at is not None or credential.holder_id is not None:
        return None
    return services.settings.base_url + PATH + token(services, credential)


def credential_for(
    session: Session, services: Services, value: str, now: datetime | None = None
) -> Credential:
    """The badge a live token was made for: 404 for a token that does not verify, 409 for one
    that expired or whose badge was revoked or is already in a wallet."""
    found = _TOKEN.fullmatch(value)
    if found is None:
        raise NotFound(INVALID)
    credential_id, expires = found.group(1), int(found.group(2))
    wanted = _mac(services.settings.key_passphrase, credential_id, expires)
    if not hmac.compare_digest(wanted, found.group(3)):
        raise NotFound(INVALID)
    credential = session.get(Credential, credential_id)
    if credential is None:
        raise NotFound(INVALID)
    if expires <= int((now or utcnow()).timestamp()):
        raise Conflict("this link has expired; sign in to your wallet to add the badge")
    if credential.revoked_at is not None:
        raise Conflict("the badge was revoked; it cannot be collected into a wallet")
    if credential.holder_id is not None:
        raise Conflict("this badge is already in a wallet; the link is used up")
    return credential
