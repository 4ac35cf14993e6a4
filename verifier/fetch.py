"""Fetching documents (DID documents, verification methods, JWKS, status lists, credentials).

Every fetch goes through a ``Fetcher``: a callable ``(url) -> bytes`` that raises ``FetchError``.
``HttpFetcher`` is the network default: HTTPS only, a size limit, a bounded cache that keeps what
the server lets a shared cache keep (``Cache-Control``, ``Expires``; a "not found" and a host that
did not answer in time, briefly), and the guards of ``verifier.transport`` — each host resolved
once and connected to at the address that was checked, no private or special-purpose addresses
(``verifier.addresses``, unless allowed), and an overall deadline for the whole fetch.
``MappingFetcher`` answers from a table (tests, offline use) and ``NO_NETWORK`` refuses everything.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
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
    current_budget,
    earliest,
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


CACHE_ENTRIES = 1024
CACHE_BYTES = 32 * 1024 * 1024
"""What one ``HttpFetcher`` keeps at most (least recently used first out): a service's fetcher is
shared by every verification it runs, and a credential chooses the URLs, so the cache must not
grow with what callers send."""


NOT_FOUND_STATUSES = frozenset({404, 405, 410, 414, 501})
"""Final statuses an ``HttpFetcher`` keeps as a failure: the error answers RFC 9110 §15.1 makes
heuristically cacheable, the server's own word that the document is not there (a website with no
DID Configuration answers every verification of its issuer's badges with 404). Server errors,
refusals, timeouts and broken connections are never kept: they may pass, or be this fetch's own
(its deadline)."""
NOT_FOUND_SECONDS = 30.0
"""How long a kept "not found" is used when its response says nothing of caching (its
``Cache-Control`` or ``Expires``, when present, decide instead, within ``cache_seconds``)."""
TIMEOUTS = frozenset({"ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout"})
SILENT_SECONDS = 30.0
"""How long a URL whose fetch ran out of its own time (one of ``TIMEOUTS``, or the fetch's whole
deadline) is not fetched again: a website that drops Laurel's packets would otherwise hold every
page view of its issuer's badges for seconds. Only when the fetch had its whole time: a fetch cut
short by its operation's budget (``verifier.transport.within``) says nothing of the host."""


STRONG_DATE_SECONDS = 60.0
"""How long before its response's ``Date`` a ``Last-Modified`` must be to revalidate with."""

_Entry = tuple[float, bytes | str, httpx.Headers | None, float]
"""A kept answer: until when it is fresh, the body (or a failure's reason), the headers of the
response that brought a body that can be revalidated once it is stale (``None``: drop it), and
when it was asked for (the server's last word on it)."""


class Fetched(bytes):
    """A body that came through a redirect, with ``where`` it was finally served from (the last
    hop's URL). A fetcher that follows redirects returns one, and a wrapper that keeps or passes
    on bodies passes it on as it is, so whoever reads a document whose site vouches for it (a
    did:web document, a DID Configuration) can tell which site served it (``served_from``)."""

    where: str

    def __new__(cls, body: bytes, where: str) -> Fetched:
        made = super().__new__(cls, body)
        made.where = where
        return made


def served_from(body: bytes, url: str) -> str:
    """The URL ``body``, fetched for ``url``, was served from: the last redirect's target, or
    ``url`` when no redirect was followed (or the fetcher does not say)."""
    return body.where if isinstance(body, Fetched) else url


def refresh_within(fetcher: Fetcher, url: str, seconds: float) -> None:
    """Tell ``fetcher`` that the document it gave for ``url`` says it is to be fetched again
    within ``seconds`` (a status list's ``ttl``), for a fetcher that keeps documents
    (``HttpFetcher.refresh_within``, and the wrappers that pass it on); others keep nothing."""
    tell = getattr(fetcher, "refresh_within", None)
    if callable(tell):
        tell(url, seconds)


def freshness(headers: httpx.Headers, default: float, *, shared: bool = False) -> float:
    """Seconds a response may be used without asking again (RFC 9111 §4.2; 0: ask every time):
    ``no-store`` and ``no-cache`` give 0, else ``max-age``, else ``Expires`` against ``Date``,
    else ``default``; less the ``Age`` a cache on the way says it had already. A ``shared``
    cache (one that answers many users) also keeps nothing ``private`` and prefers
    ``s-maxage``."""
    lifetime = _lifetime(headers, default, shared)
    try:
        age = max(0, int(headers.get("age", "0")))
    except ValueError:
        return 0.0
    return max(0.0, lifetime - age)


def _directives(headers: httpx.Headers) -> dict[str, str]:
    return {
        part.strip().split("=", 1)[0].lower(): part.strip().split("=", 1)[-1].strip('"')
        for part in headers.get("cache-control", "").split(",")
        if part.strip()
    }


def validators(headers: httpx.Headers, *, shared: bool = False) -> dict[str, str] | None:
    """The conditional request headers that revalidate a stored copy of this response (RFC 9110
    §13.1: ``If-None-Match`` from its ``ETag``, ``If-Modified-Since`` from its
    ``Last-Modified``), or ``None`` when it has neither or may not be stored at all
    (``no-store``; ``private`` in a ``shared`` cache).

    A ``Last-Modified`` is used only when it is strong (RFC 9110 §8.8.2.2: at least 60 seconds
    before the response's ``Date``): a date has a one-second grain, so a list changed twice
    within that second (a revocation just after it was fetched) would keep its date, and a
    revalidation by date would keep the copy that misses the revocation."""
    directives = _directives(headers)
    if "no-store" in directives or (shared and "private" in directives):
        return None
    conditions = {}
    if etag := headers.get("etag"):
        conditions["If-None-Match"] = etag
    if last_modified := strong_last_modified(headers):
        conditions["If-Modified-Since"] = last_modified
    return conditions or None


def strong_last_modified(headers: httpx.Headers) -> str | None:
    """The response's ``Last-Modified`` if it is at least ``STRONG_DATE_SECONDS`` before its
    ``Date`` (a strong validator, RFC 9110 §8.8.2.2), else ``None``."""
    last_modified, date = headers.get("last-modified"), headers.get("date")
    if not last_modified or not date:
        return None
    try:
        modified = parsedate_to_datetime(last_modified).timestamp()
        served = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return last_modified if served - modified >= STRONG_DATE_SECONDS else None


def _lifetime(headers: httpx.Headers, default: float, shared: bool) -> float:
    directives = _directives(headers)
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    if shared and "private" in directives:
        return 0.0
    for directive in ("s-maxage", "max-age") if shared else ("max-age",):
        if directive in directives:
            try:
                return max(0.0, float(int(directives[directive])))
            except ValueError:
                return 0.0
    if "expires" in headers:
        try:
            expires = parsedate_to_datetime(headers["expires"]).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return 0.0
        date = headers.get("date")
        try:
            served = parsedate_to_datetime(date).timestamp() if date else time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            served = time.time()
        return max(0.0, expires - served)
    return default


_NOT_UPDATED = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "content-range"}
)


def updated_headers(stored: httpx.Headers, revalidated: httpx.Headers) -> httpx.Headers:
    """A kept response's headers updated with those of the ``304`` that revalidated it (RFC 9111
    §4.3.4: every header the ``304`` sends replaces the kept one, but those of the body's
    framing)."""
    headers = httpx.Headers(stored)
    if "age" in headers and "age" not in revalidated:
        del headers["age"]  # the kept copy's age at the time: now it is the server's answer
    for name in {key.lower() for key in revalidated}:
        if name not in _NOT_UPDATED:
            headers[name] = ", ".join(revalidated.get_list(name))
    return headers


def address_policy(*, allow_loopback: bool, allow_private: bool) -> AddressPolicy:
    if allow_private:
        return any_address
    return public_or_loopback if allow_loopback else public_only


class HttpFetcher:
    """GET over HTTPS with a per-read timeout, an overall deadline, a response-size cap and a
    cache; only to public addresses unless told otherwise.

    The cache is a shared one (a service's fetcher answers every verification it runs): a body
    is kept for what its response allows a shared cache (``freshness``; nothing for
    ``no-store``, ``no-cache``, ``private`` or ``max-age=0``), at most ``cache_seconds`` (0: keep
    nothing), and at most ``CACHE_ENTRIES`` bodies of ``cache_bytes`` in all. A final answer of
    ``NOT_FOUND_STATUSES`` is kept the same way (``NOT_FOUND_SECONDS`` when its headers say
    nothing), and a fetch that ran out of its own time for ``SILENT_SECONDS`` (within
    ``cache_seconds``); either is raised again, with the same reason, while fresh. No other
    failure is kept. A body whose response has an ``ETag`` or ``Last-Modified`` is kept past its
    freshness too (``no-cache`` and ``max-age=0`` ones included; never ``no-store`` or
    ``private``): it is asked for again with ``If-None-Match`` / ``If-Modified-Since``, and a
    ``304`` answers with the kept body, its headers updated with the ``304``'s (RFC 9111
    §4.3.4: what the ``304`` does not say, such as a ``no-cache``, still holds). A
    kept copy is never used without the server's word: when the server cannot be reached, the
    fetch fails. Thread-safe.

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
        cache_bytes: int = CACHE_BYTES,
        allow_http: bool = False,
        allow_loopback_http: bool = False,
        allow_private_addresses: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        resolver: Resolver = system_resolver,
        backend: httpcore.NetworkBackend | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.cache_seconds = cache_seconds
        self.cache_bytes = cache_bytes
        self.clock = clock
        self.allow_http = allow_http
        self.allow_loopback_http = allow_loopback_http
        self.policy = address_policy(
            allow_loopback=allow_loopback_http, allow_private=allow_private_addresses
        )
        self.ssl_context = ssl_context
        self.resolver = resolver
        self.backend = backend
        # url: (until, body, its response's headers if it can be revalidated, else None),
        # or (until, reason, None) for a kept failure
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def _check_scheme(self, url: str) -> None:
        if url.startswith("https://") or (self.allow_http and url.startswith("http://")):
            return
        if self.allow_loopback_http and url.startswith(LOOPBACK):
            return
        raise FetchError(url, "only https URLs are fetched")

    def __call__(self, url: str) -> bytes:
        self._check_scheme(url)
        now = self.clock()
        stale: _Entry | None = None
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None:
                self._cache.move_to_end(url)
                until, answer, stored, _ = cached
                if now < until:
                    if isinstance(answer, str):
                        raise FetchError(url, answer)
                    return answer
                if stored is None:
                    self._forget(url)
                else:
                    stale = cached
        own = Deadline(self.deadline, f"took longer than {self.deadline:g} s")
        deadline = earliest(own, current_budget())
        conditions = validators(stale[2], shared=True) if stale and stale[2] else None
        try:
            status, body, headers, where = self._get(url, deadline, conditions)
        except FetchError as exc:
            if deadline is own and (exc.reason in TIMEOUTS or exc.reason == own.reason):
                self._keep(url, self.clock(), SILENT_SECONDS, exc.reason)
            raise
        if status == 304 and conditions is not None:
            assert stale is not None and stale[2] is not None and isinstance(stale[1], bytes)
            body, headers = bytes(stale[1]), updated_headers(stale[2], headers)
        if status == 200 or (status == 304 and conditions is not None):
            if where != url:
                body = Fetched(body, where)
            fresh = freshness(headers, self.cache_seconds, shared=True)
            self._keep(url, now, fresh, body, headers)
            return body
        reason = f"HTTP {status}"
        if status in NOT_FOUND_STATUSES:
            self._keep(url, now, freshness(headers, NOT_FOUND_SECONDS, shared=True), reason)
        else:
            with self._lock:
                self._forget(url)
        raise FetchError(url, reason)

    def _keep(
        self,
        url: str,
        now: float,
        fresh: float,
        answer: bytes | str,
        headers: httpx.Headers | None = None,
    ) -> None:
        """Keep ``answer`` (a body, or a failure's reason) for ``fresh`` seconds from ``now``,
        at most ``cache_seconds``; a body whose response ``headers`` give validators also after
        that, to be revalidated (unless ``cache_seconds`` is 0)."""
        keep = min(self.cache_seconds, fresh)
        size = len(answer) if isinstance(answer, bytes) else 0
        revalidate = (
            headers is not None
            and self.cache_seconds > 0
            and validators(headers, shared=True) is not None
        )
        with self._lock:
            self._forget(url)
            if (keep > 0 or revalidate) and size <= self.cache_bytes:
                self._cache[url] = (now + keep, answer, headers if revalidate else None, now)
                self._cached_bytes += size
                while len(self._cache) > CACHE_ENTRIES or self._cached_bytes > self.cache_bytes:
                    self._drop(self._cache.popitem(last=False)[1][1])

    def refresh_within(self, url: str, seconds: float) -> None:
        """What a document says of its own freshness (a status list's ``ttl``): the body kept
        for ``url`` is used for at most ``seconds`` from when the server last gave or confirmed
        it, then asked for again (conditionally, when it can be revalidated), even where its
        response allowed longer. A document never makes itself kept longer than its response
        allows."""
        with self._lock:
            cached = self._cache.get(url)
            if cached is None or not isinstance(cached[1], bytes):
                return
            until, answer, stored, asked = cached
            if asked + seconds < until:
                self._cache[url] = (asked + seconds, answer, stored, asked)

    def _forget(self, url: str) -> None:
        """Drop ``url``'s entry (under the lock)."""
        dropped = self._cache.pop(url, None)
        if dropped is not None:
            self._drop(dropped[1])

    def _drop(self, answer: bytes | str) -> None:
        """Account for an entry taken out (under the lock)."""
        if isinstance(answer, bytes):
            self._cached_bytes -= len(answer)

    def _transport(self, deadline: Deadline) -> GuardedTransport:
        return GuardedTransport(
            deadline=deadline,
            policy=self.policy,
            ssl_context=self.ssl_context,
            resolver=self.resolver,
            backend=self.backend,
        )

    def _get(
        self, url: str, deadline: Deadline, conditions: Mapping[str, str] | None = None
    ) -> tuple[int, bytes, httpx.Headers, str]:
        """GET (with the request headers ``conditions`` too, at every hop), following at most
        ``MAX_REDIRECTS`` redirects, each to an allowed scheme and address, all by
        ``deadline``: the final status, its body (none unless 200), the headers it came with
        and the URL that gave it."""
        location = url
        headers = {**_HEADERS, **conditions} if conditions else _HEADERS
        with self._transport(deadline) as transport:
            for _ in range(MAX_REDIRECTS + 1):
                self._check_scheme(location)
                refuse_literal(location, self.policy)
                status, body, target, answer = self._get_once(transport, location, headers)
                if target is None:
                    return status, body, answer, location
                location = target
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _get_once(
        self, transport: httpx.BaseTransport, url: str, request_headers: Mapping[str, str]
    ) -> tuple[int, bytes, str | None, httpx.Headers]:
        with exchange(transport, url, request_headers, self.timeout) as response:
            headers = response.headers
            if response.has_redirect_location:
                target = httpx.URL(url).join(headers["location"])
                return response.status_code, b"", str(target), headers
            if response.status_code != 200:
                return response.status_code, b"", None, headers
            return 200, read_body(response, url, self.max_bytes), None, headers


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
    return parse_json(fetcher(url), url)


def parse_json(body: bytes, url: str) -> Any:
    """The JSON ``body`` fetched from ``url`` holds (``FetchError`` when it is not usable)."""
    try:
        return safejson.loads(body)
    except MalformedInput as exc:
        raise FetchError(url, f"the response is not usable JSON: {exc}") from exc
