"""One place that turns errors into ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from issuer.core.errors import LaurelError

log = logging.getLogger("laurel")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location if part not in ("body",)) or "body"


PageRenderer = Callable[[Request, LaurelError], Response | None]
"""Renders an error as an HTML page for a page route (None: not a page, answer problem+json)."""


def install(app: FastAPI, page: PageRenderer | None = None) -> None:
    @app.exception_handler(LaurelError)
    async def _laurel(request: Request, exc: LaurelError) -> Response:
        if exc.status >= 500:
            log.error("service error: %s", exc.detail)
        answer = page(request, exc) if page is not None else None
        if answer is None:
            answer = problem(exc.status, exc.title, exc.detail)
        if exc.retry_after is not None:
            answer.headers["Retry-After"] = str(exc.retry_after)
        return answer

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "Error", str(exc.detail))

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, exc: ClientDisconnect) -> JSONResponse:
        # The client hung up while sending its body: nothing to answer, nothing went wrong.
        return problem(400, "Client disconnected", "the request body was not received in full")

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(500, "Internal error", "Laurel hit a bug; the error was logged.")
