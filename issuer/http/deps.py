"""Typed dependencies: the services bundle, the request's unit of work, the caller's API key.

``SessionDep`` is the request's one session and transaction (``issuer.core.db.unit_of_work``):
every service the route calls gets it, nothing opens another. It commits when the route returns,
before the response is sent (a failed commit is an error response, never a success that did not
happen), and rolls back on any error. Effects the unit of work emitted (``issuer.core.effects``)
run after the response, in the background. Requests that change nothing (GET, HEAD) read without
blocking writers; ``WriteSessionDep`` is for the few GET routes that write (e.g. a share link
counting its views), ``ReadSessionDep`` for the POST routes that only read. A route that verifies
a badge from elsewhere and stores the verdict takes no session: ``read_then_write`` reads the
other hosts first, with no write transaction open, then writes in a short unit of its own.

JSON request bodies are read strictly (``parse_json``): an object with a key twice, ``NaN`` or
``Infinity``, or a body that is not UTF-8 is refused with 400, on the routers built with
``StrictJSONRoute`` and in the routes that parse their body themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import BackgroundTasks, Depends, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from pydantic import AfterValidator
from sqlmodel import Session

from issuer.context import Services
from issuer.core import metrics
from issuer.core.db import unit_of_work
from issuer.core.effects import emitted
from issuer.core.errors import Forbidden, NotFound, ServiceBusy
from issuer.http.strictjson import parse_json as parse_json
from issuer.institutes.apikeys import authenticate, note_use
from issuer.institutes.issuers import get_issuer
from issuer.models import ApiKey, Issuer
from issuer.schemas import EMAIL_LENGTH, NOT_BLANK, ONE_LINE, bounded_time
from issuer.verification.remembered import network_first
from issuer.worker import dispatch_effects

T = TypeVar("T")


async def services(request: Request) -> Services:
    """Async, though it never waits: FastAPI runs a plain ``def`` dependency in a worker thread,
    a hand-off per request that cost more than the lookup."""
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


class Slots:
    """At most as many requests hold a database session at once as the pool has connections;
    the others wait here, in the event loop, holding no thread (``request_queue_seconds`` at
    most, then 503). Without this a full pool deadlocks: every worker thread waits for a
    connection while the requests holding the connections wait for a thread to finish in.
    (``Slots.of``; the badge pages have slots of their own, ``http.gate.page_slots``, counted
    under their ``area`` when they turn a request away.)"""

    def __init__(self, size: int, wait: float, area: str = "database") -> None:
        self.size, self.wait, self.area = size, wait, area
        self._semaphore: asyncio.Semaphore | None = None

    @classmethod
    def of(cls, services: Services) -> Slots:
        found = services.cache.get(SLOTS)
        if not isinstance(found, Slots):
            pool = services.engine.pool
            size = int(getattr(pool, "size", lambda: 5)())
            overflow = int(getattr(pool, "_max_overflow", 0))
            capacity = size + (overflow if overflow >= 0 else 4 * size)
            wait = services.settings.request_queue_seconds
            found = services.cache.setdefault(SLOTS, cls(max(1, capacity), wait))
        assert isinstance(found, Slots)
        return found

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.size)
        try:
            if self._semaphore.locked():  # else acquiring does not wait
                await asyncio.wait_for(self._semaphore.acquire(), self.wait)
            else:
                await self._semaphore.acquire()
        except TimeoutError:
            metrics.TURNED_AWAY.labels(self.area, "busy").inc()
            raise ServiceBusy(
                "the server is busy; try again in a few seconds", retry_after=5
            ) from None
        try:
            yield
        finally:
            self._semaphore.release()


SLOTS = "laurel.database_slots"


@asynccontextmanager
async def _work(
    services: Services, background: BackgroundTasks, *, write: bool
) -> AsyncIterator[Session]:
    """One unit of work for a request, holding a database slot. A context manager, entered with
    ``async with`` by the dependencies below, so that an error in the route reaches it at once:
    delegating with ``async for`` left the generator suspended on an error, holding its
    connection and slot until the garbage collector found it."""
    async with Slots.of(services).held():
        unit = unit_of_work(services.engine, write=write)
        db = unit.__enter__()  # no I/O yet: the connection is taken at the first query
        try:
            yield db
        except BaseException as exc:
            # Shielded: a cancelled request (the client went away) must still roll back and
            # give its connection back, or the connection leaks.
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(unit.__exit__, type(exc), exc, exc.__traceback__)
            raise
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(unit.__exit__, None, None, None)
    if emitted(db):
        background.add_task(dispatch_effects, services)


async def in_unit(services: Services, action: Callable[..., T], *arguments: Any) -> T:
    """Run ``action(*arguments)`` (which opens its own unit of work, e.g. after reading a large
    body) in a worker thread, holding one of the database slots."""
    async with Slots.of(services).held():
        return await run_in_threadpool(action, *arguments)


async def read_then_write(
    services: Services,
    background: BackgroundTasks,
    look: Callable[[Session], object],
    then: Callable[[Session], T],
) -> T:
    """``then(session)`` in a write unit of work of its own, after ``look(session)`` asked
    other hosts what ``then`` will (``issuer.verification.remembered.network_first``: in a
    read-only unit that holds no connection while a host answers), so that ``then`` waits for
    none while it holds the write transaction. In a worker thread, holding a database slot; the
    effects ``then`` emitted run after the response."""
    return await in_unit(services, _read_then_write, services, background, look, then)


def _read_then_write(
    services: Services,
    background: BackgroundTasks,
    look: Callable[[Session], object],
    then: Callable[[Session], T],
) -> T:
    with network_first(services, look), unit_of_work(services.engine) as db:
        result = then(db)
    if emitted(db):
        background.add_task(dispatch_effects, services)
    return result


async def session(
    request: Request, services: ServicesDep, background: BackgroundTasks
) -> AsyncIterator[Session]:
    async with _work(services, background, write=request.method not in READ_ONLY) as db:
        yield db


async def write_session(
    services: ServicesDep, background: BackgroundTasks
) -> AsyncIterator[Session]:
    async with _work(services, background, write=True) as db:
        yield db


async def read_session(
    services: ServicesDep, background: BackgroundTasks
) -> AsyncIterator[Session]:
    async with _work(services, background, write=False) as db:
        yield db


READ_ONLY = ("GET", "HEAD", "OPTIONS")
SessionDep = Annotated[Session, Depends(session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(write_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(read_session, scope="function")]
"""For the few POST routes that change nothing (verifying a submitted badge)."""


AuthorizationHeader = Annotated[str | None, Header(description="Bearer lrl_…")]


def api_key(
    db: SessionDep,
    services: ServicesDep,
    background: BackgroundTasks,
    authorization: AuthorizationHeader = None,
) -> ApiKey:
    key = authenticate(db, authorization)
    background.add_task(note_use, services.engine, key)  # once the request's units have ended
    return key


ApiKeyDep = Annotated[ApiKey, Depends(api_key)]


def _read_key(services: Services, authorization: str | None) -> ApiKey:
    with unit_of_work(services.engine, write=False) as db:
        return authenticate(db, authorization)


async def detached_api_key(
    services: ServicesDep, background: BackgroundTasks, authorization: AuthorizationHeader = None
) -> ApiKey:
    """``api_key`` read in a short unit of work of its own, for a route that holds no session
    while other hosts answer (``read_then_write``)."""
    key = await in_unit(services, _read_key, services, authorization)
    background.add_task(note_use, services.engine, key)
    return key


DetachedApiKeyDep = Annotated[ApiKey, Depends(detached_api_key)]


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


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """A route whose JSON body is read with ``parse_json`` (FastAPI's custom request class)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


# Parameters in paths and queries, with the limits the services enforce (so that the OpenAPI
# description says them, and a value no database column could hold is a 422, not a 500).
Slug = Annotated[
    str,
    Path(
        description="The issuer's slug.",
        max_length=64,
        pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
        examples=["hrd"],
    ),
]
CredentialId = Annotated[
    str, Path(description="The credential's urn:uuid:… id, or the bare UUID.", max_length=100)
]
GroupPath = Annotated[str, Path(max_length=100, pattern=NOT_BLANK, description="A group's name.")]
Word = Annotated[str, Query(min_length=1, max_length=100, pattern=ONE_LINE)]
"""A code, key or name in a query."""
EmailQuery = Annotated[str, Query(max_length=EMAIL_LENGTH, pattern=ONE_LINE)]
AchievementPath = Annotated[
    str, Path(max_length=99, pattern=r"^[a-z0-9][a-z0-9-]{0,98}$", description="Its key.")
]


def _time_filter(moment: datetime) -> datetime:
    bounded_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return moment


TimeQuery = Annotated[
    datetime,
    Query(description="ISO 8601 (without a time zone: UTC), between 1900 and 9999."),
    AfterValidator(_time_filter),
]
