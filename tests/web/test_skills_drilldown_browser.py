"""The skills picture on the dashboard in a real headless Chromium at a phone's width: a staff
member clicks a skill in the cloud's table and sees the badges that contributed (type × hours ×
alignment × recency = contribution, summing to the weight shown), the ECQ roll-up and the
relative thresholds; forms a team from a form; and reads the skill names in Korean. Each page
fits 390 px and passes axe-core's WCAG 2.1 A/AA rules."""

from __future__ import annotations

import math
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.units import create_api_key, load_templates
from tests.web.conftest import Live
from tests.web.console_steps import join_in_browser
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_wallet_browser import accessible, axe, fits_a_phone
from tests.web.test_wallet_browser import phone as phone

__all__ = ["axe", "browser"]

HF16 = 1 + math.log(1 + 16 / 8)  # the hours factor of a 16-hour course


def _issue(live: Live, headers: dict[str, str], key: str, email: str) -> None:
    body = {"recipient": {"email": email}, "achievement": key}
    answer = live.client.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers)
    assert answer.status_code == 201, answer.text


def test_a_skill_drills_down_to_its_contributions(live: Live, phone: Page, axe: Path) -> None:
    page = phone
    load_templates(live.services, "hrd")
    headers = {"Authorization": f"Bearer {create_api_key(live.services, 'hrd', ['issue'])}"}
    _issue(live, headers, "leading-through-change", "kim@example.org")  # ECQ1-3 + ai flexibility
    _issue(live, headers, "leading-through-change", "lee@example.org")
    _issue(live, headers, "innovation-in-government", "lee@example.org")  # ECQ1-1
    join_in_browser(
        page, live.base_url, live.mailbox, live.services, "hrd", "viewer@hrd.example", "viewer"
    )
    page.goto(f"{live.base_url}/dashboard?lang=en")
    table = page.locator("#skills-table")
    assert table.locator("a.explain", has_text=re.compile("^Flexibility$")).count() == 1
    accessible(page, axe)
    fits_a_phone(page)

    with page.expect_navigation():
        table.locator("a.explain", has_text=re.compile("^Flexibility$")).click()
    expect(page.locator("#explain-title")).to_contain_text("Flexibility")
    rows = page.locator("#contributions tbody tr")
    expect(rows).to_have_count(2)  # one badge each for kim and lee, counted once per badge
    first = rows.nth(0).locator("td")
    # person, type, hours, alignment, recency, contribution
    assert first.nth(1).inner_text() == "1.0" and first.nth(2).inner_text() == "2.0986"
    assert first.nth(3).inner_text().startswith("1.0")
    total = float(page.locator("#contributions-total").inner_text())
    assert math.isclose(total, 2 * HF16, abs_tol=2e-3)
    parts = [float(rows.nth(n).locator("td").nth(5).inner_text()) for n in range(2)]
    assert math.isclose(sum(parts), total, abs_tol=2e-3)
    assert "Evidence level 2" in page.locator("#explain-level").inner_text()  # 4.197 >= 3
    expect(page.locator("#rollup")).to_contain_text("Leading Change")
    expect(page.locator("#thresholds")).to_contain_text("Thin")
    accessible(page, axe)
    fits_a_phone(page)

    # one person's drill-down from the API's twin, the dashboard link with who=
    page.goto(f"{live.base_url}/dashboard?skill=ecq:ECQ1-1&who=lee@example.org#explain")
    expect(page.locator("#contributions tbody tr")).to_have_count(1)
    expect(page.locator("#explain-level")).to_contain_text("Evidence level 1")

    # a team: Flexibility twice (critical), Creativity and Innovation once
    page.goto(f"{live.base_url}/dashboard")
    page.select_option("#team-skills", ["ECQ1-3", "ECQ1-1"])
    page.select_option("#team-critical", ["ECQ1-3"])
    with page.expect_navigation():
        page.click("#team-form button[type=submit]")
    members = page.locator("#team-members tbody tr")
    expect(members).to_have_count(2)
    expect(members.nth(0)).to_contain_text("lee@example.org")
    expect(members.nth(1)).to_contain_text("kim@example.org")
    expect(members.nth(1)).to_contain_text("second holder of ECQ1-3")
    accessible(page, axe)
    fits_a_phone(page)

    page.goto(f"{live.base_url}/dashboard?lang=ko&skill=ecq:ECQ1-3")
    expect(page.locator("#explain-title")).to_contain_text("유연성")
    expect(page.locator("#skills-table")).to_contain_text("유연성")
    page.goto(f"{live.base_url}/dashboard?email=kim@example.org&target=grade-4")
    expect(page.locator("#gap-name")).to_have_text("4급 서기관·과장")
    expect(page.locator("#readiness")).to_contain_text("준비도")
    accessible(page, axe)
    fits_a_phone(page)
