"""the email a roster row was uploaded with

Revision ID: 0023
Revises: 0022c
Create Date: 2026-12-06 10:00:00

A learner may join several addresses into one wallet, among them ones only other issuers know.
The roster then showed her primary address, possibly one the organisation never had (audit 11,
D-F1). ``org_member.email`` keeps the address HR uploaded for the row; what the organisation is
shown of her is that address (``issuer.issuing.credentials.known_addresses``).

Existing rows keep a null email: the organisation is then shown the address its home issuer's
credentials were issued to, else none, until the roster is uploaded again (docs/organisations.md).
Nothing is guessed from her current addresses: any of them may be another issuer's.

Downgrade: the column is dropped.
"""

import sqlalchemy as sa
from alembic import op


revision = '0023'
down_revision = '0022c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('org_member') as batch:
        batch.add_column(sa.Column('email', sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('org_member') as batch:
        batch.drop_column('email')
