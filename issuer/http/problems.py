"""One place that turns errors into ``application/problem+json`` (RFC 9457), and the problem
answers each operation declares in the OpenAPI description.

* service errors (``LaurelError``): their status, title and detail;
* a body that is not JSON, or has a key twice: 400; a body or parameter that breaks the limits of
  the request models: 422, listing every field;
* the database unreachable, refusing connections or its pool exhausted: 503 with ``Retry-After``
  (pages show an error page saying to try again), never a 500;
* anything else is a bug: 500, logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from issuer.core.errors import LaurelError
from issuer.schemas import Problem

log = logging.getLogger("laurel")
PROBLEM = "application/problem+json"
RETRY_AFTER_SECONDS = 5


class ServiceUnavailable(LaurelError):
    status, title = 503, "Service unavailable"


def problem(
    status: int, title: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


_MEANINGS = {
    400: "The request is malformed: not JSON, a key given twice, or a value the service "
    "cannot use.",
    401: "No API key, or an unknown one (`Authorization: Bearer lrl_…`).",
    403: "The API key lacks the scope this needs.",
    404: "No such thing, or it belongs to another issuer.",
    409: "It exists already, or the Idempotency-Key was used for another request.",
    413: "The body is over the size limit.",
    415: "The body is not of a media type this accepts.",
    422: "A parameter or field breaks its limits; `errors` lists each.",
    429: "Too many requests from this address; try again after `Retry-After` seconds.",
    503: "The service is busy or cannot reach its database just now; try again after "
    "`Retry-After` seconds.",
}


def responses(
    *statuses: int, also: dict[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The problem answers an operation may give, for its ``responses=`` (OpenAPI), and
    ``also`` its other answers."""
    schema = {"$ref": "#/components/schemas/Problem"}
    answers: dict[int | str, dict[str, Any]] = dict(also or {})
    for status in statuses:
        answer: dict[str, Any] = {
            "description": _MEANINGS[status],
            "content": {PROBLEM: {"schema": schema}},
        }
        if status in (429, 503):
            answer["headers"] = {
                "Retry-After": {"description": "Seconds", "schema": {"type": "integer"}}
            }
        answers[status] = answer
    return answers


READ = (400, 401, 403, 404, 422, 503)
"""What every operation with an API key may answer."""
WRITE = (*READ, 413)
"""… and one with a body."""


def problem_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add the ``Problem`` schema to an OpenAPI description (the ``responses`` refer to it)."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    definition = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in definition.pop("$defs", {}).items():
        schemas.setdefault(name, nested)
    schemas["Problem"] = definition
    return openapi


def _field(location: tuple[Any, ...]) -> str:
    """``recipient.email``: the location without ``body`` and pydantic's names of union
    members (``function-after[…]``)."""
    parts = [str(part) for part in location if part != "body" and "[" not in str(part)]
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    return str(error.get("msg", "")).removeprefix("Value error, ")


PageRenderer = Callable[[Request, LaurelError], Response | None]
"""Renders an error as an HTML page for a page route (None: not a page, answer problem+json)."""

_SQLITE_UNAVAILABLE = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_FULL",
)


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is unreachable or overloaded (a 503: try again), not
    that the request or the code is wrong: no connection from the pool in time, a connection
    lost or refused, a server shutting down, locks or resources exhausted. (SQLite reports a
    missing table as an ``OperationalError`` too; that stays a bug.)"""
    if isinstance(exc, PoolTimeout | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlite_error = getattr(exc.orig, "sqlite_errorname", None)
    return sqlite_error is None or str(sqlite_error).startswith(_SQLITE_UNAVAILABLE)


def install(app: FastAPI, page: PageRenderer | None = None) -> None:
    """The error handlers, and the ``Problem`` schema in the app's OpenAPI description."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        return problem_schema(build())

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it

    def answer(
        request: Request, exc: LaurelError, headers: dict[str, str] | None = None
    ) -> Response:
        if page is not None and (shown := page(request, exc)) is not None:
            shown.headers.update(headers or {})
            return shown
        return problem(exc.status, exc.title, exc.detail, headers)

    @app.exception_handler(LaurelError)
    async def _laurel(request: Request, exc: LaurelError) -> Response:
        if exc.status >= 500:
            log.error("service error: %s", exc.detail)
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
        if exc.challenge is not None:
            headers["WWW-Authenticate"] = exc.challenge
        return answer(request, exc, headers or None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        found = list(exc.errors())
        broken = [e for e in found if e.get("type") == "json_invalid"]
        if broken:
            reason = broken[0].get("ctx", {}).get("error", "")
            return problem(400, "Invalid JSON", f"the body is not valid JSON: {reason}")
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": _message(e)} for e in found]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        try:
            title = HTTPStatus(exc.status_code).phrase
        except ValueError:
            title = "Error"
        return problem(exc.status_code, title, str(exc.detail), exc.headers)

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, exc: ClientDisconnect) -> JSONResponse:
        # The client hung up while sending its body: nothing to answer, nothing went wrong.
        return problem(400, "Client disconnected", "the request body was not received in full")

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "Internal error", "Laurel hit a bug; the error was logged.")

    async def _database(request: Request, exc: Exception) -> Response:
        if not unavailable(exc):
            return await _bug(request, exc)
        log.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else exc)
        busy = ServiceUnavailable(
            "the database cannot be reached just now; please try again in a moment"
        )
        return answer(request, busy, {"Retry-After": str(RETRY_AFTER_SECONDS)})

    for kind in (DBAPIError, PoolTimeout):
        app.add_exception_handler(kind, _database)
