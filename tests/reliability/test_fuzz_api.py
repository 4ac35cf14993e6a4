"""Schemathesis over the app's own OpenAPI description: no request gets a 5xx.

Every operation of ``/openapi.json`` is fuzzed in-process (ASGI) against a seeded database (an
issuer, an API key with every scope, an achievement, credentials, a group), with data that fits
the description (positive) and data that breaks it (negative). Half the cases aim at the seeded
issuer with the valid key, so that authenticated operations get past 401/404 and really issue,
revoke and report; the other half are generated freely. Each response must not be a server error
and, where the case fits the description, must conform to it (status code, media type, headers,
body schema); a case that breaks it must be refused with a 4xx.

Bounded and repeatable: ``EXAMPLES`` per operation and mode, derandomised, no shrinking. Every
failure is collected and reported with a curl command, so one run shows all of them.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp

from issuer.context import Services
from issuer.schemas import IssueRequest
from tests.issuer.conftest import make_issuer
from tests.units import issue, revoke

pytestmark = [
    pytest.mark.fuzz,
    # PostgreSQL's half is test_fuzz_api_postgresql.py: a file of its own, so that the two
    # (minutes each) run on two workers at once under ``--dist loadfile``.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

EXAMPLES = int(os.environ.get("LAUREL_FUZZ_EXAMPLES", "25"))
"""Cases per operation and mode (positive, negative)."""

POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
NEGATIVE_CHECKS = [not_a_server_error, negative_data_rejection]


@dataclass
class Seeded:
    app: ASGIApp
    key: str
    known: dict[str, Any]
    """Path parameters that name what the database holds."""


@pytest.fixture
def seeded(services: Services, client: TestClient) -> Seeded:
    """An issuer with an achievement, a key with every scope, two active credentials and a
    revoked one, a group."""
    headers = make_issuer(services, client, "hrd")
    ids = []
    for number in range(3):
        request = IssueRequest.model_validate(
            {
                "recipient": {"email": f"learner{number}@example.org", "groups": ["Finance"]},
                "achievement": "leading-people",
                "evidence": [{"id": "https://lms.example.org/evidence/1"}],
            }
        )
        ids.append(issue(services, "hrd", request).credential.id)
    revoke(services, ids[2], "seeded as revoked")
    known = {
        "slug": "hrd",
        "credential_id": ids[0],
        "achievement": "leading-people",
        "key": "leading-people",
        "list_id": 1,
        "name": "Finance",
        "kind": "svg",
    }
    key = headers["Authorization"].removeprefix("Bearer ")
    return Seeded(client.app, key, known)


@dataclass
class Tally:
    """What the run sent and got, and every failure."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def cases(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> str:
        by_status: Counter[int] = Counter()
        for (_, status), count in self.statuses.items():
            by_status[status] += count
        errors = sum(count for status, count in by_status.items() if status >= 500)
        operations = len({label for label, _ in self.statuses})
        return (
            f"{operations} operations, {self.cases()} cases, {errors} server errors; "
            f"statuses {dict(sorted(by_status.items()))}"
        )


COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def _aim(case: Any) -> Any:
    """Point a generated body at what exists: the seeded achievement, an awarding xAPI verb and
    activity, so that issuing goes all the way to signing."""
    rows = case.body if isinstance(case.body, list) else [case.body]
    for row in rows:
        if not isinstance(row, dict):
            continue
        if "recipient" in row:
            row["achievement"] = "leading-people"
        if isinstance(row.get("verb"), dict) and isinstance(row.get("object"), dict):
            row["verb"]["id"] = COMPLETED
            row["object"]["id"] = "https://lms.example.org/courses/leading-people"
    return case


def _strategy(operation: Any, mode: GenerationMode, seeded: Seeded) -> st.SearchStrategy[Any]:
    """A third free cases; two thirds at the seeded issuer with the valid key, half of which
    (in positive mode) name the seeded achievement."""
    names = {parameter.name for parameter in operation.path_parameters}
    known = {name: value for name, value in seeded.known.items() if name in names}
    headers = {"authorization": f"Bearer {seeded.key}"}
    free = operation.as_strategy(generation_mode=mode)
    aimed = operation.as_strategy(generation_mode=mode, path_parameters=known, headers=headers)
    if mode == GenerationMode.POSITIVE:
        return st.one_of(free, aimed, aimed.map(_aim))
    return st.one_of(free, aimed, aimed)


ANSWERS_ANY_BODY = {
    "POST /api/v1/verify",
    "POST /api/v1/issuers/{slug}/credentials/bulk",
    "POST /api/v1/issuers/{slug}/xapi/statements",
}
"""Operations that answer 200 to bodies the description calls invalid, by design: verifying
garbage is a verdict ("not verified"); a bulk row or an xAPI statement that breaks the limits is
reported as an error in the answer, and the other rows are issued."""


def _fuzz(operation: Any, mode: GenerationMode, seeded: Seeded, tally: Tally) -> None:
    checks = POSITIVE_CHECKS if mode == GenerationMode.POSITIVE else NEGATIVE_CHECKS
    if operation.label in ANSWERS_ANY_BODY:
        checks = [check for check in checks if check is not negative_data_rejection]
    label = f"{operation.label} ({mode.value})"

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, mode, seeded))
    def run(case: Any) -> None:
        try:
            response = case.call()
        except Exception as exc:  # the app raised: its client got a 500
            tally.statuses[(operation.label, 500)] += 1
            tally.failures.append(
                f"{label} → 500: {type(exc).__name__}: {str(exc)[:300]}\n"
                f"    {case.as_curl_command()[:600]}"
            )
            return
        tally.statuses[(operation.label, response.status_code)] += 1
        try:
            case.validate_response(response, checks=checks)
        except (AssertionError, FailureGroup) as exc:
            detail = str(exc).strip().splitlines()
            tally.failures.append(
                f"{label} → {response.status_code}: {' '.join(detail[:6])[:600]}\n"
                f"    {case.as_curl_command()[:600]}"
            )

    try:
        run()
    except Unsatisfiable:  # nothing to break: no parameters and no body (negative mode)
        assert mode == GenerationMode.NEGATIVE, label


def _operations(seeded: Seeded) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", seeded.app)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the description itself is valid
        operations.append(result.ok())
    return operations


def test_no_request_gets_a_server_error(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    tally = Tally()
    operations = _operations(seeded)
    assert len(operations) >= 30
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, seeded, tally)
    with capsys.disabled():
        print(f"\nfuzz: {tally.summary()}")
    assert not tally.failures, f"{len(tally.failures)} failures ({tally.summary()}):\n" + "\n".join(
        tally.failures[:40]
    )
