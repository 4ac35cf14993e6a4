"""`laurel serve` stopped with SIGTERM (systemd's, Docker's and Kubernetes' way to stop it): it
finishes its requests, stops its embedded worker and closes its services, then exits 0.

uvicorn raises the signal again once it has shut down; under Python's default handler that
killed the process there, before the embedded worker was stopped (its bulk batch cut short,
not finished) and before the services closed."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.reliability.test_processes import (
    LAUREL,
    PATIENCE,
    World,
    _answers,
    _stop,
    _until,
    postgres_world,  # noqa: F401 (fixtures, by name)
    sqlite_world,  # noqa: F401
)
from tests.reliability.test_serve_processes import _listeners
from tests.web.conftest import free_port


@pytest.fixture(params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest) -> World:
    made: World = request.getfixturevalue(f"{request.param}_world")
    return made


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_the_background_work_and_exits_0(
    world: World, tmp_path: Path, workers: int
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            [LAUREL, "serve", "--port", str(port), "--workers", str(workers), "--no-access-log"],
            env=world.environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        _until("the server answers", lambda: _answers(f"http://127.0.0.1:{port}/healthz"), server)
        if workers > 1:  # every process serving, past the point where SIGTERM would kill it
            _until("each process listens", lambda: len(_listeners(server, port)) == workers)
        server.send_signal(signal.SIGTERM)
        assert server.wait(PATIENCE) == 0, log.read_text()[-2000:]
        said = log.read_text()
        assert said.count("stopped its background work") == workers, said[-2000:]
    finally:
        _stop(server)
