"""skill spans: the skills cloud without a distinct count

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:00:00

``skill_span`` holds, per learner of an issuer and skill, the spans of time over which the same
valid credentials count (``issuer.skills.spans``), and ``skill_span_day`` their sums per day;
``skill_span_log`` names the learners whose spans are out of date. Triggers on ``credential_skill`` write the log on every insert, update
(revocation) and delete, whoever makes the change: PostgreSQL once per statement (one row per
learner changed), SQLite once per row. The spans are built on first use (no ``skill_span_state``
row yet), so this migration copies nothing.

A later migration that rebuilds ``credential_skill`` on SQLite (``batch_alter_table`` copies the
table) drops these triggers with it and must create them again (``create_triggers``).
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

EVENTS = ("insert", "update", "delete")

POSTGRES_FUNCTION = """
CREATE FUNCTION skill_span_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO skill_span_log (issuer_id, learner_id)
        SELECT DISTINCT issuer_id, learner_id FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO skill_span_log (issuer_id, learner_id)
        SELECT issuer_id, learner_id FROM new_rows
        UNION SELECT issuer_id, learner_id FROM old_rows;
    ELSE
        INSERT INTO skill_span_log (issuer_id, learner_id)
        SELECT DISTINCT issuer_id, learner_id FROM old_rows;
    END IF;
    RETURN NULL;
END
$$
"""
POSTGRES_TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}
SQLITE_ROWS = {
    "insert": "SELECT NEW.issuer_id, NEW.learner_id",
    "update": "SELECT NEW.issuer_id, NEW.learner_id UNION SELECT OLD.issuer_id, OLD.learner_id",
    "delete": "SELECT OLD.issuer_id, OLD.learner_id",
}


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER credential_skill_spans_{event} AFTER {event.upper()} ON "
                f"credential_skill REFERENCING {POSTGRES_TRANSITIONS[event]} FOR EACH STATEMENT "
                "EXECUTE FUNCTION skill_span_log_changes()"
            )
        return
    for event in EVENTS:
        op.execute(
            f"CREATE TRIGGER credential_skill_spans_{event} AFTER {event.upper()} ON "
            "credential_skill FOR EACH ROW BEGIN INSERT INTO skill_span_log (issuer_id, "
            f"learner_id) {SQLITE_ROWS[event]}; END"
        )


def drop_triggers() -> None:
    for event in EVENTS:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS credential_skill_spans_{event} ON credential_skill")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS credential_skill_spans_{event}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS skill_span_log_changes()")


def upgrade() -> None:
    op.create_table('skill_span',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('kind', AutoString(length=10), nullable=False),
    sa.Column('framework', AutoString(length=200), nullable=False),
    sa.Column('code', AutoString(length=200), nullable=False),
    sa.Column('name', AutoString(length=500), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(
        'ix_skill_span_issuer_learner', 'skill_span', ['issuer_id', 'learner_id'], unique=False
    )
    op.create_index(
        'ix_skill_span_starts', 'skill_span', ['issuer_id', 'kind', 'starts_at'], unique=False
    )
    op.create_index(
        'ix_skill_span_ends', 'skill_span', ['issuer_id', 'kind', 'ends_at'], unique=False
    )
    op.create_table('skill_span_day',
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('kind', AutoString(length=10), nullable=False),
    sa.Column('framework', AutoString(length=200), nullable=False),
    sa.Column('code', AutoString(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', AutoString(length=500), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('learners', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('issuer_id', 'kind', 'framework', 'code', 'day')
    )
    op.create_table('skill_span_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(
        'ix_skill_span_log_issuer_learner',
        'skill_span_log',
        ['issuer_id', 'learner_id'],
        unique=False,
    )
    op.create_table('skill_span_state',
    sa.Column('name', AutoString(length=50), nullable=False),
    sa.Column('value', AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_table('skill_span_state')
    op.drop_index('ix_skill_span_log_issuer_learner', table_name='skill_span_log')
    op.drop_table('skill_span_log')
    op.drop_table('skill_span_day')
    op.drop_index('ix_skill_span_ends', table_name='skill_span')
    op.drop_index('ix_skill_span_starts', table_name='skill_span')
    op.drop_index('ix_skill_span_issuer_learner', table_name='skill_span')
    op.drop_table('skill_span')
