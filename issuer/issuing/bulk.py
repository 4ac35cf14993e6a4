"""Bulk issuance: every row is issued or rejected on its own, with a per-row report.

Rows come from a JSON array or a CSV file (columns below). A row without an ``idempotencyKey``
gets one derived from its content, so uploading the same file twice reports "already issued"
instead of issuing twice. A failing row never affects another, and never half-issues (see
``issuance.issue``).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from pydantic import ValidationError

from issuer.core.context import Services
from issuer.core.errors import BadRequest, LaurelError
from issuer.issuing.issuance import issue, request_hash
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
BATCH = 1000


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


def issue_row(services: Services, slug: str, number: int, row: Any, actor: str) -> dict[str, Any]:
    """One row through the single-issue path (the CLI's progress bar uses this)."""
    try:
        request = IssueRequest.model_validate(row)
    except ValidationError as exc:
        return _validation_error(number, exc)
    key = request.idempotencyKey or f"row:{request_hash(request)}"
    try:
        issued = issue(services, slug, request, idempotency_key=key, actor=actor)
    except LaurelError as exc:
        return {"row": number, "status": "error", "error": exc.detail}
    return {
        "row": number,
        "status": "issued" if issued.created else "already issued",
        "id": f"urn:uuid:{issued.credential.id}",
    }


def issue_rows(services: Services, slug: str, rows: Iterable[Any], actor: str) -> dict[str, Any]:
    """Validate every row, then issue the valid ones in batches (``batch.issue_batch``)."""
    from issuer.issuing.batch import issue_batch

    report: dict[int, dict[str, Any]] = {}
    pending: list[tuple[int, IssueRequest]] = []
    for number, row in enumerate(rows, start=1):
        if number > MAX_ROWS:
            raise BadRequest(f"a bulk request holds at most {MAX_ROWS} rows")
        try:
            pending.append((number, IssueRequest.model_validate(row)))
        except ValidationError as exc:
            report[number] = _validation_error(number, exc)
    for start in range(0, len(pending), BATCH):
        report.update(issue_batch(services, slug, pending[start : start + BATCH], actor))
    ordered = [report[number] for number in sorted(report)]
    counts = {
        status: sum(1 for r in ordered if r["status"] == status)
        for status in ("issued", "already issued", "error")
    }
    return {"summary": counts, "rows": ordered}
