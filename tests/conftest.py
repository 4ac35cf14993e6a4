"""Shared fixtures. ``database_url``: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests get a schema of their own in the local ``test`` database (dropped afterwards),
so they are isolated from each other and can run concurrent clients. Set
``LAUREL_TEST_POSTGRES_URL`` to use another server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

POSTGRES = os.environ.get(
    "LAUREL_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)

# Issuer keys made by tests are encrypted with a cheap scrypt (docs/operations.md, Keys): the
# strong one costs ~0.1 s per key, and the suite makes hundreds. Settings and subprocesses read it.
os.environ.setdefault("LAUREL_KEY_KDF_COST", "test")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'laurel.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
