"""Bulk issuance: every row is issued or rejected on its own, with a per-row report.

Rows come from a JSON array or a CSV file (columns below). A row without an ``idempotencyKey``
gets one derived from its content, so uploading the same file twice reports "already issued"
instead of issuing twice. A failing row never affects another, and never half-issues (see
``issuer.issuing.issuance``, the one issuing path this batches).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from issuer.context import Services
from issuer.core.db import Statistics
from issuer.core.errors import BadRequest
from issuer.crypto.keystore import proof_key
from issuer.crypto.signer_pool import submit
from issuer.institutes.issuers import get_issuer, signing_key
from issuer.issuing.documents import request_hash
from issuer.issuing.issuance import (
    Built,
    Outcome,
    Prepared,
    Row,
    inline_signer,
    prepare,
    screen,
    signed_rows,
    store,
    with_indexes,
)
from issuer.models import Issuer
from issuer.people import dids
from issuer.schemas import IssueRequest

CSV_COLUMNS = (
    "email",
    "name",
    "did",
    "achievement",
    "validFrom",
    "validUntil",
    "creditsEarned",
    "narrative",
    "evidenceUrl",
    "evidenceNarrative",
    "idempotencyKey",
    "groups",
    "resultDescription",
    "achievedLevel",
    "resultValue",
    "resultStatus",
)
MAX_ROWS = 100_000
STEP = 250
ANALYZE_FROM = 1000
"""A run of steps counts its tables again once it has added this many credentials, or as many
as the table held at the last count if more."""
GROWN_BY_STEPS = ("credential", "learner", "learner_email", "pending_effect")
"""The tables a step adds rows to and a later step looks up (its keys, its learners' emails, the
effects due): their planner statistics are kept up to date along a run of steps."""


def statistics(*more: str) -> Statistics:
    """Planner statistics for a run of steps (``issuer.core.db.Statistics``), gauged by the
    credentials it issues."""
    return Statistics((*GROWN_BY_STEPS, *more), gauge="credential", first=ANALYZE_FROM)


def row_from_csv(record: dict[str, str | None]) -> dict[str, Any]:
    """A CSV record as the JSON body of one issuance."""
    value = {k: (v.strip() if isinstance(v, str) else v) or None for k, v in record.items()}
    row: dict[str, Any] = {
        "recipient": {k: value[k] for k in ("email", "name", "did") if value.get(k)},
        "achievement": value.get("achievement"),
    }
    if value.get("groups"):
        row["recipient"]["groups"] = [g for g in str(value["groups"]).split(";") if g.strip()]
    for field in ("validFrom", "validUntil", "creditsEarned", "narrative", "idempotencyKey"):
        if value.get(field):
            row[field] = value[field]
    if value.get("evidenceUrl") or value.get("evidenceNarrative"):
        evidence = {"id": value.get("evidenceUrl"), "narrative": value.get("evidenceNarrative")}
        row["evidence"] = [{k: v for k, v in evidence.items() if v}]
    result = {
        "resultDescription": value.get("resultDescription"),
        "achievedLevel": value.get("achievedLevel"),
        "value": value.get("resultValue"),
        "status": value.get("resultStatus"),
    }
    if any(result.values()):
        row["results"] = [{k: v for k, v in result.items() if v}]
    return row


def csv_rows(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The rows of a CSV given as lines with their ends (a file opened with ``newline=""``,
    ``io.StringIO(text, newline="")`` or ``uploads.text_lines``: ``\r\n``, ``\n`` or an old
    Mac's ``\r``); a line the csv module cannot read is a ``BadRequest`` naming it."""
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise BadRequest(f"CSV line {reader.reader.line_num}: {exc}") from None
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if not header or unknown or "email" not in header or "achievement" not in header:
        extra = f"; unknown: {', '.join(unknown)}" if unknown else ""
        raise BadRequest(
            f"the CSV header must name columns from {', '.join(CSV_COLUMNS)} "
            f"(email and achievement required){extra}"
        )
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over the csv module's limit, a stray quote or NUL
            raise BadRequest(f"CSV line {reader.reader.line_num}: {exc}") from None
        if None in record:
            raise BadRequest(f"CSV line {reader.line_num} has more fields than the header")
        yield row_from_csv(record)


def _validation_error(number: int, exc: ValidationError) -> dict[str, Any]:
    return {"row": number, "status": "error", "error": validation_message(exc)}


def validation_message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'row'}: {error['msg']}"
        for error in exc.errors()[:5]
    )


def validated(rows: Iterable[Any]) -> Iterator[tuple[int, IssueRequest | ValidationError, str]]:
    """``(number, request or its validation error, idempotency key)`` for every row; a row
    without ``idempotencyKey`` gets ``row:{hash of the row}``."""
    for number, row in enumerate(rows, start=1):
        if number > MAX_ROWS:
            raise BadRequest(f"a bulk request holds at most {MAX_ROWS} rows")
        try:
            request = IssueRequest.model_validate(row)
        except ValidationError as exc:
            yield number, exc, ""
            continue
        yield number, request, request.idempotencyKey or f"row:{request_hash(request)}"


@dataclass
class Step:
    """One step of a bulk upload: decided outcomes, the rows built, and once their status
    indexes are allocated, the prepared rows being signed."""

    decided: list[Outcome]
    built: list[Built]
    prepared: list[Prepared]
    signing: Callable[[], list[dict[str, Any]]]

    @property
    def numbers(self) -> list[int]:
        return sorted([o.number for o in self.decided] + [b.row.number for b in self.built])


class StepSigner:
    """Signs steps with the issuer's current Data Integrity key, on every core."""

    def __init__(self, session: Session, services: Services, issuer: Issuer) -> None:
        key_row = signing_key(session, issuer, "di")
        self.key, self.kid = proof_key(services.keystore, key_row), key_row.kid
        self.alone = inline_signer(session, services, issuer)

    def start(self, documents: list[dict[str, Any]]) -> Callable[[], list[dict[str, Any]]]:
        try:
            return submit(documents, self.key, self.kid)
        except Exception as exc:  # the inline path signs at once: keep it for finish_step
            return partial(_reraise, exc)


def _reraise(error: Exception) -> list[dict[str, Any]]:
    raise error


class Steps:
    """The steps of one run (a bulk request, a job), overlapped: while the worker processes
    sign one step, this process prepares the next and stores the one before.

    Each unit of work takes its locks in the order of ``issuer.issuing.issuance``: the next
    step's learners (no status list is held then), the status indexes of that step, then the
    credentials, DIDs and audit entry of the step before. So ``add`` prepares its rows, waits
    for the signatures of the step before (holding no status list), allocates the new rows'
    indexes and starts signing them, and stores the step before; the caller commits after each
    ``add`` or ``finish`` that returns outcomes. The first step's indexes are allocated with
    nothing to store: ``checkpoint`` (the caller's commit) ends that unit of work before the
    second step's learners are made, so a run of one step is one unit of work.

    A step's indexes commit with the unit of work before the one that stores it: a crash in
    between leaves them unused, never handed out again.
    """

    def __init__(
        self,
        session: Session,
        services: Services,
        issuer: Issuer,
        actor: str,
        checkpoint: Callable[[], None],
    ) -> None:
        self.session, self.services, self.issuer, self.actor = session, services, issuer, actor
        self.checkpoint = checkpoint
        self.signer = StepSigner(session, services, issuer)
        self.unsettled = dids.Unsettled()
        self.signing: Step | None = None
        self.holding = False  # status indexes allocated, nothing stored or committed since

    def add(self, rows: Sequence[Row]) -> tuple[Step, list[Outcome]] | None:
        """Begin a step of ``rows``; the step before and its outcomes, in row order, once it
        is stored (None for the first step)."""
        if self.holding:
            self.checkpoint()
            self.holding = False
        todo, done = screen(self.session, self.issuer, rows)
        built, failed = prepare(self.session, self.services, self.issuer, todo, self.unsettled)
        step = Step(done + failed, built, [], list)
        previous, self.signing = self.signing, step
        if previous is None:
            self._start(step)
            self.holding = True
            return None
        signed = self._signed(previous)
        self._start(step)
        return previous, self._store(previous, *signed)

    def finish(self) -> tuple[Step, list[Outcome]] | None:
        """Store the last step: it and its outcomes (None when there was no step)."""
        step, self.signing = self.signing, None
        self.holding = False
        if step is None:
            return None
        return step, self._store(step, *self._signed(step))

    def _start(self, step: Step) -> None:
        """Allocate the step's status indexes and start signing it."""
        step.prepared = with_indexes(self.session, self.services, self.issuer, step.built)
        step.signing = self.signer.start([item.document for item in step.prepared])

    def _signed(self, step: Step) -> tuple[list[Prepared], list[dict[str, Any]], list[Outcome]]:
        """Wait for the step's signatures; a row that cannot be signed is its own error."""
        return signed_rows(step.prepared, step.signing, self.signer.alone, self.unsettled)

    def _store(
        self,
        step: Step,
        kept: list[Prepared],
        signed: list[dict[str, Any]],
        unsigned: list[Outcome],
    ) -> list[Outcome]:
        stored = store(
            self.session, self.services, self.issuer, kept, signed, self.actor, self.unsettled
        )
        return sorted(step.decided + unsigned + stored, key=lambda o: o.number)


def issue_rows(
    session: Session,
    services: Services,
    slug: str,
    rows: Iterable[Any],
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Validate the rows and issue the valid ones through the issuing path in steps of ``STEP``
    rows, signed on every core, each step committed as its own unit. ``rows`` is read a step at a
    time (an iterator is never held whole); an error it raises while being read stops the run
    with the steps before it committed, so a caller that streams a file checks it whole first
    (``laurel issue --csv``). Steps overlap: while the worker processes sign one, this process
    prepares the next and stores the previous one. ``progress`` is told how many rows each
    finished step had.

    Uploads of more than one step go through durable jobs (``issuer.issuing.jobs``), whose
    report survives a crash; this direct path is for one step, and for the command line.
    """
    report: dict[int, dict[str, Any]] = {}
    issuer = get_issuer(session, slug)
    steps = Steps(session, services, issuer, actor, session.commit)
    planner = statistics()

    def finish(done: tuple[Step, list[Outcome]] | None) -> None:
        if done is None:
            return
        step, outcomes = done
        for outcome in outcomes:
            report[outcome.number] = outcome.report()
        session.commit()
        planner.grew(session, sum(1 for o in outcomes if o.status == "issued"))
        if progress is not None:
            progress(len(step.numbers))

    for valid in _valid_steps(validated(rows), report):
        finish(steps.add(valid))
    finish(steps.finish())
    return summarised([report[number] for number in sorted(report)])


def _valid_steps(
    rows: Iterator[tuple[int, IssueRequest | ValidationError, str]],
    report: dict[int, dict[str, Any]],
) -> Iterator[list[Row]]:
    """The valid rows in lists of ``STEP``, as they are read; invalid ones go to ``report``."""
    valid: list[Row] = []
    for number, request, key in rows:
        if isinstance(request, ValidationError):
            report[number] = _validation_error(number, request)
            continue
        valid.append((number, request, key))
        if len(valid) == STEP:
            yield valid
            valid = []
    if valid:
        yield valid


def summarised(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {
        status: sum(1 for r in rows if r["status"] == status)
        for status in ("issued", "already issued", "error")
    }
    return {"summary": counts, "rows": rows}
