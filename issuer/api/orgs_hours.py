"""An organisation's learning hours and the rules they are counted by, for its home issuer's API
keys: the report per member (JSON or CSV), the rules (read and replace) and the annual badge for a
year (``issuer.orgs.hours``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from sqlmodel import Session

from issuer.core.errors import NotFound
from issuer.http.deps import (
    ApiKeyDep,
    ServicesDep,
    SessionDep,
    StrictJSONRoute,
    WriteSessionDep,
    require,
)
from issuer.http.problems import READ, WRITE, responses
from issuer.models import ApiKey, Organisation
from issuer.orgs.rules import Rules

router = APIRouter(prefix="/api/v1", tags=["organisations"], route_class=StrictJSONRoute)
OrgSlug = Annotated[
    str,
    Path(
        description="The organisation's slug.",
        max_length=64,
        pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
    ),
]
Year = Annotated[int, Query(ge=1900, le=9999, description="The calendar year (of `validFrom`).")]
REPORT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Per member of the roster (zeros included): `hours` counted (`formal` + "
        "`informal`), `informalCappedAway`, `designated` and `mandatory` hours, `required`, "
        "`designatedRequired`, `mandatoryRequired`, `status` (`met`, `unmet`, or `exempt`: "
        "no requirement for the grade), `remaining`, `sources` (hours per issuer, `here` on "
        "this Laurel or `shared` from elsewhere) and `badges` (each badge of the year and what "
        "it added); per unit: members, met, percent met, average hours. See docs/skills.md, "
        "Learning hours. As `text/csv` (one row per member) with `Accept: text/csv` or "
        "`format=csv`.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


def _org(db: Session, key: ApiKey, slug: str, scope: str) -> Organisation:
    """The organisation ``slug`` if ``key`` belongs to its home issuer (else 404, as if it did
    not exist) and has ``scope`` (else 403)."""
    from issuer.orgs import organisation

    try:
        org = organisation(db, slug)
    except NotFound:
        raise NotFound(f"there is no organisation {slug!r}") from None
    if org.issuer_id != key.issuer_id:
        raise NotFound(f"there is no organisation {slug!r}")
    require(key, scope)
    return org


@router.get(
    "/orgs/{org}/hours",
    summary="Learning hours of the organisation's roster against its rules",
    description="Every member of the roster (also those with no hours) for one calendar year: "
    "hours from every issuer the organisation trusts, each counted once (programme awards and "
    "the annual badge add none), informal learning within its caps, designated and mandatory "
    "hours, and whether the year's rule is met. Filters: `unit` (a unit's code: it and the "
    "units below it), `grade` (`5` or `5급`), `status` (`met`, `unmet`, `exempt`). Views are "
    "recorded in the home issuer's access log.",
    response_class=Response,
    responses=responses(*READ, also=REPORT),
)
def org_hours(
    org: OrgSlug,
    year: Year,
    request: Request,
    db: WriteSessionDep,
    services: ServicesDep,
    key: ApiKeyDep,
    unit: Annotated[
        str | None, Query(min_length=1, max_length=64, description="A unit's code.")
    ] = None,
    grade: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    status: Annotated[str | None, Query(pattern="^(met|unmet|exempt)$")] = None,
    format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
) -> Response:
    from issuer.orgs.hours import report
    from issuer.people.access import record

    found = _org(db, key, org, "read")
    filters = " ".join(
        f"{name}={value}"
        for name, value in (("unit", unit), ("grade", grade), ("status", status))
        if value
    )
    record(
        db,
        found.issuer_id,
        f"apikey:{key.prefix}",
        "org.hours",
        f"{found.slug} {year} {filters}".strip(),
    )
    result = report(db, services, found, year, unit=unit, grade=grade, status=status)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(
            result.csv(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="hours-{found.slug}-{year}.csv"'
            },
        )
    return Response(json.dumps(result.public()), media_type="application/json")


@router.get(
    "/orgs/{org}/rules",
    summary="The organisation's learning-hours rules",
    description="The rules in force, defaults filled in (see docs/skills.md, Learning hours).",
    responses=responses(*READ),
)
def get_rules(org: OrgSlug, db: SessionDep, key: ApiKeyDep) -> Rules:
    from issuer.orgs.rules import load

    return load(_org(db, key, org, "read").rules)


@router.put(
    "/orgs/{org}/rules",
    summary="Replace the organisation's learning-hours rules",
    description="Fields left out take their defaults (the study's Korean ones, or Laurel's). "
    "Invalid rules (an unknown field, a share outside 0–1, hours that are negative) are refused "
    "with 422; a body that is not strict JSON (`NaN`, `Infinity`) with 400. "
    "Needs the `admin` scope.",
    responses=responses(*WRITE),
)
def put_rules(org: OrgSlug, body: Rules, db: SessionDep, key: ApiKeyDep) -> Rules:
    from issuer.orgs.hours import set_rules

    set_rules(db, _org(db, key, org, "admin"), body, f"apikey:{key.prefix}")
    return body


@router.post(
    "/orgs/{org}/hours/{year}/evaluate",
    summary="Issue the annual badge to every member who met a year's rule",
    description="Safe to repeat: each member gets the annual badge once per year (it is also "
    "issued automatically as badges arrive). Needs the `issue` scope.",
    responses=responses(*READ),
)
def evaluate_year(
    org: OrgSlug,
    year: Annotated[int, Path(ge=1900, le=9999)],
    db: SessionDep,
    services: ServicesDep,
    key: ApiKeyDep,
) -> dict[str, Any]:
    from issuer.orgs.hours import evaluate

    found = _org(db, key, org, "issue")
    issued = evaluate(db, services, found, year, actor=f"apikey:{key.prefix}")
    return {"org": found.slug, "year": year, "issued": [f"urn:uuid:{i}" for i in issued]}
