"""Fetching documents (DID documents, verification methods, JWKS, status lists, credentials).

Every fetch goes through a ``Fetcher``: a callable ``(url) -> bytes`` that raises ``FetchError``.
``HttpFetcher`` is the network default, with a timeout, a size limit, HTTPS only and a small
cache; ``MappingFetcher`` answers from a table (tests, offline use) and ``NO_NETWORK`` refuses
everything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from verifier.errors import FetchError

Fetcher = Callable[[str], bytes]

DEFAULT_MAX_BYTES = 2 * 1024 * 1024


class HttpFetcher:
    """GET over HTTPS with a timeout, a response-size cap and a time-limited cache."""

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        cache_seconds: float = 300.0,
        allow_http: bool = False,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.cache_seconds = cache_seconds
        self.allow_http = allow_http
        self._cache: dict[str, tuple[float, bytes]] = {}

    def __call__(self, url: str) -> bytes:
        schemes = ("https://", "http://") if self.allow_http else ("https://",)
        if not url.startswith(schemes):
            raise FetchError(url, "only https URLs are fetched")
        cached = self._cache.get(url)
        if cached and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        body = self._get(url)
        self._cache[url] = (time.monotonic(), body)
        return body

    def _get(self, url: str) -> bytes:
        headers = {"Accept": "application/json, application/ld+json, */*;q=0.5"}
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=True) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                if response.status_code != 200:
                    raise FetchError(url, f"HTTP {response.status_code}")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(url, f"response over {self.max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise FetchError(url, type(exc).__name__) from exc


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
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FetchError(url, "the response is not JSON") from exc
