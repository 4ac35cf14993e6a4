"""The issuer dashboard, reached with a console session: the organisation's cloud by group with
the change over a year, and a learner against a target (written to the access log); CSRF,
sessions and bad input."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.models import AccessLogEntry, StaffMember
from issuer.models.base import utcnow
from tests.issuer.conftest import issue_body, make_issuer
from tests.units import create_api_key
from tests.web.conftest import Inbox
from tests.web.console_steps import join


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _seed(site: TestClient, services: Services) -> None:
    headers = make_issuer(services, site, "hrd")
    for email, groups in (("a@example.org", ["Finance"]), ("b@example.org", ["Audit"])):
        body = issue_body(email)
        body["recipient"]["groups"] = groups
        assert site.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers).is_success


def test_dashboard_shows_the_cloud_by_group_and_a_learner_gap(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    services = mail_services
    _seed(site, services)
    assert site.get("/dashboard", follow_redirects=False).headers["location"] == "/console/login"
    site = join(site, mailbox, services, "hrd", "viewer@hrd.example", "viewer")
    page = site.get("/dashboard")
    assert page.status_code == 200 and "HRD Institute" in page.text
    assert page.headers["cache-control"] == "no-store"
    row = re.search(r"<tr><th scope=\"row\"><a [^>]*>Team Building.*?</tr>", page.text, re.S)
    assert row and "<td>2</td>" in row.group(0)
    assert 'id="rising"' in page.text
    finance = site.get("/dashboard", params={"group": "Finance"})
    row = re.search(r"<tr><th scope=\"row\"><a [^>]*>Team Building.*?</tr>", finance.text, re.S)
    assert row and "<td>1</td>" in row.group(0)
    picture = site.get("/dashboard/skills.svg", params={"group": "Finance"})
    assert picture.headers["content-type"].startswith("image/svg+xml")
    assert b"Team Building" in picture.content
    unknown = site.get("/dashboard", params={"group": "Nope"})
    assert unknown.status_code == 404 and "no group" in unknown.text

    gap = site.get("/dashboard", params={"email": "a@example.org", "target": "lead-team-leader"})
    assert gap.status_code == 200 and 'id="gap-chart"' in gap.text
    chart = site.get(
        "/dashboard/gaps.svg", params={"email": "a@example.org", "target": "lead-team-leader"}
    )
    assert chart.headers["content-type"].startswith("image/svg+xml")
    stranger = site.get(
        "/dashboard", params={"email": "zz@example.org", "target": "lead-team-leader"}
    )
    assert stranger.status_code == 404 and "no learner" in stranger.text
    korean = site.get("/dashboard", params={"lang": "ko"})
    assert "조직의 역량" in korean.text and 'lang="ko"' in korean.text
    row = re.search(r"<tr><th scope=\"row\"><a [^>]*>팀 빌딩.*?</tr>", korean.text, re.S)
    assert row and "<td>2</td>" in row.group(0)  # the catalogue's Korean name, same figures
    assert "LEAD 자격과정: 팀 리더" in korean.text  # the targets too
    assert "팀 빌딩" not in site.get("/dashboard", params={"lang": "en"}).text
    with Session(services.engine) as session:
        logged = session.exec(select(AccessLogEntry.action, AccessLogEntry.subject)).all()
    assert ("learner.skills", "a@example.org") in logged


def test_dashboard_needs_a_console_session_and_its_forms_their_token(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    services = mail_services
    _seed(site, services)
    assert site.get("/dashboard/login", follow_redirects=False).headers["location"] == (
        "/console/login"
    )
    key = create_api_key(services, "hrd", ["read"])  # an API key is no way in any more
    assert site.get("/dashboard", headers={"Authorization": f"Bearer {key}"}).url.path == (
        "/console/login"
    )
    staff = join(site, mailbox, services, "hrd", "viewer@hrd.example", "viewer")
    page = staff.get("/dashboard")
    assert page.status_code == 200
    logout_forged = staff.post("/dashboard/logout", data={"csrf": "x"})
    assert logout_forged.status_code == 403
    assert staff.get("/dashboard").status_code == 200  # still signed in
    out = staff.post("/dashboard/logout", data={"csrf": _csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert staff.get("/dashboard", follow_redirects=False).status_code == 303
    assert staff.get("/dashboard/skills.svg").status_code == 401

    # a member taken off the staff loses the session at once
    staff = join(site, mailbox, services, "hrd", "gone@hrd.example", "viewer")
    assert staff.get("/dashboard").status_code == 200
    with Session(services.engine) as session:
        member = session.exec(
            select(StaffMember).where(StaffMember.email == "gone@hrd.example")
        ).one()
        member.removed_at = utcnow()
        session.add(member)
        session.commit()
    assert staff.get("/dashboard", follow_redirects=False).status_code == 303
