"""Telling people and systems what was issued or revoked: the post-commit effects an issuance,
a revocation or a programme award records (``core.effects``), so that the learner's email and
the issuer's webhooks and Learning Record Store follow the commit and never slow down or undo it.

One email effect per learner per batch (a learner given three badges at once gets one email);
one webhook effect per batch, recorded only when the issuer has an endpoint for the event (the
common case without webhooks costs one query); one LRS effect per 100 credentials, recorded only
when the issuer reports to an LRS (``notify.lrs``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel import Session, col, select

from issuer.core.effects import NOTIFY_MAIL, WEBHOOK_EVENT, XAPI_SEND, emit, emit_many
from issuer.models import Credential, WebhookEndpoint, XapiSettings

ISSUED = "credential.issued"
REVOKED = "credential.revoked"
PROGRAM_COMPLETED = "program.completed"
EVENTS = (ISSUED, REVOKED, PROGRAM_COMPLETED)
LRS_BATCH = 100


def listening(session: Session, issuer_id: int, event: str) -> bool:
    """Whether any of the issuer's endpoints wants ``event``."""
    rows = session.exec(
        select(WebhookEndpoint.events).where(
            WebhookEndpoint.issuer_id == issuer_id, col(WebhookEndpoint.removed_at).is_(None)
        )
    )
    return any(event in events for events in rows)


def reporting(session: Session, issuer_id: int) -> bool:
    """Whether the issuer reports to a Learning Record Store."""
    query = select(XapiSettings.id).where(
        XapiSettings.issuer_id == issuer_id, col(XapiSettings.lrs_endpoint).is_not(None)
    )
    return session.exec(query).first() is not None


def _to_lrs(session: Session, issuer_id: int, event: str, credentials: list[str]) -> None:
    if credentials and reporting(session, issuer_id):
        for start in range(0, len(credentials), LRS_BATCH):
            batch = credentials[start : start + LRS_BATCH]
            emit(session, XAPI_SEND, {"issuer": issuer_id, "event": event, "credentials": batch})


def issued(session: Session, issuer_id: int, by_learner: Mapping[int, Sequence[str]]) -> None:
    """Credentials (UUIDs, per learner) were just issued in ``session``'s unit of work."""
    mails = [
        {"issuer": issuer_id, "learner": n, "credentials": list(ids), "event": "issued"}
        for n, ids in sorted(by_learner.items())
    ]
    emit_many(session, NOTIFY_MAIL, mails)
    if by_learner and listening(session, issuer_id, ISSUED):
        every = [c for learner in sorted(by_learner) for c in by_learner[learner]]
        emit(session, WEBHOOK_EVENT, {"issuer": issuer_id, "type": ISSUED, "credentials": every})
    _to_lrs(session, issuer_id, "earned", [c for i in sorted(by_learner) for c in by_learner[i]])


def revoked(session: Session, credential: Credential) -> None:
    """``credential`` was just revoked in ``session``'s unit of work."""
    payload = {"issuer": credential.issuer_id, "credentials": [credential.id]}
    emit(session, NOTIFY_MAIL, {**payload, "learner": credential.learner_id, "event": "revoked"})
    if listening(session, credential.issuer_id, REVOKED):
        emit(session, WEBHOOK_EVENT, {**payload, "type": REVOKED})
    _to_lrs(session, credential.issuer_id, "voided", [credential.id])


def program_completed(
    session: Session, issuer_id: int, program: str, name: str, learner_id: int, credential_id: str
) -> None:
    """A learner completed a programme; ``credential_id`` is its award, just issued."""
    if listening(session, issuer_id, PROGRAM_COMPLETED):
        payload = {
            "issuer": issuer_id,
            "type": PROGRAM_COMPLETED,
            "program": program,
            "name": name,
            "learner": learner_id,
            "credential": credential_id,
        }
        emit(session, WEBHOOK_EVENT, payload)
