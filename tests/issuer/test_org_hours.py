"""An organisation's learning-hours report, checked against numbers worked out by hand.

The ministry ``mois`` (home issuer ``mois``) trusts the national HRD institute ``nhi`` on this
Laurel and Hankuk University elsewhere (shared credentials); ``uni`` on this Laurel and
``did:web:other.example`` are not trusted. Units: HQ > POL > POL-DATA, and OPS. Rules: the
defaults (80 h for grades 4–9, 40% designated, 10 h digital, informal caps 20/20/30 and half the
requirement) with ``data`` designated for POL and ``emotional-intelligence`` for every unit.

By hand, for 2025:

- Choi (5, POL-DATA): data 30 + data 30 + digital 10 + mentoring 25 (cap 20: 5 capped away)
  = 90 h; designated 60 ≥ 32 (data, POL is above POL-DATA); mandatory 10 ≥ 10 → met. A 2024
  data course does not count for 2025.
- Jung (6, OPS): general 80 + digital 10 + emotional intelligence 16 = 106 h; designated 16 < 32
  → not met although the total is.
- Han (3, HQ): nothing, no requirement (grade 3) → 0 h, exempt.
- Yoon (7급, POL): nothing → 0 h of 80, not met, 80 remaining.
- Seo (5, OPS): mentoring 20 + study group 20 + project 30 (informal, at most 40 = half of 80:
  the project's 30 are capped away) + 30 from NHI (trusted) + 12 shared from Hankuk University
  (digital) = 82 h; 50 from ``uni`` and 50 shared by an untrusted issuer do not count;
  designated 0 → not met; mandatory 12.
- Kim (5, OPS): the five LEAD Aspiring Leader courses 24 + 16 + 16 + 16 + 8 = 80 h; the
  certificate, even an old one carrying 80 h, adds none → 80 (not 160); designated 16
  (emotional intelligence, designated for every unit).
- Lee (5, OPS): a 40 h qualification + the annual badge carrying 80 h → 40 (not 120).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from issuer.context import Services
from issuer.core.db import migrate, unit_of_work
from issuer.models import AccessLogEntry, Achievement, Credential, Issuer, Organisation
from issuer.orgs import organisation
from issuer.orgs.hours import CSV_COLUMNS, evaluate, informal_category, report
from issuer.orgs.rules import load
from issuer.schemas import IssueRequest
from issuer.wallet.merging import merge
from tests.issuer.orgs_fixtures import add_member, add_unit, make_org, share, trust
from tests.units import create_api_key, create_issuer, issue, load_templates, resolve_learner

YEAR = 2025
RULES = {"designated": {"POL": ["data"], "*": ["emotional-intelligence"]}}
LEAD = [
    "leadership-skills-for-non-supervisors",
    "emotional-intelligence",
    "leading-through-change",
    "innovation-in-government",
    "accountability-for-results",
]


def _achievement(key: str, hours: float, tags: list[str], kind: str = "Course") -> dict[str, Any]:
    return {
        "key": key,
        "name": key.replace("-", " ").title(),
        "description": f"{key} for the hours report.",
        "criteria": "Take part.",
        "achievementType": kind,
        "creditsAvailable": hours,
        "tags": tags,
    }


MOIS_ACHIEVEMENTS = [
    _achievement("data-course", 30, ["data"]),
    _achievement("digital-basics", 10, ["digital"]),
    _achievement("general-course", 80, ["management"]),
    _achievement("mentoring", 20, ["informal:mentoring"], "Achievement"),
    _achievement("study-group", 20, ["study_group"], "Achievement"),
    _achievement("project", 30, ["project"], "Achievement"),
]


def _institute(client: TestClient, services: Services, slug: str, name: str) -> None:
    create_issuer(services, slug=slug, name=name)
    load_templates(services, slug)
    headers = {"Authorization": f"Bearer {create_api_key(services, slug, ['admin'])}"}
    for body in MOIS_ACHIEVEMENTS:
        made = client.post(f"/api/v1/issuers/{slug}/achievements", json=body, headers=headers)
        assert made.status_code == 201, made.text


def _give(
    services: Services,
    slug: str,
    email: str,
    key: str,
    month: int,
    hours: float | None = None,
    year: int = YEAR,
) -> str:
    body: dict[str, Any] = {
        "recipient": {"email": email},
        "achievement": key,
        "validFrom": f"{year}-{month:02d}-10T09:00:00Z",
    }
    if hours is not None:
        body["creditsEarned"] = hours
    return issue(services, slug, IssueRequest.model_validate(body)).credential.id


def _ministry(client: TestClient, services: Services) -> dict[str, int]:
    """The organisation above; returns the learner id of each member by family name."""
    _institute(client, services, "mois", "Ministry of the Interior")
    _institute(client, services, "nhi", "NHI Institute")
    _institute(client, services, "uni", "Untrusted Academy")
    make_org(services, "mois", "mois", "Ministry of the Interior", RULES)
    trust(services, "mois", issuer="nhi")
    trust(services, "mois", issuer_ref="did:web:univ.example", name="Hankuk University")
    add_unit(services, "mois", "HQ", "Headquarters", name_ko="본부")
    add_unit(services, "mois", "POL", "Policy Bureau", parent="HQ", name_ko="정책국")
    add_unit(services, "mois", "POL-DATA", "Data Team", parent="POL", name_ko="데이터팀")
    add_unit(services, "mois", "OPS", "Operations", name_ko="운영국")
    people = {
        "choi": ("Choi Ji-woo", "POL-DATA", "5"),
        "jung": ("Jung Ha-eun", "OPS", "6"),
        "han": ("Han Seo-yeon", "HQ", "3"),
        "yoon": ("Yoon Do-hyun", "POL", "7급"),
        "seo": ("Seo Min-ho", "OPS", "5"),
        "kim": ("Kim Min-jun", "OPS", "5"),
        "lee": ("Lee Su-bin", "OPS", "5"),
    }
    ids = {
        who: add_member(
            services,
            "mois",
            f"{who}@example.go.kr",
            name,
            unit=unit,
            grade=grade,
            role="주무관",
            employee_no=f"E-{who}",
        )
        for who, (name, unit, grade) in people.items()
    }
    choi, jung, seo = "choi@example.go.kr", "jung@example.go.kr", "seo@example.go.kr"
    _give(services, "mois", choi, "data-course", 3, year=YEAR - 1)
    _give(services, "mois", choi, "data-course", 2)
    _give(services, "mois", choi, "data-course", 3)
    _give(services, "mois", choi, "digital-basics", 4)
    _give(services, "mois", choi, "mentoring", 5, hours=25)
    _give(services, "mois", jung, "general-course", 1)
    _give(services, "mois", jung, "digital-basics", 2)
    _give(services, "mois", jung, "emotional-intelligence", 3)
    _give(services, "mois", seo, "mentoring", 1)
    _give(services, "mois", seo, "study-group", 2)
    _give(services, "mois", seo, "project", 3)
    _give(services, "nhi", seo, "data-course", 4)
    _give(services, "uni", seo, "general-course", 4, hours=50)
    share(
        services,
        "mois",
        ids["seo"],
        issuer_ref="did:web:univ.example",
        name="Digital Government",
        hours=12,
        valid_from=_time(YEAR, 5),
        tags=["digital"],
    )
    share(
        services,
        "mois",
        ids["seo"],
        issuer_ref="did:web:other.example",
        name="Elsewhere",
        hours=50,
        valid_from=_time(YEAR, 5),
    )
    # an old certificate, issued by hand with the summed hours of its courses
    _give(services, "mois", "kim@example.go.kr", "lead-aspiring-leader-certificate", 1, hours=80)
    for month, key in enumerate(LEAD, start=2):
        _give(services, "mois", "kim@example.go.kr", key, month)
    _give(services, "mois", "lee@example.go.kr", "engineer-information-processing", 3)
    _give(services, "mois", "lee@example.go.kr", "ongoing-learning-annual", 4, hours=80)
    return ids


def _time(year: int, month: int) -> Any:
    from datetime import UTC, datetime

    return datetime(year, month, 10, 9, tzinfo=UTC)


def _report(services: Services, **filters: Any) -> dict[str, dict[str, Any]]:
    with unit_of_work(services.engine) as session:
        org = organisation(session, "mois")
        found = report(session, services, org, filters.pop("year", YEAR), **filters)
        return {m["email"].split("@")[0]: m for m in found.public()["members"]}


def _annual(services: Services, learner: int) -> list[Credential]:
    with Session(services.engine) as session:
        return list(
            session.exec(
                select(Credential)
                .join(Achievement, col(Achievement.id) == col(Credential.achievement_id))
                .join(Issuer, col(Issuer.id) == col(Credential.issuer_id))
                .where(
                    Achievement.key == "ongoing-learning-annual",
                    Credential.learner_id == learner,
                    Issuer.slug == "mois",
                )
            )
        )


def test_every_member_and_every_number(client: TestClient, services: Services) -> None:
    _ministry(client, services)
    people = _report(services)
    assert sorted(people) == ["choi", "han", "jung", "kim", "lee", "seo", "yoon"]
    numbers = {
        who: (
            m["hours"],
            m["formal"],
            m["informal"],
            m["informalCappedAway"],
            m["designated"],
            m["mandatory"],
            m["required"],
            m["status"],
            m["remaining"],
        )
        for who, m in people.items()
    }
    assert numbers == {
        "choi": (90, 70, 20, 5, 60, 10, 80, "met", 0),
        "jung": (106, 106, 0, 0, 16, 10, 80, "unmet", 0),
        "han": (0, 0, 0, 0, 0, 0, 0, "exempt", 0),
        "yoon": (0, 0, 0, 0, 0, 0, 80, "unmet", 80),
        "seo": (82, 42, 40, 30, 0, 12, 80, "unmet", 0),
        "kim": (80, 80, 0, 0, 16, 0, 80, "unmet", 0),
        "lee": (40, 40, 0, 0, 0, 0, 80, "unmet", 40),
    }
    choi = people["choi"]
    assert choi["designatedRequired"] == 32 and choi["mandatoryRequired"] == 10
    assert choi["met"] is True and people["han"]["met"] is None and people["jung"]["met"] is False
    assert choi["unit"] == {"code": "POL-DATA", "name": "Data Team", "nameKo": "데이터팀"}
    assert (choi["name"], choi["employeeNo"], choi["grade"], choi["role"]) == (
        "Choi Ji-woo",
        "E-choi",
        "5",
        "주무관",
    )
    assert people["seo"]["sources"] == [
        {"issuer": "Ministry of the Interior", "source": "here", "hours": 40},
        {"issuer": "NHI Institute", "source": "here", "hours": 30},
        {"issuer": "Hankuk University", "source": "shared", "hours": 12},
    ]
    kinds = {b["name"]: (b["hours"], b["counted"], b["kind"]) for b in people["seo"]["badges"]}
    assert kinds["Project"] == (30, 0, "informal:project")
    assert "Elsewhere" not in kinds and len(people["seo"]["badges"]) == 5  # not the untrusted
    completion = [b for b in people["kim"]["badges"] if b["kind"] == "completion"]
    assert [(b["hours"], b["counted"]) for b in completion] == [(80, 0)]
    assert [(b["hours"], b["counted"]) for b in people["lee"]["badges"]] == [(40, 40), (80, 0)]
    assert _report(services, year=YEAR - 1)["choi"]["hours"] == 30


def test_filters_and_units(client: TestClient, services: Services) -> None:
    _ministry(client, services)
    assert sorted(_report(services, unit="HQ")) == ["choi", "han", "yoon"]
    assert sorted(_report(services, unit="POL")) == ["choi", "yoon"]
    assert sorted(_report(services, unit="POL-DATA")) == ["choi"]
    assert sorted(_report(services, grade="5급")) == ["choi", "kim", "lee", "seo"]
    assert sorted(_report(services, grade="7")) == ["yoon"]
    assert sorted(_report(services, status="met")) == ["choi"]
    assert sorted(_report(services, status="exempt")) == ["han"]
    with unit_of_work(services.engine) as session:
        found = report(session, services, organisation(session, "mois"), YEAR)
        units = {u["unit"]["code"] if u["unit"] else None: u for u in found.public()["units"]}
    assert {code: (u["members"], u["withRequirement"], u["met"]) for code, u in units.items()} == {
        "HQ": (1, 0, 0),
        "POL": (1, 1, 0),
        "POL-DATA": (1, 1, 1),
        "OPS": (4, 4, 0),
    }
    assert units["POL-DATA"]["percentMet"] == 100 and units["HQ"]["percentMet"] is None
    assert units["OPS"]["averageHours"] == (106 + 82 + 80 + 40) / 4


def test_the_annual_badge_is_issued_once(client: TestClient, services: Services) -> None:
    ids = _ministry(client, services)
    [badge] = _annual(services, ids["choi"])  # issued as Choi's mentoring badge arrived
    assert badge.document["validFrom"].startswith(f"{YEAR}-12-31")
    assert badge.idempotency_key == f"annual:mois:{ids['choi']}:{YEAR}"
    assert _annual(services, ids["jung"]) == []  # the total is met, the designated share not
    assert len(_annual(services, ids["lee"])) == 1  # the one issued by hand, none more
    with unit_of_work(services.engine) as session:
        assert evaluate(session, services, organisation(session, "mois"), YEAR) == []
    _give(services, "mois", "choi@example.go.kr", "digital-basics", 6)
    assert len(_annual(services, ids["choi"])) == 1
    # Jung's unit designates data later in the year: Jung now meets the rule, and gets it once
    _give(services, "nhi", "jung@example.go.kr", "emotional-intelligence", 7)
    [jung] = _annual(services, ids["jung"])  # 16 + 16 designated = 32
    with unit_of_work(services.engine) as session:
        again = evaluate(session, services, organisation(session, "mois"), YEAR)
    assert again == [] and _annual(services, ids["jung"]) == [jung]
    # the annual badge itself adds no hours
    assert _report(services)["jung"]["hours"] == 106 + 16


def test_api_json_csv_rules_and_access_log(client: TestClient, services: Services) -> None:
    _ministry(client, services)
    reader = {"Authorization": f"Bearer {create_api_key(services, 'mois', ['read'])}"}
    admin = {"Authorization": f"Bearer {create_api_key(services, 'mois', ['admin'])}"}
    other = {"Authorization": f"Bearer {create_api_key(services, 'nhi', ['read', 'admin'])}"}
    got = client.get(f"/api/v1/orgs/mois/hours?year={YEAR}&unit=POL", headers=reader)
    assert got.status_code == 200, got.text
    assert [m["email"] for m in got.json()["members"]] == [  # by unit code, then name
        "yoon@example.go.kr",
        "choi@example.go.kr",
    ]
    as_csv = client.get(
        f"/api/v1/orgs/mois/hours?year={YEAR}&status=unmet",
        headers={**reader, "Accept": "text/csv"},
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert list(rows[0]) == [
        "employee_no", "name", "email", "unit_code", "unit_name", "grade", "role", "year",
        "hours", "formal", "informal", "informal_capped", "designated", "mandatory", "required",
        "designated_required", "mandatory_required", "status", "remaining", "hours_here",
        "hours_shared", "issuers",
    ]  # fmt: skip
    assert list(rows[0]) == CSV_COLUMNS
    seo = next(r for r in rows if r["employee_no"] == "E-seo")
    assert (seo["hours"], seo["hours_here"], seo["hours_shared"], seo["status"]) == (
        "82",
        "70",
        "12",
        "unmet",
    )
    assert sorted(r["employee_no"] for r in rows) == ["E-jung", "E-kim", "E-lee", "E-seo", "E-yoon"]
    assert client.get(
        f"/api/v1/orgs/mois/hours?year={YEAR}&format=csv", headers=reader
    ).text.startswith("employee_no,")
    assert client.get(f"/api/v1/orgs/mois/hours?year={YEAR}", headers=other).status_code == 404
    assert (
        client.get(f"/api/v1/orgs/mois/hours?year={YEAR}&unit=NOPE", headers=reader).json()[
            "status"
        ]
        == 404
    )
    with Session(services.engine) as session:
        logged = session.exec(
            select(AccessLogEntry)
            .where(AccessLogEntry.action == "org.hours")
            .order_by(col(AccessLogEntry.id))
        )
        assert [e.subject for e in logged] == [
            f"mois {YEAR} unit=POL",
            f"mois {YEAR} status=unmet",
            f"mois {YEAR}",
        ]  # a request that failed showed nobody's hours

    rules = client.get("/api/v1/orgs/mois/rules", headers=reader).json()
    assert rules["required_hours"]["5"] == 80 and rules["designated_share"] == 0.4
    assert rules["designated"] == RULES["designated"]
    bad = client.put("/api/v1/orgs/mois/rules", json={"designated_share": 1.5}, headers=admin)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    unknown = client.put("/api/v1/orgs/mois/rules", json={"hours": 80}, headers=admin)
    assert unknown.status_code == 422
    for negative in (  # hours count forwards only (audit 10, F3)
        {"default_required": -5},
        {"required_hours": {"5": -1}},
        {"informal_caps": {"mentoring": -20}},
    ):
        refused = client.put("/api/v1/orgs/mois/rules", json=negative, headers=admin)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    nan = client.put(  # the API's strict JSON refuses NaN before the rules see it
        "/api/v1/orgs/mois/rules",
        content=b'{"required_hours": {"5": NaN}}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert nan.status_code == 400 and "NaN" in nan.json()["detail"]
    assert client.get("/api/v1/orgs/mois/rules", headers=reader).json() == rules  # unchanged
    denied = client.put("/api/v1/orgs/mois/rules", json={}, headers=reader)
    assert denied.status_code == 403
    # Seo's informal learning may now be all of the requirement: 70 informal hours count
    put = client.put(
        "/api/v1/orgs/mois/rules",
        json={"informal_share": 1.0, "designated": RULES["designated"]},
        headers=admin,
    )
    assert put.status_code == 200, put.text
    assert _report(services)["seo"]["hours"] == 82 + 30
    assert client.get("/api/v1/orgs/mois/rules", headers=reader).json()["informal_share"] == 1.0


def test_the_cli_report_and_evaluate(client: TestClient, services: Services) -> None:
    from issuer.cli import app as cli

    ids = _ministry(client, services)
    environment = {
        "LAUREL_DATABASE_URL": services.settings.database_url,
        "LAUREL_KEYS_DIR": str(services.settings.keys_dir),
        "LAUREL_KEY_PASSPHRASE": services.settings.key_passphrase,
        "LAUREL_BASE_URL": services.settings.base_url,
    }
    runner = CliRunner()
    table = runner.invoke(
        cli,
        ["orgs", "hours", "--org", "mois", "--year", str(YEAR), "--unit", "POL"],
        env=environment,
    )
    assert table.exit_code == 0, table.output
    assert "Choi Ji-woo\tPOL-DATA\t5\t90 h of 80" in table.output
    assert "Yoon Do-hyun\tPOL\t7급\t0 h of 80" in table.output and "Seo" not in table.output
    as_csv = runner.invoke(
        cli, ["orgs", "hours", "--org", "mois", "--year", str(YEAR), "--csv"], env=environment
    )
    assert as_csv.exit_code == 0 and as_csv.output.startswith(",".join(CSV_COLUMNS))
    assert len(as_csv.output.strip().splitlines()) == 1 + 7
    missing = runner.invoke(
        cli, ["orgs", "hours", "--org", "nope", "--year", "2025"], env=environment
    )
    assert missing.exit_code == 1 and "nope" in missing.output
    again = runner.invoke(
        cli, ["orgs", "evaluate", "--org", "mois", "--year", str(YEAR)], env=environment
    )
    assert again.exit_code == 0 and "0 annual badges issued" in again.output
    assert len(_annual(services, ids["choi"])) == 1


def test_informal_tags() -> None:
    assert informal_category(["leadership", "mentoring"]) == "mentoring"
    assert informal_category(["informal:job_rotation"]) == "job_rotation"
    assert informal_category(["informal:"]) is None
    assert informal_category(["data"]) is None


def test_no_annual_badge_when_the_home_issuer_does_not_offer_it(
    client: TestClient, services: Services
) -> None:
    create_issuer(services, slug="small", name="Small")  # no catalogue loaded
    make_org(services, "small", "small", "Small")
    learner = add_member(services, "small", "a@example.org", "A", grade="5")
    assert resolve_learner(services, "a@example.org").id == learner
    with unit_of_work(services.engine) as session:
        assert evaluate(session, services, organisation(session, "small"), YEAR) == []


def _small_ministry(client: TestClient, services: Services) -> None:
    """``mois`` with rules any member meets with one 80 h course."""
    _institute(client, services, "mois", "Ministry")
    make_org(services, "mois", "mois", "Ministry", {"designated_share": 0, "mandatory_hours": 0})


def _evaluate(services: Services) -> list[str]:
    with unit_of_work(services.engine) as session:
        return evaluate(session, services, organisation(session, "mois"), YEAR)


def test_a_new_member_does_not_get_a_merged_away_learners_id(
    client: TestClient, services: Services
) -> None:
    """Regression (audit 10): SQLite gave the id of a learner merged into another account to
    the next learner created. Her annual badge's key ``annual:{org}:{learner}:{year}`` was then
    held by the merged-away learner's badge (moved to the other account), so she counted as
    holding hers and never got it. Learner ids are never given twice now (migration 0022)."""
    _small_ministry(client, services)
    keeper = resolve_learner(services, "keeper@example.go.kr", "Keeper").id
    old = add_member(services, "mois", "old@example.go.kr", "Old", grade="5")
    _give(services, "mois", "old@example.go.kr", "general-course", 3)
    [first] = _annual(services, old)
    assert keeper is not None and first.idempotency_key == f"annual:mois:{old}:{YEAR}"
    with unit_of_work(services.engine) as session:
        merge(session, into=keeper, other=old)
    new = add_member(services, "mois", "new@example.go.kr", "New", grade="5")
    assert new > old
    _give(services, "mois", "new@example.go.kr", "general-course", 4)
    [badge] = _annual(services, new)
    assert badge.idempotency_key == f"annual:mois:{new}:{YEAR}"
    assert _evaluate(services) == []


def test_an_annual_key_held_by_another_learners_badge_is_not_hers(
    client: TestClient, services: Services
) -> None:
    """Regression (audit 10): a key naming the member's id but held by a badge of another
    learner (where SQLite gave an id again, before migration 0022) counted as her annual badge.
    She now gets it under the next key, once."""
    _small_ministry(client, services)
    member = add_member(services, "mois", "member@example.go.kr", "Member", grade="5")
    taken = f"annual:mois:{member}:{YEAR}"
    other = {"recipient": {"email": "other@example.go.kr"}, "achievement": "digital-basics"}
    issue(services, "mois", IssueRequest.model_validate(other), idempotency_key=taken)
    _give(services, "mois", "member@example.go.kr", "general-course", 3)
    [badge] = _annual(services, member)
    assert badge.idempotency_key == f"{taken}:2"
    assert _evaluate(services) == [] and len(_annual(services, member)) == 1


def test_migration_0022c_drops_the_hours_no_rule_may_have(services: Services) -> None:
    """Rules stored before audit 10 (F3) with NaN, Infinity or negative hours would no longer
    load: the migration drops those values, so what the organisation left out applies."""
    create_issuer(services, slug="mois", name="MOIS")
    org_id = make_org(services, "mois", "mois")
    migrate(services.engine, "0022", down=True)
    sqlite = services.engine.dialect.name == "sqlite"
    stored = (
        '{"required_hours": {"4": NaN, "5": -1, "6": 70}, "default_required": -5,'
        ' "informal_caps": {"mentoring": -20, "project": 10}, "mandatory_hours": '
        + ("Infinity" if sqlite else "-1")  # PostgreSQL's JSON never held NaN or Infinity
        + ', "informal_share": 1}'
    )
    if not sqlite:
        stored = stored.replace("NaN", "-2")
    with unit_of_work(services.engine) as db:
        db.execute(
            text("UPDATE organisation SET rules = :rules WHERE id = :id"),
            {"rules": stored, "id": org_id},
        )
    migrate(services.engine)
    with Session(services.engine) as db:
        org = db.get(Organisation, org_id)
        assert org is not None
        assert org.rules == {
            "required_hours": {"6": 70},
            "informal_caps": {"project": 10},
            "informal_share": 1,
        }
        rules = load(org.rules)
    assert rules.required_for("6") == 70 and rules.required_for("5") == 0
    assert rules.mandatory_hours == 10
