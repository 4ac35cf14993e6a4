"""The audit chain: each entry's hash covers the one before, over canonical UTC text (so the
session's time zone cannot change it), and its head is anchored in ``audit_head`` (so removing the
last entries is detected, not only editing or removing one in the middle)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, make_url, text
from sqlmodel import Session

from issuer.context import Services
from issuer.core import audit
from issuer.core.db import make_engine, migrate, transaction
from issuer.models import AuditEntry


def _append(engine: Engine, count: int) -> None:
    for number in range(count):
        with transaction(engine) as session:
            audit.append(
                session, "test", "thing.do", f"thing:{number}", {"n": number, "name": "김"}
            )


def _verify(engine: Engine) -> tuple[int, str | None]:
    with Session(engine) as session:
        return audit.verify_chain(session)


@pytest.fixture
def chain(services: Services) -> Iterator[Engine]:
    """Five entries on a migrated database."""
    migrate(services.engine)
    _append(services.engine, 5)
    yield services.engine


def _in_seoul(database_url: str) -> Engine:
    url = make_url(database_url)
    assert url.get_backend_name() == "postgresql"
    options = f"{url.query.get('options', '')} -ctimezone=Asia/Seoul".strip()
    seoul = url.update_query_dict({"options": options})
    return make_engine(seoul.render_as_string(hide_password=False))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_chain_verifies_whatever_the_session_time_zone(chain: Engine, database_url: str) -> None:
    """Entries written by a UTC session and by a Seoul session verify in both (the audit found
    "entry 1 was altered" when verifying from a session in Asia/Seoul)."""
    seoul = _in_seoul(database_url)
    with seoul.connect() as connection:
        assert connection.execute(text("SHOW TimeZone")).scalar() == "Asia/Seoul"
    _append(seoul, 3)
    assert _verify(seoul) == (8, None)
    assert _verify(chain) == (8, None)
    seoul.dispose()


@pytest.mark.parametrize("removed", [1, 3])
def test_removing_the_last_entries_is_detected(chain: Engine, removed: int) -> None:
    with transaction(chain) as session:
        session.execute(text(f"DELETE FROM audit_entry WHERE seq > {5 - removed}"))
    count, problem = _verify(chain)
    assert count == 5 - removed
    assert problem is not None and "removed" in problem and "entry 5" in problem, problem


def test_removing_the_last_entries_and_appending_is_detected(chain: Engine) -> None:
    """New entries chain onto the anchored head, not onto whatever row is last: appending after a
    truncation does not hide it."""
    with transaction(chain) as session:
        session.execute(text("DELETE FROM audit_entry WHERE seq >= 4"))
    _append(chain, 2)
    count, problem = _verify(chain)
    assert count == 3 and problem is not None and "does not follow" in problem, problem


def test_altering_a_middle_entry_is_detected(chain: Engine) -> None:
    with transaction(chain) as session:
        session.execute(text("UPDATE audit_entry SET subject = 'forged' WHERE seq = 3"))
    count, problem = _verify(chain)
    assert count == 2 and problem is not None and "entry 3 was altered" in problem, problem


def test_removing_a_middle_entry_is_detected(chain: Engine) -> None:
    with transaction(chain) as session:
        session.execute(text("DELETE FROM audit_entry WHERE seq = 3"))
    count, problem = _verify(chain)
    assert count == 2 and problem is not None and "entry 4 does not follow" in problem, problem


def test_an_entry_added_behind_the_head_is_detected(chain: Engine) -> None:
    """A well-formed entry written without moving the head (not through ``append``)."""
    with transaction(chain) as session:
        session.execute(
            text(
                "UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_entry WHERE seq = 4)"
            )
        )
    count, problem = _verify(chain)
    assert count == 5 and problem is not None and "after the anchored head" in problem, problem


def test_a_replaced_last_entry_is_detected(chain: Engine) -> None:
    with transaction(chain) as session:
        session.execute(text("UPDATE audit_head SET hash = :other"), {"other": "e" * 64})
    count, problem = _verify(chain)
    assert count == 5 and problem is not None and "entry 5 is not the entry" in problem, problem


def test_a_missing_head_is_reported(chain: Engine) -> None:
    with transaction(chain) as session:
        session.execute(text("DELETE FROM audit_head"))
    assert "head" in str(_verify(chain)[1])
    _append(chain, 1)  # re-anchored at the last entry (logged), and the chain goes on
    assert _verify(chain) == (6, None)


def test_the_hash_depends_on_the_instant_not_its_time_zone() -> None:
    """One instant, shown in UTC or in Seoul, hashes the same (before, ``isoformat()`` of a time
    read in the session's zone, e.g. +09:00, was hashed)."""
    instant = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    seoul = instant.astimezone(ZoneInfo("Asia/Seoul"))
    assert audit.time_text(seoul) == audit.time_text(instant) == "2026-03-01T09:00:00+00:00"
    details = {"slug": "hrd"}
    assert audit.entry_hash(audit.GENESIS, seoul, "cli", "x", "y", details) == audit.entry_hash(
        audit.GENESIS, instant, "cli", "x", "y", details
    )


def test_an_intact_chain_and_an_empty_one_verify(services: Services) -> None:
    migrate(services.engine)
    assert _verify(services.engine) == (0, None)
    _append(services.engine, 3)
    assert _verify(services.engine) == (3, None)


def _hashed_before_0007(prev_hash: str, at: datetime, subject: str) -> str:
    """What ``append`` hashed before the head was anchored (written out here, not imported)."""
    body = json.dumps(
        [prev_hash, at.isoformat(), "cli", "issuer.create", subject, {"slug": subject}],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@pytest.mark.empty_database
def test_a_chain_written_before_the_anchor_verifies_and_is_anchored(services: Services) -> None:
    """Migration 0007 anchors an existing chain where it ends, re-hashing nothing; it verifies as
    it is, and new entries chain on."""
    engine = services.engine
    migrate(engine, "0006")
    prev = audit.GENESIS
    with transaction(engine) as session:
        for number in range(3):
            at = datetime(2026, 3, 1, 9, number, tzinfo=UTC)
            digest = _hashed_before_0007(prev, at, f"i{number}")
            session.add(
                AuditEntry(
                    at=at,
                    actor="cli",
                    action="issuer.create",
                    subject=f"i{number}",
                    details={"slug": f"i{number}"},
                    prev_hash=prev,
                    hash=digest,
                )
            )
            session.flush()
            prev = digest
    migrate(engine)
    with Session(engine) as session:
        head = audit.head(session)
        assert head is not None and (head.seq, head.hash) == (3, prev)
    assert _verify(engine) == (3, None)
    _append(engine, 2)
    assert _verify(engine) == (5, None)
    migrate(engine, "0006", down=True)
    migrate(engine)
    assert _verify(engine) == (5, None)


def test_laurel_audit_verify_names_a_truncation(chain: Engine, services: Services) -> None:
    from typer.testing import CliRunner

    from issuer.cli import app

    environment = {
        "LAUREL_DATABASE_URL": services.settings.database_url,
        "LAUREL_KEYS_DIR": str(services.settings.keys_dir),
        "LAUREL_KEY_PASSPHRASE": services.settings.key_passphrase,
    }
    intact = CliRunner().invoke(app, ["audit", "verify"], env=environment)
    assert intact.exit_code == 0 and "5 entries; head: entry 5" in intact.output, intact.output
    with transaction(chain) as session:
        session.execute(text("DELETE FROM audit_entry WHERE seq = 5"))
    broken = CliRunner().invoke(app, ["audit", "verify"], env=environment)
    assert broken.exit_code == 1
    assert "the last entries were removed: the chain ends at entry 4" in broken.output
