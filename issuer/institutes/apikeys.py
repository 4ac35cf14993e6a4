"""API keys: ``lrl_<prefix>_<secret>``, shown once, stored as a SHA-256 hash, scoped to one
issuer. Lookups go by the prefix; the hash comparison is constant-time."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from issuer.core import audit
from issuer.core.db import unit_of_work
from issuer.core.errors import BadRequest, NotFound, Unauthorized
from issuer.institutes.issuers import get_issuer
from issuer.models import ApiKey, Issuer
from issuer.models.apikey import SCOPES
from issuer.models.base import utcnow

log = logging.getLogger("laurel.apikeys")
LAST_USE_PRECISION = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per key (a busy key costs no write each time)."""


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


def note_use(engine: Engine, key: ApiKey) -> None:
    """Set ``last_used_at`` if it is unset or older than ``LAST_USE_PRECISION``. Run after the
    request's response (``issuer.http.deps.api_key``, a background task), in a short write
    transaction of its own: most requests only read. A conditional UPDATE, so concurrent
    requests write it once; a failure only loses this one time."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USE_PRECISION:
        return
    try:
        with unit_of_work(engine) as session:
            session.execute(
                update(ApiKey)
                .where(
                    col(ApiKey.id) == key.id,
                    or_(
                        col(ApiKey.last_used_at).is_(None),
                        col(ApiKey.last_used_at) < now - LAST_USE_PRECISION,
                    ),
                )
                .values(last_used_at=now)
            )
    except SQLAlchemyError as exc:
        log.warning("the last use of API key %s was not recorded: %s", key.id, exc)


def list_api_keys(session: Session, issuer: Issuer) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.issuer_id == issuer.id)
    return list(session.exec(query.order_by(col(ApiKey.created_at).desc(), col(ApiKey.id))))


def revoke_api_key(session: Session, issuer: Issuer, key_id: int, actor: str) -> ApiKey:
    """Revoke one of ``issuer``'s keys (404 for another issuer's)."""
    key = session.get(ApiKey, key_id)
    if key is None or key.issuer_id != issuer.id:
        raise NotFound("there is no such API key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        audit.append(session, actor, "apikey.revoke", f"apikey:{key.prefix}")
    return key
