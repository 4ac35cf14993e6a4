"""The front door, ``GET /``: what this service is, and the ways in — verify a badge, a
learner's wallet, staff sign-in, the API docs. Both of its forms are the ones ``/verify`` and
``/wallet/login`` take, with the double-submit CSRF token of forms shown before sign-in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from issuer.http.deps import ServicesDep, SessionDep
from issuer.models import Issuer
from issuer.web.render import form_before_sign_in

router = APIRouter(tags=["pages"], include_in_schema=False)
STAFF_SIGN_IN = "/console"
"""Where staff sign in (the console: named staff accounts, issuing and revoking)."""
LISTED_ISSUERS = 50


@router.get("/", response_class=HTMLResponse)
def home(request: Request, services: ServicesDep, db: SessionDep) -> HTMLResponse:
    settings = services.settings
    issuers = db.exec(
        select(Issuer.name, Issuer.url).order_by(col(Issuer.name)).limit(LISTED_ISSUERS)
    ).all()
    return form_before_sign_in(
        request,
        services,
        "home.html",
        service=settings.service_name,
        issuers=issuers,
        staff_url=STAFF_SIGN_IN,
        terms_url=settings.terms_url or "/terms",
        privacy_url=settings.privacy_url or "/privacy",
    )
