"""Audit 11, D-F1: a learner joins her work address (issuer A's recipient) to a wallet whose
primary address only issuer B knows. A's views of its people name her by the work address only,
and A cannot learn that the two addresses are one person."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.issuing import search
from issuer.models import Credential, Issuer, XapiSettings
from issuer.notify import lrs
from tests.issuer.conftest import issue_body, make_issuer
from tests.issuer.orgs_fixtures import make_org
from tests.units import create_api_key
from tests.web.conftest import Inbox
from tests.web.test_wallet import csrf, sign_in

WORK, PRIVATE = "kim@a-corp.example.org", "kim.patient@clinic.example.org"


def _issue(site: TestClient, slug: str, headers: dict[str, str], email: str) -> None:
    r = site.post(f"/api/v1/issuers/{slug}/credentials", json=issue_body(email), headers=headers)
    assert r.status_code == 201, r.text


def _merge(site: TestClient, mailbox: Inbox) -> None:
    """Kim opens her wallet with the clinic's address, then proves her work address."""
    sign_in(site, mailbox, PRIVATE)
    page = site.get("/wallet/emails")
    site.post("/wallet/emails", data={"email": WORK, "csrf": csrf(page.text)})
    path = urlsplit(mailbox.link(WORK, "/wallet/emails/confirm/")).path
    confirm = site.get(path)
    done = site.post(path, data={"csrf": csrf(confirm.text)}, follow_redirects=False)
    assert done.status_code == 303


def test_issuer_sees_only_the_address_it_used(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    a = make_issuer(mail_services, site, "acorp")
    b = make_issuer(mail_services, site, "clinic")
    _issue(site, "clinic", b, PRIVATE)
    _issue(site, "acorp", a, WORK)
    make_org(mail_services, "a-org", "acorp")
    read = {"Authorization": f"Bearer {create_api_key(mail_services, 'acorp', ['read'])}"}
    admin = {"Authorization": f"Bearer {create_api_key(mail_services, 'acorp', ['admin'])}"}
    _merge(site, mailbox)

    talent = site.get("/api/v1/issuers/acorp/talent", params={"skill": "ECQ2-4"}, headers=read)
    assert [p["email"] for p in talent.json()["learners"]] == [WORK]
    team = site.post("/api/v1/issuers/acorp/teams", json={"skills": ["ECQ2-4"]}, headers=read)
    assert [m["email"] for m in team.json()["members"]] == [WORK]
    year = datetime.date.today().year
    hours = site.get("/api/v1/issuers/acorp/hours", params={"year": year}, headers=read)
    assert [h["email"] for h in hours.json()["learners"]] == [WORK]
    listed = site.get("/api/v1/issuers/acorp/credentials", headers=read).json()
    assert [c["recipient"]["email"] for c in listed["credentials"]] == [WORK]
    by_other = site.get(
        "/api/v1/issuers/acorp/credentials", params={"email": PRIVATE}, headers=read
    )
    assert by_other.json()["credentials"] == []
    with Session(mail_services.engine) as db:
        issuer = db.exec(select(Issuer).where(Issuer.slug == "acorp")).one()
        assert issuer.id is not None
        ids = [c.id for c in db.exec(select(Credential).where(Credential.issuer_id == issuer.id))]
        body = lrs.statements(
            db, mail_services, issuer, XapiSettings(issuer_id=issuer.id), "earned", ids
        )
    assert body[0]["actor"]["mbox"] == f"mailto:{WORK}"

    unknown = site.get(
        "/api/v1/issuers/acorp/programs/progress",
        params={"email": "nobody@clinic.example.org"},
        headers=read,
    )
    other = site.get(
        "/api/v1/issuers/acorp/programs/progress", params={"email": PRIVATE}, headers=read
    )
    assert other.status_code == unknown.status_code == 404
    assert other.json()["detail"].replace(PRIVATE, "") == unknown.json()["detail"].replace(
        "nobody@clinic.example.org", ""
    )
    group = site.put(
        "/api/v1/issuers/acorp/groups/probe", json={"emails": [WORK, PRIVATE]}, headers=admin
    )
    assert group.json()["learners"] == 2

    roster = site.put(
        "/api/v1/orgs/a-org/roster",
        json={"members": [{"email": WORK, "name": "Kim"}]},
        headers=admin,
    )
    assert roster.status_code == 200, roster.text
    shown = site.get("/api/v1/orgs/a-org/roster", headers=read).json()
    assert [m["email"] for m in shown["members"]] == [WORK]
    org_hours = site.get("/api/v1/orgs/a-org/hours", params={"year": year}, headers=read)
    assert [m["email"] for m in org_hours.json()["members"]] == [WORK]
    with Session(mail_services.engine) as db:  # the console's credential search
        [credential] = db.exec(select(Credential).where(Credential.issuer_id == issuer.id))
        assert search.describe(db, credential).recipient == WORK
    both = site.put(
        "/api/v1/orgs/a-org/roster",
        json={"members": [{"email": WORK, "name": "Kim"}, {"email": PRIVATE, "name": "K"}]},
        headers=admin,
    )
    assert both.status_code == 200, both.text
    assert both.json()["members"] == 2
