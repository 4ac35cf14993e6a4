"""OpenID4VCI credential offers and nonces

Revision ID: 0012o
Revises: 0012l
Create Date: 2026-12-02 13:00:00

``credential_offer``: an offer of one issued badge to a wallet by the pre-authorized code flow
(hashed capability, code, transaction code and access token; expiry; wrong-code count; when it
was redeemed and delivered). ``credential_nonce``: the ``c_nonce`` values wallets sign in key
proofs, each used once.
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0012o'
down_revision = '0012l'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'credential_offer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('offer_hash', AutoString(length=64), nullable=False),
        sa.Column('code_hash', AutoString(length=64), nullable=False),
        sa.Column('tx_code_hash', AutoString(length=64), nullable=False),
        sa.Column('credential_id', AutoString(length=36), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('created_by', AutoString(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('failed_attempts', sa.Integer(), nullable=False),
        sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('access_hash', AutoString(length=64), nullable=True),
        sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['credential_id'], ['credential.id']),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('offer_hash'),
        sa.UniqueConstraint('code_hash'),
        sa.UniqueConstraint('access_hash'),
    )
    with op.batch_alter_table('credential_offer', schema=None) as batch_op:
        batch_op.create_index('ix_credential_offer_credential_id', ['credential_id'], unique=False)
        batch_op.create_index('ix_credential_offer_issuer_id', ['issuer_id'], unique=False)
    op.create_table(
        'credential_nonce',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('nonce_hash', AutoString(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('nonce_hash'),
    )


def downgrade() -> None:
    op.drop_table('credential_nonce')
    with op.batch_alter_table('credential_offer', schema=None) as batch_op:
        batch_op.drop_index('ix_credential_offer_issuer_id')
        batch_op.drop_index('ix_credential_offer_credential_id')
    op.drop_table('credential_offer')
