"""Skill spans (``issuer.skills.spans``): the organisation cloud, its roll-up and its population
from the maintained spans equal the scan of every alignment row, at any time, for a group or a
roster, before and after a rebuild, whatever changes the rows (revocation, deletion, raw SQL)."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, text, update
from sqlmodel import Session

from issuer.context import Services
from issuer.core.db import migrate, writer
from issuer.models import (
    Achievement,
    Credential,
    CredentialSkill,
    Issuer,
    Learner,
    LearnerGroup,
    SkillSpan,
    SkillSpanDay,
    SkillSpanLog,
    SkillSpanState,
    StatusList,
)
from issuer.models.base import table_of
from issuer.skills import cloud, spans
from issuer.skills.equivalence import bundled
from issuer.skills.spans import fingerprint

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
CODES = [
    ("ecq", "ECQ1-1"),
    ("ai-competency", "creativity-and-innovation"),  # the same skill as ECQ1-1
    ("ecq", "ECQ1-2"),
    ("ai-competency", "external-awareness"),  # the same skill as ECQ1-2
    ("ecq", "ECQ1"),  # the parent of both
    ("ecq", "ECQ2-1"),
    ("custom", "welding"),  # in no framework of the catalogue
]
TIMES = [NOW, NOW - timedelta(days=200), NOW - timedelta(days=800), NOW + timedelta(days=400)]
HOUR, YEAR = timedelta(hours=1), timedelta(days=365)
EDGES = [
    (NOW - 2 * HOUR, None, None),  # issued earlier on the day of NOW
    (NOW + 2 * HOUR, None, None),  # later that day
    (NOW - 9 * HOUR, None, None),  # at midnight
    (NOW - 900 * 24 * HOUR, NOW + HOUR, None),  # expires later on the day
    (NOW - 900 * 24 * HOUR, None, NOW - HOUR),  # revoked earlier on the day
    (NOW - 900 * 24 * HOUR, NOW, None),  # expires at NOW exactly
    (NOW - YEAR - HOUR, None, None),  # the same a year before
    (NOW - YEAR + HOUR, None, None),
    (NOW - 900 * 24 * HOUR, NOW - YEAR + HOUR, None),
    (NOW - 900 * 24 * HOUR, None, NOW - YEAR - HOUR),
    (NOW - 2 * HOUR, NOW - HOUR, None),  # starts and ends the same day
]


def _name(key: tuple[str, str]) -> str:
    framework, code = bundled().canon(key)
    return f"{framework}/{code}"


@pytest.fixture
def world(services: Services) -> Iterator[tuple[Services, int]]:
    migrate(services.engine)
    with Session(services.engine) as session:
        issuer = Issuer(slug="spans", did="did:web:spans.example.org", name="Spans")
        session.add(issuer)
        session.flush()
        assert issuer.id is not None
        issuer_id = issuer.id
        achievement = Achievement(issuer_id=issuer.id, key="course", data={})
        status = StatusList(issuer_id=issuer.id, size=131072, next_index=0, bits=b"")
        session.add_all([achievement, status])
        learners = [Learner(subject_id=f"urn:uuid:{uuid.uuid4()}") for _ in range(24)]
        session.add_all(learners)
        session.flush()
        for learner in learners[:10]:
            session.add(LearnerGroup(issuer_id=issuer.id, learner_id=learner.id, name="sales"))  # type: ignore[arg-type]
        rng = random.Random(18)
        for n in range(160):
            learner = rng.choice(learners)
            issued = NOW - timedelta(days=rng.randint(0, 1400), hours=rng.randint(0, 23))
            until = issued + timedelta(days=rng.randint(30, 900)) if rng.random() < 0.25 else None
            revoked = issued + timedelta(days=rng.randint(0, 700)) if rng.random() < 0.15 else None
            if rng.random() < 0.03:
                revoked = issued  # never valid
            if n < len(EDGES):  # times on the very day of a time looked at, either side of it
                issued, until, revoked = EDGES[n]
            credential = Credential(
                id=str(uuid.UUID(int=n + 1)),
                issuer_id=issuer.id,
                achievement_id=achievement.id,  # type: ignore[arg-type]
                learner_id=learner.id,  # type: ignore[arg-type]
                request_hash="x",
                status_list_id=status.id,  # type: ignore[arg-type]
                status_index=n,
                document={},
                issued_at=issued,
                valid_until=until,
                revoked_at=revoked,
            )
            session.add(credential)
            session.flush()
            keys = rng.sample(CODES, rng.randint(1, 4))
            if rng.random() < 0.05:
                keys.append(("custom", "welding"))  # the same plain code twice: both count
            for framework, code in keys:
                session.add(
                    CredentialSkill(
                        credential_id=credential.id,
                        issuer_id=issuer.id,
                        learner_id=learner.id,  # type: ignore[arg-type]
                        framework=framework,
                        code=code,
                        name=_name((framework, code)),
                        base_weight=1.0,
                        scaled_weight=rng.choice([0.5, 1.25, 2.0, 3.5]),
                        issued_at=issued,
                        valid_until=until,
                        revoked_at=revoked,
                    )
                )
        session.commit()
    # yielded outside the session: a read of the expired issuer would open a transaction that
    # held the issuer table while a test migrates (dropping a table with a foreign key to it
    # then waits for ever on PostgreSQL)
    yield services, issuer_id


def _views(session: Session, issuer: Issuer) -> list[Any]:
    members = select(LearnerGroup.learner_id).where(LearnerGroup.name == "sales")  # type: ignore[call-overload]
    roster = [row[0] for row in session.execute(members)][:6]
    views: list[Any] = []
    for at in TIMES:
        views.append(cloud.organisation_cloud(session, issuer, at))
        views.append(cloud.organisation_cloud(session, issuer, at, rollup=True))
        views.append(cloud.organisation_cloud(session, issuer, at, group="sales"))
        views.append(cloud.organisation_cloud(session, issuer, at, learners=roster, rollup=True))
        views.append(cloud.population(session, issuer, None, at))
    return views


def _same(found: Any, expected: Any) -> None:
    """Equal, weights to the third decimal (sums taken in another order)."""
    if isinstance(expected, dict):
        assert found.keys() == expected.keys()
        for key, value in expected.items():
            if key == "weight":
                assert found[key] == pytest.approx(value, abs=2e-3)
            else:
                _same(found[key], value)
    elif isinstance(expected, list):
        assert len(found) == len(expected)
        for one, other in zip(found, expected, strict=True):
            _same(one, other)
    else:
        assert found == expected


def _scanned(session: Session, issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    with monkeypatch.context() as patch:
        patch.setattr(spans, "current", lambda *_: False)
        return _views(session, issuer)


def _count(session: Session, model: Any) -> int:
    return int(session.execute(select(func.count()).select_from(table_of(model))).scalar_one())


def test_spans_give_the_scanned_cloud(
    world: tuple[Services, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, issuer_id = world
    smap = bundled()
    with Session(services.engine) as session:
        issuer = session.get(Issuer, issuer_id)
        assert issuer is not None
        expected = _scanned(session, issuer, monkeypatch)
        assert not spans.current(session, smap)
        assert expected[0] and expected[1]  # a cloud and a roll-up to compare
        assert _views(session, issuer) == expected  # nothing built yet: the scan itself
    assert spans.bring_up_to_date(services.engine, issuer_id, smap) == 24
    with Session(services.engine) as session:
        assert spans.current(session, smap)
        assert _count(session, SkillSpanLog) == 0
        assert _count(session, SkillSpan) > 0
        _same(_views(session, issuer), expected)
    assert spans.bring_up_to_date(services.engine, issuer_id, smap) == 0  # nothing to do


def test_changes_are_seen_before_and_after_the_rebuild(
    world: tuple[Services, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, issuer_id = world
    smap = bundled()
    spans.bring_up_to_date(services.engine, issuer_id, smap)
    skills = table_of(CredentialSkill)
    with Session(services.engine) as session:
        chosen = session.execute(
            select(skills.c.credential_id, skills.c.learner_id).where(skills.c.revoked_at.is_(None))
        ).first()
        assert chosen is not None
        credential_id, learner_id = chosen
        # A revocation (the same UPDATE revoke() runs), a deletion and a row written by hand.
        session.execute(
            update(skills)
            .where(skills.c.credential_id == credential_id)
            .values(revoked_at=NOW - timedelta(days=3))
        )
        session.execute(delete(skills).where(skills.c.learner_id == learner_id + 1))
        session.execute(
            insert(skills).values(
                credential_id=credential_id,
                issuer_id=issuer_id,
                learner_id=learner_id,
                framework="custom",
                code="welding",
                name="custom/welding",
                base_weight=1.0,
                scaled_weight=7.0,
                issued_at=NOW - timedelta(days=500),
            )
        )
        session.commit()
    with Session(services.engine) as session:
        issuer = session.get(Issuer, issuer_id)
        assert issuer is not None
        named = {row[0] for row in session.execute(spans.named(issuer_id))}
        assert named == {learner_id, learner_id + 1}
        expected = _scanned(session, issuer, monkeypatch)
        _same(_views(session, issuer), expected)  # stale spans, named learners scanned
    assert spans.bring_up_to_date(services.engine, issuer_id, smap) == 2
    with Session(services.engine) as session:
        _same(_views(session, issuer), expected)
        days = table_of(SkillSpanDay)
        empty = select(func.count()).where(days.c.learners == 0, days.c.weight == 0)
        assert session.execute(empty).scalar_one() == 0  # days that cancel out are dropped


def test_a_changed_skill_map_rebuilds_every_span(world: tuple[Services, int]) -> None:
    services, issuer_id = world
    smap = bundled()
    spans.bring_up_to_date(services.engine, issuer_id, smap)
    state = table_of(SkillSpanState)
    with Session(services.engine) as session:
        session.execute(update(state).values(value="an older map"))
        session.commit()
        assert not spans.current(session, smap)
    assert spans.bring_up_to_date(services.engine, issuer_id, smap) == 24
    with Session(services.engine) as session:
        assert spans.current(session, smap)


def test_the_http_cloud_rebuilds_first(
    world: tuple[Services, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, issuer_id = world
    with Session(services.engine) as session:
        issuer = session.get(Issuer, issuer_id)
        assert issuer is not None
        expected = cloud.cloud_report(session, services, issuer)
    with Session(services.engine) as session:  # SQLite: a snapshot taken after the rebuild
        assert spans.current(session, bundled())
        assert _count(session, SkillSpanLog) == 0
        issuer = session.get(Issuer, issuer_id)
        assert issuer is not None
        assert cloud.cloud_report(session, services, issuer) == expected
        with monkeypatch.context() as patch:
            patch.setattr(spans, "current", lambda *_: False)
            scanned = cloud.cloud_report(session, services, issuer)
    _same(expected, scanned)


def test_migration_0016_goes_down_and_up(world: tuple[Services, int]) -> None:
    services, issuer_id = world
    spans.bring_up_to_date(services.engine, issuer_id, bundled())
    migrate(services.engine, "0015", down=True)
    migrate(services.engine)
    with Session(services.engine) as session:
        assert _count(session, SkillSpan) == 0
        assert not spans.current(session, bundled())
        session.execute(update(table_of(CredentialSkill)).values(name="renamed"))
        session.commit()
        assert _count(session, SkillSpanLog) > 0  # the triggers are back


moments = st.integers(min_value=0, max_value=40).map(lambda d: NOW + timedelta(days=d))
parts = st.lists(
    st.tuples(
        moments,
        st.one_of(st.none(), moments),
        st.sampled_from([0.0, 0.5, 1.25, 3.0]),
        st.sampled_from(["a", "b", "c"]),
    ).filter(lambda p: p[1] is None or p[1] > p[0]),
    max_size=6,
)


@given(parts, moments)
def test_segments_hold_exactly_the_valid_parts_at_any_time(
    shares: list[spans.Part], at: datetime
) -> None:
    pieces = list(spans.segments(shares))
    live = [p for p in shares if p[0] <= at and (p[1] is None or p[1] > at)]
    containing = [s for s in pieces if s[0] <= at and (s[1] is None or s[1] > at)]
    assert len(containing) == (1 if live else 0)  # no overlap, no gap while something counts
    if live:
        assert containing[0][2] == pytest.approx(sum(p[2] for p in live))
        assert containing[0][3] == max(p[3] for p in live)


@given(parts, moments)
def test_held_pieces_cover_exactly_the_times_something_is_valid(
    shares: list[spans.Part], at: datetime
) -> None:
    if not shares:
        return
    pieces = list(spans.held(shares))
    live = [p for p in shares if p[0] <= at and (p[1] is None or p[1] > at)]
    containing = [s for s in pieces if s[0] <= at and (s[1] is None or s[1] > at)]
    assert len(containing) == (1 if live else 0)
    assert all(a[1] is not None and a[1] < b[0] for a, b in itertools.pairwise(pieces))


def test_equivalent_codes_of_one_credential_count_once_with_the_largest_weight() -> None:
    issued = NOW - timedelta(days=10)
    rows: list[spans.Row] = [
        ("c1", 1, "ecq", "ECQ1-1", "Creativity", 1.0, issued, None, None),
        (
            "c1",
            1,
            "ai-competency",
            "creativity-and-innovation",
            "creativity",
            2.0,
            issued,
            None,
            None,
        ),
        ("c1", 1, "custom", "welding", "Welding", 1.0, issued, None, None),
        ("c1", 1, "custom", "welding", "Welding", 1.0, issued, None, None),
    ]
    built = {(s.kind, s.framework, s.code): s for s in spans.build(rows, bundled())}
    assert built[("skill", "ecq", "ECQ1-1")].weight == 2.0
    assert built[("skill", "ecq", "ECQ1-1")].name == "creativity"
    assert built[("skill", "custom", "welding")].weight == 2.0
    assert built[("rollup", "ecq", "ECQ1")].weight == 2.0
    assert built[("any", "", "")].starts_at == issued
    assert ("skill", "ai-competency", "creativity-and-innovation") not in built


def test_the_workers_catch_up_rebuilds_what_the_log_names(world: tuple[Services, int]) -> None:
    from issuer.worker import catch_up

    services, _ = world
    catch_up(services)  # the first time: everything, the skill map being new
    with Session(services.engine) as session:
        assert spans.current(session, bundled())
        assert _count(session, SkillSpanLog) == 0
        session.execute(update(table_of(CredentialSkill)).values(revoked_at=NOW))
        session.commit()
        assert _count(session, SkillSpanLog) > 0
    assert spans.catch_up(services.engine) == 24
    with Session(services.engine) as session:
        assert _count(session, SkillSpanLog) == 0


def test_a_rebuild_under_way_is_not_waited_for(world: tuple[Services, int]) -> None:
    """A cloud request does not queue behind a long rebuild (PostgreSQL: another holds the
    issuer's rebuild lock) or a writer (SQLite: the write lock, waited for ``wait`` seconds)."""
    services, issuer_id = world
    smap = bundled()
    spans.bring_up_to_date(services.engine, issuer_id, smap)  # the map's first build done
    with Session(services.engine) as session:
        session.execute(update(table_of(CredentialSkill)).values(revoked_at=NOW))
        session.commit()
    with Session(writer(services.engine)) as holder:
        if services.engine.dialect.name == "postgresql":
            holder.execute(select(func.pg_advisory_xact_lock(spans.lock_key(issuer_id))))
        else:
            holder.execute(update(table_of(SkillSpanState)).values(value=fingerprint(smap)))
        assert spans.bring_up_to_date(services.engine, issuer_id, smap, wait=0.2) == 0
        holder.rollback()
    assert spans.bring_up_to_date(services.engine, issuer_id, smap) == 24


def test_a_rebuild_of_everything_and_an_issuers_rebuild_exclude_each_other(
    world: tuple[Services, int],
) -> None:
    """PostgreSQL: the rebuild of everything (a changed skill map) drops every span, so it runs
    only when no issuer's rebuild is writing some (they hold key 0 shared), and theirs wait for
    it to end (they skip while it holds key 0 alone)."""
    services, issuer_id = world
    if services.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks: PostgreSQL")
    smap = bundled()
    lock = select(func.pg_advisory_xact_lock(spans.lock_key(0)))
    shared = select(func.pg_advisory_xact_lock_shared(spans.lock_key(0)))
    with Session(services.engine) as holder:  # the map has never been built: everything
        holder.execute(shared)
        assert spans.bring_up_to_date(services.engine, issuer_id, smap, wait=0.2) == 0
        holder.rollback()
        holder.execute(lock)
        assert spans.bring_up_to_date(services.engine, issuer_id, smap, wait=0.2) == 0
        holder.rollback()
    assert spans.bring_up_to_date(services.engine, issuer_id, smap) == 24
    with Session(services.engine) as session:
        session.execute(update(table_of(CredentialSkill)).values(revoked_at=NOW))
        session.commit()
    with Session(services.engine) as holder:  # the map is current: an issuer's rebuild
        holder.execute(lock)
        assert spans.bring_up_to_date(services.engine, issuer_id, smap, wait=0.2) == 0
        holder.rollback()
        holder.execute(shared)  # shared with another issuer's: runs
        assert spans.bring_up_to_date(services.engine, issuer_id, smap, wait=0.2) == 24
        holder.rollback()


def test_a_request_leaves_a_large_rebuild_to_the_workers(world: tuple[Services, int]) -> None:
    services, issuer_id = world
    smap = bundled()
    with Session(services.engine) as session:  # nothing built yet: ~400 alignment rows
        assert spans.too_many(session, issuer_id, smap, 10)  # 200 rows at most
        assert not spans.too_many(session, issuer_id, smap, 100)
    assert spans.bring_up_to_date(services.engine, issuer_id, smap, most=10) == 0
    assert spans.bring_up_to_date(services.engine, issuer_id, smap, most=100) == 24
    with Session(services.engine) as session:
        session.execute(update(table_of(CredentialSkill)).values(revoked_at=NOW))
        session.commit()
        assert spans.too_many(session, issuer_id, smap, 23)
        assert not spans.too_many(session, issuer_id, smap, 24)
    assert spans.bring_up_to_date(services.engine, issuer_id, smap, most=23) == 0
    assert spans.catch_up(services.engine) == 24


def test_a_large_rebuild_runs_in_rounds(
    world: tuple[Services, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: each round of ``CHUNK`` learners commits on its own (other writers go in
    between); PostgreSQL: one transaction, built ``CHUNK`` learners at a time."""
    services, issuer_id = world
    with Session(services.engine) as session:
        issuer = session.get(Issuer, issuer_id)
        assert issuer is not None
        expected = _scanned(session, issuer, monkeypatch)
    monkeypatch.setattr(spans, "CHUNK", 5)
    monkeypatch.setattr(spans, "ANALYZE_AFTER", 20)
    commits: list[int] = []
    original = spans.refresh

    def counted(*arguments: Any) -> int:
        commits.append(original(*arguments))
        return commits[-1]

    monkeypatch.setattr(spans, "refresh", counted)
    assert spans.bring_up_to_date(services.engine, issuer_id, bundled()) == 24
    if services.engine.dialect.name == "sqlite":
        assert commits == [5, 5, 5, 5, 4]
    else:  # one transaction, built five learners at a time, then VACUUM (ANALYZE)
        assert commits == [24, 0]
        with services.engine.connect() as connection:
            vacuumed = text(
                "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL "
                "FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                "AND relname = 'skill_span_day'"
            )
            assert connection.execute(vacuumed).scalar_one()
    with Session(services.engine) as session:
        assert _count(session, SkillSpanLog) == 0
        issuer = session.get(Issuer, issuer_id)
        assert issuer is not None
        _same(_views(session, issuer), expected)
