"""Bulk issuance: every row is issued or rejected on its own, with a per-row report.

Rows come from a JSON array or a CSV file (columns below). A row without an ``idempotencyKey``
gets one derived from its content, so uploading the same file twice reports "already issued"
instead of issuing twice. A failing row never affects another, and never half-issues (see
``issuer.issuing.issuance``, the one issuing path this batches).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import BadRequest
from issuer.crypto.keystore import proof_key
from issuer.crypto.signer_pool import submit
from issuer.institutes.issuers import get_issuer, signing_key
from issuer.issuing.documents import request_hash
from issuer.issuing.issuance import Prepared, Row, prepare, screen, store
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
)
MAX_ROWS = 100_000
STEP = 250


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
    return row


def csv_rows(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if not header or unknown or "email" not in header or "achievement" not in header:
        extra = f"; unknown: {', '.join(unknown)}" if unknown else ""
        raise BadRequest(
            f"the CSV header must name columns from {', '.join(CSV_COLUMNS)} "
            f"(email and achievement required){extra}"
        )
    for record in reader:
        if None in record:
            raise BadRequest(f"CSV line {reader.line_num} has more fields than the header")
        yield row_from_csv(record)


async def decoded_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """UTF-8 lines from a byte stream, decoded incrementally (a BOM is dropped)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    try:
        async for chunk in chunks:
            pending += decoder.decode(chunk)
            *complete, pending = pending.split("\n")
            for line in complete:
                yield line + "\n"
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise BadRequest("the CSV is not UTF-8 text; save it as 'CSV UTF-8'") from exc
    if pending:
        yield pending


def _validation_error(number: int, exc: ValidationError) -> dict[str, Any]:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'row'}: {error['msg']}"
        for error in exc.errors()[:5]
    )
    return {"row": number, "status": "error", "error": problems}


def issue_rows(
    session: Session,
    services: Services,
    slug: str,
    rows: Iterable[Any],
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Validate every row, then issue the valid ones through the issuing path in steps of
    ``STEP`` rows, signed on every core, each step committed as its own unit: a bulk request
    is many things, and holding the issuer's status list for all of them would stop every other
    issuance. Steps overlap: while the worker processes sign one, this process prepares the next
    and stores the previous one. A row without ``idempotencyKey`` gets ``row:{hash of the row}``.
    ``progress`` is told how many rows each finished step had.
    """
    report: dict[int, dict[str, Any]] = {}
    valid: list[Row] = []
    for number, row in enumerate(rows, start=1):
        if number > MAX_ROWS:
            raise BadRequest(f"a bulk request holds at most {MAX_ROWS} rows")
        try:
            request = IssueRequest.model_validate(row)
        except ValidationError as exc:
            report[number] = _validation_error(number, exc)
            continue
        valid.append((number, request, request.idempotencyKey or f"row:{request_hash(request)}"))
    issuer = get_issuer(session, slug)
    key_row = signing_key(session, issuer, "di")
    key = proof_key(services.keystore, key_row)
    in_flight: list[tuple[list[Prepared], Callable[[], list[dict[str, Any]]]]] = []

    def finish(prepared: list[Prepared], signing: Callable[[], list[dict[str, Any]]]) -> None:
        for outcome in store(session, services, issuer, prepared, signing(), actor):
            report[outcome.number] = outcome.report()
        session.commit()
        if progress is not None:
            progress(len(prepared))

    for start in range(0, len(valid), STEP):
        todo, done = screen(session, issuer, valid[start : start + STEP])
        prepared, failed = prepare(session, services, issuer, todo)
        for outcome in done + failed:
            report[outcome.number] = outcome.report()
        documents = [item.document for item in prepared]
        in_flight.append((prepared, submit(documents, key, key_row.kid)))
        if len(in_flight) > 1:
            finish(*in_flight.pop(0))
    for prepared, signing in in_flight:
        finish(prepared, signing)
    ordered = [report[number] for number in sorted(report)]
    counts = {
        status: sum(1 for r in ordered if r["status"] == status)
        for status in ("issued", "already issued", "error")
    }
    return {"summary": counts, "rows": ordered}
