"""Request body limits, enforced while the body is read (413 Content Too Large, RFC 9110 §15.5.14).

``Content-Length`` alone is not enough: a chunked body has none, so :class:`BodyLimit` wraps the
ASGI ``receive``, counts the bytes as they arrive and answers 413 as soon as the route's limit is
passed. The route never gets more than its limit: a JSON body is never buffered beyond it and a
multipart upload never spooled to disk beyond it. The answer is ``application/problem+json``, or
the error page for a page route, like any other error.

Starlette's ``RequestBodyLimitMiddleware`` does the counting for one limit and answers in plain
text; Laurel needs a limit per route and its own answers, hence this small middleware.

Every limit is in :data:`ROUTES`; anything else may send up to ``LAUREL_MAX_BODY_BYTES`` (20 MB),
which also caps every entry of the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from issuer.artifacts.qrread import MAX_UPLOAD_BYTES
from issuer.core.errors import LaurelError, PayloadTooLarge
from issuer.http.problems import problem
from verifier.sources import DEFAULT_MAX_BYTES as CREDENTIAL_BYTES

MiB = 1024 * 1024


@dataclass(frozen=True)
class RouteLimit:
    """The most a request to ``method`` ``path`` (a regular expression matching the whole path)
    may send; ``None``: ``LAUREL_MAX_BODY_BYTES``."""

    method: str
    path: str
    limit: int | None
    holds: str
    """What fits, for docs/operations.md."""
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", re.compile(self.path))


ROUTES: tuple[RouteLimit, ...] = (
    RouteLimit(
        "POST",
        "/verify",
        MAX_UPLOAD_BYTES + 2 * MiB,
        "a photo, scan or PDF of up to 12 MB, or a pasted credential (1 MB a text field)",
    ),
    RouteLimit("POST", "/api/v1/verify", CREDENTIAL_BYTES, "one credential of up to 2 MB"),
    RouteLimit("POST", "/wallet/import", 2 * CREDENTIAL_BYTES, "one badge of up to 2 MB"),
    RouteLimit(
        "POST",
        "/api/v1/issuers/[^/]+/credentials/bulk",
        None,
        "a JSON array or CSV of up to 100,000 rows",
    ),
    RouteLimit("POST", "/(wallet|dashboard)(/.*)?", 1 * MiB, "a form (sign-in, share, profile…)"),
    RouteLimit("POST", "/oauth/.+", 64 * 1024, "an OAuth form or client registration"),
    RouteLimit("POST", "/exchanges/[^/]+", 64 * 1024, "a wallet's DIDAuthentication presentation"),
    RouteLimit("POST", "/oid4vci/.+", 64 * 1024, "an OpenID4VCI nonce or credential request"),
)


def limit_for(method: str, path: str, default: int) -> int:
    """The body limit of a request (the first matching row of :data:`ROUTES`)."""
    for route in ROUTES:
        if route.method == method and route.pattern.fullmatch(path):
            return default if route.limit is None else min(route.limit, default)
    return default


def _size(limit: int) -> str:
    return f"{limit // MiB} MB" if limit % MiB == 0 else f"{limit:,} bytes"


class BodyTooLarge(HTTPException):
    """Raised into the route by ``receive`` once the body passes its limit. It is an
    ``HTTPException`` so that FastAPI's body parsing lets it through instead of answering 400;
    whatever the route then answers is replaced by the 413 already sent."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {_size(limit)}")


PageRenderer = Callable[[Request, LaurelError], Response | None]


class BodyLimit:
    """ASGI middleware: at most :func:`limit_for` bytes of body reach the app."""

    def __init__(self, app: ASGIApp, default: int, page: PageRenderer | None = None) -> None:
        self.app = app
        self.default = default
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["method"], scope["path"], self.default)
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        await _Guard(self, scope, receive, send, limit).run()

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = PayloadTooLarge(f"the request body is over this address's limit of {_size(limit)}")
        answer = self.page(Request(scope), error) if self.page is not None else None
        if answer is None:
            answer = problem(error.status, error.title, error.detail, limit=limit)
        answer.headers["Connection"] = "close"  # the rest of the body is not read
        await answer(scope, receive, send)


class _Guard:
    """One request: counts what ``receive`` hands the app, answers 413 once it is too much."""

    def __init__(
        self, owner: BodyLimit, scope: Scope, receive: Receive, send: Send, limit: int
    ) -> None:
        self.owner, self.scope, self.limit = owner, scope, limit
        self.receive, self.send = receive, send
        self.read = 0
        self.started = False  # the app began its answer
        self.answered = False  # the 413 went out; what the app sends is dropped

    async def run(self) -> None:
        try:
            await self.owner.app(self.scope, self.limited_receive, self.guarded_send)
        except BodyTooLarge:
            if not self.answered:
                raise

    async def limited_receive(self) -> Message:
        if self.read > self.limit:
            raise BodyTooLarge(self.limit)
        message = await self.receive()
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.limit:
                if not self.started:
                    await self.owner._refuse(self.scope, self.receive, self.send, self.limit)
                    self.answered = True
                raise BodyTooLarge(self.limit)
        return message

    async def guarded_send(self, message: Message) -> None:
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)
