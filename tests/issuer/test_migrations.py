"""The migrations build exactly the schema the models describe (on SQLite and PostgreSQL), so
that a model change without its migration fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import issuer.models  # noqa: F401  (registers the tables)
from issuer.context import Services
from issuer.core.db import laurels, migrate


def test_migrations_match_the_models(services: Services) -> None:
    migrate(services.engine)
    with services.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": laurels})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
