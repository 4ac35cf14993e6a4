"""The front door, the API docs and every page a visitor, a learner or staff sees, in a real
headless Chromium: /docs renders the API's operations with every request to another host
blocked, and no page scrolls sideways on a 390 px wide phone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, ViewportSize, expect

from tests.web.conftest import Live
from tests.web.console_steps import join_in_browser
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_wallet_browser import sign_in

PHONE: ViewportSize = {"width": 390, "height": 844}


def offline(context: BrowserContext, base_url: str) -> list[str]:
    """Refuse every request that is not to ``base_url``; the list of those refused."""
    refused: list[str] = []

    def route(found: Route) -> None:
        if found.request.url.startswith(base_url + "/"):
            found.continue_()
        else:
            refused.append(found.request.url)
            found.abort("internetdisconnected")

    context.route("**/*", route)
    return refused


@pytest.fixture
def phone(browser: Browser, live: Live) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    offline(context, live.base_url)
    yield context.new_page()
    context.close()


def test_the_api_docs_work_without_internet(live: Live, browser: Browser) -> None:
    context = browser.new_context()
    refused = offline(context, live.base_url)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    page.goto(f"{live.base_url}/docs")
    operations = page.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() > 20
    assert page.locator(".opblock-summary-path", has_text="/api/v1/verify").count() >= 1
    page.goto(f"{live.base_url}/redoc")
    page.locator("[data-section-id^='operation/']").first.wait_for()
    assert refused == [] and [m for m in blocked if "script" in m] == []
    context.close()


def test_the_front_door_leads_everywhere(live: Live, phone: Page) -> None:
    page = phone
    page.goto(f"{live.base_url}/")
    assert page.locator("#home-title").inner_text() == "Laurel"
    page.fill("#url", f"{live.base_url}/v/{live.badges.valid}")
    page.click("#verify-door button[type=submit]")
    assert page.locator("#verdict-title").inner_text() == "Verified"
    page.goto(f"{live.base_url}/?lang=ko")
    assert page.locator("#staff-link").inner_text() == "담당자 로그인"
    assert page.locator("#staff-link").get_attribute("href") == "/console"
    page.goto(f"{live.base_url}/?lang=en")
    page.fill("#email", "valid@example.org")
    page.click("#wallet-door button[type=submit]")
    expect(page.locator("#check-title")).to_be_visible()
    page.goto(live.mailbox.link("valid@example.org"))
    page.click("#continue")
    assert page.url.endswith("/wallet")


WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' +
       Math.round(e.getBoundingClientRect().right)).slice(0, 8)"""


def fits(page: Page, path: str) -> None:
    """``document.documentElement.scrollWidth`` fits 390 px (and Chromium's phone mode did not
    widen the layout viewport to fit something wide); else, which elements stick out."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    fitting = widths[0] <= PHONE["width"] and widths[1] == PHONE["width"]
    assert fitting, (path, widths, page.evaluate(WIDEST))


def test_no_page_scrolls_sideways_on_a_phone(live: Live, phone: Page) -> None:
    page, base = phone, live.base_url
    public = [
        "/",
        "/?lang=ko",
        "/verify",
        *(f"/v/{getattr(live.badges, s)}" for s in ("valid", "revoked", "expired", "tampered")),
        f"/v/{live.badges.future}?lang=ko",
        "/v/00000000-0000-0000-0000-000000000000",
        "/frameworks/ecq/ECQ2-4",
        "/frameworks/ecq/ECQ2",
        "/terms",
        "/privacy",
        "/wallet/login",
        "/console/login",
    ]
    for path in public:
        page.goto(base + path)
        fits(page, path)
    page.goto(f"{base}/verify")
    page.fill("#url", f"{base}/v/{live.badges.revoked}")
    page.click("main button[type=submit]")
    expect(page.locator("#verdict-title")).to_be_visible()  # the verdict's page, not the form's
    fits(page, "/verify (a verdict)")

    sign_in(page, live, "valid@example.org")
    ref = f"c-{live.badges.valid}"
    page.goto(f"{base}/wallet/badges/{ref}")
    page.fill("#label", "ACME application")
    page.click("#create-link")
    shared = page.locator("code.share-url").first.inner_text()
    page.goto(f"{base}/wallet/profile")
    page.fill("#display_name", "Kim Min-jun")
    page.fill("#slug", "kim-minjun")
    page.check(f"#pick-{ref}")
    page.check("#published")
    page.click("main form button[type=submit]")
    wallet = [
        "/wallet",
        f"/wallet/badges/{ref}",
        "/wallet/skills",
        "/wallet/skills?target=lead-team-leader",
        "/wallet/emails",
        "/wallet/profile",
        "/wallet/import",
        "/wallet/account",
        "/wallet/apps",
        "/wallet/connections",
        "/wallet?lang=ko",
        "/wallet/skills?target=lead-team-leader&lang=ko",
        shared.removeprefix(base),
        "/p/kim-minjun",
    ]
    for path in wallet:
        page.goto(base + path)
        fits(page, path)

    join_in_browser(page, base, live.mailbox, live.services, "hrd", "viewer@hrd.example", "viewer")
    for path in (
        "/dashboard",
        "/dashboard?email=valid@example.org&target=lead-team-leader",
        "/dashboard?lang=ko",
        "/dashboard?email=valid@example.org&target=lead-team-leader&lang=ko",
    ):
        page.goto(base + path)
        fits(page, path)
