"""wallet exchanges (the Learner Credential Wallet's VC-API exchange)

Revision ID: 0012l
Revises: 0011
Create Date: 2026-12-02 12:00:00

One single-use exchange per offer of a badge to a wallet: the SHA-256 of its capability secret
(never the secret), the DIDAuthentication challenge, its state (pending, spent), its expiry and
the holder DID it was spent on.
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0012l'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wallet_exchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', AutoString(length=64), nullable=False),
    sa.Column('credential_id', AutoString(length=36), nullable=False),
    sa.Column('challenge', AutoString(length=64), nullable=False),
    sa.Column('state', AutoString(length=16), nullable=False),
    sa.Column('created_by', AutoString(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('spent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('holder_id', AutoString(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['credential_id'], ['credential.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash')
    )
    with op.batch_alter_table('wallet_exchange', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_exchange_credential_id'), ['credential_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('wallet_exchange', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_exchange_credential_id'))
    op.drop_table('wallet_exchange')
