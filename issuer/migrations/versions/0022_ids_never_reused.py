"""ids that are named elsewhere are never given again on SQLite

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-10 09:00:00

A SQLite table without AUTOINCREMENT gives the next row the highest id in use plus one, so the
id of a deleted last row is given again (audit 10). Merging two wallet accounts deletes a
``learner`` row; a learner created next got its id, and with it everything that names a learner
by id without a foreign key: the annual badge's idempotency key ``annual:{org}:{learner}:{year}``
(the credential holding it had moved to the other account, and the new learner's badge counted
as issued), programme award keys ``program:{id}:{learner}``, ``learner:{id}`` in the audit log.
PostgreSQL's sequences never give an id twice; there this does nothing.

Rebuilt with AUTOINCREMENT (rows, indexes and foreign keys copied as they are), the tables whose
rows can be deleted and whose ids are named where no foreign key follows them:

- ``learner`` (merging);
- ``informal_claim`` (an account's deletion deletes the claims not endorsed): its audit subject
  ``org:{slug}/claims/{id}`` and its badge's key ``informal-claim-{id}``;
- ``ob_connection`` (a learner disconnects): the token exchange finds it by id again after
  calling the host.

SQLite then never goes below the highest id it has seen, which starts here at the highest id
in the table: a deleted row above it is not known from the table. For ``learner`` it is known
from the audit log, where each merge names the record it deleted (``learner.merge``,
``merged``); ids up to the highest of those are not given either. A claim or connection deleted
above the highest one left stays unknown.

Downgrade: the tables are rebuilt without AUTOINCREMENT.
"""

import sqlalchemy as sa
from alembic import op


revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLES = ("learner", "informal_claim", "ob_connection")


def _merged_away(bind: sa.Connection) -> int:
    """The highest learner id a merge deleted, as the audit log records it (0 for none)."""
    entries = sa.table("audit_entry", sa.column("action"), sa.column("details", sa.JSON()))
    highest = 0
    for (details,) in bind.execute(
        sa.select(entries.c.details).where(entries.c.action == "learner.merge")
    ):
        merged = details.get("merged") if isinstance(details, dict) else None
        if isinstance(merged, int) and not isinstance(merged, bool):
            highest = max(highest, merged)
    return highest


def _start_above(bind: sa.Connection, table: str, deleted: int) -> None:
    """SQLite's counter of ``table`` (set to its highest id by the copy) at least at ``deleted``."""
    counted = bind.execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": table}
    ).scalar()
    if counted is None and deleted > 0:
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"),
            {"name": table, "seq": deleted},
        )
    elif counted is not None and counted < deleted:
        bind.execute(
            sa.text("UPDATE sqlite_sequence SET seq = :seq WHERE name = :name"),
            {"name": table, "seq": deleted},
        )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    _start_above(bind, "learner", _merged_away(bind))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always"):
            pass
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :name"), {"name": table})
