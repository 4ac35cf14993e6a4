"""Sending webhooks: the ``webhooks.event`` effect records each event once and a delivery per
endpoint that wants it; the ``webhooks.deliver`` effect sends one delivery, records the attempt,
and schedules the next one on failure (``SCHEDULE``: about 28 hours in all).

Exactly-once towards a receiver that acknowledges: an attempt is made only while its ``attempt``
number matches the effect's, and the delivery is leased for it (``lease_until``, one conditional
UPDATE in a short transaction) before the receiver is called with no transaction open — a replay
and a scheduled retry cannot both send it; a 2xx is recorded as ``delivered`` in the same commit
that ends the effect — after that nothing sends it again. Should the process die between the
receiver's 2xx and that commit, the effect runs again when its lease ends, with the same
``webhook-id``, which receivers use to drop the repeat (docs/api.md, "Webhooks")."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import effects, metrics
from issuer.core.errors import HostFailed
from issuer.crypto.sealing import Unsealable, unseal
from issuer.issuing import credentials as issued
from issuer.issuing.notices import PROGRAM_COMPLETED
from issuer.models import (
    Achievement,
    Credential,
    Issuer,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from issuer.models.base import utcnow
from issuer.notify import signing
from issuer.notify.webhooks import SECRET_LABEL
from issuer.obclient.transport import call

log = logging.getLogger("laurel.webhooks")
SCHEDULE = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=12),
)
"""The wait after each failed attempt: the first is immediate, the tenth and last about 27 h 43 min
after it; then the delivery is ``failed`` (replay sends it again)."""
SNIPPET = 500


def record(session: Session, services: Services, payload: dict[str, Any]) -> None:
    """The ``webhooks.event`` effect."""
    issuer = session.get(Issuer, int(payload["issuer"]))
    kind = str(payload["type"])
    if issuer is None or issuer.id is None:
        return
    targets = [
        e
        for e in session.exec(
            select(WebhookEndpoint).where(
                WebhookEndpoint.issuer_id == issuer.id, col(WebhookEndpoint.removed_at).is_(None)
            )
        )
        if kind in e.events
    ]
    if not targets:
        return
    bodies = _bodies(session, services, issuer, kind, payload)
    known = set(
        session.exec(
            select(WebhookEvent.subject).where(
                WebhookEvent.issuer_id == issuer.id, col(WebhookEvent.subject).in_(list(bodies))
            )
        )
    )
    for subject, data in bodies.items():
        if subject not in known:
            _event(session, issuer.id, kind, subject, data, targets)


def _event(
    session: Session,
    issuer_id: int,
    kind: str,
    subject: str,
    data: dict[str, Any],
    targets: list[WebhookEndpoint],
) -> None:
    now = utcnow()
    body = {"type": kind, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
    event = WebhookEvent(
        id=f"msg_{uuid.uuid4().hex}",
        issuer_id=issuer_id,
        type=kind,
        subject=subject,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
    )
    session.add(event)
    session.flush()  # before its deliveries, which refer to it
    for target in targets:
        assert target.id is not None
        delivery = WebhookDelivery(endpoint_id=target.id, event_id=event.id, next_attempt_at=now)
        session.add(delivery)
        session.flush()
        effects.emit(session, effects.WEBHOOK_DELIVER, {"delivery": delivery.id, "attempt": 0})


def _bodies(
    session: Session, services: Services, issuer: Issuer, kind: str, payload: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each event's subject and ``data`` (the recipient as this issuer knows them:
    ``issued.Recipient``)."""
    assert issuer.id is not None
    if kind == PROGRAM_COMPLETED:
        learner = int(payload["learner"])
        badge = session.get(Credential, str(payload["credential"]))
        mine = [badge] if badge is not None and badge.issuer_id == issuer.id else []
        holder = issued.recipient(session, issuer.id, learner, mine)
        subject = f"{kind}:{payload['program']}:{learner}"
        return {
            subject: {
                "issuer": issuer.slug,
                "program": {"id": payload["program"], "name": payload["name"]},
                "recipient": holder.public(),
                "credential": {
                    "id": f"urn:uuid:{payload['credential']}",
                    "verifyUrl": f"{services.settings.base_url}/v/{payload['credential']}",
                },
            }
        }
    rows = list(
        session.exec(
            select(Credential, Achievement.key)
            .join(Achievement, col(Achievement.id) == col(Credential.achievement_id))
            .where(
                col(Credential.id).in_([str(c) for c in payload["credentials"]]),
                Credential.issuer_id == issuer.id,
            )
        )
    )
    holders = issued.recipients(session, issuer.id, (c for c, _ in rows))
    base = services.settings.base_url
    found = {}
    for credential, key in rows:
        summary = issued.summary(credential, holders[credential.id], base)
        summary["achievement"] = {"key": key, "name": summary["achievement"]}
        summary["issuedAt"] = credential.issued_at.isoformat()
        found[f"{kind}:{credential.id}"] = {"issuer": issuer.slug, "credential": summary}
    return found


def prepare(
    session: Session, services: Services, payload: dict[str, Any], until: datetime
) -> effects.Send | None:
    """The ``webhooks.deliver`` effect: one attempt, if the delivery still waits for it and no
    other worker is making it; the delivery is leased until ``until`` for the call."""
    delivery = session.get(WebhookDelivery, int(payload["delivery"]))
    attempt = int(payload.get("attempt", 0))
    if delivery is None or delivery.state != "pending" or delivery.attempts != attempt:
        return None  # acknowledged, given up, or a replay or a retry made this attempt already
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    event = session.get(WebhookEvent, delivery.event_id)
    assert endpoint is not None and event is not None
    if endpoint.removed_at is not None:
        delivery.state, delivery.next_attempt_at = "failed", None
        delivery.last_error = "the endpoint was removed"
        session.add(delivery)
        return None
    now = utcnow()
    leased = session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery.id,
            col(WebhookDelivery.state) == "pending",
            col(WebhookDelivery.attempts) == attempt,
            or_(
                col(WebhookDelivery.lease_until).is_(None),
                col(WebhookDelivery.lease_until) <= now,
            ),
        )
        .values(lease_until=until)
    )
    if not leased.rowcount:  # type: ignore[attr-defined]  # a CursorResult's count
        return None  # another worker is making this attempt
    assert delivery.id is not None
    delivery_id, url, sealed = delivery.id, endpoint.url, endpoint.secret
    event_id, body = event.id, event.body

    def send() -> effects.Record:
        status, snippet, error = _send(services, url, sealed, event_id, body)
        return lambda session: _record(session, delivery_id, attempt, status, snippet, error)

    return send


def _record(
    session: Session,
    delivery_id: int,
    attempt: int,
    status: int | None,
    snippet: str | None,
    error: str | None,
) -> None:
    query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    delivery = session.exec(query.with_for_update()).first()
    if delivery is None or delivery.attempts != attempt:
        return
    event = session.get(WebhookEvent, delivery.event_id)
    assert event is not None
    session.add(
        WebhookAttempt(delivery_id=delivery_id, status=status, response=snippet, error=error)
    )
    delivery.attempts += 1
    delivery.last_status, delivery.last_error, delivery.lease_until = status, error, None
    if status is not None and 200 <= status < 300:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = (
            "delivered",
            utcnow(),
            None,
        )
    else:
        _failed(session, delivery, event)
    session.add(delivery)


def _send(
    services: Services, url: str, sealed: str, event_id: str, text: str
) -> tuple[int | None, str | None, str | None]:
    """(status, the answer's first bytes, why it failed)."""
    body = text.encode("utf-8")
    try:
        secret = unseal(services.settings.key_passphrase, SECRET_LABEL, sealed)
    except Unsealable:
        return None, None, "Laurel can no longer read this endpoint's secret: add it again"
    timestamp = int(utcnow().timestamp())
    headers = signing.headers(secret, event_id, timestamp, body)
    try:
        response = call(services, "POST", url, headers=headers, content=body)
    except HostFailed as exc:
        return None, None, exc.detail[:1000]
    snippet = response.text[:SNIPPET] or None
    if 200 <= response.status_code < 300:
        return response.status_code, snippet, None
    return response.status_code, snippet, f"HTTP {response.status_code}"


def _failed(session: Session, delivery: WebhookDelivery, event: WebhookEvent) -> None:
    if delivery.attempts <= len(SCHEDULE):
        delivery.next_attempt_at = utcnow() + SCHEDULE[delivery.attempts - 1]
        effects.emit(
            session,
            effects.WEBHOOK_DELIVER,
            {"delivery": delivery.id, "attempt": delivery.attempts},
            run_after=delivery.next_attempt_at,
        )
    else:
        delivery.state, delivery.next_attempt_at = "failed", None
    metrics.WEBHOOK_FAILURES.labels("yes" if delivery.next_attempt_at else "no").inc()
    log.warning(
        "webhook %s (delivery %s) failed, attempt %s: %s",
        event.id,
        delivery.id,
        delivery.attempts,
        delivery.last_error,
    )
