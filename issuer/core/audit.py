"""The audit log: append-only and hash-chained (each entry's hash covers the previous hash), with
its head anchored in ``audit_head``.

``append`` runs inside the caller's transaction, so an action and its audit entry commit
together; it chains the new entry onto the anchored head and moves the head to it, under the
chain lock. ``verify_chain`` recomputes every hash, and requires the chain to end exactly at the
anchored head: editing or removing an entry anywhere, the last ones included, is reported.

What is hashed is text that only the entry decides: its time as UTC ISO 8601
(``2026-03-01T09:00:00+00:00``, microseconds only if stored — ``append`` stores whole seconds),
never as a database session's time zone would show it. This is the text ``append`` has always
hashed, so chains written before verify unchanged.

Anyone who can write both tables can still rewrite the log and its head together; to detect that
too, keep the head ``laurel audit verify`` prints somewhere else (a log, a ticket) and compare.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer.core.db import lock_audit_chain
from issuer.models import AuditEntry
from issuer.models.audit import AuditHead
from issuer.models.base import aware, utcnow

GENESIS = "0" * 64
HEAD = 1  # the id of the one audit_head row

log = logging.getLogger(__name__)


def time_text(at: datetime) -> str:
    """The hashed form of an entry's time: the instant in UTC, whatever zone ``at`` is in."""
    return aware(at).isoformat()


def entry_hash(
    prev_hash: str, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]
) -> str:
    body = json.dumps(
        [prev_hash, time_text(at), actor, action, subject, details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(
    session: Session, actor: str, action: str, subject: str, details: dict[str, Any] | None = None
) -> AuditEntry:
    lock_audit_chain(session)
    head = session.get(AuditHead, HEAD, populate_existing=True) or _reanchor(session)
    at = utcnow().replace(microsecond=0)
    details = details or {}
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=details,
        prev_hash=head.hash,
        hash=entry_hash(head.hash, at, actor, action, subject, details),
    )
    session.add(entry)
    session.flush()
    assert entry.seq is not None
    head.seq, head.hash = entry.seq, entry.hash
    session.add(head)
    session.flush()
    return entry


def _reanchor(session: Session) -> AuditHead:
    """A head for a log that lost its own (it is created with the table): the last entry. This
    only happens when someone deleted the row; ``verify_chain`` says so until then."""
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    log.warning("the audit log had no anchored head; anchoring it at its last entry")
    if last is None or last.seq is None:
        return AuditHead(id=HEAD, seq=0, hash=GENESIS)
    return AuditHead(id=HEAD, seq=last.seq, hash=last.hash)


def verify_chain(session: Session) -> tuple[int, str | None]:
    """(number of entries checked, the first problem or None)."""
    prev_hash, count, last_seq = GENESIS, 0, 0
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))):
        expected = entry_hash(
            prev_hash, entry.at, entry.actor, entry.action, entry.subject, entry.details
        )
        if entry.prev_hash != prev_hash:
            return count, f"entry {entry.seq} does not follow entry {last_seq} (chain broken)"
        if entry.hash != expected:
            return count, f"entry {entry.seq} was altered (its hash does not match its content)"
        prev_hash, count, last_seq = entry.hash, count + 1, entry.seq or 0
    return count, _head_problem(session.get(AuditHead, HEAD), last_seq, prev_hash)


def _head_problem(head: AuditHead | None, last_seq: int, last_hash: str) -> str | None:
    if head is None:
        return "the chain's anchored head (audit_head) is missing: removed entries would not show"
    if head.seq > last_seq:
        return (
            f"the last entries were removed: the chain ends at entry {last_seq}, "
            f"but its anchored head is entry {head.seq}"
        )
    if head.seq < last_seq:
        return (
            f"entries after the anchored head (entry {head.seq}) were not appended by Laurel: "
            f"the chain ends at entry {last_seq}"
        )
    if head.hash != last_hash:
        return f"entry {last_seq} is not the entry the head anchors (it was replaced)"
    return None


def head(session: Session) -> AuditHead | None:
    """The anchored head (to note down elsewhere and compare with later)."""
    return session.get(AuditHead, HEAD)
