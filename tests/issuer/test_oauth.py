"""The OAuth 2.0 authorization server as the OB 3.0 security profile requires it, driven by a
scripted client: metadata → registration → authorize (the learner signs in by emailed link and
comes back) → consent → token → refresh rotation → revocation; and a negative case for each
MUST of the profile (shared/spec/wave2-apis.md §1.5, §1.6, §1.10)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2
import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine, unit_of_work
from issuer.core.errors import InsufficientScope, InvalidToken
from issuer.core.settings import Settings
from issuer.http.cookies import local_path
from issuer.http.deps import WriteSessionDep
from issuer.http.oauth import bearer
from issuer.models import OAuthClient, OAuthCode, OAuthToken
from issuer.models.base import utcnow
from issuer.oauth.clients import OB_SCOPES
from issuer.oauth.tokens import Access, authenticate
from tests.web.conftest import Inbox, Live
from tests.web.conftest import live as live
from tests.web.conftest import mail_services as mail_services  # the fixtures, for these tests
from tests.web.conftest import mailbox as mailbox
from tests.web.conftest import site as site

READ, UPSERT, PROFILE_READ, PROFILE_UPDATE = OB_SCOPES
CLIENT = "https://app.example.org"
REDIRECT = f"{CLIENT}/callback"
OFFLINE_SCOPE = f"{READ} {PROFILE_READ} offline_access"
"""What a client that keeps access asks for: a refresh token comes only with ``offline_access``."""
REGISTRATION: dict[str, Any] = {
    "client_name": "Résumé Builder",
    "client_uri": CLIENT,
    "logo_uri": f"{CLIENT}/logo.png",
    "tos_uri": f"{CLIENT}/terms",
    "policy_uri": f"{CLIENT}/privacy",
    "software_id": "c88b6ed8-269e-448e-99be-7e2ff47167d1",
    "software_version": "v4.0.30319",
    "redirect_uris": [REDIRECT],
    "scope": f"{READ} {UPSERT} {PROFILE_READ} offline_access",
    "contacts": ["dev@app.example.org"],
}


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def register(site: TestClient, **changes: Any) -> httpx2.Response:
    body = {k: v for k, v in {**REGISTRATION, **changes}.items() if v is not None}
    return site.post("/oauth/register", json=body)


def registered(site: TestClient) -> tuple[str, str]:
    answer = register(site)
    assert answer.status_code == 201, answer.text
    return answer.json()["client_id"], answer.json()["client_secret"]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def request(client_id: str, challenge: str, **changes: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": f"{READ} {PROFILE_READ}",
        "state": "af0ifjsldkj",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **changes,
    }
    return {k: v for k, v in params.items() if v is not None}


def sign_in(site: TestClient, mailbox: Inbox, email: str, next_path: str | None = None) -> str:
    """Sign in from the emailed link; returns where the sign-in sends the learner."""
    form = site.get("/wallet/login", params={"next": next_path} if next_path else None)
    data = {"email": email, "csrf": csrf(form.text)}
    if next_path:
        assert 'name="next"' in form.text
        data["next"] = next_path
    assert site.post("/wallet/login", data=data).status_code == 200
    link = urlsplit(mailbox.link(email))
    path = f"{link.path}?{link.query}" if link.query else link.path
    confirm = site.get(path)
    done = site.post(path, data={"csrf": csrf(confirm.text)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    return done.headers["location"]


def query(response: httpx2.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def decide(site: TestClient, params: dict[str, str], decision: str) -> httpx2.Response:
    page = site.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    return site.post(
        "/oauth/authorize",
        params=params,
        data={"csrf": csrf(page.text), "decision": decision},
        follow_redirects=False,
    )


def code_for(site: TestClient, client_id: str, challenge: str, **changes: str | None) -> str:
    return query(decide(site, request(client_id, challenge, **changes), "allow"))["code"]


def exchange(
    site: TestClient, client: tuple[str, str], code: str, verifier: str | None
) -> httpx2.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier is not None:
        form["code_verifier"] = verifier
    return site.post("/oauth/token", data=form, auth=client)


def check(services: Services, token: str, scope: str = READ) -> Access:
    with unit_of_work(services.engine) as db:
        return authenticate(db, f"Bearer {token}", scope)


def is_live(services: Services, token: str) -> bool:
    try:
        check(services, token)
    except InvalidToken:
        return False
    return True


def test_metadata_registration_consent_token_refresh_and_revocation(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    meta = site.get("/.well-known/oauth-authorization-server")
    assert meta.status_code == 200
    document = meta.json()
    AuthorizationServerMetadata(document).validate()
    assert document["issuer"] == "https://laurel.test"
    assert document["registration_endpoint"] == "https://laurel.test/oauth/register"
    assert document["revocation_endpoint"] == "https://laurel.test/oauth/revoke"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["authorization_response_iss_parameter_supported"] is True  # RFC 9207
    assert document["token_endpoint_auth_methods_supported"] == ["client_secret_basic"]
    assert set(OB_SCOPES) <= set(document["scopes_supported"])

    answer = register(site)
    assert answer.status_code == 201, answer.text
    client = answer.json()
    for name, value in REGISTRATION.items():
        assert client[name] == value
    assert client["token_endpoint_auth_method"] == "client_secret_basic"
    assert client["grant_types"] == ["authorization_code", "refresh_token"]  # offline_access
    assert client["response_types"] == ["code"]
    assert client["client_secret_expires_at"] == 0 and client["client_id_issued_at"] > 0
    assert answer.headers["cache-control"] == "no-store"
    credentials = (client["client_id"], client["client_secret"])
    with Session(mail_services.engine) as db:
        row = db.exec(select(OAuthClient)).one()
        assert row.secret_hash == hashlib.sha256(client["client_secret"].encode()).hexdigest()
        assert client["client_secret"] not in str(row.registered)

    verifier, challenge = pkce()
    params = request(client["client_id"], challenge, scope=OFFLINE_SCOPE)
    first = site.get("/oauth/authorize", params=params, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/wallet/login?")
    back = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
    assert back.startswith("/oauth/authorize?") and local_path(back) == back
    assert sign_in(site, mailbox, "kim@example.org", back) == back

    page = site.get(back)
    assert page.status_code == 200
    assert "Résumé Builder" in page.text and 'src="https://app.example.org/logo.png"' in page.text
    for url in (CLIENT, f"{CLIENT}/terms", f"{CLIENT}/privacy"):
        assert f'href="{url}" rel="nofollow noopener noreferrer"' in page.text
    assert "See your badges" in page.text and "See your profile" in page.text
    assert "Change your profile" not in page.text  # not asked for
    assert "Keep this access while you are away" in page.text  # offline_access: refresh tokens
    assert '<button type="submit" name="decision" value="allow"' in page.text
    assert '<button type="submit" name="decision" value="deny"' in page.text
    policy = page.headers["content-security-policy"]
    assert "form-action 'self' https://www.linkedin.com https://app.example.org" in policy
    korean = site.get(back, headers={"Accept-Language": "ko"})
    assert "내 배지(자격 증명) 보기" in korean.text and "허락" in korean.text

    allowed = site.post(
        back, data={"csrf": csrf(page.text), "decision": "allow"}, follow_redirects=False
    )
    sent = query(allowed)
    assert sent["state"] == "af0ifjsldkj" and sent["scope"] == OFFLINE_SCOPE
    assert sent["iss"] == "https://laurel.test"  # RFC 9207: the client can tell who answered

    issued = exchange(site, credentials, sent["code"], verifier)
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store"
    assert issued.headers["pragma"] == "no-cache"
    tokens = issued.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == OFFLINE_SCOPE and tokens["refresh_token"]
    access = check(mail_services, tokens["access_token"])
    assert (
        access.scopes == {READ, PROFILE_READ, "offline_access"}
        and access.client_id == client["client_id"]
    )
    with pytest.raises(InsufficientScope):
        check(mail_services, tokens["access_token"], UPSERT)
    with Session(mail_services.engine) as db:
        stored = db.exec(select(OAuthToken)).one()
        assert tokens["access_token"] not in (stored.access_hash, stored.refresh_hash)

    apps = site.get("/wallet/apps")
    assert "Résumé Builder" in apps.text and "See your badges" in apps.text
    assert "연결된 애플리케이션" in site.get("/wallet/apps", params={"lang": "ko"}).text
    site.get("/wallet/apps", params={"lang": "en"})

    refreshed = site.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=credentials,
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.headers["cache-control"] == "no-store"
    rotated = refreshed.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["scope"] == OFFLINE_SCOPE
    assert is_live(mail_services, rotated["access_token"])
    assert not is_live(mail_services, tokens["access_token"])
    narrower = site.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": rotated["refresh_token"],
            "scope": f"{READ} offline_access",
        },
        auth=credentials,
    )
    assert narrower.status_code == 200 and narrower.json()["scope"] == f"{READ} offline_access"
    wider = site.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": narrower.json()["refresh_token"],
            "scope": f"{READ} {UPSERT} offline_access",
        },
        auth=credentials,
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    latest = narrower.json()

    revoked = site.post(
        "/oauth/revoke",
        data={"token": latest["access_token"], "token_type_hint": "access_token"},
        auth=credentials,
    )
    assert revoked.status_code == 200
    assert not is_live(mail_services, latest["access_token"])
    after = site.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": latest["refresh_token"]},
        auth=credentials,
    )
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    unknown = site.post(
        "/oauth/revoke",
        data={"token": "never-issued", "token_type_hint": "refresh_token"},
        auth=credentials,
    )
    assert unknown.status_code == 200
    odd_hint = site.post(
        "/oauth/revoke", data={"token": "x", "token_type_hint": "id_token"}, auth=credentials
    )
    assert odd_hint.status_code == 400 and odd_hint.json()["error"] == "unsupported_token_type"
    anonymous = site.post("/oauth/revoke", data={"token": latest["access_token"]})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    assert "No application is connected" in site.get("/wallet/apps").text


def test_a_refresh_token_works_once_and_its_replay_ends_the_authorization(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    credentials = registered(site)
    sign_in(site, mailbox, "lee@example.org")
    verifier, challenge = pkce()
    code = code_for(site, credentials[0], challenge, scope=OFFLINE_SCOPE)
    tokens = exchange(site, credentials, code, verifier)
    old = tokens.json()["refresh_token"]
    refresh = {"grant_type": "refresh_token", "refresh_token": old}
    new = site.post("/oauth/token", data=refresh, auth=credentials).json()
    again = site.post("/oauth/token", data=refresh, auth=credentials)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert not is_live(mail_services, new["access_token"])  # RFC 9700 §4.14.2: replay revokes all
    refresh_new = {"grant_type": "refresh_token", "refresh_token": new["refresh_token"]}
    dead = site.post("/oauth/token", data=refresh_new, auth=credentials)
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"

    verifier, challenge = pkce()
    code = code_for(site, credentials[0], challenge, scope=OFFLINE_SCOPE)
    second = exchange(site, credentials, code, verifier)
    revoked = site.post(
        "/oauth/revoke",
        data={"token": second.json()["refresh_token"], "token_type_hint": "refresh_token"},
        auth=credentials,
    )
    assert revoked.status_code == 200
    assert not is_live(mail_services, second.json()["access_token"])


@pytest.mark.parametrize("scope", [OFFLINE_SCOPE, None])
def test_a_refresh_token_only_comes_with_offline_access_the_learner_was_shown(
    site: TestClient, mail_services: Services, mailbox: Inbox, scope: str | None
) -> None:
    """A client registered for the refresh grant that does not ask for ``offline_access`` gets
    no refresh token: the consent page never told the learner the access outlives the hour
    (audit round 8: a 180-day refresh token came with every code of such a client). Asked for,
    the page says so and the refresh token comes."""
    credentials = registered(site)  # grant_types: authorization_code and refresh_token
    sign_in(site, mailbox, "han@example.org")
    verifier, challenge = pkce()
    asked = request(credentials[0], challenge, **({"scope": scope} if scope else {}))
    page = site.get("/oauth/authorize", params=asked)
    told = "Keep this access while you are away" in page.text
    tokens = exchange(site, credentials, query(decide(site, asked, "allow"))["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    assert told is (scope is not None) and ("refresh_token" in tokens.json()) is told
    with Session(mail_services.engine) as db:
        stored = db.exec(select(OAuthToken)).one()
        assert (stored.refresh_hash is not None) is told


def test_token_endpoint_refuses_wrong_verifier_reuse_expiry_and_missing_client_auth(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    credentials = registered(site)
    other = registered(site)
    sign_in(site, mailbox, "park@example.org")
    verifier, challenge = pkce()
    code = code_for(site, credentials[0], challenge, scope=OFFLINE_SCOPE)
    wrong = exchange(site, credentials, code, pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert wrong.headers["cache-control"] == "no-store"
    missing = exchange(site, credentials, code, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    no_auth = site.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": credentials[0],
            "client_secret": credentials[1],
        },
    )
    assert no_auth.status_code == 401 and no_auth.json()["error"] == "invalid_client"
    for header in (
        "Basic !!!",
        "Basic //46eA==",
        f"Bearer {credentials[1]}",
    ):  # //46eA==: not UTF-8
        odd = site.post(
            "/oauth/token",
            data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
            headers={"Authorization": header},
        )
        assert odd.status_code == 401 and odd.json()["error"] == "invalid_client"
    bad_secret = exchange(site, (credentials[0], "wrong"), code, verifier)
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    stolen = exchange(site, other, code, verifier)  # bound to the client it was issued to
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    elsewhere = site.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": f"{CLIENT}/other",
        },
        auth=credentials,
    )
    assert elsewhere.status_code == 400 and elsewhere.json()["error"] == "invalid_grant"

    first = exchange(site, credentials, code, verifier)  # failed attempts did not use it up
    assert first.status_code == 200, first.text
    assert is_live(mail_services, first.json()["access_token"])
    reused = exchange(site, credentials, code, verifier)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert not is_live(mail_services, first.json()["access_token"])  # the reuse revoked it
    refresh = {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]}
    assert site.post("/oauth/token", data=refresh, auth=credentials).status_code == 400

    verifier, challenge = pkce()
    late = code_for(site, credentials[0], challenge)
    with Session(mail_services.engine) as db:
        db.execute(update(OAuthCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    expired = exchange(site, credentials, late, verifier)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"


def test_authorization_errors_are_shown_or_sent_back_as_the_profile_says(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    client_id, _ = registered(site)
    _, challenge = pkce()

    def shown(params: dict[str, str]) -> httpx2.Response:
        answer = site.get("/oauth/authorize", params=params, follow_redirects=False)
        assert answer.status_code == 400 and "location" not in answer.headers, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        return answer

    # never redirected to, signed in or not
    assert (
        "not registered"
        in shown(request(client_id, challenge, redirect_uri="https://evil.example/cb")).text
    )
    shown(request(client_id, challenge, redirect_uri=f"{CLIENT}/other"))
    shown(request(client_id, challenge, redirect_uri=None))
    shown(request("no-such-client", challenge))
    sign_in(site, mailbox, "choi@example.org")
    shown(request(client_id, challenge, redirect_uri="https://evil.example/cb"))
    page = site.get("/oauth/authorize", params=request(client_id, challenge))
    forged = site.post(
        "/oauth/authorize",
        params=request(client_id, challenge, redirect_uri="https://evil.example/cb"),
        data={"csrf": csrf(page.text), "decision": "allow"},
        follow_redirects=False,
    )
    assert forged.status_code == 400 and "location" not in forged.headers

    def sent_back(params: dict[str, str]) -> dict[str, str]:
        return query(site.get("/oauth/authorize", params=params, follow_redirects=False))

    missing = sent_back(request(client_id, challenge, code_challenge=None))
    assert missing["error"] == "invalid_request" and missing["state"] == "af0ifjsldkj"
    assert "code" not in missing and missing["iss"] == "https://laurel.test"  # RFC 9207
    plain = sent_back(request(client_id, challenge, code_challenge_method="plain"))
    assert plain["error"] == "invalid_request" and "S256" in plain["error_description"]
    no_method = sent_back(request(client_id, challenge, code_challenge_method=None))
    assert no_method["error"] == "invalid_request"
    assert sent_back(request(client_id, challenge, state=None))["error"] == "invalid_request"
    assert sent_back(request(client_id, challenge, scope=None))["error"] == "invalid_scope"
    unknown = sent_back(request(client_id, challenge, scope="https://example.org/admin"))
    assert unknown["error"] == "invalid_scope"
    token = sent_back(request(client_id, challenge, response_type="token"))
    assert token["error"] == "unsupported_response_type" and token["iss"] == "https://laurel.test"
    quoted = sent_back(request(client_id, challenge, response_type='to"ken\\é'))
    assert quoted["error"] == "unsupported_response_type"  # Authlib alone answered 500
    assert (
        "location"
        not in site.get(
            "/oauth/authorize",
            params=request(client_id, challenge, response_type="token", redirect_uri=f"{CLIENT}/x"),
            follow_redirects=False,
        ).headers
    )

    denied = query(decide(site, request(client_id, challenge), "deny"))
    assert denied["error"] == "access_denied" and denied["state"] == "af0ifjsldkj"
    assert "code" not in denied and denied["iss"] == "https://laurel.test"
    page = site.get("/oauth/authorize", params=request(client_id, challenge))
    no_csrf = site.post(
        "/oauth/authorize",
        params=request(client_id, challenge),
        data={"csrf": "made-up", "decision": "allow"},
        follow_redirects=False,
    )
    assert no_csrf.status_code == 403 and "location" not in no_csrf.headers
    with Session(mail_services.engine) as db:
        assert db.exec(select(OAuthCode)).all() == []


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"logo_uri": None}, "invalid_client_metadata"),
        ({"client_name": None}, "invalid_client_metadata"),
        ({"client_uri": None}, "invalid_client_metadata"),
        ({"tos_uri": None}, "invalid_client_metadata"),
        ({"policy_uri": None}, "invalid_client_metadata"),
        ({"software_id": None}, "invalid_client_metadata"),
        ({"software_version": None}, "invalid_client_metadata"),
        ({"scope": None}, "invalid_client_metadata"),
        ({"redirect_uris": None}, "invalid_redirect_uri"),
        ({"redirect_uris": REDIRECT}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://app.example.org/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://other.example.org/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example.org/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://127.0.0.1:8000/cb"]}, "invalid_redirect_uri"),
        ({"logo_uri": "https://cdn.example.net/logo.png"}, "invalid_client_metadata"),
        ({"tos_uri": "http://app.example.org/terms"}, "invalid_client_metadata"),
        ({"policy_uri": "javascript:alert(1)"}, "invalid_client_metadata"),
        ({"grant_types": ["authorization_code", "client_credentials"]}, "invalid_client_metadata"),
        ({"grant_types": "authorization_code"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "none"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "client_secret_post"}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"scope": "https://example.org/admin"}, "invalid_client_metadata"),
        ({"contacts": "dev@app.example.org"}, "invalid_client_metadata"),
        ({"client_name": "Builder\u0000"}, "invalid_client_metadata"),
        ({"client_name": ["Builder"]}, "invalid_client_metadata"),
        ({"redirect_uris": ["https://app.example.org:99999/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://user@app.example.org/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ['https://app"x.example.org/cb']}, "invalid_redirect_uri"),
        (
            {"client_uri": "https://ä.example.org", "logo_uri": "https://ä.example.org/l"},
            "invalid_client_metadata",
        ),
    ],
)
def test_registration_refuses_what_the_profile_forbids(
    site: TestClient, mail_services: Services, changes: dict[str, Any], error: str
) -> None:
    answer = register(site, **changes)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error
    with Session(mail_services.engine) as db:
        assert db.exec(select(OAuthClient)).all() == []


def test_registration_needs_a_json_object(site: TestClient) -> None:
    huge = register(site, client_name="x" * 70_000)
    assert huge.status_code == 413
    for body in (b"[]", b"not json", b'"text"'):
        answer = site.post(
            "/oauth/register", content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_client_metadata"


def test_registrations_per_address_are_limited(site: TestClient, mail_services: Services) -> None:
    """Anyone may register a client, so one address may register only so many (429 after)."""
    mail_services.cache.pop("laurel.rates", None)
    mail_services.settings.registration_rate = "3/hour"
    try:
        for _ in range(3):
            assert register(site).status_code == 201
        refused = register(site)
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) > 0
        assert "too many registrations" in refused.json()["detail"]
        with Session(mail_services.engine) as db:
            assert len(db.exec(select(OAuthClient)).all()) == 3
    finally:
        mail_services.cache.pop("laurel.rates", None)


@pytest.fixture
def loopback(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """Laurel on a loopback http base URL, as in development."""
    settings = Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url="http://127.0.0.1:8000",
    )
    engine = make_engine(database_url)
    services = Services.from_settings(settings, engine)
    with TestClient(create_app(services=services), base_url="http://127.0.0.1:8000") as client:
        yield client
    engine.dispose()


def test_loopback_http_clients_only_when_laurel_itself_runs_on_loopback(
    loopback: TestClient, site: TestClient
) -> None:
    local = {
        "client_uri": "http://127.0.0.1:9000",
        "logo_uri": "http://127.0.0.1:9000/logo.png",
        "tos_uri": "http://127.0.0.1:9000/terms",
        "policy_uri": "http://127.0.0.1:9000/privacy",
        "redirect_uris": ["http://127.0.0.1:9000/callback"],
    }
    assert register(loopback, **local).status_code == 201
    assert register(loopback).status_code == 201  # https clients as well
    outside = {
        k: v.replace("127.0.0.1:9000", "app.example.org")
        if isinstance(v, str)
        else [u.replace("127.0.0.1:9000", "app.example.org") for u in v]
        for k, v in local.items()
    }
    refused = register(loopback, **outside)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client_metadata"
    production = register(site, **local)
    assert production.status_code == 400
    assert production.json()["error"] == "invalid_client_metadata"
    metadata = loopback.get("/.well-known/oauth-authorization-server").json()
    assert metadata["token_endpoint"] == "http://127.0.0.1:8000/oauth/token"


def test_bearer_dependency_answers_401_and_403_with_their_challenges(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    def protected(
        db: WriteSessionDep, access: Annotated[Access, Depends(bearer(UPSERT))]
    ) -> dict[str, Any]:
        return {"learner": access.learner.id, "scopes": sorted(access.scopes)}

    app = site.app
    assert hasattr(app, "add_api_route")
    app.add_api_route("/test-only/upsert", protected, methods=["POST"])
    missing = site.post("/test-only/upsert")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    unknown = site.post("/test-only/upsert", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401
    credentials = registered(site)
    sign_in(site, mailbox, "jung@example.org")
    verifier, challenge = pkce()
    tokens = exchange(site, credentials, code_for(site, credentials[0], challenge), verifier).json()
    header = {"Authorization": f"Bearer {tokens['access_token']}"}
    lacking = site.post("/test-only/upsert", headers=header)
    assert lacking.status_code == 403
    assert lacking.headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", scope="{UPSERT}"'
    )
    verifier, challenge = pkce()
    wide = code_for(site, credentials[0], challenge, scope=f"{READ} {UPSERT}")
    granted = exchange(site, credentials, wide, verifier).json()
    header = {"Authorization": f"Bearer {granted['access_token']}"}
    ok = site.post("/test-only/upsert", headers=header)
    assert ok.status_code == 200 and ok.json()["scopes"] == sorted([READ, UPSERT])
    with Session(mail_services.engine) as db:
        used = db.exec(select(OAuthToken).where(OAuthToken.scope == f"{READ} {UPSERT}")).one()
        assert used.last_used_at is not None
    with Session(mail_services.engine) as db:
        db.execute(update(OAuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    assert site.post("/test-only/upsert", headers=header).status_code == 401


def test_next_after_sign_in_stays_on_this_site() -> None:
    assert local_path("/oauth/authorize?a=1") == "/oauth/authorize?a=1"
    for outside in (
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/x\r\nSet-Cookie: a=b",
        "",
        None,
        "wallet",
    ):
        assert local_path(outside) is None


def test_merging_learners_keeps_and_deleting_the_account_ends_connections(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    from issuer.wallet import accounts

    credentials = registered(site)
    sign_in(site, mailbox, "first@example.org")
    verifier, challenge = pkce()
    tokens = exchange(site, credentials, code_for(site, credentials[0], challenge), verifier)
    other = check(mail_services, tokens.json()["access_token"]).learner.id
    site.cookies.clear()
    sign_in(site, mailbox, "second@example.org")
    verifier, challenge = pkce()
    mine = exchange(site, credentials, code_for(site, credentials[0], challenge), verifier)
    into = check(mail_services, mine.json()["access_token"]).learner.id
    assert into is not None and other is not None and into != other
    with unit_of_work(mail_services.engine) as db:
        accounts.merge(db, into=into, other=other)  # the learner row goes; its tokens move
    assert check(mail_services, tokens.json()["access_token"]).learner.id == into
    page = site.get("/wallet/account")
    deleted = site.post(
        "/wallet/account/delete", data={"csrf": csrf(page.text), "confirm": "DELETE"}
    )
    assert deleted.status_code == 200
    with Session(mail_services.engine) as db:
        assert all(row.revoked_at is not None for row in db.exec(select(OAuthToken)).all())
    assert not is_live(mail_services, mine.json()["access_token"])


def test_authlibs_own_client_against_a_live_server_on_loopback(live: Live) -> None:
    """An independent client (Authlib's httpx ``OAuth2Client``) over real HTTP, against Laurel
    on a loopback base URL, where loopback client URLs are allowed."""
    from authlib.integrations.httpx_client import OAuth2Client

    base = live.base_url
    meta = httpx.get(f"{base}/.well-known/oauth-authorization-server").json()
    app = "http://127.0.0.1:9"
    registration = {
        **REGISTRATION,
        "client_uri": app,
        "logo_uri": f"{app}/logo.png",
        "tos_uri": f"{app}/terms",
        "policy_uri": f"{app}/privacy",
        "redirect_uris": [f"{app}/callback"],
    }
    answer = httpx.post(meta["registration_endpoint"], json=registration)
    assert answer.status_code == 201, answer.text
    registered_client = answer.json()
    with OAuth2Client(
        registered_client["client_id"],
        registered_client["client_secret"],
        scope=f"{READ} offline_access",
        redirect_uri=f"{app}/callback",
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    ) as oauth:
        _flow(live, meta, oauth, app)


def _flow(live: Live, meta: dict[str, Any], oauth: Any, app: str) -> None:
    """Authorize (signing in on the way), consent, token, refresh, revoke."""
    verifier = pkce()[0]
    url, state = oauth.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier
    )
    with httpx.Client(base_url=live.base_url) as browser:
        to_login = browser.get(url)
        assert to_login.status_code == 303
        back = parse_qs(urlsplit(to_login.headers["location"]).query)["next"][0]
        form = browser.get("/wallet/login", params={"next": back})
        sent = {"email": "yoon@example.org", "csrf": csrf(form.text), "next": back}
        assert browser.post("/wallet/login", data=sent).status_code == 200
        link = urlsplit(live.mailbox.link("yoon@example.org"))
        path = f"{link.path}?{link.query}"
        done = browser.post(path, data={"csrf": csrf(browser.get(path).text)})
        assert done.status_code == 303 and done.headers["location"] == back
        page = browser.get(back)
        assert "Résumé Builder" in page.text
        allowed = browser.post(back, data={"csrf": csrf(page.text), "decision": "allow"})
    assert allowed.status_code == 302
    redirected = allowed.headers["location"]
    assert redirected.startswith(f"{app}/callback?")
    assert parse_qs(urlsplit(redirected).query)["state"] == [state]
    token = oauth.fetch_token(
        meta["token_endpoint"], authorization_response=redirected, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer" and token["scope"] == f"{READ} offline_access"
    fresh = oauth.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert fresh["access_token"] != token["access_token"]
    assert check(live.services, fresh["access_token"]).scopes == {READ, "offline_access"}
    assert not is_live(live.services, token["access_token"])
    revoked = oauth.revoke_token(
        meta["revocation_endpoint"], token=fresh["access_token"], token_type_hint="access_token"
    )
    assert revoked.status_code == 200
    assert not is_live(live.services, fresh["access_token"])


def test_purge_removes_what_expired_or_was_revoked_long_ago(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    from issuer.oauth.tokens import purge

    credentials = registered(site)
    sign_in(site, mailbox, "han@example.org")
    kept: list[dict[str, Any]] = []
    gone: list[dict[str, Any]] = []
    for bucket in (kept, gone):
        verifier, challenge = pkce()
        answer = exchange(site, credentials, code_for(site, credentials[0], challenge), verifier)
        bucket.append(answer.json())
    site.post("/oauth/revoke", data={"token": gone[0]["access_token"]}, auth=credentials)
    long_ago = utcnow() - timedelta(days=2)
    with Session(mail_services.engine) as db:
        db.execute(update(OAuthCode).values(expires_at=long_ago))
        revoked = col(OAuthToken.revoked_at).is_not(None)
        db.execute(update(OAuthToken).where(revoked).values(revoked_at=long_ago))
        db.commit()
    with unit_of_work(mail_services.engine) as db:
        assert purge(db) == 2  # the revoked token and its code
    with Session(mail_services.engine) as db:
        assert len(db.exec(select(OAuthToken)).all()) == 1
        assert len(db.exec(select(OAuthCode)).all()) == 1  # the live token's code stays
    assert is_live(mail_services, kept[0]["access_token"])
    with unit_of_work(mail_services.engine) as db:
        assert purge(db) == 0


def test_a_rotated_refresh_token_is_recognised_after_the_purge(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    """The daily purge keeps a rotated refresh token until it would have expired: the rightful
    client coming back days after a thief refreshed first still ends the authorization (audit
    round 8: the purge deleted it a day after the rotation, and the replay was merely unknown)."""
    from issuer.oauth.tokens import purge

    credentials = registered(site)
    sign_in(site, mailbox, "seo@example.org")
    verifier, challenge = pkce()
    code = code_for(site, credentials[0], challenge, scope=OFFLINE_SCOPE)
    rightful = exchange(site, credentials, code, verifier).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": rightful["refresh_token"]}
    stolen = site.post("/oauth/token", data=refresh, auth=credentials).json()
    days_ago = utcnow() - timedelta(days=3)
    with Session(mail_services.engine) as db:
        revoked = col(OAuthToken.revoked_at).is_not(None)
        db.execute(update(OAuthToken).where(revoked).values(revoked_at=days_ago))
        db.execute(update(OAuthCode).values(expires_at=days_ago))
        db.commit()
    with unit_of_work(mail_services.engine) as db:
        assert purge(db) == 0
    back = site.post("/oauth/token", data=refresh, auth=credentials)
    assert back.status_code == 400 and back.json()["error"] == "invalid_grant"
    assert not is_live(mail_services, stolen["access_token"])
    again = {"grant_type": "refresh_token", "refresh_token": stolen["refresh_token"]}
    assert site.post("/oauth/token", data=again, auth=credentials).status_code == 400
    with Session(mail_services.engine) as db:
        db.execute(update(OAuthToken).values(refresh_expires_at=days_ago, revoked_at=days_ago))
        db.commit()
    with unit_of_work(mail_services.engine) as db:
        assert purge(db) == 3  # both pairs, once their refresh tokens expired, and their code
