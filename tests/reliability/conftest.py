"""Fixtures of the reliability suite: the service fixtures of tests/issuer (``services``,
``client``), and a real server (uvicorn on a free port, in a thread of the test process, on a
PostgreSQL schema of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine
from issuer.core.settings import Settings
from tests.databases import postgres_schema, serving
from tests.issuer.conftest import client, services
from tests.web.conftest import free_port

__all__ = ["Live", "client", "live_postgres", "services"]


@dataclass
class Live:
    base: str
    services: Services


@pytest.fixture
def live_postgres(tmp_path: Path) -> Iterator[Live]:
    with postgres_schema() as url:
        port = free_port()
        settings = Settings(
            database_url=url,
            keys_dir=tmp_path / "keys",
            key_passphrase="test-passphrase",
            base_url=f"http://127.0.0.1:{port}",
            verify_rate="100000/minute",
        )
        engine = make_engine(url)
        services = Services.from_settings(settings, engine)
        try:
            with serving(create_app(services=services), port):
                yield Live(f"http://127.0.0.1:{port}", services)
        finally:
            engine.dispose()
