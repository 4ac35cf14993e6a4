"""Informal learning in a real headless Chromium at a phone's width: a learner signs in to the
wallet and claims a study group; the supervisor opens the emailed link, signs in with the
wallet's email link and endorses it for fewer hours; the learner finds the badge (verified,
with its endorsement) in the wallet. Each page fits 360 px and passes axe-core's WCAG 2.1 A/AA
rules."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.issuer.orgs_fixtures import informal_org
from tests.web.conftest import Live
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_wallet_browser import accessible, axe, fits_a_phone, sign_in
from tests.web.test_wallet_browser import phone as phone

__all__ = ["axe", "browser"]

ANN, BOSS = "ann@mois.example", "boss@mois.example"


def test_a_claim_is_endorsed_and_becomes_a_badge(
    live: Live, phone: Page, browser: Browser, axe: Path
) -> None:
    informal_org(live.services)
    page = phone
    sign_in(page, live, ANN)
    page.click("nav >> text=Learning claims")
    expect(page.locator("h1")).to_have_text("Informal learning claims")
    expect(page.locator("#no-claims")).to_be_visible()
    accessible(page, axe)
    fits_a_phone(page)
    page.select_option("#category", "study_group")
    page.fill("#title", "Data study group")
    page.fill("#started", "2026-03-01")
    page.fill("#ended", "2026-06-30")
    page.fill("#hours", "12")
    page.fill("#evidence-url", "https://wiki.mois.example/study/data")
    page.fill("#learned", "Reading survey data with pandas.")
    with page.expect_navigation():
        page.click("#send-claim")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#claims .state")).to_have_text(f"Waiting for {BOSS}")
    accessible(page, axe)
    fits_a_phone(page)

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    boss = context.new_page()
    boss.goto(live.mailbox.link(BOSS, "/wallet/login?next="))
    boss.fill("#email", BOSS)
    with boss.expect_navigation():
        boss.click("main button[type=submit]")
    expect(boss.locator("#check-title")).to_be_visible()
    boss.goto(live.mailbox.link(BOSS))
    with boss.expect_navigation():
        boss.click("#continue")
    assert boss.url.endswith("/wallet/endorse")
    claim = boss.locator("#awaiting li.claim")
    expect(claim).to_have_count(1)
    expect(claim.locator(".learner")).to_have_text("Ann Lee")
    accessible(boss, axe)
    fits_a_phone(boss)
    claim.locator("input[name=hours]").fill("10")
    claim.locator("form[id^=endorse] textarea").fill("Good notes from every session.")
    with boss.expect_navigation():
        claim.locator("form[id^=endorse] button").click()
    expect(boss.locator("#done")).to_have_text("✓ Endorsed: the badge was issued to Ann Lee.")
    expect(boss.locator("#nothing")).to_be_visible()
    accessible(boss, axe)
    context.close()

    page.goto(f"{live.base_url}/wallet/claims")
    expect(page.locator("#claims .state")).to_have_text("Endorsed")
    expect(page.locator("#claims .hours")).to_have_text(
        "12 h claimed · 10 h endorsed · 10 h counted"
    )
    expect(page.locator("#claims .comment")).to_contain_text("Good notes from every session.")
    accessible(page, axe)
    page.click("nav >> text=My badges")
    cards = page.locator("#badges li")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Informal Learning: Study Group")
    with page.expect_navigation():
        cards.first.locator("a").first.click()
    expect(page.locator("#verdict-title")).to_have_text("Verified")
    endorsements = page.locator("li[data-check=endorsements]")
    expect(endorsements).to_contain_text("1 endorsement(s) verified")
    expect(endorsements.locator(".outcome")).to_have_text("Passed")
    fits_a_phone(page)
