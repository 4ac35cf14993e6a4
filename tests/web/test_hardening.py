"""Pages and uploads against hostile input: links from data are http(s) or text, every answer
carries the security headers, /verify needs its CSRF token, bodies are cut off at their route's
limit while they are read, pixel bombs are refused, PDF bombs are stopped at the limits of the
process that reads them, and names that break XML do not break badges.
The same pages in Chromium, with the Content-Security-Policy on, are in test_hardening_browser.py.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import io
import json
import re
import select
import socket
import threading
import weakref
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import defusedxml.ElementTree as SafeET
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from issuer.artifacts import pixels, qrread
from issuer.artifacts.certificate import CertificateData, certificate_pdf
from issuer.artifacts.links import http_url
from issuer.artifacts.stamps import MAX_SIDE, Stamp, stamp_png
from issuer.context import Services
from issuer.core.db import transaction
from issuer.http.deps import Slots
from issuer.http.limits import ROUTES, limit_for
from issuer.models import Credential
from issuer.web.downloads import embeddable_json
from tests.issuer.conftest import client as client  # the fixture
from tests.issuer.conftest import issue_body, make_issuer
from tests.pdf_bombs import nested_forms_pdf
from tests.web.conftest import Inbox, Live, post_verify
from tests.web.test_wallet import csrf, issue, sign_in
from verifier.baking import read_png, read_svg

MiB = 1024 * 1024

# --- links ------------------------------------------------------------------------------------

HOSTILE_URLS = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "javascript\x00:alert(1)",
    "javascript&colon;alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "https:evil.example",
    "https:\\\\evil.example",
    "http://",
    "/wallet/account/delete",
]
SAFE_URL = "https://skills.example.org/ecq/2-4?level=3&lang=en"
_BROWSER_SPACE = re.compile(r"[\t\n\r]")


class _Targets(HTMLParser):
    """Every URL-valued attribute of a page, decoded as a browser decodes it."""

    ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "poster", "data", "srcset"})

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in self.ATTRIBUTES and value]


def targets(html: str) -> list[str]:
    parser = _Targets()
    parser.feed(html)
    return parser.found


def scheme(url: str) -> str | None:
    """The scheme a browser reads from ``url`` (WHATWG URL: strip C0 controls and spaces at the
    ends, drop tabs and newlines anywhere, then read up to the colon)."""
    cleaned = _BROWSER_SPACE.sub("", url.strip("".join(map(chr, range(0x21)))))
    found = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    return found.group(1).lower() if found else None


def assert_no_script_links(html: str, where: str) -> None:
    bad = [t for t in targets(html) if scheme(t) in ("javascript", "data", "vbscript")]
    assert not bad, f"{where}: {bad}"
    assert not [t for t in targets(html) if t.startswith("//")], where
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "https://skills.example.org/ecq/2-4?level=3&amp;lang=en" in hrefs, where
    for index in range(len(HOSTILE_URLS)):
        assert f"Hostile skill {index}<" in html and f"Hostile evidence {index}<" in html, where


@pytest.mark.parametrize("url", [*HOSTILE_URLS, None, 42, "https://" + "a" * 9000])
def test_only_http_urls_are_links(url: Any) -> None:
    assert http_url(url) is None


@pytest.mark.parametrize(
    "url",
    [SAFE_URL, "http://example.org", "HTTPS://EXAMPLE.ORG/A", "https://[2001:db8::1]:8443/x"],
)
def test_http_and_https_urls_are_links(url: str) -> None:
    assert http_url(url) == url
    assert http_url(url, https_only=True) == (url if url.lower().startswith("https") else None)


def hostile(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with an alignment and an evidence entry for each hostile URL, and one safe."""
    changed = copy.deepcopy(document)
    urls = [*HOSTILE_URLS, SAFE_URL]
    changed["credentialSubject"]["achievement"]["alignment"] = [
        {"type": ["Alignment"], "targetName": f"Hostile skill {i}", "targetUrl": url}
        for i, url in enumerate(urls)
    ]
    changed["evidence"] = [
        {"type": ["Evidence"], "id": url, "name": f"Hostile evidence {i}"}
        for i, url in enumerate(urls)
    ]
    return changed


def test_hostile_urls_are_never_links_on_any_page(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    badge = issue(site, headers, "kim@example.org")
    with transaction(mail_services.engine) as db:
        row = db.get(Credential, badge)
        assert row is not None
        row.document = hostile(row.document)
        db.add(row)
        document = row.document
    sign_in(site, mailbox, "kim@example.org")
    mine = site.get(f"/wallet/badges/c-{badge}")
    made = site.post(f"/wallet/badges/c-{badge}/share", data={"csrf": csrf(mine.text)})
    share = re.search(r'<code class="share-url">([^<]+)</code>', made.text)
    assert share, made.text[:500]
    pages = {
        "/v": site.get(f"/v/{badge}").text,
        "/s": site.get(urlsplit(share.group(1)).path).text,
        "wallet": site.get(f"/wallet/badges/c-{badge}").text,
        "/verify": post_verify(site, data={"pasted": json.dumps(document)}).text,
        "/verify?lang=ko": post_verify(
            site, "/verify?lang=ko", data={"pasted": json.dumps(document)}
        ).text,
    }
    for where, html in pages.items():
        assert_no_script_links(html, where)


def test_an_admins_hostile_alignment_is_refused_or_never_a_link(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "hrd")
    achievement = client.get("/api/v1/issuers/hrd/achievements", headers=headers).json()
    body = {
        "key": "leading-people",
        "name": "Leading People",
        "description": "A course.",
        "criteria": "Attend.",
        "alignments": [
            {"targetName": "Sneaky", "targetUrl": "JaVaScRiPt:alert(1)", "targetCode": "X"}
        ],
    }
    assert achievement  # the fixture's achievement, replaced below
    changed = client.put(
        "/api/v1/issuers/hrd/achievements/leading-people", json=body, headers=headers
    )
    if not changed.is_success:
        assert 400 <= changed.status_code < 500, changed.text
        return
    issued = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    assert issued.status_code == 201, issued.text
    page = client.get(f"/v/{issued.json()['id'].removeprefix('urn:uuid:')}").text
    assert "Sneaky" in page
    assert not [t for t in targets(page) if scheme(t) == "javascript"]


@pytest.mark.parametrize(("url", "links"), [("https://laurel.test/v/1", 4), (HOSTILE_URLS[1], 0)])
def test_certificate_pdf_links_only_to_http(url: str, links: int) -> None:
    data = CertificateData(
        issuer_name="HRD Institute",
        issuer_logo_png=None,
        learner_name="Kim",
        achievement_name="Leading People",
        achievement_description=None,
        issued_on=date(2025, 1, 1),
        valid_until=None,
        learning_hours=None,
        signatory_name=None,
        signatory_title=None,
        credential_id="urn:uuid:1",
        verify_url=url,
        badge_png=None,
    )
    assert certificate_pdf(data).count(b"/URI") == links


# --- headers ------------------------------------------------------------------------------------


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_common_headers(response: Any, where: str) -> None:
    assert response.headers["x-content-type-options"] == "nosniff", where
    assert response.headers["x-frame-options"] == "DENY", where
    assert response.headers["referrer-policy"] in ("no-referrer", "same-origin"), where


def assert_page_headers(response: Any, where: str) -> None:
    assert response.headers["content-type"].startswith("text/html"), where
    assert_common_headers(response, where)
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"], where
    assert policy["frame-ancestors"] == ["'none'"], where
    assert policy["base-uri"] == ["'none'"], where
    assert policy["object-src"] == ["'none'"], where
    assert policy["form-action"][0] == "'self'", where
    assert "script-src" not in policy, where  # no script at all (default-src 'none')
    assert "'unsafe-inline'" not in policy["style-src"], where
    served = re.findall(r"<style>(.*?)</style>", response.text, re.DOTALL)
    for style in served:  # the browser test shows the styles do apply
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["style-src"], where


def test_every_page_sends_the_security_headers(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    badge = issue(site, headers, "kim@example.org")
    anonymous = [
        f"/v/{badge}",
        "/v/urn:uuid:00000000-0000-4000-8000-000000000000",
        "/verify",
        "/wallet/login",
        "/console/login",
        "/s/no-such-link",
        "/frameworks/ecq/ECQ2-4",
    ]
    for path in anonymous:
        assert_page_headers(site.get(path), path)
    sign_in(site, mailbox, "kim@example.org")
    for path in ("/wallet", f"/wallet/badges/c-{badge}", "/wallet/import", "/wallet/account"):
        assert_page_headers(site.get(path), path)
    assert_page_headers(site.get(f"/v/{badge}?lang=ko"), "Korean")
    assert_page_headers(post_verify(site, data={"pasted": "{}"}), "POST /verify")


def test_files_and_api_answers_are_not_sniffed_and_svg_cannot_script(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "hrd")
    issued = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    badge = issued.json()["id"].removeprefix("urn:uuid:")
    assert_common_headers(issued, "POST /api/v1/…/credentials")
    for path in (
        f"/v/{badge}/badge.svg",
        f"/v/{badge}/qr.svg",
        "/api/v1/issuers/hrd/skills.svg",
    ):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200 and "svg" in answer.headers["content-type"], path
        assert_common_headers(answer, path)
        policy = directives(answer.headers["content-security-policy"])
        assert policy["default-src"] == ["'none'"] and "sandbox" in policy, path
        assert "script-src" not in policy, path
    for path in (f"/v/{badge}/credential.json", "/.well-known/jwks.json", "/api/v1/nothing"):
        answer = client.get(path, headers=headers)
        assert_common_headers(answer, path)
        assert "sandbox" in answer.headers["content-security-policy"], path
    pdf = client.get(f"/v/{badge}/certificate.pdf")
    assert_common_headers(pdf, "certificate.pdf")
    assert "content-security-policy" not in pdf.headers  # Chromium's viewer refuses a sandbox
    refused = client.post("/api/v1/verify", content=b"x" * (3 * MiB))
    assert refused.status_code == 413
    assert_common_headers(refused, "413")


# --- CSRF on /verify ------------------------------------------------------------------------------


def test_verify_form_needs_its_token(live: Live) -> None:
    badge = live.client.get(f"/v/{live.badges.valid}/credential.json").text
    stranger = TestClient(live.client.app)
    first = stranger.get("/verify")  # a first visit sets the double-submit cookie
    assert "laurel_form=" in first.headers["set-cookie"]
    assert "HttpOnly" in first.headers["set-cookie"]
    token = csrf(first.text)
    assert stranger.post("/verify", data={"pasted": badge}).status_code == 403
    assert stranger.post("/verify", data={"pasted": badge, "csrf": "made-up"}).status_code == 403
    cross_site = stranger.post(
        "/verify",
        data={"pasted": badge, "csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403 and "another site" in cross_site.text
    no_cookie = TestClient(live.client.app).post("/verify", data={"pasted": badge, "csrf": token})
    assert no_cookie.status_code == 403
    allowed = stranger.post(
        "/verify", data={"pasted": badge, "csrf": token}, headers={"Origin": live.base_url}
    )
    assert allowed.status_code == 200 and 'id="verdict-title">Verified' in allowed.text
    api = TestClient(live.client.app).post(
        "/api/v1/verify", content=badge, headers={"Content-Type": "application/json"}
    )
    assert api.status_code == 200 and api.json()["verdict"] == "verified"
    assert "set-cookie" not in api.headers


# --- body limits ----------------------------------------------------------------------------------


def test_the_limit_table() -> None:
    default = 20 * MiB
    assert limit_for("POST", "/verify", default) == 14 * MiB
    assert limit_for("POST", "/api/v1/verify", default) == 2 * MiB
    assert limit_for("POST", "/wallet/import", default) == 4 * MiB
    assert limit_for("POST", "/api/v1/issuers/hrd/credentials/bulk", default) == default
    assert limit_for("POST", "/wallet/login", default) == 1 * MiB
    assert limit_for("POST", "/api/v1/issuers/hrd/credentials", default) == default
    assert limit_for("POST", "/verify", 1 * MiB) == 1 * MiB  # the setting caps every route
    assert all(route.holds for route in ROUTES)


class Drip:
    """An ASGI client sending a body in 64 KiB chunks, counting what the app pulled."""

    CHUNK = 64 * 1024

    def __init__(self, first: bytes, total: int) -> None:
        self.first, self.total, self.pulled = first, total, 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.pulled == 0:
            self.pulled = len(self.first)
            return {"type": "http.request", "body": self.first, "more_body": True}
        if self.pulled >= self.total:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.pulled += self.CHUNK
        return {"type": "http.request", "body": b"x" * self.CHUNK, "more_body": True}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def run(self, app: Any, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        asyncio.run(app(scope, self.receive, self.send))
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) == 1, self.sent  # one answer, never the route's as well
        kind = dict(starts[0]["headers"]).get(b"content-type", b"").decode()
        body = b"".join(m.get("body", b"") for m in self.sent if m["type"].endswith("body"))
        return starts[0]["status"], kind, body


@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [
        ("/api/v1/verify", "application/json", 2 * MiB),
        ("/verify", "multipart/form-data; boundary=xx", 14 * MiB),
        ("/api/v1/issuers/hrd/credentials/bulk", "text/csv", 20 * MiB),
        ("/wallet/login", "application/x-www-form-urlencoded", 1 * MiB),
    ],
)
def test_a_chunked_body_is_cut_off_at_its_limit(
    client: TestClient, services: Services, path: str, content_type: str, limit: int
) -> None:
    """No Content-Length: the limit is found while reading, and the app never pulls more. (Bulk
    issuing reads no body before its key is checked: the key is a real one here.)"""
    key = make_issuer(services, client, "hrd") if "/credentials/bulk" in path else {}
    token = csrf(client.get("/verify").text)
    first = (
        f'--xx\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
        '--xx\r\nContent-Disposition: form-data; name="upload"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    drip = Drip(first if path == "/verify" else b"x", 300 * MiB)
    status, kind, body = drip.run(
        client.app,
        path,
        {
            "host": "testserver",
            "content-type": content_type,
            "cookie": f"laurel_form={token}",
            **{name.lower(): value for name, value in key.items()},
        },
    )
    assert status == 413
    assert limit < drip.pulled <= limit + len(first) + Drip.CHUNK
    if not path.startswith("/api/"):  # a page's error is a page
        assert kind.startswith("text/html") and b"over this address&#39;s limit" in body
    else:
        assert kind == "application/problem+json"
        assert json.loads(body)["status"] == 413 and json.loads(body)["limit"] == limit


def test_a_declared_length_over_the_limit_is_refused_unread(client: TestClient) -> None:
    drip = Drip(b"x", 3 * MiB)
    status, kind, _ = drip.run(
        client.app,
        "/api/v1/verify",
        {"host": "testserver", "content-type": "application/json", "content-length": "3145728"},
    )
    assert status == 413 and kind == "application/problem+json" and drip.pulled == 0


def chunked_post(base_url: str, path: str, total: int, content_type: str) -> tuple[int, bytes]:
    """Stream ``total`` bytes of chunked body to a real server until it answers; returns what
    was sent and the answer's head."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    chunk = 64 * 1024
    piece = f"{chunk:x}\r\n".encode() + b"x" * chunk + b"\r\n"
    sent, pending, answer = 0, b"", b""
    with socket.create_connection((host, port), timeout=60) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        while sent < total:
            readable, _, _ = select.select([sock], [sock], [], 60)
            if readable:
                break  # the server answered, or closed
            pending = pending or piece
            try:
                count = sock.send(pending)
            except OSError:
                break
            pending, sent = pending[count:], sent + count
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return sent, answer


def test_a_real_server_answers_413_long_before_a_200_mb_chunked_upload_ends(live: Live) -> None:
    total = 200 * MiB
    sent, answer = chunked_post(live.base_url, "/api/v1/verify", total, "application/json")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer
    assert sent < 32 * MiB  # the 2 MB limit, and what the sockets' buffers took


# --- pictures -------------------------------------------------------------------------------------


def png(mode: str, size: int) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (size, size), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """6300×6300 pixels in 4 KB: 40 MB a byte per pixel once decoded."""
    data = png("1", 6300)
    assert len(data) < 10_000
    return data


def test_a_pixel_bomb_is_refused_before_it_is_decoded(bomb: bytes) -> None:
    with pytest.raises(qrread.TooLarge) as refused:
        qrread.read_qr_from_upload(bomb)
    assert refused.value.kind == "too-large" and refused.value.size == (6300, 6300)
    assert "6300×6300" in refused.value.message
    with pytest.raises(qrread.NoQRCode):  # 25 MP of grey: within the budget, read
        qrread.read_qr_from_upload(png("L", 5000))


def test_verify_page_refuses_a_pixel_bomb_in_english_and_korean(live: Live, bomb: bytes) -> None:
    files = {"upload": ("bomb.png", bomb, "image/png")}
    english = post_verify(live.client, files=files)
    assert english.status_code == 400 and "6300×6300 pixels" in english.text
    assert "too many" in english.text
    photo = {"upload": ("big.jpg", b"\xff\xd8\xff\xe0" + bytes(12 * MiB), "image/jpeg")}
    big = post_verify(live.client, files=photo)
    assert big.status_code == 400 and "over 12 MB" in big.text
    korean = post_verify(live.client, "/verify?lang=ko", files=files)  # remembers the language
    assert korean.status_code == 400 and "6300×6300 픽셀" in korean.text
    big_ko = post_verify(live.client, "/verify?lang=ko", files=photo)
    assert big_ko.status_code == 400 and "12MB를 넘습니다" in big_ko.text


def test_at_most_two_pictures_are_decoded_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    inside, most, lock = 0, 0, threading.Lock()
    release = threading.Event()
    entered = threading.Semaphore(0)

    def slow_read(data: bytes) -> str:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        entered.release()
        release.wait()
        with lock:
            inside -= 1
        return "read"

    monkeypatch.setattr(qrread, "_read_picture", slow_read)
    uploads = [threading.Thread(target=qrread.read_qr, args=(png("L", 8),)) for _ in range(6)]
    for upload in uploads:
        upload.start()
    for _ in range(pixels.CONCURRENT_DECODES):
        entered.acquire()
    with lock:
        assert inside == pixels.CONCURRENT_DECODES  # the others wait for a slot
    release.set()
    for upload in uploads:
        upload.join()
    assert most == pixels.CONCURRENT_DECODES == 2


def test_a_refusal_does_not_keep_the_decoded_picture_alive() -> None:
    """The refusal's traceback goes back to the request; the pixels it pointed at do not."""

    class Picture:
        pass

    kept: list[weakref.ref[Picture]] = []

    def decode() -> str:
        picture = Picture()
        kept.append(weakref.ref(picture))
        raise qrread.NoQRCode()

    with pytest.raises(qrread.NoQRCode) as caught:
        pixels.decoded(decode)
    assert caught.value.__traceback__ is not None
    assert kept[0]() is None


def test_a_stamped_picture_stays_within_the_budget() -> None:
    stamp = Stamp("REVOKED 2026-01-01")
    large = Image.open(io.BytesIO(stamp_png(png("RGB", 3000), stamp)))
    assert max(large.size) == MAX_SIDE
    with pytest.raises(ValueError, match="too many pixels"):
        stamp_png(png("1", 6000), stamp)  # 36 MP: 144 MB as RGBA
    small = Image.open(io.BytesIO(stamp_png(png("RGB", 300), stamp)))
    assert small.size == (300, 300)


# --- PDFs -----------------------------------------------------------------------------------------

LIMITS: dict[str, dict[str, float]] = {  # one small, the others too large to stop the bomb
    "memory": {"PDF_MEMORY_BYTES": 256 * MiB, "PDF_CPU_SECONDS": 60, "PDF_SECONDS": 120},
    "CPU time": {"PDF_MEMORY_BYTES": 8192 * MiB, "PDF_CPU_SECONDS": 1, "PDF_SECONDS": 120},
    "wall clock": {"PDF_MEMORY_BYTES": 8192 * MiB, "PDF_CPU_SECONDS": 60, "PDF_SECONDS": 0.5},
}


@pytest.fixture(scope="module")
def pdf_bomb() -> bytes:
    """~4 KB whose page PDFium expands to 10^8 objects: it would take some 100 GB."""
    return nested_forms_pdf(depth=8)


def small_limits(monkeypatch: pytest.MonkeyPatch, limit: str = "memory") -> None:
    for name, value in LIMITS[limit].items():
        monkeypatch.setattr(qrread, name, value)


@pytest.mark.parametrize(
    ("limit", "reason"),
    [
        ("memory", "needs too much memory"),
        ("CPU time", "took too long"),
        ("wall clock", "took too long"),
    ],
)
def test_a_pdf_bomb_is_read_in_a_process_stopped_at_its_limits(
    monkeypatch: pytest.MonkeyPatch, pdf_bomb: bytes, limit: str, reason: str
) -> None:
    """Audit 10, F1: PDFium read this in the server's own process, with no limit: one took
    gigabytes and minutes, one more level of forms aborted the server."""
    small_limits(monkeypatch, limit)
    with pytest.raises(qrread.PDFTooComplex) as refused:
        qrread.read_qr_from_upload(pdf_bomb)
    assert refused.value.kind == "pdf-too-complex"
    assert f"This PDF {reason} to read" in refused.value.message
    assert "screenshot or a photo of the page" in refused.value.message


def test_a_certificate_is_read_well_within_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half the memory and a fifth of the CPU time the server allows still read a certificate."""
    monkeypatch.setattr(qrread, "PDF_MEMORY_BYTES", qrread.PDF_MEMORY_BYTES // 2)
    monkeypatch.setattr(qrread, "PDF_CPU_SECONDS", 1)
    monkeypatch.setattr(qrread, "PDF_SECONDS", 120)
    url = "https://laurel.test/v/urn:uuid:0b7e6c9a-4e2f-4a55-9a1e-4b3c2f1d0e9a"
    data = CertificateData(
        issuer_name="HRD Institute",
        issuer_logo_png=None,
        learner_name="Kim Minjun",
        achievement_name="Leading People",
        achievement_description=None,
        issued_on=date(2025, 3, 12),
        valid_until=None,
        learning_hours=24.0,
        signatory_name=None,
        signatory_title=None,
        credential_id="urn:uuid:0b7e6c9a-4e2f-4a55-9a1e-4b3c2f1d0e9a",
        verify_url=url,
        badge_png=None,
    )
    assert qrread.read_qr_from_upload(certificate_pdf(data)) == url


def every_database_slot_taken(services: Services) -> asyncio.Semaphore:
    """As if other requests held every database connection; a request needing one is turned
    away at once (503) instead of waiting."""
    slots = Slots.of(services)
    slots.wait = 0
    slots._semaphore = asyncio.Semaphore(0)
    return slots._semaphore


def test_api_verify_refuses_a_pdf_bomb_holding_no_database_slot(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch, pdf_bomb: bytes
) -> None:
    """The PDF is read before the request takes a database slot (with every one taken, the
    answer is still the PDF's refusal, not 503), and a 422 problem says why."""
    headers = make_issuer(services, client, "hrd")
    issued = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    small_limits(monkeypatch)
    taken = every_database_slot_taken(services)
    refused = client.post(
        "/api/v1/verify", content=pdf_bomb, headers={"content-type": "application/pdf"}
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["title"] == "Too complex to verify"
    assert "This PDF needs too much memory to read" in refused.json()["detail"]
    taken.release()  # a request holding a database slot finishes
    verified = client.post("/api/v1/verify", json=issued.json())
    assert verified.status_code == 200 and verified.json()["verdict"] == "verified"


def test_verify_page_refuses_a_pdf_bomb_holding_no_database_slot(
    live: Live, monkeypatch: pytest.MonkeyPatch, pdf_bomb: bytes
) -> None:
    small_limits(monkeypatch)
    taken = every_database_slot_taken(live.services)
    files = {"upload": ("certificate.pdf", pdf_bomb, "application/pdf")}
    refused = post_verify(live.client, files=files)
    assert refused.status_code == 400, refused.text
    assert "This PDF needs too much memory to read" in refused.text
    taken.release()
    certificate = live.client.get(f"/v/{live.badges.valid}/certificate.pdf").content
    files = {"upload": ("certificate.pdf", certificate, "application/pdf")}
    verified = post_verify(live.client, files=files)  # read under the same small limits
    assert verified.status_code == 200 and ">Verified<" in verified.text


# --- names that break XML -------------------------------------------------------------------------

NAMES = [
    "Kim ]]> <script>alert(1)</script>",
    "x]]]]>>]]>y",
    "A & B <c> \"double\" 'single'",
    "مريم القحطاني",
    "👩‍🎓 Lee 🎉",
]


def test_names_that_break_xml_issue_and_bake_into_valid_badges(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "hrd")
    for name in NAMES:
        body = issue_body()
        body["recipient"]["name"] = name
        issued = client.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers)
        assert issued.status_code == 201, (name, issued.text)
        badge = issued.json()["id"].removeprefix("urn:uuid:")
        svg = client.get(f"/v/{badge}/badge.svg")
        assert svg.status_code == 200, (name, svg.text[:300])
        SafeET.fromstring(svg.content)  # well-formed XML
        baked = json.loads(read_svg(svg.content))
        assert baked == issued.json()
        named = baked["credentialSubject"]["identifier"][1]
        assert named["identityType"] == "name" and named["identityHash"] == name
        assert json.loads(read_png(client.get(f"/v/{badge}/badge.png").content)) == baked
        page = client.get(f"/v/{badge}")
        assert page.status_code == 200 and "<script>alert" not in page.text
    body = issue_body()  # a direction override is refused (audit 10): it reorders what is drawn
    body["recipient"]["name"] = "\u202eevil\u202c name"
    refused = client.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers)
    assert refused.status_code == 422 and "direction overrides" in refused.text


@pytest.mark.parametrize(
    "value", ["]]>", "\ufffe", "\ud800", "a\x00b", "😀", "\u2028", "plain", "]]]>"]
)
def test_embeddable_json_means_the_same_and_fits_in_cdata(value: str) -> None:
    text = embeddable_json({"name": value, "list": [value, {"k": value}]})
    assert json.loads(text) == {"name": value, "list": [value, {"k": value}]}
    assert "]]>" not in text
    SafeET.fromstring(f"<a><![CDATA[{text}]]></a>".encode())
