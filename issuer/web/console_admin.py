"""The owner's pages of the console: API keys for machines (create with scopes, the key shown
once; last use; revoke) and the access log of views of people's data, beside the audit chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from issuer.core.errors import BadRequest
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.staff import Owner, OwnerForm
from issuer.institutes import apikeys
from issuer.models.apikey import SCOPES
from issuer.people import access
from issuer.web.render import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _keys_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: Owner,
    status: int = 200,
    created: str | None = None,
    error: str | None = None,
) -> Response:
    return render(
        request,
        services,
        "console_keys.html",
        status,
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        keys=apikeys.list_api_keys(db, signed.issuer),
        scopes=SCOPES,
        created=created,
        error=error,
    )


@router.get("/console/keys")
def keys(request: Request, services: ServicesDep, db: SessionDep, signed: Owner) -> Response:
    return _keys_page(request, services, db, signed)


@router.post("/console/keys")
async def create_key(
    request: Request, services: ServicesDep, db: SessionDep, signed: OwnerForm
) -> Response:
    form = await request.form()
    scopes = [str(scope) for scope in form.getlist("scopes") if scope in SCOPES]
    name = str(form.get("name", "")).strip()[:100] or None
    if not scopes:
        raise BadRequest("choose at least one scope for the key")
    key = apikeys.create_api_key(db, signed.issuer.slug, scopes, name, actor=signed.actor)
    # shown once, in this answer only (never in a URL, never stored in the clear)
    return _keys_page(request, services, db, signed, 201, created=key)


@router.post("/console/keys/{key_id}/revoke")
def revoke_key(key_id: int, db: SessionDep, signed: OwnerForm) -> Response:
    apikeys.revoke_api_key(db, signed.issuer, key_id, signed.actor)
    return RedirectResponse("/console/keys", status_code=303)


@router.get("/console/access-log")
def access_log(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: Owner,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return render(
        request,
        services,
        "console_access.html",
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        entries=access.entries(db, signed.issuer, page),
        page=page,
        per_page=access.PER_PAGE,
    )
