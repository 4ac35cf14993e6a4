"""Development plans in a real headless Chromium at a phone's width: a learner creates this
year's IDP from a target role, adds an activity with dates and a cost, and signs; the supervisor
named by the learner's department signs in to the wallet, finds the plan awaiting them and
signs it. Each page fits 360 px and passes axe-core's WCAG 2.1 A/AA rules, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.issuer.plan_fixtures import PLAN_LEAD, plan_issue, plan_org
from tests.web.conftest import Live
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_wallet_browser import accessible, axe, fits_a_phone
from tests.web.test_wallet_browser import phone as phone

__all__ = ["axe", "browser"]
KIM = "kim@mois.example.kr"
YEAR = datetime.now(UTC).year


def _sign_in(page: Page, live: Live, email: str) -> None:
    page.goto(f"{live.base_url}/wallet/login")
    page.fill("#email", email)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    expect(page.locator("#check-title")).to_be_visible()
    page.goto(live.mailbox.link(email))
    with page.expect_navigation():
        page.click("#continue")
    assert page.url.endswith("/wallet")


def _check(page: Page, axe: Path) -> None:
    accessible(page, axe)
    fits_a_phone(page)


def test_a_learner_plans_and_signs_and_the_supervisor_signs(
    live: Live, phone: Page, browser: Browser, axe: Path
) -> None:
    plan_org(live.services)
    plan_issue(live.client, live.services, "nhi", KIM, "emotional-intelligence")
    page = phone
    _sign_in(page, live, KIM)
    with page.expect_navigation():
        page.click("nav >> text=Development plan")
    expect(page.locator("#plan-title")).to_have_text(f"My development plan {YEAR}")
    _check(page, axe)
    page.select_option("#target", "lead-aspiring-leader")
    page.fill("#career-goal-new", "Lead the HR team")
    with page.expect_navigation():
        page.click("#create-plan")
    expect(page.locator("#done")).to_be_visible()
    # seven objectives, three courses suggested (derived in tests/issuer/test_plans.py)
    expect(page.locator("#objectives tbody tr")).to_have_count(7)
    expect(page.locator("#activities tbody tr")).to_have_count(3)
    _check(page, axe)

    page.fill("#title-new", "Shadow the director")
    page.fill("#starts-new", f"{YEAR}-04-01")
    page.fill("#ends-new", f"{YEAR}-04-30")
    page.fill("#cost-new", "150000")
    with page.expect_navigation():
        page.click("#add-activity")
    expect(page.locator("#activities tbody tr")).to_have_count(4)
    expect(page.locator("#activities")).to_contain_text("150,000 KRW")
    with page.expect_navigation():
        page.click("#sign-plan")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#plan-state")).to_have_text("Draft")
    expect(page.locator("#signed-person")).not_to_have_text("—")
    _check(page, axe)
    with page.expect_navigation():
        page.click("header .lang a")
    expect(page.locator("#plan-title")).to_have_text(f"나의 개인개발계획 {YEAR}")
    _check(page, axe)

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    lead = context.new_page()
    try:
        _sign_in(lead, live, PLAN_LEAD)
        lead.goto(f"{live.base_url}/wallet/plans/review")
        expect(lead.locator("#plans")).to_contain_text("Kim Min-jun")
        expect(lead.locator("#plans")).to_contain_text("Your signature")
        _check(lead, axe)
        with lead.expect_navigation():
            lead.click("#plans >> text=Kim Min-jun")
        expect(lead.locator("#career-goal")).to_have_text("Lead the HR team")
        _check(lead, axe)
        with lead.expect_navigation():
            lead.click("#supervisor-sign")
        expect(lead.locator("#plan-state")).to_have_text("Signed by both")
        expect(lead.locator("#signed-supervisor")).not_to_have_text("—")
        _check(lead, axe)
    finally:
        context.close()
    page.reload()
    expect(page.locator("#plan-state")).to_have_text("양측 서명 완료")
