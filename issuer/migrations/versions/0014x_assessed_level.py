"""assessed proficiency on skill rows

Revision ID: 0014x
Revises: 0013
Create Date: 2026-12-02 16:00:00

``credential_skill.assessed_level``: the proficiency level (1-5) an assessed result on the
credential gives the skill (``issuer.skills.assessed``), or null when the badge carries none.
Existing rows are weighed again from their credentials: a secondary alignment now counts half
(``issuer.skills.weights.alignment_factor``), and assessed results are read.
"""

from alembic import op
import sqlalchemy as sa


revision = '0014x'
down_revision = '0014g'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('credential_skill', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assessed_level', sa.Integer(), nullable=True))
    _reweigh()


def _reweigh() -> None:
    import json

    from issuer.skills.weights import skill_rows

    bind = op.get_bind()
    update = sa.text(
        "UPDATE credential_skill SET base_weight = :b, scaled_weight = :s, assessed_level = :a "
        "WHERE credential_id = :c AND framework = :f AND code = :k"
    )
    result = bind.execute(sa.text(
        "SELECT id, issuer_id, learner_id, document FROM credential "
        "WHERE id IN (SELECT DISTINCT credential_id FROM credential_skill)"
    ))
    batch: list[dict[str, object]] = []
    for credential_id, issuer_id, learner_id, document in result.all():
        document = json.loads(document) if isinstance(document, str) else document
        for row in skill_rows(credential_id, issuer_id, learner_id, document):
            batch.append({"b": row["base_weight"], "s": row["scaled_weight"],
                          "a": row["assessed_level"], "c": credential_id,
                          "f": row["framework"], "k": row["code"]})
        if len(batch) >= 1000:
            bind.execute(update, batch)
            batch = []
    if batch:
        bind.execute(update, batch)


def downgrade() -> None:
    with op.batch_alter_table('credential_skill', schema=None) as batch_op:
        batch_op.drop_column('assessed_level')
