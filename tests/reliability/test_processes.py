"""Real processes, real faults: workers killed with SIGKILL in the middle of a bulk job, two
`laurel serve` processes on one PostgreSQL racing on the same keys, revocations and awards.
Counted afterwards: credentials lost, duplicated or half-written (all zero), the audit chain."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.audit import verify_chain
from issuer.core.db import make_engine, migrate
from issuer.core.settings import Settings
from issuer.effects import work
from issuer.institutes.issuers import get_issuer
from issuer.issuing import jobs
from issuer.models import AuditEntry, BulkJob, Credential, CredentialSkill
from issuer.models.base import utcnow
from tests.databases import postgres_schema
from tests.issuer.conftest import ACHIEVEMENT
from tests.units import create_api_key, create_issuer, load_templates
from tests.web.conftest import free_port

LAUREL = shutil.which("laurel", path=str(Path(sys.executable).parent)) or "laurel"
PATIENCE = 180.0  # seconds a process may take to get somewhere before the test gives up


@dataclass
class World:
    url: str
    services: Services
    environment: dict[str, str]


def _environment(url: str, keys: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    return {
        **base,
        "LAUREL_DATABASE_URL": url,
        "LAUREL_KEYS_DIR": str(keys),
        "LAUREL_KEY_PASSPHRASE": "test-passphrase",
        "LAUREL_BASE_URL": "https://laurel.test",
        "LAUREL_JOB_LEASE_SECONDS": "2",
        "LAUREL_WORKER_HEARTBEAT_SECONDS": "0.5",
        "LAUREL_WORKER_STALLED_SECONDS": "2",
        "LAUREL_WORKER_TICK_SECONDS": "1",
        "LAUREL_BULK_STEP": "10",
        **extra,
    }


def _world(url: str, tmp_path: Path) -> World:
    environment = _environment(url, tmp_path / "keys")
    settings = Settings(
        database_url=url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url="https://laurel.test",
        bulk_step=10,
    )
    engine = make_engine(url)
    migrate(engine)
    services = Services.from_settings(settings, engine)
    create_issuer(services, slug="hrd", name="HRD Institute", did_method="key")
    return World(url, services, environment)


@pytest.fixture
def postgres_world(tmp_path: Path) -> Iterator[World]:
    with postgres_schema() as url:
        world = _world(url, tmp_path)
        try:
            yield world
        finally:
            world.services.engine.dispose()


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    world = _world(f"sqlite:///{tmp_path / 'laurel.db'}", tmp_path)
    yield world
    world.services.engine.dispose()


def _start(world: World, *arguments: str, **extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [LAUREL, *arguments],
        env={**world.environment, **extra},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def with_course(world: World) -> str:
    """Give ``hrd`` the course ``ACHIEVEMENT``; an API key that may issue it."""
    from issuer.issuing import achievements
    from issuer.schemas import AchievementIn

    with work(world.services) as db:
        achievements.save_achievement(
            db, get_issuer(db, "hrd"), AchievementIn.model_validate(ACHIEVEMENT)
        )
    return create_api_key(world.services, "hrd", ["issue"])


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(30)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            _kill(process)


def _job(world: World, job_id: str) -> BulkJob:
    with Session(world.services.engine) as session:
        job = session.get(BulkJob, job_id)
        assert job is not None
        return job


def _until(what: str, ready: Any, *processes: subprocess.Popen[bytes]) -> None:
    """Wait until ``ready()``; fail (naming ``what``) if a process died or patience ran out."""
    deadline = time.monotonic() + PATIENCE
    while not ready():
        for process in processes:
            assert process.poll() is None, f"a process exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def _submit(world: World, count: int) -> str:
    with work(world.services) as db:
        from issuer.issuing import achievements
        from issuer.schemas import AchievementIn

        achievements.save_achievement(
            db, get_issuer(db, "hrd"), AchievementIn.model_validate(ACHIEVEMENT)
        )
        rows = [
            {"recipient": {"email": f"k{n}@example.org"}, "achievement": "leading-people"}
            for n in range(count)
        ]
        return jobs.submit(db, world.services, "hrd", rows, "test").id


def _account(world: World, expected: int) -> None:
    """Every row issued exactly once, each credential whole, the audit chain intact."""
    with Session(world.services.engine) as session:
        credentials = list(session.exec(select(Credential)))
        skilled = set(session.exec(select(CredentialSkill.credential_id)))
        audited = {
            c["id"].removeprefix("urn:uuid:")
            for entry in session.exec(
                select(AuditEntry).where(AuditEntry.action == "credential.issue")
            )
            for c in entry.details["credentials"]
        }
        checked, problem = verify_chain(session)
    keys = [c.idempotency_key for c in credentials]
    slots = [(c.status_list_id, c.status_index) for c in credentials]
    lost = expected - len(set(keys))
    duplicated = len(keys) - len(set(keys))
    half_written = sum(1 for c in credentials if c.id not in skilled or c.id not in audited)
    assert (lost, duplicated, half_written) == (0, 0, 0)
    assert len(set(slots)) == len(slots)  # no status index used twice
    assert problem is None and checked > 0
    audit = subprocess.run(
        [LAUREL, "audit", "verify"], env=world.environment, capture_output=True, text=True
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr


def _kill_mid_job(world: World, job_id: str, first: subprocess.Popen[bytes]) -> int:
    total = _job(world, job_id).total
    _until("the first rows are issued", lambda: _job(world, job_id).issued > 0, first)
    _kill(first)
    done = _job(world, job_id).issued
    assert 0 < done < total, "the job must be killed in the middle"
    lease = _job(world, job_id).lease_until
    assert lease is not None
    while utcnow() <= lease:  # a killed worker's lease and heartbeat run out
        time.sleep(0.1)
    time.sleep(2.5)
    return done


def test_a_worker_killed_mid_job_is_resumed_by_another(postgres_world: World) -> None:
    """PostgreSQL: `laurel worker` (procrastinate) is SIGKILLed mid-job; a second worker
    notices the silent one, retries its job and finishes it."""
    world = postgres_world
    job_id = _submit(world, 1500)
    from issuer.worker.engine import ProcrastinateDispatcher

    dispatcher = ProcrastinateDispatcher(world.services)
    dispatcher.bulk(job_id)
    dispatcher.close()
    first = _start(world, "worker")
    try:
        _kill_mid_job(world, job_id, first)
    finally:
        _stop(first)
    second = _start(world, "worker")
    try:
        _until("the job is done", lambda: _job(world, job_id).status == "done", second)
    finally:
        _stop(second)
    job = _job(world, job_id)
    assert job.issued == 1500 and job.runs >= 2
    _account(world, 1500)


def test_a_server_killed_mid_job_resumes_it_on_restart(sqlite_world: World) -> None:
    """SQLite: `laurel serve` (its embedded worker) is SIGKILLed mid-job; started again, it
    resumes the job."""
    world = sqlite_world
    key = with_course(world)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(world, "serve", "--port", str(port))
    rows = [
        {"recipient": {"email": f"s{n}@example.org"}, "achievement": "leading-people"}
        for n in range(1200)
    ]
    try:
        _until("the server listens", lambda: _answers(f"{base}/healthz"), server)
        answer = httpx.post(
            f"{base}/api/v1/issuers/hrd/credentials/bulk",
            json=rows,
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        _kill_mid_job(world, job_id, server)
    finally:
        _stop(server)
    server = _start(world, "serve", "--port", str(port))
    try:
        _until("the job is done", lambda: _job(world, job_id).status == "done", server)
        report = httpx.get(
            f"{base}/api/v1/issuers/hrd/jobs/{job_id}?limit=1000",
            headers={"Authorization": f"Bearer {key}"},
        ).json()
    finally:
        _stop(server)
    assert report["summary"] == {"issued": 1200, "already issued": 0, "error": 0}
    assert len(report["rows"]) == 1000 and "next" in report
    _account(world, 1200)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_two_servers_on_one_database_agree(postgres_world: World) -> None:
    """Two `laurel serve` processes on one PostgreSQL: 40 concurrent requests with one
    Idempotency-Key issue one credential (the others get it back or a 409, never a 500);
    concurrent revocations of one credential succeed once; a learner completing a programme
    through both servers at once gets the certificate once."""
    world = postgres_world
    load_templates(world.services, "hrd")
    key = create_api_key(world.services, "hrd", ["issue", "revoke"])
    headers = {"Authorization": f"Bearer {key}"}
    ports = [free_port(), free_port()]
    servers = [_start(world, "serve", "--port", str(p)) for p in ports]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for base in bases:
            _until("both servers listen", lambda b=base: _answers(f"{b}/healthz"), *servers)
        body = {"recipient": {"email": "dup@example.org"}, "achievement": "emotional-intelligence"}
        with httpx.Client(timeout=120) as client, ThreadPoolExecutor(16) as pool:

            def duplicate(n: int) -> httpx.Response:
                return client.post(
                    f"{bases[n % 2]}/api/v1/issuers/hrd/credentials",
                    json=body,
                    headers={**headers, "Idempotency-Key": "one-and-only"},
                )

            answers = list(pool.map(duplicate, range(40)))
            assert {a.status_code for a in answers} <= {200, 201, 409}, [
                a.text for a in answers if a.status_code >= 500
            ]
            ids = {a.json()["id"] for a in answers if a.status_code in (200, 201)}
            assert len(ids) == 1 and sum(a.status_code == 201 for a in answers) == 1
            credential = ids.pop().removeprefix("urn:uuid:")

            def revoke(n: int) -> httpx.Response:
                return client.post(
                    f"{bases[n % 2]}/api/v1/credentials/{credential}/revoke",
                    json={"reason": "issued by mistake"},
                    headers=headers,
                )

            revocations = list(pool.map(revoke, range(10)))
            assert sorted(r.status_code for r in revocations) == [200] + [409] * 9

            courses = [
                "leadership-skills-for-non-supervisors",
                "emotional-intelligence",
                "leading-through-change",
                "innovation-in-government",
                "accountability-for-results",
            ]

            def course(n: int) -> httpx.Response:
                return client.post(
                    f"{bases[n % 2]}/api/v1/issuers/hrd/credentials",
                    json={"recipient": {"email": "lee@example.org"}, "achievement": courses[n]},
                    headers=headers,
                )

            assert [a.status_code for a in pool.map(course, range(5))] == [201] * 5

        def awarded() -> int:
            with Session(world.services.engine) as session:
                return len(
                    list(
                        session.exec(
                            select(Credential).where(
                                col(Credential.idempotency_key).like("program:%")
                            )
                        )
                    )
                )

        _until("the certificate is awarded", lambda: awarded() >= 1, *servers)
        time.sleep(1)  # let any second (wrong) award show itself
        assert awarded() == 1
    finally:
        for server in servers:
            _stop(server)
    with Session(world.services.engine) as session:
        checked, problem = verify_chain(session)
    assert problem is None and checked > 0
