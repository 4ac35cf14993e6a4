"""Webhooks and emails in the console (owners only): endpoints added (the secret shown once),
listed, removed; the delivery log with *Replay*, which sends again to a loopback receiver with the
same ``webhook-id`` and never after an acknowledgement; the issuer's email language and templates
(preview, save, reset) showing in the next email. Roles, CSRF, and another issuer's staff (404).
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine
from issuer.core.settings import Settings
from tests.issuer.conftest import issue_body, make_issuer
from tests.issuer.test_webhooks import Receiver, verify_standard_webhook
from tests.web.conftest import Inbox, offline
from tests.web.console_steps import csrf, join

LOOPBACK = "http://127.0.0.1:8000"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def loopback(database_url: str, tmp_path: Path, mailbox: Inbox) -> Iterator[Services]:
    """Laurel on a loopback http base URL (so a loopback receiver is allowed), mailing through
    ``mailbox``."""
    settings = Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url=LOOPBACK,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        mail_from="badges@laurel.test",
    )
    engine = make_engine(database_url)
    services = Services.from_settings(settings, engine)
    services.network = offline
    yield services
    engine.dispose()


@pytest.fixture
def site(loopback: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=loopback), base_url=LOOPBACK) as client:
        yield client


def _issue(site: TestClient, headers: dict[str, str], email: str) -> str:
    response = site.post("/api/v1/issuers/hrd/credentials", json=issue_body(email), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"]).removeprefix("urn:uuid:")


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _badge_mails(mailbox: Inbox, email: str) -> list[EmailMessage]:
    return [m for m in mailbox.messages if m["To"] == email and "/v/" in _text(m)]


def test_owners_manage_webhooks_and_replay_a_delivery_from_the_console(
    site: TestClient, loopback: Services, mailbox: Inbox, receiver: Receiver
) -> None:
    headers = make_issuer(loopback, site, "hrd")
    owner = join(site, mailbox, loopback, "hrd", "owner@hrd.example", "owner")
    page = owner.get("/console/webhooks")
    assert page.status_code == 200 and 'href="/console/webhooks"' in page.text
    token = csrf(page.text)

    refused = owner.post(
        "/console/webhooks",
        data={"url": "http://10.0.0.7/hooks", "events": ["credential.issued"], "csrf": token},
    )
    assert refused.status_code == 400 and 'id="error"' in refused.text
    none = owner.post("/console/webhooks", data={"url": receiver.url, "csrf": token})
    assert none.status_code == 400 and "events" in none.text
    forged = owner.post(
        "/console/webhooks",
        data={"url": receiver.url, "events": ["credential.issued"], "csrf": "forged"},
    )
    assert forged.status_code == 403
    added = owner.post(
        "/console/webhooks",
        data={"url": receiver.url, "events": ["credential.issued"], "csrf": token},
    )
    assert added.status_code == 201, added.text
    secret = added.text.split('id="new-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith("whsec_")
    listing = owner.get("/console/webhooks")
    assert receiver.url in listing.text and secret not in listing.text  # shown once
    endpoint = int(listing.text.split('data-endpoint="', 1)[1].split('"', 1)[0])

    receiver.script = [500]
    _issue(site, headers, "ann@example.org")
    assert len(receiver.got) == 1
    log = owner.get(f"/console/webhooks/{endpoint}")
    assert log.status_code == 200
    assert "credential.issued" in log.text and "answer 500" in log.text
    assert '<td class="state">pending</td>' in log.text
    assert '<td class="attempts">1</td>' in log.text
    delivery = int(log.text.split('data-delivery="', 1)[1].split('"', 1)[0])
    replay = f"/console/webhooks/{endpoint}/deliveries/{delivery}/replay"

    assert owner.post(replay, data={"csrf": "forged"}).status_code == 403
    assert owner.post(replay, data={}).status_code == 403
    assert len(receiver.got) == 1
    replayed = owner.post(replay, data={"csrf": token}, follow_redirects=False)
    assert replayed.status_code == 303, replayed.text
    assert len(receiver.got) == 2
    assert receiver.got[0][0]["webhook-id"] == receiver.got[1][0]["webhook-id"]
    verify_standard_webhook(secret, *receiver.got[1])
    log = owner.get(replayed.headers["location"])
    assert 'id="replayed"' in log.text and '<td class="state">delivered</td>' in log.text
    assert replay not in log.text  # no Replay button once acknowledged
    again = owner.post(replay, data={"csrf": token})
    assert again.status_code == 409 and "acknowledged" in again.text
    assert len(receiver.got) == 2

    # staff of another issuer find nothing; viewers and issuers may not manage webhooks
    make_issuer(loopback, site, "other")
    stranger = join(site, mailbox, loopback, "other", "owner@other.example", "owner")
    other_token = csrf(stranger.get("/console").text)
    assert stranger.get(f"/console/webhooks/{endpoint}").status_code == 404
    assert stranger.post(replay, data={"csrf": other_token}).status_code == 404
    gone = stranger.post(f"/console/webhooks/{endpoint}/remove", data={"csrf": other_token})
    assert gone.status_code == 404
    assert receiver.url not in stranger.get("/console/webhooks").text
    for role in ("viewer", "issuer"):
        member = join(site, mailbox, loopback, "hrd", f"{role}@hrd.example", role)
        member_token = csrf(member.get("/console").text)
        assert 'href="/console/webhooks"' not in member.get("/console").text
        assert member.get("/console/webhooks").status_code == 403
        assert member.get(f"/console/webhooks/{endpoint}").status_code == 403
        for path, data in (
            ("/console/webhooks", {"url": receiver.url, "events": ["credential.issued"]}),
            (replay, {}),
            (f"/console/webhooks/{endpoint}/remove", {}),
        ):
            answer = member.post(path, data={**data, "csrf": member_token})
            assert answer.status_code == 403, (role, path)
    assert len(receiver.got) == 2

    removed = owner.post(
        f"/console/webhooks/{endpoint}/remove", data={"csrf": token}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert receiver.url not in owner.get("/console/webhooks").text
    assert owner.get(f"/console/webhooks/{endpoint}").status_code == 404
    _issue(site, headers, "bo@example.org")
    assert len(receiver.got) == 2


def test_owners_edit_preview_and_reset_the_emails_to_learners(
    site: TestClient, loopback: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(loopback, site, "hrd")
    owner = join(site, mailbox, loopback, "hrd", "owner@hrd.example", "owner")
    page = owner.get("/console/emails")
    assert page.status_code == 200 and "You have earned a badge: {badge}" in page.text
    assert "{verify_url}" in page.text  # the placeholders are listed
    token = csrf(page.text)
    path = "/console/emails/issued/en"
    mine = {"subject": "New from {issuer}: {badge}", "body": "Hi {name}! {badges}\n{wallet_url}"}

    preview = owner.post(path, data={**mine, "action": "preview", "csrf": token})
    assert preview.status_code == 200
    assert 'id="preview-subject">New from HRD Institute: Data Literacy<' in preview.text
    assert "Hi Jamie Doe!" in preview.text and f"{LOOPBACK}/wallet" in preview.text
    _issue(site, headers, "ann@example.org")
    [first] = _badge_mails(mailbox, "ann@example.org")
    assert first["Subject"] == "You have earned a badge: Leading People"  # a preview saves nothing

    unknown = owner.post(path, data={**mine, "body": "{password}", "csrf": token})
    assert unknown.status_code == 400 and "password" in unknown.text
    assert owner.post(path, data={**mine, "csrf": "forged"}).status_code == 403
    saved = owner.post(path, data={**mine, "csrf": token}, follow_redirects=False)
    assert saved.status_code == 303
    assert "the issuer&#39;s own" in owner.get("/console/emails").text
    _issue(site, headers, "bo@example.org")
    [second] = _badge_mails(mailbox, "bo@example.org")
    assert second["Subject"] == "New from HRD Institute: Leading People"
    assert _text(second).startswith("Hi Kim Min-jun! - Leading People")

    reset = owner.post(path, data={"action": "reset", "csrf": token}, follow_redirects=False)
    assert reset.status_code == 303
    language = owner.post("/console/emails/language", data={"language": "ko", "csrf": token})
    assert language.status_code == 200  # followed to the page
    assert 'value="ko" selected' in language.text
    _issue(site, headers, "cy@example.org")
    [third] = _badge_mails(mailbox, "cy@example.org")
    assert third["Subject"] == "배지를 받았습니다: Leading People"
    bad = owner.post("/console/emails/language", data={"language": "fr", "csrf": token})
    assert bad.status_code == 400

    for role in ("viewer", "issuer"):
        member = join(site, mailbox, loopback, "hrd", f"{role}@hrd.example", role)
        member_token = csrf(member.get("/console").text)
        assert member.get("/console/emails").status_code == 403
        answer = member.post(path, data={**mine, "csrf": member_token})
        assert answer.status_code == 403
        language_form = {"language": "en", "csrf": member_token}
        answer = member.post("/console/emails/language", data=language_form)
        assert answer.status_code == 403
    make_issuer(loopback, site, "other")
    stranger = join(site, mailbox, loopback, "other", "owner@other.example", "owner")
    assert "New from" not in stranger.get("/console/emails").text
    _issue(site, headers, "di@example.org")
    [fourth] = _badge_mails(mailbox, "di@example.org")
    assert fourth["Subject"] == "배지를 받았습니다: Leading People"  # nobody else changed it


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_pages_render_in_both_languages(
    site: TestClient, loopback: Services, mailbox: Inbox, receiver: Receiver, lang: str
) -> None:
    headers = make_issuer(loopback, site, "hrd")
    owner = join(site, mailbox, loopback, "hrd", "owner@hrd.example", "owner")
    token = csrf(owner.get("/console/webhooks").text)
    owner.post(
        "/console/webhooks",
        data={"url": receiver.url, "events": ["credential.issued"], "csrf": token},
    )
    _issue(site, headers, "ann@example.org")
    collect = mailbox.link("ann@example.org", "/collect/").removeprefix(LOOPBACK)
    for path in ("/console/webhooks", "/console/webhooks/1", "/console/emails", collect):
        page = owner.get(path, params={"lang": lang})
        assert page.status_code == 200, (path, page.text[:500])
        assert f'lang="{lang}"' in page.text
    shown = owner.get("/console/emails", params={"lang": lang}).text
    assert ("배지 발급" in shown) == (lang == "ko")
