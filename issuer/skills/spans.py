"""Skill spans: the organisation cloud without reading every alignment row.

The cloud counts, per skill, the learners holding it now and a year ago. Counted from
``credential_skill`` that is a distinct count over every alignment row (two million at
50,000 people), sorted by skill: seconds. ``skill_span`` keeps, per learner and skill, the
spans of time over which the same valid credentials count, with their summed weight. A learner's
spans of one skill never overlap, so the learners holding a skill at a time are the number of its
spans containing that time, and its weight their sum: one pass, no distinct count, no merge of
equivalent codes (done here, once per learner).

Three kinds of span: ``skill`` (equivalent codes merged under the canonical one, a credential
aligned to several of them counting once, with the largest weight, as ``cloud._per_credential``
does), ``rollup`` (per ECQ: its own and its competencies' rows) and ``any`` (any skill: the
cloud's population).

Triggers on ``credential_skill`` (migration 0016) name in ``skill_span_log`` every learner whose
rows change, whoever changes them. Readers never depend on the spans being current: the cloud
takes the spans of the learners the log does not name and, in the same statement, counts the
others from ``credential_skill`` as before (``issuer.skills.cloud``). ``refresh`` rebuilds the
named learners' spans and removes their log rows (PostgreSQL: one transaction; SQLite: rounds
of ``CHUNK`` learners); the cloud's request runs it first when it is small, the workers'
catch-up always.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import Date, Engine, delete, func, insert, literal, select, text, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from issuer.core.db import BUSY_TIMEOUT_MS, writer
from issuer.models import (
    CredentialSkill,
    SkillSpan,
    SkillSpanDay,
    SkillSpanLog,
    SkillSpanState,
)
from issuer.models.base import table_of
from issuer.skills.equivalence import SkillMap

log = logging.getLogger(__name__)

SKILL, ROLLUP, ANY = "skill", "rollup", "any"
CHUNK = 2000
"""Learners built at a time (their alignment rows read at once); on SQLite, per transaction."""
ANALYZE_AFTER = 1000
"""A worker's rebuild of at least this many learners is followed by VACUUM (ANALYZE)
(PostgreSQL), so that the planner does not plan a department's cloud over millions of new rows
as if they were none, and the replaced rows' space is reused."""
ROWS_PER_LEARNER = 20
"""For ``too_many`` before the first build: alignment rows counted as one learner."""
ZERO = 1e-9
"""A per-day weight this close to 0 is 0 (sums of the same weights added and taken away)."""

Row = tuple[str, int, str, str, str, float, datetime, datetime | None, datetime | None]
"""credential id, learner id, framework, code, name, scaled weight, issued, valid until, revoked."""
Part = tuple[datetime, datetime | None, float, str]
"""One credential's share of a span: valid from, until (none: still), weight, name."""


class Span(NamedTuple):
    learner_id: int
    kind: str
    framework: str
    code: str
    name: str
    starts_at: datetime
    ends_at: datetime | None
    weight: float


def fingerprint(smap: SkillMap) -> str:
    """What the spans depend on besides the rows: the equivalences and the roll-up parents."""
    text_ = repr((sorted(smap.canonical.items()), sorted(smap.parent.items())))
    return hashlib.sha256(text_.encode()).hexdigest()


def build(rows: Iterable[Row], smap: SkillMap) -> list[Span]:
    """The spans of the learners whose alignment rows these are (all their rows at one issuer).

    A row counts from its credential's issuance until the earlier of its expiry and revocation
    (``cloud.valid_at``). Rows of codes in an equivalence are merged per credential and canonical
    skill (largest weight and name); the others count one by one."""
    merged_codes = {code for keys in smap.codes.values() for _, code in keys}
    canonical, parent = smap.canonical, smap.parent
    parents = set(parent.values())
    merged: dict[tuple[str, tuple[str, str]], list[Any]] = {}
    skills: dict[tuple[int, tuple[str, str]], list[Part]] = defaultdict(list)
    credentials: dict[str, tuple[int, datetime, datetime | None]] = {}
    for credential, learner, framework, code, name, weight, issued, until, revoked in rows:
        end = until if revoked is None else revoked if until is None else min(until, revoked)
        if end is not None and end <= issued:
            continue  # never valid
        credentials[credential] = (learner, issued, end)
        if code not in merged_codes:
            skills[(learner, (framework, code))].append((issued, end, weight, name))
            continue
        key = canonical.get((framework, code), (framework, code))
        found = merged.get((credential, key))
        if found is None:
            merged[(credential, key)] = [learner, key, issued, end, weight, name]
        else:
            found[4], found[5] = max(found[4], weight), max(found[5], name)
    for learner, key, issued, end, weight, name in merged.values():
        skills[(learner, key)].append((issued, end, weight, name))
    rollups: dict[tuple[int, tuple[str, str]], list[Part]] = defaultdict(list)
    for (learner, key), shares in skills.items():
        target = parent.get(key, key)
        if target in parents:
            rollups[(learner, target)].extend(shares)
    anything: dict[int, list[Part]] = defaultdict(list)
    for learner, issued, end in credentials.values():
        anything[learner].append((issued, end, 0.0, ""))
    spans = []
    for kind, pieces in ((SKILL, skills), (ROLLUP, rollups)):
        for (learner, (framework, code)), shares in pieces.items():
            for start, end, weight, name in segments(shares):
                spans.append(Span(learner, kind, framework, code, name, start, end, weight))
    for learner, shares in anything.items():
        for start, end, _, _ in held(shares):
            spans.append(Span(learner, ANY, "", "", "", start, end, 0.0))
    return spans


def segments(parts: Sequence[Part]) -> Iterator[Part]:
    """Split time at every start and end of ``parts``: each piece in which some part is valid,
    with the valid parts' summed weight and largest name. The pieces do not overlap. One sweep
    over the starts and ends in time order."""
    if len(parts) == 1:
        yield parts[0]
        return
    events = sorted(
        [(part[0], 1, part) for part in parts]
        + [(part[1], -1, part) for part in parts if part[1] is not None],
        key=itemgetter(0),
    )
    weight, count, names = 0.0, 0, Counter[str]()
    index = 0
    while index < len(events):
        moment = events[index][0]
        while index < len(events) and events[index][0] == moment:
            _, sign, part = events[index]
            weight, count = weight + sign * part[2], count + sign
            names[part[3]] += sign
            index += 1
        if not count:
            weight = 0.0  # no rounding left over from what ended
            continue
        after = events[index][0] if index < len(events) else None
        yield moment, after, weight, max(name for name, live in names.items() if live)


def held(parts: Sequence[Part]) -> Iterator[Part]:
    """The times in which some part is valid, as few pieces as possible (weight 0)."""
    ordered = sorted(parts, key=itemgetter(0))
    start, end = ordered[0][0], ordered[0][1]
    for part in ordered[1:]:
        if end is not None and part[0] > end:
            yield start, end, 0.0, ""
            start, end = part[0], part[1]
        elif end is not None:
            end = None if part[1] is None else max(end, part[1])
    yield start, end, 0.0, ""


def _rows(session: Session, issuer_id: int, learners: list[int]) -> list[Row]:
    table = table_of(CredentialSkill)
    query = select(
        table.c.credential_id,
        table.c.learner_id,
        table.c.framework,
        table.c.code,
        table.c.name,
        table.c.scaled_weight,
        table.c.issued_at,
        table.c.valid_until,
        table.c.revoked_at,
    ).where(table.c.issuer_id == issuer_id, table.c.learner_id.in_(learners))
    return [tuple(row) for row in session.execute(query)]


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_key(key: int) -> Any:
    """The advisory lock (one 64-bit key: not the space of the two-key locks) of ``key`` in this
    schema: several schemas of one database rebuild independently."""
    return text("(hashtext(current_schema() || ' skill spans')::bigint << 32) + :k").bindparams(
        k=key
    )


def _try_lock(session: Session, key: int, *, shared: bool = False) -> bool:
    function = "pg_try_advisory_xact_lock_shared" if shared else "pg_try_advisory_xact_lock"
    query = select(getattr(func, function)(lock_key(key)))
    return bool(session.execute(query).scalar_one())


def _current_map(session: Session, smap: SkillMap) -> bool:
    """When the stored spans were built with another skill map (or never), drop them all and
    name every learner with alignment rows in the log. On PostgreSQL, every rebuild holds key 0
    shared and this one holds it alone, so that it does not drop spans another rebuild is
    writing; False when it cannot have the lock it needs now (the caller leaves the work to the
    next rebuild)."""
    state, value = table_of(SkillSpanState), fingerprint(smap)
    stored = select(state.c.value).where(state.c.name == "skill_map")
    if session.execute(stored).scalar_one_or_none() == value:
        return not _postgres(session) or _try_lock(session, 0, shared=True)
    if _postgres(session):
        if not _try_lock(session, 0):
            return False
        if session.execute(stored).scalar_one_or_none() == value:
            return True
    skills, log_table = table_of(CredentialSkill), table_of(SkillSpanLog)
    session.execute(delete(table_of(SkillSpan)))
    session.execute(delete(table_of(SkillSpanDay)))
    session.execute(
        insert(log_table).from_select(
            ["issuer_id", "learner_id"],
            select(skills.c.issuer_id, skills.c.learner_id).distinct(),
        )
    )
    session.execute(delete(state).where(state.c.name == "skill_map"))
    session.execute(insert(state).values(name="skill_map", value=value))
    return True


Deltas = dict[tuple[str, str, str, date], list[Any]]
"""(kind, framework, code, day) -> [weight, learners, largest name] to add to ``skill_span_day``."""


def refresh(session: Session, issuer_id: int, smap: SkillMap) -> int:
    """Rebuild the spans of the issuer's learners named in the log, in the caller's transaction
    (which commits it): on SQLite up to ``CHUNK`` learners (so that other writers go in
    between), on PostgreSQL all of them, built ``CHUNK`` at a time. Returns how many learners
    (on SQLite, ``CHUNK``: there may be more). The per-day sums change once per rebuild, by the
    difference of all its learners' spans (rewriting them after every ``CHUNK`` left PostgreSQL a
    table of dead row versions 40 times its size). Rebuilds of one issuer run one at a time
    (PostgreSQL: an advisory lock; SQLite: the write lock): on PostgreSQL, a rebuild that finds
    another under way leaves the work to it and returns 0 at once."""
    if not _current_map(session, smap):
        return 0
    postgres = _postgres(session)
    if postgres and not _try_lock(session, issuer_id):
        return 0
    log_table, span = table_of(SkillSpanLog), table_of(SkillSpan)
    mine = log_table.c.issuer_id == issuer_id
    chosen = select(log_table.c.learner_id).where(mine).distinct()
    learners = sorted(session.execute(chosen if postgres else chosen.limit(CHUNK)).scalars())
    if not learners:
        return 0
    deltas: Deltas = {}
    for start in range(0, len(learners), CHUNK):
        chunk = learners[start : start + CHUNK]
        # Their log rows committed by now; rows committed later stay for the next rebuild,
        # which will read their alignment rows (this one reads them after this statement).
        session.execute(delete(log_table).where(mine, log_table.c.learner_id.in_(chunk)))
        spans = build(_rows(session, issuer_id, chunk), smap)
        _stored_deltas(session, issuer_id, chunk, deltas)
        session.execute(
            delete(span).where(span.c.issuer_id == issuer_id, span.c.learner_id.in_(chunk))
        )
        if spans:
            _write(session, issuer_id, spans)
            _new_deltas(spans, deltas)
    _apply(session, issuer_id, deltas)
    return len(learners)


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _add(
    deltas: Deltas, key: tuple[str, str, str, date], weight: float, count: int, name: str
) -> None:
    found = deltas.get(key)
    if found is None:
        deltas[key] = [weight, count, name]
    else:
        found[0] += weight
        found[1] += count
        found[2] = max(found[2], name)


def _new_deltas(spans: list[Span], deltas: Deltas) -> None:
    """A span adds its weight and one learner on the day it starts and takes them away on the
    day it ends."""
    for span in spans:
        _add(
            deltas,
            (span.kind, span.framework, span.code, _day(span.starts_at)),
            span.weight,
            1,
            span.name,
        )
        if span.ends_at is not None:
            key = (span.kind, span.framework, span.code, _day(span.ends_at))
            _add(deltas, key, -span.weight, -1, "")


def _stored_deltas(session: Session, issuer_id: int, learners: list[int], deltas: Deltas) -> None:
    """What the learners' stored spans add to the per-day sums, taken away (summed in SQL)."""
    span = table_of(SkillSpan)
    postgres = _postgres(session)

    def day(column: Any) -> Any:
        return func.date(func.timezone("UTC", column) if postgres else column, type_=Date)

    keys = (span.c.kind, span.c.framework, span.c.code)
    theirs = (span.c.issuer_id == issuer_id, span.c.learner_id.in_(learners))
    starts = select(
        *keys,
        day(span.c.starts_at).label("day"),
        span.c.weight.label("weight"),
        literal(1).label("learners"),
    ).where(*theirs)
    ends = select(
        *keys,
        day(span.c.ends_at).label("day"),
        (-span.c.weight).label("weight"),
        literal(-1).label("learners"),
    ).where(*theirs, span.c.ends_at.is_not(None))
    events = union_all(starts, ends).subquery()
    grouping = (events.c.kind, events.c.framework, events.c.code, events.c.day)
    summed = select(*grouping, func.sum(events.c.weight), func.sum(events.c.learners)).group_by(
        *grouping
    )
    for kind, framework, code, moment, weight, count in session.execute(summed):
        when = moment if isinstance(moment, date) else date.fromisoformat(str(moment))
        _add(deltas, (kind, framework, code, when), -float(weight), -int(count), "")


def _apply(session: Session, issuer_id: int, deltas: Deltas) -> None:
    """Add the deltas to ``skill_span_day`` (one upsert per changed day), then drop the days
    whose sums are now nothing (a badge revoked the day it was issued)."""
    days = table_of(SkillSpanDay)
    rows = [
        {
            "issuer_id": issuer_id,
            "kind": kind,
            "framework": framework,
            "code": code,
            "day": day,
            "name": name,
            "weight": weight,
            "learners": count,
        }
        for (kind, framework, code, day), (weight, count, name) in deltas.items()
        if count or name or not -ZERO <= weight <= ZERO
    ]
    if rows:
        postgres = _postgres(session)
        statement = (postgresql.insert if postgres else sqlite.insert)(days)
        larger = func.greatest if postgres else func.max  # SQLite's max() of two values
        statement = statement.on_conflict_do_update(
            index_elements=["issuer_id", "kind", "framework", "code", "day"],
            set_={
                "weight": days.c.weight + statement.excluded.weight,
                "learners": days.c.learners + statement.excluded.learners,
                "name": larger(days.c.name, statement.excluded.name),
            },
        )
        session.execute(statement, rows)
    session.execute(
        delete(days).where(
            days.c.issuer_id == issuer_id,
            days.c.learners == 0,
            days.c.weight.between(-ZERO, ZERO),
        )
    )


def _write(session: Session, issuer_id: int, spans: list[Span]) -> None:
    """Insert the spans: PostgreSQL by COPY (a rebuild after a large upload writes millions)."""
    if not _postgres(session):
        rows = [{"issuer_id": issuer_id, **s._asdict()} for s in spans]
        session.execute(insert(table_of(SkillSpan)), rows)
        return
    raw = session.connection().connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    columns = ", ".join(("issuer_id", *Span._fields))
    with raw.cursor() as cursor, cursor.copy(f"COPY skill_span ({columns}) FROM STDIN") as copy:
        for span in spans:
            copy.write_row((issuer_id, *span))


def pending(session: Session, issuer_id: int, smap: SkillMap) -> bool:
    """Whether the issuer's spans need a rebuild (a read: no lock)."""
    if not current(session, smap):
        return True
    log_table = table_of(SkillSpanLog)
    first = select(log_table.c.id).where(log_table.c.issuer_id == issuer_id).limit(1)
    return session.execute(first).first() is not None


def current(session: Session, smap: SkillMap) -> bool:
    """Whether the stored spans were built with this skill map: until they are (a new
    database, or a release that changed the equivalences), the cloud scans every row."""
    state = table_of(SkillSpanState)
    stored = select(state.c.value).where(state.c.name == "skill_map")
    return session.execute(stored).scalar_one_or_none() == fingerprint(smap)


def named(issuer_id: int) -> Any:
    """The learners of the issuer whose spans are out of date (a subquery)."""
    log_table = table_of(SkillSpanLog)
    return select(log_table.c.learner_id).where(log_table.c.issuer_id == issuer_id)


def too_many(session: Session, issuer_id: int, smap: SkillMap, most: int) -> bool:
    """Whether a rebuild would be more than ``most`` learners (when everything is to be built:
    more than ``ROWS_PER_LEARNER`` × ``most`` alignment rows, counted no further)."""
    if not current(session, smap):
        bound = most * ROWS_PER_LEARNER
        some = select(table_of(CredentialSkill).c.id).limit(bound + 1).subquery()
        return int(session.execute(select(func.count()).select_from(some)).scalar_one()) > bound
    log_table = table_of(SkillSpanLog)
    named = select(func.count(log_table.c.learner_id.distinct())).where(
        log_table.c.issuer_id == issuer_id
    )
    return int(session.execute(named).scalar_one()) > most


def bring_up_to_date(
    engine: Engine, issuer_id: int, smap: SkillMap, wait: float = 2.0, most: int | None = None
) -> int:
    """``refresh`` rounds, each in a transaction of its own (so that SQLite's writers are not
    held up for the whole of a large rebuild), when there is anything to rebuild and (``most``)
    no more than that many learners: a request leaves a large rebuild (after an upload of
    thousands, or a new release's) to the workers' catch-up. Each round waits at most ``wait``
    seconds for SQLite's write lock; a failure is logged, not raised: readers are right without
    the rebuild, and the next one does it. Returns how many learners were rebuilt."""
    with Session(engine) as session:
        if not pending(session, issuer_id, smap):
            return 0
        if most is not None and too_many(session, issuer_id, smap, most):
            return 0
    sqlite = engine.dialect.name == "sqlite"
    total = 0
    try:
        with writer(engine).connect() as connection:
            raw = connection.connection.dbapi_connection
            if sqlite and raw is not None:  # no transaction yet: SQLite takes it at once
                raw.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            try:
                with Session(bind=connection) as session:
                    while True:
                        count = refresh(session, issuer_id, smap)
                        session.commit()
                        total += count
                        if count < CHUNK:
                            break
            finally:
                if sqlite and raw is not None:
                    raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except OperationalError as exc:
        log.info("skill spans of issuer %s not rebuilt now: %s", issuer_id, exc)
    if total >= ANALYZE_AFTER and most is None and not sqlite:  # a worker's, not a request's
        _vacuum(engine)
    return total


def _vacuum(engine: Engine) -> None:
    """After a large rebuild (PostgreSQL): the replaced row versions made reusable and the
    planner's figures brought up to date at once, not when autovacuum comes by (outside a
    transaction, as VACUUM must be)."""
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) skill_span, skill_span_day, skill_span_log"))
    except DBAPIError as exc:  # a role that does not own the tables, a lock not granted
        log.info("skill spans not vacuumed: %s", exc)


def catch_up(engine: Engine, smap: SkillMap | None = None) -> int:
    """Rebuild the spans of every issuer with learners in the log (run by the workers' periodic
    catch-up, so that the log stays short even when no one looks at a cloud); returns how many
    learners."""
    from issuer.skills.equivalence import bundled

    smap = smap or bundled()
    with Session(engine) as session:
        source = table_of(SkillSpanLog if current(session, smap) else CredentialSkill)
        issuers = list(session.execute(select(source.c.issuer_id).distinct()).scalars())
    return sum(bring_up_to_date(engine, issuer_id, smap) for issuer_id in issuers)
