"""The console's organisation page: a viewer reads it and cannot change it; an owner uploads the
units and the roster as CSV files (a bad row is listed, with a 422, and nothing changes) and adds
and removes trusted issuers. Every change is in the audit chain."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.models import AuditEntry
from tests.issuer.org_api_fixtures import University, small_org
from tests.units import create_issuer
from tests.web.conftest import Inbox
from tests.web.console_steps import csrf, join

UNITS = (
    "code,name,name_ko,parent,supervisor_email\nPOL,Policy Bureau,정책국,,boss@mois.example.kr\n"
)


def _upload(person: TestClient, what: str, text: str) -> Any:
    token = csrf(person.get("/console/org").text)
    return person.post(
        f"/console/org/{what}",
        data={"csrf": token},
        files={"upload": (f"{what}.csv", text.encode(), "text/csv")},
        follow_redirects=False,
    )


def test_owners_run_the_organisation_from_the_console_and_viewers_read_it(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    create_issuer(mail_services, slug="ministry", name="Ministry")
    create_issuer(mail_services, slug="academy", name="MOIS Academy")
    university = University()
    small_org(mail_services, "ministry", ["kim@mois.example.kr"], university)
    owner = join(site, mailbox, mail_services, "ministry", "owner@mois.example.kr", "owner")
    viewer = join(site, mailbox, mail_services, "ministry", "hr@mois.example.kr", "viewer")

    page = viewer.get("/console/org")
    assert page.status_code == 200 and 'id="roster-count">1<' in page.text
    assert "upload-roster" not in page.text  # viewers read only
    denied = viewer.post("/console/org/trust", data={"csrf": csrf(page.text), "issuer": "academy"})
    assert denied.status_code == 403

    done = _upload(owner, "units", UNITS)
    assert done.status_code == 303, done.text
    roster = "email,unit\nkim@mois.example.kr,POL\nlee@mois.example.kr,POL\n"
    assert _upload(owner, "roster", roster).status_code == 303
    page = owner.get("/console/org?done=roster")
    assert 'id="roster-count">2<' in page.text and "boss@mois.example.kr" in page.text

    bad = _upload(owner, "roster", "email,unit\nkim@mois.example.kr,POL\nlee,NOPE\n")
    assert bad.status_code == 422
    assert "Row 2 · email: &#39;lee&#39; is not an email address" in bad.text
    assert "Row 2 · unit: there is no unit &#39;NOPE&#39;" in bad.text
    assert 'id="roster-count">2<' in owner.get("/console/org").text  # nothing changed

    token = csrf(owner.get("/console/org").text)
    added = owner.post(
        "/console/org/trust", data={"csrf": token, "issuer": "academy"}, follow_redirects=False
    )
    assert added.status_code == 303
    shown = owner.get("/console/org").text
    assert "MOIS Academy" in shown  # another tenant: its badges wait for its agreement
    assert "waiting for its agreement" in shown
    token = csrf(owner.get("/console/org").text)
    unnamed = owner.post("/console/org/trust", data={"csrf": token, "ref": "did:web:x.example"})
    assert unnamed.status_code == 400 and "display name" in unnamed.text
    removed = owner.post(
        "/console/org/distrust",
        data={"csrf": token, "ref": university.did},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert university.did not in owner.get("/console/org").text
    with Session(mail_services.engine) as db:
        actions = [
            e.action
            for e in db.exec(
                select(AuditEntry).where(AuditEntry.actor == "staff:owner@mois.example.kr")
            )
        ]
    assert [a for a in actions if a.startswith("org.")] == [
        "org.units",
        "org.roster",
        "org.trust",
        "org.distrust",
    ]
