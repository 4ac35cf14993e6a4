"""The console's learning-hours page for directors and team leaders of the organisation the
issuer is the home of: per unit (members, met, percent met, average hours) and per member, with
filters by unit (and the units below it), grade, year and status, and the same as CSV.

Every view is recorded in the access log (``issuer.people.access``): it shows people's hours."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, select

from issuer.core.errors import NotFound
from issuer.http.deps import ServicesDep, SessionDep, WriteSessionDep
from issuer.http.staff import OwnerForm, Staff, Viewer
from issuer.models import Organisation, OrgUnit
from issuer.orgs import of_issuer
from issuer.orgs.hours import STATUSES, report, set_rules
from issuer.orgs.rules import Rules
from issuer.people.access import record
from issuer.web.render import render

router = APIRouter(tags=["pages"], include_in_schema=False)
YearQuery = Annotated[int | None, Query(ge=1900, le=9999)]
UnitQuery = Annotated[str | None, Query(max_length=64)]
GradeQuery = Annotated[str | None, Query(max_length=32)]
StatusQuery = Annotated[str | None, Query(pattern="^(|met|unmet|exempt)$")]


def _org(db: Session, signed: Staff) -> Organisation:
    org = of_issuer(db, signed.issuer)
    if org is None:
        raise NotFound("this issuer runs no organisation")
    return org


def _filters(
    year: int | None, unit: str | None, grade: str | None, status: str | None
) -> dict[str, str]:
    found = {
        "year": str(year or datetime.now(UTC).year),
        "unit": (unit or "").strip(),
        "grade": (grade or "").strip(),
        "status": status or "",
    }
    return found


@router.get("/console/hours")
def hours_page(
    request: Request,
    services: ServicesDep,
    db: WriteSessionDep,
    signed: Viewer,
    year: YearQuery = None,
    unit: UnitQuery = None,
    grade: GradeQuery = None,
    status: StatusQuery = None,
) -> Response:
    return _page(request, services, db, signed, _filters(year, unit, grade, status))


@router.post("/console/hours/rules")
async def save_rules(
    request: Request, services: ServicesDep, db: SessionDep, signed: OwnerForm
) -> Response:
    """An owner replaces the organisation's rules (JSON; fields left out take the defaults)."""
    org = _org(db, signed)
    form = await request.form()
    text = str(form.get("rules", ""))[:20_000]
    try:
        rules = Rules.model_validate_json(text or "{}")
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(str(p) for p in e["loc"]) + f": {e['msg']}" if e["loc"] else e["msg"]
            for e in exc.errors()
        )
        return _page(
            request, services, db, signed, _filters(None, None, None, None), 422,
            error=problems, rules_text=text,
        )  # fmt: skip
    set_rules(db, org, rules, signed.actor)
    return RedirectResponse("/console/hours?saved=1", status_code=303)


def _page(
    request: Request,
    services: ServicesDep,
    db: Session,
    signed: Staff,
    filters: dict[str, str],
    status_code: int = 200,
    error: str | None = None,
    rules_text: str | None = None,
) -> Response:
    org = of_issuer(db, signed.issuer)
    if org is None:
        return render(
            request, services, "console_hours.html", staff=signed, csrf=signed.csrf,
            home="/console", org=None, filters=filters,
        )  # fmt: skip
    units = list(db.exec(select(OrgUnit).where(OrgUnit.org_id == org.id).order_by(OrgUnit.code)))
    record(db, org.issuer_id, signed.actor, "org.hours", _subject(org, filters))
    found = report(
        db,
        services,
        org,
        int(filters["year"]),
        unit=filters["unit"] or None,
        grade=filters["grade"] or None,
        status=filters["status"] or None,
    )
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        services,
        "console_hours.html",
        status_code,
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        org=org,
        rules_text=rules_text or json.dumps(found.rules.model_dump(mode="json"), indent=2),
        error=error,
        saved=request.query_params.get("saved") == "1",
        units=units,
        statuses=STATUSES,
        filters=filters,
        report=found,
        summaries=found.units(),
        csv_url=f"/console/hours.csv?{query}",
    )


@router.get("/console/hours.csv")
def hours_csv(
    services: ServicesDep,
    db: WriteSessionDep,
    signed: Viewer,
    year: YearQuery = None,
    unit: UnitQuery = None,
    grade: GradeQuery = None,
    status: StatusQuery = None,
) -> Response:
    org = _org(db, signed)
    filters = _filters(year, unit, grade, status)
    record(db, org.issuer_id, signed.actor, "org.hours", _subject(org, filters))
    found = report(
        db,
        services,
        org,
        int(filters["year"]),
        unit=filters["unit"] or None,
        grade=filters["grade"] or None,
        status=filters["status"] or None,
    )
    return Response(
        found.csv(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="hours-{org.slug}-{filters["year"]}.csv"'
        },
    )


def _subject(org: Organisation, filters: dict[str, str]) -> str:
    return " ".join([org.slug, *(f"{k}={v}" for k, v in filters.items() if v)])
