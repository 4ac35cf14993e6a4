"""xAPI settings per issuer: the LMS whose accounts map to the roster, and the LRS badges are
reported to

Revision ID: 0014a
Revises: 0013
Create Date: 2026-12-02 16:00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0014a'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'xapi_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('account_home_page', AutoString(length=2000), nullable=True),
        sa.Column('lrs_endpoint', AutoString(length=2000), nullable=True),
        sa.Column('lrs_key', AutoString(length=200), nullable=True),
        sa.Column('lrs_secret', AutoString(length=1000), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('issuer_id'),
    )


def downgrade() -> None:
    op.drop_table('xapi_settings')
