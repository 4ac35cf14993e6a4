"""The pages in a real headless Chromium (Debian's, driven by Playwright): each state shows its
verdict, /verify takes an upload, and a phone-sized screen shows the verdict without scrolling
sideways."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.web.conftest import Live

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize(
    ("state", "verdict"),
    [
        ("valid", "Verified"),
        ("revoked", "Revoked on "),
        ("expired", "Expired on 1 January 2021"),
        ("future", "Not valid yet: valid from 1 January 2099"),
        ("tampered", "Not verified"),
    ],
)
def test_verdict_per_state(live: Live, page: Page, state: str, verdict: str) -> None:
    page.goto(f"{live.base_url}/v/{getattr(live.badges, state)}")
    heading = page.locator("#verdict-title")
    assert heading.inner_text().startswith(verdict)
    expect(heading).to_be_visible()
    assert page.locator("h2#achievement-title").inner_text() == "Leading People"


def test_verify_accepts_an_upload(live: Live, page: Page, tmp_path: Path) -> None:
    badge = tmp_path / "badge.png"
    badge.write_bytes(live.client.get(f"/v/{live.badges.valid}/badge.png").content)
    page.goto(f"{live.base_url}/verify")
    page.set_input_files("#upload", str(badge))
    page.click("button[type=submit]")
    assert page.locator("#verdict-title").inner_text() == "Verified"


def test_phone_viewport_shows_the_verdict_without_sideways_scrolling(
    live: Live, browser: Browser
) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, java_script_enabled=True
    )
    page = context.new_page()
    for state in ("valid", "revoked"):
        page.goto(f"{live.base_url}/v/{getattr(live.badges, state)}")
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], widths
        box = page.locator(".verdict").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 640
    context.close()


def test_dashboard_in_the_browser(live: Live, browser: Browser) -> None:
    from tests.web.console_steps import join_in_browser

    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.base_url}/dashboard")
    assert page.url.endswith("/console/login")
    join_in_browser(
        page, live.base_url, live.mailbox, live.services, "hrd", "v@hrd.example", "viewer"
    )
    page.click("nav.console >> text=Skills and reports")
    assert page.url.endswith("/dashboard")
    assert "HRD Institute" in page.inner_text("header")
    cloud = page.locator("#cloud")
    # expect(), not wait_for_function: that evaluates a string, which the page's CSP forbids
    expect(cloud).to_have_js_property("complete", True)
    assert page.evaluate("document.getElementById('cloud').naturalWidth") > 0
    assert "Team Building" in (cloud.get_attribute("alt") or "")
    assert "Team Building" in page.locator("#skills-table").inner_text()
    page.fill("#email", "valid@example.org")
    page.select_option("#target", "lead-team-leader")
    page.click("#gap-title ~ form button[type=submit]")
    assert page.locator("#gap-name").inner_text().startswith("LEAD")
    expect(page.locator("#gap-chart")).to_have_js_property("complete", True)
    assert page.evaluate("document.getElementById('gap-chart').naturalWidth") > 0
    context.close()
