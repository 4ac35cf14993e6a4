"""Finding credentials in the console (recipient, achievement, status incl. expired, issue date;
paged) and revoking one with a reason. Viewers read, issuers revoke; another issuer's credentials
are 404. A search by recipient and a credential's page are written to the access log."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from issuer.core.errors import BadRequest
from issuer.http.deps import ServicesDep, SessionDep, WriteSessionDep
from issuer.http.staff import IssuingForm, Viewer
from issuer.issuing import achievements, credentials, search
from issuer.people import access
from issuer.web.render import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _date(text: str) -> date | None:
    """A form's date (``YYYY-MM-DD``; empty: no filter)."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise BadRequest(f"{text!r} is not a date (YYYY-MM-DD)") from None


@router.get("/console/credentials")
def credential_list(
    request: Request,
    services: ServicesDep,
    db: WriteSessionDep,
    signed: Viewer,
    recipient: Annotated[str, Query(max_length=320)] = "",
    achievement: Annotated[str, Query(max_length=100)] = "",
    status: Annotated[str, Query(max_length=10)] = "",
    issued_from_text: Annotated[str, Query(alias="from", max_length=10)] = "",
    issued_to_text: Annotated[str, Query(alias="to", max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    if status and status not in search.STATUSES:
        raise BadRequest(f"the status is one of {', '.join(search.STATUSES)}")
    issued_from, issued_to = _date(issued_from_text), _date(issued_to_text)
    found = search.search(
        db,
        signed.issuer,
        recipient=recipient or None,
        achievement=achievement or None,
        status=status or None,
        issued_from=issued_from,
        issued_to=issued_to,
        page=page,
    )
    if recipient.strip():
        access.record(db, signed.issuer.id, signed.actor, "credentials.search", recipient.strip())
    filters = {
        "recipient": recipient,
        "achievement": achievement,
        "status": status,
        "from": issued_from.isoformat() if issued_from else "",
        "to": issued_to.isoformat() if issued_to else "",
    }
    return render(
        request,
        services,
        "console_credentials.html",
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        found=found,
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
        statuses=search.STATUSES,
        achievements=achievements.list_achievements(db, signed.issuer),
    )


@router.get("/console/credentials/{credential_id}")
def credential_page(
    credential_id: str,
    request: Request,
    services: ServicesDep,
    db: WriteSessionDep,
    signed: Viewer,
) -> Response:
    found = search.find(db, signed.issuer, credential_id)
    access.record(db, signed.issuer.id, signed.actor, "credential.view", found.recipient)
    return render(
        request,
        services,
        "console_credential.html",
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        found=found,
        done=request.query_params.get("done"),
    )


@router.post("/console/credentials/{credential_id}/revoke")
def revoke(
    credential_id: str,
    db: SessionDep,
    signed: IssuingForm,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    found = search.find(db, signed.issuer, credential_id)
    if not reason.strip():
        raise BadRequest("give a reason for the revocation; the verification page shows it")
    credentials.revoke(db, found.credential.id, reason.strip(), None, signed.actor)
    return RedirectResponse(
        f"/console/credentials/{found.credential.id}?done=revoked", status_code=303
    )
