"""Verifying a badge from elsewhere holds no write transaction while other hosts answer (the
badge by its URL, an OB 2.0 badge class and issuer profile, the issuer's status list): importing
(by URL, again, OB 2.0), rechecking (the button, the badge page, the stale imports' job),
upserting through the OB 3.0 API, sharing with an organisation (the wallet, ``/api/v1/me/shares``)
and rechecking what was shared (the API, ``laurel orgs recheck``). While a host "answers", no
pooled connection is checked out and, on SQLite, another connection takes the write lock at once
(``assert_database_free``). Audit round 6: a slow host, chosen by whoever made the badge, held the
one SQLite write lock (every sign-in and issuance waited) and on PostgreSQL a pooled connection
for each of its fetches (up to 10 s each)."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from issuer.context import Services
from issuer.crypto.keys import did_key_method
from issuer.crypto.signing import sign_data_integrity
from issuer.issuing.bitstring import empty_bits, set_bit, status_entry, status_list_credential
from issuer.jobs import recheck_stale
from issuer.models import ImportedCredential, SharedCredential
from tests.issuer.org_api_fixtures import ORG, University, small_org
from tests.issuer.test_imports import ob2_assertion
from tests.issuer.test_network_outside_transactions import assert_database_free
from tests.issuer.test_oauth import READ, UPSERT, csrf, sign_in
from tests.issuer.test_ob_api import EMAIL, bearer, token
from tests.units import create_api_key, create_issuer
from tests.web.conftest import Inbox
from tests.web.conftest import mail_services as mail_services  # the fixtures, for these tests
from tests.web.conftest import mailbox as mailbox
from tests.web.conftest import site as site
from verifier.errors import FetchError

BADGE_URL = "https://university.example.org/badges/1.json"
LIST_URL = "https://university.example.org/status/1"
OB2_CLASS = "https://old.example.org/badges/python"
OB2_ISSUER = "https://old.example.org/issuer"
ISSUED = "2026-01-15T09:00:00Z"


class SlowHost:
    """``services.network``: other hosts, answering from ``table`` (anything else unreachable),
    each answer given only after checking that the database is free; what was not is noted in
    ``held`` (an assertion raised here could be taken by the verifier for a failed fetch)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.table: dict[str, bytes] = {}
        self.asked: list[str] = []
        self.held: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.asked.append(url)
        try:
            assert_database_free(self.services)
        except (AssertionError, sqlite3.OperationalError) as exc:
            self.held.append(f"{url}: {exc!r}")
        if url not in self.table:
            raise FetchError(url, "unreachable in tests")
        return self.table[url]

    def check(self, *urls: str) -> None:
        """Each of ``urls`` was asked for, and the database was free whenever a host answered."""
        assert self.held == []
        assert set(urls) <= set(self.asked), self.asked
        self.asked.clear()


def _status_list(university: University, revoked: frozenset[int] = frozenset()) -> bytes:
    bits = empty_bits()
    for index in revoked:
        set_bit(bits, index)
    document = status_list_credential(
        LIST_URL, university.did, bytes(bits), valid_from="2026-01-01T00:00:00Z"
    )
    key = university.key
    return json.dumps(
        sign_data_integrity(document, key, did_key_method(key), created=ISSUED)
    ).encode()


@pytest.fixture
def university(mail_services: Services) -> University:
    """A university elsewhere whose badges have a status list on its own host, trusted by the
    organisation ``mois`` (home issuer ``ministry``) whose roster lists ``EMAIL``."""
    found = University()
    create_issuer(mail_services, slug="ministry", name="Ministry")
    small_org(mail_services, "ministry", [EMAIL], found)
    return found


@pytest.fixture
def host(mail_services: Services, university: University) -> SlowHost:
    made = SlowHost(mail_services)
    made.table[LIST_URL] = _status_list(university)
    mail_services.network = made
    return made


def _badge(university: University) -> dict[str, Any]:
    return university.credential(EMAIL, credentialStatus=status_entry(LIST_URL, 7))


def _signed_in(site: TestClient, mailbox: Inbox) -> str:
    """Sign ``EMAIL`` in; the wallet's CSRF token."""
    sign_in(site, mailbox, EMAIL)
    return csrf(site.get("/wallet/import").text)


def _imported(site: TestClient, form: dict[str, str]) -> str:
    """Import through the wallet's form; the imported badge's ref."""
    done = site.post("/wallet/import", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    found = re.search(r"/wallet/badges/(i-\d+)\?done=imported$", done.headers["location"])
    assert found, done.headers["location"]
    return found.group(1)


def _rows(services: Services) -> list[ImportedCredential]:
    with Session(services.engine) as db:
        return list(db.exec(select(ImportedCredential)))


def test_importing_by_url_again_and_ob2_holds_no_database_while_hosts_answer(
    site: TestClient,
    mailbox: Inbox,
    mail_services: Services,
    university: University,
    host: SlowHost,
) -> None:
    token = _signed_in(site, mailbox)
    badge = _badge(university)
    host.table[BADGE_URL] = json.dumps(badge).encode()
    ref = _imported(site, {"csrf": token, "url": BADGE_URL})
    host.check(BADGE_URL, LIST_URL)
    again = _imported(site, {"csrf": token, "pasted": json.dumps(badge)})  # checked again
    host.check(LIST_URL)
    assert again == ref
    [row] = _rows(mail_services)
    assert row.verdict == "verified" and row.source_url == BADGE_URL

    host.table[OB2_CLASS] = json.dumps({"type": "BadgeClass", "name": "Python Basics"}).encode()
    host.table[OB2_ISSUER] = json.dumps({"type": "Profile", "name": "Old Academy"}).encode()
    legacy = ob2_assertion(badge=OB2_CLASS)
    legacy["badge"] = OB2_CLASS
    host.table[OB2_CLASS] = json.dumps(
        {"type": "BadgeClass", "name": "Python Basics", "issuer": OB2_ISSUER}
    ).encode()
    _imported(site, {"csrf": token, "pasted": json.dumps(legacy)})
    host.check(OB2_CLASS, OB2_ISSUER)
    assert {r.name for r in _rows(mail_services)} == {"Data Literacy", "Python Basics"}

    refused = site.post("/wallet/import", data={"csrf": token, "url": BADGE_URL + "?gone"})
    assert refused.status_code == 400 and "could not fetch" in refused.text
    host.check(BADGE_URL + "?gone")
    assert len(_rows(mail_services)) == 2  # nothing of a refused import is kept


def test_rechecking_and_the_badge_page_hold_no_database_while_hosts_answer(
    site: TestClient,
    mailbox: Inbox,
    mail_services: Services,
    university: University,
    host: SlowHost,
) -> None:
    token = _signed_in(site, mailbox)
    ref = _imported(site, {"csrf": token, "pasted": json.dumps(_badge(university))})
    host.check(LIST_URL)
    host.table[LIST_URL] = _status_list(university, revoked=frozenset({7}))
    done = site.post(f"/wallet/badges/{ref}/recheck", data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303, done.text
    host.check(LIST_URL)
    [row] = _rows(mail_services)
    assert row.verdict == "not verified" and "revoked" in row.report["reason"]

    host.table[LIST_URL] = _status_list(university)
    page = site.get(f"/wallet/badges/{ref}")  # verified live, the stored verdict updated
    assert page.status_code == 200, page.text
    host.check(LIST_URL)
    [row] = _rows(mail_services)
    assert row.verdict == "verified"

    assert recheck_stale(mail_services, timedelta(0)) == 1
    host.check(LIST_URL)


def test_sharing_and_rechecking_shares_hold_no_database_while_hosts_answer(
    site: TestClient,
    mailbox: Inbox,
    mail_services: Services,
    university: University,
    host: SlowHost,
) -> None:
    token = _signed_in(site, mailbox)
    ref = _imported(site, {"csrf": token, "pasted": json.dumps(_badge(university))})
    host.check(LIST_URL)
    shared = site.post(
        f"/wallet/badges/{ref}/orgs/{ORG}/share", data={"csrf": token}, follow_redirects=False
    )
    assert shared.status_code == 303, shared.text
    host.check(LIST_URL)
    with Session(mail_services.engine) as db:
        [row] = db.exec(select(SharedCredential)).all()
        assert row.revoked_at is None

    host.table[LIST_URL] = _status_list(university, revoked=frozenset({7}))
    key = create_api_key(mail_services, "ministry", ["read", "admin"])
    rechecked = site.post(
        f"/api/v1/orgs/{ORG}/shared/recheck", headers={"Authorization": f"Bearer {key}"}
    )
    assert rechecked.status_code == 200, rechecked.text
    assert rechecked.json() == {"revoked": 1, "expired": 0, "notVerified": 0}
    host.check(LIST_URL)


def test_the_cli_rechecks_shares_with_no_database_held_while_hosts_answer(
    site: TestClient,
    mailbox: Inbox,
    mail_services: Services,
    university: University,
    host: SlowHost,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from issuer import cli

    token = _signed_in(site, mailbox)
    ref = _imported(site, {"csrf": token, "pasted": json.dumps(_badge(university))})
    assert site.post(f"/wallet/badges/{ref}/orgs/{ORG}/share", data={"csrf": token}).is_success
    host.check(LIST_URL)
    host.table[LIST_URL] = _status_list(university, revoked=frozenset({7}))
    monkeypatch.setattr(cli, "_services", lambda *_, **__: _Given(mail_services))
    result = CliRunner().invoke(cli.app, ["orgs", "recheck"])
    assert result.exit_code == 0, result.output
    assert "1 shared credential(s) newly found revoked" in result.output
    host.check(LIST_URL)


class _Given:
    """``cli._services()`` giving the test's services (and leaving them open)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def __enter__(self) -> Services:
        return self.services

    def __exit__(self, *_: object) -> None:
        return None


def test_upserting_and_sharing_through_the_apis_hold_no_database_while_hosts_answer(
    site: TestClient,
    mailbox: Inbox,
    mail_services: Services,
    university: University,
    host: SlowHost,
) -> None:
    headers = bearer(token(site, mailbox, (READ, UPSERT)))
    badge = _badge(university)
    stored = site.post("/ims/ob/v3p0/credentials", json=badge, headers=headers)
    assert stored.status_code == 201, stored.text
    host.check(LIST_URL)
    again = site.post("/ims/ob/v3p0/credentials", json=badge, headers=headers)
    assert again.status_code == 200, again.text
    host.check(LIST_URL)
    shared = site.post(
        "/api/v1/me/shares", json={"organisation": ORG, "credential": badge["id"]}, headers=headers
    )
    assert shared.status_code == 201, shared.text
    host.check(LIST_URL)

    host.table[LIST_URL] = _status_list(university, revoked=frozenset({7}))
    other = university.credential(
        EMAIL,
        id="urn:uuid:00000000-0000-4000-8000-00000000000b",
        credentialStatus=status_entry(LIST_URL, 7),
    )
    refused = site.post("/ims/ob/v3p0/credentials", json=other, headers=headers)
    assert refused.status_code == 400, refused.text
    host.check(LIST_URL)
    assert len(_rows(mail_services)) == 1  # nothing of a refused upsert is kept
