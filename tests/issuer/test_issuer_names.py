"""An issuer's name and website are its own on the instance: no issuer takes another's name
(compared case-insensitively, whitespace collapsed, NFKC) or website origin, on create or on
update, and none signs another's name or website into a credential through the VC-API (audit
round 5: a tenant renamed itself to another tenant's name and website, and the instance's trust
list then vouched for it under that name)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select
from typer.testing import CliRunner

from issuer.cli import app
from issuer.context import Services
from issuer.core.errors import Conflict
from issuer.effects import work
from issuer.institutes import issuers
from issuer.models import Issuer
from tests.issuer.conftest import issue_body, make_issuer
from tests.issuer.test_issuing_lock_order import GUARD, _someone_waits_for_a_lock, _until
from tests.units import create_issuer

GOOD = {"name": "GOOD Institute", "url": "https://good.example.org"}


@pytest.fixture
def tenants(client: TestClient, services: Services) -> dict[str, str]:
    """Headers of evil's admin key; good exists as ``GOOD Institute``, https://good.example.org."""
    evil = make_issuer(services, client, "evil")
    make_issuer(services, client, "good")
    return evil


@pytest.mark.parametrize(
    "change",
    [
        {"name": "GOOD Institute"},
        {"name": "good institute"},
        {"name": "  GOOD \u00a0 Institute "},  # a no-break space too
        {"name": "ＧＯＯＤ Institute"},  # full-width letters, the same under NFKC
        # drawn like it (audit round 6): invisible characters, a Cyrillic letter, accents
        {"name": "GOOD Insti\u200btute"},  # a zero-width space
        {"name": "GOOD Insti\u2060tute"},  # a word joiner
        {"name": "GOOD Insti\u00adtute"},  # a soft hyphen
        {"name": "G\u041e\u041eD Institute"},  # Cyrillic capital O, twice
        {"name": "GOOD Ínstitute"},
        {"name": "G00D Institute"},  # zeros
        {"url": "https://good.example.org."},
        {"url": "https://good.example.org"},
        {"url": "https://GOOD.example.org:443/about"},
        {"url": "https://www.good.example.org"},
        GOOD,
    ],
)
def test_an_issuer_cannot_take_another_issuers_name_or_website(
    client: TestClient, tenants: dict[str, str], change: dict[str, str]
) -> None:
    response = client.patch("/api/v1/issuers/evil", json=change, headers=tenants)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "another issuer" in response.json()["detail"]
    registry = client.get("/trust/registry.json").json()["registry"]
    assert registry["did:web:laurel.test:issuers:evil"] == {
        "name": "EVIL Institute",
        "url": "https://evil.example.org",
    }


@pytest.mark.parametrize(
    "name",
    [
        "\u202eetutitsnI DOOG\u202c",  # a right-to-left override: drawn "GOOD Institute"
        "\u2067etutitsnI DOOG\u2069",  # a right-to-left isolate
        "GOOD Institute\u200f",  # a right-to-left mark
        "\u202bEVIL Institute\u202c",  # an embedding
    ],
)
def test_a_name_with_a_direction_control_is_refused(
    client: TestClient, tenants: dict[str, str], name: str
) -> None:
    """Audit 10: a name written backwards after a right-to-left override has another key
    (``name_key`` keeps the stored order) but is drawn as another issuer's name."""
    response = client.patch("/api/v1/issuers/evil", json={"name": name}, headers=tenants)
    assert response.status_code == 422, response.text
    assert "direction overrides" in response.text
    vcapi = client.post(
        "/vc-api/issuers/evil/credentials/issue",
        json={
            "credential": _vcapi_credential(
                {"id": "did:web:laurel.test:issuers:evil", "name": name}
            )
        },
        headers=tenants,
    )
    assert vcapi.status_code == 400, vcapi.text
    assert "bidirectional control" in vcapi.json()["detail"]
    registry = client.get("/trust/registry.json").json()["registry"]
    assert registry["did:web:laurel.test:issuers:evil"]["name"] == "EVIL Institute"


def test_an_issuer_may_keep_or_recase_its_own_name_and_website(
    client: TestClient, tenants: dict[str, str]
) -> None:
    same = {"name": "Evil  institute", "url": "https://evil.example.org/home"}
    response = client.patch("/api/v1/issuers/evil", json=same, headers=tenants)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Evil  institute"
    other = {"name": "Goodly Institute", "url": "https://goodly.example.org"}
    assert client.patch("/api/v1/issuers/evil", json=other, headers=tenants).status_code == 200


def test_a_renamed_issuers_badges_do_not_verify_under_anothers_name(
    client: TestClient, tenants: dict[str, str]
) -> None:
    client.patch("/api/v1/issuers/evil", json=GOOD, headers=tenants)
    issued = client.post("/api/v1/issuers/evil/credentials", json=issue_body(), headers=tenants)
    report = client.post("/api/v1/verify", content=json.dumps(issued.json())).json()
    assert report["issuerIdentity"]["evidence"]["entry"]["name"] == "EVIL Institute"


def test_creating_an_issuer_with_anothers_name_or_website_is_refused(
    services: Services,
) -> None:
    create_issuer(services, slug="good", **GOOD)
    with pytest.raises(Conflict, match="another issuer"):
        create_issuer(services, slug="evil", name="good  INSTITUTE")
    with pytest.raises(Conflict, match="another issuer"):
        create_issuer(services, slug="evil", name="Evil", url="https://good.example.org/x")
    create_issuer(services, slug="evil", name="Evil", url="https://evil.example.org")


def test_the_command_line_refuses_anothers_name(database_url: str, tmp_path: Path) -> None:
    env = {
        "LAUREL_DATABASE_URL": database_url,
        "LAUREL_KEYS_DIR": str(tmp_path / "keys"),
        "LAUREL_KEY_PASSPHRASE": "cli-test-passphrase",
        "LAUREL_BASE_URL": "https://laurel.test",
    }

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, list(args), env=env)

    assert run("issuer", "create", "--slug", "good", "--name", "GOOD Institute").exit_code == 0
    again = run("issuer", "create", "--slug", "evil", "--name", "Good Institute")
    assert again.exit_code == 1 and "another issuer" in again.output, again.output
    assert run("issuer", "create", "--slug", "evil", "--name", "Evil").exit_code == 0
    renamed = run("issuer", "update", "--slug", "evil", "--name", "GOOD  Institute")
    assert renamed.exit_code == 1 and "another issuer" in renamed.output, renamed.output


def _vcapi_credential(issuer: Any) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
    }


@pytest.mark.parametrize(
    ("claims", "field"),
    [
        ({"name": "GOOD Institute"}, "issuer.name"),
        ({"name": " good   institute"}, "issuer.name"),
        ({"name": {"@value": "GOOD Institute", "@language": "en"}}, "issuer.name"),
        ({"name": [{"@value": "Evil", "@language": "en"}, {"@value": "Good Institute"}]}, "name"),
        ({"url": "https://good.example.org/"}, "issuer.url"),
        ({"name": "EVIL Institute", "url": "https://www.good.example.org"}, "issuer.url"),
        ({"name": {"name": "GOOD Institute"}}, "issuer.name"),  # a summary shows it as the name
        ({"name": "GOOD Inst\u200bitute"}, "issuer.name"),
    ],
)
def test_the_vc_api_does_not_sign_another_issuers_name_or_website(
    client: TestClient, tenants: dict[str, str], claims: dict[str, Any], field: str
) -> None:
    issuer = {"id": "did:web:laurel.test:issuers:evil", **claims}
    response = client.post(
        "/vc-api/issuers/evil/credentials/issue",
        json={"credential": _vcapi_credential(issuer)},
        headers=tenants,
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert field in detail and "another issuer" in detail, detail


@pytest.mark.parametrize(
    "claims",
    [
        {"name": "EVIL Institute", "url": "https://evil.example.org"},
        {"name": "evil institute"},
        # what the W3C VCDM 2.0 suite sends (names and descriptions, §4.6): names of its own
        {"name": "ExampleIssuer"},
        {"name": {"@value": "ExampleIssuer", "@language": "en", "@direction": "ltr"}},
        {"name": [{"@value": "Dog", "@language": "en"}, {"@value": "Chien", "@language": "fr"}]},
        {"description": "GOOD Institute"},
        {},
    ],
)
def test_the_vc_api_signs_the_issuers_own_or_unclaimed_names(
    client: TestClient, tenants: dict[str, str], claims: dict[str, Any]
) -> None:
    issuer = {"id": "did:web:laurel.test:issuers:evil", **claims}
    response = client.post(
        "/vc-api/issuers/evil/credentials/issue",
        json={"credential": _vcapi_credential(issuer)},
        headers=tenants,
    )
    assert response.status_code == 201, response.text
    assert response.json()["verifiableCredential"]["issuer"] == issuer


def test_a_website_is_compared_by_the_name_that_is_looked_up(
    client: TestClient, services: Services
) -> None:
    """A domain written in Korean and its ASCII (IDNA) form are one website."""
    snu = make_issuer(services, client, "snu")
    changed = client.patch(
        "/api/v1/issuers/snu", json={"url": "https://서울대학교.kr"}, headers=snu
    )
    assert changed.status_code == 200, changed.text
    evil = make_issuer(services, client, "evil")
    for url in ("https://xn--9d0bw1iuxneofbpu.kr", "https://www.서울대학교.kr/about"):
        response = client.patch("/api/v1/issuers/evil", json={"url": url}, headers=evil)
        assert response.status_code == 409, (url, response.text)


def test_two_issuers_created_at_once_cannot_both_take_one_name(services: Services) -> None:
    """The check and the write are one step for every creator: a second creation waits for the
    first's transaction and then sees its name (audit round 7 left this a race on PostgreSQL:
    both read no such name, both committed)."""
    outcome: dict[str, str] = {}

    def second() -> None:
        try:
            create_issuer(services, slug="twin-b", name="twin  INSTITUTE")
            outcome["second"] = "created"
        except Conflict:
            outcome["second"] = "refused"

    racing = threading.Thread(target=second)
    with work(services) as db:
        issuers.create_issuer(db, services, slug="twin-a", name="Twin Institute")
        racing.start()
        if services.engine.dialect.name == "postgresql":
            _until(lambda: _someone_waits_for_a_lock(services))
        # on SQLite the second's BEGIN IMMEDIATE waits for this transaction's write lock
    racing.join(GUARD)
    assert outcome == {"second": "refused"}
    with work(services) as db:
        names = db.exec(select(Issuer.name).where(col(Issuer.slug).like("twin-%"))).all()
    assert names == ["Twin Institute"]
