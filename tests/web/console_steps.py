"""Steps the console tests share: inviting staff (as `laurel staff invite` does) and accepting
the emailed invitation in a client of their own."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from playwright.sync_api import Page

from issuer.context import Services
from issuer.effects import work
from issuer.people import staff
from tests.web.conftest import Inbox


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def invite(services: Services, slug: str, email: str, role: str) -> None:
    with work(services) as db:
        staff.invite(db, services, slug, email, role, "test")


def join(
    site: TestClient, mailbox: Inbox, services: Services, slug: str, email: str, role: str
) -> TestClient:
    """A new client of the same app, signed in as ``email`` after accepting an invitation."""
    invite(services, slug, email, role)
    person = TestClient(site.app, base_url=str(site.base_url))
    link = mailbox.link(email, "/console/invitations/")
    page = person.get(link)
    assert page.status_code == 200, page.text
    done = person.post(link, data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    return person


def join_in_browser(
    page: Page, base_url: str, mailbox: Inbox, services: Services, slug: str, email: str, role: str
) -> None:
    """Invite ``email`` and accept the emailed invitation in ``page``'s browser."""
    invite(services, slug, email, role)
    page.goto(mailbox.link(email, "/console/invitations/"))
    page.click("#continue")
    page.wait_for_load_state()  # the click waits for the navigation to commit, not to load
    assert page.url.startswith(f"{base_url}/console"), page.url
