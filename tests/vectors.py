"""The official vectors in ``tests/vectors`` (a copy of ``shared/spec/vectors``) and the offline
world they assume: keys from ``verification-methods.json``, URLs from ``url-map.json``, every other
URL unreachable, and a clock inside 2025–2029."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from verifier import Check, Report
from verifier.fetch import MappingFetcher
from verifier.keys import DefaultKeyResolver, TableKeyResolver

VECTORS = Path(__file__).parent / "vectors"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def load_json(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / relative).read_text("utf-8"))
    return data


def expected_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = load_json("expected.json")["vectors"]
    return vectors


def offline_fetcher(extra: dict[str, bytes] | None = None) -> MappingFetcher:
    table = {
        url: (VECTORS / path).read_bytes()
        for url, path in load_json("url-map.json").items()
        if not url.startswith("_")
    }
    return MappingFetcher({**table, **(extra or {})})


def offline_resolver(fetcher: MappingFetcher | None = None) -> TableKeyResolver:
    table = load_json("verification-methods.json")["verificationMethods"]
    return TableKeyResolver(table, DefaultKeyResolver(fetcher or offline_fetcher()))


def offline_world() -> dict[str, Any]:
    """Keyword arguments for ``verify_credential`` that reproduce the vectors' world."""
    fetcher = offline_fetcher()
    return {"now": NOW, "fetcher": fetcher, "resolve_key": offline_resolver(fetcher)}


def check(report: Report, name: str) -> Check:
    """The report's check called ``name``; the test fails when the report has none."""
    found = report.check(name)
    assert found is not None, f"no {name!r} check in {[c.name for c in report.checks]}"
    return found
