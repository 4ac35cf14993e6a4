"""The audit log: append-only and hash-chained (each entry's hash covers the previous hash).

``append`` runs inside the caller's transaction, so an action and its audit entry commit
together; ``verify_chain`` recomputes every hash and reports the first break.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer.core.db import lock_audit_chain
from issuer.models import AuditEntry
from issuer.models.base import aware, utcnow

GENESIS = "0" * 64


def _digest(
    prev_hash: str, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]
) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(), actor, action, subject, details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(
    session: Session, actor: str, action: str, subject: str, details: dict[str, Any] | None = None
) -> AuditEntry:
    lock_audit_chain(session)
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    prev_hash = last.hash if last else GENESIS
    at = utcnow().replace(microsecond=0)
    details = details or {}
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=details,
        prev_hash=prev_hash,
        hash=_digest(prev_hash, at, actor, action, subject, details),
    )
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session) -> tuple[int, str | None]:
    """(number of entries checked, the first problem or None)."""
    prev_hash, count = GENESIS, 0
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))):
        at = aware(entry.at)
        expected = _digest(prev_hash, at, entry.actor, entry.action, entry.subject, entry.details)
        if entry.prev_hash != prev_hash:
            return count, f"entry {entry.seq} does not follow entry {count} (chain broken)"
        if entry.hash != expected:
            return count, f"entry {entry.seq} was altered (its hash does not match its content)"
        prev_hash, count = entry.hash, count + 1
    return count, None
