"""HttpFetcher against a real HTTP server on loopback: size limit, timeout, cache (what the
caching headers allow a shared cache, bounded; a "not found" briefly), schemes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import httpx
import pytest

from issuer.issuing.bitstring import empty_bits, set_bit, status_entry, status_list_credential
from tests.issuer.credentials import make_credential
from tests.vectors import NOW
from tests.verifier.test_status import ISSUER, LIST_FROM, _signed
from verifier import Verdict, fetch, verify_credential
from verifier.errors import FetchError
from verifier.fetch import HttpFetcher, freshness
from verifier.transport import Deadline, within

HITS: list[str] = []
PUBLISHED: set[str] = set()
"""Paths under /later/ that answer 200; the others answer 404."""


PUBLISHED_DOCUMENTS: dict[str, dict[str, str]] = {}
"""Paths served with validators: body, etag, last-modified, cache-control, status (each optional
but body); answered 304 when the request's condition matches."""
CONDITIONS: list[tuple[str, str | None, str | None]] = []
"""(path, If-None-Match, If-Modified-Since) of every request for a published document."""


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        HITS.append(self.path)
        if self.path in PUBLISHED_DOCUMENTS:
            self.publish(PUBLISHED_DOCUMENTS[self.path])
            return
        if self.path == "/slow" or self.path.startswith("/slow/"):
            time.sleep(1.0)
        body = b"x" * 5000 if self.path == "/big" else b'{"ok": true}'
        if self.path.startswith("/sized/"):  # /sized/{n}/{anything}: n bytes
            body = b"y" * int(self.path.split("/")[2])
        status = 200
        if self.path == "/missing" or self.path.startswith("/status/"):  # /status/{code}/{any}
            status = 404 if self.path == "/missing" else int(self.path.split("/")[2])
        if self.path.startswith("/later/") and self.path not in PUBLISHED:
            status = 404
        try:
            self.send_response(status)
            if self.path.startswith("/cc/"):  # /cc/{Cache-Control}/{anything}
                self.send_header("Cache-Control", unquote(self.path.split("/")[2]))
            if "/cc=" in self.path:  # …/cc={Cache-Control}: a status with caching headers
                self.send_header("Cache-Control", unquote(self.path.rsplit("/cc=", 1)[1]))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)

    def publish(self, document: dict[str, str]) -> None:
        asked = (self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"))
        CONDITIONS.append((self.path, *asked))
        etag, modified = document.get("etag"), document.get("last-modified")
        unchanged = (etag is not None and asked[0] == etag) or (
            asked[0] is None and modified is not None and asked[1] == modified
        )
        status = int(document.get("status", "304" if unchanged else "200"))
        body = document["body"].encode() if status == 200 else b""
        self.send_response(status)
        for header in ("etag", "last-modified", "cache-control", "age"):
            quiet = status == 304 and header != "etag" and "quiet-304" in document
            if header in document and not quiet:
                self.send_header(header.title(), document[header])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetches_and_caches(server: str) -> None:
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True)
    before = len(HITS)
    assert fetcher(f"{server}/doc") == b'{"ok": true}'
    assert fetcher(f"{server}/doc") == b'{"ok": true}'
    assert len(HITS) == before + 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _hits(path: str) -> int:
    return HITS.count(path)


@pytest.mark.parametrize(
    ("cache_control", "kept"),
    [
        ("no-store", False),
        ("no-cache", False),
        ("max-age=0", False),
        ("private, max-age=600", False),  # a service's cache answers many users: a shared one
        ("s-maxage=0, max-age=600", False),
        ("max-age=600", True),
        ("public, s-maxage=600, max-age=0", True),
    ],
)
def test_the_cache_keeps_what_the_headers_allow_a_shared_cache(
    server: str, cache_control: str, kept: bool
) -> None:
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True)
    path = f"/cc/{cache_control.replace(' ', '%20')}/{time.monotonic_ns()}"
    for _ in range(3):
        assert fetcher(server + path) == b'{"ok": true}'
    assert _hits(path) == (1 if kept else 3)


def test_a_kept_body_is_fetched_again_once_stale_and_never_after_five_minutes(
    server: str,
) -> None:
    clock = Clock()
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True, clock=clock)
    short, long = (
        f"/cc/max-age=60/{time.monotonic_ns()}",
        f"/cc/max-age=86400/{time.monotonic_ns()}",
    )
    fetcher(server + short), fetcher(server + long)
    clock.now += 59
    fetcher(server + short), fetcher(server + long)
    assert (_hits(short), _hits(long)) == (1, 1)
    clock.now += 2  # 61 s: past max-age=60
    fetcher(server + short), fetcher(server + long)
    assert (_hits(short), _hits(long)) == (2, 1)
    clock.now += 300  # past the fetcher's own limit of 300 s, whatever the server allows
    fetcher(server + long)
    assert _hits(long) == 2
    plain = f"/plain/{time.monotonic_ns()}"  # no caching headers: the fetcher's limit
    fetcher(server + plain)
    clock.now += 299
    fetcher(server + plain)
    clock.now += 2
    fetcher(server + plain)
    assert _hits(plain) == 2


def test_nothing_is_kept_with_cache_seconds_zero(server: str) -> None:
    stamp = time.monotonic_ns()
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True, cache_seconds=0)
    for path in (f"/doc/{stamp}", f"/status/404/{stamp}"):
        for _ in range(2):
            with suppress(FetchError):
                fetcher(server + path)
        assert _hits(path) == 2
    assert fetcher._cache == {}


def _fails(fetcher: HttpFetcher, url: str, status: int) -> None:
    with pytest.raises(FetchError, match=f"HTTP {status}") as caught:
        fetcher(url)
    assert caught.value.url == url and caught.value.reason == f"HTTP {status}"


def test_a_not_found_is_kept_briefly_and_as_its_headers_allow(server: str) -> None:
    """A website with no DID Configuration answers 404 to every verification of its issuer's
    badges: the answer is kept (30 s, or what its caching headers say, at most cache_seconds),
    so page views do not each ask the website again."""
    clock = Clock()
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True, clock=clock)
    stamp = time.monotonic_ns()
    plain, gone = f"/status/404/{stamp}", f"/status/410/{stamp}"
    told, forbidden = f"/status/404/{stamp}/cc=max-age=120", f"/status/404/{stamp}/cc=no-store"
    for _ in range(3):
        for path, status in ((plain, 404), (gone, 410), (told, 404), (forbidden, 404)):
            _fails(fetcher, server + path, status)
    assert [_hits(path) for path in (plain, gone, told, forbidden)] == [1, 1, 1, 3]
    clock.now += 31  # past the 30 s of a "not found" that says nothing of caching
    for path, status in ((plain, 404), (gone, 410), (told, 404)):
        _fails(fetcher, server + path, status)
    assert [_hits(path) for path in (plain, gone, told)] == [2, 2, 1]
    clock.now += 90  # 121 s: past its own max-age=120
    _fails(fetcher, server + told, 404)
    assert _hits(told) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 429, 500, 502, 503])
def test_other_failures_are_never_kept(server: str, status: int) -> None:
    """Refusals and server errors may pass at once (or be meant for one client): asked again."""
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True)
    path = f"/status/{status}/{time.monotonic_ns()}/cc=max-age=600"
    for _ in range(2):
        _fails(fetcher, server + path, status)
    assert _hits(path) == 2
    assert fetcher._cache == {}


def test_a_host_that_does_not_answer_in_time_is_not_asked_again_for_30_s(server: str) -> None:
    """A website that never answers would hold every page view of its issuer's badges for the
    whole timeout: the failure is kept (the same reason) and the URL fetched again after 30 s."""
    clock = Clock()
    silent = HttpFetcher(allow_private_addresses=True, allow_http=True, timeout=0.2, clock=clock)
    path = f"/slow/{time.monotonic_ns()}"
    for _ in range(3):
        with pytest.raises(FetchError, match="ReadTimeout"):
            silent(server + path)
    assert _hits(path) == 1
    clock.now += 31
    with pytest.raises(FetchError, match="ReadTimeout"):
        silent(server + path)
    assert _hits(path) == 2
    slow = HttpFetcher(allow_private_addresses=True, allow_http=True, deadline=0.3, clock=clock)
    path = f"/slow/{time.monotonic_ns()}"  # past the fetch's whole deadline: kept too
    for _ in range(2):
        with pytest.raises(FetchError, match=r"took longer than 0\.3 s"):
            slow(server + path)
    assert _hits(path) == 1


def test_a_fetch_cut_short_by_its_operations_budget_is_not_kept(server: str) -> None:
    """Out of an operation's time (all the fetches of one verification) is not the host's doing:
    the next operation asks again."""
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True, timeout=0.2)
    path = f"/slow/{time.monotonic_ns()}"
    for _ in range(2):
        with (
            within(Deadline(0.5, "the verification's budget")),
            pytest.raises(FetchError, match="ReadTimeout"),
        ):
            fetcher(server + path)
        with (
            within(Deadline(0.1, "the verification's budget")),
            pytest.raises(FetchError, match=r"the verification's budget|ReadTimeout"),
        ):
            fetcher(server + path)  # (the read's wait ends as the budget does: either name)
    assert _hits(path) == 4
    assert fetcher._cache == {}


def test_a_document_published_after_a_not_found_is_read_once_that_is_stale(
    server: str,
) -> None:
    """One entry per URL: the newer answer replaces the older; bodies count in bytes, kept
    failures not."""
    clock = Clock()
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True, clock=clock)
    path = f"/later/{time.monotonic_ns()}"
    _fails(fetcher, server + path, 404)
    assert fetcher._cached_bytes == 0 and list(fetcher._cache) == [server + path]
    PUBLISHED.add(path)
    _fails(fetcher, server + path, 404)  # still the kept answer
    clock.now += 31
    assert fetcher(server + path) == b'{"ok": true}'
    assert _hits(path) == 2
    assert fetcher._cached_bytes == len(b'{"ok": true}') and len(fetcher._cache) == 1


def test_the_cache_is_bounded_in_bytes_and_entries(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True, cache_bytes=2500)
    stamp = time.monotonic_ns()
    urls = [f"{server}/sized/1000/{stamp}-{n}" for n in range(3)]
    for url in urls:
        assert fetcher(url) == b"y" * 1000
    assert list(fetcher._cache) == urls[1:]  # the oldest went out: 3,000 bytes > 2,500
    assert fetcher._cached_bytes == 2000
    fetcher(urls[1])  # used again: now the most recent
    fetcher(f"{server}/sized/3000/{stamp}")  # larger than the whole cache: not kept
    assert list(fetcher._cache) == [urls[2], urls[1]]
    monkeypatch.setattr(fetch, "CACHE_ENTRIES", 1)
    fetcher(f"{server}/sized/10/{stamp}")
    assert list(fetcher._cache) == [f"{server}/sized/10/{stamp}"]
    assert fetcher._cached_bytes == 10


def _publish(**document: str) -> str:
    path = f"/published/{time.monotonic_ns()}"
    PUBLISHED_DOCUMENTS[path] = {key.replace("_", "-"): value for key, value in document.items()}
    return path


def _conditions(path: str) -> list[tuple[str | None, str | None]]:
    return [(etag, modified) for requested, etag, modified in CONDITIONS if requested == path]


def test_a_no_cache_document_with_an_etag_is_revalidated_and_a_304_keeps_its_body(
    server: str,
) -> None:
    """Laurel serves its status lists ``no-cache`` with an ETag: every verification asks again,
    and an unchanged list comes back as a 304 from the list server's memory, without its body."""
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True)
    path = _publish(body='{"list": 1}', etag='"v1"', cache_control="no-cache")
    for _ in range(3):
        assert fetcher(server + path) == b'{"list": 1}'
    assert _conditions(path) == [(None, None), ('"v1"', None), ('"v1"', None)]
    PUBLISHED_DOCUMENTS[path].update(body='{"list": 2}', etag='"v2"')  # a revocation
    assert fetcher(server + path) == b'{"list": 2}'
    assert fetcher(server + path) == b'{"list": 2}'
    assert _conditions(path)[3:] == [('"v1"', None), ('"v2"', None)]


def test_a_304_that_says_nothing_of_caching_leaves_the_kept_headers_in_force(
    server: str,
) -> None:
    """RFC 9111 §4.3.4: a 304 updates the kept response's headers with its own; what it does not
    send still holds. A list kept with ``no-cache`` stays ``no-cache`` after a bare 304 (it is
    not taken as fresh for the fetcher's own 5 minutes), and an ``Age`` the first answer came
    with is not counted again."""
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True)
    path = _publish(body='{"list": 1}', etag='"v1"', cache_control="no-cache", quiet_304="1")
    for _ in range(3):
        assert fetcher(server + path) == b'{"list": 1}'
    assert _conditions(path) == [(None, None), ('"v1"', None), ('"v1"', None)]
    clock = Clock()
    aged = HttpFetcher(allow_private_addresses=True, allow_http=True, clock=clock)
    path = _publish(body="{}", etag='"v1"', cache_control="max-age=100", age="90", quiet_304="1")
    aged(server + path)
    clock.now += 11  # 90 + 11 > 100: stale; the 304 says nothing, so 100 s from now
    aged(server + path)
    clock.now += 99
    aged(server + path)
    assert _conditions(path) == [(None, None), ('"v1"', None)]


def test_a_304_makes_the_kept_body_fresh_again_for_what_it_allows(server: str) -> None:
    clock = Clock()
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True, clock=clock)
    modified = formatdate(time.time() - 3600, usegmt=True)
    path = _publish(body='{"did": 1}', last_modified=modified, cache_control="max-age=60")
    fetcher(server + path)
    clock.now += 59
    fetcher(server + path)
    assert _conditions(path) == [(None, None)]
    clock.now += 2  # stale: asked with If-Modified-Since, 304, fresh for another 60 s
    assert fetcher(server + path) == b'{"did": 1}'
    clock.now += 59
    assert fetcher(server + path) == b'{"did": 1}'
    assert _conditions(path) == [(None, None), (None, modified)]


def test_a_document_can_shorten_how_long_it_is_kept_never_lengthen_it(server: str) -> None:
    """A status list's ``ttl`` (``refresh_within``): the kept body is used for at most that long
    from when the server last gave or confirmed it, then asked for again: conditionally when it
    has validators, in full when it has none."""
    clock = Clock()
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True, clock=clock)
    path = _publish(body='{"list": 2}', etag='"v2"', cache_control="max-age=3600")
    fetcher(server + path)
    clock.now += 20
    fetcher.refresh_within(server + path, 30.0)  # 30 s from the fetch, 20 s ago
    fetcher.refresh_within(server + path, 7200.0)  # never longer than the response allows
    clock.now += 9
    assert fetcher(server + path) == b'{"list": 2}'
    assert _conditions(path) == [(None, None)]
    clock.now += 2  # 31 s: asked again, with its ETag; the 304 makes it fresh for an hour
    assert fetcher(server + path) == b'{"list": 2}'
    assert _conditions(path) == [(None, None), ('"v2"', None)]
    fetcher.refresh_within(server + path, 30.0)  # from the 304
    clock.now += 29
    fetcher(server + path)
    assert len(_conditions(path)) == 2
    clock.now += 2
    fetcher(server + path)
    assert _conditions(path)[2:] == [('"v2"', None)]

    plain = f"/cc/max-age=3600/{time.monotonic_ns()}"
    fetcher(server + plain)
    fetcher.refresh_within(server + plain, 0.0)
    fetcher(server + plain)
    assert _hits(plain) == 2
    fetcher.refresh_within(server + "/never-fetched", 0.0)  # nothing kept: nothing to do
    fetcher.refresh_within(server + "/missing", 0.0)


def test_a_status_lists_ttl_bounds_how_long_a_verifier_keeps_it(server: str) -> None:
    """End to end: a list served ``max-age=3600`` whose ``ttl`` is 60 s is asked for again after
    a minute, so a revocation published since is seen then, not an hour later."""
    path = f"/published/list-{time.monotonic_ns()}"
    url = server + path

    def publish(bits: bytearray) -> None:
        document = status_list_credential(url, ISSUER, bytes(bits), valid_from=LIST_FROM)
        document["credentialSubject"]["ttl"] = 60_000
        body = json.dumps(_signed(document))
        PUBLISHED_DOCUMENTS[path] = {"body": body, "cache-control": "max-age=3600"}

    credential = _signed(make_credential(ISSUER, credentialStatus=status_entry(url, 5)))
    clock = Clock()
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True, clock=clock)
    bits = empty_bits()
    publish(bits)
    assert verify_credential(credential, now=NOW, fetcher=fetcher).verdict is Verdict.VERIFIED
    set_bit(bits, 5)
    publish(bits)  # revoked
    clock.now += 59
    assert verify_credential(credential, now=NOW, fetcher=fetcher).verdict is Verdict.VERIFIED
    assert _hits(path) == 1
    clock.now += 2
    report = verify_credential(credential, now=NOW, fetcher=fetcher)
    status = report.check("status")
    assert report.verdict is Verdict.NOT_VERIFIED and status and "revoked" in status.reason
    assert _hits(path) == 2


def test_a_last_modified_close_to_its_date_is_not_revalidated_with(server: str) -> None:
    """A date has a one-second grain: a list revoked within the second it was fetched in keeps
    its Last-Modified, so only a date at least 60 s before the response's Date (a strong
    validator, RFC 9110 §8.8.2.2) is asked with; a recent one is fetched whole again."""
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True)
    modified = formatdate(time.time() - 10, usegmt=True)
    path = _publish(body='{"list": 1}', last_modified=modified, cache_control="no-cache")
    for _ in range(2):
        assert fetcher(server + path) == b'{"list": 1}'
    assert _conditions(path) == [(None, None), (None, None)]
    assert fetcher._cache == {}


@pytest.mark.parametrize("cache_control", ["no-store", "private, max-age=600"])
def test_what_a_shared_cache_may_not_store_is_never_revalidated(
    server: str, cache_control: str
) -> None:
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True)
    path = _publish(body="{}", etag='"v1"', cache_control=cache_control)
    for _ in range(2):
        fetcher(server + path)
    assert _conditions(path) == [(None, None), (None, None)]
    assert fetcher._cache == {}


def test_nothing_is_revalidated_with_cache_seconds_zero(server: str) -> None:
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True, cache_seconds=0)
    path = _publish(body="{}", etag='"v1"')
    for _ in range(2):
        fetcher(server + path)
    assert _conditions(path) == [(None, None), (None, None)]


def test_a_kept_copy_is_never_used_without_the_servers_word(server: str) -> None:
    """A stale copy answers only a 304: when the server fails, the fetch fails, and the copy
    is dropped (the next request is unconditional)."""
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True)
    path = _publish(body='{"list": 1}', etag='"v1"', cache_control="no-cache")
    fetcher(server + path)
    PUBLISHED_DOCUMENTS[path]["status"] = "503"
    _fails(fetcher, server + path, 503)
    del PUBLISHED_DOCUMENTS[path]["status"]
    assert fetcher(server + path) == b'{"list": 1}'
    assert _conditions(path) == [(None, None), ('"v1"', None), (None, None)]


def test_a_304_that_was_not_asked_for_is_an_error(server: str) -> None:
    fetcher = HttpFetcher(allow_private_addresses=True, allow_http=True)
    path = _publish(body="{}", status="304")
    _fails(fetcher, server + path, 304)


def test_freshness_reads_expires_against_date() -> None:
    now = time.time()
    headers = httpx.Headers(
        {"Expires": formatdate(now + 120, usegmt=True), "Date": formatdate(now, usegmt=True)}
    )
    assert 119 <= freshness(headers, 300) <= 121
    assert freshness(httpx.Headers({"Expires": "0"}), 300) == 0  # an invalid date: stale
    assert freshness(httpx.Headers({}), 300) == 300
    assert freshness(httpx.Headers({"Cache-Control": "max-age=soon"}), 300) == 0
    assert freshness(httpx.Headers({"Cache-Control": "private"}), 300) == 300  # a private cache
    assert freshness(httpx.Headers({"Cache-Control": "private"}), 300, shared=True) == 0
    aged = {"Cache-Control": "max-age=600", "Age": "550"}  # from a cache on the way
    assert freshness(httpx.Headers(aged), 300) == 50
    assert freshness(httpx.Headers({**aged, "Age": "900"}), 300) == 0
    assert freshness(httpx.Headers({**aged, "Age": "soon"}), 300) == 0


def test_size_limit(server: str) -> None:
    with pytest.raises(FetchError, match="over 1000 bytes"):
        HttpFetcher(allow_private_addresses=True, allow_http=True, max_bytes=1000)(f"{server}/big")


def test_timeout(server: str) -> None:
    with pytest.raises(FetchError, match="Timeout"):
        HttpFetcher(allow_private_addresses=True, allow_http=True, timeout=0.2)(f"{server}/slow")


def test_http_status_is_an_error(server: str) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        HttpFetcher(allow_private_addresses=True, allow_http=True)(f"{server}/missing")


def test_only_https_by_default(server: str) -> None:
    with pytest.raises(FetchError, match="only https"):
        HttpFetcher()(f"{server}/doc")
    with pytest.raises(FetchError):
        HttpFetcher()("file:///etc/passwd")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.1.2.3/x",
        "https://192.168.0.1/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/x",
        "https://0.0.0.0/x",
    ],
)
def test_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match=r"private or local|does not resolve"):
        HttpFetcher()(url)
