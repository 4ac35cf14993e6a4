"""The badge email's "collect your badge" link (``issuer.wallet.collect``, ``issuer.web.collect``):
the email (text, and HTML with a button and an inline PNG QR code of the link) → the page (which
makes nothing when opened) → a fresh Learner Credential Wallet exchange that a Python-signed
DIDAuthentication presentation completes → the link is used up. An OpenID4VCI offer with its
transaction code; expired, forged and revoked links refused; no link in a revocation email.
SQLite and PostgreSQL, mail through a real SMTP server."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email.message import EmailMessage
from html import unescape
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from issuer.artifacts.qrread import read_qr
from issuer.context import Services
from issuer.models import Credential, CredentialOffer, WalletExchange
from issuer.models.base import utcnow
from issuer.wallet import collect
from tests.issuer.conftest import issue_body, make_issuer
from tests.issuer.test_exchanges import HOLDER_DID, _did_auth
from tests.web.conftest import Inbox
from tests.web.console_steps import csrf

BASE = "https://laurel.test"


def _issue(site: TestClient, headers: dict[str, str], email: str) -> str:
    response = site.post("/api/v1/issuers/hrd/credentials", json=issue_body(email), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"]).removeprefix("urn:uuid:")


def _badge_mail(mailbox: Inbox, email: str) -> EmailMessage:
    [found] = [m for m in mailbox.messages if m["To"] == email]
    return found


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _count(services: Services, model: type[WalletExchange] | type[CredentialOffer]) -> int:
    with Session(services.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _href(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}" href="([^"]+)"', html)
    assert found, html[:3000]
    return unescape(found.group(1))


def test_the_email_link_opens_a_page_whose_lcw_exchange_gives_the_badge_once(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    badge = _issue(site, headers, "ann@example.org")
    message = _badge_mail(mailbox, "ann@example.org")
    found = re.search(rf"{BASE}/collect/(\S+)", _text(message))
    assert found, _text(message)
    link, token = found.group(0), found.group(1)
    assert token.startswith(badge + ".")
    assert "Add to the Learner Credential Wallet or a phone wallet: " + link in _text(message)

    html = message.get_body(preferencelist=("html",))
    assert html is not None
    content = str(html.get_content())
    assert f'href="{link}"' in content and "Add to Learner Credential Wallet" in content
    cid = re.search(r'src="cid:([^"]+)"', content)
    assert cid
    [image] = [p for p in message.walk() if p["Content-ID"] == f"<{cid.group(1)}>"]
    assert image.get_content_type() == "image/png"
    png = image.get_payload(decode=True)
    assert isinstance(png, bytes) and read_qr(png) == link

    page = site.get(link.removeprefix(BASE))
    assert page.status_code == 200 and "Leading People" in page.text
    assert _count(mail_services, WalletExchange) == 0  # opening the link (a scanner) makes nothing
    path = f"/collect/{token}/lcw"
    assert site.post(path, data={"csrf": "forged"}).status_code == 403
    assert site.post(path, data={}).status_code == 403
    evil = site.post(
        path, data={"csrf": csrf(page.text)}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    assert _count(mail_services, WalletExchange) == 0

    offered = site.post(path, data={"csrf": csrf(page.text)})
    assert offered.status_code == 200, offered.text
    assert offered.headers["cache-control"] == "no-store"
    lcw = _href(offered.text, "lcw-link")
    assert lcw.startswith("https://lcw.app/request?request=")
    assert _href(offered.text, "lcw-legacy").startswith("dccrequest://request?")
    assert 'id="lcw-qr"' in offered.text
    request = json.loads(parse_qs(urlsplit(lcw).query)["request"][0])
    exchange = request["protocols"]["vcapi"].removeprefix(BASE)
    asked = site.post(exchange, json={})
    assert asked.status_code == 200, asked.text
    wanted = asked.json()["verifiablePresentationRequest"]
    presentation = _did_auth(wanted["challenge"], wanted["domain"])
    answered = site.post(exchange, json={"verifiablePresentation": presentation})
    assert answered.status_code == 200, answered.text
    [received] = answered.json()["verifiablePresentation"]["verifiableCredential"]
    assert received["credentialSubject"]["id"] == HOLDER_DID

    used = site.get(link.removeprefix(BASE))
    assert used.status_code == 409 and "already in a wallet" in used.text
    again = site.post(path, data={"csrf": csrf(page.text)})
    assert again.status_code == 409
    assert _count(mail_services, WalletExchange) == 1


def test_the_page_offers_the_badge_to_a_phone_wallet_with_a_transaction_code(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    _issue(site, headers, "bo@example.org")
    link = mailbox.link("bo@example.org", "/collect/").removeprefix(BASE)
    page = site.get(link, params={"lang": "ko"})
    assert page.status_code == 200 and 'lang="ko"' in page.text
    assert 'id="collect-oid4vci"' in page.text
    offered = site.post(f"{link}/oid4vci", data={"csrf": csrf(page.text)})
    assert offered.status_code == 200, offered.text
    code = re.search(r'id="tx-code">(\d+)<', offered.text)
    assert code and len(code.group(1)) == 6
    found = re.search(r'href="([^"]+)" id="oid4vci-link"', offered.text)
    assert found and found.group(1).startswith("openid-credential-offer://?credential_offer_uri=")
    assert _count(mail_services, CredentialOffer) == 1
    assert site.post(f"{link}/other", data={"csrf": csrf(page.text)}).status_code in (404, 422)


def test_expired_forged_and_revoked_links_are_refused(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    badge = _issue(site, headers, "cy@example.org")
    link = mailbox.link("cy@example.org", "/collect/").removeprefix(BASE)
    with Session(mail_services.engine) as session:
        credential = session.get(Credential, badge)
        assert credential is not None
        past = utcnow() - timedelta(days=mail_services.settings.collect_link_days, seconds=1)
        expired = collect.token(mail_services, credential, now=past)
    answer = site.get(f"/collect/{expired}")
    assert answer.status_code == 409 and "expired" in answer.text
    token = link.removeprefix("/collect/")
    number, expires, mac = token.split(".")
    stretched = f"{number}.{int(expires) + 86400}.{mac}"  # a longer life is not signed
    assert site.get(f"/collect/{stretched}").status_code == 404
    other = "00000000-0000-4000-8000-000000000000"
    assert site.get(f"/collect/{other}.{expires}.{mac}").status_code == 404
    assert site.get("/collect/nonsense").status_code == 404
    assert site.get(link).status_code == 200

    revoked = site.post(
        f"/api/v1/credentials/{badge}/revoke", json={"reason": "issued in error"}, headers=headers
    )
    assert revoked.status_code in (200, 204), revoked.text
    gone = site.get(link)
    assert gone.status_code == 409 and "revoked" in gone.text
    notices = [m for m in mailbox.messages if m["To"] == "cy@example.org"]
    assert len(notices) == 2 and "/collect/" not in _text(notices[-1])
    assert notices[-1].get_body(preferencelist=("html",)) is None
