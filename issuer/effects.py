"""Running post-commit effects (``issuer.core.effects``): which handler does each kind, and the
loop that runs what is due, with back-off on failure.

Handlers are plain functions ``(session, services, payload) -> None`` that may emit effects in
turn. An effect is marked done in the same transaction as its handler's work, so it runs at least
once and, for handlers that are idempotent (every one here is), exactly once in effect.

An effect whose handler calls another host (``REMOTE``: a webhook, an OB host, an LRS, the mail
server) holds no transaction while it waits: a short unit of work leases the effect
(``lease_until``, and ``run_after`` with it, so no other worker takes it meanwhile) and reads what
the call needs; the call is made with nothing open; a second short unit of work records the
outcome and marks the effect done, if this worker still holds the lease. Such an effect runs at
least once (a worker that dies after the call leaves the effect to run again when its lease
ends), and never twice at once.

The kinds in ``LOCAL`` only write a few rows of their own (or, like email without a mail server,
do nothing at all); those that are due run together, many in one transaction marked done with
one statement. When one of them fails, that transaction is rolled back and the batch runs one
effect per transaction, so the failure is recorded alone and the others are done. A bulk upload
of 100,000 new learners leaves 100,000 email effects; a transaction each (claim, handler, done)
kept the effects runner busy long after the upload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import or_, text, update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import metrics
from issuer.core.db import unit_of_work
from issuer.core.effects import (
    LEASE,
    NOTIFY_MAIL,
    OB_DELIVER,
    OB_PUSH,
    WEBHOOK_DELIVER,
    WEBHOOK_EVENT,
    XAPI_SEND,
    Record,
    Send,
    backoff,
    emitted,
)
from issuer.models import PendingEffect
from issuer.models.base import utcnow
from issuer.notify import deliveries, emails, lrs
from issuer.obclient import pushes
from issuer.orgs import hours
from issuer.programs import awards

log = logging.getLogger("laurel.effects")
BATCH = 500
"""Local effects run in one transaction, at most."""
Handler = Callable[[Session, Services, dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {
    awards.EFFECT: awards.handle,
    awards.RECHECK: awards.recheck,
    hours.EFFECT: hours.handle,
    OB_DELIVER: pushes.deliver,
    NOTIFY_MAIL: emails.handle,
    WEBHOOK_EVENT: deliveries.record,
}
Remote = Callable[[Session, Services, dict[str, Any], datetime], Send | None]
REMOTE: dict[str, Remote] = {
    OB_PUSH: pushes.prepare,
    NOTIFY_MAIL: emails.prepare,
    WEBHOOK_DELIVER: deliveries.prepare,
    XAPI_SEND: lrs.prepare,
}
"""Kinds that call another host: ``(session, services, payload, lease_until)`` reads what the
call needs in a short unit of work (leasing its own row until ``lease_until``) and returns the
call, or None when there is nothing to send. ``NOTIFY_MAIL`` is in ``HANDLERS`` too, for the
batches of ``LOCAL`` when there is no mail server."""


LOCAL: dict[str, Callable[[Services], bool]] = {
    WEBHOOK_EVENT: lambda _services: True,  # records deliveries; WEBHOOK_DELIVER sends them
    NOTIFY_MAIL: emails.sends_nothing,
}
"""Kinds whose handlers only write a few rows of their own (for this configuration): run in
batches. Programme awards and hours stay one per transaction although they stay in the
database: they may issue a badge, which takes the status list's allocation lock, and 500 of them
in one transaction would hold it from every request for as long."""


def due(session: Session, limit: int = 100) -> list[tuple[int, str]]:
    """(id, kind) of effects due now, in the order they became due. The order follows the due
    index (done_at, run_after, id), so a long backlog is read from the index, not sorted."""
    query = (
        select(PendingEffect.id, PendingEffect.kind)
        .where(col(PendingEffect.done_at).is_(None), PendingEffect.run_after <= utcnow())
        .order_by(col(PendingEffect.run_after), col(PendingEffect.id))
        .limit(limit)
    )
    return [(i, kind) for i, kind in session.exec(query) if i is not None]


def run_one(services: Services, effect_id: int) -> bool:
    """Run one effect if it is still due; False when it failed (it is then retried later)."""
    try:
        leased = _begin(services, effect_id)
        if leased is not None:
            until, send = leased
            record = send()  # the other host, with no transaction open
            _finish(services, effect_id, until, record)
        return True
    except Exception as exc:  # recorded and retried, never swallowed
        log.exception("effect %s failed", effect_id)
        with unit_of_work(services.engine) as session:
            _record_failure(session, effect_id, exc)
        return False


def _begin(services: Services, effect_id: int) -> tuple[datetime, Send] | None:
    """Claim the effect and run it, when it stays in the database; when it calls another host,
    lease it and return the lease's end and the call."""
    with unit_of_work(services.engine) as session:
        effect = _claim(session, effect_id)
        if effect is None:
            return None  # done meanwhile, or another worker has it
        if effect.kind in REMOTE:
            until = _lease(session, effect)
            send = REMOTE[effect.kind](session, services, effect.payload, until)
            if send is not None:
                return until, send
        elif effect.kind in HANDLERS:
            HANDLERS[effect.kind](session, services, effect.payload)
        else:  # written by a newer version, or a typo: keep it, visibly
            raise LookupError(f"no handler for effects of kind {effect.kind!r}")
        effect.done_at, effect.lease_until = utcnow(), None
        session.add(effect)
    return None


def _lease(session: Session, effect: PendingEffect) -> datetime:
    """Hold ``effect`` past this unit of work: not due before the lease ends (``run_after``),
    and ``_claim`` skips it meanwhile."""
    until = utcnow() + LEASE
    effect.lease_until = effect.run_after = until
    session.add(effect)
    session.flush()
    return until


def _finish(services: Services, effect_id: int, until: datetime, record: Record) -> None:
    """Record a remote effect's outcome and mark it done, if this worker still holds it."""
    with unit_of_work(services.engine) as session:
        held = session.execute(
            update(PendingEffect)
            .where(
                col(PendingEffect.id) == effect_id,
                col(PendingEffect.lease_until) == until,
                col(PendingEffect.done_at).is_(None),
            )
            .values(done_at=utcnow(), lease_until=None)
        )
        if held.rowcount:  # type: ignore[attr-defined]  # a CursorResult's count
            record(session)
            return
    metrics.EFFECT_LEASES_LOST.inc()
    log.warning("effect %s outlived its lease: the worker that took it over records it", effect_id)


def _record_failure(session: Session, effect_id: int, exc: Exception) -> None:
    failed = session.get(PendingEffect, effect_id)
    if failed is not None:
        metrics.EFFECT_FAILURES.labels(failed.kind).inc()
        failed.attempts += 1
        failed.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        failed.run_after = utcnow() + backoff(failed.attempts)
        failed.lease_until = None
        session.add(failed)


def run_batch(services: Services, effect_ids: list[int]) -> list[bool]:
    """Run local effects (``LOCAL``) in one unit of work, marked done with one statement; one
    result per effect. Effects done meanwhile or held by another worker count as done. If any
    handler fails, the whole batch is rolled back and its effects run one by one
    (``run_one``): the failing one is recorded and retried later, the others are done."""
    try:
        with unit_of_work(services.engine) as session:
            claimed = _claim_many(session, effect_ids)
            for effect_id in effect_ids:
                effect = claimed.get(effect_id)
                if effect is not None:
                    HANDLERS[effect.kind](session, services, effect.payload)
            if claimed:
                session.execute(
                    update(PendingEffect)
                    .where(col(PendingEffect.id).in_(sorted(claimed)))
                    .values(done_at=utcnow())
                )
        return [True] * len(effect_ids)
    except Exception:
        log.warning("a batch of %d effects failed; running them one by one", len(effect_ids))
        return [run_one(services, effect_id) for effect_id in effect_ids]


def _claim_many(session: Session, effect_ids: list[int]) -> dict[int, PendingEffect]:
    """The effects not done yet that no other worker holds, locked for this unit of work
    (PostgreSQL: SKIP LOCKED, so two workers never run the same one; SQLite: the write
    transaction is exclusive already), and not leased by a worker calling another host."""
    if not effect_ids:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        locked = session.execute(
            text(
                "SELECT id FROM pending_effect WHERE id = ANY(:ids) AND done_at IS NULL "
                "AND (lease_until IS NULL OR lease_until <= :now) FOR UPDATE SKIP LOCKED"
            ),
            {"ids": effect_ids, "now": utcnow()},
        )
        effect_ids = [row[0] for row in locked]
    query = select(PendingEffect).where(
        col(PendingEffect.id).in_(effect_ids),
        col(PendingEffect.done_at).is_(None),
        _unleased(),
    )
    return {effect.id: effect for effect in session.exec(query) if effect.id is not None}


def _unleased() -> Any:
    return or_(col(PendingEffect.lease_until).is_(None), col(PendingEffect.lease_until) <= utcnow())


def _claim(session: Session, effect_id: int) -> PendingEffect | None:
    """The effect, as ``_claim_many`` claims it, or None."""
    return _claim_many(session, [effect_id]).get(effect_id)


def run_due(services: Services, limit: int = 100) -> tuple[int, int]:
    """Run the effects that are due (new ones after a commit, failed ones whose back-off has
    passed); returns (done, failed). Effects a handler emits run in the same call."""
    done = failed = 0
    for _ in range(10):  # awards can complete further programmes: a few rounds at most
        with unit_of_work(services.engine, write=False) as session:
            found = due(session, max(limit, BATCH))
        if not found:
            break
        local: list[int] = []
        others: list[int] = []
        for effect_id, kind in found:
            batched = kind in LOCAL and LOCAL[kind](services)
            (local if batched else others).append(effect_id)
        results: list[bool] = []
        for start in range(0, len(local), BATCH):
            results += run_batch(services, local[start : start + BATCH])
        results += [run_one(services, effect_id) for effect_id in others[:limit]]
        done += sum(results)
        failed += len(results) - sum(results)
        if not any(results):
            break
    return done, failed


def retry_now(services: Services) -> int:
    """Make every failed effect due now (an operator fixed the cause); returns how many."""
    with unit_of_work(services.engine) as session:
        result = session.execute(
            update(PendingEffect)
            .where(
                col(PendingEffect.done_at).is_(None), col(PendingEffect.attempts) > 0, _unleased()
            )
            .values(run_after=utcnow())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult's count


def pending(session: Session, limit: int = 100) -> list[PendingEffect]:
    """Effects not done yet, oldest first (with their attempts and last error)."""
    query = (
        select(PendingEffect)
        .where(col(PendingEffect.done_at).is_(None))
        .order_by(col(PendingEffect.id))
        .limit(limit)
    )
    return list(session.exec(query))


@contextmanager
def work(services: Services, *, write: bool = True) -> Iterator[Session]:
    """A unit of work for a CLI command or a job: committed at the end of the block, then the
    effects it emitted are run."""
    with unit_of_work(services.engine, write=write) as session:
        yield session
    if emitted(session):
        run_due(services)
