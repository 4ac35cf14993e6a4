"""The front door (``GET /``), the API docs served without internet, and the previews
(OpenGraph) of share links and public profiles, through HTTP. The same in Chromium, offline and
at phone width: test_front_door_browser.py."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from issuer.core.settings import Settings
from issuer.web import apidocs
from tests.web.conftest import Live
from tests.web.test_hardening import directives


def test_the_front_door_is_a_page_with_the_ways_in(live: Live) -> None:
    response = live.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<h1 id="home-title">Laurel</h1>' in html
    assert "HRD Institute" in html  # who issues here
    token = re.search(r'name="csrf" value="([^"]+)"', html)
    assert token and response.cookies.get("laurel_form") == token.group(1)
    assert 'action="/verify?lang=en"' in html and 'name="upload"' in html
    assert 'action="/wallet/login"' in html and 'href="/wallet"' in html
    assert 'href="/console"' in html  # staff sign-in
    assert 'href="/docs"' in html and 'href="/terms"' in html and 'href="/privacy"' in html
    assert "<script" not in html
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy


def test_the_front_door_in_korean(live: Live) -> None:
    response = live.client.get("/?lang=ko")
    assert '<html lang="ko">' in response.text
    assert "배지 검증하기" in response.text and "담당자 로그인" in response.text
    assert response.cookies.get("laurel_lang") == "ko"
    with TestClient(live.client.app) as fresh:  # no cookie: the browser's language
        page = fresh.get("/", headers={"Accept-Language": "ko-KR,ko;q=0.9"}).text
    assert "내 배지" in page


def test_its_forms_work(live: Live) -> None:
    """The verify form takes a badge's link; the wallet form sends a sign-in link."""
    html = live.client.get("/").text
    token = re.search(r'name="csrf" value="([^"]+)"', html)
    assert token
    url = f"{live.base_url}/v/{live.badges.valid}"
    verified = live.client.post("/verify?lang=en", data={"csrf": token.group(1), "url": url})
    assert verified.status_code == 200 and '<h1 id="verdict-title">Verified' in verified.text
    sent = live.client.post(
        "/wallet/login", data={"csrf": token.group(1), "email": "valid@example.org"}
    )
    assert sent.status_code == 200
    assert live.mailbox.link("valid@example.org")
    forged = live.client.post("/wallet/login", data={"csrf": "x" * 32, "email": "a@example.org"})
    assert forged.status_code == 403


def test_the_service_name_and_operator_pages(live: Live) -> None:
    live.services.settings.service_name = "HRD Badges"
    live.services.settings.terms_url = "https://hrd.example.org/terms"
    try:
        html = live.client.get("/").text
    finally:
        live.services.settings.service_name = "Laurel"
        live.services.settings.terms_url = None
    assert '<h1 id="home-title">HRD Badges</h1>' in html
    assert "<title>HRD Badges — " in html and 'og:title" content="HRD Badges"' in html
    assert 'href="https://hrd.example.org/terms"' in html


def test_the_api_docs_load_nothing_from_another_site(live: Live) -> None:
    for path in ("/docs", "/redoc"):
        response = live.client.get(path)
        assert response.status_code == 200, path
        html = response.text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
        assert "fonts.googleapis.com" not in html
        policy = directives(response.headers["content-security-policy"])
        assert policy["default-src"] == ["'none'"], path
        for directive in ("script-src", "style-src", "img-src", "font-src", "connect-src"):
            assert all(
                value in ("'self'", "'unsafe-inline'", "data:") or value.startswith("'sha256-")
                for value in policy[directive]
            ), (path, directive, policy[directive])
        assert "'unsafe-inline'" not in policy["script-src"], path
    for name, kind in apidocs.FILES.items():
        asset = live.client.get(f"/docs/assets/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
        assert len(asset.content) > 1000, name
    assert live.client.get("/docs/assets/index.html").status_code == 404
    assert live.client.get("/docs/assets/..%2F__init__.py").status_code == 404
    assert live.client.get("/docs/oauth2-redirect").status_code == 200


def test_the_inline_start_up_script_is_allowed_by_its_hash(live: Live) -> None:
    import base64
    import hashlib

    response = live.client.get("/docs")
    (script,) = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'", f"'sha256-{digest}'"]


def _og(html: str) -> dict[str, str]:
    meta = r'<meta (?:property|name)="((?:og|twitter):[a-z:]+)" content="([^"]*)"'
    return dict(re.findall(meta, html))


def _sign_in(live: Live, email: str) -> str:
    """A wallet session for ``email`` (through the emailed link); its CSRF token."""
    token = re.search(r'name="csrf" value="([^"]+)"', live.client.get("/wallet/login").text)
    assert token
    live.client.post("/wallet/login", data={"csrf": token.group(1), "email": email})
    link = live.mailbox.link(email).removeprefix(live.base_url)
    form = live.client.get(link).text
    step = re.search(r'name="csrf" value="([^"]+)"', form)
    assert step
    live.client.post(link, data={"csrf": step.group(1)})
    wallet = live.client.get("/wallet").text
    session = re.search(r'name="csrf" value="([^"]+)"', wallet)
    assert session, wallet[:500]
    return session.group(1)


def test_share_links_and_public_profiles_have_previews(live: Live) -> None:
    csrf = _sign_in(live, "valid@example.org")
    ref = f"c-{live.badges.valid}"
    shared = live.client.post(f"/wallet/badges/{ref}/share", data={"csrf": csrf, "label": "ACME"})
    assert shared.status_code in (200, 303), shared.text[:300]
    page = live.client.get(f"/wallet/badges/{ref}").text
    found = re.search(r"/s/([A-Za-z0-9_-]{20,})", page)
    assert found, "no share link on the badge's page"
    token = found.group(1)
    og = _og(live.client.get(f"/s/{token}").text)
    assert og["og:title"] == "Leading People — Valid"
    assert og["og:description"].startswith("HRD Institute — Kim Min-jun.")
    assert og["og:url"] == f"{live.base_url}/s/{token}"
    assert og["og:image"] == f"{live.base_url}/s/{token}/badge.png"
    assert og["twitter:card"] == "summary"
    assert live.client.get(og["og:image"].removeprefix(live.base_url)).status_code == 200

    saved = live.client.post(
        "/wallet/profile",
        data={
            "csrf": csrf,
            "display_name": "Kim Min-jun",
            "headline": "Team leader",
            "slug": "kim-minjun",
            "badges": ref,
            "published": "yes",
        },
    )
    assert saved.status_code in (200, 303), saved.text[:300]
    profile = live.client.get("/p/kim-minjun")
    assert profile.status_code == 200, profile.text[:300]
    og = _og(profile.text)
    assert og["og:title"] == "Kim Min-jun"
    assert og["og:description"] == "Team leader — Leading People"
    assert og["og:url"] == f"{live.base_url}/p/kim-minjun"
    assert og["og:image"] == f"{live.base_url}/v/{live.badges.valid}/badge.png"
    assert og["twitter:card"] == "summary"


def test_own_urls_follow_the_base_url_and_a_demo_owns_its_host_at_any_port() -> None:
    kept = Settings(base_url="https://badges.example.org/laurel", key_passphrase="x" * 16)
    assert kept.own_path("https://badges.example.org/laurel/status/3") == "/status/3"
    assert kept.own_path("https://badges.example.org/laurel/v/1?lang=ko") == "/v/1?lang=ko"
    for other in (
        "https://badges.example.org/status/3",  # outside the base path
        "https://badges.example.org/laurelx/status/3",
        "https://badges.example.org:8443/laurel/status/3",  # another port
        "http://badges.example.org/laurel/status/3",  # another scheme
        "https://evil.example/laurel/status/3",
        "https://badges.example.org@evil.example/laurel/status/3",
        "https://evil.example@badges.example.org/laurel/status/3",
        "https://badges.example.org:x/laurel/status/3",
    ):
        assert kept.own_path(other) is None, other
    demo = Settings(base_url="http://127.0.0.1:8001", demo=True)
    assert demo.own_path("http://127.0.0.1:8000/status/1") == "/status/1"
    assert demo.own_path("http://127.0.0.1:8001/status/1") == "/status/1"
    assert demo.own_path("http://localhost:8000/status/1") is None
    assert demo.own_path("http://10.0.0.1:8000/status/1") is None
    served = Settings(base_url="http://127.0.0.1:8001", key_passphrase="x" * 16)
    assert served.own_path("http://127.0.0.1:8000/status/1") is None  # only a demo
