"""HttpFetcher against a real HTTP server on loopback: size limit, timeout, cache, schemes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from verifier.errors import FetchError
from verifier.fetch import HttpFetcher

HITS: list[str] = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        HITS.append(self.path)
        if self.path == "/slow":
            time.sleep(1.0)
        body = b"x" * 5000 if self.path == "/big" else b'{"ok": true}'
        try:
            self.send_response(404 if self.path == "/missing" else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)

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
