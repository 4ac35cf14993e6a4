"""assessed proficiency on skill rows

Revision ID: 0014x
Revises: 0013
Create Date: 2026-12-02 16:00:00

``credential_skill.assessed_level``: the proficiency level (1-5) an assessed result on the
credential gives the skill (``issuer.skills.assessed``), or null when the badge carries none.
"""

from alembic import op
import sqlalchemy as sa


revision = '0014x'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('credential_skill', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assessed_level', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('credential_skill', schema=None) as batch_op:
        batch_op.drop_column('assessed_level')
