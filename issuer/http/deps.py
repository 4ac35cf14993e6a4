"""Typed dependencies: the services bundle, the request's unit of work, the caller's API key.

``SessionDep`` is the request's one session and transaction (``issuer.core.db.unit_of_work``):
every service the route calls gets it, nothing opens another. It commits when the route returns,
before the response is sent (a failed commit is an error response, never a success that did not
happen), and rolls back on any error. Effects the unit of work emitted (``issuer.core.effects``)
run after the response, in the background. Requests that change nothing (GET, HEAD) read without
blocking writers; ``WriteSessionDep`` is for the few GET routes that write (e.g. a share link
counting its views), ``ReadSessionDep`` for the POST routes that only read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Header, Request
from sqlmodel import Session

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.core.effects import emitted
from issuer.core.errors import Forbidden, NotFound
from issuer.effects import run_due
from issuer.institutes.apikeys import authenticate
from issuer.institutes.issuers import get_issuer
from issuer.models import ApiKey, Issuer


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def _work(services: Services, background: BackgroundTasks, *, write: bool) -> Iterator[Session]:
    with unit_of_work(services.engine, write=write) as db:
        yield db
    if emitted(db):
        background.add_task(run_due, services)


def session(
    request: Request, services: ServicesDep, background: BackgroundTasks
) -> Iterator[Session]:
    yield from _work(services, background, write=request.method not in READ_ONLY)


def write_session(services: ServicesDep, background: BackgroundTasks) -> Iterator[Session]:
    yield from _work(services, background, write=True)


def read_session(services: ServicesDep, background: BackgroundTasks) -> Iterator[Session]:
    yield from _work(services, background, write=False)


READ_ONLY = ("GET", "HEAD", "OPTIONS")
SessionDep = Annotated[Session, Depends(session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(write_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(read_session, scope="function")]
"""For the few POST routes that change nothing (verifying a submitted badge)."""


AuthorizationHeader = Annotated[str | None, Header(description="Bearer lrl_…")]


def api_key(db: SessionDep, authorization: AuthorizationHeader = None) -> ApiKey:
    return authenticate(db, authorization)


ApiKeyDep = Annotated[ApiKey, Depends(api_key)]


def issuer_for(db: Session, key: ApiKey, slug: str, scope: str) -> Issuer:
    """The issuer ``slug`` if ``key`` belongs to it (else 404, as if it did not exist) and has
    ``scope`` (else 403)."""
    try:
        issuer = get_issuer(db, slug)
    except NotFound:
        raise NotFound(f"there is no issuer {slug!r}") from None
    if issuer.id != key.issuer_id:
        raise NotFound(f"there is no issuer {slug!r}")
    require(key, scope)
    return issuer


def require(key: ApiKey, scope: str) -> None:
    if not key.has(scope):
        raise Forbidden(f"this API key lacks the '{scope}' scope")
