"""due effects read in index order

Revision ID: 0015
Revises: 0014x
Create Date: 2026-12-03 07:00:00

``ix_pending_effect_due`` gains ``id``: the effects runner reads what is due ordered by
(run_after, id), straight from the index, instead of sorting every pending effect by id on each
round (a bulk upload of 100,000 new learners leaves 100,000 of them).
"""

from alembic import op


revision = '0015'
down_revision = '0014x'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pending_effect', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_effect_due')
        batch_op.create_index('ix_pending_effect_due', ['done_at', 'run_after', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_effect', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_effect_due')
        batch_op.create_index('ix_pending_effect_due', ['done_at', 'run_after'], unique=False)
