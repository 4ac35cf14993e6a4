"""Development plans (IDP/EDP): seeded from the gap to a target, progress that follows the badges
the person earns at the issuers the organisation trusts, signatures, the review and the exports.

Levels by hand (issuer.skills.cloud and weights; docs/skills.md): a recent course weighs
type 1 × (1 + ln(1 + hours / 8)) × alignment factor (1 for its first alignment, 0.5 after), and a
level needs a summed weight of 3 (level 2), 6, 10, 16. A 24-hour course: 2.39 for its first skill,
1.19 for the others; a 16-hour one 2.10 and 1.05: each alone is level 1 (level 2 of a target needs
a second course); two courses with the skill first, 24 + 16 hours: 4.49, level 2."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import BadRequest, Conflict, Forbidden
from issuer.effects import work
from issuer.models import AccessLogEntry, Achievement, Issuer
from issuer.orgs import organisation
from issuer.orgs import plan_changes as changes
from issuer.orgs import plans as service
from issuer.orgs.plan_export import CSV_COLUMNS
from tests.issuer.plan_fixtures import PLAN_DIRECTOR, PLAN_LEAD, PlanOrg, plan_issue, plan_org
from tests.units import create_api_key

KIM, PARK = "kim@mois.example.kr", "park@mois.example.kr"
YEAR = datetime.now(UTC).year
LSNS = "leadership-skills-for-non-supervisors"  # 24 h: ECQ2-4, ECQ1-3, ECQ3-1
EI = "emotional-intelligence"  # 16 h: AI emotional-intelligence, interpersonal-skills; ECQ2-1, 1-4


def _create(services: Services, org: PlanOrg, email: str, target: str | None) -> int:
    with work(services) as db:
        plan = service.create(
            db,
            services,
            organisation(db, org.slug),
            org.learners[email],
            YEAR,
            target,
            emails=[email],
        )
        assert plan.id is not None
        return plan.id


def _view(services: Services, plan_id: int) -> service.PlanView:
    with Session(services.engine) as db:
        org = organisation(db, "mois")
        return service.view(db, services, org, service.plan_by_id(db, org, plan_id))


def _codes(shown: service.PlanView) -> list[tuple[str, str, int, int]]:
    return [
        (o.objective.framework, o.objective.code, o.objective.level_at_start, o.level_now)
        for o in shown.objectives
    ]


def test_an_idp_is_seeded_from_the_gap_and_updates_as_badges_arrive(
    client: TestClient, services: Services
) -> None:
    org = plan_org(services)
    plan_issue(client, services, "nhi", KIM, EI)  # a trusted institute: counts
    plan_id = _create(services, org, KIM, "lead-aspiring-leader")
    shown = _view(services, plan_id)
    assert shown.plan.kind == "IDP" and shown.plan.supervisor_email == PLAN_LEAD
    # lead-aspiring-leader wants level 2 in seven skills; the EI course gave level 1 in four
    assert _codes(shown) == [
        ("ecq", "ECQ2-4", 0, 0),
        ("ecq", "ECQ1-3", 0, 0),
        ("ecq", "ECQ3-1", 0, 0),
        ("ai-competency", "emotional-intelligence", 1, 1),
        ("ai-competency", "interpersonal-skills", 1, 1),
        ("ecq", "ECQ2-1", 1, 1),
        ("ecq", "ECQ1-4", 1, 1),
    ]
    # LSNS is primarily ECQ2-4 and covers ECQ1-3 and ECQ3-1 too: one activity for the three.
    # Emotional intelligence: the EI course is held; LDS week 1 has it (secondly) and ECQ1-4.
    # Interpersonal skills: no other course is aligned to it, so nothing is suggested.
    # ECQ2-1: Managing Conflict has it first.
    objective = {o.objective.code: o.objective.id for o in shown.objectives}
    assert [(a.activity.achievement_key, a.activity.objective_id) for a in shown.activities] == [
        (LSNS, objective["ECQ2-4"]),
        ("lds-week-1-personal", objective["emotional-intelligence"]),
        ("managing-conflict", objective["ECQ2-1"]),
    ]
    assert all(a.done_at is None for a in shown.activities)

    plan_issue(client, services, "other", KIM, LSNS)  # an institute not trusted: nothing
    assert _view(services, plan_id).done == 0
    ref = plan_issue(client, services, "mois", KIM, LSNS)
    shown = _view(services, plan_id)
    first = shown.activities[0]
    assert first.done_at is not None and first.credential_ref == _urn(ref)
    assert shown.done == 1 and not shown.all_done
    # one course is level 1 in each of its three skills: half way from 0 to 2, none met yet
    assert [(o.level_now, o.percent) for o in shown.objectives[:3]] == [(1, 50)] * 3
    assert shown.met == 0
    # a second course with ECQ2-4 first (16 h): 2.39 + 2.10 = 4.49, level 2
    plan_issue(client, services, "mois", KIM, "building-high-performing-teams")
    shown = _view(services, plan_id)
    assert [(o.level_now, o.percent) for o in shown.objectives[:3]] == [(2, 100), (1, 50), (1, 50)]
    assert shown.met == 1


def _urn(ref: str) -> str:
    return ref if ref.startswith("urn:uuid:") else f"urn:uuid:{ref}"


def test_a_badge_of_another_year_does_not_complete_an_activity(
    client: TestClient, services: Services
) -> None:
    org = plan_org(services)
    plan_id = _create(services, org, KIM, "lead-aspiring-leader")
    plan_issue(client, services, "mois", KIM, LSNS, validFrom=f"{YEAR - 1}-06-01T00:00:00Z")
    assert _view(services, plan_id).done == 0


def test_an_edp_has_only_ecq_objectives(client: TestClient, services: Services) -> None:
    org = plan_org(services)
    shown = _view(services, _create(services, org, PARK, "lead-aspiring-leader"))
    assert shown.plan.kind == "EDP" and shown.plan.supervisor_email == PLAN_DIRECTOR
    assert [code for _, code, _, _ in _codes(shown)] == [
        "ECQ2-4",
        "ECQ1-3",
        "ECQ3-1",
        "ECQ2-1",
        "ECQ1-4",
    ]
    # the default target of an EDP (a plan for next year): the ECQs' 22 competencies
    with work(services) as db:
        plan = service.create(db, services, organisation(db, "mois"), org.learners[PARK], YEAR + 1)
        objectives = service.objectives_of(db, plan)
    assert len(objectives) == 22 and {o.framework for o in objectives} == {"ecq"}
    with work(services) as db, pytest.raises(BadRequest, match="ECQs"):
        service.create(
            db, services, organisation(db, "mois"), org.learners[PARK], YEAR + 2, "ai-ready"
        )


def _sign_both(services: Services, org: PlanOrg, plan_id: int) -> None:
    with work(services) as db:
        mois = organisation(db, "mois")
        plan = service.plan_by_id(db, mois, plan_id)
        changes.sign_as_person(db, mois, plan, org.learners[KIM], [KIM])
    with work(services) as db:
        plan = service.plan_by_id(db, organisation(db, "mois"), plan_id)
        changes.sign_as_supervisor(db, plan, [PLAN_LEAD])


def test_signatures_in_order_and_reset_on_edit(client: TestClient, services: Services) -> None:
    org = plan_org(services)
    plan_id = _create(services, org, KIM, "lead-aspiring-leader")
    with work(services) as db, pytest.raises(Conflict, match="signs the plan first"):
        changes.sign_as_supervisor(
            db, service.plan_by_id(db, organisation(db, "mois"), plan_id), [PLAN_LEAD]
        )
    with work(services) as db, pytest.raises(Forbidden):
        mois = organisation(db, "mois")
        changes.sign_as_person(
            db, mois, service.plan_by_id(db, mois, plan_id), org.learners[PARK], [PARK]
        )
    _sign_both(services, org, plan_id)
    shown = _view(services, plan_id)
    assert shown.plan.state == "signed" and shown.plan.signed_by_supervisor_at is not None
    with work(services) as db, pytest.raises(Forbidden):  # the director is not Kim's supervisor
        changes.sign_as_supervisor(
            db, service.plan_by_id(db, organisation(db, "mois"), plan_id), [PLAN_DIRECTOR]
        )
    with work(services) as db:
        mois = organisation(db, "mois")
        plan = service.plan_by_id(db, mois, plan_id)
        changes.add_activity(
            db,
            services,
            mois,
            plan,
            changes.ActivityInput(
                "Job rotation in the budget office",
                starts_on=date(YEAR, 3, 1),
                ends_on=date(YEAR, 3, 31),
                cost=150000,
                currency="krw",
            ),
        )
    shown = _view(services, plan_id)
    assert shown.plan.state == "draft"
    assert shown.plan.signed_by_person_at is None and shown.plan.signed_by_supervisor_at is None
    # seeded: LSNS closes the three ECQ objectives, EI the other four; then the rotation
    assert [
        (a.activity.achievement_key, a.activity.cost, a.activity.currency) for a in shown.activities
    ] == [(LSNS, 0.0, "KRW"), (EI, 0.0, "KRW"), (None, 150000.0, "KRW")]


def test_bad_activities_are_refused(client: TestClient, services: Services) -> None:
    org = plan_org(services)
    plan_id = _create(services, org, KIM, "lead-aspiring-leader")
    bad = [
        (changes.ActivityInput(" "), "empty"),
        (changes.ActivityInput("x", achievement_key="no-such-course"), "neither"),
        (changes.ActivityInput("x", starts_on=date(YEAR, 5, 2), ends_on=date(YEAR, 5, 1)), "end"),
        (changes.ActivityInput("x", cost=-1), "cost"),
        (changes.ActivityInput("x", cost=float("nan")), "cost"),
        (changes.ActivityInput("x", currency="WON!"), "currency"),
        (changes.ActivityInput("x", objective_id=10**9), "objective"),
    ]
    for given, message in bad:
        with work(services) as db, pytest.raises(BadRequest, match=message):
            mois = organisation(db, "mois")
            changes.add_activity(db, services, mois, service.plan_by_id(db, mois, plan_id), given)
    with work(services) as db, pytest.raises(Conflict, match="already"):
        service.create(
            db, services, organisation(db, "mois"), org.learners[KIM], YEAR, "lead-manager"
        )


def test_a_course_activity_is_not_done_by_word_through_an_edit(
    client: TestClient, services: Services
) -> None:
    """A course's activity is done when its badge arrives: taking the course off, marking it
    done by word and putting the course back leaves it not done (audit round 8: every course of
    a plan showed done with no badge, and the early review froze it)."""
    org = plan_org(services)
    plan_id = _create(services, org, KIM, "lead-aspiring-leader")
    courses = [a.activity for a in _view(services, plan_id).activities]
    assert courses and all(a.achievement_key for a in courses)
    first = courses[0]
    given = changes.ActivityInput(first.title, achievement_key=first.achievement_key)
    with work(services) as db:
        mois = organisation(db, "mois")
        plan = service.plan_by_id(db, mois, plan_id)
        assert first.id is not None
        with pytest.raises(BadRequest, match="when its badge arrives"):
            changes.mark_done(db, plan, first.id)
        bare = changes.ActivityInput(first.title)
        changes.edit_activity(db, services, mois, plan, first.id, bare)
        changes.mark_done(db, plan, first.id)  # a reading, by the person's word: allowed
        changes.edit_activity(db, services, mois, plan, first.id, given)
    shown = _view(services, plan_id).activities[0]
    assert shown.activity.achievement_key == first.achievement_key
    assert shown.done_at is None and shown.activity.done_at is None


def test_the_review_waits_for_signatures_and_the_end_of_the_work(
    client: TestClient, services: Services
) -> None:
    org = plan_org(services)
    plan_issue(client, services, "nhi", KIM, EI)  # seeds three activities (see the first test)
    plan_id = _create(services, org, KIM, "lead-aspiring-leader")

    def review(when: datetime | None = None, who: str = PLAN_LEAD) -> None:
        with work(services) as db:
            mois = organisation(db, "mois")
            plan = service.plan_by_id(db, mois, plan_id)
            first = service.objectives_of(db, plan)[0]
            changes.review(
                db, services, mois, plan, [who], "Good year.", {first.id or 0: "Met"}, when
            )

    with pytest.raises(Conflict, match="signed it"):
        review()
    _sign_both(services, org, plan_id)
    with pytest.raises(Conflict, match="every activity is done"):
        review()
    with pytest.raises(Forbidden):
        review(datetime(YEAR + 1, 1, 2, tzinfo=UTC), who=KIM)
    ref = plan_issue(client, services, "mois", KIM, LSNS)
    with pytest.raises(Conflict, match="every activity is done"):
        review()  # one of three
    plan_issue(client, services, "mois", KIM, "lds-week-1-personal")
    plan_issue(client, services, "nhi", KIM, "managing-conflict")
    review()  # every activity done: the review may come before the year ends
    shown = _view(services, plan_id)
    assert shown.plan.state == "reviewed" and shown.plan.review == "Good year."
    assert shown.objectives[0].objective.outcome == "Met"
    assert shown.activities[0].activity.credential_ref == _urn(ref)  # frozen on the plan
    with work(services) as db, pytest.raises(Conflict, match="closed"):
        changes.set_goal(db, service.plan_by_id(db, organisation(db, "mois"), plan_id), "more")


def test_api_lists_plans_and_exports_csv(client: TestClient, services: Services) -> None:
    org = plan_org(services)
    plan_issue(client, services, "nhi", KIM, EI)  # seven objectives, three activities
    plan_id = _create(services, org, KIM, "lead-aspiring-leader")
    _create(services, org, PARK, "lead-aspiring-leader")
    plan_issue(client, services, "mois", KIM, LSNS)
    answer = client.get(f"/api/v1/orgs/mois/plans?year={YEAR}", headers=org.headers)
    assert answer.status_code == 200, answer.text
    listed = answer.json()["plans"]
    assert [(p["kind"], p["person"]["email"]) for p in listed] == [("IDP", KIM), ("EDP", PARK)]
    assert listed[0]["progress"] == {
        "activities": 3,
        "activitiesDone": 1,
        "objectives": 7,
        "objectivesMet": 0,
    }

    answer = client.get(f"/api/v1/orgs/mois/plans?year={YEAR}&format=csv", headers=org.headers)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    kim = [r for r in rows if r["email"] == KIM]
    # Kim: a row per activity, then one per objective without an activity; every skill is at
    # level 1 (EI gave four, LSNS three: one course each)
    assert [(r["objective_code"], r["achievement_key"], r["level_now"]) for r in kim] == [
        ("ECQ2-4", LSNS, "1"),
        ("emotional-intelligence", "lds-week-1-personal", "1"),
        ("ECQ2-1", "managing-conflict", "1"),
        ("ECQ1-3", "", "1"),
        ("ECQ3-1", "", "1"),
        ("interpersonal-skills", "", "1"),
        ("ECQ1-4", "", "1"),
    ]
    assert kim[0]["done_at"] != "" and kim[0]["cost"] == "0.00"

    one = client.get(f"/api/v1/orgs/mois/plans/{plan_id}", headers=org.headers)
    assert one.status_code == 200 and one.json()["activities"][0]["done"] is True
    with Session(services.engine) as db:
        logged = [(e.action, e.subject) for e in db.exec(select(AccessLogEntry))]
    assert ("plans.list", f"mois {YEAR}") in logged and ("plan.view", KIM) in logged
    log = client.get("/api/v1/orgs/mois/plans/999999", headers=org.headers)
    assert log.status_code == 404 and log.headers["content-type"] == "application/problem+json"
    bad = client.get("/api/v1/orgs/mois/plans?year=12", headers=org.headers)
    assert bad.status_code in (400, 422)
    other = client.get(
        f"/api/v1/orgs/mois/plans?year={YEAR}", headers={"Authorization": "Bearer nope"}
    )
    assert other.status_code == 401
    # another issuer's key: as if the organisation did not exist; a key without read: 403
    nhi = {"Authorization": f"Bearer {create_api_key(services, 'nhi', ['admin'])}"}
    assert client.get("/api/v1/orgs/mois/plans", headers=nhi).status_code == 404
    issue_only = {"Authorization": f"Bearer {create_api_key(services, 'mois', ['issue'])}"}
    assert client.get("/api/v1/orgs/mois/plans", headers=issue_only).status_code == 403


def test_suggestions_prefer_what_the_trusted_issuers_offer(
    client: TestClient, services: Services
) -> None:
    """Without the three-objective course at ``mois`` and ``nhi`` (only the untrusted ``other``
    offers it), each ECQ objective gets an offered course with it first: ECQ2-4 two 16-hour
    courses, the first by key (neither in a programme Kim started); ECQ1-3 Leading Through Change
    (which has ECQ1-4 too, so that objective needs no course of its own); ECQ3-1 the 8-hour
    Accountability for Results. The other four objectives are seeded as in the first test."""
    org = plan_org(services)
    plan_issue(client, services, "nhi", KIM, EI)
    with work(services) as db:
        trusted = [
            i.id for i in db.exec(select(Issuer).where(col(Issuer.slug).in_(["mois", "nhi"])))
        ]
        for row in db.exec(
            select(Achievement).where(
                col(Achievement.issuer_id).in_(trusted),
                col(Achievement.key).in_([LSNS, "lds-week-4-integration"]),
            )
        ):
            db.delete(row)
    shown = _view(services, _create(services, org, KIM, "lead-aspiring-leader"))
    assert [a.activity.achievement_key for a in shown.activities] == [
        "building-high-performing-teams",
        "leading-through-change",
        "accountability-for-results",
        "lds-week-1-personal",
        "managing-conflict",
    ]
    with Session(services.engine) as db:
        mois = organisation(db, "mois")
        offered = service.suggestions(
            db, services, mois, shown.plan, [shown.objectives[0].objective]
        )
    # offered first (a secondary alignment of a trusted issuer's course before the untrusted
    # issuer's LSNS), then a primary alignment before a secondary one
    assert [(s["key"], s["offered"], s["match"]) for s in next(iter(offered.values()))] == [
        ("building-high-performing-teams", True, "primary"),
        ("team-development", True, "primary"),
        ("management-development-leading-from-the-middle", True, "secondary"),
    ]


def test_a_unit_head_is_signed_for_by_the_unit_above(
    client: TestClient, services: Services
) -> None:
    org = plan_org(services)
    shown = _view(services, _create(services, org, PLAN_LEAD, "lead-team-leader"))
    assert shown.plan.supervisor_email == PLAN_DIRECTOR
