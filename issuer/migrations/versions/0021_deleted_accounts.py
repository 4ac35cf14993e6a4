"""accounts deleted before audit 9: what the deletion of today does, done for them too

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 09:30:00

Before audit 9 (R2), deleting a wallet account removed her emails, imports, share links,
profile and sessions but left the credentials she had shared with her organisations counting
(hours report, skills cloud, programmes: and nobody could withdraw them any more), her
informal-learning claims with what she wrote, her career goal on development plans, her mail
opt-out and her authorisation codes. ``issuer.wallet.deletion.delete_account`` now does all of
that; this does it once for every account deleted before (``learner.deleted_at`` set), as of
this revision (the rules are frozen here, not imported):

- every share not yet withdrawn is withdrawn, dated when the account was deleted;
- claims not endorsed are deleted; an endorsed claim keeps no text of hers (what she learned,
  her evidence), as the issuer's record of the badge it became;
- plans keep the organisation's record with her career goal blanked;
- her mail opt-out and the authorisation codes no token names are deleted, and the rows of the
  tables a deletion empties are deleted should any remain.

No audit entry is written for these (the deletion's own entry stands); a downgrade changes
nothing back (what was deleted is gone).
"""

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

EMPTIED = (
    'share_link',
    'public_profile',
    'web_session',
    'learner_email',
    'learner_group',
    'learner_did',
    'ob_push',
    'ob_connection',
    'imported_credential',
    'mail_opt_out',
)


def upgrade() -> None:
    bind = op.get_bind()
    learner = sa.table('learner', sa.column('id', sa.Integer()), sa.column('deleted_at'))
    deleted = sa.select(learner.c.id).where(learner.c.deleted_at.is_not(None))
    if bind.execute(deleted.limit(1)).first() is None:
        return
    shared = sa.table(
        'shared_credential', sa.column('learner_id', sa.Integer()), sa.column('withdrawn_at')
    )
    when = (
        sa.select(learner.c.deleted_at).where(learner.c.id == shared.c.learner_id).scalar_subquery()
    )
    bind.execute(
        shared.update()
        .where(shared.c.learner_id.in_(deleted), shared.c.withdrawn_at.is_(None))
        .values(withdrawn_at=when)
    )
    claim = sa.table(
        'informal_claim',
        sa.column('learner_id', sa.Integer()),
        sa.column('state', sa.String()),
        sa.column('learned', sa.Text()),
        sa.column('evidence_url', sa.String()),
        sa.column('evidence_text', sa.Text()),
    )
    hers = claim.c.learner_id.in_(deleted)
    bind.execute(claim.delete().where(hers, claim.c.state != 'endorsed'))
    bind.execute(
        claim.update()
        .where(hers, claim.c.state == 'endorsed')
        .values(learned='', evidence_url=None, evidence_text=None)
    )
    plan = sa.table(
        'development_plan', sa.column('learner_id', sa.Integer()), sa.column('career_goal')
    )
    bind.execute(plan.update().where(plan.c.learner_id.in_(deleted)).values(career_goal=''))
    for name in EMPTIED:
        table = sa.table(name, sa.column('learner_id', sa.Integer()))
        bind.execute(table.delete().where(table.c.learner_id.in_(deleted)))
    token = sa.table('oauth_token', sa.column('code_id', sa.Integer()))
    code = sa.table('oauth_code', sa.column('id', sa.Integer()), sa.column('learner_id'))
    named = sa.select(token.c.code_id).where(token.c.code_id.is_not(None))
    bind.execute(code.delete().where(code.c.learner_id.in_(deleted), code.c.id.not_in(named)))


def downgrade() -> None:
    pass
