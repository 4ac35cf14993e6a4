"""organisations' learning-hours rules: no NaN, Infinity or negative hours

Revision ID: 0022c
Revises: 0022
Create Date: 2026-12-07 10:00:00

Before audit 10 (F3), the console's rules form took NaN and Infinity (JSON text may carry them)
and both the form and the API took negative hours; ``issuer.orgs.rules.Rules`` now refuses
them, so rules stored with one would no longer load, and the organisation's hours report would
fail. This drops each such value from the stored rules, once, so that what the organisation
left out applies instead: a grade's requirement or a category's cap goes (the grade then has
the default requirement, the category counts nothing), ``default_required`` and
``mandatory_hours`` take their defaults. The rules are frozen here, not imported. A downgrade
changes nothing back.
"""

import math
from typing import Any

import sqlalchemy as sa
from alembic import op


revision = '0022c'
down_revision = '0022'
branch_labels = None
depends_on = None

MAPS = ('required_hours', 'informal_caps')
NUMBERS = ('default_required', 'mandatory_hours')


def _hours(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value >= 0


def cleaned(rules: dict[str, Any]) -> dict[str, Any]:
    kept = dict(rules)
    for name in MAPS:
        if isinstance(kept.get(name), dict):
            kept[name] = {key: value for key, value in kept[name].items() if _hours(value)}
    for name in NUMBERS:
        if name in kept and not _hours(kept[name]):
            del kept[name]
    return kept


def upgrade() -> None:
    bind = op.get_bind()
    organisation = sa.table(
        'organisation', sa.column('id', sa.Integer()), sa.column('rules', sa.JSON())
    )
    for id_, rules in bind.execute(sa.select(organisation.c.id, organisation.c.rules)).all():
        if isinstance(rules, dict) and cleaned(rules) != rules:
            bind.execute(
                organisation.update()
                .where(organisation.c.id == id_)
                .values(rules=cleaned(rules))
            )


def downgrade() -> None:
    pass
