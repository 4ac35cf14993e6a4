"""Servers on 127.0.0.1 for the fetcher's tests, and a network backend that plays the internet.

Nothing here leaves the machine: ``Internet`` sends a connection for a public address to the
local server registered for it and refuses every other public address, while connections to
loopback (or to a host *name*, which a guarded fetcher never passes down) really are opened, so a
fetcher that connected to the wrong place would reach the local listeners the tests watch.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any, ClassVar

import httpcore
import pytest
import trustme

Answer = tuple[int, Mapping[str, str], bytes]


class Recording(BaseHTTPRequestHandler):
    """Answers each path from ``routes`` (404 for the rest) and records (path, Host header)."""

    routes: ClassVar[Mapping[str, Answer]] = {}
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Host")))
        status, headers, body = self.routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def answering(routes: Mapping[str, Answer]) -> type[Recording]:
    """A handler class of its own for ``routes``, with its own record."""
    return type("Answering", (Recording,), {"routes": dict(routes), "seen": []})


@contextmanager
def http_server(
    handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
) -> Iterator[int]:
    """Serve ``handler`` on 127.0.0.1 (over TLS with ``tls``); yields the port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def server_tls(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    """A server's TLS context with a certificate from ``ca`` for ``names``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*names).configure_cert(context)
    return context


class Trap:
    """A listener on 127.0.0.1 that counts the connections it gets and closes each at once:
    what a credential must never reach (an admin port, a metadata service)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._peers: list[int] = []
        self._own: set[int] = set()
        self._seen = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, peer = self._socket.accept()
            except OSError:
                return
            connection.close()
            with self._seen:
                self._peers.append(peer[1])
                self._seen.notify_all()

    def connections(self) -> int:
        """How many connections reached the trap. Counted once a connection of our own, made
        last, has been taken, so none still waiting in the listen queue is missed."""
        with socket.create_connection(("127.0.0.1", self.port)) as own:
            mine = own.getsockname()[1]
            self._own.add(mine)
            with self._seen:
                self._seen.wait_for(lambda: mine in self._peers, timeout=10)
                return len([peer for peer in self._peers if peer not in self._own])

    def close(self) -> None:
        _stop(self._socket)
        self._thread.join()


@contextmanager
def drip_server(*, headers_too: bool = False, interval: float = 0.1) -> Iterator[int]:
    """An HTTP server that answers every request one byte per ``interval``: the body only, or
    (``headers_too``) the status line and headers as well. It gives up after 100 bytes, so a
    fetcher without a deadline would finish after about 10 s rather than hang."""
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))

    def drip(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            body = b"x" * 100
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            if not headers_too:
                connection.sendall(head)
            for byte in (head + body if headers_too else body)[:100]:
                if stop.wait(interval):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        _stop(server)
        thread.join()


def _stop(listener: socket.socket) -> None:
    """Close a listening socket and wake the thread blocked in its ``accept``."""
    with suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()


class Internet(httpcore.SyncBackend):
    """The sockets under a fetcher: records every connection asked for; a public address listed
    in ``routes`` goes to that local port, other public addresses are unreachable (the tests are
    offline), and anything else is connected for real."""

    def __init__(self, routes: Mapping[str, int] | None = None) -> None:
        self.routes = dict(routes or {})
        self.opened: list[tuple[str, int]] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        self.opened.append((host, port))
        if host in self.routes:
            host, port = "127.0.0.1", self.routes[host]
        elif _is_public(host):
            raise httpcore.ConnectError(f"{host} is not reachable from the tests")
        return super().connect_tcp(host, port, timeout, local_address, socket_options)


def _is_public(host: str) -> bool:
    try:
        return not ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: resolved (again) by the real socket layer


class FakeDns:
    """``socket.getaddrinfo`` with scripted answers for some names: each call for a name takes
    the next answer (the last one repeats); numeric hosts and other names go to the real one."""

    def __init__(self, answers: Mapping[str, list[str]]) -> None:
        self.answers = {name: list(values) for name, values in answers.items()}
        self.asked: list[str] = []
        self.real = socket.getaddrinfo

    def __call__(
        self,
        host: bytes | str | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self.real(host, port, family, type, proto, flags)
        self.asked.append(name)
        queue = self.answers[name]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        number = int(port) if port is not None else 0
        kind = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(kind, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, number))]


def record_connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every TCP connection httpcore is asked to open, anywhere, and refuse it."""
    opened: list[tuple[str, int]] = []

    def connect_tcp(
        self: httpcore.SyncBackend,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        opened.append((host, port))
        raise httpcore.ConnectError("the tests are offline")

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    return opened
