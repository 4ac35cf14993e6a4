"""`laurel serve --workers N` (issuer.serving): real processes, each listening on its own
socket on one port. Which process holds which connection is read from /proc (the sockets each
process has open, and the kernel's table of TCP sockets), not from anything the server says."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from issuer import serving
from tests.reliability.test_processes import (
    LAUREL,
    PATIENCE,
    World,
    _answers,
    _stop,
    _until,
    _world,
    postgres_world,  # noqa: F401 (fixtures, by name)
    sqlite_world,  # noqa: F401
    with_course,
)
from tests.web.conftest import free_port

pytestmark = pytest.mark.skipif(not serving.supported(), reason="SO_REUSEPORT balancing is Linux's")

CONNECTIONS = 64


@pytest.fixture(params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest) -> World:
    made: World = request.getfixturevalue(f"{request.param}_world")
    return made


def _serve(world: World, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``laurel serve --workers 2``, what it writes to stderr going to ``log``."""
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [LAUREL, "serve", "--port", str(port), "--workers", "2", "--no-access-log"],
            env=world.environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            found.update(int(child) for child in handle.read().split())
    return found


def _sockets(pid: int) -> set[str]:
    """The inodes of the sockets ``pid`` has open."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            match = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
            if match:
                inodes.add(match.group(1))
    except OSError:  # the process ended meanwhile
        pass
    return inodes


def _tcp(port: int, state: str) -> set[str]:
    """The inodes of IPv4 TCP sockets on local ``port`` in ``state`` (0A listening, 01
    established)."""
    inodes = set()
    with open("/proc/net/tcp") as handle:
        for line in handle.read().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == state and fields[9] != "0":
                inodes.add(fields[9])
    return inodes


def _listeners(server: subprocess.Popen[bytes], port: int) -> dict[int, str]:
    """The server's processes that listen on ``port``, with their listening socket."""
    listening = _tcp(port, "0A")
    found = {}
    for child in _children(server.pid):
        mine = _sockets(child) & listening
        if mine:
            assert len(mine) == 1, f"process {child} listens on {len(mine)} sockets"
            found[child] = mine.pop()
    return found


def _connections_per_process(pids: set[int], port: int) -> Counter[int]:
    accepted = _tcp(port, "01")
    return Counter({pid: len(_sockets(pid) & accepted) for pid in pids})


def test_processes_listen_on_their_own_sockets_and_share_connections(
    world: World, tmp_path: Path
) -> None:
    """Two processes, each with its own listening socket; 64 keep-alive connections land on
    both; a badge issued through one is verified by the other; a process killed with SIGKILL is
    replaced, and the server still answers; SIGTERM stops every process."""
    key = with_course(world)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    server = _serve(world, port, log)
    try:
        _until("two processes listen", lambda: len(_listeners(server, port)) == 2, server)
        listeners = _listeners(server, port)
        assert len(set(listeners.values())) == 2
        _until("the server answers", lambda: _answers(f"{base}/healthz"), server)

        issued = httpx.post(
            f"{base}/api/v1/issuers/hrd/credentials",
            json={"recipient": {"email": "ada@example.org"}, "achievement": "leading-people"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert issued.status_code == 201, issued.text
        page = f"/v/{issued.json()['id'].removeprefix('urn:uuid:')}"

        connections = []
        try:
            for _ in range(CONNECTIONS):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", page)
                answer = connection.getresponse()
                body = answer.read().decode()
                assert answer.status == 200 and "<title>Valid:" in body, body[:300]
                connections.append(connection)
            spread = _connections_per_process(set(listeners), port)
            assert sum(spread.values()) == CONNECTIONS, spread
            # Hashed over two sockets, all 64 on one would happen once in 2^63 runs.
            assert all(count > 0 for count in spread.values()), spread
        finally:
            for connection in connections:
                connection.close()

        victim = next(iter(listeners))
        os.kill(victim, signal.SIGKILL)
        _until(
            "a process replaces the killed one",
            lambda: len(_listeners(server, port)) == 2 and victim not in _listeners(server, port),
            server,
        )
        assert _answers(f"{base}/healthz")
        processes = set(_listeners(server, port))

        server.send_signal(signal.SIGTERM)
        assert server.wait(PATIENCE) == 0
        stderr = log.read_text()
        assert f"serving process {victim} stopped (exit code -9); starting another" in stderr
        for pid in processes:
            assert not Path(f"/proc/{pid}").exists() or _zombie(pid), f"{pid} still runs"
    finally:
        _stop(server)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except OSError:
        return True


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    """Something listens on the port already (here without SO_REUSEPORT; the check does not
    ask for it, so a listener that did is refused too): exit 2 and a message, no process left."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        world = _world(f"sqlite:///{tmp_path / 'laurel.db'}", tmp_path)
        log = tmp_path / "serve.log"
        server = _serve(world, port, log)
        try:
            assert server.wait(PATIENCE) == 2
            assert f"cannot listen on 127.0.0.1:{port}" in log.read_text()
        finally:
            _stop(server)
            world.services.engine.dispose()

    with serving.reuse_port_socket("127.0.0.1", 0) as shared, pytest.raises(OSError):
        serving.check_free("127.0.0.1", shared.getsockname()[1])


def _quits(ready: object) -> None:
    sys.exit(3)


def test_a_process_that_stops_as_it_starts_stops_the_server() -> None:
    """A process that ends before it is ready ends the server (2), and its siblings with it."""
    said: list[str] = []
    others = {child.pid for child in multiprocessing.active_children()}  # other tests' pools
    assert serving.supervise(_quits, (), 2, said.append) == 2
    assert said == ["a serving process stopped as it started (exit code 3); stopping the others"]
    assert {child.pid for child in multiprocessing.active_children()} <= others


def test_workers_need_a_fixed_port() -> None:
    from typer.testing import CliRunner

    from issuer.cli import app

    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", "0"])
    assert result.exit_code == 2
    assert "--workers needs a --port other than 0" in result.output
