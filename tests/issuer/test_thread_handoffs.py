"""The busiest public routes hand their work to a worker thread at most once a request, and not
at all when there is nothing to wait for: a hand-off (``anyio.to_thread.run_sync``, which FastAPI
uses for every plain ``def`` route and dependency and to close a ``SessionDep``) costs ~0.1 ms of
CPU on a small VM, more than a remembered status list or ``/healthz`` costs to answer, and the GIL
passing between the loop and the thread cost a badge page a quarter of its CPU. On SQLite a page
of an own badge is made in the event loop, and never reaches the network from there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.http.gate import page_reader
from issuer.verification.public_view import _STORED, StoredReader
from tests.issuer.conftest import ACHIEVEMENT, ClientFetcher, issue_body, make_issuer
from tests.units import create_api_key, create_issuer, revoke


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
    _ok(client.get(page))  # the first verification loads the trust lists, in a worker thread
    # On SQLite the page of a badge whose documents are all this instance's own is made in the
    # event loop; on PostgreSQL (its queries wait on the network) in one worker thread.
    in_loop = services.engine.dialect.name == "sqlite"
    assert hand_offs.during(lambda: _ok(client.get(page))) == (0 if in_loop else 1)
    assert 'data-kind="verified"' in client.get(page).text
    assert hand_offs.during(lambda: _ok(client.post("/api/v1/verify", json=credential))) == 1
    missing = "/v/00000000-0000-0000-0000-000000000000"
    assert hand_offs.during(lambda: _ok(client.get(missing), 404)) == (0 if in_loop else 1)


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


def test_a_page_needing_another_host_is_made_in_a_worker_thread(
    client: TestClient, services: Services, hand_offs: HandOffs
) -> None:
    """A badge whose status list is on another host (here: issued before the instance moved to
    a new address) is verified with the network, never from the event loop: the attempt in the
    loop stops at the first such document and the page is made in a worker thread, with the
    same verdict; the badge is then remembered and goes to the thread at once."""
    create_issuer(services, slug="hrd", name="HRD Institute", did_method="key")
    key = create_api_key(services, "hrd", ["admin"])
    headers = {"Authorization": f"Bearer {key}"}
    _ok(client.post("/api/v1/issuers/hrd/achievements", json=ACHIEVEMENT, headers=headers), 201)
    issued = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    page = f"/v/{_ok(issued, 201).json()['id'].removeprefix('urn:uuid:')}"
    _ok(client.get(page))

    from_app = ClientFetcher(client)
    fetched: list[tuple[str, bool]] = []

    def network(url: str) -> bytes:
        try:
            asyncio.get_running_loop()
            in_loop = True
        except RuntimeError:
            in_loop = False
        fetched.append((url, in_loop))
        return from_app(url)

    services.network = network
    services.settings = services.settings.model_copy(update={"base_url": "https://moved.test"})
    handed = hand_offs.during(lambda: _ok(client.get(page)))
    assert 'data-kind="verified"' in client.get(page).text
    assert handed == 1
    assert fetched and not [url for url, in_loop in fetched if in_loop], fetched
    assert all(url.startswith("https://laurel.test/status/") for url, _ in fetched)
    assert hand_offs.during(lambda: _ok(client.get(page))) == 1


def test_the_page_reads_its_row_as_the_session_reads_it(
    client: TestClient, services: Services
) -> None:
    """On SQLite the page in the event loop reads its credential's row through the driver's own
    connection (``StoredReader``, ~15 µs instead of a session's ~130 µs): every column comes
    back as the session's select gives it, a revoked badge's reason and time included."""
    headers = make_issuer(services, client, "hrd")
    issued = [
        _ok(client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers), 201)
        for _ in range(2)
    ]
    ids = [response.json()["id"].removeprefix("urn:uuid:") for response in issued]
    revoke(services, ids[1], "Issued to the wrong learner")
    head = client.head(f"/v/{ids[0]}")  # a Starlette route answers HEAD as GET, without a body
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/html")
    reader = page_reader(services)
    if services.engine.dialect.name != "sqlite":  # pages there are made in a worker thread
        assert reader is None
        with pytest.raises(ValueError, match="SQLite"):
            StoredReader(services.engine)
        return
    assert reader is not None
    read = StoredReader(reader)
    with Session(services.engine) as session:
        for credential_id in ids:
            rows = session.connection().execute(_STORED, {"credential_id": credential_id})
            expected = tuple(rows.one())
            found = read(credential_id)
            assert found == expected
            assert [type(value) for value in found] == [type(value) for value in expected]
    revoked = read(ids[1])
    assert revoked is not None and revoked[2] == "Issued to the wrong learner"
    assert revoked[3] is not None and revoked[3].tzinfo is not None
    assert read("00000000-0000-0000-0000-000000000000") is None
    with pytest.raises(NotFound):
        read("not-a-badge-id")
    page = _ok(client.get(f"/v/{ids[1]}")).text
    assert 'data-kind="revoked"' in page and "Issued to the wrong learner" in page
