"""skill validity columns and learner groups

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00

``credential_skill`` gains the credential's validity (``valid_until``, ``revoked_at``) and a
pre-scaled weight, so that the skills cloud is one scan without a join; ``learner_group`` holds
an issuer's departments and cohorts.
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('credential_skill', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scaled_weight', sa.Float(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    _fill()

    op.create_table('learner_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('name', AutoString(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id'], ),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issuer_id', 'learner_id', 'name')
    )
    with op.batch_alter_table('learner_group', schema=None) as batch_op:
        batch_op.create_index('ix_learner_group_issuer_name', ['issuer_id', 'name'], unique=False)
        batch_op.create_index(batch_op.f('ix_learner_group_learner_id'), ['learner_id'], unique=False)


def _fill() -> None:
    """Validity from the credentials; the scaled weight from the base weight and issue date."""
    from datetime import UTC, datetime

    from issuer.skills.weights import scaled_weight

    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE credential_skill SET "
        "valid_until = (SELECT c.valid_until FROM credential c WHERE c.id = credential_skill.credential_id), "
        "revoked_at = (SELECT c.revoked_at FROM credential c WHERE c.id = credential_skill.credential_id)"
    ))
    rows = bind.execute(sa.text("SELECT id, base_weight, issued_at FROM credential_skill")).all()
    updates = []
    for row_id, base, issued in rows:
        if isinstance(issued, str):
            issued = datetime.fromisoformat(issued)
        if issued.tzinfo is None:
            issued = issued.replace(tzinfo=UTC)
        updates.append({"i": row_id, "w": scaled_weight(base, issued)})
    if updates:
        bind.execute(sa.text("UPDATE credential_skill SET scaled_weight = :w WHERE id = :i"), updates)


def downgrade() -> None:
    with op.batch_alter_table('learner_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_group_learner_id'))
        batch_op.drop_index('ix_learner_group_issuer_name')
    op.drop_table('learner_group')
    with op.batch_alter_table('credential_skill', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('valid_until')
        batch_op.drop_column('scaled_weight')
