"""Merging two learner records proven to be one person (``accounts.confirm_email``): every row
that names learner ``other`` comes to learner ``into``, and ``other`` is removed.

``MERGED`` names every table with a foreign key to ``learner`` and what happens to its rows (a
test compares it with the models' metadata, so a table added without a rule here fails it):

- moved as they are: badges, their skill rows, imports, share links, OAuth grants, pushes to
  OB hosts, informal-learning claims;
- moved unless ``into`` holds the same (a unique key), then one is kept: emails (never both),
  imports of one credential (``into``'s), issuer groups and DIDs (``into``'s), the public
  profile (``into``'s), a connection to an OB host (``into``'s; ``other``'s pushes move to it),
  a mail opt-out (kept: either record opting out is the person opting out);
- an organisation's roster entry: the current one is kept (``into``'s when both or neither are),
  filled in with what only the other says (unit, employee number, grade, role, name) and the
  earlier ``joined_at``;
- a credential shared with an organisation twice: the one that counts (``into``'s when both or
  neither do);
- a development plan of one organisation and year twice: the one further along (reviewed,
  signed, draft; then the one updated last), with its objectives and activities; the other is
  deleted, named in the audit entry;
- web sessions of ``other`` end; its sign-in links keep their row but name no learner.

One audit entry, ``learner.merge``, lists what was kept of each clash.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, select

from issuer.core import audit
from issuer.models import (
    Credential,
    CredentialSkill,
    DevelopmentPlan,
    ImportedCredential,
    InformalClaim,
    Learner,
    LearnerEmail,
    LearnerGroup,
    MailOptOut,
    OAuthCode,
    OAuthToken,
    ObConnection,
    ObPush,
    OrgMember,
    PlanActivity,
    PlanObjective,
    PublicProfile,
    SharedCredential,
    ShareLink,
    SignInLink,
    WebSession,
)
from issuer.people import dids

MOVED: tuple[type[SQLModel], ...] = (
    Credential,
    CredentialSkill,
    ImportedCredential,
    ShareLink,
    OAuthCode,
    OAuthToken,
    ObPush,
    InformalClaim,
)
MERGED = {
    **{table.__tablename__: "moved" for table in MOVED},
    "learner_email": "moved, not primary",
    "learner_group": "added to into's groups",
    "learner_did": "into's kept per issuer",
    "public_profile": "into's kept",
    "ob_connection": "into's kept per host",
    "mail_opt_out": "kept",
    "org_member": "the current entry kept, filled in",
    "shared_credential": "the counting one kept",
    "development_plan": "the one further along kept",
    "web_session": "ended",
    "sign_in_link": "no learner",
}
"""Each table with a foreign key to ``learner``: what a merge does to ``other``'s rows."""

PLAN_ORDER = {"draft": 0, "signed": 1, "reviewed": 2}
FILLED = ("email", "unit_id", "employee_no", "name", "grade", "role")


def merge(session: Session, *, into: int, other: int) -> None:
    """Move everything of learner ``other`` to learner ``into`` and remove ``other``."""
    kept: dict[str, Any] = {}
    _imports(session, into, other)
    for table in MOVED:
        column = table.learner_id  # type: ignore[attr-defined]
        session.execute(update(table).where(col(column) == other).values(learner_id=into))
    session.execute(
        update(LearnerEmail)
        .where(col(LearnerEmail.learner_id) == other)
        .values(learner_id=into, is_primary=False)
    )
    _groups(session, into, other)
    dids.merge(session, into=into, other=other)
    _keep_one(session, PublicProfile, into, other)
    _keep_one(session, MailOptOut, into, other)
    _connections(session, into, other)
    kept["org_member"] = _roster(session, into, other)
    kept["shared_credential"] = _shared(session, into, other)
    kept["development_plan"] = _plans(session, into, other)
    session.execute(delete(WebSession).where(col(WebSession.learner_id) == other))
    session.execute(
        update(SignInLink).where(col(SignInLink.learner_id) == other).values(learner_id=None)
    )
    mine, theirs = session.get(Learner, into), session.get(Learner, other)
    if mine is not None and theirs is not None and not mine.name:
        mine.name = theirs.name
        session.add(mine)
    session.flush()
    session.execute(delete(Learner).where(col(Learner.id) == other))
    details = {"merged": other, **{name: rows for name, rows in kept.items() if rows}}
    audit.append(session, "wallet", "learner.merge", f"learner:{into}", details)


def _imports(session: Session, into: int, other: int) -> None:
    """Both imported the same badge (the same issuer and id): ``into``'s import is kept."""
    kept = aliased(ImportedCredential)
    held = select(kept.id).where(
        kept.learner_id == into,
        kept.credential_id == ImportedCredential.credential_id,
        kept.issuer_ref == ImportedCredential.issuer_ref,
    )
    twice = session.exec(
        select(ImportedCredential.id).where(
            ImportedCredential.learner_id == other,
            col(ImportedCredential.credential_id).is_not(None),
            held.exists(),
        )
    ).all()
    if twice:
        session.execute(delete(ShareLink).where(col(ShareLink.imported_id).in_(twice)))
        session.execute(delete(ImportedCredential).where(col(ImportedCredential.id).in_(twice)))


def _groups(session: Session, into: int, other: int) -> None:
    from issuer.people.groups import add

    for row in session.exec(select(LearnerGroup).where(LearnerGroup.learner_id == other)).all():
        add(session, row.issuer_id, [(into, row.name)])
    session.execute(delete(LearnerGroup).where(col(LearnerGroup.learner_id) == other))


def _keep_one(
    session: Session, table: type[PublicProfile | MailOptOut], into: int, other: int
) -> None:
    """A table with one row per learner: ``into``'s row, else ``other``'s."""
    column = col(table.learner_id)
    if session.exec(select(table).where(column == into)).first() is not None:
        session.execute(delete(table).where(column == other))
    else:
        session.execute(update(table).where(column == other).values(learner_id=into))


def _connections(session: Session, into: int, other: int) -> None:
    """One connection per OB host: ``into``'s is kept; ``other``'s pushes to it move there."""
    mine = {
        c.host_id: c.id
        for c in session.exec(select(ObConnection).where(ObConnection.learner_id == into))
    }
    for theirs in session.exec(select(ObConnection).where(ObConnection.learner_id == other)).all():
        if theirs.host_id in mine:
            session.execute(
                update(ObPush)
                .where(col(ObPush.connection_id) == theirs.id)
                .values(connection_id=mine[theirs.host_id])
            )
            session.delete(theirs)
        else:
            theirs.learner_id = into
            session.add(theirs)
    session.flush()


def _roster(session: Session, into: int, other: int) -> list[dict[str, Any]]:
    """One roster entry per organisation: the current one, filled in from the other."""
    mine = {
        m.org_id: m for m in session.exec(select(OrgMember).where(OrgMember.learner_id == into))
    }
    clashes = []
    for theirs in session.exec(select(OrgMember).where(OrgMember.learner_id == other)).all():
        ours = mine.get(theirs.org_id)
        if ours is None:
            theirs.learner_id = into
            session.add(theirs)
            continue
        keep, drop = (theirs, ours) if ours.left_at and not theirs.left_at else (ours, theirs)
        for name in FILLED:
            if getattr(keep, name) is None and getattr(drop, name) is not None:
                setattr(keep, name, getattr(drop, name))
        keep.joined_at = min(keep.joined_at, drop.joined_at)
        session.delete(drop)
        session.flush()  # the unique (org, learner) key is free before the kept one moves
        keep.learner_id = into
        session.add(keep)
        clashes.append({"org": theirs.org_id, "kept": keep.id, "dropped": drop.id})
    session.flush()
    return clashes


def _counts(row: SharedCredential) -> bool:
    return row.withdrawn_at is None and row.revoked_at is None and row.rejected_at is None


def _shared(session: Session, into: int, other: int) -> list[dict[str, Any]]:
    """A credential shared with one organisation by both: the one that counts is kept."""
    mine = {
        (s.org_id, s.credential_ref): s
        for s in session.exec(select(SharedCredential).where(SharedCredential.learner_id == into))
    }
    clashes = []
    rows = session.exec(select(SharedCredential).where(SharedCredential.learner_id == other))
    for theirs in rows.all():
        ours = mine.get((theirs.org_id, theirs.credential_ref))
        if ours is None:
            theirs.learner_id = into
            session.add(theirs)
            continue
        keep, drop = (theirs, ours) if _counts(theirs) and not _counts(ours) else (ours, theirs)
        session.delete(drop)
        session.flush()
        keep.learner_id = into
        session.add(keep)
        clashes.append({"org": theirs.org_id, "kept": keep.id, "dropped": drop.id})
    session.flush()
    return clashes


def _plans(session: Session, into: int, other: int) -> list[dict[str, Any]]:
    """One plan per organisation and year: the one further along is kept, with its parts."""
    mine = {
        (p.org_id, p.year): p
        for p in session.exec(select(DevelopmentPlan).where(DevelopmentPlan.learner_id == into))
    }
    clashes = []
    rows = session.exec(select(DevelopmentPlan).where(DevelopmentPlan.learner_id == other))
    for theirs in rows.all():
        ours = mine.get((theirs.org_id, theirs.year))
        if ours is None:
            theirs.learner_id = into
            session.add(theirs)
            continue
        keep, drop = (theirs, ours) if _along(theirs) > _along(ours) else (ours, theirs)
        for part in (PlanActivity, PlanObjective):  # activities name objectives
            session.execute(delete(part).where(col(part.plan_id) == drop.id))
        session.delete(drop)
        session.flush()
        keep.learner_id = into
        session.add(keep)
        clashes.append(
            {"org": theirs.org_id, "year": theirs.year, "kept": keep.id, "dropped": drop.id}
        )
    session.flush()
    return clashes


def _along(plan: DevelopmentPlan) -> tuple[int, Any]:
    return PLAN_ORDER.get(plan.state, 0), plan.updated_at
