"""OB 3.0 API hosts Laurel pushes badges to: registrations, learners' connections, pushes

Revision ID: 0010
Revises: 0009v
Create Date: 2026-12-02 10:20:00

Laurel as an OB 3.0 API client. The client secret and the tokens are sealed (AES-256-GCM).
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0010'
down_revision = '0009v'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ob_host',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sdd_url', AutoString(length=2000), nullable=False),
    sa.Column('name', AutoString(length=500), nullable=False),
    sa.Column('api_base', AutoString(length=2000), nullable=False),
    sa.Column('authorize_url', AutoString(length=2000), nullable=False),
    sa.Column('token_url', AutoString(length=2000), nullable=False),
    sa.Column('revocation_url', AutoString(length=2000), nullable=True),
    sa.Column('client_id', AutoString(length=500), nullable=False),
    sa.Column('client_secret', AutoString(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sdd_url')
    )
    op.create_table('ob_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('state_hash', AutoString(length=64), nullable=True),
    sa.Column('web_session_id', sa.Integer(), nullable=True),
    sa.Column('code_verifier', AutoString(length=500), nullable=True),
    sa.Column('state_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scope', AutoString(length=1000), nullable=True),
    sa.Column('access_token', AutoString(length=4000), nullable=True),
    sa.Column('refresh_token', AutoString(length=4000), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['host_id'], ['ob_host.id'], ),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('learner_id', 'host_id')
    )
    with op.batch_alter_table('ob_connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ob_connection_host_id'), ['host_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ob_connection_learner_id'), ['learner_id'], unique=False)

    op.create_table('ob_push',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('badge_ref', AutoString(length=100), nullable=False),
    sa.Column('badge_name', AutoString(length=500), nullable=False),
    sa.Column('state', AutoString(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', AutoString(length=2000), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['ob_connection.id'], ),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ob_push', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ob_push_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ob_push_learner_id'), ['learner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ob_push', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ob_push_learner_id'))
        batch_op.drop_index(batch_op.f('ix_ob_push_connection_id'))

    op.drop_table('ob_push')
    with op.batch_alter_table('ob_connection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ob_connection_learner_id'))
        batch_op.drop_index(batch_op.f('ix_ob_connection_host_id'))

    op.drop_table('ob_connection')
    op.drop_table('ob_host')
