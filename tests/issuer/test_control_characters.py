"""Control characters in issued text (issue 15, part 3), on SQLite and PostgreSQL.

RDFC-1.0 escapes U+000B, U+000C and the other control characters; PyLD (behind openbadgeslib)
writes them raw, so a badge holding one verifies in one stack and fails in the other. Issuance
therefore turns a vertical tab or form feed into a newline and refuses every other C0 control but
tab and line breaks (and DEL) with a 4xx that names the field: the API (single, bulk JSON, CSV),
the VC-API, and the achievement's own text. DCC's verdict on the issued documents is in
tests/interop/test_issued_text.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.errors import BadRequest
from issuer.issuing.text import _REFUSED, ControlCharacter, clean_text
from issuer.models import Achievement
from tests.issuer.conftest import ClientFetcher, issue_body, make_issuer
from tests.units import create_api_key, create_issuer
from verifier import Verdict, canonicalize, verify_credential
from verifier.expansion import document_loader
from verifier.proof import data_integrity
from verifier.safejson import MAX_DEPTH

PASTED = "First line\x0bsecond line\x0cthird line"
"""What PowerPoint and Word put on the clipboard for a line break and a page break."""
AS_LINES = "First line\nsecond line\nthird line"
ISSUE = "/api/v1/issuers/alpha/credentials"


def _problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    for field in fields:
        assert field in body["detail"], body
    return body


def _issued(client: TestClient, headers: dict[str, str]) -> int:
    listed = client.get(ISSUE, headers=headers)
    assert listed.status_code == 200, listed.text
    total: int = listed.json()["total"]
    return total


def _pyld_nquads(document: dict[str, Any]) -> str:
    """What a PyLD-based verifier (openbadgeslib) hashes: PyLD's own URDNA2015."""
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader,
        "base": None,
    }
    nquads: str = jsonld.normalize(copy.deepcopy(document), options)
    return nquads


# --- the rules themselves ----------------------------------------------------------------------


def test_clean_text_keeps_tabs_and_line_breaks_and_names_the_field() -> None:
    document = {"a": [{"b": "x\ty\r\nz"}, PASTED], "n": 1, "t": True, "z": None}
    assert clean_text(document) == {
        "a": [{"b": "x\ty\r\nz"}, AS_LINES],
        "n": 1,
        "t": True,
        "z": None,
    }
    for char in ("\x00", "\x01", "\x08", "\x1b", "\x1f", "\x7f"):
        with pytest.raises(ControlCharacter) as refused:
            clean_text({"credentialSubject": {"result": [{"value": f"A{char}"}]}})
        assert "credentialSubject.result[0].value" in refused.value.detail
        assert f"U+{ord(char):04X}" in refused.value.detail
    with pytest.raises(ControlCharacter, match="U\\+0001"):
        clean_text({"name\x01": "x"})


def _reference_clean(document: Any, field: str = "", depth: int = 0) -> Any:
    """The rule as first written (every string translated and searched, every field's name
    written as it goes): ``clean_text`` must answer the same, errors included."""
    if depth > MAX_DEPTH:
        raise BadRequest(f"the credential is nested more than {MAX_DEPTH} levels deep")
    if isinstance(document, str):
        cleaned = document.translate({0x0B: "\n", 0x0C: "\n"})
        found = _REFUSED.search(cleaned)
        if found:
            raise ControlCharacter(field, found.group())
        return cleaned
    if isinstance(document, dict):
        copied: dict[str, Any] = {}
        for key, value in document.items():
            found = _REFUSED.search(key)
            if found:
                where = f"{field}.{key!r}" if field else repr(key)
                raise ControlCharacter(where, found.group())
            copied[key] = _reference_clean(value, f"{field}.{key}" if field else key, depth + 1)
        return copied
    if isinstance(document, list):
        return [
            _reference_clean(item, f"{field}[{index}]", depth + 1)
            for index, item in enumerate(document)
        ]
    return document


_TEXT = st.text(
    st.sampled_from(
        [
            "a",
            "한",
            " ",
            "\t",
            "\n",
            "\r",
            "\x0b",
            "\x0c",
            "\x00",
            "\x1b",
            "\x7f",
            "\x85",
            "\u00a0",
            "\u2028",
            "\u200b",
            "é",
        ]
    ),
    max_size=6,
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=12,
)


def _outcome(clean: Any, document: Any, field: str) -> Any:
    try:
        return ("ok", clean(document, field))
    except BadRequest as exc:  # ControlCharacter is one
        return (type(exc).__name__, exc.detail, getattr(exc, "field", None))


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_clean_text_answers_as_the_first_rule(document: Any) -> None:
    for field in ("", "credentialSubject"):
        for whole in (document, {"x": [document]}):
            assert _outcome(clean_text, whole, field) == _outcome(_reference_clean, whole, field)


def test_clean_text_refuses_deep_nesting_as_a_bad_request() -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = [deep]
    with pytest.raises(BadRequest, match="nested more than"):
        clean_text({"a": deep})


def test_pyld_and_rdfc_disagree_on_a_vertical_tab_and_agree_on_a_newline() -> None:
    """Why: the same document, canonicalised by PyLD and by RDFC-1.0."""
    context = {"d": "https://schema.org/description"}
    assert _pyld_nquads({"@context": context, "d": PASTED}) != canonicalize(
        {"@context": context, "d": PASTED}, terms_only=False
    )
    assert _pyld_nquads({"@context": context, "d": AS_LINES}) == canonicalize(
        {"@context": context, "d": AS_LINES}, terms_only=False
    )


# --- the OB API: single, bulk JSON, CSV ---------------------------------------------------------


def test_single_issue_turns_vertical_tab_and_form_feed_into_newlines(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    headers = make_issuer(services, client, "alpha")
    body = issue_body(narrative=PASTED, evidence=[{"name": "Plan", "narrative": PASTED}])
    response = client.post(ISSUE, json=body, headers=headers)
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["credentialSubject"]["narrative"] == AS_LINES
    assert document["evidence"][0]["narrative"] == AS_LINES
    report = verify_credential(document, fetcher=fetcher)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    unsigned = data_integrity.unsigned(document)
    assert _pyld_nquads(unsigned) == canonicalize(unsigned)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"recipient": {"email": "a@example.org", "name": "Kim\x01"}}, "recipient.name"),
        ({"recipient": {"email": "a@example.org", "name": "Kim\x0bMin-jun"}}, "recipient.name"),
        ({"narrative": "Done\x1b[31m"}, "narrative"),
        ({"evidence": [{"description": "back\bspace"}]}, "evidence.0.description"),
        ({"results": [{"value": "A\x7f"}]}, "results.0.value"),
    ],
    ids=["name-soh", "name-vt", "narrative-esc", "evidence-bs", "result-del"],
)
def test_single_issue_refuses_other_control_characters(
    client: TestClient, services: Services, edit: dict[str, Any], field: str
) -> None:
    headers = make_issuer(services, client, "alpha")
    response = client.post(ISSUE, json={**issue_body(), **edit}, headers=headers)
    body = _problem(response, 422, field)
    assert any(error["field"] == field for error in body["errors"]), body
    assert _issued(client, headers) == 0


def test_bulk_row_with_a_control_character_fails_alone(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "alpha")
    rows = [
        issue_body("a@example.org"),
        {**issue_body("b@example.org"), "recipient": {"email": "b@example.org", "name": "B\x01"}},
        issue_body("c@example.org", narrative=PASTED),
    ]
    report = client.post(f"{ISSUE}/bulk", json=rows, headers=headers)
    assert report.status_code == 200, report.text
    outcomes = report.json()["rows"]
    assert [row["status"] for row in outcomes] == ["issued", "error", "issued"]
    assert "recipient.name" in outcomes[1]["error"]
    assert _issued(client, headers) == 2
    listed = client.get(ISSUE, params={"email": "c@example.org"}, headers=headers).json()
    (item,) = listed["credentials"]
    document = client.get(f"/api/v1/credentials/{item['id']}", headers=headers).json()
    assert document["credentialSubject"]["narrative"] == AS_LINES


def test_csv_narrative_with_a_vertical_tab_is_issued_with_a_newline(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    headers = make_issuer(services, client, "alpha")
    csv = (
        "email,name,achievement,narrative\n"
        f'd@example.org,이서연,leading-people,"{PASTED}"\n'
        'e@example.org,"Jo\x01",leading-people,\n'
    ).encode()
    report = client.post(
        f"{ISSUE}/bulk", content=csv, headers={**headers, "Content-Type": "text/csv"}
    )
    assert report.status_code == 200, report.text
    outcomes = report.json()["rows"]
    assert [row["status"] for row in outcomes] == ["issued", "error"]
    assert "recipient.name" in outcomes[1]["error"]
    listed = client.get(ISSUE, params={"email": "d@example.org"}, headers=headers).json()
    (item,) = listed["credentials"]
    document = client.get(f"/api/v1/credentials/{item['id']}", headers=headers).json()
    assert document["credentialSubject"]["narrative"] == AS_LINES
    assert verify_credential(document, fetcher=fetcher).verdict is Verdict.VERIFIED


def test_achievement_text_is_cleaned_even_when_stored_before_the_rule(
    client: TestClient, services: Services
) -> None:
    """Text that reached the database by another way (an older Laurel, a seed, an import) is
    still cleaned, or refused, when it enters a credential."""
    headers = make_issuer(services, client, "alpha")
    with Session(services.engine) as db:
        achievement = db.exec(select(Achievement).where(Achievement.key == "leading-people")).one()
        achievement.data = {**achievement.data, "description": PASTED}
        db.add(achievement)
        db.commit()
    response = client.post(ISSUE, json=issue_body(), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["credentialSubject"]["achievement"]["description"] == AS_LINES
    with Session(services.engine) as db:
        achievement = db.exec(select(Achievement).where(Achievement.key == "leading-people")).one()
        achievement.data = {**achievement.data, "description": "bell\x07"}
        db.add(achievement)
        db.commit()
    refused = client.post(ISSUE, json=issue_body("b@example.org"), headers=headers)
    _problem(refused, 400, "credentialSubject.achievement.description", "U+0007")
    assert _issued(client, headers) == 1


def test_achievement_definitions_take_newlines_too(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "alpha")
    achievement = {
        "key": "pasted",
        "name": "Pasted",
        "description": PASTED,
        "criteria": PASTED,
        "achievementType": "Course",
    }
    created = client.post("/api/v1/issuers/alpha/achievements", json=achievement, headers=headers)
    assert created.status_code == 201, created.text
    issued = client.post(ISSUE, json=issue_body(achievement="pasted"), headers=headers)
    assert issued.status_code == 201, issued.text
    ob = issued.json()["credentialSubject"]["achievement"]
    assert ob["description"] == AS_LINES
    assert ob["criteria"]["narrative"] == AS_LINES
    bad = client.post(
        "/api/v1/issuers/alpha/achievements",
        json={**achievement, "key": "bad", "name": "Bad\x0c"},
        headers=headers,
    )
    _problem(bad, 422, "name")


# --- the VC-API ---------------------------------------------------------------------------------

VC_ISSUE = "/vc-api/issuers/w3c/credentials/issue"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


@pytest.fixture
def w3c(services: Services) -> tuple[str, dict[str, str]]:
    created = create_issuer(services, slug="w3c", name="W3C suites", did_method="key")
    key = create_api_key(services, "w3c", ["issue", "revoke", "read"])
    return created.did, {"Authorization": f"Bearer {key}"}


def _vc(did: str, subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": did,
        "credentialSubject": {"id": "did:example:alice", **subject},
    }


def test_vcapi_issue_turns_vertical_tab_and_form_feed_into_newlines(
    client: TestClient, w3c: tuple[str, dict[str, str]], fetcher: ClientFetcher
) -> None:
    did, headers = w3c
    sent = _vc(did, {"name": PASTED, "degree": {"type": "ExampleBachelorDegree", "name": "B\x0c"}})
    response = client.post(VC_ISSUE, json={"credential": sent}, headers=headers)
    assert response.status_code == 201, response.text
    signed = response.json()["verifiableCredential"]
    assert signed["credentialSubject"]["name"] == AS_LINES
    assert signed["credentialSubject"]["degree"]["name"] == "B\n"
    report = verify_credential(signed, fetcher=fetcher, profile="vc")
    assert report.verdict is Verdict.VERIFIED, report.to_dict()


@pytest.mark.parametrize(
    ("subject", "field"),
    [
        ({"name": "Alice\x01"}, "credentialSubject.name"),
        ({"degree": {"type": "ExampleBachelorDegree", "name": "\x1b"}}, "credentialSubject.degree"),
        ({"name\x02": "Alice"}, "credentialSubject.'name\\x02'"),
        ({"name": ["ok", "nul\x00"]}, "credentialSubject.name[1]"),
    ],
    ids=["value", "nested", "key", "list"],
)
def test_vcapi_issue_refuses_other_control_characters(
    client: TestClient,
    w3c: tuple[str, dict[str, str]],
    subject: dict[str, Any],
    field: str,
) -> None:
    did, headers = w3c
    response = client.post(VC_ISSUE, json={"credential": _vc(did, subject)}, headers=headers)
    _problem(response, 400, field, "control character")
