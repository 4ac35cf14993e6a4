"""an organisation's trust of another issuer here waits for its agreement

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 09:00:00

``org_trust.agreed_at``: when the trusted issuer agreed (``issuer.orgs.manage.agree``), or the
trust was made by the instance's operator or names an issuer elsewhere; null while a local
issuer has not agreed, and its badges do not count then. Every existing trust was made before
agreement was asked for, so it is agreed from its creation: nothing changes for a running
instance.
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('org_trust', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE org_trust SET agreed_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table('org_trust', schema=None) as batch_op:
        batch_op.drop_column('agreed_at')
