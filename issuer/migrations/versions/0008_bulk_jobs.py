"""bulk jobs, and the job engine's tables on PostgreSQL

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00

Large bulk uploads become jobs whose rows and per-row results are stored, so that a job survives
a crash and its report stays readable. On PostgreSQL the schema of procrastinate (the job engine
that dispatches jobs and effects to workers) is created too, from the pinned installed version.
"""

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _raw(sql: str) -> None:
    """Run a script as it is (no bind-parameter parsing: it has colons and percent signs)."""
    connection = op.get_bind().connection.dbapi_connection
    assert connection is not None
    connection.cursor().execute(sql)


def upgrade() -> None:
    op.create_table('bulk_job',
    sa.Column('id', AutoString(length=36), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('actor', AutoString(length=200), nullable=False),
    sa.Column('status', AutoString(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('already', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('lease_owner', AutoString(length=100), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bulk_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_job_issuer_id'), ['issuer_id'], unique=False)
    op.create_table('bulk_job_row',
    sa.Column('job_id', AutoString(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('request', sa.JSON(), nullable=True),
    sa.Column('idempotency_key', AutoString(length=200), nullable=True),
    sa.Column('status', AutoString(length=20), nullable=False),
    sa.Column('credential_id', AutoString(length=36), nullable=True),
    sa.Column('error', AutoString(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['bulk_job.id'], ),
    sa.PrimaryKeyConstraint('job_id', 'number')
    )
    with op.batch_alter_table('bulk_job_row', schema=None) as batch_op:
        batch_op.create_index('ix_bulk_job_row_todo', ['job_id', 'status', 'number'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        _raw(SchemaManager.get_schema())


DROP_PROCRASTINATE = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
    LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || f || ' CASCADE';
    END LOOP;
END $$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_status,
    procrastinate_job_event_type CASCADE;
"""


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _raw(DROP_PROCRASTINATE)
    with op.batch_alter_table('bulk_job_row', schema=None) as batch_op:
        batch_op.drop_index('ix_bulk_job_row_todo')
    op.drop_table('bulk_job_row')
    with op.batch_alter_table('bulk_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_job_issuer_id'))
    op.drop_table('bulk_job')
