"""``laurel serve --workers N``: N serving processes on one port, each listening on a socket of
its own with ``SO_REUSEPORT``.

With one socket shared by all processes (uvicorn's ``--workers``) whichever process wakes first
accepts every connection waiting, and keep-alive connections stay where they landed, so one
process may carry nearly all the load (docs/operations.md, "uvicorn's workers"). With a socket
per process, Linux hashes each new connection to one of the sockets, so connections spread
evenly, and a process that dies takes only its own socket (and the connections waiting on it)
with it.

The processes are started with ``spawn``: each builds its own services (database pool, keys) as
a single ``laurel serve`` would. This module only starts, watches and stops them: a process that
stops before it was ready stops the whole server (its error is the server's); one that dies later
is started again.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any, NoReturn

STOP_SECONDS = 30.0
"""How long a stopping server waits for its processes to finish their requests before killing
them."""


def supported() -> bool:
    """Whether the kernel spreads connections over ``SO_REUSEPORT`` sockets (Linux does; other
    systems give every connection to one of them, or have no such option)."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    """The family and address to bind, as uvicorn binds ``--host``: IPv6 when the host has a
    colon, else IPv4 (``localhost`` included)."""
    return (socket.AF_INET6 if ":" in host else socket.AF_INET), (host, port)


def check_free(host: str, port: int) -> None:
    """Raise ``OSError`` if something listens on ``host:port`` already. The test bind does not
    ask for ``SO_REUSEPORT``, so it fails for a listener that did too (another ``laurel serve
    --workers`` on the same port would otherwise silently share its connections)."""
    family, address = _address(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` that other processes of this server share the port
    with, each with a socket of its own."""
    family, address = _address(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(2048)  # uvicorn's default backlog
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def run(app: Any, sock: socket.socket, ready: Event, **options: Any) -> None:
    """Serve ``app`` on ``sock`` with uvicorn (``options`` are its ``Config``'s) until a signal
    stops it; ``ready`` is set once uvicorn has started (its startup, the app's lifespan
    included, went well)."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                ready.set()

    Server(uvicorn.Config(app, **options)).run(sockets=[sock])


def exit_through_finally_on_sigterm() -> None:
    """Make SIGTERM end this process through its ``finally`` blocks and context exits.

    uvicorn shuts down gracefully on SIGTERM, then raises the signal again under the handler
    that was there before it started. The default handler kills the process at once, so the
    embedded worker was never stopped (a bulk batch cut short rather than finished) and the
    services never closed. Under this handler the signal raises ``SystemExit(0)`` instead. Only
    the main thread handles signals, so only there is it installed."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_cleanly)


def _exit_cleanly(number: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(0)


Target = Callable[..., None]
"""A process's work: a module-level function (``spawn`` pickles it by name), called with the
arguments given to ``supervise`` and then a ``ready`` event to set once it is about to serve."""


class _Signals:
    """SIGINT and SIGTERM ask the supervisor to stop its processes."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous = {
            number: signal.signal(number, self._note) for number in (signal.SIGINT, signal.SIGTERM)
        }

    def _note(self, number: int, frame: FrameType | None) -> None:
        self.received = number

    def restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)


def supervise(
    target: Target,
    args: tuple[Any, ...],
    count: int,
    say: Callable[[str], None],
) -> int:
    """Run ``count`` processes of ``target(*args, ready)`` until SIGINT or SIGTERM; 0 then. A
    process that stops before it set ``ready`` ends the server: the others are stopped and the
    answer is 2. One that stops after it was ready is replaced."""
    context = multiprocessing.get_context("spawn")
    signals = _Signals()
    running: list[tuple[BaseProcess, Event]] = []

    def start() -> tuple[BaseProcess, Event]:
        ready = context.Event()
        process = context.Process(target=target, args=(*args, ready), name="laurel-serve")
        process.start()
        return process, ready

    try:
        while len(running) < count:  # appended one by one: the finally stops those started
            running.append(start())
        while signals.received is None:
            wait([process.sentinel for process, _ in running], timeout=0.5)
            for index, (process, ready) in enumerate(running):
                if process.is_alive() or signals.received is not None:
                    continue
                if not ready.is_set():
                    say(
                        f"a serving process stopped as it started (exit code {process.exitcode}); "
                        "stopping the others"
                    )
                    return 2
                say(
                    f"serving process {process.pid} stopped (exit code {process.exitcode}); "
                    "starting another"
                )
                running[index] = start()
        return 0
    finally:
        _stop([process for process, _ in running])
        signals.restore()


def _stop(processes: list[BaseProcess]) -> None:
    """Ask each process to finish its requests (SIGTERM: uvicorn's graceful shutdown, also when
    a terminal's SIGINT reached it already), wait up to ``STOP_SECONDS`` for all of them, then
    kill what is left."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
