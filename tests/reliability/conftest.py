"""Fixtures of the reliability suite: the service fixtures of tests/issuer (``services``,
``client``), and a real server (uvicorn on a free port, in a thread of the test process, on a
PostgreSQL schema of its own)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import create_engine, text

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine
from issuer.core.settings import Settings
from tests.conftest import POSTGRES
from tests.issuer.conftest import client, services
from tests.web.conftest import free_port

__all__ = ["Live", "client", "live_postgres", "services"]


@dataclass
class Live:
    base: str
    services: Services


@pytest.fixture
def live_postgres(tmp_path: Path) -> Iterator[Live]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
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
    server = uvicorn.Server(
        uvicorn.Config(create_app(services=services), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    try:
        yield Live(f"http://127.0.0.1:{port}", services)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
