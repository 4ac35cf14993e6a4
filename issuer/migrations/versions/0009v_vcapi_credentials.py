"""credentials issued through the W3C VC-API

Revision ID: 0009v
Revises: 0009
Create Date: 2026-12-02 10:00:00

Credentials issued at /vc-api/issuers/{slug}/credentials/issue with a status entry Laurel added:
their id and status index, so that their status can be changed.
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0009v'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('vcapi_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', AutoString(length=2000), nullable=False),
    sa.Column('status_list_id', sa.Integer(), nullable=False),
    sa.Column('status_index', sa.Integer(), nullable=False),
    sa.Column('purpose', AutoString(length=16), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id'], ),
    sa.ForeignKeyConstraint(['status_list_id'], ['status_list.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vcapi_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vcapi_credential_credential_id'), ['credential_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vcapi_credential_issuer_id'), ['issuer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('vcapi_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vcapi_credential_issuer_id'))
        batch_op.drop_index(batch_op.f('ix_vcapi_credential_credential_id'))
    op.drop_table('vcapi_credential')
