"""The console's organisation page (``/console/org``): for the staff of an organisation's home
issuer, what it is made of and what came from where — its departments with their supervisors
and members, the roster size, the issuers it trusts (home, on this Laurel, elsewhere) and the
credentials members shared, per source and state. Viewers read it; changes go through
``laurel orgs`` or the organisations API (``issuer.api.orgs``), as owners decide."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.staff import Viewer
from issuer.models import Organisation, OrgUnit
from issuer.orgs import members, of_issuer
from issuer.orgs.manage import trusted
from issuer.wallet.orgs import listing
from issuer.web.render import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/console/org")
def org_page(request: Request, services: ServicesDep, db: SessionDep, signed: Viewer) -> Response:
    org = of_issuer(db, signed.issuer)
    return render(
        request,
        services,
        "console_org.html",
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        org=org,
        **(_context(db, org) if org is not None else {}),
    )


def _context(db: Session, org: Organisation) -> dict[str, Any]:
    people = members(db, org)
    units = list(db.exec(select(OrgUnit).where(OrgUnit.org_id == org.id)))
    codes = {u.id: u.code for u in units}
    per_unit = Counter(m.unit_id for m in people)
    shared = listing(db, org)
    sources: dict[tuple[str, str], Counter[str]] = {}
    for entry in shared:
        sources.setdefault((entry["issuer"], entry["issuerRef"]), Counter())[entry["state"]] += 1
    return {
        "units": [
            {
                "code": u.code,
                "name": u.name,
                "name_ko": u.name_ko,
                "parent": codes.get(u.parent_id),
                "supervisor": u.supervisor_email,
                "members": per_unit.get(u.id, 0),
            }
            for u in sorted(units, key=lambda u: u.code)
        ],
        "roster": len(people),
        "unplaced": per_unit.get(None, 0),
        "trusted": trusted(db, org),
        "sources": [
            {"issuer": issuer, "ref": ref, "states": dict(states)}
            for (issuer, ref), states in sorted(sources.items())
        ],
    }
