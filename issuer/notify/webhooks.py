"""An issuer's webhook endpoints: add (the secret is shown once), list, remove; each one's
delivery log, and replaying a delivery that was not acknowledged.

A receiver URL is checked as every URL Laurel calls (``obclient.transport.check_url``): ``https``
(loopback ``http`` only while Laurel itself runs on loopback ``http``), and a literal private or
special-purpose address is refused at once; a name that resolves to one is refused when sending
(the guarded transport), and the delivery log says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import effects
from issuer.core.errors import BadRequest, Conflict, HostFailed, NotFound
from issuer.crypto.sealing import seal
from issuer.issuing.notices import EVENTS
from issuer.models import (
    Issuer,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from issuer.models.base import utcnow
from issuer.notify.signing import new_secret
from issuer.obclient.transport import check_url
from verifier.addresses import public_only, public_or_loopback
from verifier.transport import Refused, check_literal

SECRET_LABEL = "webhook_endpoint.secret"
MAX_ENDPOINTS = 20


def _receiver(services: Services, url: str) -> str:
    try:
        check_url(services, url, "the webhook URL")
        loopback = url.startswith("http://")
        check_literal(httpx.URL(url).host, public_or_loopback if loopback else public_only)
    except HostFailed as exc:
        raise BadRequest(exc.detail) from None
    except (Refused, httpx.InvalidURL) as exc:
        raise BadRequest(f"Laurel does not send webhooks to this address: {exc}") from None
    return url


def _events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise BadRequest(f"events are some of {', '.join(EVENTS)} (not {', '.join(unknown)})")
    return sorted(set(events))


def add(
    session: Session,
    services: Services,
    issuer: Issuer,
    url: str,
    events: list[str],
    description: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (shown this once; stored sealed)."""
    assert issuer.id is not None
    if len(endpoints(session, issuer.id)) >= MAX_ENDPOINTS:
        raise Conflict(f"an issuer has at most {MAX_ENDPOINTS} webhook endpoints")
    secret = new_secret()
    endpoint = WebhookEndpoint(
        issuer_id=issuer.id,
        url=_receiver(services, url),
        events=_events(events),
        secret=seal(services.settings.key_passphrase, SECRET_LABEL, secret),
        description=description,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def endpoints(session: Session, issuer_id: int) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.issuer_id == issuer_id, col(WebhookEndpoint.removed_at).is_(None)
    )
    return list(session.exec(query.order_by(col(WebhookEndpoint.id))))


def endpoint(session: Session, issuer_id: int, endpoint_id: int) -> WebhookEndpoint:
    found = session.get(WebhookEndpoint, endpoint_id)
    if found is None or found.issuer_id != issuer_id or found.removed_at is not None:
        raise NotFound(f"there is no webhook endpoint {endpoint_id}")
    return found


def remove(session: Session, issuer_id: int, endpoint_id: int) -> None:
    """Stop sending to the endpoint (its log stays; deliveries not yet made are dropped)."""
    found = endpoint(session, issuer_id, endpoint_id)
    found.removed_at = utcnow()
    session.add(found)


def public(row: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "events": row.events,
        "description": row.description,
        "createdAt": row.created_at.isoformat(),
    }


@dataclass(frozen=True)
class Logged:
    delivery: WebhookDelivery
    event: WebhookEvent
    attempts: list[WebhookAttempt]

    def public(self) -> dict[str, Any]:
        d = self.delivery
        return {
            "id": d.id,
            "eventId": self.event.id,
            "type": self.event.type,
            "state": d.state,
            "attempts": d.attempts,
            "lastStatus": d.last_status,
            "lastError": d.last_error,
            "nextAttemptAt": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
            "deliveredAt": d.delivered_at.isoformat() if d.delivered_at else None,
            "createdAt": d.created_at.isoformat(),
            "log": [
                {"at": a.at.isoformat(), "status": a.status, "response": a.response}
                | ({"error": a.error} if a.error else {})
                for a in self.attempts
            ],
        }


def deliveries(session: Session, issuer_id: int, endpoint_id: int, limit: int = 50) -> list[Logged]:
    """The endpoint's deliveries, newest first, each with its attempts."""
    endpoint(session, issuer_id, endpoint_id)
    rows = session.exec(
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(limit)
    ).all()
    ids = [d.id for d, _ in rows]
    tried: dict[int, list[WebhookAttempt]] = {}
    for attempt in session.exec(
        select(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id).in_(ids))
        .order_by(col(WebhookAttempt.id))
    ):
        tried.setdefault(attempt.delivery_id, []).append(attempt)
    return [Logged(d, e, tried.get(d.id or 0, [])) for d, e in rows]


def replay(session: Session, issuer_id: int, endpoint_id: int, delivery_id: int) -> Logged:
    """Send a delivery again now (failed, given up, or waiting for its next attempt), with the
    same ``webhook-id``. One the receiver acknowledged is never sent again (409)."""
    endpoint(session, issuer_id, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    delivery = session.exec(query.with_for_update()).first()
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound(f"there is no delivery {delivery_id}")
    if delivery.state == "delivered":
        raise Conflict("the receiver acknowledged this delivery: it is not sent again")
    delivery.state, delivery.next_attempt_at = "pending", utcnow()
    session.add(delivery)
    effects.emit(
        session, effects.WEBHOOK_DELIVER, {"delivery": delivery.id, "attempt": delivery.attempts}
    )
    event = session.get(WebhookEvent, delivery.event_id)
    assert event is not None
    return Logged(delivery, event, [])
