"""Development plans: yearly IDPs/EDPs, their objectives and activities

Revision ID: 0014p
Revises: 0013
Create Date: 2026-12-02 16:00:00

``development_plan`` (one per person, organisation and year: kind, target, signatures, review),
``plan_objective`` (a competency, level wanted and at the start, the year-end outcome) and
``plan_activity`` (planned activities with dates, cost and the achievement they should yield).
"""

from alembic import op
import sqlalchemy as sa


revision = '0014p'
down_revision = '0014a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('development_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=3), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=False),
    sa.Column('career_goal', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('supervisor_email', sa.String(length=320), nullable=True),
    sa.Column('signed_by_person_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_by_supervisor_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review', sa.Text(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'learner_id', 'year')
    )
    with op.batch_alter_table('development_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_development_plan_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_development_plan_org_id'), ['org_id'], unique=False)

    op.create_table('plan_objective',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('framework', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('level_wanted', sa.Integer(), nullable=False),
    sa.Column('level_at_start', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['development_plan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plan_objective', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_objective_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('achievement_key', sa.String(length=100), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('credential_ref', sa.String(length=600), nullable=True),
    sa.ForeignKeyConstraint(['objective_id'], ['plan_objective.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['development_plan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plan_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_activity_plan_id'), ['plan_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plan_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_activity_plan_id'))
    op.drop_table('plan_activity')
    with op.batch_alter_table('plan_objective', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_objective_plan_id'))
    op.drop_table('plan_objective')
    with op.batch_alter_table('development_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_development_plan_org_id'))
        batch_op.drop_index(batch_op.f('ix_development_plan_learner_id'))
    op.drop_table('development_plan')
