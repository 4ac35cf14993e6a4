"""The wallet's badge hosts: connect an Open Badges 3.0 API host (another Laurel, Canvas
Credentials…) from its Service Description Document, send badges there, see each push's state,
try a failed one again, disconnect. The protocol is ``issuer.obclient``; these pages parse the
forms, call one service function and show the outcome.

Connecting, the callback and disconnecting call the host, and do it with no database session
open (as the console's single sign-on does): each step that reads or writes is a short unit of
work of its own, and a slow host holds no database lock, nor one of the pool's connections.
Starting a connection makes Laurel call an address the learner typed, so each learner and each
client address may start ``LAUREL_CONNECT_RATE`` of them (``issuer.http.rates``), then 429."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.core.errors import LaurelError
from issuer.http.cookies import client_address
from issuer.http.deps import ServicesDep, SessionDep, in_unit
from issuer.http.rates import admit_connect
from issuer.http.sessions import (
    DetachedLearnerForm,
    DetachedLearnerSession,
    LearnerForm,
    LearnerSession,
    SignedIn,
)
from issuer.models import ObHost
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


def _shown(
    request: Request, services: Services, signed: SignedIn, status: int, **context: object
) -> Response:
    """The page, read in a unit of work of its own (for the routes that hold none)."""
    with unit_of_work(services.engine, write=False) as db:
        return _page(request, services, db, signed, status, **context)


async def _show(
    request: Request, services: Services, signed: SignedIn, status: int, **context: object
) -> Response:
    return await in_unit(services, partial(_shown, request, services, signed, status, **context))


def _known(services: Services, sdd_url: str) -> bool:
    with unit_of_work(services.engine, write=False) as db:
        return connections.registered(db, sdd_url)


def _start(
    services: Services, signed: SignedIn, found: discovery.Description, fresh: ObHost | None
) -> str:
    with unit_of_work(services.engine) as db:
        return connections.start(db, services, signed.id, _web_id(signed), found, fresh)


@router.post(PAGE)
async def connect(
    request: Request,
    services: ServicesDep,
    signed: DetachedLearnerForm,
    sdd_url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Discover the host and register with it (each call with no unit of work open), then
    remember the connection's state in a short one."""
    try:
        url = discovery.sdd_url(services, sdd_url)
        admit_connect(services, signed.id, client_address(request))
        found = await run_in_threadpool(discovery.discover, services, url)
        fresh: ObHost | None = None
        if not await in_unit(services, _known, services, found.sdd_url):
            fresh = await run_in_threadpool(connections.register, services, found)
        target = await in_unit(services, _start, services, signed, found, fresh)
    except LaurelError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
        shown = await _show(
            request,
            services,
            signed,
            exc.status,
            error=exc.detail,
            sdd_url=sdd_url,
        )
        shown.headers.update(headers)
        return shown
    return RedirectResponse(target, status_code=303)


def _web_id(signed: SignedIn) -> int:
    assert signed.web.id is not None
    return signed.web.id


def _use_state(services: Services, signed: SignedIn, state: str) -> connections.Exchange:
    with unit_of_work(services.engine) as db:
        return connections.use_state(db, services, signed.id, _web_id(signed), state)


def _connect(
    services: Services, pending: connections.Exchange, answer: dict[str, object]
) -> connections.Finished:
    with unit_of_work(services.engine) as db:
        return connections.connect(db, services, pending, dict(answer))


@router.get(connections.CALLBACK)
async def callback(
    request: Request,
    services: ServicesDep,
    signed: DetachedLearnerSession,
    state: Annotated[str, Query(max_length=500)] = "",
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    iss: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """The host sent the learner back: the state is used up first (a unit of work), the code
    exchanged with none open (unless ``iss``, RFC 9207, names another server), the tokens kept
    in another."""
    try:
        pending = await in_unit(services, _use_state, services, signed, state)
    except LaurelError as exc:
        return await _show(request, services, signed, exc.status, error=exc.detail)
    name, outcome = pending.host.name, None
    if error or not code:
        outcome = connections.Finished(
            name, f"{name} did not connect: {(error or 'no code')[:200]}"
        )
    else:
        try:
            answer = await run_in_threadpool(connections.exchange, services, pending, code, iss)
        except LaurelError as exc:
            outcome = connections.Finished(name, exc.detail, host_failed=True)
        else:
            outcome = await in_unit(services, _connect, services, pending, answer)
    if outcome.error:
        status = 502 if outcome.host_failed else 200
        return await _show(request, services, signed, status, error=outcome.error)
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


def _forget(services: Services, signed: SignedIn, connection_id: int) -> connections.Forgotten:
    with unit_of_work(services.engine) as db:
        return connections.forget(db, signed.id, connection_id)


@router.post(PAGE + "/{connection_id}/disconnect")
async def disconnect(
    connection_id: int,
    request: Request,
    services: ServicesDep,
    signed: DetachedLearnerForm,
) -> Response:
    """Forget the connection (a unit of work), then tell the host to revoke its tokens, with
    none open."""
    forgotten = await in_unit(services, _forget, services, signed, connection_id)
    warning = await run_in_threadpool(connections.revoke, services, forgotten)
    if warning:
        return await _show(request, services, signed, 200, done="disconnected", warning=warning)
    return RedirectResponse(f"{PAGE}?done=disconnected", status_code=303)
