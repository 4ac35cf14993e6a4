"""What operators watch and what protects public verification: /metrics, /healthz, /readyz, the
per-client verification allowance and the bounded verification slots."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from issuer.context import Services
from issuer.http.gate import gate, page_slots
from tests.issuer.conftest import issue_body, make_issuer
from tests.web.conftest import post_verify


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_by_route_and_show_pending_work(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "alpha")
    before = _metric(
        client.get("/metrics").text,
        "laurel_http_requests_total",
        method="POST",
        route="/api/v1/issuers/{slug}/credentials",
        status="201",
    )
    for n in range(3):
        client.post(
            "/api/v1/issuers/alpha/credentials",
            json=issue_body(f"m{n}@example.org"),
            headers=headers,
        )
    text = client.get("/metrics").text
    after = _metric(
        text,
        "laurel_http_requests_total",
        method="POST",
        route="/api/v1/issuers/{slug}/credentials",
        status="201",
    )
    assert after == before + 3
    assert "laurel_http_request_duration_seconds_bucket" in text
    assert _metric(text, "laurel_effects_pending") == 0
    assert _metric(text, "laurel_bulk_jobs_unfinished") == 0
    assert "laurel_db_pool_checked_out" in text
    assert "laurel_verifier_events" in text


def test_metrics_need_the_token_when_one_is_set(client: TestClient, services: Services) -> None:
    services.settings.metrics_token = "s3cret-metrics-token"
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert right.status_code == 200 and right.headers["content-type"].startswith("text/plain")


def test_health_and_readiness(client: TestClient, services: Services) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_each_client_has_a_verification_allowance(client: TestClient, services: Services) -> None:
    services.settings.verify_rate = "3/minute"
    answers = [client.post("/api/v1/verify", content=b"{}") for _ in range(4)]
    assert [a.status_code for a in answers[:3]] != [429] * 3
    assert answers[3].status_code == 429
    assert answers[3].headers["content-type"] == "application/problem+json"
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
    browser = TestClient(client.app, base_url=services.settings.base_url)  # https: its cookies
    page = post_verify(browser, data={"pasted": "{}"})
    assert page.status_code == 429 and "Retry-After" in page.headers
    text = client.get("/metrics").text
    assert _metric(text, "laurel_turned_away_total", area="verify", reason="rate_limited") >= 2


def test_verification_is_refused_with_503_when_every_slot_is_busy(
    client: TestClient, services: Services
) -> None:
    services.settings.verify_queue_seconds = 0
    door = gate(services)
    door._slots = asyncio.Semaphore(0)  # every slot taken by verifications still running
    busy = client.post("/api/v1/verify", content=b"{}")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert busy.json()["title"] == "Busy"
    assert client.get("/healthz").status_code == 200  # other routes never wait for it
    door._slots.release()  # one finishes
    assert client.post("/api/v1/verify", content=b"{}").status_code == 200
    text = client.get("/metrics").text
    assert _metric(text, "laurel_turned_away_total", area="verify", reason="busy") >= 1


def test_a_badge_page_waits_for_its_own_slots(client: TestClient, services: Services) -> None:
    """``/v/{id}`` pages verify at most ``page_concurrency`` at a time per process, apart from
    the public verification slots and with no allowance per client."""
    headers = make_issuer(services, client, "hrd")
    issued = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    page = f"/v/{issued.json()['id'].removeprefix('urn:uuid:')}"
    services.settings.verify_queue_seconds = 0
    services.settings.verify_rate = "1/minute"
    by_route = {"method": "GET", "route": "/v/{credential_id}"}
    metrics = client.get("/metrics").text
    served = _metric(metrics, "laurel_http_requests_total", **by_route, status="200")
    refused = _metric(metrics, "laurel_http_requests_total", **by_route, status="503")
    slots = page_slots(services)
    assert slots.size == services.settings.page_concurrency == 2
    assert [client.get(page).status_code for _ in range(3)] == [200] * 3  # no allowance
    slots._semaphore = asyncio.Semaphore(0)  # every page slot taken by pages still verifying
    busy = client.get(page)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert client.post("/api/v1/verify", content=b"{}").status_code == 200  # its own slots
    slots._semaphore.release()  # one finishes
    assert client.get(page).status_code == 200
    text = client.get("/metrics").text
    assert _metric(text, "laurel_turned_away_total", area="pages", reason="busy") >= 1
    # A plain Starlette route, counted under its template as every FastAPI route is.
    assert _metric(text, "laurel_http_requests_total", **by_route, status="200") == served + 4
    assert _metric(text, "laurel_http_requests_total", **by_route, status="503") == refused + 1


def test_verification_over_the_limits_is_refused_with_a_4xx(client: TestClient) -> None:
    """Work per request is bounded: a credential over the verifier's limits is a client error,
    named as such, not a 200 report."""
    bomb = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:1",
        "credentialSubject": {"id": "did:example:2"},
        "evidence": [{"id": f"_:b{n}"} for n in range(6000)],
    }
    refused = client.post("/api/v1/verify", json=bomb)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "blank nodes" in refused.json()["detail"]
    assert client.post("/api/v1/verify", json={"not": "a credential"}).status_code == 200


def test_a_failed_request_gives_its_connection_back_at_once(
    client: TestClient, services: Services
) -> None:
    """An error raised in a route or its dependencies (bad key, unknown issuer, a conflict)
    rolls back and returns the request's connection and database slot before the answer, not
    whenever the garbage collector finds the abandoned unit of work."""
    import gc

    headers = make_issuer(services, client, "hrd")
    gc.disable()
    try:
        for _ in range(3):
            assert client.get("/api/v1/issuers/hrd/credentials", headers={}).status_code == 401
            assert (
                client.get("/api/v1/issuers/nowhere/credentials", headers=headers).status_code
                == 404
            )
            assert services.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        gc.enable()
