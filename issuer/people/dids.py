"""Whose DID a badge names. Learners are shared by the instance's issuers, so a DID an issuer gives
for a recipient (``recipient.did``) is that issuer's statement about her, not a fact for them all.

The subject id of a badge is, in this order:

1. the DID this request names;
2. the DID the learner established herself (``Learner.did``);
3. the DID this issuer last named for her (``LearnerDid``);
4. her stand-in subject id (``urn:uuid:…``).

Another issuer's DID is never used: when the first issuer to name a DID for an email decided the
subject of every issuer's badges, a tenant could bind another's badges for a person to a key it
held (audit round 5, F2). A request naming a DID other than the learner's own is this issuer's
statement for that badge and leaves hers unchanged.

One DID names one learner per issuer: a row naming a DID this issuer named for another learner,
or that an earlier row of the same request names for another learner, is refused (409) before
any learner is made for it; one that another unit of work (or an earlier step of the same bulk
job, still in flight when the row was checked) named for someone else meanwhile is refused when
it is stored, that row alone. Other issuers' use of a DID is no obstacle (nor visible).

A DID is recorded (``remember``) with the credential that names it, in the savepoint that stores
it: a row that fails after it was built (its signature, a repeated idempotency key, a store
error) leaves no DID behind. Until its row is stored, a DID is ``Unsettled``: a later row of
the same run naming none reads it, as if the rows had come one by one, and is built again when
the row it read from is not stored (``issuer.issuing.issuance``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from issuer.core.db import among
from issuer.core.errors import Conflict
from issuer.models import Learner, LearnerDid
from issuer.models.base import table_of, utcnow
from issuer.people.learners import CHUNK, LearnerRef, known


@dataclass(frozen=True)
class Named:
    """A row of a request that names a DID for its recipient."""

    number: int
    email: str
    did: str


@dataclass
class Unsettled:
    """The DIDs rows of one run (a request, a bulk job) name from when they are built until
    they are stored or fail: learner id -> (DID, row number) of the last such row, and the rows
    that named a DID and were not stored."""

    named: dict[int, tuple[str, int]] = field(default_factory=dict)
    lost: set[int] = field(default_factory=set)

    def name(self, learner: int, did: str, number: int) -> None:
        self.named[learner] = (did, number)

    def settle(self, learner: int, number: int, stored: bool) -> None:
        """Row ``number`` (which named a DID for ``learner``) was stored, or failed."""
        if not stored:
            self.lost.add(number)
        if self.named.get(learner, ("", 0))[1] == number:
            del self.named[learner]


def refused(session: Session, issuer_id: int, named: Sequence[Named]) -> dict[int, str]:
    """The rows (by number) whose DID names another learner at this issuer, with the reason."""
    if not named:
        return {}
    holders = _holders(session, issuer_id, sorted({n.did for n in named}))
    learners = {e: ref.id for e, ref in known(session, sorted({n.email for n in named})).items()}
    reasons: dict[int, str] = {}
    first: dict[str, Named] = {}
    for row in sorted(named, key=lambda n: n.number):
        learner = learners.get(row.email)
        holder = holders.get(row.did)
        if holder is not None and holder != learner:
            reasons[row.number] = f"the DID {row.did} names another learner at this issuer"
            continue
        earlier = first.setdefault(row.did, row)
        if earlier.email != row.email and (
            learner is None or learners.get(earlier.email) != learner
        ):
            reasons[row.number] = f"the DID {row.did} names another learner in row {earlier.number}"
    return reasons


def _holders(session: Session, issuer_id: int, dids: list[str]) -> dict[str, int]:
    table = table_of(LearnerDid)
    return _pairs(session, issuer_id, table.c.did, table.c.learner_id, dids)


def named_by(session: Session, issuer_id: int, learner_ids: Sequence[int]) -> dict[int, str]:
    """The DID this issuer last named for each of ``learner_ids`` it named one for."""
    table = table_of(LearnerDid)
    wanted = sorted(set(learner_ids))
    return _pairs(session, issuer_id, table.c.learner_id, table.c.did, wanted)


def _pairs(
    session: Session, issuer_id: int, key: Any, value: Any, keys: Sequence[Any]
) -> dict[Any, Any]:
    """``key -> value`` of this issuer's ``learner_did`` rows whose ``key`` is among ``keys``
    (asked ``CHUNK`` at a time)."""
    found: dict[Any, Any] = {}
    for start in range(0, len(keys), CHUNK):
        rows = session.execute(
            select(key, value).where(
                table_of(LearnerDid).c.issuer_id == issuer_id,
                among(session, key, list(keys[start : start + CHUNK])),
            )
        ).all()
        found.update({row[0]: row[1] for row in rows})
    return found


def subject(learner: LearnerRef, requested: str | None, theirs: Mapping[int, str]) -> str:
    """The subject id of a badge for ``learner`` (``theirs``: what ``named_by`` answered)."""
    return requested or learner.did or theirs.get(learner.id) or learner.subject_id


def subject_of(session: Session, issuer_id: int, learner: Learner) -> str:
    """The subject id this issuer's badges for ``learner`` name when a request names none."""
    assert learner.id is not None
    ref = LearnerRef(learner.id, learner.subject_id, learner.did)
    return subject(ref, None, named_by(session, issuer_id, [learner.id]))


def merge(session: Session, *, into: int, other: int) -> None:
    """Learner ``other`` merges into ``into``: the DIDs issuers named for ``other`` become
    ``into``'s, but for issuers that named one for ``into`` (theirs stays)."""
    table = table_of(LearnerDid)
    mine = select(table.c.issuer_id).where(table.c.learner_id == into)
    session.execute(delete(table).where(table.c.learner_id == other, table.c.issuer_id.in_(mine)))
    session.execute(update(table).where(table.c.learner_id == other).values(learner_id=into))


def remember(session: Session, issuer_id: int, named: Mapping[int, str]) -> None:
    """Record the DIDs this issuer now names for these learners (learner id -> DID), in learner
    order, in the caller's savepoint that stores their credentials. ``Conflict`` (409) when one of
    them names another learner at this issuer: a concurrent unit of work, or an earlier step of
    the same job, named it meanwhile."""
    current = named_by(session, issuer_id, list(named))
    changed = sorted(
        (learner, did) for learner, did in named.items() if current.get(learner) != did
    )
    if not changed:
        return
    now = utcnow()
    rows = [
        {"learner_id": learner, "issuer_id": issuer_id, "did": did, "named_at": now}
        for learner, did in changed
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table_of(LearnerDid))
    statement = statement.on_conflict_do_update(
        index_elements=["learner_id", "issuer_id"],
        set_={"did": statement.excluded.did, "named_at": statement.excluded.named_at},
    )
    try:
        with session.begin_nested():
            session.execute(statement, rows)
    except IntegrityError:
        which = f"the DID {changed[0][1]}" if len(changed) == 1 else "one of the DIDs"
        raise Conflict(f"{which} names another learner at this issuer") from None
