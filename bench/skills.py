"""Skills at scale on PostgreSQL: a plain scan of the alignment rows, the organisation cloud, a
learner profile and team formation, all measured in the same run.

    python bench/skills.py [--learners 100000] [--credentials 1000000] [--postgres URL]
        [--keep SCHEMA]

Generates an issuer, learners and credentials (small documents; the skills cloud reads the
``credential_skill`` rows, one to three per credential, aligned to the ECQ and AI frameworks) with
COPY, then prints each timing: the cloud scanning every row, the skill spans built from nothing
(``issuer.skills.spans``), the cloud from them (warm, compared with the scan at the same time),
the roll-up and the population, and the cloud's ratio to the plain scan (goal: within 3x).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import psycopg
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from issuer.core.db import make_engine, migrate
from issuer.models import Issuer
from issuer.skills import spans
from issuer.skills.cloud import level, organisation_cloud, population, profiles
from issuer.skills.equivalence import bundled
from issuer.skills.teams import smallest_team
from issuer.skills.weights import scaled_weight

DEFAULT_POSTGRES = "postgresql+psycopg://root@127.0.0.1:5432/test"
LIST_SIZE = 131_072
T = TypeVar("T")
SKILLS = [("ecq", f"ECQ{q}-{c}") for q in range(1, 6) for c in range(1, 5)] + [
    ("ai-competency", f"ai-{n}") for n in range(1, 31)
]


def generate(engine: Engine, learners: int, credentials: int) -> int:
    """An issuer with ``learners`` (each in one of 20 departments) and ``credentials`` of 1-3
    alignments each, issued over four years; 2% revoked, 5% expired."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        issuer_id = connection.execute(
            text(
                "INSERT INTO issuer (slug, did, name, created_at) VALUES ('bench', 'did:web:b', "
                "'Bench', now()) RETURNING id"
            )
        ).scalar_one()
        achievement_id = connection.execute(
            text(
                "INSERT INTO achievement (issuer_id, key, data, design, created_at, updated_at) "
                "VALUES (:i, 'course', '{}', '{}', now(), now()) RETURNING id"
            ),
            {"i": issuer_id},
        ).scalar_one()
        lists = [
            connection.execute(
                text(
                    "INSERT INTO status_list (issuer_id, purpose, size, next_index, bits, "
                    "version, updated_at) VALUES (:i, 'revocation', 131072, 131072, '', 0, "
                    "now()) RETURNING id"
                ),
                {"i": issuer_id},
            ).scalar_one()
            for _ in range(credentials // LIST_SIZE + 1)
        ]
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, psycopg.Connection)
        with raw.cursor() as cursor:
            with cursor.copy("COPY learner (id, subject_id, created_at) FROM STDIN") as copy:
                for n in range(1, learners + 1):
                    copy.write_row([n, f"urn:uuid:{uuid.UUID(int=n)}", now])
            with cursor.copy(
                "COPY learner_email (learner_id, email, verified, is_primary, "
                "created_at) FROM STDIN"
            ) as copy:
                for n in range(1, learners + 1):
                    copy.write_row([n, f"l{n}@example.org", False, True, now])
            with cursor.copy(
                "COPY learner_group (issuer_id, learner_id, name, created_at) FROM STDIN"
            ) as copy:
                for n in range(1, learners + 1):
                    copy.write_row([issuer_id, n, f"department-{n % 20}", now])
            credential_rows, skill_rows = [], []
            for n in range(credentials):
                credential_id = str(uuid.UUID(int=n + 1))
                learner = rng.randint(1, learners)
                issued = now - timedelta(days=rng.randint(0, 1500), seconds=rng.randint(0, 86399))
                revoked = issued + timedelta(days=30) if rng.random() < 0.02 else None
                until = issued + timedelta(days=365) if rng.random() < 0.05 else None
                credential_rows.append(
                    [
                        credential_id,
                        issuer_id,
                        achievement_id,
                        learner,
                        "x",
                        lists[n // LIST_SIZE],
                        n % LIST_SIZE,
                        "{}",
                        issued,
                        until,
                        revoked,
                    ]
                )
                base = rng.choice([1.5, 2.5, 3.5])
                for framework, code in rng.sample(SKILLS, rng.randint(1, 3)):
                    skill_rows.append(
                        [
                            credential_id,
                            issuer_id,
                            learner,
                            framework,
                            code,
                            code,
                            base,
                            scaled_weight(base, issued),
                            issued,
                            until,
                            revoked,
                        ]
                    )
            with cursor.copy(
                "COPY credential (id, issuer_id, achievement_id, learner_id, request_hash, "
                "status_list_id, status_index, document, issued_at, valid_until, revoked_at) "
                "FROM STDIN"
            ) as copy:
                for row in credential_rows:
                    copy.write_row(row)
            with cursor.copy(
                "COPY credential_skill (credential_id, issuer_id, learner_id, framework, code, "
                "name, base_weight, scaled_weight, issued_at, valid_until, revoked_at) FROM STDIN"
            ) as copy:
                for row in skill_rows:
                    copy.write_row(row)
        connection.execute(text("ANALYZE"))
    return int(issuer_id)


def _same(cloud: list[dict[str, Any]], scanned: list[dict[str, Any]]) -> bool:
    """The same skills, learners and year-ago learners, weights to the third decimal."""

    def key(entry: dict[str, Any]) -> tuple[Any, ...]:
        return entry["code"], entry["learners"], entry["yearAgo"]["learners"]

    expected = {(e["framework"], e["code"]): e["weight"] for e in scanned}
    weights = [
        abs(e["weight"] - expected.get((e["framework"], e["code"]), -1)) <= 2e-3 for e in cloud
    ]
    return sorted(map(key, cloud)) == sorted(map(key, scanned)) and all(weights)


def warm(label: str, function: Callable[[], T], times: int = 5) -> tuple[T, float]:
    """Run once to warm the caches, then ``times`` more; print and return the median (and the
    fastest and slowest)."""
    result = function()
    runs = []
    for _ in range(times):
        start = time.perf_counter()
        result = function()
        runs.append(time.perf_counter() - start)
    middle = statistics.median(runs)
    print(
        f"{label:<44}{middle:>9.2f} s  (warm, median of {times}: {min(runs):.3f}–{max(runs):.3f})"
    )
    return result, middle


def timed(label: str, function: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - start
    print(f"{label:<44}{elapsed:>9.2f} s")
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--credentials", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--keep", metavar="SCHEMA", help="reuse (or create and keep) this schema")
    args = parser.parse_args()
    schema = args.keep or f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
        ).first()
        if not exists:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(f"{args.postgres}?options=-csearch_path%3D{schema}")
    try:
        migrate(engine)
        with Session(engine) as session:
            found = session.execute(text("SELECT id FROM issuer WHERE slug = 'bench'")).first()
        if found is None:
            issuer_id, _ = timed(
                f"generate {args.learners:,} learners, {args.credentials:,} credentials",
                lambda: generate(engine, args.learners, args.credentials),
            )
        else:
            issuer_id = found[0]
        measure(engine, issuer_id)
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def measure(engine: Engine, issuer_id: int) -> None:
    with Session(engine) as session:
        issuer = session.get(Issuer, issuer_id)
        assert issuer is not None
        rows = session.execute(
            text("SELECT count(*) FROM credential_skill WHERE issuer_id = :i"), {"i": issuer_id}
        ).scalar_one()
        print(f"{rows:,} alignment rows")
        _, scan = timed(
            "plain scan of the alignment rows (to Python)",
            lambda: session.execute(
                text(
                    "SELECT learner_id, framework, code, base_weight, issued_at "
                    "FROM credential_skill WHERE issuer_id = :i"
                ),
                {"i": issuer_id},
            ).all(),
        )
        _, db_scan = warm(
            "plain scan in the database (count, sum)",
            lambda: session.execute(
                text(
                    "SELECT count(*), sum(base_weight) FROM credential_skill WHERE issuer_id = :i"
                ),
                {"i": issuer_id},
            ).all(),
        )
        at = datetime.now(UTC)  # one time for both, so that they can be compared
        with mock.patch.object(spans, "current", return_value=False):
            scanned, took_scanned = warm(
                "organisation cloud scanning every row",
                lambda: organisation_cloud(session, issuer, at),
                times=3,
            )
        built, _ = timed(
            "skill spans built (first use after COPY)",
            lambda: spans.bring_up_to_date(engine, issuer_id, bundled()),
        )
        print(f"  {built:,} learners")
        session.commit()  # a new transaction that sees the spans
        cloud, took = warm(
            "organisation cloud (with a year ago)",
            lambda: organisation_cloud(session, issuer, at),
        )
        print(
            f"  cloud / scan: {took / scan:.2f}x (goal ≤ 3x); cloud / database scan: "
            f"{took / db_scan:.2f}x; scanning every row / cloud: {took_scanned / took:.1f}x; "
            f"{len(cloud)} skills, the same as scanned: {_same(cloud, scanned)}"
        )
        _, took_rollup = warm(
            "ECQ roll-up (with a year ago)",
            lambda: organisation_cloud(session, issuer, at, rollup=True),
        )
        _, took_population = warm(
            "population (learners holding a valid badge)",
            lambda: population(session, issuer, None, at),
        )
        print(f"  the cloud report's queries: {took + took_rollup + took_population:.2f} s")
        warm(
            "one department's cloud",
            lambda: organisation_cloud(session, issuer, group="department-3"),
        )
        warm("one learner's profile", lambda: profiles(session, issuer, learners=[4711]))
        people, _ = timed("all learner profiles", lambda: profiles(session, issuer))
        print(f"  {len(people):,} learners, {sum(map(len, people.values())):,} learner-skills")
        wanted = [code for _, code in SKILLS[:12]]
        pool = range(1, 10_001)
        chosen, _ = timed(
            "profiles for 12 skills over 10,000 learners",
            lambda: profiles(session, issuer, learners=pool, codes=wanted),
        )
    abilities = {
        learner: frozenset(code for (_, code), entry in skills.items() if level(entry.weight) >= 3)
        for learner, skills in chosen.items()
    }
    team, _ = timed(
        "team for 12 skills over 10,000 learners", lambda: smallest_team(abilities, wanted)
    )
    print(f"  team of {len(team.members)}, uncovered {list(team.uncovered)}, exact={team.exact}")


if __name__ == "__main__":
    main()
