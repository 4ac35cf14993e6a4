"""Webhooks, emails and the collect page in a real headless Chromium at a phone's width: an owner
adds a webhook endpoint for a loopback receiver that fails, replays the delivery from its log;
previews and saves an email template; a learner opens the emailed collect link and gets the
Learner Credential Wallet deep link and QR code. Each page fits 390 px and passes axe-core's
WCAG 2.1 A/AA rules."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.issuer.conftest import issue_body
from tests.issuer.test_webhooks import Receiver
from tests.units import create_api_key
from tests.web.conftest import Live
from tests.web.console_steps import join_in_browser
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_wallet_browser import accessible, axe, fits_a_phone
from tests.web.test_wallet_browser import phone as phone

__all__ = ["axe", "browser"]


def test_an_owner_replays_a_webhook_and_edits_an_email_and_a_learner_collects(
    live: Live, phone: Page, axe: Path
) -> None:
    page = phone
    receiver = Receiver()
    try:
        join_in_browser(
            page, live.base_url, live.mailbox, live.services, "hrd", "owner@hrd.example", "owner"
        )
        page.click("nav.console >> text=Webhooks")
        accessible(page, axe)
        fits_a_phone(page)
        page.fill("#webhook-url", receiver.url)
        page.click("#add-webhook")
        assert page.locator("#new-secret").inner_text().startswith("whsec_")
        accessible(page, axe)
        fits_a_phone(page)

        receiver.script = [500]
        key = create_api_key(live.services, "hrd", ["issue"])
        issued = live.client.post(
            "/api/v1/issuers/hrd/credentials",
            json=issue_body("ann@example.org"),
            headers={"Authorization": f"Bearer {key}"},
        )
        assert issued.status_code == 201, issued.text
        assert len(receiver.got) == 1
        page.goto(f"{live.base_url}/console/webhooks")
        page.click("#webhooks >> text=Deliveries")
        assert page.locator("#deliveries .state").inner_text() == "pending"
        accessible(page, axe)
        fits_a_phone(page)
        page.click("#deliveries button.replay")
        expect(page.locator("#replayed")).to_be_visible()
        # the replay is sent after the request's commit, beside the redirect: reload until done
        for _ in range(50):
            if page.locator("#deliveries .state").inner_text() == "delivered":
                break
            page.wait_for_timeout(200)
            page.reload()
        assert page.locator("#deliveries .state").inner_text() == "delivered"
        assert len(receiver.got) == 2
        assert receiver.got[0][0]["webhook-id"] == receiver.got[1][0]["webhook-id"]

        page.click("nav.console >> text=Emails")
        accessible(page, axe)
        fits_a_phone(page)
        page.fill("#subject-issued-en", "{issuer} awarded you {badge}")
        page.click("#issued-en >> button[value=preview]")
        assert (
            page.locator("#preview-subject").inner_text()
            == "HRD Institute awarded you Data Literacy"
        )
        accessible(page, axe)
        fits_a_phone(page)
        page.focus("#issued-en button[value=save]")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator("#issued-en h2")).to_have_text(re.compile(r"\(the issuer's own\)$"))
    finally:
        receiver.close()

    # the learner's email: its collect link, on the phone
    page.goto(live.mailbox.link("ann@example.org", "/collect/"))
    accessible(page, axe)
    fits_a_phone(page)
    page.click("#collect-lcw")
    deep = page.locator("#lcw-link").get_attribute("href")
    assert deep is not None and deep.startswith("https://lcw.app/request?request=")
    expect(page.locator("#lcw-qr svg")).to_be_visible()
    accessible(page, axe)
    fits_a_phone(page)
