"""Database engine and migrations. SQLite (WAL, immediate write transactions) is the embedded
default; PostgreSQL is production. Alembic migrations live in ``issuer/migrations``."""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Engine,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    inspect,
    make_url,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Mapped
from sqlmodel import Session

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent.parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for the write lock."""
SQLITE_POOL_SIZE = 15
"""Connections a process keeps to a SQLite file (so at most 15 requests use it at once)."""


def _sqlite_file(url: str) -> bool:
    """A SQLite database in a file (pooled by ``QueuePool``), not in memory."""
    database = make_url(url).database or ""
    return database not in ("", ":memory:") and "mode=memory" not in url


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        if _sqlite_file(url):
            # As many connections as QueuePool's default allows at once (5 + 10 overflow), but
            # all kept: an overflow connection is closed when given back, and opening one
            # (the file, three PRAGMAs) cost a busy page more than its own query.
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", 0)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _sqlite_pragmas(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def loop_reader(engine: Engine, connections: int) -> Engine | None:
    """An engine for short reads made in an event loop, or None where none may be: for a SQLite
    file, the same database through a pool of its own of ``connections`` (so a reader holding
    one of as many slots never waits for a connection a worker thread holds, and in WAL mode its
    reads never wait for a writer); None on PostgreSQL (every query waits on the network) and
    for SQLite in memory (another engine would see another database)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "sqlite" or not _sqlite_file(url):
        return None
    return make_engine(url, pool_size=connections, max_overflow=0)


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE for write transactions (``writer(engine)``) so
    that concurrent writers queue instead of failing halfway through a transaction; reads use a
    deferred BEGIN and never block (WAL)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("laurel_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _wal(cursor: Any) -> None:
    """Switch the database to WAL (once: the mode is kept in the file). SQLite answers "database
    is locked" at once, without waiting, when several processes open a new database together
    and all ask for the switch; the others wait a little and ask again (up to the busy timeout)."""
    for attempt in range(600):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 599:
                raise
            time.sleep(0.05)


def writer(engine: Engine) -> Engine:
    """The engine for a transaction that will write (SQLite: BEGIN IMMEDIATE)."""
    return engine.execution_options(laurel_write=True)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def laurels(name: str | None, kind: str, parents: Any) -> bool:
    """Whether a schema object is Laurel's own (for Alembic comparisons): the job engine's
    ``procrastinate_*`` tables live in the same database but are procrastinate's."""
    return not (name or "").startswith("procrastinate")


MIGRATION_LOCK = 7270  # the advisory-lock space of migrations (one lock per schema)


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    """Create or upgrade the schema to ``revision`` (default the newest; ``down`` to go back).

    Every app process and CLI command migrates when it starts, so several may do it at once: the
    upgrade runs in one transaction that first takes the migration lock (PostgreSQL: an advisory
    lock on the schema, held until commit; SQLite: BEGIN IMMEDIATE, the database's write lock).
    The others wait, then find the schema at ``revision`` and do nothing.

    SQLite alters a table by copying it, which its foreign keys forbid while they are enforced:
    they are off during migrations (outside the transaction, as SQLite requires)."""
    if revision == "head" and not down and _at_head(engine):
        return
    config = _config()
    sqlite = engine.dialect.name == "sqlite"
    with writer(engine).connect() as connection:
        raw = connection.connection.dbapi_connection
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # autocommit mode: not in a transaction
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:space, hashtext(current_schema()))"),
                        {"space": MIGRATION_LOCK},
                    )
                config.attributes["connection"] = connection
                (command.downgrade if down else command.upgrade)(config, revision)
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str | None:
    """The newest migration's revision, read from the scripts once per process."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def _at_head(engine: Engine) -> bool:
    """Whether the schema is at the newest revision already: the common case of every start,
    answered by one query instead of Alembic loading each migration script (~50 ms). Read
    without the migration lock: a schema at head stays there, and anything else takes the
    locked path, which looks again."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return [row[0] for row in versions] == [head_revision()]


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One unit of work: a session and its one transaction, committed at the end of the block
    or rolled back on error. Every request, CLI command and job opens exactly one and passes the
    session down; services never open their own (docs/architecture.md). ``write=False`` for work
    that only reads (SQLite: a deferred, non-blocking transaction)."""
    with Session(writer(engine) if write else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


transaction = unit_of_work


COPY_FROM = 32
"""From this many rows, ``copy_rows`` has PostgreSQL take them by COPY (several times faster
than a multi-row INSERT, whose parameters SQLAlchemy and psycopg process one by one)."""


def copy_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> bool:
    """Write ``rows`` (dicts with the same keys, as for ``insert(table)``) into ``table`` in
    ``session``'s transaction by COPY, on PostgreSQL and from ``COPY_FROM`` rows; False, having
    written nothing, otherwise (the caller inserts them). Values go through the columns' own
    bind processing (times in UTC, JSON as text), as an INSERT would take them; a constraint
    violated raises ``IntegrityError`` as an INSERT's would."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or len(rows) < COPY_FROM:
        return False
    import psycopg

    names = list(rows[0])
    steps: list[Callable[[Any], Any] | None] = []
    for name in names:
        kind = table.c[name].type
        if isinstance(kind, JSON):
            steps.append(lambda value: json.dumps(value, ensure_ascii=False))
        else:
            steps.append(kind.bind_processor(bind.dialect))
    connection = session.connection().connection.dbapi_connection
    assert isinstance(connection, psycopg.Connection)
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    try:
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        row[name] if step is None else step(row[name])
                        for name, step in zip(names, steps, strict=True)
                    ]
                )
    except psycopg.errors.IntegrityError as exc:
        raise IntegrityError(statement, None, exc) from exc
    return True


def among(
    session: Session,
    column: ColumnElement[Any] | Mapped[Any],
    values: Sequence[int] | Sequence[str],
) -> ColumnElement[bool]:
    """``column IN values`` for a bulk step's lookups.

    On PostgreSQL one array parameter, ``column = ANY(:values)``: an ``IN`` of a step's 1,000
    learner ids or emails is a statement of 1,000 parameters, which SQLAlchemy expands and
    psycopg parses afresh at every step (its query cache skips long statements), ~12% of a bulk
    job's thread in all. Elsewhere the ``IN`` itself."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    kind = cast(ColumnElement[Any], column).type  # a mapped attribute has its column's type
    return column == any_(bindparam(None, list(values), type_=ARRAY(kind)))


def custom_plans(session: Session) -> None:
    """PostgreSQL: plan each of this transaction's statements for its own parameters.

    psycopg prepares a statement after its fifth run, and PostgreSQL then keeps one generic plan
    for it, chosen for the table as it was then. A bulk job's lookups by a step's 250
    idempotency keys and emails were planned while the tables held a few hundred rows (scan
    every credential of the issuer, then filter); on a growing table that plan made each step's
    lookup scan everything issued so far (~90 ms at 20,000 credentials, ~240 ms for the learners),
    so a large upload slowed down as it went. A custom plan uses the unique indexes."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


class Statistics:
    """Keeps PostgreSQL's planner statistics of tables that a long run of commits grows (a bulk
    job): ``grew`` after each commit; once the run has added as many rows to ``gauge`` as it held
    at the last count (at least ``first``), the tables are analyzed in a transaction of their own.

    The planner chooses its plans from the statistics ``ANALYZE`` gathers. A table that has
    never been analyzed is planned as if it were small, and autovacuum looks at a table at most
    once a minute (``autovacuum_naptime``), and only after 10% of it changed, and not at all
    where it is turned off. So a new deployment's first large upload filled ``credential`` with
    the planner still believing it nearly empty: the step's lookup of its idempotency keys read
    every credential of the issuer instead of probing the unique index (~57 ms a step at 80,000
    credentials, growing), and the 100,000 cohort took ~68 s instead of ~51 s. Counting from the
    table's own size means ANALYZE runs whenever the run has about doubled it (~7 times on the
    way to 100,000 from nothing) and never for a run small beside the table.

    ``SKIP_LOCKED`` skips a table autovacuum is working on rather than waiting for it; a role
    that does not own the tables gets a warning from PostgreSQL and nothing else. SQLite's
    planner does not depend on gathered statistics for these lookups: nothing is done there."""

    def __init__(self, tables: Sequence[str], *, gauge: str, first: int = 1000) -> None:
        self.tables, self.gauge, self.first = tuple(tables), gauge, first
        self.added = 0
        self.due: float | None = None  # rows to add before the next ANALYZE

    def grew(self, session: Session, rows: int) -> bool:
        """Count ``rows`` more rows in ``gauge`` (call after a commit); True when it analyzed."""
        self.added += rows
        if self.added < self.first or session.get_bind().dialect.name != "postgresql":
            return False  # (the table's size is read only once the run is that far)
        try:
            if self.due is None:
                self.due = self._size(session)
            if self.added < self.due:
                return False
            session.execute(text(f"ANALYZE (SKIP_LOCKED) {', '.join(self.tables)}"))
            session.commit()
            self.due = self._size(session)
        except DBAPIError as exc:  # an optimisation: the run goes on without it
            session.rollback()
            log.warning("planner statistics of %s not gathered: %s", ", ".join(self.tables), exc)
            self.due = math.inf  # not tried again in this run
            return False
        self.added = 0
        return True

    def _size(self, session: Session) -> float:
        """Rows in ``gauge`` at its last count (-1 before the first), at least ``first``."""
        counted = session.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"),
            {"table": self.gauge},
        ).scalar_one()
        session.commit()
        return max(float(counted), float(self.first))


def statistics_warnings(engine: Engine) -> list[str]:
    """What keeps PostgreSQL's planner statistics from following the tables, as sentences for
    an operator: autovacuum (or the ``track_counts`` it needs) turned off for the server, or
    ``autovacuum_enabled = false`` on tables of Laurel's schema. A bulk run analyzes what it
    grows itself (``Statistics``); everything else (single issuance, the skills cloud, the
    wallet) relies on autovacuum, and a table never analyzed is planned as if it were empty.
    Nothing on SQLite."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        autovacuum, track_counts = connection.execute(
            text("SELECT current_setting('autovacuum'), current_setting('track_counts')")
        ).one()
        tables = (
            connection.execute(
                text(
                    "SELECT relname FROM pg_class "
                    "WHERE relnamespace = CAST(current_schema() AS regnamespace) "
                    "AND relkind IN ('r', 'p') "
                    "AND reloptions @> ARRAY['autovacuum_enabled=false'] ORDER BY relname"
                )
            )
            .scalars()
            .all()
        )
    warnings = []
    if autovacuum != "on":
        warnings.append("PostgreSQL's autovacuum is off")
    if track_counts != "on":
        warnings.append("PostgreSQL's track_counts is off, so autovacuum cannot see changes")
    if tables:
        warnings.append(f"autovacuum is turned off for {', '.join(tables)}")
    return [
        f"{warning}: tables it does not analyze keep no planner statistics, and statements on "
        "them may read whole tables as they grow; turn it on (docs/operations.md, "
        '"Databases")'
        for warning in warnings
    ]


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once the session's transaction commits (never if it rolls back): for
    in-process caches of what the transaction changed."""
    event.listen(session, "after_commit", lambda _session: action(), once=True)


AUDIT_LOCK = 7271  # the advisory-lock space of the audit chain (one lock per schema)


IDENTITY_LOCK = 7272  # the advisory-lock space of issuers' names and websites (one per schema)


def lock_audit_chain(session: Session) -> None:
    """Serialise appends to the audit chain across processes (SQLite: BEGIN IMMEDIATE does). On
    PostgreSQL one lock per schema: the chains of two schemas do not wait for each other."""
    advisory_lock(session, AUDIT_LOCK)


def advisory_lock(session: Session, space: int) -> None:
    """Hold lock ``space`` of this schema until the transaction ends (PostgreSQL; on SQLite a
    writing transaction holds the database's one write lock from its BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(current_schema()))"),
            {"space": space},
        )
