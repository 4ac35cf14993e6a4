"""Named staff with roles, their invitations, staff sessions, API keys' last use, the access log

Revision ID: 0012s
Revises: 0012w
Create Date: 2026-12-02 12:00:00

``staff_member``: a person in an issuer's console (owner, issuer, viewer; optional TOTP).
``staff_invitation``: single-use, hashed, expiring invitations. ``web_session.staff_id``: the
staff member of a console session. ``api_key.last_used_at``. ``access_log``: who viewed which
person's data.
"""

from alembic import op
import sqlalchemy as sa


revision = '0012s'
down_revision = '0012w'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staff_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        sa.Column('totp_secret', sa.String(length=64), nullable=True),
        sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('totp_last_step', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('issuer_id', 'email'),
    )
    op.create_index('ix_staff_member_issuer_id', 'staff_member', ['issuer_id'])
    op.create_index('ix_staff_member_email', 'staff_member', ['email'])
    op.create_table(
        'staff_invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        sa.Column('invited_by', sa.String(length=400), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_staff_invitation_issuer_id', 'staff_invitation', ['issuer_id'])
    op.create_table(
        'access_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('actor', sa.String(length=400), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=400), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_access_log_issuer_id', 'access_log', ['issuer_id'])
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_web_session_staff_id', ['staff_id'])
        batch_op.create_foreign_key(
            'fk_web_session_staff_id', 'staff_member', ['staff_id'], ['id']
        )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_constraint('fk_web_session_staff_id', type_='foreignkey')
        batch_op.drop_index('ix_web_session_staff_id')
        batch_op.drop_column('staff_id')
    op.drop_index('ix_access_log_issuer_id', table_name='access_log')
    op.drop_table('access_log')
    op.drop_index('ix_staff_invitation_issuer_id', table_name='staff_invitation')
    op.drop_table('staff_invitation')
    op.drop_index('ix_staff_member_email', table_name='staff_member')
    op.drop_index('ix_staff_member_issuer_id', table_name='staff_member')
    op.drop_table('staff_member')
