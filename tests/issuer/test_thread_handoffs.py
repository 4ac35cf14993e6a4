"""The busiest public routes hand their work to a worker thread at most once a request, and not
at all when there is nothing to wait for: a hand-off (``anyio.to_thread.run_sync``, which FastAPI
uses for every plain ``def`` route and dependency and to close a ``SessionDep``) costs ~0.1 ms of
CPU on a small VM, more than a remembered status list or ``/healthz`` costs to answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from issuer.context import Services
from tests.issuer.conftest import issue_body, make_issuer


class HandOffs:
    def __init__(self) -> None:
        self.count = 0

    def during(self, request: Callable[[], Any]) -> int:
        self.count = 0
        request()
        return self.count


@pytest.fixture
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> Iterator[HandOffs]:
    counter = HandOffs()
    real = anyio.to_thread.run_sync

    async def counted(function: Callable[..., Any], *args: Any, **options: Any) -> Any:
        counter.count += 1
        return await real(function, *args, **options)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    yield counter


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response


def test_public_routes_hand_off_at_most_once(
    client: TestClient, services: Services, hand_offs: HandOffs
) -> None:
    headers = make_issuer(services, client, "hrd")
    issued = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    credential = _ok(issued, 201).json()
    page = f"/v/{credential['id'].removeprefix('urn:uuid:')}"
    status = credential["credentialStatus"]["statusListCredential"].removeprefix(
        "https://laurel.test"
    )
    etag = _ok(client.get(status)).headers["etag"]  # now signed and remembered

    assert hand_offs.during(lambda: _ok(client.get("/healthz"))) == 0
    assert hand_offs.during(lambda: _ok(client.get(status))) == 0
    conditional = {"If-None-Match": etag}
    assert hand_offs.during(lambda: _ok(client.get(status, headers=conditional), 304)) == 0
    assert hand_offs.during(lambda: _ok(client.get(page))) == 1
    assert 'data-kind="verified"' in client.get(page).text
    assert hand_offs.during(lambda: _ok(client.post("/api/v1/verify", json=credential))) == 1
    missing = "/v/00000000-0000-0000-0000-000000000000"
    assert hand_offs.during(lambda: _ok(client.get(missing), 404)) == 1


def test_a_status_list_not_remembered_is_read_in_one_hand_off(
    client: TestClient, services: Services, hand_offs: HandOffs
) -> None:
    headers = make_issuer(services, client, "hrd")
    issued = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    url = _ok(issued, 201).json()["credentialStatus"]["statusListCredential"]
    status = url.removeprefix("https://laurel.test")
    services.cache.clear()  # as a new process: neither the version nor the signed list known
    assert hand_offs.during(lambda: _ok(client.get(status))) == 1
    assert hand_offs.during(lambda: _ok(client.get("/status/999999"), 404)) == 1
