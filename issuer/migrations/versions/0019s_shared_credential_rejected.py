"""shared credentials: the verifier's end date, and rejected by a recheck

Revision ID: 0019s
Revises: 0019o
Create Date: 2026-12-09 09:00:00

``shared_credential.valid_until`` was read from ``validUntil`` only, so a VCDM 1.1 credential
(``expirationDate``) or a VC-JOSE ``vc+jwt`` carrying only ``exp`` never expired for the
organisation. The code now stores the verifier's reading; this fills it in for the rows stored
before, from what each row keeps: a VCDM 1.1 document's ``expirationDate``, and a JWT's ``exp``
where it ends the credential sooner (or is its only end), as the verifier's validity check
reads them (frozen here as of this revision, not imported). The next recheck stores the
verifier's reading again in any case.

``rejected_at`` / ``rejected_reason``: a recheck found the credential no longer verifies for
another reason than its status or its end date; it no longer counts.
"""

import base64
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op


revision = '0019s'
down_revision = '0019o'
branch_labels = None
depends_on = None

VC_V1 = 'https://www.w3.org/2018/credentials/v1'


def upgrade() -> None:
    with op.batch_alter_table('shared_credential', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rejected_reason', sa.String(length=500), nullable=True))
    table = sa.table(
        'shared_credential',
        sa.column('id', sa.Integer()),
        sa.column('document', sa.JSON()),
        sa.column('jwt', sa.Text()),
        sa.column('valid_until', sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.id, table.c.document, table.c.jwt, table.c.valid_until))
    for row_id, document, token, stored in rows.all():
        end = _end(document if isinstance(document, dict) else {}, token)
        if end is not None and (stored is None or _aware(stored) != end):
            bind.execute(table.update().where(table.c.id == row_id).values(valid_until=end))


def downgrade() -> None:
    with op.batch_alter_table('shared_credential', schema=None) as batch_op:
        batch_op.drop_column('rejected_reason')
        batch_op.drop_column('rejected_at')


def _end(document: dict[str, Any], token: str | None) -> datetime | None:
    contexts = document.get('@context')
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    end = _time(document.get('expirationDate' if first == VC_V1 else 'validUntil'))
    exp = _claim(token, 'exp')
    if exp is not None and (end is None or exp < end):
        end = exp
    return end


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace('Z', '+00:00'))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


def _claim(token: str | None, name: str) -> datetime | None:
    parts = token.split('.') if token else []
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + '=' * (-len(parts[1]) % 4)))
        value = payload.get(name) if isinstance(payload, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
