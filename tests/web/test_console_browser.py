"""The console in a real headless Chromium, mail through a real SMTP server: an owner accepts the
emailed invitation, enrols TOTP and signs in again with a code; creates an achievement, issues a
badge, previews a CSV with a bad row (nothing issued), issues it as a job, searches and revokes —
on a phone's width, in English and Korean. A viewer cannot issue; another issuer's staff see
nothing. Every page passes axe-core's WCAG 2.1 A/AA rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from issuer.models import StaffMember
from issuer.people import totp
from tests.issuer.conftest import make_issuer
from tests.web.conftest import Live
from tests.web.console_steps import invite, join_in_browser
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_wallet_browser import accessible, axe, fits_a_phone
from tests.web.test_wallet_browser import phone as phone

__all__ = ["axe"]


def _code(live: Live, email: str, *, fresh: bool = False) -> str:
    with Session(live.services.engine) as session:
        member = session.exec(select(StaffMember).where(StaffMember.email == email)).one()
        if fresh:  # the code of the enrolment is spent: as if the next 30 s step had come
            member.totp_last_step = (member.totp_last_step or 0) - 2
            session.add(member)
            session.commit()
        assert member.totp_secret is not None
        return totp.code_at(member.totp_secret, datetime.now(UTC))


def test_a_programme_run_by_its_staff(
    live: Live, phone: Page, browser: Browser, axe: Path, tmp_path: Path
) -> None:
    page = phone
    live.services.settings.staff_mfa = "required"
    join_in_browser(
        page, live.base_url, live.mailbox, live.services, "hrd", "owner@hrd.example", "owner"
    )
    assert page.url.endswith("/console/mfa/setup")
    accessible(page, axe)
    fits_a_phone(page)
    expect(page.locator("#totp-qr")).to_have_js_property("complete", True)
    assert page.evaluate("document.getElementById('totp-qr').naturalWidth") > 0
    page.fill("#code", _code(live, "owner@hrd.example"))
    page.click("main form button[type=submit]")
    expect(page.locator("#done")).to_be_visible()
    # signing in again takes the emailed link and a code
    page.click("nav.console >> text=Sign out")
    page.fill("#email", "owner@hrd.example")
    page.click("main button[type=submit]")
    expect(page.locator("#sent")).to_be_visible()
    page.goto(live.mailbox.link("owner@hrd.example", "/console/login/"))
    page.click("#continue")
    assert page.url.endswith("/console/mfa")
    accessible(page, axe)
    page.fill("#code", "000000")
    page.click("main form button[type=submit]")
    expect(page.locator("#error")).to_be_visible()
    page.fill("#code", _code(live, "owner@hrd.example", fresh=True))
    page.click("main form button[type=submit]")
    assert page.locator("#whoami").inner_text().startswith("owner@hrd.example")
    accessible(page, axe)
    fits_a_phone(page)

    # an achievement with a skill and a badge design
    page.click("nav.console >> text=Achievements")
    page.click("#new-achievement")
    accessible(page, axe)
    fits_a_phone(page)
    page.fill("#key", "data-literacy")
    page.fill("#name", "Data Literacy")
    page.fill("#description", "Reading and questioning data.")
    page.fill("#criteria", "Pass the final assessment.")
    page.select_option("#achievementType", "Certificate")
    page.fill("#hours", "12")
    page.fill("#validity", "P2Y")
    page.fill("#skills", "Data analysis | https://esco.example/skill/1 | ESCO | S1")
    page.select_option("#shape", "shield")
    page.click("#save")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#badge-image")).to_have_js_property("complete", True)
    assert page.evaluate("document.getElementById('badge-image').naturalWidth") > 0

    # one badge
    page.click("nav.console >> text=Issue a badge")
    accessible(page, axe)
    page.select_option("#achievement", "data-literacy")
    page.fill("#email", "kim@learners.example")
    page.fill("#name", "Kim Min-jun")
    page.click("#issue")
    assert page.locator("#status").get_attribute("data-status") == "active"
    accessible(page, axe)
    fits_a_phone(page)

    # a CSV with a bad row: the preview says which, and nothing is issued until asked
    csv = tmp_path / "cohort.csv"
    csv.write_text(
        "email,name,achievement\nlee@learners.example,Lee,data-literacy\n"
        "not-an-email,Bad,data-literacy\npark@learners.example,Park,data-literacy\n",
        "utf-8",
    )
    page.click("nav.console >> text=Upload a CSV")
    accessible(page, axe)
    page.set_input_files("#upload", str(csv))
    page.click("#preview-button")
    problems = page.locator("#preview td.problem")
    assert problems.count() == 1 and "email" in problems.first.inner_text()
    assert "3 rows, 1 with a problem" in page.inner_text("#preview-summary")
    accessible(page, axe)
    fits_a_phone(page)
    other_tab = page.context.new_page()
    other_tab.goto(f"{live.base_url}/console/credentials?recipient=lee@")
    assert other_tab.locator("#total").inner_text() == "0 found"
    other_tab.close()
    page.click("#issue-upload")
    page.locator("#job-status[data-status=done]").wait_for()
    assert "2 issued" in page.inner_text("main")
    accessible(page, axe)
    with page.expect_download() as download:
        page.click("#report")
    report = download.value.path().read_text("utf-8")
    assert report.count(",issued,") == 2 and report.count(",error,") == 1

    # search, then revoke with a reason
    page.click("nav.console >> text=Credentials")
    page.fill("#recipient", "lee@")
    page.click("#search")
    assert page.locator("#total").inner_text() == "1 found"
    accessible(page, axe)
    fits_a_phone(page)
    page.click("#credentials a")
    page.fill("#reason-input", "Issued to the wrong cohort")
    page.click("#revoke")
    assert page.locator("#status").get_attribute("data-status") == "revoked"
    assert page.locator("#reason").inner_text() == "Issued to the wrong cohort"
    badge = page.url.split("/console/credentials/")[1].split("?")[0]
    verifier = browser.new_context().new_page()
    verifier.goto(f"{live.base_url}/v/{badge}")
    assert "wrong cohort" in verifier.inner_text("main")
    verifier.context.close()

    # in Korean, at a phone's width
    page.goto(f"{live.base_url}/console/credentials?lang=ko")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert "자격 증명" in page.inner_text("h1")
    fits_a_phone(page)
    invite(live.services, "hrd", "pending@hrd.example", "viewer")  # listed on the staff page
    for path in ("/console", "/console/upload", "/console/keys", "/console/staff", "/dashboard"):
        page.goto(f"{live.base_url}{path}")
        fits_a_phone(page)
        accessible(page, axe)
    page.goto(f"{live.base_url}/console?lang=en")

    # a viewer reads but cannot issue; another issuer's staff see nothing of hrd's
    viewer = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    join_in_browser(
        viewer, live.base_url, live.mailbox, live.services, "hrd", "v@hrd.example", "viewer"
    )
    assert viewer.locator("nav.console >> text=Issue a badge").count() == 0
    viewer.goto(f"{live.base_url}/console/credentials/{badge}")
    assert viewer.locator("#status").get_attribute("data-status") == "revoked"
    assert viewer.locator("#revoke").count() == 0
    answer = viewer.goto(f"{live.base_url}/console/issue")
    assert answer is not None and answer.status == 403
    fits_a_phone(viewer)
    viewer.context.close()

    make_issuer(live.services, live.client, "other")
    stranger = browser.new_context().new_page()
    join_in_browser(
        stranger, live.base_url, live.mailbox, live.services, "other", "o@other.example", "issuer"
    )
    answer = stranger.goto(f"{live.base_url}/console/credentials/{badge}")
    assert answer is not None and answer.status == 404
    stranger.goto(f"{live.base_url}/console/credentials")
    assert "lee@learners.example" not in stranger.inner_text("main")
    stranger.context.close()
