"""a staff member's wrong second-factor codes are counted, and too many lock the codes

Revision ID: 0018
Revises: 0017d
Create Date: 2026-12-06 09:00:00

``staff_member.totp_failures``: wrong codes in a row since the last right one;
``staff_member.totp_locked_until``: no code is looked at before then
(``issuer.people.staff.MAX_CODE_FAILURES``, ``CODE_LOCK``). Every member starts at none.
"""

import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0017d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('totp_failures', sa.Integer(), nullable=False, server_default='0')
        )
        batch_op.add_column(
            sa.Column('totp_locked_until', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.drop_column('totp_locked_until')
        batch_op.drop_column('totp_failures')
