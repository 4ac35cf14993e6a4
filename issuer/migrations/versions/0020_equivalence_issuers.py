"""equivalences bound to the issuer they were declared for

Revision ID: 0020
Revises: 0019s
Create Date: 2026-12-09 09:00:00

An organisation's equivalence said "a shared badge whose achievement has this id counts as this
catalogue achievement", whatever issuer signed it: any other trusted issuer elsewhere could put
that achievement id into its own badge and complete a programme (audit 8, F6). An equivalence
now names its issuer (``org_equivalence.issuer_ref``, a trusted issuer elsewhere as its
credentials name it) and only that issuer's badges count; the unique key becomes (org, issuer,
achievement id).

Existing rows are bound where the issuer can be told safely: when exactly one issuer elsewhere
the organisation trusts has the host of the achievement id (``https://uni.example/…`` and
``did:web:uni.example[:…]`` or ``https://uni.example/…``). Every other row is kept with a null
``issuer_ref``: it counts for nothing (never for any issuer) until the organisation declares it
again with its issuer, ``PUT /api/v1/orgs/{org}/equivalences`` with ``issuerRef``
(docs/organisations.md); ``GET`` lists such rows with ``"issuerRef": null``. No shared badge
is looked at to guess the issuer: the badges shared so far are exactly what could have been
forged.

Downgrade: the issuer is dropped; one row per (org, achievement id) is kept, a bound one first.
"""

from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0019s'
branch_labels = None
depends_on = None


def _table(bound: bool) -> None:
    columns: list[sa.schema.SchemaItem] = [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
    ]
    if bound:
        columns.append(sa.Column('issuer_ref', sa.String(length=600), nullable=True))
    columns += [
        sa.Column('external_id', sa.String(length=600), nullable=False),
        sa.Column('achievement_key', sa.String(length=99), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organisation.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint(
            *(('org_id', 'issuer_ref', 'external_id') if bound else ('org_id', 'external_id'))
        ),
    ]
    op.create_table('org_equivalence', *columns)
    with op.batch_alter_table('org_equivalence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_equivalence_org_id'), ['org_id'], unique=False)


def _drop() -> None:
    with op.batch_alter_table('org_equivalence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_equivalence_org_id'))
    op.drop_table('org_equivalence')


def _host(ref: str) -> str | None:
    """The host an issuer id or achievement id is served from: an http(s) URL's, or a
    did:web's (its first part, with a percent-encoded port)."""
    if ref.startswith('did:web:'):
        return unquote(ref.removeprefix('did:web:').split(':')[0]).split(':')[0].lower() or None
    parts = urlsplit(ref)
    if parts.scheme in ('http', 'https') and parts.hostname:
        return parts.hostname.lower()
    return None


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text('SELECT org_id, external_id, achievement_key FROM org_equivalence ORDER BY id')
    ).all()
    trusted: dict[int, list[str]] = {}
    for org_id, ref in connection.execute(
        sa.text('SELECT org_id, issuer_ref FROM org_trust WHERE issuer_id IS NULL')
    ):
        trusted.setdefault(org_id, []).append(ref)
    _drop()
    _table(bound=True)
    kept = []
    for org_id, external_id, key in rows:
        host = _host(external_id)
        issuers = [ref for ref in trusted.get(org_id, []) if host and _host(ref) == host]
        issuer_ref = issuers[0] if len(issuers) == 1 else None
        kept.append(
            {'org_id': org_id, 'issuer_ref': issuer_ref, 'external_id': external_id,
             'achievement_key': key}
        )
    if kept:
        connection.execute(
            sa.text(
                'INSERT INTO org_equivalence (org_id, issuer_ref, external_id, achievement_key) '
                'VALUES (:org_id, :issuer_ref, :external_id, :achievement_key)'
            ),
            kept,
        )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            'SELECT org_id, external_id, achievement_key FROM org_equivalence '
            'ORDER BY issuer_ref IS NULL, id'
        )
    ).all()
    _drop()
    _table(bound=False)
    kept: dict[tuple[int, str], dict[str, object]] = {}
    for org_id, external_id, key in rows:
        kept.setdefault(
            (org_id, external_id),
            {'org_id': org_id, 'external_id': external_id, 'achievement_key': key},
        )
    if kept:
        connection.execute(
            sa.text(
                'INSERT INTO org_equivalence (org_id, external_id, achievement_key) '
                'VALUES (:org_id, :external_id, :achievement_key)'
            ),
            list(kept.values()),
        )
