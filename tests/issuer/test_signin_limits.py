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
from issuer.core.errors import BadRequest, TooManyRequests
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


def test_one_ipv6_network_is_one_requester(services: Services, sent: list[str]) -> None:
    """A client with an IPv6 /64 has 2⁶⁴ addresses: its limit counts the network, not each
    address (audit round 9: a new address per request had no limit at all)."""
    migrate(services.engine)
    addresses = [f"2001:db8:1:2::{n:x}" for n in range(AT_ONCE)]
    outcomes = _race(services, [f"learner{n}@example.org" for n in range(AT_ONCE)], addresses)
    assert outcomes.count("sent") == signin.LINKS_PER_REQUESTER, outcomes
    assert signin.requesting_network("2001:db8:1:2::7") == "2001:db8:1:2::/64"
    assert signin.requesting_network("::ffff:10.0.0.1") == "10.0.0.1"
    assert signin.requesting_network("10.0.0.1") == "10.0.0.1"
    assert signin.requesting_network("testclient") == "testclient"


@pytest.mark.parametrize(
    "email",
    ["(1)victim@corp.example", "<victim@corp.example>", "postmaster,victim@corp.example"],
)
def test_an_address_with_rfc_5322_specials_is_not_an_email(services: Services, email: str) -> None:
    """Each of these went to the victim's mailbox (or two) while its limit counted another
    string (audit round 9: 43 sign-in mails to one mailbox in one window)."""
    migrate(services.engine)
    with pytest.raises(BadRequest, match="not an email address"), work(services) as db:
        signin.request_link(db, services, email, "10.0.0.9")
