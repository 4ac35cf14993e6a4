"""Bulk bodies are read as a stream (issue 18: memory stays flat for a 100,000-row cohort).

The streamed JSON reader must accept exactly what the whole-body reader accepts, with the same
values, whatever the chunk boundaries; a broken body must never become a half-stored job."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.errors import BadRequest
from issuer.http import uploads
from issuer.http.strictjson import parse_json
from issuer.issuing import jobs
from issuer.models import BulkJob, BulkJobRow, Credential
from tests.issuer.conftest import issue_body, make_issuer

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


def _outcome(read: Any, body: bytes) -> tuple[str, Any]:
    try:
        return "ok", read(body)
    except (json.JSONDecodeError, BadRequest):
        return "refused", None


def _whole(body: bytes) -> list[Any]:
    value = parse_json(body)
    if not isinstance(value, list):
        raise BadRequest("not an array")
    return value


def _streamed(body: bytes) -> list[Any]:
    return list(uploads.json_array(io.BytesIO(body)))


@pytest.fixture(params=[1, 3, 64 * 1024])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(uploads, "CHUNK", request.param)
    yield request.param


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.lists(_VALUES, max_size=6) | _VALUES,
    indent=st.sampled_from([None, 0, 2, "\t", "\r\n "]),
    cut=st.integers(min_value=0, max_value=400),
    insert=st.sampled_from(["", ",", "]", "[", "x", " ", "\ufeff", "NaN", "1", '"a":1,']),
)
def test_streamed_json_accepts_what_the_whole_body_reader_accepts(
    chunk: int, value: Any, indent: Any, cut: int, insert: str
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    for body in (text, text[:cut] + insert + text[cut:], text[:cut]):
        encoded = body.encode()
        assert _outcome(_streamed, encoded) == _outcome(_whole, encoded), body


@pytest.mark.parametrize(
    "body",
    [
        b'[{"a": 1, "a": 2}]',
        b"[1, NaN]",
        b"[1, 2",
        b"[1, 2,]",
        b"[1 2]",
        b"[1] 2",
        b"[" + b"[" * 5000 + b"]" * 5000 + b"]",
        b'["\xff"]',
        b"\xef\xbb\xbf[1]",
        b"",
        b"[,1]",
    ],
)
def test_broken_bodies_are_refused_as_the_whole_body_reader_refuses_them(
    chunk: int, body: bytes
) -> None:
    assert _outcome(_streamed, body) == _outcome(_whole, body) == ("refused", None)


def test_errors_name_the_row(chunk: int) -> None:
    with pytest.raises(json.JSONDecodeError, match="row 3: the key 'a' appears twice"):
        _streamed(b'[{}, {}, {"a": 1, "a": 2}]')
    with pytest.raises(json.JSONDecodeError, match="expected ',' or ']' after row 2"):
        _streamed(b"[{}, {} {}]")


def test_rows_are_parsed_as_they_are_taken() -> None:
    rows = uploads.json_array(io.BytesIO(b"[{}, {}, {} oops"))
    assert next(rows) == {} and next(rows) == {}  # nothing complained about the end yet
    with pytest.raises(json.JSONDecodeError):
        list(rows)


def test_a_row_over_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_ROW_BYTES", 2048)
    fits = json.dumps([{"narrative": "x" * 1900}]).encode()
    assert _streamed(fits) == [{"narrative": "x" * 1900}]
    monkeypatch.setattr(uploads, "CHUNK", 100)
    big = json.dumps([{}, {"narrative": "x" * 5000}]).encode()
    with pytest.raises(json.JSONDecodeError, match=r"row 2: .*up to 2 KB"):
        _streamed(big)


def test_text_lines_keep_their_ends_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "CHUNK", 2)
    text = '\ufeffemail,name\r\na@example.org,"Ada\nLovelace"\nb@example.org,Bé'
    lines = list(uploads.text_lines(io.BytesIO(text.encode())))
    assert "".join(lines) == text.removeprefix("\ufeff")
    assert lines[0] == "email,name\r\n" and lines[-1] == "b@example.org,Bé"
    with pytest.raises(BadRequest, match="not UTF-8"):
        list(uploads.text_lines(io.BytesIO(b"email\n\xff\xfe\n")))


def _chunked(body: bytes, size: int = 997) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _counts(services: Services) -> tuple[int, int, int]:
    with Session(services.engine) as session:
        return (
            session.exec(select(func.count()).select_from(BulkJob)).one(),
            session.exec(select(func.count()).select_from(BulkJobRow)).one(),
            session.exec(select(func.count()).select_from(Credential)).one(),
        )


def test_a_streamed_upload_becomes_a_job_and_a_broken_one_stores_nothing(
    client: TestClient, services: Services
) -> None:
    headers = {**make_issuer(services, client, "alpha"), "Content-Type": "application/json"}
    url = "/api/v1/issuers/alpha/credentials/bulk"
    rows = [issue_body(f"learner{n}@example.org") for n in range(jobs.SYNC_ROWS + 30)]
    body = json.dumps(rows).encode()
    broken = body[:-3] + b"}x]"  # the last row is not JSON: found after 279 good rows
    refused = client.post(url, content=_chunked(broken), headers=headers)
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert f"row {len(rows)}" in refused.json()["detail"]
    assert _counts(services) == (0, 0, 0)
    answer = client.post(url, content=_chunked(body), headers=headers)
    assert answer.status_code == 202, answer.text
    job = client.get(answer.headers["Location"], headers=headers).json()
    assert job["total"] == len(rows) and job["summary"]["issued"] == len(rows)
    assert _counts(services) == (1, len(rows), len(rows))
