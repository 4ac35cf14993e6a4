"""The learning-hours page in a real headless Chromium at a phone's width: a director (a viewer
of the ministry's console) sees each unit's members, how many met the year's rule and their
average hours, every member (also one with no hours), filters by unit (sub-units included),
reads it in Korean and downloads the CSV. Each view fits 360 px and passes axe-core's WCAG 2.1
A/AA rules."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.issuer.conftest import issue_body
from tests.issuer.orgs_fixtures import add_member, add_unit, make_org
from tests.units import create_api_key
from tests.web.conftest import Live
from tests.web.console_steps import join_in_browser
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_wallet_browser import accessible, axe, fits_a_phone
from tests.web.test_wallet_browser import phone as phone

__all__ = ["axe", "browser"]

RULES = {"designated": {"*": ["leadership"]}, "mandatory_hours": 0}


def test_a_director_reads_the_hours_of_every_unit_and_person(
    live: Live, phone: Page, axe: Path
) -> None:
    page = phone
    services = live.services
    make_org(services, "hrd", "hrd", "Ministry of Learning", RULES)
    add_unit(services, "hrd", "DIV", "Policy Division", name_ko="정책과")
    add_unit(services, "hrd", "TEAM-A", "Team A", parent="DIV", name_ko="가팀")
    add_unit(services, "hrd", "OPS", "Operations", name_ko="운영과")
    add_member(services, "hrd", "ann@example.go.kr", "Ann Park", unit="TEAM-A", grade="5")
    add_member(services, "hrd", "bob@example.go.kr", "Bob Lee", unit="OPS", grade="6")
    add_member(services, "hrd", "cho@example.go.kr", "Cho Kim", unit="DIV", grade="3")
    key = create_api_key(services, "hrd", ["issue"])
    # by hand: 24 + 24 + 24 + 8 = 80 leadership hours (designated for every unit) → met
    for hours in (24, 24, 24, 8):
        issued = live.client.post(
            "/api/v1/issuers/hrd/credentials",
            json=issue_body("ann@example.go.kr", creditsEarned=hours),
            headers={"Authorization": f"Bearer {key}"},
        )
        assert issued.status_code == 201, issued.text

    join_in_browser(
        page, live.base_url, live.mailbox, services, "hrd", "director@hrd.example", "viewer"
    )
    page.click("nav.console >> text=Learning hours")
    expect(page.locator("h1")).to_have_text("Learning hours")
    accessible(page, axe)
    fits_a_phone(page)
    year = str(datetime.now(UTC).year)
    assert page.locator("#year").input_value() == year
    rows = page.locator("#members tbody tr")
    expect(rows).to_have_count(3)
    ann = page.locator("#members tr[data-email='ann@example.go.kr']")
    expect(ann.locator(".hours")).to_have_text("80")
    expect(ann.locator(".status")).to_have_text("met")
    bob = page.locator("#members tr[data-email='bob@example.go.kr']")
    expect(bob.locator(".hours")).to_have_text("0")
    expect(bob.locator(".status")).to_have_text("not met")
    cho = page.locator("#members tr[data-email='cho@example.go.kr']")
    expect(cho.locator(".status")).to_have_text("no requirement")
    units = page.locator("#units tbody tr")
    expect(units).to_have_count(3)
    expect(page.locator("#units tr", has_text="TEAM-A")).to_contain_text("1 / 1")
    expect(page.locator("#units tr", has_text="TEAM-A")).to_contain_text("100%")
    expect(page.locator("#units tr", has_text="OPS")).to_contain_text("0%")

    page.select_option("#unit", "DIV")
    with page.expect_navigation():
        page.click("#show")
    expect(rows).to_have_count(2)  # Cho in the division, Ann in its team
    expect(page.locator("#count")).to_have_text("2 people")
    fits_a_phone(page)

    with page.expect_download() as downloading:
        page.click("#csv")
    text = Path(downloading.value.path()).read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    assert sorted((r["email"], r["hours"], r["status"]) for r in table) == [
        ("ann@example.go.kr", "80", "met"),
        ("cho@example.go.kr", "0", "exempt"),
    ]

    page.goto(f"{live.base_url}/console/hours?lang=ko&status=unmet")
    expect(page.locator("h1")).to_have_text("학습시간")
    expect(rows).to_have_count(1)
    expect(bob.locator(".status")).to_have_text("미충족")
    expect(page.locator("#units tr", has_text="OPS")).to_contain_text("운영과")
    accessible(page, axe)
    fits_a_phone(page)
