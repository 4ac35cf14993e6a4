"""audit anchor

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 07:00:00

The audit chain's head (the last entry's seq and hash) in a table of its own, updated with every
append, so that `laurel audit verify` detects the removal of the last entries. An existing chain
is anchored where it ends now, as it is: nothing is re-hashed (entries were always hashed over
their UTC time, so they verify unchanged, and re-hashing would bless whatever was altered before).
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # no append of an older process in between
        bind.execute(sa.text("SELECT pg_advisory_xact_lock(7271)"))
    last = bind.execute(
        sa.text("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1")
    ).first()
    op.bulk_insert(head, [{"id": 1, "seq": last[0] if last else 0, "hash": last[1] if last else GENESIS}])


def downgrade() -> None:
    op.drop_table('audit_head')
