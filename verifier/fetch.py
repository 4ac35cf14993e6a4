"""Fetching documents (DID documents, verification methods, JWKS, status lists, credentials).

Every fetch goes through a ``Fetcher``: a callable ``(url) -> bytes`` that raises ``FetchError``.
``HttpFetcher`` is the network default: HTTPS only, a size limit, a small cache, and the guards of
``verifier.transport`` — each host resolved once and connected to at the address that was checked,
no private or special-purpose addresses (``verifier.addresses``, unless allowed), and an overall
deadline for the whole fetch. ``MappingFetcher`` answers from a table (tests, offline use) and
``NO_NETWORK`` refuses everything.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from verifier import safejson
from verifier.addresses import AddressPolicy, any_address, public_only, public_or_loopback
from verifier.errors import FetchError, MalformedInput
from verifier.transport import (
    Deadline,
    GuardedTransport,
    Refused,
    Resolver,
    check_literal,
    deadline_for,
    system_resolver,
)

Fetcher = Callable[[str], bytes]

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_DEADLINE = 10.0
"""Seconds one fetch may take in all: every redirect hop, the whole body."""
MAX_REDIRECTS = 3
LOOPBACK = (
    "http://127.0.0.1:",
    "http://127.0.0.1/",
    "http://localhost:",
    "http://localhost/",
    "http://[::1]:",
    "http://[::1]/",
)
_HEADERS = {
    "Accept": "application/json, application/ld+json, */*;q=0.5",
    "Accept-Encoding": "identity",
    "User-Agent": "laurel-verifier",
}


def address_policy(*, allow_loopback: bool, allow_private: bool) -> AddressPolicy:
    if allow_private:
        return any_address
    return public_or_loopback if allow_loopback else public_only


class HttpFetcher:
    """GET over HTTPS with a per-read timeout, an overall deadline, a response-size cap and a
    time-limited cache; only to public addresses unless told otherwise.

    ``allow_loopback_http`` also fetches ``http://`` from this machine (127.0.0.1, localhost,
    [::1]) and connects to loopback addresses; ``allow_private_addresses`` connects to any
    address (development only). ``ssl_context``, ``resolver`` and ``backend`` replace the
    certificate store, the system resolver and the sockets (tests)."""

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        cache_seconds: float = 300.0,
        allow_http: bool = False,
        allow_loopback_http: bool = False,
        allow_private_addresses: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        resolver: Resolver = system_resolver,
        backend: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.cache_seconds = cache_seconds
        self.allow_http = allow_http
        self.allow_loopback_http = allow_loopback_http
        self.policy = address_policy(
            allow_loopback=allow_loopback_http, allow_private=allow_private_addresses
        )
        self.ssl_context = ssl_context
        self.resolver = resolver
        self.backend = backend
        self._cache: dict[str, tuple[float, bytes]] = {}

    def _check_scheme(self, url: str) -> None:
        if url.startswith("https://") or (self.allow_http and url.startswith("http://")):
            return
        if self.allow_loopback_http and url.startswith(LOOPBACK):
            return
        raise FetchError(url, "only https URLs are fetched")

    def __call__(self, url: str) -> bytes:
        self._check_scheme(url)
        cached = self._cache.get(url)
        if cached and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        body = self._get(url)
        self._cache[url] = (time.monotonic(), body)
        return body

    def _transport(self, deadline: Deadline) -> GuardedTransport:
        return GuardedTransport(
            deadline=deadline,
            policy=self.policy,
            ssl_context=self.ssl_context,
            resolver=self.resolver,
            backend=self.backend,
        )

    def _get(self, url: str) -> bytes:
        """GET, following at most ``MAX_REDIRECTS`` redirects, each to an allowed scheme and
        address, all within one deadline."""
        location = url
        with self._transport(deadline_for(self.deadline)) as transport:
            for _ in range(MAX_REDIRECTS + 1):
                self._check_scheme(location)
                refuse_literal(location, self.policy)
                status, body, target = self._get_once(transport, location)
                if target is None:
                    if status != 200:
                        raise FetchError(url, f"HTTP {status}")
                    return body
                location = target
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _get_once(self, transport: httpx.BaseTransport, url: str) -> tuple[int, bytes, str | None]:
        with exchange(transport, url, _HEADERS, self.timeout) as response:
            if response.has_redirect_location:
                target = httpx.URL(url).join(response.headers["location"])
                return response.status_code, b"", str(target)
            if response.status_code != 200:
                return response.status_code, b"", None
            return 200, read_body(response, url, self.max_bytes), None


def refuse_literal(url: str, policy: AddressPolicy) -> None:
    """``FetchError`` for a URL whose host is an IP address ``policy`` refuses (host names are
    checked by the transport, at the one time they are resolved)."""
    try:
        check_literal(httpx.URL(url).host, policy)
    except httpx.InvalidURL as exc:
        raise FetchError(url, f"not a usable URL ({exc})") from exc
    except Refused as exc:
        raise FetchError(url, str(exc)) from exc


@contextmanager
def exchange(
    transport: httpx.BaseTransport, url: str, headers: Mapping[str, str], timeout: float
) -> Iterator[httpx.Response]:
    """One GET through ``transport``: the open response, closed afterwards. Whatever goes wrong
    (also while the body is read) becomes ``FetchError``."""
    request = httpx.Request(
        "GET", url, headers=headers, extensions={"timeout": httpx.Timeout(timeout).as_dict()}
    )
    try:
        response = transport.handle_request(request)
        try:
            yield response
        finally:
            response.close()
    except Refused as exc:
        raise FetchError(url, str(exc)) from exc
    except httpx.HTTPError as exc:
        raise FetchError(url, type(exc).__name__) from exc
    except httpx.InvalidURL as exc:  # a redirect's Location
        raise FetchError(url, f"not a usable URL ({exc})") from exc


def read_body(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(url, f"response over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class MappingFetcher:
    """Answers from a fixed table of URL -> bytes; every other URL is unreachable."""

    def __init__(self, table: Mapping[str, bytes]) -> None:
        self.table = dict(table)

    def __call__(self, url: str) -> bytes:
        try:
            return self.table[url]
        except KeyError:
            raise FetchError(url, "unreachable") from None


def no_network(url: str) -> bytes:
    """A fetcher that refuses every URL (fully offline verification)."""
    raise FetchError(url, "network access is disabled")


NO_NETWORK: Fetcher = no_network


def fetch_json(fetcher: Fetcher, url: str) -> Any:
    body = fetcher(url)
    try:
        return safejson.loads(body)
    except MalformedInput as exc:
        raise FetchError(url, f"the response is not usable JSON: {exc}") from exc
