"""Learners' emails when a badge is issued or revoked, caught by a real SMTP server: the badge,
its issuer, the wallet, the ``/v/{id}`` page; English and Korean; an issuer's own templates; one
email per learner per batch; the RFC 8058 unsubscribe link honoured, and the wallet's setting.
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import update

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine, unit_of_work
from issuer.core.effects import NOTIFY_MAIL
from issuer.core.settings import Settings
from issuer.effects import pending, run_due
from issuer.models import PendingEffect
from issuer.models.base import utcnow
from tests.issuer.conftest import issue_body, make_issuer
from tests.web.conftest import Inbox, free_port
from tests.web.test_wallet import csrf, sign_in

BASE = "https://laurel.test"


def _issue(site: TestClient, headers: dict[str, str], email: str) -> str:
    response = site.post("/api/v1/issuers/hrd/credentials", json=issue_body(email), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"]).removeprefix("urn:uuid:")


def _to(mailbox: Inbox, email: str) -> list[EmailMessage]:
    return [m for m in mailbox.messages if m["To"] == email and "/v/" in _text(m)]


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_an_issued_badge_is_emailed_with_its_links_and_an_unsubscribe_that_works(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    badge = _issue(site, headers, "ann@example.org")
    [message] = _to(mailbox, "ann@example.org")
    assert message["Subject"] == "You have earned a badge: Leading People"
    text = _text(message)
    assert "HRD Institute" in text and "Kim Min-jun" in text
    assert f"{BASE}/v/{badge}" in text and f"{BASE}/wallet" in text
    unsubscribe = re.search(r"<(https://\S+)>", message["List-Unsubscribe"])
    assert unsubscribe and unsubscribe.group(1) in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = urlsplit(unsubscribe.group(1)).path

    page = site.get(path)  # opening the link (or a mail scanner) changes nothing
    assert page.status_code == 200 and 'id="unsubscribe"' in page.text
    assert "수신 거부" in site.get(path, params={"lang": "ko"}).text
    _issue(site, headers, "ann@example.org")
    assert len(_to(mailbox, "ann@example.org")) == 2

    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert site.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    other = path.replace("/unsubscribe/1.", "/unsubscribe/2.")
    assert site.post(other, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    one_click = site.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058, no cookies
    assert one_click.status_code == 200
    _issue(site, headers, "ann@example.org")
    assert len(_to(mailbox, "ann@example.org")) == 2  # opted out: no more
    assert 'id="unsubscribed"' in site.get(path).text


def test_korean_and_the_issuers_own_template(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    settings = site.get("/api/v1/issuers/hrd/emails", headers=headers).json()
    assert settings["language"] == "en" and not settings["templates"]["issued"]["ko"]["custom"]
    changed = site.put("/api/v1/issuers/hrd/emails", json={"language": "ko"}, headers=headers)
    assert changed.status_code == 200 and changed.json()["language"] == "ko"
    badge = _issue(site, headers, "kim@example.org")
    [message] = _to(mailbox, "kim@example.org")
    assert message["Subject"] == "배지를 받았습니다: Leading People"
    assert "HRD Institute에서 배지를 발급했습니다" in _text(message)
    assert f"확인: {BASE}/v/{badge}" in _text(message)

    own = {"subject": "{issuer}: {badge}", "body": "Dear {name}, see {verify_url} ({wallet_url})"}
    body = {"templates": {"issued": {"ko": own}}}
    assert site.put("/api/v1/issuers/hrd/emails", json=body, headers=headers).status_code == 200
    second = _issue(site, headers, "lee@example.org")
    [message] = _to(mailbox, "lee@example.org")
    assert message["Subject"] == "HRD Institute: Leading People"
    assert _text(message).strip() == f"Dear Kim Min-jun, see {BASE}/v/{second} ({BASE}/wallet)"
    assert message["List-Unsubscribe"]  # the header is there even when the body omits the link

    for bad in ({"subject": "{badge.__class__}"}, {"body": "{password}"}, {"subject": ""}):
        refused = site.put(
            "/api/v1/issuers/hrd/emails",
            json={"templates": {"issued": {"en": bad}}},
            headers=headers,
        )
        assert refused.status_code in (400, 422), refused.text
    back = {"templates": {"issued": {"ko": {"subject": None, "body": None}}}}
    reset = site.put("/api/v1/issuers/hrd/emails", json=back, headers=headers).json()
    assert not reset["templates"]["issued"]["ko"]["custom"]
    reader = make_issuer(mail_services, site, "kdi", scopes=("read",))
    assert site.get("/api/v1/issuers/kdi/emails", headers=reader).status_code == 403


def test_one_email_per_learner_per_batch_and_one_on_revocation(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    rows = [issue_body("ann@example.org"), issue_body("bo@example.org")]
    rows.append({**issue_body("ann@example.org"), "evidence": [{"narrative": "Again"}]})
    response = site.post("/api/v1/issuers/hrd/credentials/bulk", json=rows, headers=headers)
    assert response.status_code in (200, 201, 207), response.text
    report = response.json()
    assert [r["status"] for r in report["rows"]] == ["issued"] * 3, report
    [ann] = _to(mailbox, "ann@example.org")
    assert _text(ann).count("/v/") == 2
    assert len(_to(mailbox, "bo@example.org")) == 1

    first = str(report["rows"][0]["id"])
    revoked = site.post(
        f"/api/v1/credentials/{first}/revoke", json={"reason": "wrong cohort"}, headers=headers
    )
    assert revoked.status_code == 200
    [notice] = [m for m in mailbox.messages if "revoked" in str(m["Subject"])]
    assert notice["To"] == "ann@example.org" and "wrong cohort" in _text(notice)


def test_the_wallet_account_page_has_the_setting(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    _issue(site, headers, "kim@example.org")
    sign_in(site, mailbox, "kim@example.org")
    account = site.get("/wallet/account")
    assert 'id="badge-emails"' in account.text and 'value="off"' in account.text
    missing_csrf = site.post("/wallet/account/emails", data={"badge_emails": "off"})
    assert missing_csrf.status_code in (400, 403)
    done = site.post(
        "/wallet/account/emails",
        data={"badge_emails": "off", "csrf": csrf(account.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    _issue(site, headers, "kim@example.org")
    assert len(_to(mailbox, "kim@example.org")) == 1
    account = site.get("/wallet/account")
    assert 'value="on"' in account.text
    site.post("/wallet/account/emails", data={"badge_emails": "on", "csrf": csrf(account.text)})
    _issue(site, headers, "kim@example.org")
    assert len(_to(mailbox, "kim@example.org")) == 2


def test_an_smtp_outage_is_retried_and_the_email_goes_after_a_restart(
    database_url: str, tmp_path: Path, mailbox: Inbox
) -> None:
    def services_on(port: int) -> Services:
        settings = Settings(
            database_url=database_url,
            keys_dir=tmp_path / "keys",
            key_passphrase="test-passphrase",
            base_url=BASE,
            smtp_host="127.0.0.1",
            smtp_port=port,
        )
        return Services.from_settings(settings, make_engine(database_url))

    down = services_on(free_port())  # nothing listens there
    try:
        with TestClient(create_app(services=down), base_url=BASE) as site:
            headers = make_issuer(down, site, "hrd")
            _issue(site, headers, "ann@example.org")
        with unit_of_work(down.engine, write=False) as db:
            [effect] = [e for e in pending(db) if e.kind == NOTIFY_MAIL]
        assert effect.attempts == 1 and "MailNotSent" in str(effect.last_error)
    finally:
        down.engine.dispose()
    assert mailbox.messages == []

    up = services_on(mailbox.port)  # restarted, with the mail server back
    try:
        with unit_of_work(up.engine) as db:
            db.execute(update(PendingEffect).values(run_after=utcnow() - timedelta(seconds=1)))
        run_due(up)
        assert len(_to(mailbox, "ann@example.org")) == 1
        run_due(up)
        assert len(_to(mailbox, "ann@example.org")) == 1
    finally:
        up.engine.dispose()
