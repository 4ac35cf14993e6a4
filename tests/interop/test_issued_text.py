"""Text pasted with vertical tabs and form feeds, issued by Laurel, verified by DCC (Digital
Bazaar's stack, tests/interop/js): issuance turns them into newlines (issue 15, part 3), and the
signed documents verify there as they do in Laurel. The rules themselves, and PyLD's verdict,
are in tests/issuer/test_control_characters.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine
from issuer.core.settings import Settings
from tests.issuer.conftest import ACHIEVEMENT, BASE_URL, ClientFetcher
from tests.units import create_api_key, create_issuer
from verifier import Verdict, verify_credential

from .dcc import dcc_verify, ensure_node_modules

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are needed for the DCC harness",
)

PASTED = "First line\x0bsecond line\x0cthird line"
AS_LINES = "First line\nsecond line\nthird line"
NO_STATUS = "credentialStatus is not supported by this harness"
"""DCC's only complaint about a badge whose proof verified: the harness checks no status list
(tests/interop/js/dcc.mjs), and @digitalbazaar/vc checks status only after the proof."""


@pytest.fixture(scope="module", autouse=True)
def _node_modules() -> None:
    ensure_node_modules()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TestClient, Services]]:
    """Laurel on a SQLite file (DCC's verdict does not depend on the database)."""
    url = f"sqlite:///{tmp_path / 'laurel.db'}"
    settings = Settings(
        database_url=url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url=BASE_URL,
    )
    engine = make_engine(url)
    services = Services.from_settings(settings, engine)
    with TestClient(create_app(services=services)) as client:
        yield client, services
    engine.dispose()


def _did_key_issuer(app: tuple[TestClient, Services], slug: str) -> tuple[str, dict[str, str]]:
    client, services = app
    created = create_issuer(services, slug=slug, name="HRD Institute", did_method="key")
    headers = {"Authorization": f"Bearer {create_api_key(services, slug, ['admin'])}"}
    response = client.post(
        f"/api/v1/issuers/{slug}/achievements", json=ACHIEVEMENT, headers=headers
    )
    assert response.status_code == 201, response.text
    return created.did, headers


def test_badge_with_pasted_line_breaks_verifies_in_dcc(app: tuple[TestClient, Services]) -> None:
    client = app[0]
    _, headers = _did_key_issuer(app, "alpha")
    body: dict[str, Any] = {
        "recipient": {"email": "learner@example.org", "name": "Kim Min-jun"},
        "achievement": "leading-people",
        "narrative": PASTED,
        "evidence": [{"name": "Plan", "description": PASTED}],
    }
    response = client.post("/api/v1/issuers/alpha/credentials", json=body, headers=headers)
    assert response.status_code == 201, response.text
    badge = response.json()
    assert badge["credentialSubject"]["narrative"] == AS_LINES
    assert badge["evidence"][0]["description"] == AS_LINES
    assert dcc_verify(badge) == (False, [NO_STATUS])
    changed = {**badge, "credentialSubject": {**badge["credentialSubject"], "narrative": PASTED}}
    verified, errors = dcc_verify(changed)
    assert not verified and NO_STATUS not in errors  # the proof itself fails now
    report = verify_credential(badge, fetcher=ClientFetcher(client))
    assert report.verdict is Verdict.VERIFIED, report.to_dict()


def test_vcapi_credential_with_pasted_line_breaks_verifies_in_dcc(
    app: tuple[TestClient, Services],
) -> None:
    """A VCDM 1.1 credential gets no status entry, so DCC gives its whole verdict."""
    client = app[0]
    did, headers = _did_key_issuer(app, "w3c")
    credential = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            {"@vocab": "https://university.example/vocab#"},
        ],
        "type": ["VerifiableCredential", "UniversityDegreeCredential"],
        "issuer": did,
        "issuanceDate": "2026-01-15T09:00:00Z",
        "credentialSubject": {
            "id": "did:example:alice",
            "degree": {"type": "BachelorDegree", "name": PASTED},
        },
    }
    response = client.post(
        "/vc-api/issuers/w3c/credentials/issue", json={"credential": credential}, headers=headers
    )
    assert response.status_code == 201, response.text
    signed = response.json()["verifiableCredential"]
    assert signed["credentialSubject"]["degree"]["name"] == AS_LINES
    assert dcc_verify(signed) == (True, [])


def test_korean_catalogue_badge_verifies_in_dcc(app: tuple[TestClient, Services]) -> None:
    """A Korean-language issuer's catalogue badge (issue 17): Korean name, description and
    criteria, ``inLanguage: "ko"``; DCC verifies its proof as Laurel does."""
    from tests.units import load_templates

    client, services = app
    _, headers = _did_key_issuer(app, "nhi")
    put = client.put("/api/v1/issuers/nhi/emails", json={"language": "ko"}, headers=headers)
    assert put.status_code == 200, put.text
    load_templates(services, "nhi")
    body = {"recipient": {"email": "kim@example.org"}, "achievement": "lead-supervisor-certificate"}
    response = client.post("/api/v1/issuers/nhi/credentials", json=body, headers=headers)
    assert response.status_code == 201, response.text
    badge = response.json()
    achievement = badge["credentialSubject"]["achievement"]
    assert achievement["name"] == "LEAD 인증: 감독자" and achievement["inLanguage"] == "ko"
    assert dcc_verify(badge) == (False, [NO_STATUS])
    renamed = {**achievement, "name": "LEAD 인증: 관리자"}
    changed = {**badge, "credentialSubject": {**badge["credentialSubject"], "achievement": renamed}}
    verified, errors = dcc_verify(changed)
    assert not verified and NO_STATUS not in errors  # the Korean text is signed
    report = verify_credential(badge, fetcher=ClientFetcher(client))
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
