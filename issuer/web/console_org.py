"""The console's organisation page (``/console/org``): for the staff of an organisation's home
issuer, what it is made of and what came from where — its departments with their supervisors
and members, the roster size, the issuers it trusts (home, on this Laurel, elsewhere) and the
credentials members shared, per source and state. Viewers read it; owners also upload the units
and the roster (CSV, all or nothing: a bad row is listed and nothing changes) and add or remove
trusted issuers, through the services the API uses (``issuer.orgs.manage``)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from issuer.core.errors import BadRequest, LaurelError, NotFound
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.staff import OwnerForm, Staff, Viewer
from issuer.models import Organisation, OrgUnit
from issuer.orgs import manage, members, of_issuer
from issuer.orgs.manage import InvalidRows, trusted
from issuer.wallet.orgs import listing
from issuer.web.render import render

router = APIRouter(tags=["pages"], include_in_schema=False)


MAX_CSV_BYTES = 5_000_000
Line = Annotated[str, Form(max_length=600)]


@router.get("/console/org")
def org_page(request: Request, services: ServicesDep, db: SessionDep, signed: Viewer) -> Response:
    return _page(request, services, db, signed, done=request.query_params.get("done"))


def _page(
    request: Request,
    services: ServicesDep,
    db: Session,
    signed: Staff,
    status: int = 200,
    **shown: Any,
) -> Response:
    org = of_issuer(db, signed.issuer)
    return render(
        request,
        services,
        "console_org.html",
        status,
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        org=org,
        **(_context(db, org) if org is not None else {}),
        **shown,
    )


def _own(db: Session, signed: Staff) -> Organisation:
    org = of_issuer(db, signed.issuer)
    if org is None:
        raise NotFound("this issuer runs no organisation")
    return org


@router.post("/console/org/{what}")
async def change(
    what: str,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: OwnerForm,
    upload: UploadFile | None = None,
    issuer: Line = "",
    ref: Line = "",
    name: Line = "",
) -> Response:
    """An owner's change: ``roster`` or ``units`` (a CSV upload), ``trust`` or ``distrust``."""
    org = _own(db, signed)
    try:
        if what in ("roster", "units"):
            columns = manage.ROSTER_COLUMNS if what == "roster" else manage.UNIT_COLUMNS
            rows = manage.read_csv(await _csv(upload), columns)
            if what == "roster":
                manage.replace_roster(db, org, rows, signed.actor)
            else:
                manage.replace_units(db, org, rows, signed.actor)
        elif what == "trust":
            manage.trust(
                db,
                org,
                signed.actor,
                issuer=issuer.strip() or None,
                issuer_ref=None if issuer.strip() else ref.strip(),
                name=name.strip() or None,
            )
        elif what == "distrust":
            manage.distrust(db, org, ref, signed.actor)
        else:
            raise NotFound(f"there is no change {what!r}")
    except InvalidRows as exc:
        return _page(request, services, db, signed, exc.status, error=exc.detail, rows=exc.rows)
    except LaurelError as exc:
        if isinstance(exc, NotFound) and what not in ("trust", "distrust"):
            raise
        return _page(request, services, db, signed, exc.status, error=exc.detail)
    return RedirectResponse(f"/console/org?done={what}", status_code=303)


async def _csv(upload: UploadFile | None) -> str:
    if upload is None or not upload.filename:
        raise BadRequest("choose a CSV file")
    data = await upload.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise BadRequest(f"the CSV is over {MAX_CSV_BYTES:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the CSV is not UTF-8 text; save it as 'CSV UTF-8'") from None


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
