"""An organisation across issuers in a real headless Chromium at a phone's width: a learner on
the ministry's roster shares a university badge from their wallet with the ministry and
withdraws it; a viewer of the ministry's home issuer sees on /console/org its roster, trusted
issuers and what was shared, per source. Each page fits the phone and passes axe-core."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.issuer.org_api_fixtures import University, small_org
from tests.units import import_badge, resolve_learner
from tests.web.conftest import Live
from tests.web.console_steps import join_in_browser
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_wallet_browser import accessible, axe, fits_a_phone, sign_in
from tests.web.test_wallet_browser import phone as phone

__all__ = ["axe", "browser"]
KIM = "kim@mois.example.kr"


def test_a_member_shares_a_badge_and_the_console_shows_its_source(
    live: Live, phone: Page, axe: Path
) -> None:
    page = phone
    university = University()
    learner = resolve_learner(live.services, KIM, "Kim Min-jun")
    assert learner.id is not None
    small_org(live.services, "hrd", [KIM], university)
    row = import_badge(live.services, learner.id, json.dumps(university.credential(KIM)).encode())

    sign_in(page, live, KIM)
    page.goto(f"{live.base_url}/wallet/badges/i-{row.id}")
    share = page.locator("#org-share-title + p + form button")
    expect(share).to_have_text("Share with Ministry of the Interior")
    accessible(page, axe)
    fits_a_phone(page)
    share.click()
    expect(page.locator("#done")).to_have_text("✓ Shared with your organisation")
    expect(page.locator(".org-shared")).to_have_text("Shared with Ministry of the Interior")
    accessible(page, axe)

    join_in_browser(
        page, live.base_url, live.mailbox, live.services, "hrd", "hr@mois.example.kr", "viewer"
    )
    page.goto(f"{live.base_url}/console/org")
    expect(page.locator("#org-name")).to_have_text("Ministry of the Interior")
    expect(page.locator("#roster-count")).to_have_text("1")
    expect(page.locator("#trusted li")).to_have_count(2)
    source = page.locator(f"#shared tr[data-ref='{university.did}'] td")
    expect(source.nth(0)).to_have_text(university.name)
    expect(source.nth(1)).to_have_text("1")  # counting
    accessible(page, axe)
    fits_a_phone(page)
    page.goto(f"{live.base_url}/console/org?lang=ko")
    expect(page.locator("#org-name")).to_have_text("행정안전부")
    accessible(page, axe)

    page.goto(f"{live.base_url}/wallet/badges/i-{row.id}?lang=en")  # still signed in
    page.locator("form[action$='/withdraw'] button").click()
    expect(page.locator("#done")).to_have_text("✓ Sharing withdrawn")
    page.goto(f"{live.base_url}/console/org")  # the staff session is still in this browser
    source = page.locator(f"#shared tr[data-ref='{university.did}'] td")
    expect(source.nth(2)).to_have_text("1")  # withdrawn
