"""The three states of "who issued it", in a real headless Chromium, in English and Korean: a badge
of this instance (known), a did:web issuer on its own domain (linked) and a self-made did:key
"university" (unconfirmed) — never with the same green banner as a known issuer, and every page
passing axe-core's WCAG 2.1 A/AA rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import Live
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_verdict_pages import linked_badge, university_badge
from tests.web.test_wallet_browser import accessible
from tests.web.test_wallet_browser import axe as axe  # the module-scoped fixture

LINKED = "did:web:badges.linked.example"
WORDS = {
    "en": {
        "known": ("Verified", "Known issuer"),
        "linked": ("Verified", "Issuer linked to badges.linked.example"),
        "unconfirmed": ("Genuine, but the issuer is not confirmed", "Unconfirmed issuer"),
    },
    "ko": {
        "known": ("검증됨", "확인된 발급 기관"),
        "linked": ("검증됨", "badges.linked.example에 연결된 발급 기관"),
        "unconfirmed": ("진본이지만 발급 기관 미확인", "미확인 발급 기관"),
    },
}


@pytest.fixture
def linked_world(live: Live) -> str:
    """A did:web issuer whose DID document its own domain serves; returns one of its badges.
    (The live fixture is built anew for each test, so its network needs no restoring.)"""
    return linked_badge(live)


def background(page: Page) -> str:
    return str(page.eval_on_selector("#verdict", "e => getComputedStyle(e).backgroundColor"))


def paste_and_verify(page: Page, live: Live, lang: str, badge: str) -> None:
    page.goto(f"{live.base_url}/verify?lang={lang}")
    page.fill("#pasted", badge)
    page.click("main form button[type=submit]")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_three_states_in_the_browser(
    live: Live, browser: Browser, axe: Path, linked_world: str, lang: str
) -> None:
    context = browser.new_context(locale="en-US")  # the language comes from ?lang= only
    page = context.new_page()
    colours = {}
    for state in ("known", "linked", "unconfirmed"):
        if state == "known":
            page.goto(f"{live.base_url}/v/{live.badges.valid}?lang={lang}")
        else:
            paste_and_verify(
                page, live, lang, linked_world if state == "linked" else university_badge()
            )
        title, who = WORDS[lang][state]
        assert page.locator("#verdict-title").inner_text() == title, (lang, state)
        assert page.locator("#identity").get_attribute("data-state") == state
        assert page.locator("#identity-state").inner_text() == who
        assert page.locator("html").get_attribute("lang") == lang
        colours[state] = background(page)
        accessible(page, axe)
    assert len(set(colours.values())) == 3  # green, blue, amber: never the same banner
    context.close()
