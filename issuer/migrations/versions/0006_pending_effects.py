"""pending effects

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:00:00

Post-commit effects (programme awards, later emails and webhooks), written in the transaction of
the change they follow and run, with retries, after it commits.
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_effect',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', AutoString(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', AutoString(length=2000), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pending_effect', schema=None) as batch_op:
        batch_op.create_index('ix_pending_effect_due', ['done_at', 'run_after'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_effect', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_effect_due')
    op.drop_table('pending_effect')
