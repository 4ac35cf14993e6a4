"""Learner groups: an issuer's departments, cohorts or offices, for the skills cloud of a part of
the organisation. Membership comes with issuance (``recipient.groups``, the CSV ``groups``
column, ``;``-separated) or from an HR roster (``PUT …/groups/{name}``, which replaces it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from issuer.core.errors import BadRequest, NotFound
from issuer.models import Issuer, LearnerGroup
from issuer.models.base import table_of, utcnow
from issuer.people.learners import NewLearner, learners_for
from issuer.schemas import group_name, normalize_email

MAX_ROSTER = 100_000


def add(session: Session, issuer_id: int, memberships: Iterable[tuple[int, str]]) -> None:
    """Put learners in groups (``(learner id, group)`` pairs); existing memberships stay."""
    now = utcnow()
    rows = [
        {"issuer_id": issuer_id, "learner_id": learner, "name": name, "created_at": now}
        for learner, name in sorted(set(memberships))  # one lock order for every writer
    ]
    if not rows:
        return
    table = table_of(LearnerGroup)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table).on_conflict_do_nothing(), rows)


def listing(session: Session, issuer: Issuer) -> list[dict[str, Any]]:
    rows = session.execute(
        select(LearnerGroup.name, func.count())
        .where(LearnerGroup.issuer_id == issuer.id)
        .group_by(LearnerGroup.name)
        .order_by(LearnerGroup.name)
    )
    return [{"name": name, "learners": count} for name, count in rows]


def normalized(name: str) -> str:
    """A group name as stored (inner whitespace collapsed); ``BadRequest`` if it cannot be one."""
    try:
        return group_name(name)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def require_group(session: Session, issuer: Issuer, name: str) -> None:
    found = session.exec(
        select(LearnerGroup.id).where(
            LearnerGroup.issuer_id == issuer.id, LearnerGroup.name == name
        )
    ).first()
    if found is None:
        raise NotFound(f"there is no group {name!r} at this issuer")


def replace(session: Session, issuer: Issuer, name: str, emails: list[str]) -> dict[str, Any]:
    """Make ``emails`` the members of group ``name`` (learners are created for new emails, so
    that their later badges count for the group)."""
    name = normalized(name)
    assert issuer.id is not None
    if len(emails) > MAX_ROSTER:
        raise BadRequest(f"a roster has at most {MAX_ROSTER} emails")
    addresses = set()
    for email in emails:
        try:
            addresses.add(normalize_email(email))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    found = learners_for(session, {email: NewLearner() for email in addresses})
    learners = {learner.id for learner in found.values()}
    session.execute(
        delete(LearnerGroup).where(
            col(LearnerGroup.issuer_id) == issuer.id, col(LearnerGroup.name) == name
        )
    )
    add(session, issuer.id, ((learner, name) for learner in learners if learner is not None))
    # the emails given, not the learners they are: two addresses joined in one wallet must not
    # tell the issuer they are one person
    return {"name": name, "learners": len(addresses)}


def remove(session: Session, issuer: Issuer, name: str) -> None:
    name = normalized(name)
    require_group(session, issuer, name)
    session.execute(
        delete(LearnerGroup).where(
            col(LearnerGroup.issuer_id) == issuer.id, col(LearnerGroup.name) == name
        )
    )
