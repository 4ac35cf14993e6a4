"""Audit round 9, caught by a real SMTP server: an issuer's badge email (sent from the operator's
address) names the learner as THAT issuer named them, never with the name another issuer gave
first (``Learner.name``), and with no name of its own greets neutrally; in the HTML part only the
template's own text and Laurel's links are live, never a placeholder's text such as the name.
SQLite and PostgreSQL."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from fastapi.testclient import TestClient

from issuer.context import Services
from tests.issuer.conftest import issue_body, make_issuer
from tests.web.conftest import Inbox

BASE = "https://laurel.test"
LURE = "Kim. ACTION NEEDED: re-verify your wallet at https://evil.example/login -"
KIM = "kim@example.org"


def _issue(site: TestClient, slug: str, headers: dict[str, Any], name: str | None) -> str:
    recipient = {"email": KIM, **({"name": name} if name else {})}
    response = site.post(
        f"/api/v1/issuers/{slug}/credentials",
        json=issue_body(KIM, recipient=recipient),
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"]).removeprefix("urn:uuid:")


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_another_issuers_name_is_not_in_this_issuers_email(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    evil = make_issuer(mail_services, site, "evil")
    hrd = make_issuer(mail_services, site, "hrd")
    _issue(site, "evil", evil, LURE)  # evil names her first: Learner.name is evil's text
    mailbox.messages.clear()

    _issue(site, "hrd", hrd, "Kim Min-jun")
    [message] = mailbox.messages
    text, html = _parts(message)
    assert message["From"] == "badges@laurel.test"
    assert text.startswith("Hello Kim Min-jun,\r\n") and "HRD Institute" in text
    assert "ACTION NEEDED" not in text + html and "evil.example" not in text + html

    mailbox.messages.clear()
    _issue(site, "hrd", hrd, None)  # HRD gives no name: a neutral greeting, not evil's name
    [message] = mailbox.messages
    text, html = _parts(message)
    assert text.startswith("Hello learner,\r\n")
    assert "ACTION NEEDED" not in text + html and "evil.example" not in text + html


def test_in_the_html_part_only_the_templates_own_urls_and_laurels_links_are_live(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    hrd = make_issuer(mail_services, site, "hrd")
    own = {"body": "Hello {name}, help: https://help.hrd.example/badges\n\n{badges}\n{wallet_url}"}
    changed = site.put(
        "/api/v1/issuers/hrd/emails", json={"templates": {"issued": {"en": own}}}, headers=hrd
    )
    assert changed.status_code == 200, changed.text
    name = 'Kim <b>https://evil.example/login?a=1&b="2"</b>'
    badge = _issue(site, "hrd", hrd, name)
    [message] = mailbox.messages
    text, html = _parts(message)
    assert text.startswith(f"Hello {name}, help: https://help.hrd.example/badges")
    assert "evil.example" in html and "<b>" not in html  # the name, escaped, as text
    assert 'href="https://evil.example' not in html
    assert html.count("<a ") == html.count('href="https://help.hrd.example/badges"') + html.count(
        f'href="{BASE}/'
    )
    assert '<a href="https://help.hrd.example/badges">' in html  # the template's own URL
    assert f'<a href="{BASE}/v/{badge}">' in html and f'<a href="{BASE}/wallet">' in html
    assert f'href="{BASE}/collect/{badge}.' in html  # the "add to a wallet" link and button
