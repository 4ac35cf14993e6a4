"""Authlib's authorization server on Starlette requests (Authlib ships only Flask and Django
integrations), and the bearer-token dependency for the APIs that OAuth protects.

A request is read first (``read``, in the event loop: query, form or JSON body), then the sync
grant code runs on the request's unit of work in a worker thread (FastAPI's threadpool), and its
``(status, body, headers)`` answers become a Starlette ``Response``."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import JsonPayload, JsonRequest, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.core.errors import BadRequest
from issuer.http.deps import (
    AuthorizationHeader,
    ServicesDep,
    WriteSessionDep,
    in_unit,
    parse_json,
)
from issuer.oauth.server import OAuthServer
from issuer.oauth.tokens import Access, authenticate


@dataclass(frozen=True)
class Incoming:
    """What the grant code needs of a request, read before it runs."""

    method: str
    uri: str
    headers: Mapping[str, str]
    query: list[tuple[str, str]]
    form: list[tuple[str, str]] = field(default_factory=list)
    json: Any = None


def incoming(
    request: Request,
    services: Services,
    form: list[tuple[str, str]] | None = None,
    body: Any = None,
) -> Incoming:
    """``request`` as seen at Laurel's public base URL (so that the https check is made on the
    URL clients use, not the one a proxy forwarded)."""
    query = request.url.query
    uri = services.settings.base_url + request.url.path + (f"?{query}" if query else "")
    return Incoming(
        request.method,
        uri,
        request.headers,
        list(request.query_params.multi_items()),
        form or [],
        body,
    )


async def read_form(request: Request, services: Services) -> Incoming:
    sent = await request.form()
    pairs = [(k, v) for k, v in sent.multi_items() if isinstance(v, str)]
    return incoming(request, services, form=pairs)


async def read_json(request: Request, services: Services) -> Incoming:
    try:
        body = parse_json(await request.body())
    except json.JSONDecodeError:
        body = None  # refused by the registration endpoint as invalid_client_metadata
    return incoming(request, services, body=body)


class _Payload(OAuth2Payload):  # type: ignore[misc]  # Authlib is untyped
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _OAuth2Request(OAuth2Request):  # type: ignore[misc]  # Authlib is untyped
    def __init__(self, sent: Incoming) -> None:
        super().__init__(sent.method, sent.uri, headers=sent.headers)
        self.payload = _Payload([*sent.query, *sent.form])
        self._args = dict(sent.query)
        self._form = dict(sent.form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _JsonPayload(JsonPayload):  # type: ignore[misc]  # Authlib is untyped
    def __init__(self, body: Any) -> None:
        self._body = body

    @property
    def data(self) -> Any:
        return self._body


class _JsonRequest(JsonRequest):  # type: ignore[misc]  # Authlib is untyped
    def __init__(self, sent: Incoming) -> None:
        super().__init__(sent.method, sent.uri, sent.headers)
        self.payload = _JsonPayload(sent.json)


class StarletteServer(OAuthServer):
    """``OAuthServer`` reading ``Incoming`` requests and answering Starlette responses."""

    def create_oauth2_request(self, request: Incoming | OAuth2Request) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        try:
            return _OAuth2Request(request)
        except InsecureTransportError:
            raise BadRequest("OAuth needs Laurel to run on an https base URL") from None

    def create_json_request(self, request: Incoming) -> JsonRequest:
        return _JsonRequest(request)

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        answer = dict(headers)
        if isinstance(body, dict):
            answer.pop("Content-Type", None)
            return JSONResponse(body, status_code=status, headers=answer)
        return Response(body or b"", status_code=status, headers=answer)


def server(session: Session, services: Services) -> StarletteServer:
    return StarletteServer(session, services)


def bearer(scope: str) -> Callable[..., Access]:
    """A dependency: the learner and scopes of the request's OAuth access token, which must
    grant ``scope`` (401 ``invalid_token`` / 403 ``insufficient_scope`` with their
    ``WWW-Authenticate``). It records the token's use, so it takes the write session: routes
    that use it take ``WriteSessionDep`` too (then both share the request's one unit of work)."""

    def dependency(db: WriteSessionDep, authorization: AuthorizationHeader = None) -> Access:
        return authenticate(db, authorization, scope)

    return dependency


def detached_bearer(scope: str) -> Callable[..., Awaitable[Access]]:
    """``bearer``, the token read (and its use recorded) in a short unit of work of its own,
    for a route that holds no session while other hosts answer (``read_then_write``)."""

    def authenticated(services: Services, authorization: str | None) -> Access:
        with unit_of_work(services.engine) as db:
            return authenticate(db, authorization, scope)

    async def dependency(
        services: ServicesDep, authorization: AuthorizationHeader = None
    ) -> Access:
        return await in_unit(services, authenticated, services, authorization)

    return dependency
