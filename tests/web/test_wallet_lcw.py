"""The wallet's "Add to Learner Credential Wallet" (``issuer.web.wallet_lcw``): the button on a
badge page, a form with its CSRF token, the page with the deep link, its QR code (the page's SVG
drawn into pixels and read back with zxing-cpp) and the legacy link, in English and Korean;
never for another learner's badge. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from PIL import Image

from issuer.artifacts.qrread import read_qr
from issuer.context import Services
from tests.issuer.conftest import issue_body, make_issuer
from tests.web.conftest import Inbox
from tests.web.test_wallet import csrf, sign_in

EMAIL = "minjun@example.org"
BASE = "https://laurel.test"


def _issue(site: TestClient, headers: dict[str, str], email: str) -> str:
    issued = site.post("/api/v1/issuers/hrd/credentials", json=issue_body(email), headers=headers)
    assert issued.status_code == 201, issued.text
    return str(issued.json()["id"]).removeprefix("urn:uuid:")


def _href(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}" href="([^"]+)"', html)
    assert found, html[:3000]
    return unescape(found.group(1))


def _qr_text(html: str) -> str | None:
    """Draw the page's inline QR code (one SVG path of 1-module-high runs) and decode it."""
    box = re.search(r'viewBox="0 0 (\d+) \1"', html)
    path = re.search(r'<path fill="#000000" d="([^"]+)"', html)
    assert box and path, html[:3000]
    size, scale = int(box.group(1)), 8
    image = Image.new("L", (size * scale, size * scale), 255)
    for x, y, length in re.findall(r"M(\d+) (\d+)h(\d+)", path.group(1)):
        left, top = int(x) * scale, int(y) * scale
        image.paste(0, (left, top, left + int(length) * scale, top + scale))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return read_qr(out.getvalue())


def test_the_learner_adds_a_badge_to_the_lcw_from_its_page(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    mine = _issue(site, headers, EMAIL)
    theirs = _issue(site, headers, "someone.else@example.org")
    sign_in(site, mailbox, EMAIL)
    page = site.get(f"/wallet/badges/c-{mine}")
    assert page.status_code == 200
    assert f'action="/wallet/badges/c-{mine}/lcw"' in page.text and 'id="lcw"' in page.text
    token = csrf(page.text)

    assert site.post(f"/wallet/badges/c-{mine}/lcw", data={}).status_code == 403  # no CSRF
    other = site.post(f"/wallet/badges/c-{theirs}/lcw", data={"csrf": token})
    assert other.status_code == 404

    added = site.post(f"/wallet/badges/c-{mine}/lcw", data={"csrf": token})
    assert added.status_code == 200, added.text
    assert added.headers["cache-control"] == "no-store"
    assert "Add to Learner Credential Wallet" in added.text
    link = _href(added.text, "lcw-link")
    assert link.startswith("https://lcw.app/request?request=")
    assert _qr_text(added.text) == link
    assert _href(added.text, "lcw-legacy").startswith("dccrequest://request?issuer=")
    request = json.loads(parse_qs(urlsplit(link).query)["request"][0])
    started = site.post(request["protocols"]["vcapi"].removeprefix(BASE), json={})
    assert started.status_code == 200 and "verifiablePresentationRequest" in started.json()

    korean = site.post(f"/wallet/badges/c-{mine}/lcw?lang=ko", data={"csrf": token})
    assert korean.status_code == 200 and "Learner Credential Wallet에 추가" in korean.text
    assert "한 번만 쓸 수 있습니다" in korean.text
