"""an imported credential is the same as another only when its issuer is too

Revision ID: 0019o
Revises: 0018n
Create Date: 2026-12-09 09:00:00

``imported_credential.issuer_ref``: the issuer's id the credential names (``issuer`` or
``issuer.id``, trimmed; a longer one than 300 bytes as ``sha256:`` and its hex digest; ``""``
when it names none). OB 3.0 calls two credentials the same only when their ``issuer.id`` and
``id`` match, so the unique index of a learner's imports becomes (learner, credential id,
issuer): an app's upsert of its own credential reusing the id of one the learner holds from
another issuer is kept beside it and no longer replaces it (audit round 8, F1). Existing rows
get their issuer from their stored document.
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString


revision = '0019o'
down_revision = '0018n'
branch_labels = None
depends_on = None

MAX_REF = 300
BATCH = 200


def upgrade() -> None:
    with op.batch_alter_table('imported_credential', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issuer_ref', AutoString(length=600), nullable=True))
    connection = op.get_bind()
    after = 0
    while True:  # a batch at a time: each document may be up to 2 MB
        rows = connection.execute(
            sa.text(
                "SELECT id, document FROM imported_credential WHERE id > :after "
                "ORDER BY id LIMIT :batch"
            ),
            {"after": after, "batch": BATCH},
        ).all()
        for row in rows:
            connection.execute(
                sa.text("UPDATE imported_credential SET issuer_ref = :ref WHERE id = :id"),
                {"ref": _ref(row.document), "id": row.id},
            )
        if len(rows) < BATCH:
            break
        after = rows[-1].id
    with op.batch_alter_table('imported_credential', schema=None) as batch_op:
        batch_op.alter_column('issuer_ref', existing_type=AutoString(length=600), nullable=False)
        batch_op.drop_index('uq_imported_learner_credential')
        batch_op.create_index(
            'uq_imported_learner_issuer_credential',
            ['learner_id', 'credential_id', 'issuer_ref'],
            unique=True,
            sqlite_where=sa.text('credential_id IS NOT NULL'),
            postgresql_where=sa.text('credential_id IS NOT NULL'),
        )


def downgrade() -> None:
    """Back to one row per learner and credential id: of several, the first stored stays."""
    op.execute(
        "DELETE FROM share_link WHERE imported_id IN (SELECT later.id FROM imported_credential "
        "later JOIN imported_credential first ON first.learner_id = later.learner_id "
        "AND first.credential_id = later.credential_id AND first.id < later.id)"
    )
    op.execute(
        "DELETE FROM imported_credential WHERE id IN (SELECT later.id FROM imported_credential "
        "later JOIN imported_credential first ON first.learner_id = later.learner_id "
        "AND first.credential_id = later.credential_id AND first.id < later.id)"
    )
    with op.batch_alter_table('imported_credential', schema=None) as batch_op:
        batch_op.drop_index('uq_imported_learner_issuer_credential')
        batch_op.create_index(
            'uq_imported_learner_credential',
            ['learner_id', 'credential_id'],
            unique=True,
            sqlite_where=sa.text('credential_id IS NOT NULL'),
            postgresql_where=sa.text('credential_id IS NOT NULL'),
        )
        batch_op.drop_column('issuer_ref')


def _ref(document: object) -> str:
    """``issuer.wallet.imports_legacy.issuer_ref_of`` as it was written with this migration."""
    if isinstance(document, str):  # a JSON column read as text
        document = json.loads(document)
    issuer = document.get('issuer') if isinstance(document, dict) else None
    value = issuer.get('id') if isinstance(issuer, dict) else issuer
    value = value.strip() if isinstance(value, str) else ''
    if len(value.encode()) > MAX_REF:
        return 'sha256:' + hashlib.sha256(value.encode()).hexdigest()
    return value
