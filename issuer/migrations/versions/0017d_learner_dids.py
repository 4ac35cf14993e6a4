"""the DIDs issuers named for learners, per issuer

Revision ID: 0017d
Revises: 0017
Create Date: 2026-12-04 09:00:00

``learner_did`` holds the DID an issuer last named for a learner (``issuer.people.dids``): that
issuer's statement, not a fact for every issuer of the instance. Before, the DID the first issuer
named for an email became the learner's ``did`` and ``subject_id``, the subject of every
issuer's badges for her (audit round 5, F2).

The records cannot say which later issuers named the same DID and which only inherited it (the
request is kept as a hash), but the learner was made by the request that named it: its DID becomes
the DID of the issuer of her earliest credential naming it, so that issuer goes on issuing the
same subject id; the others issue her stand-in id from now on (or the DID their requests name).
The learner's own ``did`` is cleared (no learner established it herself), and a ``subject_id``
that is not a ``urn:uuid:`` gets a new random one. The unsubscribe links of badge emails sent to
such learners before (an HMAC over the subject id) stop working; later emails carry new ones.

Going down gives each learner without a ``did`` the DID first named for her, as the code before
kept it; the new subject ids stay.
"""

import json
import uuid

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString


revision = '0017d'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'learner_did',
        sa.Column('learner_id', sa.Integer(), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('did', AutoString(length=2000), nullable=False),
        sa.Column('named_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id']),
        sa.ForeignKeyConstraint(['learner_id'], ['learner.id']),
        sa.PrimaryKeyConstraint('learner_id', 'issuer_id'),
        sa.UniqueConstraint('issuer_id', 'did'),
    )
    connection = op.get_bind()
    learners = connection.execute(
        sa.text("SELECT id, did FROM learner WHERE did IS NOT NULL ORDER BY id")
    ).all()
    for learner in learners:
        named = _first_naming(connection, learner.id, learner.did)
        if named is not None:
            connection.execute(
                sa.text(
                    "INSERT INTO learner_did (learner_id, issuer_id, did, named_at) "
                    "VALUES (:learner, :issuer, :did, :at)"
                ),
                {"learner": learner.id, "issuer": named.issuer_id, "did": learner.did,
                 "at": named.issued_at},
            )
    connection.execute(sa.text("UPDATE learner SET did = NULL WHERE did IS NOT NULL"))
    for (learner_id,) in connection.execute(
        sa.text("SELECT id FROM learner WHERE subject_id NOT LIKE 'urn:uuid:%' ORDER BY id")
    ).all():
        connection.execute(
            sa.text("UPDATE learner SET subject_id = :subject WHERE id = :id"),
            {"subject": f"urn:uuid:{uuid.uuid4()}", "id": learner_id},
        )


def _first_naming(
    connection: sa.Connection, learner_id: int, did: str
) -> sa.Row[tuple[int, object, object]] | None:
    """The learner's earliest credential whose subject is ``did``."""
    rows = connection.execute(
        sa.text(
            "SELECT issuer_id, issued_at, document FROM credential WHERE learner_id = :learner "
            "ORDER BY issued_at, id"
        ),
        {"learner": learner_id},
    )
    for row in rows:
        document = json.loads(row.document) if isinstance(row.document, str) else row.document
        subject = document.get("credentialSubject") if isinstance(document, dict) else None
        if isinstance(subject, dict) and subject.get("id") == did:
            return row
    return None


def downgrade() -> None:
    op.execute(
        "UPDATE learner SET did = (SELECT d.did FROM learner_did d "
        "WHERE d.learner_id = learner.id ORDER BY d.named_at, d.issuer_id LIMIT 1) "
        "WHERE did IS NULL AND deleted_at IS NULL"
    )
    op.drop_table('learner_did')
