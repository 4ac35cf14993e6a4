"""The console's learning-hours page without a browser: only staff see it (a visitor is sent to
sign in); staff of an issuer that runs no organisation are told so, and its CSV is 404; every
view of the page and of its CSV is in the access log. SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.models import AccessLogEntry, Organisation
from tests.issuer.conftest import make_issuer
from tests.issuer.orgs_fixtures import add_member, add_unit, make_org
from tests.web.conftest import Inbox
from tests.web.console_steps import csrf, join


def test_staff_only_and_every_view_logged(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    make_issuer(mail_services, site, "hrd")
    make_issuer(mail_services, site, "uni")
    make_org(mail_services, "moe", "hrd", "Ministry of Education")
    add_unit(mail_services, "moe", "SCH", "Schools")
    add_member(mail_services, "moe", "ann@example.go.kr", "Ann", unit="SCH", grade="5")

    visitor = site.get("/console/hours", follow_redirects=False)
    assert visitor.status_code in (302, 303) and "/console/login" in visitor.headers["location"]

    other = join(site, mailbox, mail_services, "uni", "staff@uni.example", "viewer")
    page = other.get("/console/hours")
    assert page.status_code == 200 and 'id="no-org"' in page.text
    assert other.get("/console/hours.csv").status_code == 404

    viewer = join(site, mailbox, mail_services, "hrd", "director@hrd.example", "viewer")
    page = viewer.get("/console/hours?year=2025&unit=SCH")
    assert page.status_code == 200 and 'data-email="ann@example.go.kr"' in page.text
    assert 'href="/console/hours.csv?year=2025&amp;unit=SCH"' in page.text
    got = viewer.get("/console/hours.csv?year=2025&unit=SCH")
    assert got.headers["content-type"].startswith("text/csv")
    assert got.text.splitlines()[1].startswith(",Ann,ann@example.go.kr,SCH,Schools,5,,2025,0,")
    assert viewer.get("/console/hours?year=1800").status_code == 422
    with Session(mail_services.engine) as session:
        logged = session.exec(
            select(AccessLogEntry)
            .where(AccessLogEntry.action == "org.hours")
            .order_by(col(AccessLogEntry.id))
        )
        assert [(e.actor.startswith("staff:"), e.subject) for e in logged] == [
            (True, "moe year=2025 unit=SCH"),
            (True, "moe year=2025 unit=SCH"),
        ]


def test_owners_edit_the_rules(site: TestClient, mail_services: Services, mailbox: Inbox) -> None:
    make_issuer(mail_services, site, "hrd")
    make_org(mail_services, "moe", "hrd", "Ministry of Education")
    add_member(mail_services, "moe", "ann@example.go.kr", "Ann", grade="5")
    owner = join(site, mailbox, mail_services, "hrd", "owner@hrd.example", "owner")
    viewer = join(site, mailbox, mail_services, "hrd", "viewer@hrd.example", "viewer")
    page = viewer.get("/console/hours")
    assert 'id="rules-form"' not in page.text and "designated_share" in page.text
    denied = viewer.post("/console/hours/rules", data={"csrf": csrf(page.text), "rules": "{}"})
    assert denied.status_code == 403

    token = csrf(owner.get("/console/hours").text)
    bad = owner.post(
        "/console/hours/rules", data={"csrf": token, "rules": '{"designated_share": 2}'}
    )
    assert bad.status_code == 422 and "designated_share" in bad.text and 'id="error"' in bad.text
    for text, field in (  # JSON text may say NaN or Infinity; no rule may (audit 10, F3)
        ('{"required_hours": {"5": NaN}}', "required_hours.5: Input should be a finite number"),
        ('{"default_required": Infinity}', "default_required: Input should be a finite number"),
        ('{"mandatory_hours": -Infinity}', "mandatory_hours: Input should be a finite number"),
        ('{"informal_caps": {"mentoring": -1}}', "informal_caps.mentoring: Input should be"),
    ):
        refused = owner.post("/console/hours/rules", data={"csrf": token, "rules": text})
        assert refused.status_code == 422 and field in refused.text, refused.text
    saved = owner.post(
        "/console/hours/rules",
        data={"csrf": token, "rules": '{"required_hours": {"5": 100}}'},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = owner.get(saved.headers["location"])
    assert 'id="saved"' in page.text
    ann = page.text.split('data-email="ann@example.go.kr"')[1]
    assert "<td>100</td>" in ann.split("</tr>")[0]  # Ann's requirement, as the rules now say
    with Session(mail_services.engine) as session:
        org = session.exec(select(Organisation).where(Organisation.slug == "moe")).one()
        assert org.rules == {"required_hours": {"5": 100.0}}
