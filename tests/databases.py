"""What fixtures share to run Laurel for real in tests: a PostgreSQL schema of one's own (dropped
afterwards), databases already migrated (copies of a template migrated once per test process),
and an app served by uvicorn in a thread on a loopback port.

``LAUREL_TEST_POSTGRES_URL`` selects another PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from issuer.core.db import make_engine, migrate

POSTGRES = os.environ.get(
    "LAUREL_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new, empty schema in the test database; dropped with all it holds at the
    end. Tests in their own schemas are isolated from each other and can run concurrently."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _administer(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        _administer(f"DROP SCHEMA {schema} CASCADE")


class MigratedTemplates:
    """Databases at the newest migration, made by copying a template instead of migrating each.

    Migrating a new database costs ~0.3 s on SQLite and ~0.8 s on PostgreSQL, and nearly every
    database test starts on one. Each test process migrates one template per database kind, with
    Laurel's own ``migrate``, the first time it is asked; a test then gets a copy: the SQLite file
    copied, or on PostgreSQL ``CREATE DATABASE … TEMPLATE`` (~0.06 s), dropped afterwards. The
    app's own ``migrate`` at start then finds the copy at head and does nothing. Where the role
    may not create databases, each test gets a schema of its own, migrated as before."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._postgres: str | None = None  # the template database; "" when it cannot be made

    def sqlite(self, path: Path) -> str:
        """The URL of a SQLite database at ``path``, a copy of the migrated template."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="laurel-template-"))
            engine = make_engine(f"sqlite:///{self._folder / 'laurel.db'}")
            migrate(engine)
            engine.dispose()  # the last connection checkpoints the WAL into the file
        shutil.copyfile(self._folder / "laurel.db", path)
        return f"sqlite:///{path}"

    @contextmanager
    def postgres(self) -> Iterator[str]:
        """The URL of a new PostgreSQL database at head, dropped with all it holds at the end."""
        if self._postgres is None:
            self._postgres = self._postgres_template()
        if not self._postgres:
            with postgres_schema() as url:
                engine = make_engine(url)
                migrate(engine)
                engine.dispose()
                yield url
            return
        name = f"laurel_t_{uuid.uuid4().hex[:12]}"
        _administer(f"CREATE DATABASE {name} TEMPLATE {self._postgres}")
        try:
            yield _database(name)
        finally:
            _administer(f"DROP DATABASE {name} WITH (FORCE)")

    def _postgres_template(self) -> str:
        name = f"laurel_template_{uuid.uuid4().hex[:12]}"
        try:
            _administer(f"CREATE DATABASE {name}")
        except DBAPIError:  # e.g. the role lacks CREATEDB
            return ""
        engine = make_engine(_database(name))
        migrate(engine)
        engine.dispose()  # a template must have no connections when it is copied
        return name

    def close(self) -> None:
        if self._postgres:
            _administer(f"DROP DATABASE {self._postgres} WITH (FORCE)")
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def _database(name: str) -> str:
    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)


def _administer(statement: str) -> None:
    """One statement on the test server, outside a transaction (as CREATE DATABASE must be)."""
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
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
