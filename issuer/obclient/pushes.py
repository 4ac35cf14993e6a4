"""Pushing a learner's badge to a connected host with ``upsertCredential``
(``POST {host}/credentials``): a badge issued here goes as its stored signed JSON document, an
imported one as its original (JSON, or a compact JWS as ``text/plain``).

A push is a row (``ObPush``: queued, sent or failed) whose sending is a post-commit effect
(``core.effects.OB_PUSH``): the learner's request only queues it. The effect leases the push
(``lease_until``) and reads what it needs in a short unit of work, calls the host with no
transaction open, and records the outcome in another. It refreshes the access token when it has
expired or the host answers 401, and records a failure on the row — with the host's answer, and
when it is tried again — instead of raising, so that a rotated refresh token is kept even when
the push itself fails. A failure that may pass (the host down,
busy, or failing) is retried with the effects' back-off up to ``MAX_ATTEMPTS`` times; one that
will not (the host refuses the badge) is not."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import effects, metrics
from issuer.core.errors import BadRequest, HostFailed, NotFound
from issuer.crypto.sealing import Unsealable
from issuer.models import Credential, ImportedCredential, ObConnection, ObHost, ObPush
from issuer.models.base import utcnow
from issuer.obclient.connections import Tokens, connected, mine, tokens_of
from issuer.obclient.transport import call
from issuer.wallet import badges
from issuer.wallet.imports import MEDIA_TYPES

log = logging.getLogger("laurel.obclient")
MAX_ATTEMPTS = 6
RETRIED = frozenset({401, 408, 425, 429})
"""4xx answers that may pass (a 401 after a refresh means the token itself failed again)."""


def _body(row: Credential | ImportedCredential) -> tuple[bytes, str]:
    if isinstance(row, Credential):
        return json.dumps(row.document, ensure_ascii=False).encode("utf-8"), "application/json"
    if row.legacy or row.media_type not in (MEDIA_TYPES["json"], MEDIA_TYPES["jwt"]):
        raise BadRequest("Only Open Badges 3.0 credentials (JSON or VC-JWT) can be sent to a host.")
    if row.media_type == MEDIA_TYPES["jwt"]:
        return row.original.strip(), "text/plain"
    return row.original, "application/json"


def queue(
    session: Session, services: Services, learner_id: int, connection_id: int, ref: str
) -> ObPush:
    """Queue sending the learner's badge ``ref`` to their connected host ``connection_id``."""
    mine(session, learner_id, connection_id)  # connected, and the learner's
    row = badges.find(session, learner_id, ref)
    _body(row)  # refuse now what could never be sent
    name = str(row.document.get("name") or "Badge") if isinstance(row, Credential) else row.name
    push = ObPush(
        learner_id=learner_id,
        connection_id=connection_id,
        badge_ref=ref,
        badge_name=name[:500],
    )
    session.add(push)
    session.flush()
    effects.emit(session, effects.OB_PUSH, {"push": push.id})
    return push


def deliver(session: Session, services: Services, payload: dict[str, Any]) -> None:
    """The ``OB_DELIVER`` effect: queue a push of each newly issued badge to each host the
    learner consented to receive new badges at. Idempotent: a badge already queued for a host is
    not queued again; a badge revoked meanwhile is not sent."""
    learner_id = int(payload["learner"])
    wanted = [str(c) for c in payload["credentials"]]
    live = {
        c.id
        for c in session.exec(
            select(Credential).where(
                col(Credential.id).in_(wanted),
                Credential.learner_id == learner_id,
                col(Credential.revoked_at).is_(None),
            )
        )
    }
    for connection, _host in connected(session, learner_id):
        if not connection.send_new:
            continue
        queued = set(
            session.exec(select(ObPush.badge_ref).where(ObPush.connection_id == connection.id))
        )
        for credential_id in wanted:
            ref = f"c-{credential_id}"
            if credential_id in live and ref not in queued:
                assert connection.id is not None
                queue(session, services, learner_id, connection.id, ref)


def retry(session: Session, learner_id: int, push_id: int) -> ObPush:
    """Try a failed push again now (the learner fixed the cause, or does not want to wait)."""
    push = session.get(ObPush, push_id)
    if push is None or push.learner_id != learner_id:
        raise BadRequest("there is no such push")
    if push.state != "failed":
        raise BadRequest("only a failed push can be tried again")
    push.state, push.next_attempt_at, push.attempts = "queued", None, 0
    session.add(push)
    effects.emit(session, effects.OB_PUSH, {"push": push.id})
    return push


def prepare(
    session: Session, services: Services, payload: dict[str, Any], until: datetime
) -> effects.Send | None:
    """The ``OB_PUSH`` effect: lease the push until ``until`` and read what sending it needs;
    the returned call sends it once and records what happened."""
    push = session.get(ObPush, int(payload["push"]))
    if push is None or (push.state != "queued" and push.next_attempt_at is None):
        return None  # sent, given up, or disconnected meanwhile
    if not _lease(session, push, until):
        return None  # another worker is sending it
    connection = session.get(ObConnection, push.connection_id)
    assert connection is not None
    host = session.get(ObHost, connection.host_id)
    assert host is not None
    try:
        row = badges.find(session, push.learner_id, push.badge_ref)
        body, media_type = _body(row)
    except NotFound:
        _failed(session, push, None, "the badge is no longer in the wallet", final=True)
        return None
    except BadRequest as exc:
        _failed(session, push, None, exc.detail, final=True)
        return None
    assert push.id is not None
    push_id, tokens = push.id, tokens_of(connection, host)

    def send() -> effects.Record:
        status, reason, final = _attempt(services, tokens, body, media_type)
        return lambda session: _record(session, push_id, tokens, status, reason, final)

    return send


def _lease(session: Session, push: ObPush, until: datetime) -> bool:
    leased = session.execute(
        update(ObPush)
        .where(
            col(ObPush.id) == push.id,
            or_(col(ObPush.lease_until).is_(None), col(ObPush.lease_until) <= utcnow()),
        )
        .values(lease_until=until)
    )
    return bool(leased.rowcount)  # type: ignore[attr-defined]  # a CursorResult's count


def _attempt(
    services: Services, tokens: Tokens, body: bytes, media_type: str
) -> tuple[int | None, str, bool]:
    """(status, reason, final) of one push: no database, the host only."""
    try:
        status, reason = _send(services, tokens, body, media_type)
    except HostFailed as exc:
        return None, exc.detail, False
    except Unsealable:
        return None, "Laurel can no longer read its tokens for this host: connect it again", True
    return status, reason, False


def _record(
    session: Session, push_id: int, tokens: Tokens, status: int | None, reason: str, final: bool
) -> None:
    push = session.get(ObPush, push_id)
    if push is None:
        return  # disconnected meanwhile: the push is gone with the connection
    connection = session.get(ObConnection, push.connection_id)
    if connection is not None:
        tokens.store(connection)
        session.add(connection)
    push.lease_until = None
    if status in (200, 201):
        push.state, push.sent_at, push.last_status = "sent", utcnow(), status
        push.last_error = push.next_attempt_at = None
    else:
        _failed(session, push, status, reason, final=final)
    session.add(push)


def _send(services: Services, tokens: Tokens, body: bytes, media_type: str) -> tuple[int, str]:
    url = tokens.api_base + "/credentials"
    response = None
    for refresh in (False, True):
        token = tokens.access(services, refresh=refresh)
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": media_type,
            "Accept": "application/json, text/plain",
        }
        response = call(services, "POST", url, headers=headers, content=body)
        if response.status_code != 401:
            break
    assert response is not None
    return response.status_code, _reason(response.status_code, response.text)


def _reason(status: int, text: str) -> str:
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("imsx_description"), str):
        return f"HTTP {status}: {answer['imsx_description'][:500]}"
    return f"HTTP {status}" + (f": {text.strip()[:300]}" if status >= 400 and text.strip() else "")


def _failed(
    session: Session, push: ObPush, status: int | None, reason: str, *, final: bool
) -> None:
    push.state, push.last_status, push.last_error = "failed", status, reason[:2000]
    push.attempts, push.lease_until = push.attempts + 1, None
    passing = not final and (status is None or status >= 500 or status in RETRIED)
    if passing and push.attempts < MAX_ATTEMPTS:
        push.next_attempt_at = utcnow() + effects.backoff(push.attempts)
        effects.emit(session, effects.OB_PUSH, {"push": push.id}, run_after=push.next_attempt_at)
    else:
        push.next_attempt_at = None
    metrics.OB_PUSH_FAILURES.labels("yes" if push.next_attempt_at else "no").inc()
    log.warning("push %s to a badge host failed (attempt %s): %s", push.id, push.attempts, reason)


@dataclass(frozen=True)
class Listed:
    push: ObPush
    host_name: str


def listed(session: Session, learner_id: int, limit: int = 50) -> list[Listed]:
    """The learner's pushes, newest first, with their host's name."""
    query = (
        select(ObPush, ObHost.name)
        .join(ObConnection, col(ObConnection.id) == col(ObPush.connection_id))
        .join(ObHost, col(ObHost.id) == col(ObConnection.host_id))
        .where(ObPush.learner_id == learner_id)
        .order_by(col(ObPush.id).desc())
        .limit(limit)
    )
    return [Listed(push, name) for push, name in session.exec(query)]
