"""Routers are matched in the order the app includes them, route by route, so a request for a
route near the end first tries every route before it (FastAPI's included routers cost ~1.5 µs a
route). The public pages an employer's scan opens (``/v/{id}``, ``/status/{n}``, the issuers'
DID documents) are therefore included first. That order is free to choose only while no two
routers can answer the same request, which is what these tests hold."""

from __future__ import annotations

import re
from itertools import combinations

from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match

PARAMETER = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")


def _routes(client: TestClient) -> list[tuple[int, BaseRoute]]:
    """Every route with the index of the included router it belongs to."""
    found: list[tuple[int, BaseRoute]] = []
    for index, route in enumerate(client.app.router.routes):  # type: ignore[attr-defined]
        inner = getattr(route, "original_router", None)
        found.extend((index, r) for r in (inner.routes if inner else [route]))
    return found


def _segment_regex(segment: str) -> re.Pattern[str]:
    parts, at = [], 0
    for match in PARAMETER.finditer(segment):
        parts.append(re.escape(segment[at : match.start()]))
        parts.append(".+" if match.group(2) == "path" else "[^/]+")
        at = match.end()
    parts.append(re.escape(segment[at:]))
    return re.compile("".join(parts))


def _segments_overlap(a: str, b: str) -> bool:
    if a == b:
        return True
    if "{" in a and "{" in b:
        return True  # two patterns: assume they may meet
    if "{" in a:
        return _segment_regex(a).fullmatch(b) is not None
    if "{" in b:
        return _segment_regex(b).fullmatch(a) is not None
    return False


def _may_overlap(a: str, b: str) -> bool:
    """Whether some path can match both route paths (a parameter matches one segment, a
    ``:path`` parameter the rest)."""
    left, right = a.strip("/").split("/"), b.strip("/").split("/")
    for i, (x, y) in enumerate(zip(left, right, strict=False)):
        if ":path}" in x or ":path}" in y:
            return all(_segments_overlap(p, q) for p, q in zip(left[:i], right[:i], strict=True))
        if not _segments_overlap(x, y):
            return False
    return len(left) == len(right)


def test_overlap_check_finds_what_it_should() -> None:
    assert _may_overlap("/v/{id}", "/v/new")
    assert _may_overlap("/a/{kind}.json", "/a/x.json")
    assert not _may_overlap("/a/{kind}.json", "/a/x.svg")
    assert not _may_overlap("/v/{id}", "/v/{id}/qr.png")
    assert _may_overlap("/files/{rest:path}", "/files/a/b/c")
    assert not _may_overlap("/status/{n}", "/statuses/{n}")


def test_no_two_routers_answer_the_same_request(client: TestClient) -> None:
    routes = [(i, r) for i, r in _routes(client) if getattr(r, "path", None)]
    clashes = []
    for (i, a), (j, b) in combinations(routes, 2):
        if i == j:
            continue  # within one router its own order decides, and is kept
        methods_a = getattr(a, "methods", None) or {"GET"}
        methods_b = getattr(b, "methods", None) or {"GET"}
        if methods_a & methods_b and _may_overlap(a.path, b.path):  # type: ignore[attr-defined]
            clashes.append((a.path, b.path))  # type: ignore[attr-defined]
    assert clashes == []


def test_public_pages_are_matched_first(client: TestClient) -> None:
    """A verification page is found among the first routers, before the API and the console."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v/0b0e1c7e-1111-4222-8333-444455556666",
        "root_path": "",
        "headers": [],
        "query_string": b"",
    }
    tried = 0  # routes tried before the page's router
    for position, route in enumerate(client.app.router.routes):  # type: ignore[attr-defined]
        if route.matches(dict(scope))[0] == Match.FULL:
            assert position <= 3 and tried < 30
            return
        inner = getattr(route, "original_router", None)
        tried += len(inner.routes) if inner else 1
    raise AssertionError("no route answers /v/{id}")
