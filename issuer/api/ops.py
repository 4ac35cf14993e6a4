"""For operators: ``/metrics`` (Prometheus), ``/healthz`` (the process answers) and ``/readyz``
(it can reach its database)."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from issuer.core import metrics
from issuer.core.errors import Forbidden, LaurelError
from issuer.http.deps import ServicesDep
from issuer.http.problems import responses

router = APIRouter(tags=["operations"])
LOOPBACK = ("127.0.0.1", "::1", "localhost", "testclient")


@router.get(
    "/metrics",
    summary="Counters and timings in the Prometheus text format",
    description="Requests by route and status, latencies, fallbacks, failed effects, "
    "verifications turned away, bulk job rows, pool use, pending work. Needs "
    "`Authorization: Bearer <LAUREL_METRICS_TOKEN>` when that is set; otherwise only "
    "loopback clients may read it.",
    response_class=Response,
    responses=responses(403, 503, also={200: {"content": {"text/plain": {}}}}),
)
def read_metrics(request: Request, services: ServicesDep) -> Response:
    token = services.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Forbidden("/metrics needs the metrics token")
    elif (request.client.host if request.client else "") not in LOOPBACK:
        raise Forbidden("/metrics is for loopback clients unless LAUREL_METRICS_TOKEN is set")
    return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get(
    "/healthz",
    summary="The process answers",
    response_model=dict[str, str],
    responses=responses(503),
)
async def healthz() -> dict[str, Any]:
    """Answered in the event loop: a worker thread is not needed to say the process runs."""
    return {"status": "ok"}


class NotReady(LaurelError):
    status, title = 503, "Not ready"


@router.get(
    "/readyz",
    summary="The process can reach its database",
    response_model=dict[str, str],
    responses=responses(503),
)
def readyz(services: ServicesDep) -> dict[str, Any]:
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        raise NotReady(f"the database cannot be reached ({type(exc).__name__})") from exc
    return {"status": "ready"}
