"""Post-commit effects: work that follows a change but must not be part of it.

A programme award after an issuance, an email after an award, a webhook: each may fail (a
dependency down, a bug) and must not undo — or be silently lost with — the change it follows.
So the change's unit of work records the effect (``emit``) in the same transaction; after the
commit it is run (``issuer.effects.run_due``), in its own transaction, and retried with back-off
until it succeeds. Pending and failed effects are in the ``pending_effect`` table, listed by
``laurel effects list`` and re-run by ``laurel effects run``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from issuer.core.db import copy_rows
from issuer.models import PendingEffect
from issuer.models.base import table_of, utcnow

PROGRAM_AWARDS = "programs.award"
"""A learner gained a credential that counts towards a programme: award what it completed.
Payload: ``{"issuer": slug, "learner": learner id}``."""

PROGRAM_RECHECK = "programs.recheck"
"""A credential that may count towards a programme was revoked: revoke the learner's awards of
programmes that are no longer complete without it (``issuer.programs.awards.recheck``).
Payload: ``{"credential": uuid}`` (a credential issued here) or ``{"issuer": home slug,
"learner": learner id, "shared": credential ref, "name": achievement name}`` (one shared with an
organisation, found revoked by its issuer)."""

ORG_HOURS = "orgs.hours"
"""Badges that add learning hours were issued to a learner on an organisation's roster: issue
the organisation's annual badge for each year they now meet (``issuer.orgs.hours``).
Payload: ``{"issuer": issuer id, "learner": learner id, "years": [year, …]}``."""

OB_PUSH = "obclient.push"
"""Push one badge to an OB 3.0 API host the learner connected (``upsertCredential``).
Payload: ``{"push": ob_push id}``."""

OB_DELIVER = "obclient.deliver"
"""Badges were just issued to a learner who consented to receive new badges at an OB 3.0 API
host: queue a push of each to each such host.
Payload: ``{"learner": id, "credentials": [uuid, …]}``."""

NOTIFY_MAIL = "notify.mail"
"""Tell a learner by email about badges just issued to them, or one revoked (``notify.emails``).
Payload: ``{"issuer": id, "learner": id, "event": "issued" | "revoked",
"credentials": [uuid, …]}``."""

WEBHOOK_EVENT = "webhooks.event"
"""Record events for an issuer's webhook endpoints and queue their deliveries
(``notify.deliveries``). Payload: ``{"issuer": id, "type": "credential.issued" |
"credential.revoked", "credentials": [uuid, …]}`` or ``{"issuer": id, "type":
"program.completed", "program": id, "name": …, "learner": id, "credential": uuid}``."""

WEBHOOK_DELIVER = "webhooks.deliver"
"""Send one webhook delivery (``notify.deliveries``). Payload: ``{"delivery": id, "attempt": n}``
(a stale ``attempt`` — the delivery moved on meanwhile — is dropped)."""

XAPI_SEND = "xapi.send"
"""Report badges awarded or revoked to the issuer's Learning Record Store (``notify.lrs``).
Payload: ``{"issuer": id, "event": "earned" | "voided", "credentials": [uuid, …]}`` (at most
100)."""

MAX_BACKOFF = timedelta(hours=6)

LEASE = timedelta(minutes=5)
"""How long a worker holds an effect that calls another host (and the row it sends for: a
webhook delivery, a push) while no transaction is open: longer than the calls can take (each at
most 10 s, a push at most four, an email 15 s). A worker that dies holding one leaves it to
another worker when the lease ends."""

Record = Callable[[Session], None]
"""Records a call's outcome, in the unit of work that marks the effect done."""
Send = Callable[[], Record]
"""Makes the call to the other host, with no transaction open; returns what records it."""

EMITTED = "laurel.effects"
"""``Session.info`` key: whether this unit of work emitted effects (to run after commit)."""


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 30 s doubling, at most 6 h."""
    return min(MAX_BACKOFF, timedelta(seconds=30 * 2 ** max(0, attempts - 1)))


def emit(
    session: Session, kind: str, payload: dict[str, Any], *, run_after: datetime | None = None
) -> None:
    """Record an effect to run once ``session``'s transaction commits (not before
    ``run_after``, when given)."""
    effect = PendingEffect(kind=kind, payload=payload)
    if run_after is not None:
        effect.run_after = run_after
    session.add(effect)
    session.info[EMITTED] = True


def emit_many(
    session: Session,
    kind: str,
    payloads: Sequence[dict[str, Any]],
    *,
    run_after: datetime | None = None,
) -> None:
    """Record one effect of ``kind`` per payload, as ``emit`` does, in one statement: a bulk
    issuance records an email per learner, and a thousand ORM objects flushed one by one cost a
    quarter of a step's time on PostgreSQL."""
    if not payloads:
        return
    now = utcnow()
    due = run_after or now
    rows = [
        {"kind": kind, "payload": p, "created_at": now, "run_after": due, "attempts": 0}
        for p in payloads
    ]
    table = table_of(PendingEffect)
    if not copy_rows(session, table, rows):
        session.execute(insert(table), rows)
    session.info[EMITTED] = True


def emitted(session: Session) -> bool:
    return bool(session.info.get(EMITTED))
