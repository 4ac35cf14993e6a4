"""Access control on every endpoint, and bad input: each a 4xx problem+json, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.context import Services
from tests.issuer.conftest import ACHIEVEMENT, issue_body, make_issuer

PROBLEM = "application/problem+json"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


Body = dict[str, Any] | list[dict[str, Any]] | None


def _endpoints(slug: str, credential: str) -> list[tuple[str, str, Body]]:
    return [
        ("GET", f"/api/v1/issuers/{slug}/achievements", None),
        ("POST", f"/api/v1/issuers/{slug}/achievements", {**ACHIEVEMENT, "key": "other"}),
        ("PUT", f"/api/v1/issuers/{slug}/achievements/leading-people", ACHIEVEMENT),
        ("POST", f"/api/v1/issuers/{slug}/credentials", issue_body()),
        ("POST", f"/api/v1/issuers/{slug}/credentials/bulk", [issue_body()]),
        ("GET", f"/api/v1/issuers/{slug}/credentials", None),
        ("GET", f"/api/v1/credentials/{credential}", None),
        ("POST", f"/api/v1/credentials/{credential}/revoke", {"reason": "test"}),
    ]


def test_another_issuers_key_sees_nothing(client: TestClient, services: Services) -> None:
    a = make_issuer(services, client, "alpha")
    b = make_issuer(services, client, "beta")
    credential = client.post(
        "/api/v1/issuers/alpha/credentials", json=issue_body(), headers=a
    ).json()["id"]
    for method, path, body in _endpoints("alpha", credential):
        response = client.request(method, path, json=body, headers=b)
        _problem(response, 404)
    # and the credential is untouched
    assert client.get(f"/api/v1/credentials/{credential}", headers=a).status_code == 200


def test_missing_or_wrong_api_key(client: TestClient, services: Services) -> None:
    make_issuer(services, client, "alpha")
    for method, path, body in _endpoints("alpha", "urn:uuid:00000000-0000-0000-0000-000000000000"):
        _problem(client.request(method, path, json=body), 401)
        wrong = {"Authorization": "Bearer lrl_0000_nope"}
        _problem(client.request(method, path, json=body, headers=wrong), 401)


def test_scopes(client: TestClient, services: Services) -> None:
    read_only = make_issuer(services, client, "alpha", scopes=("read",))
    _problem(
        client.post("/api/v1/issuers/alpha/credentials", json=issue_body(), headers=read_only), 403
    )
    assert client.get("/api/v1/issuers/alpha/credentials", headers=read_only).status_code == 200
    issue_only = make_issuer(services, client, "beta", scopes=("issue",))
    credential = client.post(
        "/api/v1/issuers/beta/credentials", json=issue_body(), headers=issue_only
    ).json()["id"]
    _problem(
        client.post(
            f"/api/v1/credentials/{credential}/revoke", json={"reason": "x"}, headers=issue_only
        ),
        403,
    )


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (issue_body(achievement="no-such-badge"), 404, "no achievement 'no-such-badge'"),
        (issue_body("not-an-email"), 422, "not an email address"),
        ({"recipient": {"email": "a@example.org"}}, 422, "achievement"),
        (issue_body(validFrom="2026-01-01T00:00:00"), 422, "time zone"),
        (
            issue_body(validFrom="2026-02-01T00:00:00Z", validUntil="2026-01-01T00:00:00Z"),
            400,
            "validUntil must be after validFrom",
        ),
        (issue_body(unknownField=1), 422, "unknownField"),
        (issue_body(creditsEarned=-3), 422, "creditsEarned"),
        # JavaScript JSON-LD stacks canonicalise 1e-7 as 0 (see tests/interop): refused.
        (issue_body(creditsEarned=1e-7), 422, "hundredths of an hour"),
        (issue_body(evidence=[{"id": "javascript:alert(1)"}]), 422, "http(s) URL"),
    ],
)
def test_bad_issue_requests(
    client: TestClient, services: Services, body: dict[str, Any], status: int, fragment: str
) -> None:
    headers = make_issuer(services, client, "alpha")
    problem = _problem(
        client.post("/api/v1/issuers/alpha/credentials", json=body, headers=headers), status
    )
    assert fragment in problem["detail"]


def test_wrong_content_type_oversized_body_and_bad_ids(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "alpha")
    response = client.post(
        "/api/v1/issuers/alpha/credentials",
        content=b"email=a@example.org",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith(PROBLEM)
    _problem(
        client.post(
            "/api/v1/issuers/alpha/credentials/bulk",
            content=b"x",
            headers={**headers, "Content-Type": "application/xml"},
        ),
        415,
    )
    big = b"[" + b" " * (21 * 1024 * 1024) + b"]"
    _problem(
        client.post(
            "/api/v1/issuers/alpha/credentials/bulk",
            content=big,
            headers={**headers, "Content-Type": "application/json"},
        ),
        413,
    )
    _problem(client.get("/api/v1/credentials/not-a-uuid", headers=headers), 404)
    _problem(
        client.post(
            "/api/v1/issuers/alpha/credentials",
            content=b"{broken",
            headers={**headers, "Content-Type": "application/json"},
        ),
        400,  # not JSON at all: 400, as on the bulk and xAPI routes; 422 is for broken limits
    )


def test_bulk_json_and_csv(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "alpha")
    rows = [
        issue_body("a@example.org"),
        issue_body("bad-email"),
        issue_body("b@example.org", achievement="missing"),
        issue_body("c@example.org"),
    ]
    report = client.post("/api/v1/issuers/alpha/credentials/bulk", json=rows, headers=headers)
    assert report.status_code == 200, report.text
    statuses = [row["status"] for row in report.json()["rows"]]
    assert statuses == ["issued", "error", "error", "issued"]
    assert "not an email" in report.json()["rows"][1]["error"]
    again = client.post("/api/v1/issuers/alpha/credentials/bulk", json=rows, headers=headers)
    assert [row["status"] for row in again.json()["rows"]] == [
        "already issued",
        "error",
        "error",
        "already issued",
    ]

    csv = (
        "email,name,achievement,creditsEarned,evidenceUrl\n"
        "d@example.org,이서연,leading-people,12,https://lms.example.org/e/1\n"
        "e@example.org,Jo,leading-people,lots,\n"
    ).encode("utf-8-sig")
    report = client.post(
        "/api/v1/issuers/alpha/credentials/bulk",
        content=csv,
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert [row["status"] for row in report.json()["rows"]] == ["issued", "error"]
    listed = client.get("/api/v1/issuers/alpha/credentials", headers=headers).json()
    assert listed["total"] == 3
    _problem(
        client.post(
            "/api/v1/issuers/alpha/credentials/bulk",
            content="email,achievement\n".encode("utf-16"),
            headers={**headers, "Content-Type": "text/csv"},
        ),
        400,
    )
    _problem(
        client.post(
            "/api/v1/issuers/alpha/credentials/bulk",
            content=b"mail,badge\nx,y\n",
            headers={**headers, "Content-Type": "text/csv"},
        ),
        400,
    )


def test_bulk_csv_of_any_line_ends_and_unreadable_lines(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Audit 10: an old Mac's CSV (lines ending in a lone CR) was one line to the csv module,
    and a line it could not read (a field over its 128 KiB limit) was a 500; now the first is
    read as lines, the second is a 400 naming the line, and nothing is issued."""
    import io

    from issuer.http import uploads
    from issuer.issuing import bulk
    from issuer.orgs.manage import read_csv

    headers = make_issuer(services, client, "alpha")
    KEY = ACHIEVEMENT["key"]

    def post(body: str) -> Any:
        return client.post(
            "/api/v1/issuers/alpha/credentials/bulk",
            content=body.encode(),
            headers={**headers, "Content-Type": "text/csv"},
        )

    monkeypatch.setattr(uploads, "CHUNK", 7)  # lines and "\r\n" pairs across chunk ends
    mac = "email,name,achievement\r" + "".join(
        f"{who}@example.org,{who.title()},{KEY}\r" for who in ("ann", "bob")
    )
    assert [row["status"] for row in post(mac).json()["rows"]] == ["issued", "issued"]
    windows = f"email,achievement\r\ncy@example.org,{KEY}\r\n"
    assert [row["status"] for row in post(windows).json()["rows"]] == ["issued"]
    huge = f"email,name,achievement\ndi@example.org,{'x' * 140_000},{KEY}\n"
    problem = _problem(post(huge), 400)
    assert (
        "CSV line 2" in problem["detail"] and "field larger than field limit" in problem["detail"]
    )
    listed = client.get("/api/v1/issuers/alpha/credentials", headers=headers).json()
    assert listed["total"] == 3

    # the console's preview and the rosters read text the same way
    assert len(list(bulk.csv_rows(io.StringIO(mac, newline="")))) == 2
    with pytest.raises(Exception, match="CSV line 2"):
        list(bulk.csv_rows(io.StringIO(huge, newline="")))
    roster = "email,name\ran@example.org,Ann\rbo@example.org,Bo\r"
    assert [row["email"] for row in read_csv(roster, ("email", "name"))] == [
        "an@example.org",
        "bo@example.org",
    ]
    with pytest.raises(Exception, match="CSV line 2"):
        read_csv(f"email,name\nan@example.org,{'x' * 140_000}\n", ("email", "name"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab,\r\né", max_size=40), st.integers(min_value=1, max_value=16))
def test_uploads_are_split_into_lines_as_the_csv_module_reads_a_file(text: str, chunk: int) -> None:
    """``uploads.text_lines`` gives the lines ``open(..., newline="")`` would, whatever the
    chunks (a "\\r\\n" or a UTF-8 character split between two)."""
    import io
    from unittest import mock

    from issuer.http import uploads

    with mock.patch.object(uploads, "CHUNK", chunk):
        got = list(uploads.text_lines(io.BytesIO(text.encode())))
    assert got == io.StringIO(text, newline="").readlines()
