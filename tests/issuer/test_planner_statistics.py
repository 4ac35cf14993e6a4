"""A run of bulk steps keeps PostgreSQL's planner statistics of the tables it grows up to date,
so that the steps' lookups keep using their indexes as the tables fill
(``issuer.core.db.Statistics``). Without them a new deployment's first large upload looked up
each step's idempotency keys by reading every credential of the issuer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from issuer import cli
from issuer.context import Services
from issuer.core.db import Statistics, statistics_warnings
from issuer.issuing import bulk, issuance, jobs
from tests.issuer.conftest import issue_body, make_issuer


def _postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's planner statistics")


def _analyzed(services: Services, tables: tuple[str, ...]) -> dict[str, int]:
    """How often each table was analyzed by a statement (autovacuum's own runs not counted)."""
    with Session(services.engine) as session:
        session.execute(text("SELECT pg_stat_clear_snapshot()"))
        rows = session.execute(
            text(
                "SELECT relname, analyze_count FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema() AND relname = ANY(:tables)"
            ),
            {"tables": list(tables)},
        ).all()
    return {name: int(count) for name, count in rows}


def test_a_job_analyzes_the_tables_its_steps_grow(
    client: TestClient, services: Services, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgres_only(database_url)
    monkeypatch.setattr(bulk, "ANALYZE_FROM", 100)  # the job's first step of 250 is enough
    tables = (*bulk.GROWN_BY_STEPS, "bulk_job_row")
    make_issuer(services, client, "alpha")
    before = _analyzed(services, tables)
    from issuer.effects import work

    with work(services) as db:
        job = jobs.submit(
            db,
            services,
            "alpha",
            [issue_body(f"learner{n}@example.org") for n in range(jobs.SYNC_ROWS + 40)],
            "test",
        ).id
    assert jobs.run(services, job) == "done"
    after = _analyzed(services, tables)
    assert set(after) == set(tables)
    assert all(after[t] > before.get(t, 0) for t in tables), (before, after)
    with Session(services.engine) as session:
        counted = session.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST('credential' AS regclass)")
        ).scalar_one()
    assert counted >= 250  # counted after the first step at the latest


def test_counting_waits_until_the_run_has_about_doubled_the_table(
    client: TestClient, services: Services, database_url: str
) -> None:
    _postgres_only(database_url)
    make_issuer(services, client, "alpha")
    with Session(services.engine) as session:
        session.execute(text("CREATE TABLE grown (n integer)"))
        session.execute(text("INSERT INTO grown SELECT generate_series(1, 5000)"))
        session.execute(text("ANALYZE grown"))
        session.commit()
        planner = Statistics(["grown"], gauge="grown", first=1000)
        assert not planner.grew(session, 400)
        assert planner.due is None  # a run still below ``first`` does not even read the size
        planner.added = 0
        session.execute(text("INSERT INTO grown SELECT generate_series(1, 3000)"))
        session.commit()
        assert not planner.grew(session, 3000)  # 3,000 added to 5,000 counted
        session.execute(text("INSERT INTO grown SELECT generate_series(1, 2000)"))
        session.commit()
        assert planner.grew(session, 2000)  # 5,000 added: counted again
        assert planner.due == pytest.approx(10_000, rel=0.05)
        assert not planner.grew(session, 1000)


def test_a_failed_count_is_logged_and_the_run_goes_on(
    client: TestClient, services: Services, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _postgres_only(database_url)
    with Session(services.engine) as session:
        planner = Statistics(["no_such_table"], gauge="credential", first=10)
        assert not planner.grew(session, 1000)
        assert session.execute(text("SELECT count(*) FROM credential")).scalar_one() == 0
        assert not planner.grew(session, 10**6)  # not tried again in this run
    logged = [r.getMessage() for r in caplog.records if "not gathered" in r.getMessage()]
    assert len(logged) == 1 and "no_such_table" in logged[0], logged


def test_nothing_is_counted_on_sqlite(services: Services, database_url: str) -> None:
    if database_url.startswith("postgresql"):
        pytest.skip("SQLite")
    with Session(services.engine) as session:
        assert not Statistics(["credential"], gauge="credential").grew(session, 10**6)


def test_a_steps_key_lookup_probes_the_unique_index_once_counted(
    client: TestClient, services: Services, database_url: str
) -> None:
    """At 20,000 credentials, counted, the lookup of a step's 1,000 keys uses the unique index of
    issuer and key (before: a bitmap scan of every credential of the issuer, filtered by key)."""
    _postgres_only(database_url)
    headers = make_issuer(services, client, "alpha")
    issued = client.post(
        "/api/v1/issuers/alpha/credentials", json=issue_body("one@example.org"), headers=headers
    )
    assert issued.status_code == 201, issued.text
    with Session(services.engine) as session:
        session.execute(
            text(
                "INSERT INTO credential (id, issuer_id, achievement_id, learner_id, "
                "idempotency_key, request_hash, status_list_id, status_index, document, issued_at) "
                "SELECT md5(random()::text || n), issuer_id, achievement_id, learner_id, "
                "'copy:' || n, request_hash, status_list_id, status_index + n, document, issued_at "
                "FROM credential, generate_series(1, 20000) AS n"
            )
        )
        session.commit()
        assert bulk.statistics().grew(session, 20000)
        issuer = session.execute(text("SELECT id FROM issuer WHERE slug = 'alpha'")).scalar_one()
        keys = [f"row:{n:064x}" for n in range(1000)] + ["copy:17"]
        compiled = issuance.by_keys(session, issuer, keys).compile(
            dialect=session.get_bind().dialect
        )
        plan = (
            session.connection()
            .exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), dict(compiled.params))
            .scalar_one()
        )
        found = list(session.exec(issuance.by_keys(session, issuer, keys)))
    assert [c.idempotency_key for c in found] == ["copy:17"]
    indexes: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Index Name" in node:
            indexes.append(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    assert indexes == ["credential_issuer_id_idempotency_key_key"], indexes


def test_issuing_rows_in_steps_counts_too(
    client: TestClient, services: Services, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The direct path (``laurel issue --csv``) runs the same steps."""
    _postgres_only(database_url)
    monkeypatch.setattr(bulk, "ANALYZE_FROM", 100)
    make_issuer(services, client, "alpha")
    before = _analyzed(services, ("credential",))
    with Session(services.engine) as session:
        report = bulk.issue_rows(
            session,
            services,
            "alpha",
            [issue_body(f"direct{n}@example.org") for n in range(300)],
            "test",
        )
    assert report["summary"]["issued"] == 300
    assert _analyzed(services, ("credential",))["credential"] > before.get("credential", 0)


def _server_setting(services: Services, name: str) -> str:
    with Session(services.engine) as session:
        return str(session.execute(text(f"SHOW {name}")).scalar_one())


def test_serve_and_worker_warn_when_tables_keep_no_statistics(
    client: TestClient,
    services: Services,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _postgres_only(database_url)
    server_off = _server_setting(services, "autovacuum") != "on"
    assert any("autovacuum is off" in w for w in statistics_warnings(services.engine)) == server_off
    assert not any("turned off for" in w for w in statistics_warnings(services.engine))

    with Session(services.engine) as session:  # this test's own schema
        session.execute(text("ALTER TABLE credential SET (autovacuum_enabled = false)"))
        session.execute(text("ALTER TABLE learner SET (autovacuum_enabled = false)"))
        session.commit()
    tables = [w for w in statistics_warnings(services.engine) if "turned off for" in w]
    assert tables == [
        "autovacuum is turned off for credential, learner: tables it does not analyze keep no "
        "planner statistics, and statements on them may read whole tables as they grow; turn it "
        'on (docs/operations.md, "Databases")'
    ]
    cli._warn_about_statistics(services)
    printed = capsys.readouterr().err.splitlines()
    assert "laurel: warning: autovacuum is turned off for credential, learner: " in printed[-1]
    assert len(printed) == 1 + server_off

    with Session(services.engine) as session:
        session.execute(text("ALTER TABLE credential RESET (autovacuum_enabled)"))
        session.execute(text("ALTER TABLE learner SET (autovacuum_enabled = true)"))
        session.commit()
    assert not any("turned off for" in w for w in statistics_warnings(services.engine))


def test_no_statistics_warning_on_sqlite(services: Services, database_url: str) -> None:
    if database_url.startswith("postgresql"):
        pytest.skip("SQLite")
    assert statistics_warnings(services.engine) == []
