"""Issuing credentials: the one path for single requests, bulk rows, xAPI statements and
programme awards (bulk only batches and overlaps it, ``issuer.issuing.bulk``).

All in the caller's unit of work (``session``), in this order, so that nothing half-issues, no
published status index is ever handed out again, and concurrent requests cannot deadlock:

1. **screen**: rows whose idempotency key is taken answer "already issued" (same request) or an
   error (another request); unknown achievements are errors;
2. **prepare**: the owner of each email, new ones created (``issuer.people.learners``), the
   groups the request names (HR data, outside the credential), and the **documents** built and
   checked against the OB 3.0 schema with a stand-in status entry (a row that fails takes no
   index). A row naming a DID this issuer names for another learner fails here; no DID is
   recorded yet (``issuer.people.dids``);
3. **status indexes** from the issuer's newest list (``with_indexes``), whose row stays locked
   until the commit: an index counts as used once a credential carrying it commits, and a unit
   of work that fails takes its allocation back with it — no committed credential's index is
   ever reused. Signing comes after: the status entry is part of the signed bytes;
4. **documents** signed (inline, or on every core for big steps);
5. **store**, in a savepoint: the credentials, the DIDs they name (``dids.remember``), their
   skill rows and one audit entry naming them. When a concurrent request took one of the
   idempotency keys or DIDs meanwhile, or a row's subject was the DID of an earlier row of its
   run that was not stored (it is then built and signed again), the step falls back to one
   savepoint per row, so every other row still issues and the loser reads the winner. A row
   that fails records nothing, its DID neither;
6. a ``programs.award`` effect (``issuer.core.effects``) for every learner whose new credential
   counts towards a programme: awards follow after the commit, retried until done; and an
   ``obclient.deliver`` effect for every learner who consented to receive new badges at an OB 3.0
   API host they connected (the push itself is ``issuer.obclient.pushes``).

Locks are always taken in that order — learner emails (sorted), then the status list row, then
the idempotency keys, the issuer's DIDs (``learner_did``, by learner) and the audit chain — and
nothing of step 2 runs while a unit of work holds the status list (a bulk run commits its first
step's indexes before preparing its second): that is what keeps two units of work from waiting
on each other.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from issuer.catalogue import shared as shared_catalogue
from issuer.context import Services
from issuer.core import audit, metrics
from issuer.core.db import among, copy_rows, custom_plans
from issuer.core.effects import OB_DELIVER, ORG_HOURS, PROGRAM_AWARDS, emit_many
from issuer.core.errors import BadRequest, Conflict, LaurelError
from issuer.crypto.keystore import proof_key
from issuer.crypto.signing import sign_data_integrity
from issuer.institutes.issuers import get_issuer, signing_key
from issuer.issuing import notices, statuslists
from issuer.issuing.achievements import get_achievement
from issuer.issuing.documents import build_credential, request_hash
from issuer.models import Achievement, Credential, Issuer, ObConnection, OrgMember
from issuer.models.base import parse_time, table_of, utcnow
from issuer.people import dids, groups
from issuer.people.learners import LearnerRef, NewLearner, learners_for
from issuer.schemas import IssueRequest
from issuer.skills.weights import skill_rows, store_skills

log = logging.getLogger("laurel.issuing")

Row = tuple[int, IssueRequest, str | None]
"""A row to issue: its number (for reports), the request, its idempotency key (None: none)."""
Signer = Callable[[list[dict[str, Any]]], Callable[[], list[dict[str, Any]]]]
"""Starts signing unsigned documents; the returned function waits for the signed ones."""


@dataclass(frozen=True)
class Issued:
    credential: Credential
    created: bool


@dataclass(frozen=True)
class Outcome:
    """What became of one row."""

    number: int
    status: str  # "issued", "already issued" or "error"
    credential_id: str | None = None
    error: LaurelError | None = None

    def report(self) -> dict[str, Any]:
        found: dict[str, Any] = {"row": self.number, "status": self.status}
        if self.credential_id:
            found["id"] = f"urn:uuid:{self.credential_id}"
        if self.error is not None:
            found["error"] = self.error.detail
        return found


def _failed(number: int, error: LaurelError) -> Outcome:
    return Outcome(number, "error", error=error)


def _unexpected(number: int, stage: str, exc: Exception) -> Outcome:
    """A row that failed for a reason no validation caught: reported, counted and logged with
    its traceback, and it never takes the other rows with it."""
    metrics.FALLBACKS.labels("row_error").inc()
    log.error("row %s could not be %s", number, stage, exc_info=exc)
    reason = f"{type(exc).__name__}: {exc}"[:300]
    return _failed(number, BadRequest(f"this row could not be {stage} ({reason})"))


@dataclass(frozen=True)
class Screened:
    number: int
    request: IssueRequest
    key: str | None
    digest: str
    achievement: Achievement


@dataclass(frozen=True)
class Built:
    """A row's learner and unsigned document, with a stand-in status entry."""

    row: Screened
    learner: LearnerRef
    credential_id: str
    document: dict[str, Any]
    relies_on: int | None
    """The row of this run whose unsettled DID the subject is (``dids.Unsettled``), if any."""


@dataclass(frozen=True)
class Prepared:
    """A built row with its status index."""

    row: Screened
    learner: LearnerRef
    list_id: int
    index: int
    credential_id: str
    document: dict[str, Any]
    relies_on: int | None = None


def find_by_key(session: Session, issuer_id: int, key: str) -> Credential | None:
    return session.exec(
        select(Credential).where(
            Credential.issuer_id == issuer_id, Credential.idempotency_key == key
        )
    ).first()


def by_keys(session: Session, issuer_id: int, keys: Sequence[str]) -> SelectOfScalar[Credential]:
    """The issuer's credentials holding any of ``keys`` (a step's lookup, through the unique
    index of issuer and key)."""
    return select(Credential).where(
        Credential.issuer_id == issuer_id, among(session, col(Credential.idempotency_key), keys)
    )


def _replayed(number: int, existing: Credential, digest: str) -> Outcome:
    if existing.request_hash != digest:
        return _failed(number, Conflict("this idempotency key was used for a different request"))
    return Outcome(number, "already issued", existing.id)


def screen(
    session: Session, issuer: Issuer, rows: Sequence[Row]
) -> tuple[list[Screened], list[Outcome]]:
    """Rows still to issue, and the outcomes of those that need no issuing."""
    custom_plans(session)  # the lookups by key and email that follow, on a growing table
    keys = [key for _, _, key in rows if key is not None]
    assert issuer.id is not None
    existing = (
        {c.idempotency_key: c for c in session.exec(by_keys(session, issuer.id, keys))}
        if keys
        else {}
    )
    achievements: dict[str, Achievement | LaurelError] = {}
    todo: list[Screened] = []
    done: list[Outcome] = []
    seen: dict[str, int] = {}
    for number, request, key in rows:
        digest = request_hash(request)
        if key is not None and key in existing:
            done.append(_replayed(number, existing[key], digest))
            continue
        if key is not None and key in seen:
            done.append(_failed(number, Conflict(f"same idempotency key as row {seen[key]}")))
            continue
        if key is not None:
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
            done.append(_failed(number, found))
            continue
        todo.append(Screened(number, request, key, digest, found))
    return todo, done


def prepare(
    session: Session,
    services: Services,
    issuer: Issuer,
    rows: Sequence[Screened],
    unsettled: dids.Unsettled,
) -> tuple[list[Built], list[Outcome]]:
    """Learners, groups and the unsigned documents of ``rows``; no status list is touched."""
    assert issuer.id is not None
    if not rows:
        return [], []
    named = [
        dids.Named(r.number, r.request.recipient.email, r.request.recipient.did)
        for r in rows
        if r.request.recipient.did is not None
    ]
    refused = dids.refused(session, issuer.id, named)
    if refused:  # those rows fail alone, before a learner is made for them; the others go on
        rest = [r for r in rows if r.number not in refused]
        ready, failures = prepare(session, services, issuer, rest, unsettled)
        taken = [
            _failed(r.number, Conflict(refused[r.number])) for r in rows if r.number in refused
        ]
        return ready, taken + failures
    # a new learner keeps no name: the name an issuer gives is its own (``credentials.recipient``),
    # never what another issuer's pages or this learner's wallet show
    wanted = {r.request.recipient.email: NewLearner() for r in rows}
    learners = learners_for(session, wanted)
    memberships = sorted(
        (learners[r.request.recipient.email].id, group)
        for r in rows
        for group in r.request.recipient.groups
    )
    groups.add(session, issuer.id, memberships)
    # The DIDs this issuer named before, those earlier rows of this run name and are not stored
    # yet, and those these rows name, in row order: a row that names none reads what an earlier
    # row named, as if they had come one by one (and is built again if that row is not stored).
    theirs = dids.named_by(session, issuer.id, [ref.id for ref in learners.values()])
    source: dict[int, int] = {}
    for ref in learners.values():
        if ref.id in unsettled.named:
            theirs[ref.id], source[ref.id] = unsettled.named[ref.id]
    # Built and checked (OB 3.0 schema) with a stand-in status entry of the same shape, so that
    # a row that is refused never takes a status index.
    stand_in = statuslists.entry(services, 0, 0)
    built: list[Built] = []
    failed: list[Outcome] = []
    for row in rows:
        credential_id = str(uuid.uuid4())
        learner = learners[row.request.recipient.email]
        requested = row.request.recipient.did
        subject = dids.subject(learner, requested, theirs)
        try:
            document = build_credential(
                services, issuer, row.achievement, row.request, subject, stand_in, credential_id
            )
        except LaurelError as exc:
            failed.append(_failed(row.number, exc))
            continue
        except Exception as exc:  # a bug or an input validation missed: this row only
            failed.append(_unexpected(row.number, "built", exc))
            continue
        relies_on = source.get(learner.id) if requested is None and learner.did is None else None
        if requested is not None:
            theirs[learner.id], source[learner.id] = requested, row.number
            unsettled.name(learner.id, requested, row.number)
        built.append(Built(row, learner, credential_id, document, relies_on))
    return built, failed


def with_indexes(
    session: Session, services: Services, issuer: Issuer, built: Sequence[Built]
) -> list[Prepared]:
    """Status indexes for ``built`` rows, from the issuer's list, whose row stays locked until
    the unit of work commits: taken after every learner and idempotency key of the step, so
    that nothing is prepared while it is held."""
    assert issuer.id is not None
    slots = statuslists.allocate(session, issuer.id, len(built)) if built else []
    prepared: list[Prepared] = []
    for item, (list_id, index) in zip(built, slots, strict=True):
        item.document["credentialStatus"] = statuslists.entry(services, list_id, index)
        prepared.append(
            Prepared(
                item.row,
                item.learner,
                list_id,
                index,
                item.credential_id,
                item.document,
                item.relies_on,
            )
        )
    return prepared


def _record(issuer: Issuer, item: Prepared, signed: dict[str, Any]) -> dict[str, Any]:
    until = signed.get("validUntil")
    return {
        "id": item.credential_id,
        "issuer_id": issuer.id,
        "achievement_id": item.row.achievement.id,
        "learner_id": item.learner.id,
        "idempotency_key": item.row.key,
        "request_hash": item.row.digest,
        "status_list_id": item.list_id,
        "status_index": item.index,
        "document": signed,
        "jwt": None,
        "issued_at": utcnow(),
        "valid_until": parse_time(until) if isinstance(until, str) else None,
        "revoked_at": None,
        "revocation_reason": None,
    }


def store(
    session: Session,
    services: Services,
    issuer: Issuer,
    prepared: Sequence[Prepared],
    signed: Sequence[dict[str, Any]],
    actor: str,
    unsettled: dids.Unsettled,
) -> list[Outcome]:
    """Insert the signed credentials with their skill rows, the DIDs they name and one audit
    entry, and record the programme effects; per-row savepoints when a concurrent request took
    an idempotency key or a DID, or when a row's subject was a DID of a row not stored."""
    if not prepared:
        return []
    records = [
        _record(issuer, item, document) for item, document in zip(prepared, signed, strict=True)
    ]
    if any(item.relies_on in unsettled.lost for item in prepared):
        outcomes, stored = _one_by_one(
            session, services, issuer, prepared, records, actor, unsettled
        )
    else:
        try:
            with session.begin_nested():
                _insert_credentials(session, records)
                _remember(session, issuer, prepared)
                _after_insert(session, issuer, records, actor)
            stored = list(zip(prepared, records, strict=True))
            outcomes = [Outcome(item.row.number, "issued", item.credential_id) for item in prepared]
            for item in prepared:
                _settle(unsettled, item, True)
        except (IntegrityError, Conflict):  # a concurrent request took a key or a DID: expected
            outcomes, stored = _one_by_one(
                session, services, issuer, prepared, records, actor, unsettled
            )
        except Exception as exc:
            if len(prepared) == 1:
                outcomes, stored = [_unexpected(prepared[0].row.number, "stored", exc)], []
                _settle(unsettled, prepared[0], False)
            else:
                metrics.fallback(
                    "bulk_store",
                    "storing %d rows together failed (%s); one by one",
                    len(prepared),
                    exc,
                )
                outcomes, stored = _one_by_one(
                    session, services, issuer, prepared, records, actor, unsettled
                )
    _programme_effects(session, services, issuer, stored)
    _hours_effects(session, services, issuer, stored)
    _delivery_effects(session, stored)
    _notice_effects(session, issuer, stored)
    return outcomes


def _one_by_one(
    session: Session,
    services: Services,
    issuer: Issuer,
    prepared: Sequence[Prepared],
    records: list[dict[str, Any]],
    actor: str,
    unsettled: dids.Unsettled,
) -> tuple[list[Outcome], list[tuple[Prepared, dict[str, Any]]]]:
    outcomes: list[Outcome] = []
    stored: list[tuple[Prepared, dict[str, Any]]] = []
    for item, record in zip(prepared, records, strict=True):
        outcome, kept = _store_one(session, services, issuer, item, record, actor, unsettled)
        outcomes.append(outcome)
        if kept is not None:
            stored.append((item, kept))
        _settle(unsettled, item, kept is not None)
    return outcomes, stored


def _store_one(
    session: Session,
    services: Services,
    issuer: Issuer,
    item: Prepared,
    record: dict[str, Any],
    actor: str,
    unsettled: dids.Unsettled,
) -> tuple[Outcome, dict[str, Any] | None]:
    """One row in a savepoint of its own: its outcome, and its record if it was stored."""
    assert issuer.id is not None
    number = item.row.number
    if item.relies_on in unsettled.lost:
        try:
            record = _rebuilt(session, services, issuer, item)
        except LaurelError as exc:
            return _failed(number, exc), None
        except Exception as exc:
            return _unexpected(number, "signed", exc), None
    try:
        with session.begin_nested():
            _insert_credentials(session, [record])
            _remember(session, issuer, [item])
            _after_insert(session, issuer, [record], actor)
    except IntegrityError as exc:
        winner = find_by_key(session, issuer.id, item.row.key) if item.row.key else None
        if winner is None:
            return _unexpected(number, "stored", exc), None
        return _replayed(number, winner, item.row.digest), None
    except LaurelError as exc:  # its DID names another learner at this issuer now
        return _failed(number, exc), None
    except Exception as exc:
        return _unexpected(number, "stored", exc), None
    return Outcome(number, "issued", item.credential_id), record


def _rebuilt(
    session: Session, services: Services, issuer: Issuer, item: Prepared
) -> dict[str, Any]:
    """The record of a row whose subject was the DID of an earlier row of its run that was not
    stored: built and signed again, naming what the issuer names for the learner now."""
    assert issuer.id is not None
    metrics.fallback(
        "subject_rebuilt",
        "row %s is built again: row %s was not stored",
        item.row.number,
        item.relies_on,
    )
    theirs = dids.named_by(session, issuer.id, [item.learner.id])
    document = build_credential(
        services,
        issuer,
        item.row.achievement,
        item.row.request,
        dids.subject(item.learner, None, theirs),
        statuslists.entry(services, item.list_id, item.index),
        item.credential_id,
    )
    [signed] = inline_signer(session, services, issuer)([document])()
    return _record(issuer, item, signed)


def _remember(session: Session, issuer: Issuer, items: Sequence[Prepared]) -> None:
    """The DIDs the rows name, the last for each learner (``dids.remember``)."""
    assert issuer.id is not None
    naming = {
        item.learner.id: item.row.request.recipient.did
        for item in items
        if item.row.request.recipient.did is not None
    }
    dids.remember(session, issuer.id, naming)


def _settle(unsettled: dids.Unsettled, item: Prepared, stored: bool) -> None:
    if item.row.request.recipient.did is not None:
        unsettled.settle(item.learner.id, item.row.number, stored)


def _after_insert(
    session: Session, issuer: Issuer, records: list[dict[str, Any]], actor: str
) -> None:
    assert issuer.id is not None
    store_skills(
        session, [skill_rows(r["id"], issuer.id, r["learner_id"], r["document"]) for r in records]
    )
    audit.append(
        session,
        actor,
        "credential.issue",
        f"issuer:{issuer.slug}",
        {
            "credentials": [
                {
                    "id": f"urn:uuid:{r['id']}",
                    "achievement": r["document"]["credentialSubject"]["achievement"]["id"],
                    "status": [r["status_list_id"], r["status_index"]],
                }
                for r in records
            ]
        },
    )


def _programme_effects(
    session: Session,
    services: Services,
    issuer: Issuer,
    stored: Sequence[tuple[Prepared, dict[str, Any]]],
) -> None:
    """One ``programs.award`` effect per learner whose new credential counts towards a
    programme, due now; and, for a credential dated ahead (``validFrom`` later than now), one
    more due on that day, when it starts to count (``issuer.programs.awards``)."""
    counting = shared_catalogue(services.cache).programme_keys
    now = utcnow()
    due: dict[datetime | None, set[int]] = {}
    for item, record in stored:
        if item.row.achievement.key in counting:
            due.setdefault(None, set()).add(item.learner.id)
            valid_from = parse_time(str(record["document"]["validFrom"]))
            if valid_from > now:
                due.setdefault(valid_from, set()).add(item.learner.id)
    for moment, learners in due.items():
        payloads = [{"issuer": issuer.slug, "learner": n} for n in sorted(learners)]
        emit_many(session, PROGRAM_AWARDS, payloads, run_after=moment)


def _hours_effects(
    session: Session,
    services: Services,
    issuer: Issuer,
    stored: Sequence[tuple[Prepared, dict[str, Any]]],
) -> None:
    """One ``ORG_HOURS`` effect per learner on some organisation's roster who got badges that
    add hours (``issuer.orgs.hours``: the annual badge when the year's rule is now met)."""
    completion = shared_catalogue(services.cache).completion_keys
    years: dict[int, set[int]] = {}
    for item, record in stored:
        if item.row.achievement.key not in completion:
            valid_from = parse_time(str(record["document"]["validFrom"]))
            years.setdefault(item.learner.id, set()).add(valid_from.year)
    if not years:
        return
    rostered = session.exec(
        select(OrgMember.learner_id)
        .where(
            among(session, col(OrgMember.learner_id), sorted(years)),
            col(OrgMember.left_at).is_(None),
        )
        .distinct()
    )
    emit_many(
        session,
        ORG_HOURS,
        [
            {"issuer": issuer.id, "learner": learner, "years": sorted(years[learner])}
            for learner in sorted(rostered)
        ],
    )


def _delivery_effects(session: Session, stored: Sequence[tuple[Prepared, dict[str, Any]]]) -> None:
    """One ``OB_DELIVER`` effect per learner who consented to receive new badges at a host."""
    issued: dict[int, list[str]] = {}
    for item, record in stored:
        issued.setdefault(item.learner.id, []).append(record["id"])
    if not issued:
        return
    consenting = session.exec(
        select(ObConnection.learner_id)
        .where(
            among(session, col(ObConnection.learner_id), sorted(issued)),
            col(ObConnection.send_new).is_(True),
            col(ObConnection.connected_at).isnot(None),
        )
        .distinct()
    )
    emit_many(
        session,
        OB_DELIVER,
        [{"learner": n, "credentials": issued[n]} for n in sorted(consenting)],
    )


def _notice_effects(
    session: Session, issuer: Issuer, stored: Sequence[tuple[Prepared, dict[str, Any]]]
) -> None:
    """The learners' emails and the issuer's webhooks (``issuing.notices``)."""
    issued: dict[int, list[str]] = {}
    for item, record in stored:
        issued.setdefault(item.learner.id, []).append(record["id"])
    assert issuer.id is not None
    notices.issued(session, issuer.id, issued)


def _insert_credentials(session: Session, records: list[dict[str, Any]]) -> None:
    """By COPY on PostgreSQL (``copy_rows``); a unique violation surfaces as ``IntegrityError``
    either way."""
    table = table_of(Credential)
    if not copy_rows(session, table, records):
        session.execute(insert(table), records)


def inline_signer(session: Session, services: Services, issuer: Issuer) -> Signer:
    """Sign in this process with the issuer's current Data Integrity key."""
    key_row = signing_key(session, issuer, "di")
    key = proof_key(services.keystore, key_row)

    def sign(documents: list[dict[str, Any]]) -> Callable[[], list[dict[str, Any]]]:
        signed = [sign_data_integrity(d, key, key_row.kid) for d in documents]
        return lambda: signed

    return sign


def signed_rows(
    prepared: Sequence[Prepared],
    signing: Callable[[], list[dict[str, Any]]],
    alone: Signer,
    unsettled: dids.Unsettled,
) -> tuple[list[Prepared], list[dict[str, Any]], list[Outcome]]:
    """The rows that were signed with their documents, and the outcomes of those that could not
    be: when signing the rows together fails (one document the canonicaliser refuses), each is
    signed ``alone``, so a bad row is that row's error and never the step's."""
    try:
        return list(prepared), signing(), []
    except Exception as exc:
        if len(prepared) > 1:
            metrics.fallback(
                "bulk_signing",
                "signing %d rows together failed (%s); one by one",
                len(prepared),
                exc,
            )
    kept: list[Prepared] = []
    signed: list[dict[str, Any]] = []
    failed: list[Outcome] = []
    for item in prepared:
        try:
            [document] = alone([item.document])()
        except LaurelError as exc:
            failed.append(_failed(item.row.number, exc))
            _settle(unsettled, item, False)
            continue
        except Exception as exc:  # e.g. a value that is not an IRI: the verifier refuses it too
            failed.append(_unexpected(item.row.number, "signed", exc))
            _settle(unsettled, item, False)
            continue
        kept.append(item)
        signed.append(document)
    return kept, signed, failed


def issue_rows(
    session: Session,
    services: Services,
    issuer: Issuer,
    rows: Sequence[Row],
    actor: str,
    sign: Signer | None = None,
) -> list[Outcome]:
    """Issue ``rows`` in ``session``; one outcome per row, in row order."""
    unsettled = dids.Unsettled()
    todo, outcomes = screen(session, issuer, rows)
    built, failed = prepare(session, services, issuer, todo, unsettled)
    prepared = with_indexes(session, services, issuer, built)
    inline = inline_signer(session, services, issuer)
    signer = sign or inline
    documents = [item.document for item in prepared]
    kept, signed, unsigned = signed_rows(prepared, lambda: signer(documents)(), inline, unsettled)
    outcomes += failed + unsigned + store(session, services, issuer, kept, signed, actor, unsettled)
    return sorted(outcomes, key=lambda o: o.number)


def issue(
    session: Session,
    services: Services,
    slug: str,
    request: IssueRequest,
    *,
    idempotency_key: str | None = None,
    actor: str = "cli",
) -> Issued:
    """Issue one credential in ``session``; raises the row's error (``BadRequest``, ``NotFound``,
    ``Conflict`` for an idempotency key used for another request)."""
    issuer = get_issuer(session, slug)
    [outcome] = issue_rows(session, services, issuer, [(1, request, idempotency_key)], actor)
    if outcome.error is not None:
        raise outcome.error
    credential = session.get(Credential, outcome.credential_id)
    assert credential is not None
    return Issued(credential, outcome.status == "issued")
