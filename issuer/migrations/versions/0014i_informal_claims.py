"""Informal learning claims: a member's claim, the supervisor's decision, the badge it became

Revision ID: 0014i
Revises: 0014a
Create Date: 2026-12-02 15:50:00

``informal_claim``: what a member of an organisation claims (category, dates, hours, evidence,
what was learned), the supervisor asked to endorse it, their decision, the hours endorsed and
counted within the category's yearly cap, and the badge and EndorsementCredential it became.
"""

from alembic import op
import sqlalchemy as sa


revision = '0014i'
down_revision = '0014p'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('informal_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('evidence_url', sa.String(length=2000), nullable=True),
    sa.Column('evidence_text', sa.Text(), nullable=True),
    sa.Column('learned', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('supervisor_email', sa.String(length=320), nullable=False),
    sa.Column('supervisor_comment', sa.Text(), nullable=True),
    sa.Column('hours_endorsed', sa.Float(), nullable=True),
    sa.Column('hours_counted', sa.Float(), nullable=True),
    sa.Column('cap_hours', sa.Float(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('credential_id', sa.String(length=36), nullable=True),
    sa.Column('endorsement', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['credential.id'], ),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('informal_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_informal_claim_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_informal_claim_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_informal_claim_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_informal_claim_supervisor_email'), ['supervisor_email'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('informal_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_informal_claim_supervisor_email'))
        batch_op.drop_index(batch_op.f('ix_informal_claim_state'))
        batch_op.drop_index(batch_op.f('ix_informal_claim_org_id'))
        batch_op.drop_index(batch_op.f('ix_informal_claim_learner_id'))

    op.drop_table('informal_claim')
