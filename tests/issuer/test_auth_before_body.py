"""Routes that read their body themselves check the API key, and its scope, before reading a byte
of it: a caller without a key gets 401, not a report on its body's JSON (audit round 5: bulk
issuing parsed up to 251 rows, and spooled up to 20 MB, before asking who was sending them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from issuer.context import Services
from tests.issuer.conftest import make_issuer
from tests.units import create_api_key

ROUTES = {
    "bulk": "/api/v1/issuers/hrd/credentials/bulk",
    "xapi": "/api/v1/issuers/hrd/xapi/statements",
}


class Body:
    """A request body that notes whether the app read it (the test client reads a body only
    when the app asks for it)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.taken = data, False

    def __iter__(self) -> Iterator[bytes]:
        self.taken = True
        yield self.data


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize(
    ("who", "status"), [("nobody", 401), ("unknown", 401), ("reader", 403), ("other", 404)]
)
def test_the_key_is_checked_before_the_body_is_read(
    client: TestClient, services: Services, route: str, who: str, status: int
) -> None:
    make_issuer(services, client, "hrd")
    make_issuer(services, client, "other")
    keys = {
        "nobody": None,
        "unknown": "lrl_000000000000_unknown",
        "reader": create_api_key(services, "hrd", ["read"]),
        "other": create_api_key(services, "other", ["issue"]),
    }
    headers = {"Content-Type": "application/json"}
    if keys[who] is not None:
        headers["Authorization"] = f"Bearer {keys[who]}"
    body = Body(b"[1,2,")  # not JSON: a route that read it would answer 400
    response = client.post(ROUTES[route], content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert not body.taken


def test_an_unsupported_media_type_is_refused_after_the_key(
    client: TestClient, services: Services
) -> None:
    make_issuer(services, client, "hrd")
    headers = {"Content-Type": "application/xml"}
    assert client.post(ROUTES["bulk"], content=b"<x/>", headers=headers).status_code == 401


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_with_the_key_the_body_is_read(client: TestClient, services: Services, route: str) -> None:
    headers = make_issuer(services, client, "hrd", scopes=("issue",))
    body = Body(b"[1,2,")
    response = client.post(
        ROUTES[route], content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert "not valid JSON" in response.json()["detail"]
    assert body.taken
