"""Organisations across issuers: departments, roster, trusted issuers, shared credentials

Revision ID: 0013
Revises: 0012s
Create Date: 2026-12-02 15:30:00

``organisation`` (run from its home issuer's console, with its hours rules), ``org_unit`` (the
department tree and each unit's supervisor), ``org_member`` (the roster: unit, grade, role),
``org_trust`` (issuers whose badges count, here or elsewhere) and ``shared_credential``
(verified credentials from elsewhere that members shared with the organisation).
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012s'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_ko', sa.String(length=200), nullable=True),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issuer_id')
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_slug'), ['slug'], unique=True)

    op.create_table('org_trust',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('issuer_ref', sa.String(length=600), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'issuer_ref')
    )
    with op.batch_alter_table('org_trust', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_trust_org_id'), ['org_id'], unique=False)

    op.create_table('org_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_ko', sa.String(length=200), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('supervisor_email', sa.String(length=320), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'code')
    )
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_unit_org_id'), ['org_id'], unique=False)

    op.create_table('shared_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('credential_ref', sa.String(length=600), nullable=False),
    sa.Column('issuer_ref', sa.String(length=600), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('jwt', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('achievement_name', sa.String(length=500), nullable=False),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'learner_id', 'credential_ref')
    )
    with op.batch_alter_table('shared_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_credential_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shared_credential_org_id'), ['org_id'], unique=False)

    op.create_table('org_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('employee_no', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('grade', sa.String(length=32), nullable=True),
    sa.Column('role', sa.String(length=100), nullable=True),
    sa.Column('executive', sa.Boolean(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'learner_id')
    )
    with op.batch_alter_table('org_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_member_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_member_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_member_unit_id'), ['unit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('org_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_member_unit_id'))
        batch_op.drop_index(batch_op.f('ix_org_member_org_id'))
        batch_op.drop_index(batch_op.f('ix_org_member_learner_id'))

    op.drop_table('org_member')
    with op.batch_alter_table('shared_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_credential_org_id'))
        batch_op.drop_index(batch_op.f('ix_shared_credential_learner_id'))

    op.drop_table('shared_credential')
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_unit_org_id'))

    op.drop_table('org_unit')
    with op.batch_alter_table('org_trust', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_trust_org_id'))

    op.drop_table('org_trust')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_slug'))

    op.drop_table('organisation')
