"""The badge catalogue: the bundled data loads and holds what the study describes, broken
catalogues are refused with a message naming the file and entry, and every credential the
catalogue can produce conforms to the OB 3.0 schema and canonicalises identically on the fast
and the reference path (the fast path must accept them all)."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest

from issuer.catalogue import (
    AchievementTemplate,
    Catalogue,
    CatalogueError,
    load_catalogue,
    program_hours,
    to_ob_achievement,
)
from tests.issuer.credentials import make_credential
from verifier.fastcanon import Unsupported, canonicalize_fast
from verifier.jsonld import canonicalize_reference
from verifier.schema import validate

BASE_URL = "https://laurel.example.org"
ISSUER = "did:example:hrd-institute"
CATALOGUE = load_catalogue()
LEAD_LEVELS = ["lead-aspiring-leader", "lead-team-leader", "lead-supervisor", "lead-manager"]


def _credential(
    template: AchievementTemplate, base_url: str = BASE_URL, language: Literal["en", "ko"] = "en"
) -> dict[str, Any]:
    credential = make_credential(ISSUER, name=template.name)
    subject = credential["credentialSubject"]
    subject["achievement"] = to_ob_achievement(
        template,
        CATALOGUE,
        achievement_id=f"{BASE_URL}/achievements/{template.key}",
        base_url=base_url,
        language=language,
    )
    subject["creditsEarned"] = template.hours
    return credential


def _assert_conforms_and_canonicalises(credential: dict[str, Any]) -> None:
    validate(credential, ["OpenBadgeCredential"])
    try:
        fast = canonicalize_fast(copy.deepcopy(credential))
    except Unsupported as exc:
        pytest.fail(f"the fast canonicaliser refused a catalogue credential: {exc}")
    assert fast == canonicalize_reference(copy.deepcopy(credential))


# The bundled catalogue ------------------------------------------------------------------------


def test_bundled_catalogue_loads() -> None:
    assert {f.id for f in CATALOGUE.frameworks} == {"ecq", "ai-competency", "digital-literacy"}
    assert len(CATALOGUE.achievements) >= 60
    assert CATALOGUE.achievement("emotional-intelligence").achievement_type == "Course"
    assert CATALOGUE.framework("ecq").name == "Executive Core Qualifications"
    assert CATALOGUE.skill("ecq", "ECQ5-2").name == "Political Savvy"
    with pytest.raises(KeyError):
        CATALOGUE.achievement("no-such-badge")
    with pytest.raises(KeyError):
        CATALOGUE.skill("ecq", "ECQ9")


def test_five_ecqs_and_twenty_two_competencies() -> None:
    skills = CATALOGUE.framework("ecq").skills
    qualifications = [s.code for s in skills if s.parent is None]
    assert qualifications == ["ECQ1", "ECQ2", "ECQ3", "ECQ4", "ECQ5"]
    competencies = Counter(s.parent for s in skills if s.parent is not None)
    assert competencies == {"ECQ1": 6, "ECQ2": 4, "ECQ3": 6, "ECQ4": 3, "ECQ5": 3}
    assert sum(competencies.values()) == 22


def test_every_ecq_competency_is_covered_by_an_achievement() -> None:
    competencies = {s.code for s in CATALOGUE.framework("ecq").skills if s.parent}
    aligned = {a.code for t in CATALOGUE.achievements for a in t.alignments if a.framework == "ecq"}
    assert competencies - aligned == set()


def test_lead_levels_have_two_required_courses_and_three_electives() -> None:
    for level in LEAD_LEVELS:
        program = CATALOGUE.program(level)
        assert len(program.required) == 2
        assert program.electives_needed == 3 <= len(program.electives)
        for key in (*program.required, *program.electives):
            assert CATALOGUE.achievement(key).achievement_type == "Course"
        assert CATALOGUE.achievement(program.award).achievement_type == "Certificate"
    shared = "leadership-skills-for-non-supervisors"
    assert shared in CATALOGUE.program("lead-aspiring-leader").required
    assert shared in CATALOGUE.program("lead-team-leader").required


def test_leadership_for_a_democratic_society_has_four_weekly_themes() -> None:
    program = CATALOGUE.program("leadership-for-a-democratic-society")
    assert [CATALOGUE.achievement(k).name.rsplit(": ", 1)[1] for k in program.required] == [
        "Personal",
        "Interpersonal",
        "Enterprise",
        "Integration",
    ]
    assert CATALOGUE.achievement(program.award).achievement_type == "Certificate"


def test_ai_model_has_general_and_technical_competencies_with_ranks() -> None:
    skills = CATALOGUE.framework("ai-competency").skills
    assert Counter(s.group for s in skills) == {"general": 40, "technical": 7}
    future = sorted(s.importance_future for s in skills if s.importance_future)
    current = sorted(s.importance_current for s in skills if s.importance_current)
    assert future == list(range(1, 30))
    assert current == list(range(1, 17))
    assert all(s.importance_future for s in skills if s.importance_current)
    assert CATALOGUE.skill("ai-competency", "integrity-or-honesty").importance_current == 1
    aligned = {a.code for t in CATALOGUE.achievements for a in t.alignments}
    technical = {s.code for s in skills if s.group == "technical"}
    assert technical <= aligned


def test_one_badge_per_digital_literacy_component() -> None:
    components = [s.code for s in CATALOGUE.framework("digital-literacy").skills]
    assert len(components) == 14
    badges = [
        t.alignments[0].code
        for t in CATALOGUE.achievements
        if t.achievement_type == "Competency" and t.alignments[0].framework == "digital-literacy"
    ]
    assert sorted(badges) == sorted(components)


def test_qualification_certificates() -> None:
    certifications = [t for t in CATALOGUE.achievements if t.achievement_type == "Certification"]
    assert 5 <= len(certifications) <= 8
    assert any(t.validity for t in certifications)
    assert all(t.name_ko for t in certifications)


def test_validity_periods_are_ones_issuance_can_apply() -> None:
    from issuer.issuing.documents import add_duration

    start = datetime(2026, 2, 28, tzinfo=UTC)
    for template in CATALOGUE.achievements:
        if template.validity:
            assert add_duration(start, template.validity) > start


@pytest.mark.parametrize("program", CATALOGUE.programs, ids=lambda p: p.id)
def test_award_hours_are_the_fewest_hours_that_complete_the_programme(program: Any) -> None:
    assert CATALOGUE.achievement(program.award).hours == program_hours(program, CATALOGUE)


def test_nested_programme_counts_towards_its_parent() -> None:
    ai_ready = CATALOGUE.program("ai-ready")
    assert ai_ready.programs == ("digital-literacy",)
    assert program_hours(ai_ready, CATALOGUE) > program_hours(
        CATALOGUE.program("digital-literacy"), CATALOGUE
    )


# Every credential the catalogue can produce ---------------------------------------------------


@pytest.mark.parametrize("template", CATALOGUE.achievements, ids=lambda t: t.key)
def test_catalogue_credential_conforms_and_canonicalises_identically(
    template: AchievementTemplate,
) -> None:
    _assert_conforms_and_canonicalises(_credential(template))


@pytest.mark.parametrize("template", CATALOGUE.achievements, ids=lambda t: t.key)
def test_korean_catalogue_credential_conforms_and_canonicalises_identically(
    template: AchievementTemplate,
) -> None:
    credential = _credential(template, language="ko")
    assert credential["credentialSubject"]["achievement"]["name"] == template.name_ko
    _assert_conforms_and_canonicalises(credential)


@pytest.mark.parametrize(
    "changes",
    [{"hours": 1.5}, {"hours": 0.25, "tags": (), "alignments": ()}, {"hours": 10**6}],
    ids=["fractional-hours", "bare", "large-hours"],
)
def test_variants_conform_and_canonicalise_identically(changes: dict[str, Any]) -> None:
    template = CATALOGUE.achievement("engineer-big-data-analysis").model_copy(update=changes)
    credential = _credential(template)
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["creditsAvailable"] == changes["hours"]
    assert ("tag" in achievement) is bool(template.tags)
    assert ("alignment" in achievement) is bool(template.alignments)
    _assert_conforms_and_canonicalises(credential)


def test_ob_achievement_shape() -> None:
    template = CATALOGUE.achievement("engineer-information-processing")
    achievement = to_ob_achievement(
        template, CATALOGUE, achievement_id="urn:uuid:1", base_url=BASE_URL + "/"
    )
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "Certification"
    assert achievement["criteria"] == {"narrative": template.criteria}
    assert achievement["creditsAvailable"] == template.hours
    assert achievement["tag"] == list(template.tags)
    assert "image" not in achievement
    internal, external = achievement["alignment"]
    assert internal == {
        "type": ["Alignment"],
        "targetName": "Technical Competence",
        "targetUrl": f"{BASE_URL}/frameworks/ai-competency/technical-competence",
        "targetFramework": "AI Competency Model",
        "targetCode": "technical-competence",
        "targetType": "ceasn:Competency",
        "targetDescription": CATALOGUE.skill("ai-competency", "technical-competence").definition,
    }
    assert external == {
        "type": ["Alignment"],
        "targetName": "Computer Systems Analysts",
        "targetUrl": "https://www.onetonline.org/link/summary/15-1211.00",
        "targetFramework": "O*NET-SOC",
        "targetCode": "15-1211.00",
        "targetType": "ext:Occupation",
    }


# Broken catalogues ----------------------------------------------------------------------------

FRAMEWORK = """
id = "skills"
name = "Skills"
name_ko = "역량"
description = "A test framework."
description_ko = "시험용 프레임워크."
source = "Tests."

[[skills]]
code = "S1"
name = "Skill one"
name_ko = "역량 1"
description_ko = "첫째 역량."
definition = "The first skill."

[[skills]]
code = "S1-1"
parent = "S1"
name = "Skill one, part one"
name_ko = "역량 1-1"
description_ko = "첫째 역량의 일부."
definition = "Part of the first skill."
"""


def _achievement(key: str, **fields: str) -> str:
    values = {
        "name": f'"{key}"',
        "description": '"A test badge."',
        "criteria": '"Do it."',
        "name_ko": '"시험 배지"',
        "description_ko": '"시험용 배지."',
        "criteria_ko": '"이수함."',
        "badge_area": '"skills"',
        "achievement_type": '"Course"',
        "hours": "8",
        "alignments": '[{ framework = "skills", code = "S1-1" }]',
        "design": '{ shape = "circle", color = "#123456" }',
        **fields,
    }
    body = "\n".join(f"{name} = {value}" for name, value in values.items())
    return f'[[achievements]]\nkey = "{key}"\n{body}\n'


def _program(id: str, **fields: str) -> str:
    values = {
        "name": f'"{id}"',
        "name_ko": '"시험 과정"',
        "description": '"A test programme."',
        "description_ko": '"시험용 과정."',
        "required": '["a"]',
        "award": '"b"',
        **fields,
    }
    body = "\n".join(f"{name} = {value}" for name, value in values.items())
    return f'[[programs]]\nid = "{id}"\n{body}\n'


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


def _valid_files() -> dict[str, str]:
    return {
        "frameworks/skills.toml": FRAMEWORK,
        "achievements/courses.toml": _achievement("a") + _achievement("b"),
        "programs/main.toml": _program("p"),
    }


def test_small_catalogue_loads(tmp_path: Path) -> None:
    catalogue = load_catalogue(_write(tmp_path, _valid_files()))
    assert isinstance(catalogue, Catalogue)
    assert [a.key for a in catalogue.achievements] == ["a", "b"]


BROKEN = {
    "duplicate-key": (
        {"achievements/more.toml": _achievement("a")},
        ["more.toml", "'a'", "duplicate achievement key", "courses.toml"],
    ),
    "unknown-alignment-code": (
        {
            "achievements/more.toml": _achievement(
                "c", alignments='[{framework="skills",code="S9"}]'
            )
        },
        ["more.toml", "'c'", "unknown skill skills/S9"],
    ),
    "unknown-framework": (
        {"achievements/more.toml": _achievement("c", alignments='[{framework="esco",code="x"}]')},
        ["more.toml", "'c'", "unknown framework 'esco'"],
    ),
    "unknown-program-achievement": (
        {"programs/more.toml": _program("q", electives='["zzz"]', electives_needed="1")},
        ["more.toml", "'q'", "unknown achievement 'zzz'"],
    ),
    "unknown-nested-program": (
        {"programs/more.toml": _program("q", programs='["nope"]')},
        ["more.toml", "'q'", "unknown programme 'nope'"],
    ),
    "program-cycle": (
        {
            "programs/more.toml": _program("q", programs='["r"]')
            + _program("r", programs='["s"]')
            + _program("s", programs='["q"]')
        },
        ["more.toml", "programme cycle", "q -> r -> s -> q"],
    ),
    "bad-duration": (
        {"achievements/more.toml": _achievement("c", validity='"3 years"')},
        ["more.toml", "'c'", "validity", "ISO 8601"],
    ),
    "duration-in-weeks": (
        {"achievements/more.toml": _achievement("c", validity='"P2W"')},
        ["more.toml", "'c'", "validity"],
    ),
    "duration-with-time": (
        {"achievements/more.toml": _achievement("c", validity='"P1YT12H"')},
        ["more.toml", "'c'", "validity"],
    ),
    "zero-duration": (
        {"achievements/more.toml": _achievement("c", validity='"P0Y"')},
        ["more.toml", "'c'", "validity"],
    ),
    "bad-colour": (
        {"achievements/more.toml": _achievement("c", design='{shape="circle",color="red"}')},
        ["more.toml", "'c'", "design.color"],
    ),
    "bad-shape": (
        {"achievements/more.toml": _achievement("c", design='{shape="star",color="#000000"}')},
        ["more.toml", "'c'", "design.shape"],
    ),
    "zero-hours": (
        {"achievements/more.toml": _achievement("c", hours="0")},
        ["more.toml", "'c'", "hours"],
    ),
    "hours-as-text": (
        {"achievements/more.toml": _achievement("c", hours='"8"')},
        ["more.toml", "'c'", "hours"],
    ),
    "bad-achievement-type": (
        {"achievements/more.toml": _achievement("c", achievement_type='"Trophy"')},
        ["more.toml", "'c'", "AchievementType"],
    ),
    "external-alignment-without-url": (
        {"achievements/more.toml": _achievement("c", alignments='[{framework="O*NET",code="1"}]')},
        ["more.toml", "'c'", "needs a url"],
    ),
    "unknown-field": (
        {"achievements/more.toml": _achievement("c", colour='"#000000"')},
        ["more.toml", "'c'", "colour"],
    ),
    "key-not-url-safe": (
        {"achievements/more.toml": _achievement("C D")},
        ["more.toml", "'C D'", "key"],
    ),
    "electives-needed-too-many": (
        {
            "programs/more.toml": _program(
                "q", electives='["b"]', award='"a"', required="[]", electives_needed="2"
            )
        },
        ["more.toml", "'q'", "electives_needed 2"],
    ),
    "award-is-required": (
        {"programs/more.toml": _program("q", award='"a"')},
        ["more.toml", "'q'", "its own award"],
    ),
    "unknown-parent": (
        {"frameworks/skills.toml": FRAMEWORK.replace('parent = "S1"', 'parent = "S7"')},
        ["skills.toml", "S1-1", "unknown parent 'S7'"],
    ),
    "parent-cycle": (
        {
            "frameworks/skills.toml": FRAMEWORK.replace(
                'code = "S1"\n', 'code = "S1"\nparent = "S1-1"\n'
            )
        },
        ["skills.toml", "parent cycle"],
    ),
    "duplicate-skill-code": (
        {"frameworks/skills.toml": FRAMEWORK.replace('code = "S1-1"', 'code = "S1"')},
        ["skills.toml", "duplicate code"],
    ),
    "framework-file-name": (
        {"frameworks/other.toml": FRAMEWORK},
        ["other.toml", "differs from file name"],
    ),
    "invalid-toml": (
        {"achievements/more.toml": "[[achievements]\nkey = "},
        ["more.toml", "cannot read TOML"],
    ),
    "wrong-table": (
        {"achievements/more.toml": _program("q")},
        ["more.toml", "expected only [[achievements]]"],
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_broken_catalogue_is_refused_naming_file_and_entry(tmp_path: Path, case: str) -> None:
    changes, fragments = BROKEN[case]
    root = _write(tmp_path, {**_valid_files(), **changes})
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(root)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_missing_catalogue_folder(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no catalogue folder"):
        load_catalogue(tmp_path / "absent")
