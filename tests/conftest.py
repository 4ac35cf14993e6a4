"""Shared fixtures. ``database_url``: every database test runs on SQLite and on PostgreSQL.

Each test gets a database of its own, already migrated to the newest revision: a copy of a
template migrated once per test process (``tests.databases.MigratedTemplates``). On PostgreSQL it
is a new database on the local server (dropped afterwards), so tests are isolated from each other
and can run concurrent clients. Set ``LAUREL_TEST_POSTGRES_URL`` to use another server. A test
marked ``empty_database`` gets an empty one instead (a new file; on PostgreSQL a new schema in
the ``test`` database), for what happens before the first migration.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import POSTGRES, MigratedTemplates, postgres_schema

__all__ = ["POSTGRES", "database_url"]

# Issuer keys made by tests are encrypted with a cheap scrypt (docs/operations.md, Keys): the
# strong one costs ~0.1 s per key, and the suite makes hundreds. Settings and subprocesses read it.
os.environ.setdefault("LAUREL_KEY_KDF_COST", "test")


@pytest.fixture(scope="session")
def migrated_templates() -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates()
    yield templates
    templates.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> Iterator[str]:
    empty = request.node.get_closest_marker("empty_database") is not None
    if request.param == "sqlite":
        path = tmp_path / "laurel.db"
        yield f"sqlite:///{path}" if empty else migrated_templates.sqlite(path)
        return
    with postgres_schema() if empty else migrated_templates.postgres() as url:
        yield url
