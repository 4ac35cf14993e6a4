"""The catalogue in Korean and faithful to its sources (issue 17): Korean names and descriptions
for every item, IBM's five badge areas, OPM's own definitions, "modelled on" wording for the
US programmes, Korean pages and a Korean-language issuer's credentials."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.catalogue import BADGE_AREAS, CatalogueError, load_catalogue
from issuer.context import Services
from issuer.skills.targets import TARGETS, load_targets
from tests.issuer.conftest import ClientFetcher
from tests.units import create_api_key, create_issuer, load_templates
from verifier import Verdict, verify_credential

CATALOGUE = load_catalogue()
HANGUL = re.compile(r"[\uac00-\ud7a3]")
STUDY = Path(__file__).resolve().parents[2] / "../shared/seeds/002_0f0c18ad15894d88.txt"


def _items() -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for framework in CATALOGUE.frameworks:
        items.append((f"framework {framework.id}", framework))
        items += [(f"skill {framework.id}/{s.code}", s) for s in framework.skills]
    items += [(f"achievement {a.key}", a) for a in CATALOGUE.achievements]
    items += [(f"programme {p.id}", p) for p in CATALOGUE.programs]
    return items


# Korean names and descriptions ----------------------------------------------------------------


def test_every_item_has_a_korean_name_and_description() -> None:
    items = _items()
    assert len(items) > 170
    for label, item in items:
        assert HANGUL.search(item.name_ko), label
        assert HANGUL.search(item.description_ko), label
    for achievement in CATALOGUE.achievements:
        assert HANGUL.search(achievement.criteria_ko), achievement.key
    for target in load_targets(CATALOGUE).values():
        assert HANGUL.search(target["name_ko"]) and HANGUL.search(target["description_ko"])


def test_translations_are_marked_and_korean_originals_are_not() -> None:
    assert CATALOGUE.skill("ecq", "ECQ1").translated
    assert CATALOGUE.skill("ecq", "ECQ1").name_ko == "변화 선도"
    assert CATALOGUE.framework("ecq").name_ko.startswith("고위공무원단")
    qualification = CATALOGUE.achievement("engineer-information-processing")
    assert qualification.name_ko == "정보처리기사" and not qualification.translated
    assert CATALOGUE.achievement("ongoing-learning-annual").name_ko == "상시학습 연간 이수"


def test_korean_is_short_and_unmarked_only_where_the_source_is_korean() -> None:
    """Every short description is short (a line on a page, not the definition translated); the
    Korean is marked as Laurel's translation everywhere except where the source itself is Korean:
    the Korean national qualifications (Q-Net's names) and the Ongoing Learning System's own
    badges. The frameworks, their skills and the programmes all come from English sources."""
    for label, item in _items():
        assert len(item.description_ko) <= 120, label
        assert item.name_ko != item.name, label
    originals = {label for label, item in _items() if not item.translated}
    qualifications = {
        f"achievement {a.key}"
        for a in CATALOGUE.achievements
        if a.achievement_type == "Certification"
    }
    assert qualifications and qualifications <= originals
    for label in originals - qualifications:
        assert label.startswith("achievement "), label
        assert CATALOGUE.achievement(label.split(" ", 1)[1]).badge_area == "general", label
    assert all(p.translated for p in CATALOGUE.programs)
    assert all(f.translated and all(s.translated for s in f.skills) for f in CATALOGUE.frameworks)


def test_an_item_without_korean_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "catalogue"
    for sub in ("frameworks", "achievements", "programs"):
        (root / sub).mkdir(parents=True)
    (root / "frameworks/f.toml").write_text(
        'id = "f"\nname = "F"\nname_ko = "에프"\ndescription = "d"\nsource = "s"\n'
        '[[skills]]\ncode = "S"\nname = "S"\ndefinition = "d"\ndescription_ko = "설명"\n',
        "utf-8",
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(root)
    message = str(caught.value)
    assert "f.toml" in message and "skills.0.name_ko" in message and "description_ko" in message


def test_a_target_without_korean_is_refused(tmp_path: Path) -> None:
    text = (TARGETS / "targets.toml").read_text("utf-8")
    (tmp_path / "targets.toml").write_text(
        text.replace('name_ko = "고위공무원단: 핵심역량"\n', ""), "utf-8"
    )
    with pytest.raises(ValueError, match="ses-ecq"):
        load_targets(CATALOGUE, tmp_path)


# IBM's five badge areas -----------------------------------------------------------------------


def test_every_achievement_is_in_one_of_ibms_five_badge_areas() -> None:
    assert BADGE_AREAS == ("knowledge", "skills", "proficiency", "qualifications", "general")
    areas = {a.key: a.badge_area for a in CATALOGUE.achievements}
    assert set(areas.values()) == set(BADGE_AREAS)  # every area is used
    certifications = [a for a in CATALOGUE.achievements if a.achievement_type == "Certification"]
    assert all(areas[a.key] == "qualifications" for a in certifications)
    assert all(areas[p.award] == "proficiency" for p in CATALOGUE.programs)
    informal = [a for a in CATALOGUE.achievements if a.achievement_type == "ext:InformalLearning"]
    assert informal and all(areas[a.key] == "general" for a in informal)


def test_an_unknown_badge_area_is_refused(tmp_path: Path) -> None:
    import shutil

    from issuer.catalogue import DEFAULT_PATH

    root = tmp_path / "catalogue"
    shutil.copytree(DEFAULT_PATH, root)
    path = root / "achievements/lead.toml"
    path.write_text(path.read_text("utf-8").replace('"proficiency"', '"mastery"', 1), "utf-8")
    with pytest.raises(CatalogueError, match=r"lead\.toml.*badge_area"):
        load_catalogue(root)


# Faithful to the sources ----------------------------------------------------------------------

DECISIVENESS = (
    "Makes well-informed, effective, and timely decisions, even when data are limited or "
    "solutions produce unpleasant consequences; perceives the impact and implications of "
    "decisions."
)
HUMAN_CAPITAL = (
    "Builds and manages workforce based on organizational goals, budget considerations, and "
    "staffing needs. Ensures that employees are appropriately recruited, selected, appraised, "
    "and rewarded; takes action to address performance problems. Manages a multi-sector "
    "workforce and a variety of work situations."
)


def test_ecq_definitions_are_opms_own_wording() -> None:
    assert CATALOGUE.skill("ecq", "ECQ3-3").definition == DECISIVENESS
    assert CATALOGUE.skill("ecq", "ECQ4-2").definition == HUMAN_CAPITAL
    reading = CATALOGUE.skill("ai-competency", "reading").definition
    assert reading == CATALOGUE.skill("ai-competency", "reading-comprehension").definition
    assert reading.startswith("Understands and interprets written material")


@pytest.mark.skipif(not STUDY.exists(), reason="the study (../shared/seeds) is not beside us")
@pytest.mark.parametrize("framework", ["ecq", "ai-competency"])
def test_every_definition_is_quoted_from_the_study(framework: str) -> None:
    """Word for word, except the extraction typos the framework file names."""
    study = " ".join(STUDY.read_text("utf-8").split())
    for old, new in (
        ("highquality", "high-quality"),
        ("delegates' work", "delegates work"),
        ("Models' high", "Models high"),
        ("reasonal", "reasonable"),
    ):
        study = study.replace(old, new)
    for skill in CATALOGUE.framework(framework).skills:
        assert skill.definition.rstrip(".") in study, skill.code


def test_us_programmes_are_modelled_on_never_presented_as_their_own() -> None:
    foreign = [p for p in CATALOGUE.programs if p.id.startswith(("lead-", "leadership-for"))]
    assert len(foreign) == 5
    keys = {k for p in foreign for k in (*p.required, p.award)}
    for program in foreign:
        assert "modelled on" in program.description and "not " in program.description
        assert "본뜬" in program.description_ko
    for key in keys:
        achievement = CATALOGUE.achievement(key)
        assert "modelled on" in achievement.description.lower(), key
        assert "본뜬" in achievement.description_ko, key


# Korean pages ---------------------------------------------------------------------------------


def test_skill_page_in_korean(client: TestClient, services: Services) -> None:
    korean = client.get("/frameworks/ecq/ECQ1", params={"lang": "ko"}).text
    assert '<h1 id="skill-title" lang="ko">변화 선도' in korean
    assert "고위공무원단 핵심역량" in korean and "(번역)" in korean
    assert "창의성과 혁신" in korean
    english = client.get("/frameworks/ecq/ECQ1", params={"lang": "en"}).text
    assert '<h1 id="skill-title">Leading Change' in english and "(번역)" not in english
    course = client.get("/frameworks/ecq/ECQ3-1", params={"lang": "ko"}).text
    assert "성과에 대한 책임" in course and "기술" in course  # its badge area, in Korean
    data = client.get("/frameworks/ecq/ECQ3-3", headers={"Accept": "application/json"}).json()
    assert data["nameKo"] == "결단력" and data["definition"] == DECISIVENESS
    assert data["framework"]["nameKo"] == "고위공무원단 핵심역량(ECQ)"
    assert {a["badgeArea"] for a in data["achievements"]} <= set(BADGE_AREAS)


def test_achievements_api_gives_each_its_badge_area(client: TestClient, services: Services) -> None:
    create_issuer(services, slug="hrd", name="HRD")
    load_templates(services, "hrd")
    key = create_api_key(services, "hrd", ["read"])
    listed = client.get(
        "/api/v1/issuers/hrd/achievements", headers={"Authorization": f"Bearer {key}"}
    ).json()["achievements"]
    areas = {a["key"]: a["badgeArea"] for a in listed}
    assert len(areas) == len(CATALOGUE.achievements)
    assert areas["engineer-big-data-analysis"] == "qualifications"
    assert areas["workplace-mentor"] == "general"


# A Korean-language issuer's credentials -------------------------------------------------------


def test_korean_issuer_issues_korean_achievements_that_verify(
    client: TestClient, services: Services
) -> None:
    create_issuer(services, slug="nhi", name="National HRD Institute")
    headers = {"Authorization": f"Bearer {create_api_key(services, 'nhi', ['admin', 'issue'])}"}
    changed = client.put("/api/v1/issuers/nhi/emails", json={"language": "ko"}, headers=headers)
    assert changed.status_code == 200, changed.text
    load_templates(services, "nhi")
    body = {"recipient": {"email": "kim@example.org"}, "achievement": "team-development"}
    response = client.post("/api/v1/issuers/nhi/credentials", json=body, headers=headers)
    assert response.status_code == 201, response.text
    achievement = response.json()["credentialSubject"]["achievement"]
    template = CATALOGUE.achievement("team-development")
    assert achievement["name"] == "팀 개발" == template.name_ko
    assert achievement["description"] == template.description_ko
    assert achievement["criteria"]["narrative"] == template.criteria_ko
    assert achievement["inLanguage"] == "ko"
    assert {a["targetName"] for a in achievement["alignment"]} >= {"팀 빌딩"}
    report = verify_credential(
        response.json(), now=datetime.now(UTC) + timedelta(minutes=1), fetcher=ClientFetcher(client)
    )
    assert report.verdict is Verdict.VERIFIED, report.to_dict()

    # an English issuer (the default) is unchanged, and an explicit language wins
    create_issuer(services, slug="en", name="English Institute")
    load_templates(services, "en")
    load_templates(services, "nhi", language="en")
    english = {"Authorization": f"Bearer {create_api_key(services, 'en', ['issue'])}"}
    for slug, auth in (("en", english), ("nhi", headers)):
        issued = client.post(f"/api/v1/issuers/{slug}/credentials", json=body, headers=auth)
        assert issued.status_code == 201, issued.text
        named = issued.json()["credentialSubject"]["achievement"]
        assert named["name"] == "Team Development" and "inLanguage" not in named


def test_doubtful_alignments_are_fixed() -> None:
    """Issue 17: a 6-hour module no longer evidences an executive qualification, nor does an
    engineer's examination (docs/catalogue.md, "Alignments")."""

    def targets(key: str) -> set[tuple[str, str]]:
        return {(a.framework, a.code) for a in CATALOGUE.achievement(key).alignments}

    assert ("ecq", "ECQ1-1") not in targets("dl-innovation")
    assert ("ai-competency", "creativity-and-innovation") in targets("dl-innovation")
    assert ("ecq", "ECQ3-6") not in targets("engineer-information-processing")
    short = [a for a in CATALOGUE.achievements if a.hours < 8]
    assert short and all(a.framework != "ecq" for s in short for a in s.alignments)
