"""The migrations build exactly the schema the models describe (on SQLite and PostgreSQL), so
that a model change without its migration fails here, not in production."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import issuer.models  # noqa: F401  (registers the tables)
from issuer.context import Services
from issuer.core.db import laurels, make_engine, migrate, unit_of_work


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


NEVER_REUSED = sorted(
    table.name
    for table in SQLModel.metadata.sorted_tables
    if table.dialect_kwargs.get("sqlite_autoincrement")
)


def test_tables_whose_ids_are_never_reused_are_autoincrement_on_sqlite(services: Services) -> None:
    """``compare_metadata`` does not see AUTOINCREMENT: a model marked ``NEVER_REUSED`` without
    its migration (or a later migration that rebuilds its table without it) fails here."""
    if services.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's sequences never reuse an id")
    assert {"learner", "informal_claim", "ob_connection"} <= set(NEVER_REUSED)
    with services.engine.connect() as connection:
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        made = {name: sql for name, sql in rows}
    assert [name for name in NEVER_REUSED if "AUTOINCREMENT" not in made[name]] == []


def _schema(engine: Engine) -> dict[str, Any]:
    """Columns, indexes, foreign keys and unique constraints of the tables 0022 rebuilds and of
    two tables whose foreign keys name them."""
    with engine.connect() as connection:
        found = inspect(connection)
        return {
            table: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)],
                sorted((i["name"], *i["column_names"]) for i in found.get_indexes(table)),
                sorted(
                    (*k["constrained_columns"], k["referred_table"], *k["referred_columns"])
                    for k in found.get_foreign_keys(table)
                ),
                sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
            )
            for table in [*NEVER_REUSED, "learner_email", "ob_push"]
        }


def test_ids_of_learners_merged_away_before_0022_are_not_given_again(services: Services) -> None:
    """Regression (audit 10): SQLite gave the id of a deleted last row to the next one, and a
    learner merged into another account left hers to the next learner. Migration 0022 rebuilds
    the tables that must never do so with AUTOINCREMENT, their rows, indexes and foreign keys
    kept, counting from the highest id in the table or, for learners, the highest one a merge
    deleted (from the audit log)."""
    from issuer.wallet.merging import merge
    from tests.units import resolve_learner

    migrate(services.engine)
    schema = _schema(services.engine)
    migrate(services.engine, "0021", down=True)
    keeper = resolve_learner(services, "keeper@example.org").id
    old = resolve_learner(services, "old@example.org").id
    assert keeper is not None and old is not None and old > keeper
    with unit_of_work(services.engine) as session:
        # today's model reads org_member.email (0023), which 0021 does not have yet
        session.execute(text("ALTER TABLE org_member ADD COLUMN email VARCHAR(320)"))
        merge(session, into=keeper, other=old)  # the highest learner id is gone
        session.execute(text("ALTER TABLE org_member DROP COLUMN email"))
    migrate(services.engine)
    assert _schema(services.engine) == schema
    assert resolve_learner(services, "keeper@example.org").id == keeper
    new = resolve_learner(services, "new@example.org").id
    assert new is not None and new > old
    if services.engine.dialect.name == "sqlite":
        with services.engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
