"""The TOTP second factor under concurrent requests on PostgreSQL (audit 10, F1). Its rules —
five wrong codes in a row lock the member's codes, a code is accepted once — are kept in the
member's row; each request judging a code reads that row under a lock, so concurrent requests are
judged one after the other. (SQLite is not tested here: its write transactions run one at a time
already.)

Each service-level test reads the session and its member in every thread first, as the route's
dependency does, waits until all have, and only then judges: without the row lock every thread
judged against the same old row, whatever the timing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, func, select

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine
from issuer.core.errors import Conflict
from issuer.core.settings import Settings
from issuer.effects import work
from issuer.http.cookies import STAFF_COOKIE
from issuer.models import StaffMember, WebSession
from issuer.people import signin, totp
from issuer.people import staff as people
from tests.databases import serving
from tests.units import create_issuer
from tests.web.conftest import free_port

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _member(services: Services, *, enrolled: bool = True) -> tuple[int, str]:
    """A member of a new issuer's staff, with TOTP on (or only a secret being enrolled): their
    id and secret."""
    issuer = create_issuer(services, slug="hrd", name="HRD Institute", did_method="key")
    secret = totp.new_secret()
    assert issuer.id is not None
    with work(services) as db:
        member = StaffMember(
            issuer_id=issuer.id,
            email="owner@hrd.example",
            role="owner",
            totp_secret=secret,
            totp_enabled_at=datetime.now(UTC) if enrolled else None,
        )
        db.add(member)
        db.flush()
        assert member.id is not None
        return member.id, secret


def _waiting(services: Services, member_id: int, kind: str = people.NEEDS_CODE) -> signin.Started:
    with work(services) as db:
        return signin.start_session(db, staff_id=member_id, kind=kind)


Step = Callable[[Session, WebSession, StaffMember, str], signin.Started]


def _all_at_once(services: Services, step: Step, tries: list[tuple[str, str]]) -> list[str]:
    """Each (session token, code) given to ``step`` in a unit of work of its own, all at once;
    what each came to. A refused code is committed, as the route commits it."""
    everyone_read = threading.Barrier(len(tries))

    def one(session_and_code: tuple[str, str]) -> str:
        token, code = session_and_code
        with work(services) as db:
            found = people.find(db, token)
            assert found is not None
            web, member = found
            everyone_read.wait()
            try:
                step(db, web, member, code)
            except people.CodesLocked:
                return "locked"
            except people.WrongCode:
                return "wrong"
            except Conflict:
                return "conflict"
            except people.SignInEnded:
                return "ended"
            return "accepted"

    with ThreadPoolExecutor(len(tries)) as pool:
        return sorted(pool.map(one, tries))


def _wrong_codes(secret: str, count: int) -> list[str]:
    now = datetime.now(UTC)
    right = {totp.code_at(secret, now + timedelta(seconds=seconds)) for seconds in (-30, 0, 30)}
    return [code for code in (f"{n:06d}" for n in range(100000, 100100)) if code not in right][
        :count
    ]


def test_concurrent_wrong_codes_are_judged_up_to_the_limit(services: Services) -> None:
    """Eight wrong codes at once on one sign-in: four are judged wrong, the fifth locks the codes
    and ends the sign-in, the other three are not looked at (before: all eight were judged, each
    writing a count of one)."""
    member_id, secret = _member(services)
    token = _waiting(services, member_id).token
    tries = [(token, code) for code in _wrong_codes(secret, 8)]
    outcomes = _all_at_once(services, people.check_code, tries)
    limit = people.MAX_CODE_FAILURES
    assert outcomes == ["locked"] * (len(tries) - limit + 1) + ["wrong"] * (limit - 1)
    with Session(services.engine) as db:
        member = db.get(StaffMember, member_id)
        assert member is not None and member.totp_locked_until is not None
        assert db.exec(select(WebSession).where(WebSession.staff_id == member_id)).first() is None


def _complete_sessions(services: Services, member_id: int) -> int:
    with Session(services.engine) as db:
        query = select(func.count()).where(
            col(WebSession.staff_id) == member_id, col(WebSession.kind) == people.STAFF
        )
        return int(db.exec(query.select_from(WebSession)).one())


def test_one_code_completes_one_of_many_concurrent_sign_ins(services: Services) -> None:
    """The same right code from six waiting sign-ins at once completes one (before: all six, the
    one-use rule read from a row none had written yet). The others are replays, counted as wrong
    codes: the fifth of them locks the codes."""
    member_id, secret = _member(services)
    code = totp.code_at(secret, datetime.now(UTC))
    tries = [(_waiting(services, member_id).token, code) for _ in range(6)]
    outcomes = _all_at_once(services, people.check_code, tries)
    assert outcomes == ["accepted", "locked"] + ["wrong"] * 4
    assert _complete_sessions(services, member_id) == 1


def test_one_waiting_sign_in_completes_once_with_two_right_codes(services: Services) -> None:
    """Two codes that are both right (this time step's and the next, for clock drift) at once on
    one waiting sign-in: one completes it, the other finds it ended (before: two complete
    sessions came from one sign-in)."""
    member_id, secret = _member(services)
    token = _waiting(services, member_id).token
    now = datetime.now(UTC)
    codes = [totp.code_at(secret, now), totp.code_at(secret, now + timedelta(seconds=30))]
    outcomes = _all_at_once(services, people.check_code, [(token, code) for code in codes])
    assert outcomes[0] == "accepted" and outcomes[1] in ("ended", "wrong")
    assert _complete_sessions(services, member_id) == 1


def test_an_enrolment_confirmed_at_once_from_two_sessions_is_confirmed_once(
    services: Services,
) -> None:
    """Enrolment, too, reads the member under the lock: confirmed from two sessions at once, one
    turns TOTP on and ends the other session; the other is told it is on already."""
    member_id, secret = _member(services, enrolled=False)
    code = totp.code_at(secret, datetime.now(UTC))
    tries = [(_waiting(services, member_id, people.STAFF).token, code) for _ in range(2)]
    outcomes = _all_at_once(services, people.confirm_enrolment, tries)
    assert outcomes == ["accepted", "conflict"]
    assert _complete_sessions(services, member_id) == 1


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Services]]:
    """A real server on PostgreSQL, over loopback HTTP."""
    port = free_port()
    settings = Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url=f"http://127.0.0.1:{port}",
        did_method="key",
    )
    engine = make_engine(database_url)
    services = Services.from_settings(settings, engine)
    try:
        with serving(create_app(services=services), port):
            yield f"http://127.0.0.1:{port}", services
    finally:
        engine.dispose()


def _post_at_once(base: str, tries: list[tuple[signin.Started, str]]) -> list[httpx.Response]:
    """``POST /console/mfa`` with each (waiting session, code), all sent at once."""
    ready = threading.Barrier(len(tries))

    def one(session_and_code: tuple[signin.Started, str]) -> httpx.Response:
        started, code = session_and_code
        cookies = {STAFF_COOKIE: started.token}
        with httpx.Client(base_url=base, cookies=cookies, timeout=120) as client:
            ready.wait()
            form = {"code": code, "csrf": started.csrf}
            return client.post("/console/mfa", data=form, follow_redirects=False)

    with ThreadPoolExecutor(len(tries)) as pool:
        return list(pool.map(one, tries))


def test_concurrent_codes_over_http(served: tuple[str, Services]) -> None:
    """The auditor's reproducer, end to end: 20 wrong codes at once on one sign-in are judged at
    most four times (400), then 429 (or, once the sign-in has ended, back to the sign-in page);
    one right code from six waiting sign-ins at once completes one (303 to the console), the
    other five are replays (four wrong, the fifth locks)."""
    base, services = served
    member_id, secret = _member(services)
    waiting = _waiting(services, member_id)
    answers = _post_at_once(base, [(waiting, code) for code in _wrong_codes(secret, 20)])
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(400) == people.MAX_CODE_FAILURES - 1, statuses
    others = [a for a in answers if a.status_code != 400]
    assert all(
        a.status_code == 429 or a.headers.get("location") == "/console/login" for a in others
    ), statuses

    with work(services) as db:
        member = db.get(StaffMember, member_id)
        assert member is not None
        member.totp_locked_until = None
    code = totp.code_at(secret, datetime.now(UTC))
    answers = _post_at_once(base, [(_waiting(services, member_id), code) for _ in range(6)])
    completed = [a for a in answers if a.headers.get("location") == "/console"]
    assert len(completed) == 1, [(a.status_code, a.headers.get("location")) for a in answers]
    assert sorted(a.status_code for a in answers) == [303] + [400] * 4 + [429]
    assert _complete_sessions(services, member_id) == 1
