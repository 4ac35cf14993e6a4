"""What fixtures share to run Laurel for real in tests: a PostgreSQL schema of one's own (dropped
afterwards), and an app served by uvicorn in a thread on a loopback port.

``LAUREL_TEST_POSTGRES_URL`` selects another PostgreSQL server."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from sqlalchemy import create_engine, text

POSTGRES = os.environ.get(
    "LAUREL_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new, empty schema in the test database; dropped with all it holds at the
    end. Tests in their own schemas are isolated from each other and can run concurrently."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


@contextmanager
def serving(app: Any, port: int, *, host: str = "127.0.0.1") -> Iterator[uvicorn.Server]:
    """``app`` served by uvicorn at ``host:port`` in a thread, from when it has started until the
    block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=30)
