"""The rules behind the API's limits, one by one: links (RFC 3987), OB vocabularies (the same as
the verifier's bundled schema), strict JSON, far dates in the skill weights and periods, the
schema check before signing, and which database errors mean "try again"."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import OperationalError

from issuer.core.errors import BadRequest
from issuer.http.deps import parse_json
from issuer.http.problems import unavailable
from issuer.issuing.documents import NotConforming, add_duration, check_conforms
from issuer.schemas import ACHIEVEMENT_TYPES, ALIGNMENT_TARGET_TYPES, HttpUrl
from issuer.skills.weights import decay, scaled_weight
from verifier.schema import SCHEMAS_PACKAGE

LINKS = TypeAdapter(HttpUrl)


@pytest.mark.parametrize(
    "link",
    [
        "https://lms.example.org/evidence/1?x=1#top",
        "http://[::1]:8080/x",
        "https://예시.kr/경로",
        "HTTPS://EXAMPLE.ORG",
        "https://example.org/a%20b",
    ],
)
def test_links_that_are_iris(link: str) -> None:
    assert LINKS.validate_python(link) == link


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ('https://example.org/a"b', "'\"' is not allowed"),
        ("https://example.org/a b", "' ' is not allowed"),
        ("https://example.org/a<b>", "'<' is not allowed"),
        ("https://example.org/{x}", "'{' is not allowed"),
        ("https://example.org/a\\b", "is not allowed"),
        ("https://example.org/a`b", "is not allowed"),
        ("https://example.org/\u202eevil", "is not allowed"),
        ("https://example.org/\n", "is not allowed"),
        ("https://example.org/%zz", "hexadecimal"),
        ("example.org/page", "absolute"),
        ("javascript:alert(1)", "http(s) URL"),
        ("ftp://example.org/", "http(s) URL"),
        ("https:///path", "http(s) URL"),
        ("https://example.org:99999/", "not a valid URL"),
    ],
)
def test_links_that_are_not(link: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        LINKS.validate_python(link)


def _bundled_enum(definition: str, field: str) -> list[str]:
    schema = json.loads(
        resources.files(SCHEMAS_PACKAGE).joinpath("achievementcredential.json").read_text("utf-8")
    )
    choices = schema["$defs"][definition]["properties"][field]["oneOf"]
    return next(choice["enum"] for choice in choices if "enum" in choice)


def test_ob_vocabularies_are_the_verifiers() -> None:
    assert list(ACHIEVEMENT_TYPES) == _bundled_enum("Achievement", "achievementType")
    assert list(ALIGNMENT_TARGET_TYPES) == _bundled_enum("Alignment", "targetType")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"a": 1, "a": 2}', "the key 'a' appears twice"),
        (b'[{"x": {"b": 1, "b": 1}}]', "the key 'b' appears twice"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"a": 1' + b"0" * 5000 + b"}", "digits"),
        (b"\xff", "not UTF-8"),
        (b"[" * 100_000, "nested too deeply"),
        (b"{nope", "Expecting property name"),
    ],
)
def test_strict_json(body: bytes, reason: str) -> None:
    with pytest.raises(json.JSONDecodeError, match=reason):
        parse_json(body)


def test_strict_json_reads_json() -> None:
    assert parse_json(b'{"a": [1, {"b": "c"}], "d": 1.5}') == {"a": [1, {"b": "c"}], "d": 1.5}


@pytest.mark.parametrize("year", [1900, 2000, 4100, 9999])
def test_skill_weights_of_any_admitted_year_are_finite(year: int) -> None:
    moment = datetime(year, 12, 31, tzinfo=UTC)
    weight = scaled_weight(21.0, moment) * 1_000_000_000  # a billion such rows summed
    assert 0 < weight < float("inf")
    assert 0 < decay(moment) < float("inf")


def test_recent_weights_are_unchanged() -> None:
    issued = datetime(2024, 3, 1, tzinfo=UTC)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert scaled_weight(2.0, issued) * decay(now) == pytest.approx(2.0 * 0.5 ** (730 / 730))


def test_periods() -> None:
    start = datetime(2024, 2, 29, 9, tzinfo=UTC)
    assert add_duration(start, "P1Y") == datetime(2025, 2, 28, 9, tzinfo=UTC)
    assert add_duration(start, "P1Y6M10D") == datetime(2025, 9, 8, 9, tzinfo=UTC)
    with pytest.raises(BadRequest, match="past the year 9999"):
        add_duration(datetime(9500, 1, 1, tzinfo=UTC), "P999Y")
    with pytest.raises(BadRequest, match="past the year 9999"):
        add_duration(datetime(9999, 12, 30, tzinfo=UTC), "P10D")
    with pytest.raises(BadRequest, match="not a period"):
        add_duration(start, "P")


def _credential(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:web:laurel.test:issuers:hrd", "type": ["Profile"], "name": "HRD"},
        "validFrom": "2026-03-01T09:00:00Z",
        "name": "Leading People",
        "credentialSubject": {
            "id": "urn:uuid:00000000-0000-4000-8000-000000000002",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://laurel.test/issuers/hrd/achievements/leading-people",
                "type": ["Achievement"],
                "name": "Leading People",
                "description": "A course.",
                "criteria": {"narrative": "Attend."},
                "achievementType": "Course",
            },
        },
    }
    document.update(changes)
    return document


def test_the_schema_check_before_signing() -> None:
    check_conforms(_credential())
    check_conforms(_credential(validFrom="2026-03-01T09:00:00+09:00"))
    broken = _credential()
    broken["credentialSubject"]["achievement"]["achievementType"] = "Weird Type"
    with pytest.raises(NotConforming, match="achievementType"):
        check_conforms(broken)
    with pytest.raises(NotConforming, match="issuer"):
        check_conforms({k: v for k, v in _credential().items() if k != "issuer"})


def _sqlite_error(code: int, name: str, message: str) -> OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    error.sqlite_errorname = name
    return OperationalError("SELECT 1", None, error)


def test_which_database_errors_mean_try_again() -> None:
    assert unavailable(_sqlite_error(5, "SQLITE_BUSY", "database is locked"))
    assert unavailable(_sqlite_error(14, "SQLITE_CANTOPEN", "unable to open database file"))
    assert not unavailable(_sqlite_error(1, "SQLITE_ERROR", "no such table: issuer"))
    assert not unavailable(ValueError("a bug"))
