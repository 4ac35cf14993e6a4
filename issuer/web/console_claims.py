"""The informal-learning claims of the organisation the staff member's issuer is the home of
(``issuer.orgs.informal``), by state: read-only (the supervisors decide, in their wallets).
Viewing it is written to the access log (it lists people's claims)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import col, select

from issuer.core.errors import BadRequest
from issuer.http.deps import ServicesDep, WriteSessionDep
from issuer.http.staff import Viewer
from issuer.models import InformalClaim, OrgMember, OrgUnit
from issuer.orgs import of_issuer
from issuer.orgs.informal import STATES
from issuer.people import access
from issuer.web.render import render

router = APIRouter(tags=["pages"], include_in_schema=False)
LIMIT = 500


@router.get("/console/claims")
def claim_list(
    request: Request,
    services: ServicesDep,
    db: WriteSessionDep,
    signed: Viewer,
    state: Annotated[str, Query(max_length=16)] = "submitted",
) -> Response:
    if state and state not in STATES:
        raise BadRequest(f"the state is one of {', '.join(STATES)}")
    org = of_issuer(db, signed.issuer)
    rows: list[InformalClaim] = []
    names: dict[int, str | None] = {}
    units: dict[int, str] = {}
    if org is not None:
        query = select(InformalClaim).where(InformalClaim.org_id == org.id)
        if state:
            query = query.where(InformalClaim.state == state)
        rows = list(db.exec(query.order_by(col(InformalClaim.submitted_at).desc()).limit(LIMIT)))
        names = {
            m.learner_id: m.name
            for m in db.exec(select(OrgMember).where(OrgMember.org_id == org.id))
        }
        units = {
            u.id: u.name
            for u in db.exec(select(OrgUnit).where(OrgUnit.org_id == org.id))
            if u.id is not None
        }
        access.record(db, signed.issuer.id, signed.actor, "claims.list", state or "all")
    return render(
        request,
        services,
        "console_claims.html",
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        org=org,
        rows=rows,
        names=names,
        units=units,
        state=state,
        states=STATES,
        hours=lambda value: f"{value:g}" if value is not None else "–",
    )
