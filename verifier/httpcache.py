"""GET with the HTTP caching rules a trust list is served with (RFC 9111, the parts that matter
for a client's private cache): ``Cache-Control: max-age`` / ``no-store`` / ``no-cache``,
``Expires``, and revalidation with ``ETag`` (``If-None-Match``) and a strong ``Last-Modified``
(``If-Modified-Since``; one at least a minute before the response's ``Date``), where a ``304``
keeps the stored body.

Used for documents an operator configures (trust lists, federation statements), not for what a
credential points at: those go through the verifier's ``Fetcher``. It connects the same guarded
way (``verifier.transport``: one resolution, the checked address, an overall deadline) and refuses
private and special-purpose addresses unless the operator allows them (``allow_private_addresses``
for lists kept on a private network). Only ``https`` is fetched (plus loopback ``http`` when
allowed, for development and tests); a stale copy is never used when the server cannot be
reached.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import httpcore
import httpx

from verifier.errors import FetchError
from verifier.fetch import (
    DEFAULT_MAX_BYTES,
    LOOPBACK,
    MAX_REDIRECTS,
    address_policy,
    exchange,
    freshness,
    read_body,
    refuse_literal,
    updated_headers,
    validators,
)
from verifier.transport import GuardedTransport, Resolver, deadline_for, system_resolver

DEFAULT_MAX_AGE = 300.0
"""Freshness when the server gives no caching headers at all."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    from_cache: bool = False


@dataclass
class _Stored:
    body: bytes
    status: int
    expires: float
    headers: httpx.Headers


class CachingHttpClient:
    """A small, thread-safe private HTTP cache in front of ``httpx``.

    ``timeout`` bounds each read, ``deadline`` the whole of one ``get`` (redirects and body).
    ``allow_loopback_http`` also fetches ``http://`` from this machine and connects to loopback
    addresses; ``allow_private_addresses`` connects to any address. ``transport`` replaces the
    network altogether (tests); ``ssl_context``, ``resolver`` and ``backend`` replace parts of
    it."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        deadline: float = 30.0,
        max_bytes: int = DEFAULT_MAX_BYTES * 4,
        allow_loopback_http: bool = False,
        allow_private_addresses: bool = False,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
        ssl_context: ssl.SSLContext | None = None,
        resolver: Resolver = system_resolver,
        backend: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.allow_loopback_http = allow_loopback_http
        self.policy = address_policy(
            allow_loopback=allow_loopback_http, allow_private=allow_private_addresses
        )
        self.clock = clock
        self.transport = transport
        self.ssl_context = ssl_context
        self.resolver = resolver
        self.backend = backend
        self._stored: dict[str, _Stored] = {}
        self._lock = threading.Lock()

    def _check_scheme(self, url: str) -> None:
        loopback = self.allow_loopback_http and url.startswith(LOOPBACK)
        if not (url.startswith("https://") or loopback):
            raise FetchError(url, "only https URLs are fetched")

    def get(self, url: str, *, accept: str = "application/json") -> Response:
        """The response to ``GET url`` (any status; redirects followed, each to an allowed
        scheme); raises ``FetchError`` when there is none."""
        self._check_scheme(url)
        now = self.clock()
        with self._lock:
            stored = self._stored.get(url)
        if stored is not None and now < stored.expires:
            return Response(stored.status, stored.body, from_cache=True)
        headers = {"Accept": accept}
        if stored is not None:
            headers.update(validators(stored.headers) or {})
        status, body, response_headers = self._get(url, headers)
        if status == 304 and stored is not None:
            stored.headers = updated_headers(stored.headers, response_headers)
            stored.expires = now + freshness(stored.headers, DEFAULT_MAX_AGE)
            return Response(stored.status, stored.body, from_cache=True)
        fresh_for = freshness(response_headers, DEFAULT_MAX_AGE)
        cacheable = status in (200, 404) and "no-store" not in response_headers.get(
            "cache-control", ""
        )
        with self._lock:
            if cacheable:
                self._stored[url] = _Stored(body, status, now + fresh_for, response_headers)
            else:
                self._stored.pop(url, None)
        return Response(status, body)

    def _get(self, url: str, headers: dict[str, str]) -> tuple[int, bytes, httpx.Headers]:
        location = url
        with self._transport() as transport:
            for _ in range(MAX_REDIRECTS + 1):
                refuse_literal(location, self.policy)
                status, body, answer = self._get_once(transport, location, headers)
                if status not in (301, 302, 303, 307, 308) or "location" not in answer:
                    return status, body, answer
                try:
                    location = str(httpx.URL(location).join(answer["location"]))
                except httpx.InvalidURL as exc:
                    raise FetchError(location, f"not a usable redirect ({exc})") from exc
                self._check_scheme(location)
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _transport(self) -> AbstractContextManager[httpx.BaseTransport]:
        """A guarded transport for one ``get`` (closed after it), or the one given."""
        if self.transport is not None:
            return nullcontext(self.transport)
        return GuardedTransport(
            deadline=deadline_for(self.deadline),
            policy=self.policy,
            ssl_context=self.ssl_context,
            resolver=self.resolver,
            backend=self.backend,
        )

    def _get_once(
        self, transport: httpx.BaseTransport, url: str, headers: dict[str, str]
    ) -> tuple[int, bytes, httpx.Headers]:
        with exchange(transport, url, headers, self.timeout) as response:
            return response.status_code, read_body(response, url, self.max_bytes), response.headers
