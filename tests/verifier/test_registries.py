"""Trust lists over HTTP: DCC known-registries lists, DCC static registries, OpenID Federation
registries with signed statements, and HTTP caching. The network is an ``httpx.MockTransport``
answering with documents in the real shapes (``shared/spec/trust``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.crypto.keys import public_jwk
from verifier.httpcache import CachingHttpClient
from verifier.identity import RegistryUnavailable
from verifier.registries import OidfRegistry, RemoteRegistry, load_sources

FIXTURES = Path(__file__).parents[1] / "fixtures" / "trust"
KNOWN = json.loads((FIXTURES / "known-registries.example.json").read_text())
LEGACY = (FIXTURES / "legacy-registry.example.json").read_bytes()
ANCHOR = "https://registry.example.org"
ANCHOR_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
MEMBER = "did:web:twotr.testschool.edu"


def statement(payload: dict[str, Any], key: Any = ANCHOR_KEY, kid: str = "registry-key1") -> str:
    headers = {"kid": kid, "typ": "entity-statement+jwt"}
    return jwt.encode(payload, key, algorithm="ES256", headers=headers)


def entity_configuration(**changes: Any) -> str:
    jwk = public_jwk(ANCHOR_KEY, kid="registry-key1")
    payload = {
        "iss": ANCHOR,
        "sub": ANCHOR,
        "iat": int(time.time()),
        "exp": int(time.time()) + 86400,
        "jwks": {"keys": [{k: v for k, v in jwk.items() if k != "iss"}]},
        "metadata": {
            "federation_entity": {
                "organization_name": "Example Federation (TEST)",
                "federation_fetch_endpoint": f"{ANCHOR}/fetch",
            }
        },
        **changes,
    }
    return statement(payload)


def member_statement(sub: str = MEMBER, **changes: Any) -> str:
    payload = {
        "iss": ANCHOR,
        "sub": sub,
        "iat": int(time.time()),
        "exp": int(time.time()) + 86400,
        "metadata": {
            "federation_entity": {
                "organization_name": "TwoTraining Nursing School",
                "homepage_uri": "https://twotraining.com",
                "location": "Boston, MA, USA",
            },
            "institution_additional_information": {"legal_name": "TwoTraining Inc."},
        },
    }
    payload.update(changes)
    return statement(payload, OTHER_KEY if changes.pop("forged", False) else ANCHOR_KEY)


class Server:
    """A mock network: URL -> (status, body, headers); it records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def serve(self, url: str, body: bytes | str, status: int = 200, **headers: str) -> None:
        content = body.encode() if isinstance(body, str) else body
        self.routes[url] = lambda _request: httpx.Response(status, content=content, headers=headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(str(request.url))
        return route(request) if route else httpx.Response(404, content=b'{"error":"not_found"}')

    def client(self) -> CachingHttpClient:
        return CachingHttpClient(transport=httpx.MockTransport(self))


@pytest.fixture
def server() -> Server:
    server = Server()
    server.serve(KNOWN[1]["url"], LEGACY, 200, **{"cache-control": "max-age=600"})
    server.serve(KNOWN[0]["trustAnchorEC"], entity_configuration())
    server.serve(f"{ANCHOR}/fetch?sub=did%3Aweb%3Atwotr.testschool.edu", member_statement())
    return server


def test_a_known_registries_list_expands_into_its_registries(
    server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "known.json"
    path.write_text(json.dumps(KNOWN))
    registries = load_sources([str(path)], server.client())
    assert [r.name for r in registries] == [
        "Example Federation Registry",
        "Example Community Registry",
    ]
    legacy = registries[1].lookup("did:web:badges.example.ac.kr")
    assert legacy is not None and legacy.name == "Example National HRD Institute"
    member = registries[0].lookup(MEMBER)
    assert member is not None
    assert (member.registry, member.name, member.location, member.url) == (
        "Example Federation Registry",
        "TwoTraining Inc.",
        "Boston, MA, USA",
        "https://twotraining.com",
    )
    assert registries[0].lookup("did:web:unknown.example") is None  # 404: not in the registry


def test_a_statement_not_signed_by_the_anchor_is_not_checked(server: Server) -> None:
    server.serve(
        f"{ANCHOR}/fetch?sub=did%3Aweb%3Atwotr.testschool.edu", member_statement(forged=True)
    )
    registry = OidfRegistry("Federation", KNOWN[0]["trustAnchorEC"], server.client())
    with pytest.raises(RegistryUnavailable, match="not signed by the trust anchor"):
        registry.lookup(MEMBER)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exp": 1}, "expired"),
        ({"sub": "did:web:someone.else"}, "not the anchor's statement about this issuer"),
        ({"iss": "https://evil.example"}, "not the anchor's statement about this issuer"),
    ],
)
def test_a_statement_about_another_subject_or_expired_is_not_checked(
    server: Server, changes: dict[str, Any], message: str
) -> None:
    server.serve(
        f"{ANCHOR}/fetch?sub=did%3Aweb%3Atwotr.testschool.edu", member_statement(**changes)
    )
    registry = OidfRegistry("Federation", KNOWN[0]["trustAnchorEC"], server.client())
    with pytest.raises(RegistryUnavailable, match=message):
        registry.lookup(MEMBER)


def test_an_anchor_that_cannot_be_loaded_is_not_checked_never_not_found(server: Server) -> None:
    server.serve(KNOWN[0]["trustAnchorEC"], "oops", status=503)
    registry = OidfRegistry("Federation", KNOWN[0]["trustAnchorEC"], server.client())
    with pytest.raises(RegistryUnavailable, match="503"):
        registry.lookup(MEMBER)
    server.serve(KNOWN[0]["trustAnchorEC"], entity_configuration(sub="https://other.example"))
    with pytest.raises(RegistryUnavailable):
        OidfRegistry("Federation", KNOWN[0]["trustAnchorEC"], server.client()).lookup(MEMBER)


def test_a_static_registry_that_is_down_is_not_checked(server: Server) -> None:
    server.serve(KNOWN[1]["url"], "down", status=500)
    registry = RemoteRegistry("Community", KNOWN[1]["url"], server.client())
    with pytest.raises(RegistryUnavailable, match="HTTP 500"):
        registry.lookup("did:web:badges.example.ac.kr")


# --- HTTP caching --------------------------------------------------------------------------------


def _fetches(server: Server, url: str) -> list[httpx.Request]:
    return [r for r in server.requests if str(r.url) == url]


def test_max_age_is_honoured(server: Server) -> None:
    url = KNOWN[1]["url"]
    clock = [0.0]
    client = CachingHttpClient(transport=httpx.MockTransport(server), clock=lambda: clock[0])
    registry = RemoteRegistry("Community", url, client)
    for _ in range(3):
        registry.lookup("did:web:badges.example.ac.kr")
    assert len(_fetches(server, url)) == 1
    clock[0] = 601.0
    registry.lookup("did:web:badges.example.ac.kr")
    assert len(_fetches(server, url)) == 2


@pytest.mark.parametrize("repeated", [True, False])
def test_etag_revalidation_keeps_the_body_on_304(server: Server, repeated: bool) -> None:
    """A 304 that does not repeat the list's ``no-cache`` leaves it in force (RFC 9111 §4.3.4):
    the list is asked for again at the next lookup either way."""
    url = f"https://lists.example/registry-{repeated}.json"
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("if-none-match"))
        if request.headers.get("if-none-match") == '"v1"':
            caching = {"cache-control": "no-cache"} if repeated else {}
            return httpx.Response(304, headers={"etag": '"v1"', **caching})
        return httpx.Response(
            200, content=LEGACY, headers={"etag": '"v1"', "cache-control": "no-cache"}
        )

    server.routes[url] = answer
    registry = RemoteRegistry("Lists", url, server.client())
    for _ in range(3):
        assert registry.lookup("did:web:badges.example.ac.kr") is not None
    assert seen == [None, '"v1"', '"v1"']


@pytest.mark.parametrize(("minutes_before", "asked"), [(60, True), (0, False)])
def test_revalidation_by_date_only_with_a_strong_last_modified(
    server: Server, minutes_before: int, asked: bool
) -> None:
    """A Last-Modified at least a minute before the response's Date is asked with; a recent
    one (a list changed twice in its second would keep it) is not, and the list is read whole."""
    url = f"https://lists.example/dated-{minutes_before}.json"
    now = time.time()
    dated = {
        "last-modified": formatdate(now - minutes_before * 60, usegmt=True),
        "date": formatdate(now, usegmt=True),
        "cache-control": "no-cache",
    }
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("if-modified-since"))
        if request.headers.get("if-modified-since") == dated["last-modified"]:
            return httpx.Response(304, headers=dated)
        return httpx.Response(200, content=LEGACY, headers=dated)

    server.routes[url] = answer
    registry = RemoteRegistry("Dated", url, server.client())
    for _ in range(2):
        assert registry.lookup("did:web:badges.example.ac.kr") is not None
    assert seen == [None, dated["last-modified"] if asked else None]


def test_no_store_is_fetched_every_time(server: Server) -> None:
    url = "https://lists.example/volatile.json"
    server.serve(url, LEGACY, 200, **{"cache-control": "no-store"})
    registry = RemoteRegistry("Volatile", url, server.client())
    registry.lookup("x")
    registry.lookup("x")
    assert len(_fetches(server, url)) == 2


def test_expires_header(server: Server) -> None:
    url = "https://lists.example/expires.json"
    server.serve(
        url,
        LEGACY,
        date="Tue, 01 Dec 2026 10:00:00 GMT",
        expires="Tue, 01 Dec 2026 11:00:00 GMT",
    )
    clock = [0.0]
    client = CachingHttpClient(transport=httpx.MockTransport(server), clock=lambda: clock[0])
    registry = RemoteRegistry("Expires", url, client)
    registry.lookup("x")
    clock[0] = 3599.0
    registry.lookup("x")
    assert len(_fetches(server, url)) == 1
    clock[0] = 3601.0
    registry.lookup("x")
    assert len(_fetches(server, url)) == 2


def test_only_https_trust_lists_are_fetched() -> None:
    registry = RemoteRegistry("Plain", "http://lists.example/registry.json", CachingHttpClient())
    with pytest.raises(RegistryUnavailable, match="only https"):
        registry.lookup("x")


def test_redirects_are_followed_on_https_only(server: Server) -> None:
    moved = "https://lists.example/old.json"
    server.serve(moved, "", status=301, location="https://lists.example/new.json")
    server.serve("https://lists.example/new.json", LEGACY)
    assert RemoteRegistry("Moved", moved, server.client()).lookup("did:web:badges.example.ac.kr")
    down = "https://lists.example/down.json"
    server.serve(down, "", status=302, location="http://lists.example/plain.json")
    with pytest.raises(RegistryUnavailable, match="only https"):
        RemoteRegistry("Downgraded", down, server.client()).lookup("x")
