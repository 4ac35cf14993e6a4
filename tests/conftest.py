"""Shared fixtures. ``database_url``: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests get a schema of their own in the local ``test`` database (dropped afterwards),
so they are isolated from each other and can run concurrent clients. Set
``LAUREL_TEST_POSTGRES_URL`` to use another server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import POSTGRES, postgres_schema

__all__ = ["POSTGRES", "database_url"]

# Issuer keys made by tests are encrypted with a cheap scrypt (docs/operations.md, Keys): the
# strong one costs ~0.1 s per key, and the suite makes hundreds. Settings and subprocesses read it.
os.environ.setdefault("LAUREL_KEY_KDF_COST", "test")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'laurel.db'}"
        return
    with postgres_schema() as url:
        yield url
