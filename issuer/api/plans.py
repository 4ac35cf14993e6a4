"""The development plans API: an organisation's yearly IDPs/EDPs with their progress now, as
JSON or CSV, for its home issuer's API keys (``read``). Every call is in the access log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from sqlmodel import Session

from issuer.core.errors import NotFound
from issuer.http.deps import ApiKeyDep, ServicesDep, StrictJSONRoute, WriteSessionDep, require
from issuer.http.problems import READ, responses
from issuer.models import ApiKey, Organisation

router = APIRouter(prefix="/api/v1", tags=["plans"], route_class=StrictJSONRoute)
OrgSlug = Annotated[str, Path(min_length=1, max_length=64, description="The organisation.")]
PlanId = Annotated[int, Path(ge=1, le=2**62)]
YearQuery = Annotated[
    int | None, Query(ge=2000, le=2999, description="The plan year (default: this year).")
]
CSV = {"text/csv": {"schema": {"type": "string"}}}


def org_for(db: Session, key: ApiKey, slug: str) -> Organisation:
    """The organisation ``slug`` if ``key`` is its home issuer's (else 404, as if it did not
    exist) with the ``read`` scope (else 403)."""
    from issuer.orgs import organisation

    try:
        org = organisation(db, slug)
    except NotFound:
        raise NotFound(f"there is no organisation {slug!r}") from None
    if org.issuer_id != key.issuer_id:
        raise NotFound(f"there is no organisation {slug!r}")
    require(key, "read")
    return org


def _viewed(db: Session, org: Organisation, key: ApiKey, action: str, subject: str) -> None:
    from issuer.people.access import record

    record(db, org.issuer_id, f"apikey:{key.prefix}", action, subject)


@router.get(
    "/orgs/{org}/plans",
    summary="An organisation's development plans of a year",
    description="Every IDP/EDP of `year`: objectives (level at the start, wanted, now), "
    "activities (dates, cost, done by which badge) and progress, computed now. "
    "`format=csv`: one row per activity and one per objective with none.",
    responses=responses(*READ, also={200: {"description": "The plans", "content": CSV}}),
)
def list_plans(
    org: OrgSlug,
    db: WriteSessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
    year: YearQuery = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    from issuer.orgs import plans
    from issuer.orgs.plan_export import as_dict, csv_text
    from issuer.people.emails import known_emails

    found = org_for(db, key, org)
    chosen = year or datetime.now(UTC).year
    rows = plans.plans(db, found, chosen)
    emails = known_emails(db, found.issuer_id, [p.learner_id for p in rows])
    views = [(plans.view(db, services, found, p), emails.get(p.learner_id)) for p in rows]
    _viewed(db, found, key, "plans.list", f"{found.slug} {chosen}")
    if format == "csv":
        name = f"plans-{found.slug}-{chosen}.csv"
        return Response(
            csv_text(views),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return {"year": chosen, "plans": [as_dict(shown, email) for shown, email in views]}


@router.get(
    "/orgs/{org}/plans/{plan_id}",
    summary="One development plan with its progress now",
    responses=responses(*READ),
)
def get_plan(
    org: OrgSlug, plan_id: PlanId, db: WriteSessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    from issuer.orgs import plans
    from issuer.orgs.plan_export import as_dict
    from issuer.people.emails import known_emails

    found = org_for(db, key, org)
    plan = plans.plan_by_id(db, found, plan_id)
    email = known_emails(db, found.issuer_id, [plan.learner_id]).get(plan.learner_id)
    _viewed(db, found, key, "plan.view", email or f"learner {plan.learner_id}")
    return as_dict(plans.view(db, services, found, plan), email)
