"""leases for work that calls other hosts

Revision ID: 0018n
Revises: 0018
Create Date: 2026-12-08 09:00:00

An effect that calls another host (a webhook, an OB 3.0 host, an LRS, the mail server) is no
longer run inside one transaction holding its row: it is leased (``pending_effect.lease_until``)
in a short transaction, the call is made with no transaction open, and the outcome is recorded
in another. A webhook delivery's attempt and a push to an OB host are leased the same way
(``webhook_delivery.lease_until``, ``ob_push.lease_until``), so that a replay and a scheduled
retry cannot both send.
"""

import sqlalchemy as sa
from alembic import op


revision = '0018n'
down_revision = '0018'
branch_labels = None
depends_on = None

TABLES = ('pending_effect', 'webhook_delivery', 'ob_push')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('lease_until')
