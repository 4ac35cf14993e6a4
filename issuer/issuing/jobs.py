"""Bulk issuance as durable jobs: a large upload is stored row by row, answered at once with a job
id, and issued by a worker in steps; its progress and per-row report can be read at any time.

Why a job survives anything: every step is one transaction that issues its rows *and* records
their results *and* renews the job's lease. A worker killed mid-step loses only that step's
uncommitted work, which the next worker redoes: no row is lost, none is issued twice (the step
and its results commit together, and each row has its idempotency key), none is half-written.

Only the worker holding a job's lease commits its steps (the lease is checked in the step's own
transaction); a worker that stops renewing it — it died, or hangs — loses the job after
``job_lease_seconds`` to whichever worker is dispatched next (``resumable``).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, insert, or_, text, update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import metrics
from issuer.core.db import unit_of_work, writer
from issuer.core.errors import NotFound
from issuer.institutes.issuers import get_issuer
from issuer.issuing import bulk
from issuer.issuing.issuance import Outcome, Row
from issuer.models import BulkJob, BulkJobRow, Issuer
from issuer.models.base import iso, table_of, utcnow
from issuer.schemas import IssueRequest

SYNC_ROWS = bulk.STEP
"""Up to this many rows a bulk request is answered at once (one step, one transaction: nothing
can be half done); more become a job."""
INSERT_CHUNK = 1000
PAGE = 1000

StepHook = Callable[[str, int], None]
"""Called after each committed step with the job id and the rows done so far (tests)."""


class LeaseLost(Exception):
    """Another worker took the job over: this one stops without committing its step."""


def submit(
    session: Session, services: Services, slug: str, rows: Iterable[Any], actor: str
) -> BulkJob:
    """Store ``rows`` as a new job of ``slug`` (validated now: invalid rows are reported as
    errors straight away), in ``session``. The caller dispatches it after the commit."""
    issuer = get_issuer(session, slug)
    assert issuer.id is not None
    job = BulkJob(id=str(uuid.uuid4()), issuer_id=issuer.id, actor=actor)
    session.add(job)
    session.flush()
    records: list[dict[str, Any]] = []
    total = errors = 0
    table = table_of(BulkJobRow)
    for number, request, key in bulk.validated(rows):
        total = number
        if isinstance(request, ValidationError):
            errors += 1
            records.append(
                _row(job.id, number, None, None, "error", bulk.validation_message(request))
            )
        else:
            records.append(_row(job.id, number, request.model_dump(mode="json"), key, "pending"))
        if len(records) >= INSERT_CHUNK:
            session.execute(insert(table), records)
            records = []
    if records:
        session.execute(insert(table), records)
    job.total, job.errors = total, errors
    if errors == total:
        job.status, job.finished_at = "done", utcnow()
    session.add(job)
    metrics.JOB_ROWS.labels("error").inc(errors)
    return job


def _row(
    job_id: str,
    number: int,
    request: dict[str, Any] | None,
    key: str | None,
    status: str,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "number": number,
        "request": request,
        "idempotency_key": key,
        "status": status,
        "credential_id": None,
        "error": error,
    }


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run(
    services: Services, job_id: str, owner: str | None = None, on_step: StepHook | None = None
) -> str:
    """Take the job (if no live worker has it) and issue its pending rows, step by step, until
    none is left. Returns its status afterwards: ``done``, or ``busy`` when another worker holds
    it, or ``lost`` when another took it over meanwhile."""
    owner = owner or worker_name()
    lease = timedelta(seconds=services.settings.job_lease_seconds)
    if not _claim(services, job_id, owner, lease):
        with unit_of_work(services.engine, write=False) as session:
            job = session.get(BulkJob, job_id)
            return "missing" if job is None else ("done" if job.status == "done" else "busy")
    try:
        _work(services, job_id, owner, lease, on_step)
    except LeaseLost:
        return "lost"
    except BaseException:
        _release(services, job_id, owner)
        raise
    return "done"


def _claim(services: Services, job_id: str, owner: str, lease: timedelta) -> bool:
    with unit_of_work(services.engine) as session:
        now = utcnow()
        claimed = session.execute(
            update(BulkJob)
            .where(
                col(BulkJob.id) == job_id,
                col(BulkJob.status) != "done",
                or_(
                    col(BulkJob.lease_owner).is_(None),
                    col(BulkJob.lease_until) < now,
                    col(BulkJob.lease_owner) == owner,
                ),
            )
            .values(
                lease_owner=owner,
                lease_until=now + lease,
                status="running",
                runs=BulkJob.runs + 1,
                updated_at=now,
            )
        )
        return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]  # a CursorResult


def _release(services: Services, job_id: str, owner: str) -> None:
    """Give the job back at once (this worker failed), so that the next one need not wait."""
    with unit_of_work(services.engine) as session:
        session.execute(
            update(BulkJob)
            .where(col(BulkJob.id) == job_id, col(BulkJob.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )


def _work(
    services: Services, job_id: str, owner: str, lease: timedelta, on_step: StepHook | None
) -> None:
    # One session, a commit per step: the steps of a job are many things, each its own unit.
    with Session(writer(services.engine)) as session:
        job = session.get(BulkJob, job_id)
        assert job is not None
        issuer = session.get(Issuer, job.issuer_id)
        assert issuer is not None
        actor = job.actor
        planner = bulk.statistics("bulk_job_row")

        def checkpoint() -> None:  # the first step's status indexes, the lease renewed
            _record(session, job_id, owner, lease, [])
            session.commit()

        def stored(done: tuple[bulk.Step, list[Outcome]] | None) -> None:
            if done is None:
                return
            outcomes = done[1]
            count = _record(session, job_id, owner, lease, outcomes)
            session.commit()
            planner.grew(session, sum(1 for o in outcomes if o.status == "issued"))
            if on_step is not None:
                on_step(job_id, count)

        steps = bulk.Steps(session, services, issuer, actor, checkpoint)
        taken = 0  # rows up to this number are done or in flight
        while rows := _pending(session, job_id, taken, services.settings.bulk_step):
            taken = rows[-1][0]
            stored(steps.add(rows))
        stored(steps.finish())
        _finish(session, job_id, owner)
        session.commit()


def _pending(session: Session, job_id: str, after: int, step: int) -> list[Row]:
    found = session.exec(
        select(BulkJobRow.number, BulkJobRow.request, BulkJobRow.idempotency_key)
        .where(
            BulkJobRow.job_id == job_id,
            BulkJobRow.status == "pending",
            col(BulkJobRow.number) > after,
        )
        .order_by(col(BulkJobRow.number))
        .limit(step)
    )
    return [(number, IssueRequest.model_validate(request), key) for number, request, key in found]


def _record(
    session: Session, job_id: str, owner: str, lease: timedelta, outcomes: Sequence[Outcome]
) -> int:
    """Write the step's results and renew the lease, in the step's transaction; raise
    ``LeaseLost`` (and roll the step back) when another worker owns the job now."""
    counts = {
        status: sum(1 for o in outcomes if o.status == status)
        for status in ("issued", "already issued", "error")
    }
    now = utcnow()
    renewed = session.execute(
        update(BulkJob)
        .where(col(BulkJob.id) == job_id, col(BulkJob.lease_owner) == owner)
        .values(
            issued=BulkJob.issued + counts["issued"],
            already=BulkJob.already + counts["already issued"],
            errors=BulkJob.errors + counts["error"],
            lease_until=now + lease,
            updated_at=now,
        )
        .returning(col(BulkJob.issued) + col(BulkJob.already) + col(BulkJob.errors))
    ).all()
    if len(renewed) != 1:
        session.rollback()
        raise LeaseLost(job_id)
    _set_rows(session, job_id, outcomes)
    for status, count in counts.items():
        metrics.JOB_ROWS.labels(status).inc(count)
    # The rows done so far, from the job's counters (kept in the same transactions as the rows'
    # statuses): counting the job's rows at every step made a long job's steps ever slower.
    return int(renewed[0][0])


_SET_ROWS_POSTGRES = text(
    "UPDATE bulk_job_row AS r SET status = v.s, credential_id = v.c, error = v.e "
    "FROM unnest(CAST(:n AS integer[]), CAST(:s AS varchar[]), CAST(:c AS varchar[]), "
    "CAST(:e AS varchar[])) AS v(n, s, c, e) "
    "WHERE r.job_id = :j AND r.number BETWEEN :first AND :last AND r.number = v.n"
)
"""The step's rows by their numbers' range too: without it PostgreSQL joins the arrays with a
scan of every row of the job (one job_id), which grew with the job (~45 ms a step at 100,000
rows); with it, an index scan of the step's own rows."""


def _set_rows(session: Session, job_id: str, outcomes: Sequence[Outcome]) -> None:
    """Each row's status, credential and error. On PostgreSQL one statement for the step, its
    values as arrays: the 1,000 single-row updates of a step (pipelined) were ~11% of a bulk
    job's thread, most of it psycopg and PostgreSQL handling each statement."""
    if not outcomes:
        return
    errors = [o.error.detail[:2000] if o.error is not None else None for o in outcomes]
    if session.get_bind().dialect.name == "postgresql":
        numbers = [o.number for o in outcomes]
        session.execute(
            _SET_ROWS_POSTGRES,
            {
                "j": job_id,
                "first": min(numbers),
                "last": max(numbers),
                "n": numbers,
                "s": [o.status for o in outcomes],
                "c": [o.credential_id for o in outcomes],
                "e": errors,
            },
        )
        return
    table = table_of(BulkJobRow)
    session.execute(
        update(table)
        .where(table.c.job_id == bindparam("j"), table.c.number == bindparam("n"))
        .values(status=bindparam("s"), credential_id=bindparam("c"), error=bindparam("e")),
        [
            {"j": job_id, "n": o.number, "s": o.status, "c": o.credential_id, "e": error}
            for o, error in zip(outcomes, errors, strict=True)
        ],
    )


def _finish(session: Session, job_id: str, owner: str) -> None:
    now = utcnow()
    finished = session.execute(
        update(BulkJob)
        .where(col(BulkJob.id) == job_id, col(BulkJob.lease_owner) == owner)
        .values(status="done", finished_at=now, updated_at=now, lease_owner=None, lease_until=None)
    )
    if finished.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's count
        session.rollback()
        raise LeaseLost(job_id)


def resumable(session: Session) -> list[str]:
    """Jobs that are not done and that no live worker holds: new ones whose dispatch was lost,
    and those whose worker died."""
    now = utcnow()
    return list(
        session.exec(
            select(BulkJob.id)
            .where(
                col(BulkJob.status) != "done",
                or_(col(BulkJob.lease_until).is_(None), col(BulkJob.lease_until) < now),
            )
            .order_by(col(BulkJob.created_at))
        )
    )


def get_job(session: Session, issuer: Issuer, job_id: str) -> BulkJob:
    job = session.get(BulkJob, job_id) if len(job_id) <= 36 else None
    if job is None or job.issuer_id != issuer.id:
        raise NotFound(f"no bulk job {job_id!r} for issuer {issuer.slug!r}")
    return job


def view(
    session: Session, job: BulkJob, path: str, offset: int = 0, limit: int = PAGE
) -> dict[str, Any]:
    """The job as the API shows it: state, counts, and one page of the per-row report (rows in
    order; rows still pending are not listed)."""
    found = session.exec(
        select(BulkJobRow)
        .where(BulkJobRow.job_id == job.id, BulkJobRow.status != "pending")
        .order_by(col(BulkJobRow.number))
        .offset(offset)
        .limit(limit + 1)
    )
    rows = list(found)
    more = len(rows) > limit
    processed = job.issued + job.already + job.errors
    answer: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "total": job.total,
        "processed": processed,
        "summary": {"issued": job.issued, "already issued": job.already, "error": job.errors},
        "createdAt": iso(job.created_at),
        "finishedAt": iso(job.finished_at) if job.finished_at else None,
        "rows": [_report(r) for r in rows[:limit]],
    }
    if more:
        answer["next"] = f"{path}?offset={offset + limit}&limit={limit}"
    return answer


def _report(row: BulkJobRow) -> dict[str, Any]:
    found: dict[str, Any] = {"row": row.number, "status": row.status}
    if row.credential_id:
        found["id"] = f"urn:uuid:{row.credential_id}"
    if row.error:
        found["error"] = row.error
    return found
