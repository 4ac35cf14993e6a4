"""Fetching documents (DID documents, verification methods, JWKS, status lists, credentials).

Every fetch goes through a ``Fetcher``: a callable ``(url) -> bytes`` that raises ``FetchError``.
``HttpFetcher`` is the network default: HTTPS only, a timeout, a size limit, no private or local
addresses (unless allowed) and a small cache. ``MappingFetcher`` answers from a table (tests,
offline use) and ``NO_NETWORK`` refuses everything.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from verifier import safejson
from verifier.errors import FetchError, MalformedInput

Fetcher = Callable[[str], bytes]

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3
LOOPBACK = (
    "http://127.0.0.1:",
    "http://127.0.0.1/",
    "http://localhost:",
    "http://localhost/",
    "http://[::1]:",
    "http://[::1]/",
)


class HttpFetcher:
    """GET over HTTPS with a timeout, a response-size cap and a time-limited cache."""

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        cache_seconds: float = 300.0,
        allow_http: bool = False,
        allow_loopback_http: bool = False,
        allow_private_addresses: bool = False,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.cache_seconds = cache_seconds
        self.allow_http = allow_http
        self.allow_loopback_http = allow_loopback_http
        self.allow_private = allow_private_addresses or allow_loopback_http
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

    def _get(self, url: str) -> bytes:
        """GET, following at most ``MAX_REDIRECTS`` redirects, each to an allowed scheme."""
        location = url
        for _ in range(MAX_REDIRECTS + 1):
            self._check_scheme(location)
            if not self.allow_private:
                _refuse_private(location)
            status, body, target = self._get_once(location)
            if target is None:
                if status != 200:
                    raise FetchError(url, f"HTTP {status}")
                return body
            location = target
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _get_once(self, url: str) -> tuple[int, bytes, str | None]:
        headers = {"Accept": "application/json, application/ld+json, */*;q=0.5"}
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=False) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                if response.is_redirect:
                    target = response.url.join(response.headers.get("location", ""))
                    return response.status_code, b"", str(target)
                if response.status_code != 200:
                    return response.status_code, b"", None
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(url, f"response over {self.max_bytes} bytes")
                    chunks.append(chunk)
                return 200, b"".join(chunks), None
        except httpx.HTTPError as exc:
            raise FetchError(url, type(exc).__name__) from exc


def _refuse_private(url: str) -> None:
    """Refuse URLs whose host resolves to a loopback, private, link-local or otherwise
    non-public address: a credential must not make a server fetch from its own network."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(url, "the host name does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise FetchError(url, f"refused: {host} is a private or local address")


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
