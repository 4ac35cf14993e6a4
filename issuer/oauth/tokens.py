"""Using what the authorization server issued: checking a bearer access token for a scope
(RFC 6750), and the applications a learner has connected, which the learner can disconnect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import scope_to_list
from sqlalchemy import delete, update
from sqlmodel import Session, col, or_, select

from issuer.core.errors import InsufficientScope, InvalidToken, NotFound
from issuer.models import Learner, OAuthClient, OAuthCode, OAuthToken
from issuer.models.base import utcnow
from issuer.oauth.clients import digest

TOUCH_EVERY = timedelta(minutes=1)
"""How stale a token's ``last_used_at`` may get before a use writes it again."""


@dataclass(frozen=True)
class Access:
    """Who an access token speaks for, and what it may do."""

    learner: Learner
    scopes: frozenset[str]
    client_id: str
    token_id: int


def authenticate(session: Session, authorization: str | None, scope: str) -> Access:
    """The learner and granted scopes of the bearer token in the ``Authorization`` header, if it
    is live and grants ``scope``. ``InvalidToken`` (401) when it is missing, unknown, expired or
    revoked; ``InsufficientScope`` (403) when it lacks ``scope``. Records the use (at most once
    a minute), so callers give it a write transaction."""
    scheme, _, value = (authorization or "").partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise InvalidToken("an OAuth access token is required (Authorization: Bearer …)")
    now = utcnow()
    row = session.exec(
        select(OAuthToken).where(
            OAuthToken.access_hash == digest(token),
            col(OAuthToken.revoked_at).is_(None),
            col(OAuthToken.expires_at) > now,
        )
    ).first()
    learner = None if row is None else session.get(Learner, row.learner_id)
    client = None if row is None else session.get(OAuthClient, row.client_id)
    if row is None or learner is None or learner.deleted_at is not None or client is None:
        raise InvalidToken("the access token is unknown, expired or revoked")
    granted = frozenset(scope_to_list(row.scope))
    if scope not in granted:
        raise InsufficientScope(scope)
    if row.last_used_at is None or row.last_used_at < now - TOUCH_EVERY:
        session.execute(
            update(OAuthToken).where(col(OAuthToken.id) == row.id).values(last_used_at=now)
        )
    assert row.id is not None
    return Access(learner, granted, client.client_id, row.id)


@dataclass(frozen=True)
class Connection:
    """An application with live tokens for a learner."""

    client_id: str
    name: str
    client_uri: str | None
    scopes: tuple[str, ...]
    connected_at: datetime
    last_used_at: datetime


def _live(now: datetime) -> tuple[Any, ...]:
    return (
        col(OAuthToken.revoked_at).is_(None),
        or_(col(OAuthToken.expires_at) > now, col(OAuthToken.refresh_expires_at) > now),
    )


def connections(session: Session, learner_id: int) -> list[Connection]:
    """The learner's connected applications, the most recently used first."""
    now = utcnow()
    rows = session.exec(
        select(OAuthToken, OAuthClient)
        .join(OAuthClient, col(OAuthClient.id) == col(OAuthToken.client_id))
        .where(OAuthToken.learner_id == learner_id, *_live(now))
    ).all()
    found: dict[str, Connection] = {}
    for token, client in rows:
        used = max(token.issued_at, token.last_used_at or token.issued_at)
        seen = found.get(client.client_id)
        scopes = tuple(scope_to_list(token.scope))
        if seen is not None:
            scopes = tuple(dict.fromkeys((*seen.scopes, *scopes)))
            used = max(used, seen.last_used_at)
        found[client.client_id] = Connection(
            client.client_id,
            str(client.registered.get("client_name", client.client_id)),
            client.registered.get("client_uri"),
            scopes,
            min(token.issued_at, seen.connected_at) if seen else token.issued_at,
            used,
        )
    return sorted(found.values(), key=lambda c: c.last_used_at, reverse=True)


def disconnect(session: Session, learner_id: int, client_id: str) -> None:
    """Revoke every token the application ``client_id`` holds for the learner."""
    client = session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()
    if client is None:
        raise NotFound("there is no such application")
    session.execute(
        update(OAuthToken)
        .where(
            col(OAuthToken.learner_id) == learner_id,
            col(OAuthToken.client_id) == client.id,
            col(OAuthToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )


def purge(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete tokens revoked or expired more than ``older_than`` ago whose refresh token (if
    any) has expired that long ago too, then codes expired that long ago that no remaining token
    came from; returns how many rows went. A rotated refresh token is kept until it would have
    expired: presented again (a thief refreshed first), it is still recognised and ends the
    whole authorization (RFC 9700 §4.14.2), however long after the rotation the rightful client
    comes back (audit round 8). A replay of a purged code or refresh token is simply unknown."""
    cutoff = utcnow() - older_than
    refresh_gone = or_(
        col(OAuthToken.refresh_expires_at).is_(None), col(OAuthToken.refresh_expires_at) < cutoff
    )
    tokens = session.execute(
        delete(OAuthToken).where(
            refresh_gone,
            or_(col(OAuthToken.revoked_at) < cutoff, col(OAuthToken.expires_at) < cutoff),
        )
    )
    still_used = select(OAuthToken.code_id).where(col(OAuthToken.code_id).is_not(None))
    codes = session.execute(
        delete(OAuthCode).where(
            col(OAuthCode.expires_at) < cutoff, col(OAuthCode.id).not_in(still_used)
        )
    )
    return int(tokens.rowcount + codes.rowcount)  # type: ignore[attr-defined]  # CursorResults
