"""A scripted Open Badges 3.0 API consumer against Laurel as host (shared/spec/wave2-apis.md
§1.10, items 1, 5, 6, 7, 9 and 10): discovery, the scopes of every endpoint, paging, the
upsert/get round trip for JSON and compact JWS, the profile, and Imsx_StatusInfo errors. The
OAuth 2.0 choreography itself is tests/issuer/test_oauth.py; these tests use its helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from issuer.context import Services
from issuer.http.cookies import LEARNER_COOKIE
from tests.issuer.conftest import issue_body, make_issuer
from tests.issuer.credentials import issued_to
from tests.issuer.test_imports import ExternalIssuer
from tests.issuer.test_oauth import (
    PROFILE_READ,
    PROFILE_UPDATE,
    READ,
    UPSERT,
    code_for,
    exchange,
    pkce,
    register,
    sign_in,
)
from tests.web.conftest import Inbox
from tests.web.conftest import mail_services as mail_services  # the fixtures, for these tests
from tests.web.conftest import mailbox as mailbox
from tests.web.conftest import site as site

# 1EdTech's strict schema of error bodies (a copy of shared/spec/schemas/imsx_statusinfo.json)
IMSX = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "ob_api" / "imsx_statusinfo.json").read_text()
)
API = "/ims/ob/v3p0"
EMAIL = "consumer@example.org"
ALL = (READ, UPSERT, PROFILE_READ, PROFILE_UPDATE)


def token(site: TestClient, mailbox: Inbox, scopes: tuple[str, ...]) -> str:
    """An access token for the learner ``EMAIL`` granting ``scopes``, the way a consumer gets
    one: registration, authorization (signed in, allowed), token."""
    answer = register(site, scope=" ".join(ALL))
    assert answer.status_code == 201, answer.text
    client = (answer.json()["client_id"], answer.json()["client_secret"])
    if LEARNER_COOKIE not in site.cookies:
        sign_in(site, mailbox, EMAIL)
    verifier, challenge = pkce()
    code = code_for(site, client[0], challenge, scope=" ".join(scopes))
    granted = exchange(site, client, code, verifier)
    assert granted.status_code == 200, granted.text
    return str(granted.json()["access_token"])


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def imsx(response: httpx2.Response, status: int, minor: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    jsonschema.validate(body, IMSX)
    assert body["imsx_codeMajor"] == "failure"
    field = body["imsx_codeMinor"]["imsx_codeMinorField"][0]
    assert field["imsx_codeMinorFieldValue"] == minor, body
    return body


def test_discovery_is_the_profiled_official_openapi_file(site: TestClient) -> None:
    answer = site.get(f"{API}/discovery")
    assert answer.status_code == 200 and "Authorization" not in answer.request.headers
    document = answer.json()
    validate(document)
    assert document["servers"][0]["url"] == "https://laurel.test/ims/ob/v3p0"
    info = document["info"]
    assert info["title"] and info["termsOfService"] and info["x-imssf-privacyPolicyUrl"]
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    assert scheme["x-imssf-registrationUrl"] == "https://laurel.test/oauth/register"
    flow = scheme["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == "https://laurel.test/oauth/authorize"
    assert flow["tokenUrl"] == flow["refreshUrl"] == "https://laurel.test/oauth/token"
    assert set(flow["scopes"]) == set(ALL)
    assert set(document["paths"]) == {"/credentials", "/profile", "/discovery"}
    assert "max-age" in answer.headers["cache-control"]
    again = site.get(f"{API}/discovery", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304
    for page in (info["termsOfService"], info["x-imssf-privacyPolicyUrl"]):
        assert site.get(page.removeprefix("https://laurel.test")).status_code == 200


def test_a_method_the_api_has_not_is_an_imsx_405(site: TestClient) -> None:
    for method, path in [("DELETE", "/credentials"), ("POST", "/profile"), ("PUT", "/discovery")]:
        answer = site.request(method, API + path)
        imsx(answer, 405, "not_allowed")
        assert "GET" in answer.headers["allow"]


def test_every_endpoint_needs_a_token_with_its_scope(site: TestClient, mailbox: Inbox) -> None:
    calls: dict[str, tuple[str, str, dict[str, Any] | None]] = {
        READ: ("GET", "/credentials", None),
        UPSERT: ("POST", "/credentials", {}),
        PROFILE_READ: ("GET", "/profile", None),
        PROFILE_UPDATE: ("PUT", "/profile", {}),
    }
    for method, path, extra in calls.values():
        missing = site.request(method, API + path, json=extra)
        imsx(missing, 401, "unauthorizedrequest")
        assert missing.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        unknown = site.request(method, API + path, headers=bearer("nope"), json=extra)
        imsx(unknown, 401, "unauthorizedrequest")
    others = token(site, mailbox, (READ,))
    for scope, (method, path, extra) in calls.items():
        if scope == READ:
            continue
        refused = site.request(method, API + path, headers=bearer(others), json=extra)
        imsx(refused, 403, "forbidden")
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
        assert scope in refused.headers["www-authenticate"]


def _links(response: httpx2.Response) -> dict[str, str]:
    found = {}
    for part in response.headers.get("link", "").split(","):
        if part.strip():
            target, rel = part.split(";")
            found[rel.strip().removeprefix('rel="').removesuffix('"')] = target.strip()[1:-1]
    return found


def test_paging_since_and_bad_parameters(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    issued = []
    for _ in range(5):
        answer = site.post(
            "/api/v1/issuers/hrd/credentials", json=issue_body(EMAIL), headers=headers
        )
        assert answer.status_code == 201, answer.text
        issued.append(answer.json())
    read = bearer(token(site, mailbox, (READ,)))
    upsert = bearer(token(site, mailbox, (UPSERT,)))
    seen: list[str] = []
    for offset, rels in [
        (0, {"first", "last", "next"}),
        (2, {"first", "last", "next", "prev"}),
        (4, {"first", "last", "prev"}),
    ]:
        page = site.get(f"{API}/credentials", params={"limit": 2, "offset": offset}, headers=read)
        assert page.status_code == 200, page.text
        assert page.headers["x-total-count"] == "5"
        links = _links(page)
        assert set(links) == rels, links
        assert links["last"].endswith("limit=2&offset=4")
        body = page.json()
        assert body["compactJwsString"] == []
        seen += [credential["id"] for credential in body["credential"]]
    assert seen == [credential["id"] for credential in issued]
    assert all(
        "proof" in credential
        for credential in site.get(f"{API}/credentials", headers=read).json()["credential"]
    )
    later = site.get(f"{API}/credentials", params={"since": "2999-01-01T00:00:00Z"}, headers=read)
    assert later.json()["credential"] == [] and later.headers["x-total-count"] == "0"
    for bad in ({"limit": 0}, {"offset": -1}, {"since": "yesterday"}, {"limit": "x"}):
        imsx(
            site.get(f"{API}/credentials", params=bad, headers=read), 400, "invalid_query_parameter"
        )
    own = site.post(f"{API}/credentials", json=issued[1], headers=upsert)
    assert own.status_code == 200 and own.json() == issued[1]
    revoked = site.post(
        f"/api/v1/credentials/{issued[0]['id']}/revoke", json={"reason": "test"}, headers=headers
    )
    assert revoked.status_code in (200, 204), revoked.text
    assert site.get(f"{API}/credentials", headers=read).headers["x-total-count"] == "4"


def test_upsert_then_get_returns_an_equal_credential(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    elsewhere = ExternalIssuer()
    signed = elsewhere.sign(issued_to(elsewhere.credential(), EMAIL))
    other = elsewhere.credential(id="urn:uuid:7d3c0b1e-8a45-4f4e-9b1a-2c5e6f7a8b9c")
    jws = elsewhere.jwt(issued_to(other, EMAIL))
    both = bearer(token(site, mailbox, (READ, UPSERT)))
    body = json.dumps(signed).encode()
    created = site.post(
        f"{API}/credentials",
        content=body,
        headers={**both, "Content-Type": "application/vc+ld+json"},
    )
    assert created.status_code == 201, created.text
    assert created.json() == signed and created.headers["content-type"].startswith(
        "application/vc+ld+json"
    )
    replaced = site.post(f"{API}/credentials", json=signed, headers=both)
    assert replaced.status_code == 200, replaced.text
    as_text = site.post(
        f"{API}/credentials", content=jws, headers={**both, "Content-Type": "text/plain"}
    )
    assert as_text.status_code == 201 and as_text.text == jws
    tampered = json.loads(body)
    tampered["credentialSubject"]["achievement"]["name"] = "Doctor of Medicine"
    tampered["id"] = "urn:uuid:11111111-2222-4333-8444-555555555555"
    imsx(site.post(f"{API}/credentials", json=tampered, headers=both), 400, "invalid_data")
    imsx(
        site.post(
            f"{API}/credentials",
            content=jws[:-4] + "AAAA",
            headers={**both, "Content-Type": "text/plain"},
        ),
        400,
        "invalid_data",
    )
    imsx(
        site.post(
            f"{API}/credentials",
            content=b"<x/>",
            headers={**both, "Content-Type": "application/xml"},
        ),
        415,
        "not_acceptable",
    )
    listed = site.get(f"{API}/credentials", headers=both).json()
    assert listed == {"credential": [signed], "compactJwsString": [jws]}


def test_profile_read_and_update(site: TestClient, mailbox: Inbox) -> None:
    both = bearer(token(site, mailbox, (PROFILE_READ, PROFILE_UPDATE)))
    profile = site.get(f"{API}/profile", headers=both)
    assert profile.status_code == 200, profile.text
    current = profile.json()
    assert current["type"] == "Profile" and current["email"] == EMAIL
    changed = site.put(f"{API}/profile", json={**current, "name": "Park Ji-woo"}, headers=both)
    assert changed.status_code == 200 and changed.json()["name"] == "Park Ji-woo"
    assert site.get(f"{API}/profile", headers=both).json()["name"] == "Park Ji-woo"
    imsx(
        site.put(f"{API}/profile", json={**current, "phone": "+82 2 000"}, headers=both),
        400,
        "invalid_data",
    )
    imsx(
        site.put(
            f"{API}/profile", content=b"{", headers={**both, "Content-Type": "application/json"}
        ),
        400,
        "invalid_data",
    )


def test_a_revoked_token_gets_401(site: TestClient, mailbox: Inbox) -> None:
    answer = register(site, scope=" ".join(ALL))
    client = (answer.json()["client_id"], answer.json()["client_secret"])
    sign_in(site, mailbox, EMAIL)
    verifier, challenge = pkce()
    code = code_for(site, client[0], challenge, scope=READ)
    value = exchange(site, client, code, verifier).json()["access_token"]
    assert site.get(f"{API}/credentials", headers=bearer(value)).status_code == 200
    gone = site.post(
        "/oauth/revoke", data={"token": value, "token_type_hint": "access_token"}, auth=client
    )
    assert gone.status_code == 200, gone.text
    imsx(site.get(f"{API}/credentials", headers=bearer(value)), 401, "unauthorizedrequest")


def _post(site: TestClient, credential: dict[str, Any], headers: dict[str, str]) -> httpx2.Response:
    body = json.dumps(credential).encode()
    return site.post(
        f"{API}/credentials", content=body, headers={**headers, "Content-Type": "application/json"}
    )


def test_upsert_of_another_issuers_credential_with_the_same_id_keeps_both(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    """Audit round 8, F1: an app signing its own credential with the id of the learner's
    verified badge from University A no longer replaces that badge."""
    app = bearer(token(site, mailbox, (READ, UPSERT)))
    university, mill = ExternalIssuer(name="University A"), ExternalIssuer(name="Diploma Mill")
    genuine = university.sign(issued_to(university.credential(), EMAIL))
    fake = mill.credential(validFrom="2026-02-01T00:00:00Z")
    fake["credentialSubject"]["achievement"]["name"] = "Failed"
    fake = mill.sign(issued_to(fake, EMAIL))
    assert _post(site, genuine, app).status_code == 201
    second = _post(site, fake, app)
    assert second.status_code == 201, second.text  # another credential, not "replaced"
    listed = site.get(f"{API}/credentials", headers=app).json()["credential"]
    assert listed == [genuine, fake]


def test_upsert_of_someone_elses_badge_is_refused(site: TestClient, mailbox: Inbox) -> None:
    """Audit round 8, F4: Mallory's app storing Alice's genuine badge (from her share link)
    would have every app connected to Mallory's wallet receive it as hers."""
    app = bearer(token(site, mailbox, (READ, UPSERT)))
    alice = ExternalIssuer()
    hers = alice.sign(issued_to(alice.credential(), "alice@example.org"))
    refused = imsx(_post(site, hers, app), 400, "invalid_data")
    assert "issued to someone else" in refused["imsx_description"]
    assert site.get(f"{API}/credentials", headers=app).headers["x-total-count"] == "0"


def test_a_full_wallet_answers_an_imsx_409(
    site: TestClient, mail_services: Services, mailbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mail_services.settings, "wallet_max_credentials", 1)
    app = bearer(token(site, mailbox, (READ, UPSERT)))
    elsewhere = ExternalIssuer()
    first = elsewhere.sign(issued_to(elsewhere.credential(), EMAIL))
    assert _post(site, first, app).status_code == 201
    assert _post(site, first, app).status_code == 200  # replacing an equal one is not adding
    more = elsewhere.sign(
        issued_to(
            elsewhere.credential(id="urn:uuid:" + "1" * 8 + "-1111-4111-8111-" + "1" * 12), EMAIL
        )
    )
    full = imsx(_post(site, more, app), 409, "invalid_data")
    assert "the most it can keep (1)" in full["imsx_description"]
    assert site.get(f"{API}/credentials", headers=app).headers["x-total-count"] == "1"
