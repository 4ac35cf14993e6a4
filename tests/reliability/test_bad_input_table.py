"""The audit's bad inputs (issue 13), each answered with the 4xx it deserves; before, each was a
500, a traceback, or a credential signed that the verifier then rejected."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from issuer.app import create_app
from issuer.cli import app as cli
from issuer.context import Services
from issuer.core.db import make_engine
from issuer.core.settings import Settings
from issuer.crypto.keystore import KeyStoreError
from issuer.effects import work
from issuer.models import Credential
from tests.issuer.conftest import ACHIEVEMENT, issue_body, make_issuer
from tests.units import create_issuer

PROBLEM = "application/problem+json"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


@pytest.fixture
def hrd(client: TestClient, services: Services) -> dict[str, str]:
    return make_issuer(services, client, "hrd")


def _problem(response: Any, status: int, fragment: str = "") -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and fragment in body["detail"], body
    return body


Case = tuple[str, str, Any, int, str]
"""method, path, JSON body (or raw bytes), expected status, a fragment of the detail"""

CASES: list[Case] = [
    # An evidence URL with '"' is not an IRI: canonicalisation failed after the index was taken.
    (
        "POST",
        "/api/v1/issuers/hrd/credentials",
        issue_body(evidence=[{"id": 'https://lms.example.org/a"b'}]),
        422,
        "'\"' is not allowed in a link",
    ),
    (
        "POST",
        "/api/v1/issuers/hrd/credentials",
        issue_body(evidence=[{"id": "https://lms.example.org/a b"}]),
        422,
        "is not allowed in a link",
    ),
    (
        "POST",
        "/api/v1/issuers/hrd/credentials",
        issue_body(evidence=[{"id": "https://lms.example.org/%zz"}]),
        422,
        "hexadecimal",
    ),
    (
        "POST",
        "/api/v1/issuers/hrd/credentials",
        issue_body(recipient={"email": "a@example.org", "did": 'did:example:a"b'}),
        422,
        "DID",
    ),
    (
        "POST",
        "/api/v1/issuers/hrd/achievements",
        {
            **ACHIEVEMENT,
            "key": "js",
            "alignments": [{"targetName": "x", "targetUrl": "javascript:x"}],
        },
        422,
        "http(s) URL",
    ),
    # Dates and periods that no arithmetic can use.
    (
        "POST",
        "/api/v1/issuers/hrd/credentials",
        issue_body(validFrom="1899-12-31T23:59:59Z"),
        422,
        "between 1900 and 9999",
    ),
    (
        "POST",
        "/api/v1/issuers/hrd/credentials",
        issue_body(validFrom="9999-12-31T23:00:00-05:00"),
        422,
        "between 1900 and 9999",
    ),
    (
        "POST",
        "/api/v1/issuers/hrd/achievements",
        {**ACHIEVEMENT, "key": "forever", "validity": "P99999Y"},
        422,
        "at most P999Y",
    ),
    # Ordinary mistakes that were 500s.
    ("GET", "/api/v1/issuers/hrd/hours?year=0", None, 422, "1900"),
    ("GET", "/api/v1/issuers/hrd/hours?year=10000", None, 422, "9999"),
    ("POST", "/api/v1/issuers/hrd/teams", {"skills": [""]}, 422, "at least 1 character"),
    ("POST", "/api/v1/issuers/hrd/teams", {"skills": ["a"], "exclude": ["x"]}, 422, "email"),
    # U+0000 cannot be stored by PostgreSQL: refused in queries, paths and bodies.
    ("GET", "/api/v1/issuers/hrd/credentials?achievement=%00", None, 422, "achievement"),
    ("GET", "/api/v1/issuers/hrd/credentials?email=a%00@example.org", None, 422, "email"),
    ("GET", "/api/v1/issuers/hrd/skills?group=%00", None, 422, "group"),
    ("PUT", "/api/v1/issuers/hrd/groups/%00", {"emails": []}, 422, "name"),
    (
        "POST",
        "/api/v1/issuers/hrd/credentials",
        issue_body(narrative="a\x00b"),
        422,
        "control characters",
    ),
    ("GET", "/status/99999999999", None, 422, "list_id"),
    # Duplicate keys: which value would count is undefined (RFC 8259 §4); refused.
    (
        "POST",
        "/api/v1/issuers/hrd/credentials",
        b'{"recipient": {"email": "a@example.org"}, "achievement": "leading-people",'
        b' "achievement": "other"}',
        400,
        "the key 'achievement' appears twice",
    ),
    (
        "POST",
        "/api/v1/issuers/hrd/credentials/bulk",
        b'[{"recipient": {"email": "a@example.org", "email": "b@example.org"},'
        b' "achievement": "leading-people"}]',
        400,
        "appears twice",
    ),
    (
        "POST",
        "/api/v1/issuers/hrd/xapi/statements",
        b'{"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "x"}, "verb": {"id": "y"},'
        b' "object": {"id": "z"}}',
        400,
        "appears twice",
    ),
    ("POST", "/api/v1/issuers/hrd/teams", b'{"skills": ["a"], "size": NaN}', 400, "NaN"),
    (
        "POST",
        "/api/v1/issuers/hrd/teams",
        b'{"skills": ["a"], "size": 1' + b"0" * 5000 + b"}",
        400,
        "digits",
    ),
    ("POST", "/api/v1/issuers/hrd/teams", b"\xff\xfe", 400, "UTF-8"),
    # An achievement type its own verifier rejects.
    (
        "POST",
        "/api/v1/issuers/hrd/achievements",
        {**ACHIEVEMENT, "key": "odd", "achievementType": "Weird Type"},
        422,
        "is not an OB 3.0 achievement type",
    ),
    (
        "POST",
        "/api/v1/issuers/hrd/achievements",
        {
            **ACHIEVEMENT,
            "key": "odd",
            "alignments": [
                {"targetName": "x", "targetUrl": "https://x.example/1", "targetType": "Skill"}
            ],
        },
        422,
        "alignment target type",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    CASES,
    ids=[f"{m} {p.split('/hrd')[-1][:40]} {s} {f[:20]}" for m, p, _, s, f in CASES],
)
def test_bad_input_is_a_4xx(
    client: TestClient,
    hrd: dict[str, str],
    method: str,
    path: str,
    body: Any,
    status: int,
    fragment: str,
) -> None:
    if isinstance(body, bytes):
        response = client.request(
            method, path, content=body, headers={**hrd, "Content-Type": "application/json"}
        )
    else:
        response = client.request(method, path, json=body, headers=hrd)
    _problem(response, status, fragment)


def _indexes(services: Services) -> list[int]:
    with work(services, write=False) as db:
        return sorted(c.status_index for c in db.exec(select(Credential)))


def test_a_bad_bulk_row_is_reported_alone_and_takes_no_status_index(
    client: TestClient, services: Services, hrd: dict[str, str]
) -> None:
    rows = [
        issue_body("a@example.org"),
        issue_body("b@example.org", evidence=[{"id": 'https://lms.example.org/a"b'}]),
        issue_body("c@example.org", recipient={"email": "c@example.org", "did": "did:ex:1"}),
        issue_body("d@example.org", recipient={"email": "d@example.org", "did": "did:ex:1"}),
        issue_body("e@example.org"),
    ]
    answer = client.post("/api/v1/issuers/hrd/credentials/bulk", json=rows, headers=hrd)
    assert answer.status_code == 200, answer.text
    report = answer.json()["rows"]
    assert [row["status"] for row in report] == ["issued", "error", "issued", "error", "issued"]
    assert "is not allowed in a link" in report[1]["error"]
    assert report[3]["error"] == "the DID did:ex:1 names another learner in row 3"
    indexes = _indexes(services)
    assert indexes == list(range(indexes[0], indexes[0] + 3))  # no gap: refused rows took none


def test_a_did_another_learner_holds_is_a_clear_conflict(
    client: TestClient, hrd: dict[str, str]
) -> None:
    first = issue_body(recipient={"email": "a@example.org", "did": "did:ex:kim"})
    assert (
        client.post("/api/v1/issuers/hrd/credentials", json=first, headers=hrd).status_code == 201
    )
    second = issue_body(recipient={"email": "b@example.org", "did": "did:ex:kim"})
    answer = client.post("/api/v1/issuers/hrd/credentials", json=second, headers=hrd)
    _problem(answer, 409, "the DID did:ex:kim names another learner at this issuer")


def test_a_credential_the_verifier_would_reject_is_refused_before_signing(
    client: TestClient, services: Services, hrd: dict[str, str]
) -> None:
    """An achievement whose stored data breaks the OB 3.0 schema (here: written around the API):
    422 from the verifier's own schema check, and no status index is used."""
    assert client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=hrd).is_success
    with work(services) as db:
        row = db.execute(text("SELECT id, data FROM achievement")).one()
        data = row.data if isinstance(row.data, dict) else json.loads(row.data)
        data["achievementType"] = "Weird Type"
        db.execute(
            text("UPDATE achievement SET data = :data WHERE id = :id"),
            {"data": json.dumps(data), "id": row.id},
        )
    answer = client.post(
        "/api/v1/issuers/hrd/credentials", json=issue_body("b@example.org"), headers=hrd
    )
    _problem(answer, 422, "would not conform to the OB 3.0 schema")
    assert "achievementType" in answer.json()["detail"]
    after = client.post(
        "/api/v1/issuers/hrd/credentials/bulk",
        json=[issue_body("c@example.org")],
        headers=hrd,
    ).json()
    assert after["rows"][0]["status"] == "error"
    assert _indexes(services) == [_indexes(services)[0]]  # only the first credential's


def test_an_extension_achievement_type_issues_and_verifies(
    client: TestClient, hrd: dict[str, str]
) -> None:
    body = {**ACHIEVEMENT, "key": "mentoring", "achievementType": "ext:Mentoring"}
    assert (
        client.post("/api/v1/issuers/hrd/achievements", json=body, headers=hrd).status_code == 201
    )
    issued = client.post(
        "/api/v1/issuers/hrd/credentials",
        json=issue_body(achievement="mentoring"),
        headers=hrd,
    )
    assert issued.status_code == 201, issued.text
    schema_check = next(
        c
        for c in client.post("/api/v1/verify", json=issued.json()).json()["checks"]
        if c["name"] == "schema"
    )
    assert schema_check["outcome"] == "passed", schema_check


def test_far_dates_issue_and_the_skills_cloud_still_answers(
    client: TestClient, hrd: dict[str, str]
) -> None:
    """A ``validFrom`` in the year 4100 overflowed the recency weighting (2^1000)."""
    for start in ("4100-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "1900-01-01T00:00:00Z"):
        body = issue_body(f"{start[:4]}@example.org", validFrom=start)
        assert (
            client.post("/api/v1/issuers/hrd/credentials", json=body, headers=hrd).status_code
            == 201
        )
    cloud = client.get("/api/v1/issuers/hrd/skills", headers=hrd)
    assert cloud.status_code == 200, cloud.text
    assert client.get("/api/v1/issuers/hrd/hours?year=9999", headers=hrd).status_code == 200
    long = {**ACHIEVEMENT, "key": "long", "validity": "P999Y"}
    assert (
        client.post("/api/v1/issuers/hrd/achievements", json=long, headers=hrd).status_code == 201
    )
    late = issue_body("late@example.org", achievement="long", validFrom="9500-01-01T00:00:00Z")
    _problem(
        client.post("/api/v1/issuers/hrd/credentials", json=late, headers=hrd),
        400,
        "past the year 9999",
    )


def _statement(number: int, name: str) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "actor": {"mbox": f"mailto:learner{number}@example.org", "name": name},
        "verb": {"id": COMPLETED},
        "object": {"id": "https://lms.example.org/courses/leading-people"},
    }


def test_an_xapi_statement_that_cannot_issue_never_affects_another(
    client: TestClient, hrd: dict[str, str]
) -> None:
    statements = [_statement(1, "n" * 300), _statement(2, "Kim"), _statement(3, "n" * 201)]
    answer = client.post("/api/v1/issuers/hrd/xapi/statements", json=statements, headers=hrd)
    assert answer.status_code == 200, answer.text
    report = answer.json()["statements"]
    assert [s["status"] for s in report] == ["error", "issued", "error"]
    assert report[0]["error"].startswith("actor.name:")
    listed = client.get("/api/v1/issuers/hrd/credentials", headers=hrd).json()
    assert listed["total"] == 1


@pytest.fixture
def unreachable(services: Services, tmp_path: Path) -> Iterator[TestClient]:
    """The app, then the database gone (a path that cannot be opened / a refused port)."""
    app = create_app(services=services)
    url = services.settings.database_url
    gone = (
        f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
        if url.startswith("sqlite")
        else "postgresql+psycopg://root@127.0.0.1:1/nowhere?connect_timeout=2"
    )
    working, services.engine = services.engine, make_engine(gone)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        services.engine.dispose()
        services.engine = working


def test_a_database_outage_is_a_503_with_retry_after(unreachable: TestClient) -> None:
    headers = {"Authorization": "Bearer lrl_0000_whatever"}
    for answer in (
        unreachable.get("/api/v1/issuers/hrd/credentials", headers=headers),
        unreachable.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers),
        unreachable.get("/issuers/hrd"),
    ):
        _problem(answer, 503, "try again")
        assert int(answer.headers["Retry-After"]) > 0
    page = unreachable.get("/v/00000000-0000-4000-8000-000000000000")
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "try again" in page.text and page.headers["Retry-After"]


def test_a_full_pool_is_a_503(services: Services, tmp_path: Path) -> None:
    """No connection within the pool's timeout: 503, never a 500."""
    url = services.settings.database_url
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    crowded = Services(services.settings, engine, services.keystore)
    client = TestClient(create_app(services=crowded))
    with engine.connect():  # the only connection, taken
        _problem(client.get("/issuers/hrd"), 503, "try again")
    engine.dispose()


def test_a_wrong_key_passphrase_stops_the_start(
    client: TestClient, services: Services, tmp_path: Path, database_url: str
) -> None:
    create_issuer(services, slug="hrd", name="HRD Institute")
    wrong = Settings(
        database_url=database_url,
        keys_dir=services.settings.keys_dir,
        key_passphrase="not-the-passphrase",
        base_url=services.settings.base_url,
    )
    engine = make_engine(database_url)
    with pytest.raises(KeyStoreError, match="LAUREL_KEY_PASSPHRASE"):
        create_app(services=Services.from_settings(wrong, engine))
    engine.dispose()
    env = {
        "LAUREL_DATABASE_URL": database_url,
        "LAUREL_KEYS_DIR": str(services.settings.keys_dir),
        "LAUREL_KEY_PASSPHRASE": "not-the-passphrase",
        "LAUREL_BASE_URL": services.settings.base_url,
    }
    result = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert result.exit_code == 2, result.output
    assert "cannot be decrypted: is LAUREL_KEY_PASSPHRASE right?" in result.output
    assert "Traceback" not in result.output


def test_issue_csv_reports_each_bad_row_without_a_traceback(
    services: Services, client: TestClient, tmp_path: Path, database_url: str
) -> None:
    make_issuer(services, client, "hrd")
    csv = tmp_path / "cohort.csv"
    csv.write_text(
        "email,achievement,evidenceUrl,validFrom\n"
        "a@example.org,leading-people,https://lms.example.org/1,\n"
        'b@example.org,leading-people,"https://lms.example.org/a""b",\n'
        "c@example.org,leading-people,,4100-01-01T00:00:00Z\n"
        "d@example.org,leading-people,,10000-01-01T00:00:00Z\n",
        encoding="utf-8",
    )
    env = {
        "LAUREL_DATABASE_URL": database_url,
        "LAUREL_KEYS_DIR": str(services.settings.keys_dir),
        "LAUREL_KEY_PASSPHRASE": services.settings.key_passphrase,
        "LAUREL_BASE_URL": services.settings.base_url,
    }
    result = CliRunner().invoke(cli, ["issue", "--issuer", "hrd", "--csv", str(csv)], env=env)
    assert result.exit_code == 1, result.output
    assert "2 issued, 0 already issued, 2 errors" in result.output
    assert re.search(r"row 2: evidence\.0\.id: '\"' is not allowed in a link", result.output)
    assert re.search(r"row 4: validFrom: ", result.output)
    assert "Traceback" not in result.output


def test_the_openapi_description_declares_problems_and_resolves(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "Problem" in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            if path.startswith("/ims/ob/v3p0/"):  # the OB 3.0 API answers Imsx_StatusInfo
                imsx = {
                    code
                    for code, a in answers.items()
                    if a.get("content", {}).get("application/json", {}).get("schema")
                    == {"$ref": "#/components/schemas/Imsx_StatusInfo"}
                }
                assert "503" in imsx, (method, path)
                if path != "/ims/ob/v3p0/discovery":
                    assert {"400", "401", "403"} <= imsx, (method, path)
                continue
            problems = {code for code, a in answers.items() if PROBLEM in a.get("content", {})}
            assert "503" in problems, (method, path)
            # errors as RFC 6749 / 7591 / OpenID4VCI JSON, declared as 400
            if path.startswith(("/oauth/", "/oid4vci/credential")):
                assert "400" in answers, (method, path)
                continue
            if any(p["name"] == "authorization" for p in operation.get("parameters", [])):
                assert {"400", "401", "403", "404", "422"} <= problems, (method, path)
            validated = "requestBody" in operation and path != "/api/v1/verify"  # any body
            if validated or operation.get("parameters"):
                assert "422" in problems, (method, path)
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(spec)))
    assert refs <= set(spec["components"]["schemas"])
