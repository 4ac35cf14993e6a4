"""The issuer dashboard: sign in with an API key, the organisation's cloud by group with the
change over a year, and a learner against a target; CSRF, sessions and bad input."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from issuer.app import create_app
from issuer.context import Services
from tests.issuer.conftest import issue_body, make_issuer
from tests.units import create_api_key


@pytest.fixture
def site(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services), base_url="https://laurel.test") as client:
        yield client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _sign_in(site: TestClient, key: str) -> None:
    form = site.get("/dashboard/login")
    response = site.post(
        "/dashboard/login",
        data={"api_key": key, "csrf": _csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    cookie = response.headers["set-cookie"]
    assert "laurel_staff=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    assert "samesite=lax" in cookie.lower()


def _seed(site: TestClient, services: Services) -> str:
    headers = make_issuer(services, site, "hrd")
    for email, groups in (("a@example.org", ["Finance"]), ("b@example.org", ["Audit"])):
        body = issue_body(email)
        body["recipient"]["groups"] = groups
        assert site.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers).is_success
    return create_api_key(services, "hrd", ["read"])


def test_dashboard_shows_the_cloud_by_group_and_a_learner_gap(
    site: TestClient, services: Services
) -> None:
    key = _seed(site, services)
    assert site.get("/dashboard", follow_redirects=False).headers["location"] == "/dashboard/login"
    _sign_in(site, key)
    page = site.get("/dashboard")
    assert page.status_code == 200 and "HRD Institute" in page.text
    assert page.headers["cache-control"] == "no-store"
    row = re.search(r"<tr><th scope=\"row\">Team Building.*?</tr>", page.text, re.S)
    assert row and "<td>2</td>" in row.group(0)
    assert 'id="rising"' in page.text
    finance = site.get("/dashboard", params={"group": "Finance"})
    row = re.search(r"<tr><th scope=\"row\">Team Building.*?</tr>", finance.text, re.S)
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


def test_dashboard_sign_in_refuses_bad_keys_forms_and_revoked_keys(
    site: TestClient, services: Services
) -> None:
    key = _seed(site, services)
    form = site.get("/dashboard/login")
    token = _csrf(form.text)
    no_csrf = site.post("/dashboard/login", data={"api_key": key, "csrf": "forged"})
    assert no_csrf.status_code == 403 and "reload the page" in no_csrf.text
    wrong = site.post("/dashboard/login", data={"api_key": "lrl_nope_nope", "csrf": token})
    assert wrong.status_code == 401 and "not valid" in wrong.text
    issue_only = create_api_key(services, "hrd", ["issue"])
    lacking = site.post("/dashboard/login", data={"api_key": issue_only, "csrf": token})
    assert lacking.status_code == 403 and "read" in lacking.text
    elsewhere = site.post(
        "/dashboard/login",
        data={"api_key": key, "csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403

    _sign_in(site, key)
    assert site.get("/dashboard").status_code == 200
    page = site.get("/dashboard")
    logout_forged = site.post("/dashboard/logout", data={"csrf": "x"})
    assert logout_forged.status_code == 403
    assert site.get("/dashboard").status_code == 200  # still signed in
    out = site.post("/dashboard/logout", data={"csrf": _csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert site.get("/dashboard", follow_redirects=False).status_code == 303
    assert site.get("/dashboard/skills.svg").status_code == 401

    _sign_in(site, key)
    from sqlmodel import Session, select

    from issuer.models import ApiKey
    from issuer.models.base import utcnow

    with Session(services.engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.prefix == key.split("_")[1])).one()
        row.revoked_at = utcnow()
        session.add(row)
        session.commit()
    assert site.get("/dashboard", follow_redirects=False).status_code == 303
