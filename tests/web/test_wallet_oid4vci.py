"""The wallet's "phone wallet (OpenID4VCI)" button: the learner offers their own badge, sees the
offer as a QR code (which decodes to the offer) and the tx_code, in English and Korean; the code
redeems the offer; the form needs its CSRF token and the learner's own issued badge."""

from __future__ import annotations

import html
import io
import re
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from issuer.context import Services
from tests.issuer.conftest import make_issuer
from tests.issuer.oid4vci_holder import PRE_AUTHORIZED, token
from tests.web.conftest import Inbox
from tests.web.test_wallet import csrf, issue, sign_in


def _scanned(page: str) -> str | None:
    """What a QR decoder reads from the page's inline SVG, drawn as a picture."""
    from issuer.artifacts.qrread import read_qr

    found = re.search(
        r'<figure id="oid4vci-qr"><svg[^>]*viewBox="0 0 (\d+) \d+".*?d="([^"]+)"', page, re.S
    )
    assert found, page
    size, scale = int(found.group(1)), 8
    picture = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(picture)
    for x, y, length in re.findall(r"M(\d+) (\d+)h(\d+)", found.group(2)):
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle((left, top, left + int(length) * scale - 1, top + scale - 1), fill=0)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return read_qr(out.getvalue())


def _offer_page(site: TestClient, badge: str, lang: str = "en") -> str:
    page = site.get(f"/wallet/badges/c-{badge}", params={"lang": lang})
    assert page.status_code == 200
    assert f'action="/wallet/badges/c-{badge}/oid4vci"' in page.text and 'id="oid4vci"' in page.text
    answer = site.post(f"/wallet/badges/c-{badge}/oid4vci", data={"csrf": csrf(page.text)})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return answer.text


def test_the_learner_offers_a_badge_to_a_phone_wallet_by_qr_code_and_tx_code(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    badge = issue(site, headers, "kim@example.org")
    sign_in(site, mailbox, "kim@example.org")
    text = _offer_page(site, badge)
    assert "Add to a phone wallet" in text
    found = re.search(r'href="([^"]+)" id="oid4vci-link"', text)
    tx = re.search(r'id="tx-code">(\d{6})<', text)
    assert found and tx, text
    link, tx_code = html.unescape(found.group(1)), tx.group(1)
    assert link.startswith("openid-credential-offer://?credential_offer_uri=")
    assert _scanned(text) == link  # the QR code on the page is the offer
    [uri] = parse_qs(urlsplit(link).query)["credential_offer_uri"]
    offer = site.get(uri.removeprefix("https://laurel.test")).json()
    code = offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"]
    assert token(site, code, tx_code).status_code == 200

    korean = _offer_page(site, badge, "ko")
    assert "휴대폰 지갑에 추가" in korean and 'id="tx-code"' in korean


def test_the_offer_form_needs_its_csrf_token_and_the_learners_own_issued_badge(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    mine = issue(site, headers, "kim@example.org")
    theirs = issue(site, headers, "lee@example.org")
    sign_in(site, mailbox, "kim@example.org")
    page = site.get(f"/wallet/badges/c-{mine}")
    forged = site.post(f"/wallet/badges/c-{mine}/oid4vci", data={"csrf": "forged"})
    assert forged.status_code == 403 and "tx-code" not in forged.text
    token_ = csrf(page.text)
    other = site.post(f"/wallet/badges/c-{theirs}/oid4vci", data={"csrf": token_})
    assert other.status_code == 404 and "tx-code" not in other.text
    imported = site.post("/wallet/badges/i-1/oid4vci", data={"csrf": token_})
    assert imported.status_code == 404
