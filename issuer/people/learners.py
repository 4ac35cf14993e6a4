"""Who a learner is: the record that owns an email, created on first sight.

Used by every issuing path (single, bulk, xAPI, awards) and by HR rosters. Emails are created in
sorted order inside a savepoint, so that two units of work creating the same learners cannot
deadlock; one that loses a race to another reads the winner's record back.

A new learner's subject id is always a random ``urn:uuid:``, never a DID a request names: the
record is shared by every issuer of the instance, and a DID one issuer names is its own
statement (``issuer.people.dids``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from issuer.core.db import among, copy_rows
from issuer.core.errors import Conflict
from issuer.models import Learner, LearnerEmail
from issuer.models.base import UTCDateTime, table_of, utcnow


@dataclass(frozen=True)
class LearnerRef:
    """What issuing needs of a learner (plain data: ORM objects are slow in bulk)."""

    id: int
    subject_id: str
    did: str | None  # the learner's own (``Learner.did``)


@dataclass(frozen=True)
class NewLearner:
    """What a learner not seen before starts with. ``name``: only ever her own (a name an
    issuer or a roster gives stays that issuer's: ``issuer.issuing.credentials.recipient``,
    ``OrgMember.name``), else the first issuer would write what her wallet greets her with."""

    name: str | None = None


CHUNK = 1000
"""Emails per statement (SQLite limits the parameters of one statement)."""


def known(session: Session, emails: list[str]) -> dict[str, LearnerRef]:
    """The learners owning those of ``emails`` (normalised already) that are known."""
    learner, email_table = table_of(Learner), table_of(LearnerEmail)
    found: dict[str, LearnerRef] = {}
    for start in range(0, len(emails), CHUNK):
        rows = session.execute(
            select(email_table.c.email, learner.c.id, learner.c.subject_id, learner.c.did)
            .join(learner, learner.c.id == email_table.c.learner_id)
            .where(among(session, email_table.c.email, emails[start : start + CHUNK]))
        ).all()
        found.update({row.email: LearnerRef(row.id, row.subject_id, row.did) for row in rows})
    return found


def learners_for(session: Session, wanted: Mapping[str, NewLearner]) -> dict[str, LearnerRef]:
    """The learner owning each email (normalised already), creating the missing ones."""
    found = known(session, sorted(wanted))
    missing = sorted(email for email in wanted if email not in found)
    if not missing:
        return found
    try:
        with session.begin_nested():
            for start in range(0, len(missing), CHUNK):
                found.update(_create(session, missing[start : start + CHUNK], wanted))
    except IntegrityError:  # another unit of work created one of them meanwhile
        for email in missing:
            found[email] = _one(session, email, wanted[email])
    return found


def _new_subject_ids(count: int) -> list[str]:
    """``urn:uuid:`` and a random (version 4) UUID, ``count`` times, from one read of the
    system's random source: ``uuid.uuid4`` reads it once per UUID, and a bulk step's 1,000 reads
    (each giving the GIL up and waiting for it again) were ~5% of the job's thread."""
    random = os.urandom(16 * count)
    return [
        f"urn:uuid:{uuid.UUID(bytes=random[start : start + 16], version=4)}"
        for start in range(0, 16 * count, 16)
    ]


_NEW_LEARNERS_POSTGRES = text(
    "INSERT INTO learner (subject_id, name, created_at) "
    "SELECT v.s, v.n, :now "
    "FROM unnest(CAST(:s AS varchar[]), CAST(:n AS varchar[])) "
    "AS v(s, n) RETURNING id, subject_id"
).bindparams(bindparam("now", type_=UTCDateTime()))
"""A step's new learners in one statement on PostgreSQL, their values as arrays. SQLAlchemy's
multi-row ``INSERT … RETURNING`` of 1,000 learners is one statement of 3,000 parameters, which
psycopg parses afresh each time (its query cache skips long statements): ~16% of a bulk job's
thread for a cohort of new learners."""


def _create(
    session: Session, emails: list[str], wanted: Mapping[str, NewLearner]
) -> dict[str, LearnerRef]:
    learner, email_table = table_of(Learner), table_of(LearnerEmail)
    now = utcnow()
    values = [
        {"subject_id": subject, "name": wanted[email].name, "created_at": now}
        for email, subject in zip(emails, _new_subject_ids(len(emails)), strict=True)
    ]
    if session.get_bind().dialect.name == "postgresql":
        ids = session.execute(
            _NEW_LEARNERS_POSTGRES,
            {
                "s": [row["subject_id"] for row in values],
                "n": [row["name"] for row in values],
                "now": now,
            },
        )
    else:
        ids = session.execute(insert(learner).returning(learner.c.id, learner.c.subject_id), values)
    by_subject = {row.subject_id: row.id for row in ids}
    addresses = [
        {
            "learner_id": by_subject[row["subject_id"]],
            "email": email,
            "verified": False,
            "is_primary": True,
            "created_at": now,
        }
        for email, row in zip(emails, values, strict=True)
    ]
    if not copy_rows(session, email_table, addresses):
        session.execute(insert(email_table), addresses)
    return {
        email: LearnerRef(by_subject[row["subject_id"]], str(row["subject_id"]), None)
        for email, row in zip(emails, values, strict=True)
    }


def _one(session: Session, email: str, new: NewLearner) -> LearnerRef:
    for _ in range(3):
        found = known(session, [email]).get(email)
        if found is not None:
            return found
        try:
            with session.begin_nested():
                return _create(session, [email], {email: new})[email]
        except IntegrityError:
            continue
    raise Conflict(f"the learner record for {email} is being changed; retry")


def resolve_learner(session: Session, email: str, name: str | None = None) -> Learner:
    """The learner who owns ``email`` (created on first sight), as a table row."""
    ref = learners_for(session, {email: NewLearner(name)})[email]
    learner = session.get(Learner, ref.id)
    assert learner is not None
    return learner
