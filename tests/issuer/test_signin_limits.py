"""Sign-in links are rate-limited per email and per client address, in the database: the limits
hold for requests that arrive at the same moment, each in its own unit of work (as concurrent
requests to one or several app processes are), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, func, select

from issuer.context import Services
from issuer.core.db import migrate
from issuer.core.errors import TooManyRequests
from issuer.effects import work
from issuer.models import SignInLink
from issuer.people import signin

AT_ONCE = 20


def _race(services: Services, emails: list[str], requesters: list[str]) -> list[str]:
    """Ask for a link for each (email, requester) pair, all at the same moment."""
    start = threading.Barrier(len(emails))

    def ask(pair: tuple[str, str]) -> str:
        start.wait()
        try:
            with work(services) as db:
                signin.request_link(db, services, *pair)
        except TooManyRequests:
            return "limited"
        return "sent"

    with ThreadPoolExecutor(len(emails)) as pool:
        return list(pool.map(ask, zip(emails, requesters, strict=True)))


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The links that were emailed (after their unit of work committed)."""
    mails: list[str] = []
    monkeypatch.setattr(signin, "_send", lambda _s, email, *_: mails.append(email))
    return mails


def _stored(services: Services) -> int:
    with Session(services.engine) as session:
        return session.exec(select(func.count()).select_from(SignInLink)).one()


def test_concurrent_requests_for_one_email_send_at_most_its_limit(
    services: Services, sent: list[str]
) -> None:
    """Twenty requests for one email from twenty addresses at once: three links, no more (before,
    each counted the links before any had inserted its own: five were sent on PostgreSQL)."""
    migrate(services.engine)
    outcomes = _race(
        services, ["kim@example.org"] * AT_ONCE, [f"10.0.0.{n}" for n in range(AT_ONCE)]
    )
    assert outcomes.count("sent") == signin.LINKS_PER_EMAIL, outcomes
    assert len(sent) == _stored(services) == signin.LINKS_PER_EMAIL


def test_concurrent_requests_from_one_address_send_at_most_its_limit(
    services: Services, sent: list[str]
) -> None:
    migrate(services.engine)
    outcomes = _race(
        services, [f"learner{n}@example.org" for n in range(AT_ONCE)], ["10.0.0.1"] * AT_ONCE
    )
    assert outcomes.count("sent") == signin.LINKS_PER_REQUESTER, outcomes
    assert len(sent) == _stored(services) == signin.LINKS_PER_REQUESTER
