"""OAuth 2.0: registered client applications, authorization codes and tokens

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:44:14

The authorization server for learners' data (RFC 6749 with PKCE, RFC 7591 registration,
RFC 7009 revocation). Secrets, codes and tokens are stored as SHA-256 hashes.
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oauth_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', AutoString(length=64), nullable=False),
    sa.Column('secret_hash', AutoString(length=64), nullable=False),
    sa.Column('registered', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id')
    )
    op.create_table('oauth_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', AutoString(length=64), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('redirect_uri', AutoString(length=2000), nullable=False),
    sa.Column('scope', AutoString(length=1000), nullable=False),
    sa.Column('code_challenge', AutoString(length=128), nullable=False),
    sa.Column('code_challenge_method', AutoString(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_client.id'], ),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash')
    )
    with op.batch_alter_table('oauth_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_code_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_code_learner_id'), ['learner_id'], unique=False)

    op.create_table('oauth_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('access_hash', AutoString(length=64), nullable=False),
    sa.Column('refresh_hash', AutoString(length=64), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=True),
    sa.Column('scope', AutoString(length=1000), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refresh_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_client.id'], ),
    sa.ForeignKeyConstraint(['code_id'], ['oauth_code.id'], ),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('access_hash'),
    sa.UniqueConstraint('refresh_hash')
    )
    with op.batch_alter_table('oauth_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_token_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_token_code_id'), ['code_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_token_learner_id'), ['learner_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('oauth_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_token_learner_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_token_code_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_token_client_id'))

    op.drop_table('oauth_token')
    with op.batch_alter_table('oauth_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_code_learner_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_code_client_id'))

    op.drop_table('oauth_code')
    op.drop_table('oauth_client')
