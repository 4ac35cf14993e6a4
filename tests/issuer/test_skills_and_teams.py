"""The skills cloud (valid credentials only) and team formation (exact, against brute force)."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.context import Services
from issuer.skills.cloud import level
from issuer.skills.teams import smallest_team
from tests.issuer.conftest import ACHIEVEMENT, issue_body, make_issuer

SECOND = {
    **ACHIEVEMENT,
    "key": "strategic-thinking",
    "name": "Strategic Thinking",
    "achievementType": "Certification",
    "creditsAvailable": 40,
    "alignments": [
        {
            "targetName": "Strategic Thinking",
            "targetCode": "ECQ1-5",
            "targetUrl": "https://laurel.test/frameworks/ecq/ECQ1-5",
        },
        {
            "targetName": "Data Literacy",
            "targetCode": "data-literacy",
            "targetFramework": "ESCO",
            "targetUrl": "https://esco.example/skill/1",
        },
    ],
}


def _issue(client: TestClient, headers: dict[str, str], email: str, key: str, **extra: Any) -> str:
    response = client.post(
        "/api/v1/issuers/hrd/credentials",
        json=issue_body(email, achievement=key, **extra),
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_cloud_counts_valid_credentials_only(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "hrd")
    client.post("/api/v1/issuers/hrd/achievements", json=SECOND, headers=headers)
    _issue(client, headers, "a@example.org", "leading-people")
    _issue(client, headers, "b@example.org", "leading-people")
    _issue(client, headers, "b@example.org", "strategic-thinking")
    revoked = _issue(client, headers, "c@example.org", "strategic-thinking")
    client.post(f"/api/v1/credentials/{revoked}/revoke", json={"reason": "x"}, headers=headers)
    _issue(
        client,
        headers,
        "d@example.org",
        "strategic-thinking",
        validFrom="2020-01-01T00:00:00Z",
        validUntil="2021-01-01T00:00:00Z",
    )
    cloud = {
        (s["framework"], s["code"]): s
        for s in client.get("/api/v1/issuers/hrd/skills", headers=headers).json()["skills"]
    }
    assert cloud[("ecq", "ECQ2-4")]["learners"] == 2
    assert cloud[("ecq", "ECQ1-5")]["learners"] == 1  # revoked and expired ones drop out
    assert cloud[("ESCO", "data-literacy")]["learners"] == 1  # external frameworks are kept
    # a 40-hour certification weighs more than a 24-hour course
    assert cloud[("ecq", "ECQ1-5")]["weight"] > cloud[("ecq", "ECQ2-4")]["weight"] / 2


def test_team_endpoint(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "hrd")
    client.post("/api/v1/issuers/hrd/achievements", json=SECOND, headers=headers)
    _issue(client, headers, "a@example.org", "leading-people")
    _issue(client, headers, "b@example.org", "strategic-thinking")
    _issue(client, headers, "c@example.org", "leading-people")
    _issue(client, headers, "c@example.org", "strategic-thinking")
    team = client.post(
        "/api/v1/issuers/hrd/teams",
        headers=headers,
        json={"skills": ["ECQ2-4", {"code": "ECQ1-5"}, "ECQ9-9"]},
    ).json()
    assert [m["email"] for m in team["members"]] == ["c@example.org"]
    assert team["covered"] == ["ECQ2-4", "ECQ1-5"] and team["uncovered"] == ["ECQ9-9"]
    assert team["exact"] is True
    without_c = client.post(
        "/api/v1/issuers/hrd/teams",
        headers=headers,
        json={"skills": ["ECQ2-4", "ECQ1-5"], "exclude": ["c@example.org"]},
    ).json()
    assert sorted(m["email"] for m in without_c["members"]) == ["a@example.org", "b@example.org"]
    strict = client.post(
        "/api/v1/issuers/hrd/teams",
        headers=headers,
        json={"skills": [{"code": "ECQ2-4", "minLevel": 5}]},
    ).json()
    assert strict["members"] == [] and strict["uncovered"] == ["ECQ2-4"]
    bad = client.post("/api/v1/issuers/hrd/teams", headers=headers, json={"skills": []})
    assert bad.status_code == 422


def test_levels() -> None:
    # levels need accumulated evidence (docs/skills.md): thresholds 3, 6, 10 and 16
    weights = (0, 0.5, 1, 2.99, 3, 5.99, 6, 9.99, 10, 15.99, 16, 100)
    assert [level(w) for w in weights] == [0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 9), st.frozensets(st.sampled_from("abcdef"), max_size=4), max_size=9
    ),
    st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=6, unique=True),
)
def test_smallest_team_matches_brute_force(
    abilities: dict[int, frozenset[str]], wanted: list[str]
) -> None:
    result = smallest_team(abilities, wanted)
    coverable = {s for s in wanted if any(s in a for a in abilities.values())}
    assert set(result.covered) == coverable
    assert set(result.uncovered) == set(wanted) - coverable
    best = None
    for size in range(len(abilities) + 1):
        for team in itertools.combinations(sorted(abilities), size):
            if coverable <= set().union(*(abilities[p] for p in team)):
                best = size
                break
        if best is not None:
            break
    assert len(result.members) == best


def test_cloud_pictures(client: TestClient, services: Services) -> None:
    import io
    from xml.etree import ElementTree

    from PIL import Image

    from issuer.artifacts.cloud import Word, cloud_png, layout

    headers = make_issuer(services, client, "hrd")
    _issue(client, headers, "a@example.org", "leading-people")
    svg = client.get("/api/v1/issuers/hrd/skills.svg", headers=headers)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    texts = list(ElementTree.fromstring(svg.content).itertext())  # well-formed XML
    assert "Team Building" in texts
    png = client.get("/api/v1/issuers/hrd/skills.png", headers=headers)
    assert Image.open(io.BytesIO(png.content)).size == (800, 500)
    assert client.get("/api/v1/issuers/hrd/skills.gif", headers=headers).status_code == 404
    words = [
        Word("리더십", 5, "ecq"),
        Word("Strategic Thinking", 3, "ecq"),
        Word("데이터 리터러시", 2, "dl"),
        Word("<&>", 1, "esco"),
    ]
    first, second = layout(words), layout(list(reversed(words)))
    assert first == second and len(first) == 4  # deterministic, whatever the input order
    for a in first:  # no overlaps
        for b in first:
            if a is not b:
                assert (
                    a.x + a.width <= b.x
                    or b.x + b.width <= a.x
                    or a.y + a.height <= b.y
                    or b.y + b.height <= a.y
                )
    assert cloud_png(words) == cloud_png(words)


def test_rising_overlay(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "hrd")
    answer = client.get("/api/v1/issuers/hrd/skills", headers=headers).json()
    rising = answer["rising"]
    assert rising, "the AI model has skills whose importance rises"
    for item in rising:
        assert item["importanceFuture"] < (item["importanceCurrent"] or 10**6)
        assert item["learners"] < 3
    assert [i["importanceFuture"] for i in rising] == sorted(i["importanceFuture"] for i in rising)


def test_the_svg_pictures_stay_readable_xml_whatever_the_names() -> None:
    """Skill names come from imported badges' alignments: control characters (which XML
    forbids) are dropped and quotes escaped, so the picture is never broken (audit round 7)."""
    from xml.etree import ElementTree

    from issuer.artifacts.cloud import Word, cloud_svg, profile_bars_svg

    hostile = 'Data\x01 "analysis" <b>&\x7f\ufffe'
    cloud = cloud_svg([Word(hostile, 3.0, "ai"), Word("Leading people", 2.0, "ecq")])
    texts = [e.text for e in ElementTree.fromstring(cloud).iter() if e.text and e.text.strip()]
    assert 'Data "analysis" <b>&\x7f' in texts
    bars = profile_bars_svg(f'Kim "{hostile}"', [(hostile, 2, 3)])
    root = ElementTree.fromstring(bars)
    assert root.get("aria-label") == 'Kim "Data "analysis" <b>&\x7f"'
