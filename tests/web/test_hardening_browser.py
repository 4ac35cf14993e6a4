"""The security headers in a real headless Chromium: the main pages (a credential's page,
/verify and its form, the wallet, the dashboard) work with their Content-Security-Policy on and
break none of it; no page can be framed; a hostile script in a page or an SVG does not run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route

from tests.web.conftest import Live
from tests.web.console_steps import join_in_browser
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_wallet_browser import sign_in

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.effectiveDirective + ' ' + (e.blockedURI || 'inline')));
"""
PAGE_BACKGROUND = "rgb(249, 250, 251)"  # body's background in base.html's <style>


class Watched:
    """A page whose CSP violations (DOM events and console reports) are collected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def check(self) -> None:
        """No violation on the page so far, and its stylesheet applied."""
        page = self.page
        violations: list[str] = page.evaluate("window.__violations || []")
        assert not violations and not self.console, (page.url, violations, self.console)
        style = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert style == PAGE_BACKGROUND, (page.url, style)  # the <style> hash matched
        broken = page.evaluate(
            "[...document.images].filter(i => i.complete && !i.naturalWidth).map(i => i.src)"
        )
        assert not broken, (page.url, broken)


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(java_script_enabled=True, accept_downloads=True)
    yield Watched(context.new_page())
    context.close()


def test_main_pages_keep_working_under_their_policy(live: Live, watched: Watched) -> None:
    page = watched.page
    page.goto(f"{live.base_url}/v/{live.badges.valid}")
    assert page.locator("#verdict-title").inner_text() == "Verified"
    watched.check()
    page.goto(f"{live.base_url}/v/{live.badges.revoked}?lang=ko")
    watched.check()

    page.goto(f"{live.base_url}/verify?lang=en")
    watched.check()
    page.fill("#pasted", live.client.get(f"/v/{live.badges.valid}/credential.json").text)
    page.click("main form button[type=submit]")  # the form carries its CSRF token
    assert page.locator("#verdict-title").inner_text() == "Verified"
    watched.check()

    sign_in(page, live, "valid@example.org")
    watched.check()
    for path in (f"/wallet/badges/c-{live.badges.valid}", "/wallet/skills", "/wallet/import"):
        page.goto(f"{live.base_url}{path}")
        watched.check()
    page.goto(f"{live.base_url}/wallet/badges/c-{live.badges.valid}")
    page.fill("#label", "ACME")
    page.click("#create-link")
    share = page.locator("code.share-url").first.inner_text()
    page.goto(share)
    assert page.locator("#verdict-title").inner_text() == "Verified"
    watched.check()

    page.goto(f"{live.base_url}/console/login")
    watched.check()
    join_in_browser(
        page, live.base_url, live.mailbox, live.services, "hrd", "o@hrd.example", "owner"
    )
    watched.check()
    for path in ("/dashboard", "/console/credentials", "/console/upload", "/console/keys"):
        page.goto(f"{live.base_url}{path}")
        watched.check()


def test_no_page_can_be_framed_by_another_site(live: Live, watched: Watched) -> None:
    page = watched.page
    page.set_content(
        f'<iframe id="f" src="{live.base_url}/wallet/login"></iframe>'
        f'<iframe id="g" src="{live.base_url}/v/{live.badges.valid}"></iframe>'
    )
    page.wait_for_load_state("load")
    framed = [frame for frame in page.frames if frame != page.main_frame]
    assert len(framed) == 2
    for frame in framed:
        assert frame.query_selector("form") is None and frame.query_selector("main") is None


def served(route: Route, body: str, content_type: str, policy: str) -> None:
    route.fulfill(
        status=200,
        body=body,
        headers={"Content-Type": content_type, "Content-Security-Policy": policy},
    )


def test_the_policies_stop_injected_scripts(live: Live, watched: Watched) -> None:
    """Were a page or an SVG to carry a script (an imported badge's picture, say), Laurel's own
    policies, as served, keep it from running."""
    page_policy = live.client.get("/verify").headers["content-security-policy"]
    svg_policy = live.client.get(f"/v/{live.badges.valid}/badge.svg").headers[
        "content-security-policy"
    ]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="document.title=1">'
        "<script>document.title = 'ran'</script>"
        '<rect width="10" height="10" style="fill: red"/></svg>'
    )
    html = (
        "<!doctype html><title>page</title><script>document.title = 'ran'</script>"
        '<img src="x" onerror="document.title = \'ran\'"><a href="javascript:void 0">x</a>'
    )
    page = watched.page
    routes: dict[str, tuple[str, str, str]] = {
        "/hostile.svg": (svg, "image/svg+xml", svg_policy),
        "/hostile.html": (html, "text/html", page_policy),
    }

    def handle(route: Route) -> None:
        path = "/" + route.request.url.split("/", 3)[-1]
        body, kind, policy = routes[path]
        served(route, body, kind, policy)

    page.route(f"{live.base_url}/hostile.*", handle)
    for path in routes:
        page.goto(f"{live.base_url}{path}")
        title: Any = page.evaluate("document.title")
        assert title != "ran" and title != "1", path
