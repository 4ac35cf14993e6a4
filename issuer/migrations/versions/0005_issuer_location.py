"""issuer location

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 06:00:00

Where an institute is, as its entry in this instance's published trust list shows it.
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('issuer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('issuer', schema=None) as batch_op:
        batch_op.drop_column('location')
