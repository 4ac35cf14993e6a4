"""The wallet's badge hosts: connect an Open Badges 3.0 API host (another Laurel, Canvas
Credentials…) from its Service Description Document, send badges there, see each push's state,
try a failed one again, disconnect. The protocol is ``issuer.obclient``; these pages parse the
forms, call one service function and show the outcome."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import LaurelError
from issuer.http.deps import ServicesDep, SessionDep, WriteSessionDep
from issuer.http.sessions import LearnerForm, LearnerSession, SignedIn
from issuer.obclient import connections, discovery, pushes
from issuer.wallet import badges
from issuer.web.render import wallet_page as page

router = APIRouter(tags=["pages"], include_in_schema=False)
PAGE = "/wallet/connections"
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img">'
    "<title>Laurel</title>"
    '<circle cx="32" cy="32" r="30" fill="#2f5d3a"/>'
    '<path d="M20 46c0-14 6-24 12-30 6 6 12 16 12 30" fill="none" stroke="#f4f1e8" '
    'stroke-width="4" stroke-linecap="round"/></svg>'
)


def _page(
    request: Request,
    services: Services,
    db: Session,
    signed: SignedIn,
    status: int = 200,
    **context: object,
) -> Response:
    return page(
        request,
        services,
        "wallet_connections.html",
        status,
        session=signed,
        hosts=connections.connected(db, signed.id),
        pushes=pushes.listed(db, signed.id),
        badges=badges.badges(db, signed.id),
        **context,
    )


@router.get("/logo.svg")
def logo() -> Response:
    """Laurel's logo: the ``logo_uri`` it registers with OB 3.0 API hosts."""
    return Response(LOGO, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get(PAGE)
def connections_page(
    request: Request, services: ServicesDep, db: SessionDep, signed: LearnerSession
) -> Response:
    return _page(request, services, db, signed, done=request.query_params.get("done"))


@router.post(PAGE)
def connect(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    sdd_url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        url = discovery.sdd_url(services, sdd_url)
        target = connections.start(db, services, signed.id, _web_id(signed), url)
    except LaurelError as exc:
        return _page(request, services, db, signed, exc.status, error=exc.detail, sdd_url=sdd_url)
    return RedirectResponse(target, status_code=303)


def _web_id(signed: SignedIn) -> int:
    assert signed.web.id is not None
    return signed.web.id


@router.get(connections.CALLBACK)
def callback(
    request: Request,
    services: ServicesDep,
    db: WriteSessionDep,
    signed: LearnerSession,
    state: Annotated[str, Query(max_length=500)] = "",
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    try:
        outcome = connections.finish(
            db, services, signed.id, _web_id(signed), state=state, code=code, error=error
        )
    except LaurelError as exc:
        return _page(request, services, db, signed, exc.status, error=exc.detail)
    if outcome.error:
        status = 502 if outcome.host_failed else 200
        return _page(request, services, db, signed, status, error=outcome.error)
    return RedirectResponse(f"{PAGE}?done=connected", status_code=303)


@router.post(PAGE + "/{connection_id}/push")
def push(
    connection_id: int,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    ref: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        pushes.queue(db, services, signed.id, connection_id, ref)
    except LaurelError as exc:
        return _page(request, services, db, signed, exc.status, error=exc.detail)
    return RedirectResponse(f"{PAGE}?done=queued#pushes", status_code=303)


@router.post(PAGE + "/{connection_id}/send-new")
def send_new(
    connection_id: int,
    db: SessionDep,
    signed: LearnerForm,
    consent: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The learner's consent to receive badges issued to them from now on at this host."""
    connections.send_new(db, signed.id, connection_id, consent == "yes")
    return RedirectResponse(f"{PAGE}?done=saved#host-{connection_id}", status_code=303)


@router.post(PAGE + "/pushes/{push_id}/retry")
def retry(push_id: int, db: SessionDep, signed: LearnerForm) -> Response:
    pushes.retry(db, signed.id, push_id)
    return RedirectResponse(f"{PAGE}?done=queued#pushes", status_code=303)


@router.post(PAGE + "/{connection_id}/disconnect")
def disconnect(
    connection_id: int,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
) -> Response:
    warning = connections.disconnect(db, services, signed.id, connection_id)
    if warning:
        return _page(request, services, db, signed, done="disconnected", warning=warning)
    return RedirectResponse(f"{PAGE}?done=disconnected", status_code=303)
