"""The README's first command: `laurel serve --demo` seeds a demo institute and serves it; the
seeding itself is idempotent on both databases, and only the admin key printed last works."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from issuer.context import Services
from issuer.demo import LEARNERS, SLUG, seed_demo
from issuer.effects import work
from issuer.institutes.issuers import get_issuer
from issuer.people.groups import listing
from tests.issuer.conftest import services as services  # the fixture (SQLite and PostgreSQL)


def test_seed_demo_is_idempotent(services: Services) -> None:
    from sqlmodel import Session

    from issuer.core.db import migrate

    migrate(services.engine)
    with work(services) as db:
        first = seed_demo(db, services)
    assert first[-1].startswith("lrl_") and any("/wallet/login" in line for line in first)
    with work(services) as db:
        seed_demo(db, services)
    with Session(services.engine) as session:
        groups = listing(session, get_issuer(session, SLUG))
    assert {g["name"] for g in groups} == {group for _, _, group in LEARNERS}
    assert sum(g["learners"] for g in groups) == len(LEARNERS)


def test_each_demo_start_revokes_the_key_printed_before(services: Services) -> None:
    """Every start of the demo prints a new admin key: the ones printed before (in old logs,
    scrollback) are revoked, so only the last works (before, every key printed stayed live). Keys
    of other names, such as one an operator made for the demo institute, are left alone."""
    from fastapi.testclient import TestClient
    from sqlmodel import Session, col, select

    from issuer.app import create_app
    from issuer.core.db import migrate
    from issuer.models import ApiKey
    from tests.units import create_api_key

    migrate(services.engine)
    with work(services) as db:
        first = seed_demo(db, services)[-1]
    own = create_api_key(services, SLUG, ["read"], name="mine")
    with work(services) as db:
        second = seed_demo(db, services)[-1]
    with Session(services.engine) as session:
        live = session.exec(
            select(ApiKey.name).where(col(ApiKey.revoked_at).is_(None)).order_by(ApiKey.name)
        ).all()
    assert live == ["demo", "mine"]
    with TestClient(create_app(services=services)) as client:
        path = f"/api/v1/issuers/{SLUG}/credentials"
        for key, status in ((first, 401), (second, 200), (own, 200)):
            answer = client.get(path, headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == status, (key, answer.text)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_laurel_serve_demo_runs(tmp_path: Path) -> None:
    port = _free_port()
    laurel = shutil.which("laurel", path=str(Path(sys.executable).parent)) or "laurel"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    process = subprocess.Popen(
        [laurel, "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        lines: list[str] = []
        assert process.stdout is not None
        while not (lines and lines[-1].startswith("lrl_")):
            line = process.stdout.readline()
            assert line, "laurel serve --demo exited:\n" + "".join(lines)
            lines.append(line.strip())
        key = lines[-1]
        for _ in range(200):  # the server starts listening after printing
            try:
                httpx.get(f"{base}/issuers/{SLUG}", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert httpx.get(f"{base}/issuers/{SLUG}").json()["name"] == "Demo HRD Institute"
        listed = httpx.get(
            f"{base}/api/v1/issuers/{SLUG}/credentials",
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        assert listed["total"] >= len(LEARNERS) * 2
        assert httpx.get(f"{base}/wallet/login").status_code == 200
        assert httpx.get(f"{base}/docs").status_code == 200
        assert (tmp_path / "laurel-demo.db").is_file()
    finally:
        process.terminate()
        process.communicate(timeout=30)  # also closes the pipe


def test_laurel_serve_demo_warns_when_it_seeds_a_configured_database(tmp_path: Path) -> None:
    """With LAUREL_DATABASE_URL set, ``--demo`` seeds the demo institute and an admin key into
    that database, not ./laurel-demo.db: it says so before it does."""
    port = _free_port()
    laurel = shutil.which("laurel", path=str(Path(sys.executable).parent)) or "laurel"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    env["LAUREL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'production.db'}"
    env["LAUREL_KEY_KDF_COST"] = "test"
    process = subprocess.Popen(
        [laurel, "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        assert process.stdout is not None
        while not (lines and lines[-1].startswith("lrl_")):
            line = process.stdout.readline()
            assert line, "laurel serve --demo exited:\n" + "".join(lines)
            lines.append(line.strip())
        (warning,) = [line for line in lines if "LAUREL_DATABASE_URL" in line]
        assert "warning" in warning and "production.db" in warning and SLUG in warning
        assert not (tmp_path / "laurel-demo.db").exists()
    finally:
        process.terminate()
        process.communicate(timeout=30)
