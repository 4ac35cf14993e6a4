"""Alembic environment: migrations run on the connection ``issuer.db.migrate`` passes in."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import issuer.models  # noqa: F401  (registers the tables)

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` command line: build an engine from LAUREL_DATABASE_URL
    from issuer.core.db import make_engine
    from issuer.core.settings import Settings

    connection = make_engine(Settings(demo=True).database_url).connect()

from issuer.core.db import laurels  # noqa: E402

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    include_name=laurels,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
