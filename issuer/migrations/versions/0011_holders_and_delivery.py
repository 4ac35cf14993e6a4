"""Badges bound to the holder who collected them; learners' consent to receive new badges at a host

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00

``credential.holder_id``/``bound_at``: the DID a wallet proved control of when it collected the
badge (Learner Credential Wallet exchange, OpenID4VCI). ``ob_connection.send_new``: the learner
consents that badges issued to them from now on are sent to that OB 3.0 API host.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_id', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('bound_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('ob_connection', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('send_new', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('ob_connection', schema=None) as batch_op:
        batch_op.drop_column('send_new')
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_column('bound_at')
        batch_op.drop_column('holder_id')
