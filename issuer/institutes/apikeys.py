"""API keys: ``lrl_<prefix>_<secret>``, shown once, stored as a SHA-256 hash, scoped to one
issuer. Lookups go by the prefix; the hash comparison is constant-time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session, select

from issuer.core import audit
from issuer.core.errors import BadRequest, Unauthorized
from issuer.institutes.issuers import get_issuer
from issuer.models import ApiKey
from issuer.models.apikey import SCOPES


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_scopes(text: str) -> list[str]:
    scopes = [scope.strip() for scope in text.split(",") if scope.strip()]
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if not scopes or unknown:
        raise BadRequest(f"scopes are a comma-separated subset of {', '.join(SCOPES)}")
    return scopes


def create_api_key(
    session: Session, slug: str, scopes: list[str], name: str | None = None, actor: str = "cli"
) -> str:
    """A new key for issuer ``slug``; the only time its secret is visible."""
    prefix = secrets.token_hex(6)
    key = f"lrl_{prefix}_{secrets.token_urlsafe(32)}"
    issuer = get_issuer(session, slug)
    assert issuer.id is not None
    session.add(
        ApiKey(
            issuer_id=issuer.id,
            prefix=prefix,
            key_hash=_hash(key),
            scopes=",".join(scopes),
            name=name,
        )
    )
    audit.append(
        session, actor, "apikey.create", f"apikey:{prefix}", {"issuer": slug, "scopes": scopes}
    )
    return key


def authenticate(session: Session, authorization: str | None) -> ApiKey:
    """The API key in an ``Authorization: Bearer …`` header, or ``Unauthorized``."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("send an API key as 'Authorization: Bearer lrl_…'")
    key = authorization.removeprefix("Bearer ").strip()
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "lrl":
        raise Unauthorized("the API key is malformed")
    found = session.exec(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if (
        found is None
        or found.revoked_at is not None
        or not hmac.compare_digest(found.key_hash, _hash(key))
    ):
        raise Unauthorized("the API key is not valid")
    return found
