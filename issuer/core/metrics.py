"""Counters an operator can watch (``GET /metrics``, Prometheus text format).

Requests (rate, latency, status by route), and every fallback or failure that would otherwise
pass silently: a bulk step signed row by row, a row that could not be stored with the others, an
effect that failed, a verification turned away because the server was busy or the client too
fast. The verifier's own counters (``verifier.stats``: canonicalisation fallbacks) are exported
alongside. Counts are per process: scrape every process (or put them behind one proxy each).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger("laurel")

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "laurel_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "laurel_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
FALLBACKS = Counter(
    "laurel_fallbacks",
    "Slow or degraded paths taken: bulk_signing (a step signed row by row after signing it "
    "together failed), bulk_store (a step stored row by row), row_error (a row that failed for "
    "an unexpected reason and was reported as an error), subject_rebuilt (a bulk row built and "
    "signed again: it named the DID of an earlier row that was not stored), key_taken (the "
    "idempotency key of an annual badge or programme award named the learner's id but another "
    "learner's credential held it: the next key was used).",
    ["kind"],
    registry=REGISTRY,
)
OB_PUSH_FAILURES = Counter(
    "laurel_ob_push_failures",
    "Badges a learner sent to an OB 3.0 API host that failed, by whether they are retried.",
    ["retried"],
    registry=REGISTRY,
)
WEBHOOK_FAILURES = Counter(
    "laurel_webhook_failures",
    "Webhook delivery attempts that failed, by whether the delivery is retried.",
    ["retried"],
    registry=REGISTRY,
)
EMAILS = Counter(
    "laurel_learner_emails",
    "Badge emails to learners, by event and outcome (sent, opted_out, no_address, nothing, "
    "no_smtp).",
    ["event", "outcome"],
    registry=REGISTRY,
)
EFFECT_FAILURES = Counter(
    "laurel_effect_failures",
    "Post-commit effects that failed (they are retried; see `laurel effects list`).",
    ["kind"],
    registry=REGISTRY,
)
EFFECT_LEASES_LOST = Counter(
    "laurel_effect_leases_lost",
    "Effects calling another host whose call outlived their lease (another worker took them).",
    registry=REGISTRY,
)
TURNED_AWAY = Counter(
    "laurel_turned_away",
    "Requests refused to protect the service: busy (503) or rate_limited (429), by area.",
    ["area", "reason"],
    registry=REGISTRY,
)
JOB_ROWS = Counter(
    "laurel_bulk_job_rows",
    "Bulk job rows finished, by outcome (issued, already issued, error).",
    ["outcome"],
    registry=REGISTRY,
)


def fallback(kind: str, message: str, *args: Any) -> None:
    """Count and log a fallback (never silent)."""
    FALLBACKS.labels(kind).inc()
    log.warning(message, *args)


class _Gauges(Collector):
    """Values read when scraped: the verifier's counters and anything registered by
    ``gauge_source`` (pool use, pending effects, queued jobs)."""

    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, Callable[[], float]]] = {}

    def collect(self) -> Iterator[Any]:
        from verifier import stats

        verifier_counts = CounterMetricFamily(
            "laurel_verifier_events", "Verifier events (verifier.stats), by name.", labels=["name"]
        )
        for name, value in sorted(stats.snapshot().items()):
            verifier_counts.add_metric([name], value)
        yield verifier_counts
        for name, (help_text, read) in sorted(self.sources.items()):
            try:
                reading = float(read())
            except Exception:  # a scrape must not fail because one source did
                log.exception("metric %s could not be read", name)
                continue
            yield GaugeMetricFamily(name, help_text, value=reading)


_GAUGES = _Gauges()
REGISTRY.register(_GAUGES)


def gauge_source(name: str, help_text: str, read: Callable[[], float]) -> None:
    """Export ``read()`` as gauge ``name`` at every scrape (last registration wins)."""
    _GAUGES.sources[name] = (help_text, read)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
