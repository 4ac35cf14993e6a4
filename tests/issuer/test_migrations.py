"""The migrations build exactly the schema the models describe (on SQLite and PostgreSQL), so
that a model change without its migration fails here, not in production."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

import issuer.models  # noqa: F401  (registers the tables)
from issuer.context import Services
from issuer.core.db import laurels, make_engine, migrate


def test_migrations_match_the_models(services: Services) -> None:
    migrate(services.engine)
    with services.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": laurels})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def _start_up(database_url: str, start: Any) -> None:
    """Runs in another process: what ``laurel serve`` does first."""
    engine = make_engine(database_url)
    start.wait()
    migrate(engine)
    engine.dispose()


@pytest.mark.empty_database
def test_processes_starting_at_once_migrate_one_schema_once(database_url: str) -> None:
    """Several app processes starting together on a fresh database all succeed, and the schema is
    at head once: the upgrade is serialised (PostgreSQL: an advisory lock per schema; SQLite: an
    immediate write transaction). Before, they ran the same CREATE TABLEs at once and all but one
    failed."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    processes = [context.Process(target=_start_up, args=(database_url, start)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [process.exitcode for process in processes] == [0] * 4
    engine = make_engine(database_url)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        comparing = MigrationContext.configure(connection, opts={"include_name": laurels})
        differences = compare_metadata(comparing, SQLModel.metadata)
    engine.dispose()
    assert [row[0] for row in versions] == [_head()]
    assert differences == []


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from issuer.core.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _versions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [
            row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))
        ]


def test_a_schema_at_head_is_not_migrated_again(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every process and CLI command migrates when it starts; at head that is one query, and
    Alembic (which loads every migration script, ~50 ms) is not run."""
    from alembic import command

    from issuer.core import db

    migrate(services.engine)
    assert db.head_revision() == _head()
    ran: list[str] = []
    monkeypatch.setattr(command, "upgrade", lambda config, revision: ran.append(revision))
    migrate(services.engine)
    assert ran == []
    assert _versions(services.engine) == [_head()]


def test_a_schema_behind_head_is_still_upgraded(services: Services) -> None:
    migrate(services.engine)
    migrate(services.engine, "0006", down=True)
    assert _versions(services.engine) == ["0006"]
    migrate(services.engine)
    assert _versions(services.engine) == [_head()]


@pytest.mark.empty_database
def test_an_empty_database_is_migrated_to_head(services: Services) -> None:
    migrate(services.engine)
    assert _versions(services.engine) == [_head()]
