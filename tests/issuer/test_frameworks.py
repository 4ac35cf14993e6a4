"""Skill pages (the targets of alignments) and the programmes endpoint."""

from __future__ import annotations

from fastapi.testclient import TestClient

from issuer.context import Services
from tests.units import create_api_key, create_issuer, load_templates


def test_skill_pages_resolve_every_catalogue_alignment(
    client: TestClient, services: Services
) -> None:
    create_issuer(services, slug="hrd", name="HRD")
    load_templates(services, "hrd")
    key = create_api_key(services, "hrd", ["read"])
    achievements = client.get(
        "/api/v1/issuers/hrd/achievements", headers={"Authorization": f"Bearer {key}"}
    ).json()["achievements"]
    urls = {
        a["targetUrl"]
        for item in achievements
        for a in item.get("alignment", [])
        if a["targetUrl"].startswith("https://laurel.test/frameworks/")
    }
    assert len(urls) > 40
    for url in urls:
        page = client.get(url.removeprefix("https://laurel.test"))
        assert page.status_code == 200, url
    ecq = client.get("/frameworks/ecq/ECQ1", headers={"Accept": "application/json"}).json()
    assert ecq["name"] and ecq["narrower"] and ecq["framework"]["id"] == "ecq"
    html = client.get("/frameworks/ecq/ECQ1").text
    assert ecq["name"] in html and "Competencies" in html
    assert client.get("/frameworks/ecq/NOPE").status_code == 404
    assert (
        client.get("/frameworks/nope/X", headers={"Accept": "application/json"}).status_code == 404
    )


def test_programs_endpoint(client: TestClient, services: Services) -> None:
    create_issuer(services, slug="hrd", name="HRD")
    key = create_api_key(services, "hrd", ["read"])
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/issuers/hrd/programs", headers=headers).json() == {"programs": []}
    load_templates(services, "hrd")
    programs = client.get("/api/v1/issuers/hrd/programs", headers=headers).json()["programs"]
    lead = [p for p in programs if p["id"].startswith("lead-")]
    assert len(lead) == 4
    for program in lead:
        assert len(program["required"]) == 2 and program["electivesNeeded"] == 3
        assert all(
            i.startswith("https://laurel.test/issuers/hrd/achievements/")
            for i in [*program["required"], *program["electives"], program["award"]]
        )
