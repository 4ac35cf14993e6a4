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

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from issuer.core import audit
from issuer.core.context import Services
from issuer.core.db import transaction, writer
from issuer.core.errors import LaurelError
from issuer.crypto.signer_pool import submit
from issuer.institutes.issuers import get_issuer, signing_key
from issuer.issuing import statuslists
from issuer.issuing.achievements import get_achievement
from issuer.issuing.issuance import _parse, build_credential, request_hash, resolve_learner
from issuer.models import Achievement, Credential, Issuer, Learner, LearnerEmail
from issuer.models.base import utcnow
from issuer.people import groups
from issuer.schemas import IssueRequest
from issuer.skills.cloud import skill_rows, store_skills

Row = tuple[int, IssueRequest]


def _error(number: int, detail: str) -> dict[str, Any]:
    return {"row": number, "status": "error", "error": detail}


def _done(number: int, credential_id: str, created: bool) -> dict[str, Any]:
    return {
        "row": number,
        "status": "issued" if created else "already issued",
        "id": f"urn:uuid:{credential_id}",
    }


@dataclass(frozen=True)
class LearnerRef:
    """What a credential needs of a learner (plain data: ORM objects are slow in bulk)."""

    id: int
    subject_id: str
    did: str | None


def _learners(services: Services, requests: list[IssueRequest]) -> dict[str, LearnerRef]:
    """The learner of every email, new ones created, in one transaction of bulk statements."""
    emails = {r.recipient.email: r for r in requests}
    learner, email_table = Learner.__table__, LearnerEmail.__table__  # type: ignore[attr-defined]
    with Session(writer(services.engine)) as session:
        known = session.execute(
            select(email_table.c.email, learner.c.id, learner.c.subject_id, learner.c.did)
            .join(learner, learner.c.id == email_table.c.learner_id)
            .where(email_table.c.email.in_(list(emails)))
        ).all()
        found = {row.email: LearnerRef(row.id, row.subject_id, row.did) for row in known}
        missing = [(email, r) for email, r in emails.items() if email not in found]
        if missing:
            now = utcnow()
            new = [
                {
                    "subject_id": r.recipient.did or f"urn:uuid:{uuid.uuid4()}",
                    "name": r.recipient.name,
                    "did": r.recipient.did,
                    "created_at": now,
                }
                for _, r in missing
            ]
            try:
                with session.begin_nested():
                    ids = session.execute(
                        insert(learner).returning(learner.c.id, learner.c.subject_id), new
                    ).all()
                    by_subject = {row.subject_id: row.id for row in ids}
                    session.execute(
                        insert(email_table),
                        [
                            {
                                "learner_id": by_subject[values["subject_id"]],
                                "email": email,
                                "verified": False,
                                "is_primary": True,
                                "created_at": now,
                            }
                            for (email, _), values in zip(missing, new, strict=True)
                        ],
                    )
            except IntegrityError:  # another process created one of them meanwhile
                session.commit()
                return {
                    email: _ref(resolve_learner(services, email, r.recipient.name, r.recipient.did))
                    for email, r in emails.items()
                }
            for (email, _), values in zip(missing, new, strict=True):
                found[email] = LearnerRef(
                    by_subject[values["subject_id"]], values["subject_id"], values["did"]
                )
        session.commit()
    return found


def _ref(learner: Learner) -> LearnerRef:
    assert learner.id is not None
    return LearnerRef(learner.id, learner.subject_id, learner.did)


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


PIPELINE_STEP = 250


def issue_batch(
    services: Services, slug: str, rows: list[Row], actor: str
) -> dict[int, dict[str, Any]]:
    """Issue ``rows``. Steps of ``PIPELINE_STEP`` rows overlap: while the worker processes
    sign one step, this process prepares the next and stores the previous one."""
    report: dict[int, dict[str, Any]] = {}
    with Session(services.engine, expire_on_commit=False) as session:
        issuer = get_issuer(session, slug)
        key_row = signing_key(session, issuer, "di")
        todo = _screen(session, issuer, rows, report)
    key = services.keystore.load(key_row)
    in_flight: list[tuple[list[tuple[int, dict[str, Any]]], Callable[[], list[Any]]]] = []
    for start in range(0, len(todo), PIPELINE_STEP):
        records, documents = _prepare(services, issuer, todo[start : start + PIPELINE_STEP], report)
        in_flight.append((records, submit(documents, key, key_row.kid)))  # type: ignore[arg-type]
        if len(in_flight) > 1:
            report.update(_finish(services, slug, *in_flight.pop(0), actor))
    for records, signing in in_flight:
        report.update(_finish(services, slug, records, signing, actor))
    _check_programs(services, slug, todo, report)
    return report


def _check_programs(
    services: Services, slug: str, todo: list[Any], report: dict[int, dict[str, Any]]
) -> None:
    """Programme awards for the learners whose new credentials count towards a programme."""
    from issuer.issuing.programs import after_issuance, relevant_keys

    relevant = relevant_keys(services)
    done: set[tuple[str, int]] = set()
    for number, request, _, _, _ in todo:
        if report.get(number, {}).get("status") != "issued":
            continue
        if request.achievement not in relevant:
            continue
        with Session(services.engine) as session:
            learner = session.exec(
                select(LearnerEmail.learner_id).where(LearnerEmail.email == request.recipient.email)
            ).first()
        if learner is not None and (request.achievement, learner) not in done:
            done.add((request.achievement, learner))
            after_issuance(services, slug, request.achievement, learner)


def _prepare(
    services: Services, issuer: Issuer, todo: list[Any], report: dict[int, dict[str, Any]]
) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """Learners, status indexes and unsigned documents for one step."""
    assert issuer.id is not None
    learners = _learners(services, [request for _, request, _, _, _ in todo])
    memberships = [
        (learners[request.recipient.email].id, group)
        for _, request, _, _, _ in todo
        for group in request.recipient.groups
    ]
    if memberships:
        with transaction(services.engine) as session:
            groups.add(session, issuer.id, memberships)
    slots = statuslists.allocate(services, issuer.id, len(todo))
    documents, records = [], []
    for (number, request, key, digest, achievement), (list_id, index) in zip(
        todo, slots, strict=True
    ):
        credential_id = str(uuid.uuid4())
        learner = learners[request.recipient.email]
        entry = statuslists.entry(services, list_id, index)
        try:
            documents.append(
                build_credential(
                    services, issuer, achievement, request, learner, entry, credential_id
                )
            )
        except LaurelError as exc:
            report[number] = _error(number, exc.detail)
            continue
        records.append(
            (
                number,
                {
                    "id": credential_id,
                    "issuer_id": issuer.id,
                    "achievement_id": achievement.id,
                    "learner_id": learner.id,
                    "idempotency_key": key,
                    "request_hash": digest,
                    "status_list_id": list_id,
                    "status_index": index,
                    "issued_at": utcnow(),
                    "jwt": None,
                    "revoked_at": None,
                    "revocation_reason": None,
                },
            )
        )
    return records, documents


def _finish(
    services: Services,
    slug: str,
    records: list[tuple[int, dict[str, Any]]],
    signing: Callable[[], list[dict[str, Any]]],
    actor: str,
) -> dict[int, dict[str, Any]]:
    for (_, record), document in zip(records, signing(), strict=True):
        record["document"] = document
        record["valid_until"] = _parse(document.get("validUntil"))
    return _insert(services, slug, records, actor) if records else {}


_COPY_COLUMNS = (
    "id",
    "issuer_id",
    "achievement_id",
    "learner_id",
    "idempotency_key",
    "request_hash",
    "status_list_id",
    "status_index",
    "document",
    "jwt",
    "issued_at",
    "valid_until",
    "revoked_at",
    "revocation_reason",
)


def _bulk_insert(session: Session, table: Any, records: list[dict[str, Any]]) -> None:
    """Insert credential rows: PostgreSQL COPY (several times faster than executemany), else a
    multi-row INSERT. A unique violation surfaces as ``IntegrityError`` either way."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), records)
        return
    import psycopg

    connection = session.connection().connection.dbapi_connection
    assert connection is not None
    try:
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY credential ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy,
        ):
            for record in records:
                copy.write_row(
                    [
                        json.dumps(record["document"], ensure_ascii=False)
                        if column == "document"
                        else record[column]
                        for column in _COPY_COLUMNS
                    ]
                )
    except psycopg.errors.UniqueViolation as exc:
        raise IntegrityError("COPY credential", None, exc) from exc


def _insert(
    services: Services, slug: str, records: list[tuple[int, dict[str, Any]]], actor: str
) -> dict[int, dict[str, Any]]:
    table = Credential.__table__  # type: ignore[attr-defined]
    try:
        with Session(writer(services.engine)) as session:
            _bulk_insert(session, table, [record for _, record in records])
            store_skills(
                session,
                [
                    skill_rows(r["id"], r["issuer_id"], r["learner_id"], r["document"])
                    for _, r in records
                ],
            )
            audit.append(
                session,
                actor,
                "credential.issue.bulk",
                f"issuer:{slug}",
                {"credentials": [f"urn:uuid:{r['id']}" for _, r in records]},
            )
            session.commit()
        return {number: _done(number, record["id"], True) for number, record in records}
    except IntegrityError:
        return _insert_one_by_one(services, slug, records, actor)


def _insert_one_by_one(
    services: Services, slug: str, records: list[tuple[int, dict[str, Any]]], actor: str
) -> dict[int, dict[str, Any]]:
    """The slow path after a race on an idempotency key: a savepoint per row."""
    report: dict[int, dict[str, Any]] = {}
    table = Credential.__table__  # type: ignore[attr-defined]
    with Session(writer(services.engine)) as session:
        for number, record in records:
            try:
                with session.begin_nested():
                    session.execute(insert(table), [record])
                    store_skills(
                        session,
                        [
                            skill_rows(
                                record["id"],
                                record["issuer_id"],
                                record["learner_id"],
                                record["document"],
                            )
                        ],
                    )
                    audit.append(
                        session,
                        actor,
                        "credential.issue",
                        f"urn:uuid:{record['id']}",
                        {"issuer": slug, "bulk": True},
                    )
                report[number] = _done(number, record["id"], True)
            except IntegrityError:
                winner = session.exec(
                    select(Credential).where(
                        Credential.issuer_id == record["issuer_id"],
                        Credential.idempotency_key == record["idempotency_key"],
                    )
                ).first()
                report[number] = (
                    _done(number, winner.id, False)
                    if winner is not None and winner.request_hash == record["request_hash"]
                    else _error(number, "this idempotency key was used for another request")
                )
        session.commit()
    return report
