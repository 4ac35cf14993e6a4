"""The wallet in a real headless Chromium, mail through a real SMTP server: sign in from the
emailed link, see an issued badge, add a second email, share and revoke a link, import an
external badge, download a baked badge that `laurel verify` accepts; every page passes axe-core's
WCAG 2.1 A/AA rules and fits a phone's width."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from issuer.cli import app as cli
from issuer.crypto.keys import did_key, did_key_method, generate_ed25519
from issuer.crypto.signing import sign_data_integrity
from tests.issuer.credentials import make_credential
from tests.web.conftest import Live
from tests.web.test_browser import browser as browser  # the module-scoped fixture

JS = Path(__file__).parent / "js"
AXE = JS / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def axe() -> Path:
    """axe-core from the npm registry (``npm ci`` in tests/web/js on first use)."""
    lock = JS / "package-lock.json"
    installed = JS / "node_modules" / ".package-lock.json"
    if not (installed.is_file() and installed.stat().st_mtime >= lock.stat().st_mtime):
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, capture_output=True
        )
    return AXE


def accessible(page: Page, axe: Path) -> None:
    """No WCAG 2.1 A or AA violation that axe-core can find on the current page. axe-core is
    run the way DevTools runs a script, since the pages' Content-Security-Policy (rightly)
    refuses an injected ``<script>``."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(axe.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    problems = [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in result["violations"]
    ]
    assert not problems, f"{page.url}: {problems}"


def fits_a_phone(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (page.url, widths)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, accept_downloads=True
    )
    yield context.new_page()
    context.close()


def external_badge(tmp_path: Path) -> Path:
    """A badge from an issuer this instance does not know (a fresh did:key), for import."""
    key = generate_ed25519()
    credential = make_credential(did_key(key))
    credential["issuer"]["name"] = "Open University of Testing"
    credential["credentialSubject"]["achievement"]["name"] = "Data Literacy"
    signed = sign_data_integrity(credential, key, did_key_method(key))
    path = tmp_path / "external.json"
    path.write_text(json.dumps(signed), "utf-8")
    return path


def sign_in(page: Page, live: Live, email: str) -> None:
    page.goto(f"{live.base_url}/wallet")
    assert page.url.endswith("/wallet/login")
    page.fill("#email", email)
    page.click("main button[type=submit]")
    expect(page.locator("#check-title")).to_be_visible()
    page.goto(live.mailbox.link(email))
    page.click("#continue")
    expect(page.locator("#badges-title")).to_be_visible()  # the wallet page, loaded
    assert page.url.endswith("/wallet")


def test_the_learners_journey(
    live: Live, phone: Page, browser: Browser, axe: Path, tmp_path: Path
) -> None:
    page = phone
    page.goto(f"{live.base_url}/wallet/login")
    accessible(page, axe)
    sign_in(page, live, "valid@example.org")
    cards = page.locator("#badges li")
    expect(cards).to_have_count(1)  # waits: under load the page may still be arriving
    expect(cards.first).to_contain_text("Leading People")
    accessible(page, axe)
    fits_a_phone(page)

    # a second email: the badge issued to it joins this wallet
    page.click("nav >> text=Emails")
    accessible(page, axe)
    page.fill("#new-email", "revoked@example.org")
    page.click("form[action='/wallet/emails'] button")
    expect(page.locator("#sent")).to_be_visible()
    page.goto(live.mailbox.link("revoked@example.org", "/wallet/emails/confirm/"))
    page.click("#continue")
    expect(page.locator("#done")).to_be_visible()
    page.click("nav >> text=My badges")
    expect(page.locator("#badges li")).to_have_count(2)

    # share a link with an employer, then revoke it
    page.click(f"a[href='/wallet/badges/c-{live.badges.valid}']")
    assert page.locator("#verdict-title").inner_text() == "Verified"
    accessible(page, axe)
    fits_a_phone(page)
    page.fill("#label", "ACME application")
    page.click("#create-link")
    url = page.locator("code.share-url").first.inner_text()
    employer = browser.new_context().new_page()
    employer.goto(url)
    assert employer.locator("#verdict-title").inner_text() == "Verified"
    page.click("#links button")
    employer.reload()
    assert "revoked" in employer.locator("#error").inner_text()
    employer.context.close()

    # download the baked badge; `laurel verify` accepts it
    with page.expect_download() as download:
        page.click("#download-png")
    baked = tmp_path / "badge.png"
    download.value.save_as(baked)
    result = CliRunner().invoke(cli, ["verify", str(baked), "--allow-local"])
    assert result.exit_code == 0, result.output

    # import a badge from another issuer
    page.click("nav >> text=Import")
    accessible(page, axe)
    page.set_input_files("#upload", str(external_badge(tmp_path)))
    page.click("main form button[type=submit]")
    assert "/wallet/badges/i-" in page.url
    # a fresh did:key: genuine, but nothing confirms who it is — said in amber, not green
    assert page.locator("#verdict-title").inner_text() == "Genuine, but the issuer is not confirmed"
    assert page.locator("#identity").get_attribute("data-state") == "unconfirmed"
    assert "Open University of Testing" in page.inner_text("main")
    accessible(page, axe)
    page.click("nav >> text=My badges")
    expect(page.locator("#badges li")).to_have_count(3)

    for path in (
        "/wallet/skills",
        "/wallet/profile",
        "/wallet/connections",
        "/wallet/account",
        "/wallet?lang=ko",
    ):
        page.goto(f"{live.base_url}{path}")
        accessible(page, axe)
        fits_a_phone(page)
