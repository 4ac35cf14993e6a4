"""Issuing a batch of validated requests with as little per-row database work as possible.

1. Rows whose idempotency key is already used answer "already issued" (same request) or an
   error (another request); unknown achievements are errors.
2. Learners are resolved in one transaction.
3. Status indexes for the whole batch are allocated in one committed transaction.
4. Documents are built here and signed on every core (``signer_pool``).
5. One transaction inserts the credentials and one audit entry naming all of them. If a
   concurrent request took one of the idempotency keys meanwhile, the batch falls back to one
   savepoint per row, so every other row still issues and none half-issues.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from issuer.db import writer
from issuer.errors import LaurelError
from issuer.models import Achievement, Credential, Issuer, Learner, LearnerEmail
from issuer.schemas import IssueRequest
from issuer.services import audit, statuslists
from issuer.services.achievements import get_achievement
from issuer.services.context import Services
from issuer.services.issuance import build_credential, request_hash, resolve_learner
from issuer.services.issuers import get_issuer, signing_key
from issuer.services.signer_pool import sign_many

Row = tuple[int, IssueRequest]


def _error(number: int, detail: str) -> dict[str, Any]:
    return {"row": number, "status": "error", "error": detail}


def _done(number: int, credential_id: str, created: bool) -> dict[str, Any]:
    return {
        "row": number,
        "status": "issued" if created else "already issued",
        "id": f"urn:uuid:{credential_id}",
    }


def _learners(services: Services, requests: list[IssueRequest]) -> dict[str, Learner]:
    """The learner of every email in one transaction (new ones created)."""
    emails = {r.recipient.email: r for r in requests}
    found: dict[str, Learner] = {}
    with Session(writer(services.engine), expire_on_commit=False) as session:
        rows = session.exec(
            select(LearnerEmail, Learner)
            .join(Learner)
            .where(col(LearnerEmail.email).in_(list(emails)))
        ).all()
        found = {email_row.email: learner for email_row, learner in rows}
        created = []
        for email, request in emails.items():
            if email in found:
                continue
            learner = Learner(
                subject_id=request.recipient.did or f"urn:uuid:{uuid.uuid4()}",
                name=request.recipient.name,
                did=request.recipient.did,
            )
            session.add(learner)
            created.append((email, learner))
        try:
            session.flush()
            for email, learner in created:
                assert learner.id is not None
                session.add(LearnerEmail(learner_id=learner.id, email=email, is_primary=True))
                found[email] = learner
            session.commit()
        except IntegrityError:  # another process created one of them meanwhile
            session.rollback()
            return {
                email: resolve_learner(services, email, r.recipient.name, r.recipient.did)
                for email, r in emails.items()
            }
    return found


def _screen(
    session: Session, issuer: Issuer, rows: list[Row], report: dict[int, dict[str, Any]]
) -> list[tuple[int, IssueRequest, str, str, Achievement]]:
    """Rows still to issue: (number, request, idempotency key, request hash, achievement)."""
    keyed = [(n, r, r.idempotencyKey or f"row:{request_hash(r)}", request_hash(r)) for n, r in rows]
    existing = {
        c.idempotency_key: c
        for c in session.exec(
            select(Credential).where(
                Credential.issuer_id == issuer.id,
                col(Credential.idempotency_key).in_([k for _, _, k, _ in keyed]),
            )
        )
    }
    achievements: dict[str, Achievement | LaurelError] = {}
    todo, seen = [], {}
    for number, request, key, digest in keyed:
        previous = existing.get(key)
        if previous is not None:
            report[number] = (
                _done(number, previous.id, False)
                if previous.request_hash == digest
                else _error(number, "this idempotency key was used for another row")
            )
            continue
        if key in seen:
            report[number] = _error(number, f"same idempotency key as row {seen[key]}")
            continue
        seen[key] = number
        if request.achievement not in achievements:
            try:
                achievements[request.achievement] = get_achievement(
                    session, issuer, request.achievement
                )
            except LaurelError as exc:
                achievements[request.achievement] = exc
        found = achievements[request.achievement]
        if isinstance(found, LaurelError):
            report[number] = _error(number, found.detail)
            continue
        todo.append((number, request, key, digest, found))
    return todo


def issue_batch(
    services: Services, slug: str, rows: list[Row], actor: str
) -> dict[int, dict[str, Any]]:
    report: dict[int, dict[str, Any]] = {}
    with Session(services.engine, expire_on_commit=False) as session:
        issuer = get_issuer(session, slug)
        key_row = signing_key(session, issuer, "di")
        todo = _screen(session, issuer, rows, report)
    if not todo:
        return report
    assert issuer.id is not None
    learners = _learners(services, [request for _, request, _, _, _ in todo])
    slots = statuslists.allocate(services, issuer.id, len(todo))
    documents, records = [], []
    for (number, request, key, digest, achievement), (list_id, index) in zip(
        todo, slots, strict=True
    ):
        credential_id = str(uuid.uuid4())
        learner = learners[request.recipient.email]
        try:
            documents.append(
                build_credential(
                    services,
                    issuer,
                    achievement,
                    request,
                    learner,
                    statuslists.entry(services, list_id, index),
                    credential_id,
                )
            )
        except LaurelError as exc:
            report[number] = _error(number, exc.detail)
            continue
        assert achievement.id is not None and learner.id is not None
        records.append(
            (
                number,
                Credential(
                    id=credential_id,
                    issuer_id=issuer.id,
                    achievement_id=achievement.id,
                    learner_id=learner.id,
                    idempotency_key=key,
                    request_hash=digest,
                    status_list_id=list_id,
                    status_index=index,
                    document={},
                ),
            )
        )
    signed = sign_many(documents, services.keystore.load(key_row), key_row.kid)  # type: ignore[arg-type]
    for (_, record), document in zip(records, signed, strict=True):
        record.document = document
        if document.get("validUntil"):
            from issuer.services.issuance import _parse

            record.valid_until = _parse(document["validUntil"])
    report.update(_insert(services, slug, records, actor))
    return report


def _insert(
    services: Services, slug: str, records: list[tuple[int, Credential]], actor: str
) -> dict[int, dict[str, Any]]:
    try:
        with Session(writer(services.engine), expire_on_commit=False) as session:
            session.add_all([record for _, record in records])
            session.flush()
            audit.append(
                session,
                actor,
                "credential.issue.bulk",
                f"issuer:{slug}",
                {"credentials": [f"urn:uuid:{r.id}" for _, r in records]},
            )
            session.commit()
        return {number: _done(number, record.id, True) for number, record in records}
    except IntegrityError:
        return _insert_one_by_one(services, slug, records, actor)


def _insert_one_by_one(
    services: Services, slug: str, records: list[tuple[int, Credential]], actor: str
) -> dict[int, dict[str, Any]]:
    """The slow path after a race on an idempotency key: a savepoint per row."""
    report: dict[int, dict[str, Any]] = {}
    with Session(writer(services.engine), expire_on_commit=False) as session:
        for number, record in records:
            fresh = Credential.model_validate(record.model_dump())
            try:
                with session.begin_nested():
                    session.add(fresh)
                    session.flush()
                    audit.append(
                        session,
                        actor,
                        "credential.issue",
                        f"urn:uuid:{fresh.id}",
                        {"issuer": slug, "bulk": True},
                    )
                report[number] = _done(number, fresh.id, True)
            except IntegrityError:
                winner = session.exec(
                    select(Credential).where(
                        Credential.issuer_id == record.issuer_id,
                        Credential.idempotency_key == record.idempotency_key,
                    )
                ).first()
                report[number] = (
                    _done(number, winner.id, False)
                    if winner is not None and winner.request_hash == record.request_hash
                    else _error(number, "this idempotency key was used for another request")
                )
        session.commit()
    return report
