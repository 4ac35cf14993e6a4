"""Service fixtures; ``database_url`` (SQLite and PostgreSQL) is in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine
from issuer.core.settings import Settings
from tests.units import create_api_key, create_issuer
from verifier.errors import FetchError

BASE_URL = "https://laurel.test"


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url=BASE_URL,
    )
    engine = make_engine(database_url)
    yield Services.from_settings(settings, engine)
    engine.dispose()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as test_client:
        yield test_client


class ClientFetcher:
    """The verifier's fetcher, answering https://laurel.test/… from the app under test."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if not url.startswith(BASE_URL + "/"):
            raise FetchError(url, "unreachable in tests")
        response = self.client.get(url.removeprefix(BASE_URL))
        if response.status_code != 200:
            raise FetchError(url, f"HTTP {response.status_code}")
        return response.content


@pytest.fixture
def fetcher(client: TestClient) -> ClientFetcher:
    return ClientFetcher(client)


ACHIEVEMENT = {
    "key": "leading-people",
    "name": "Leading People",
    "description": "LEAD Certificate Program course on leading people.",
    "criteria": "Attend every session and pass the assessment.",
    "achievementType": "Course",
    "creditsAvailable": 24,
    "tags": ["leadership"],
    "alignments": [
        {
            "targetName": "Team Building",
            "targetUrl": f"{BASE_URL}/frameworks/ecq/ECQ2-4",
            "targetCode": "ECQ2-4",
            "targetFramework": "Executive Core Qualifications",
            "targetType": "ceasn:Competency",
        }
    ],
}


def make_issuer(
    services: Services,
    client: TestClient,
    slug: str,
    scopes: tuple[str, ...] = ("issue", "revoke", "read", "admin"),
) -> dict[str, Any]:
    """An issuer with an achievement and an API key; returns headers for requests."""
    create_issuer(
        services, slug=slug, name=f"{slug.upper()} Institute", url=f"https://{slug}.example.org"
    )
    key = create_api_key(services, slug, ["admin"])
    headers = {"Authorization": f"Bearer {key}"}
    response = client.post(
        f"/api/v1/issuers/{slug}/achievements", json=ACHIEVEMENT, headers=headers
    )
    assert response.status_code == 201, response.text
    if scopes != ("issue", "revoke", "read", "admin"):
        headers = {"Authorization": f"Bearer {create_api_key(services, slug, list(scopes))}"}
    return headers


def issue_body(email: str = "learner@example.org", **extra: Any) -> dict[str, Any]:
    return {
        "recipient": {"email": email, "name": "Kim Min-jun"},
        "achievement": "leading-people",
        **extra,
    }
