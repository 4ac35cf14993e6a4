"""organisations: equivalences of badges from elsewhere to catalogue achievements

Revision ID: 0014g
Revises: 0013

``org_equivalence``: an organisation's word that an achievement from another issuer (its ``id``)
counts as a catalogue achievement towards programmes.
"""

from alembic import op
import sqlalchemy as sa


revision = '0014g'
down_revision = '0014i'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('org_equivalence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=600), nullable=False),
    sa.Column('achievement_key', sa.String(length=99), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'external_id')
    )
    with op.batch_alter_table('org_equivalence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_equivalence_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('org_equivalence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_equivalence_org_id'))

    op.drop_table('org_equivalence')
