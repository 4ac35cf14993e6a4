"""Programme completion: the award is issued automatically, exactly once (also concurrently),
with the credentials that earned it as evidence."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from issuer.context import Services
from issuer.models import Achievement, Credential
from issuer.schemas import IssueRequest
from tests.units import create_api_key, create_issuer, issue, load_templates, resolve_learner

REQUIRED = ["leadership-skills-for-non-supervisors", "emotional-intelligence"]
ELECTIVES = ["leading-through-change", "innovation-in-government", "accountability-for-results"]
AWARD = "lead-aspiring-leader-certificate"


def _setup(client: TestClient, services: Services) -> dict[str, str]:
    create_issuer(services, slug="hrd", name="HRD")
    load_templates(services, "hrd")
    return {"Authorization": f"Bearer {create_api_key(services, 'hrd', ['admin'])}"}


def _awards(services: Services) -> list[Credential]:
    with Session(services.engine) as session:
        award = session.exec(select(Achievement).where(Achievement.key == AWARD)).one()
        return list(session.exec(select(Credential).where(Credential.achievement_id == award.id)))


def _body(key: str, email: str = "kim@example.org") -> dict[str, object]:
    return {"recipient": {"email": email, "name": "김민준"}, "achievement": key}


def test_completing_a_lead_level_issues_its_certificate_once(
    client: TestClient, services: Services
) -> None:
    headers = _setup(client, services)
    for key in [*REQUIRED, *ELECTIVES[:2]]:
        client.post("/api/v1/issuers/hrd/credentials", json=_body(key), headers=headers)
    assert _awards(services) == []  # two electives are not three
    client.post("/api/v1/issuers/hrd/credentials", json=_body(ELECTIVES[2]), headers=headers)
    [award] = _awards(services)
    evidence = award.document["evidence"]
    assert len(evidence) == 5 and all(
        e["id"].startswith("https://laurel.test/v/") for e in evidence
    )
    # a fourth elective does not issue the certificate again
    client.post(
        "/api/v1/issuers/hrd/credentials",
        json=_body("citizen-centred-service-design"),
        headers=headers,
    )
    assert len(_awards(services)) == 1


def test_bulk_and_concurrent_completion_award_once(client: TestClient, services: Services) -> None:
    headers = _setup(client, services)
    rows = [_body(key, "lee@example.org") for key in [*REQUIRED, *ELECTIVES]]
    report = client.post("/api/v1/issuers/hrd/credentials/bulk", json=rows, headers=headers)
    assert report.json()["summary"]["issued"] == 5
    assert len(_awards(services)) == 1
    rows = [_body(key, "park@example.org") for key in [*REQUIRED, *ELECTIVES]]
    with ThreadPoolExecutor(max_workers=5) as pool:
        list(
            pool.map(
                lambda row: client.post(
                    "/api/v1/issuers/hrd/credentials", json=row, headers=headers
                ),
                rows,
            )
        )
    assert len(_awards(services)) == 2  # one each for lee and park


def test_progress_talent_and_hours(client: TestClient, services: Services) -> None:
    headers = _setup(client, services)
    for key in [*REQUIRED, ELECTIVES[0]]:
        client.post("/api/v1/issuers/hrd/credentials", json=_body(key), headers=headers)
    progress = client.get(
        "/api/v1/issuers/hrd/programs/progress?email=KIM@example.org", headers=headers
    ).json()["programs"]
    aspiring = next(p for p in progress if p["program"] == "lead-aspiring-leader")
    assert aspiring["requiredMissing"] == [] and aspiring["electivesStillNeeded"] == 2
    assert not aspiring["complete"]
    unknown = client.get(
        "/api/v1/issuers/hrd/programs/progress?email=nobody@example.org", headers=headers
    )
    assert unknown.status_code == 404

    achievements = client.get("/api/v1/issuers/hrd/achievements", headers=headers).json()
    ei = next(a for a in achievements["achievements"] if a["key"] == "emotional-intelligence")
    code = ei["alignment"][0]["targetCode"]
    talent = f"/api/v1/issuers/hrd/talent?skill={code}"
    found = client.get(f"{talent}&level=1", headers=headers).json()["learners"]
    assert [f["email"] for f in found] == ["kim@example.org"] and found[0]["level"] >= 1
    assert client.get(f"{talent}&level=5", headers=headers).json()["learners"] == []
    year = client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()["credentials"][0][
        "validFrom"
    ][:4]
    report = client.get(f"/api/v1/issuers/hrd/hours?year={year}", headers=headers).json()
    [kim] = report["learners"]
    assert kim["email"] == "kim@example.org" and kim["hours"] > 0 and kim["required"] == 80
    csv = client.get(
        f"/api/v1/issuers/hrd/hours?year={year}&format=csv&required=10", headers=headers
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "email,year,hours,required,met,remaining"
    assert "kim@example.org" in csv.text


def test_gap_to_a_target_profile(client: TestClient, services: Services) -> None:
    from issuer.skills.frameworks import catalogue
    from issuer.skills.targets import load_targets

    assert {"lead-aspiring-leader", "ses-ecq", "ai-ready"} <= set(load_targets(catalogue(services)))
    headers = _setup(client, services)
    client.post("/api/v1/issuers/hrd/credentials", json=_body(REQUIRED[0]), headers=headers)
    before = client.get(
        "/api/v1/issuers/hrd/gaps?email=kim@example.org&target=ses-ecq", headers=headers
    ).json()
    assert before["skills"] == 22 and before["missing"]
    for item in before["missing"]:
        # ranked by competency match (primary alignments first), not by fewest hours
        factors = [a["alignmentFactor"] for a in item["closedBy"]]
        assert factors == sorted(factors, reverse=True)
        assert REQUIRED[0] not in [a["key"] for a in item["closedBy"]]  # already held
    for key in [REQUIRED[1], *ELECTIVES]:
        client.post("/api/v1/issuers/hrd/credentials", json=_body(key), headers=headers)
    after = client.get(
        "/api/v1/issuers/hrd/gaps?email=kim@example.org&target=ses-ecq", headers=headers
    ).json()
    assert after["met"] > before["met"]
    missing = client.get(
        "/api/v1/issuers/hrd/gaps?email=kim@example.org&target=nope", headers=headers
    )
    assert missing.status_code == 404 and "ses-ecq" in missing.json()["detail"]


def test_gap_chart(client: TestClient, services: Services) -> None:
    from xml.etree import ElementTree

    headers = _setup(client, services)
    client.post("/api/v1/issuers/hrd/credentials", json=_body(REQUIRED[0]), headers=headers)
    answer = client.get(
        "/api/v1/issuers/hrd/gaps?email=kim@example.org&target=ses-ecq", headers=headers
    ).json()
    assert len(answer["levels"]) == 22 and {"skill", "level", "levelWanted"} <= set(
        answer["levels"][0]
    )
    chart = client.get(
        "/api/v1/issuers/hrd/gaps.svg?email=kim@example.org&target=ses-ecq", headers=headers
    )
    assert chart.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(chart.content)
    assert len(root.findall("{http://www.w3.org/2000/svg}rect")) == 1 + 2 * 22


def test_reconcile_awards_what_was_missed_and_nothing_twice(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials issued while no award effect was recorded (an older version, a catalogue that
    gained the programme later): ``laurel programs reconcile`` awards the certificate, once."""
    from issuer.cli import app as cli
    from issuer.issuing import issuance

    headers = _setup(client, services)
    with monkeypatch.context() as patched:
        patched.setattr(issuance, "_programme_effects", lambda *args: None)
        for key in [*REQUIRED, *ELECTIVES]:
            client.post("/api/v1/issuers/hrd/credentials", json=_body(key), headers=headers)
    assert _awards(services) == []
    environment = {
        "LAUREL_DATABASE_URL": services.settings.database_url,
        "LAUREL_KEYS_DIR": str(services.settings.keys_dir),
        "LAUREL_KEY_PASSPHRASE": services.settings.key_passphrase,
        "LAUREL_BASE_URL": services.settings.base_url,
    }
    runner = CliRunner()
    first = runner.invoke(cli, ["programs", "reconcile", "--issuer", "hrd"], env=environment)
    assert first.exit_code == 0, first.output
    # the award, then the email telling the learner about it
    assert "1 learners checked; 2 effects done, 0 failed" in first.output
    assert len(_awards(services)) == 1
    again = runner.invoke(cli, ["programs", "reconcile", "--issuer", "hrd"], env=environment)
    assert again.exit_code == 0 and len(_awards(services)) == 1
    unknown = runner.invoke(cli, ["programs", "reconcile", "--issuer", "nope"], env=environment)
    assert unknown.exit_code == 1 and "nope" in unknown.output


def test_every_learning_hour_counts_once(client: TestClient, services: Services) -> None:
    """Awards and the annual badge record completion; they add no hours of their own. By hand:
    the five LEAD Aspiring Leader courses are 24 + 16 + 16 + 16 + 8 = 80 h (not 160 with the
    level certificate); a 40 h qualification plus the annual badge is 40 h (not 120)."""
    headers = _setup(client, services)
    for key in [*REQUIRED, *ELECTIVES]:
        client.post("/api/v1/issuers/hrd/credentials", json=_body(key), headers=headers)
    for key in ("engineer-information-processing", "ongoing-learning-annual"):
        issued = client.post(
            "/api/v1/issuers/hrd/credentials", json=_body(key, "lee@example.org"), headers=headers
        )
        assert issued.status_code == 201, issued.text
    [award] = _awards(services)
    assert "creditsEarned" not in award.document["credentialSubject"]
    assert "creditsAvailable" not in award.document["credentialSubject"]["achievement"]
    annual = issued.json()["credentialSubject"]
    assert "creditsEarned" not in annual and "creditsAvailable" not in annual["achievement"]

    year = award.document["validFrom"][:4]
    report = client.get(f"/api/v1/issuers/hrd/hours?year={year}", headers=headers).json()
    by_email = {row["email"]: row["hours"] for row in report["learners"]}
    assert by_email == {"kim@example.org": 80, "lee@example.org": 40}

    with Session(services.engine) as session:  # an award issued before, still carrying hours
        row = session.get(Credential, award.id)
        assert row is not None
        row.document = {
            **row.document,
            "credentialSubject": {**row.document["credentialSubject"], "creditsEarned": 80},
        }
        session.add(row)
        session.commit()
    report = client.get(f"/api/v1/issuers/hrd/hours?year={year}", headers=headers).json()
    assert {row["email"]: row["hours"] for row in report["learners"]}["kim@example.org"] == 80


def test_courses_dated_ahead_complete_the_programme_on_their_day_not_before(
    client: TestClient, services: Services
) -> None:
    """Regression (audit 8, F1): courses whose ``validFrom`` is a year ahead completed the
    programme at once, and the certificate was valid a year before any course it attests. They
    count from their day: the award effect is then due, and awards the certificate."""
    from datetime import UTC, datetime, timedelta

    from issuer.core.effects import PROGRAM_AWARDS
    from issuer.effects import run_due
    from issuer.models import PendingEffect

    headers = _setup(client, services)
    ahead = (datetime.now(UTC) + timedelta(days=365)).replace(microsecond=0)
    stamp = ahead.strftime("%Y-%m-%dT%H:%M:%SZ")
    for key in [*REQUIRED, *ELECTIVES]:
        issued = client.post(
            "/api/v1/issuers/hrd/credentials",
            json=_body(key) | {"validFrom": stamp},
            headers=headers,
        )
        assert issued.status_code == 201, issued.text
    assert _awards(services) == []
    progress = client.get(
        "/api/v1/issuers/hrd/programs/progress?email=kim@example.org", headers=headers
    ).json()["programs"]
    aspiring = next(p for p in progress if p["program"] == "lead-aspiring-leader")
    assert not aspiring["complete"] and aspiring["electivesStillNeeded"] == 3
    with Session(services.engine) as session:
        later = session.exec(
            select(PendingEffect).where(
                PendingEffect.kind == PROGRAM_AWARDS, col(PendingEffect.done_at).is_(None)
            )
        ).all()
        assert [e.run_after for e in later] == [ahead] * 5  # one per issuance
        # the day comes: the courses are valid from it, and the effect is due
        yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for course in session.exec(select(Credential)):
            course.document = {**course.document, "validFrom": yesterday}
            session.add(course)
        for effect in later:
            effect.run_after = datetime.now(UTC)
            session.add(effect)
        session.commit()
    run_due(services)
    assert len(_awards(services)) == 1


def _revoker(services: Services) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_key(services, 'hrd', ['revoke'])}"}


def _issue_all(client: TestClient, headers: dict[str, str], keys: list[str]) -> dict[str, str]:
    ids = {}
    for key in keys:
        issued = client.post("/api/v1/issuers/hrd/credentials", json=_body(key), headers=headers)
        assert issued.status_code == 201, issued.text
        ids[key] = issued.json()["id"].removeprefix("urn:uuid:")
    return ids


def test_revoking_a_course_that_earned_an_award_revokes_the_award(
    client: TestClient, services: Services
) -> None:
    """Regression (audit 8, F2): a revoked required course left the certificate valid. Now the
    award is revoked after the course, with a reason naming it, in the audit trail too."""
    from issuer.models import AuditEntry

    headers = _setup(client, services)
    ids = _issue_all(client, headers, [*REQUIRED, *ELECTIVES])
    [award] = _awards(services)
    revoked = client.post(
        f"/api/v1/credentials/{ids['emotional-intelligence']}/revoke",
        json={"reason": "academic misconduct"},
        headers=_revoker(services),
    )
    assert revoked.status_code == 200, revoked.text
    [award] = _awards(services)
    assert award.revoked_at is not None
    assert award.revocation_reason == (
        f"Emotional Intelligence (urn:uuid:{ids['emotional-intelligence']}), which counted "
        "towards LEAD Certificate Program: Aspiring Leader, was revoked: the programme is no "
        "longer complete"
    )
    with Session(services.engine) as session:
        entry = session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "credential.revoke",
                AuditEntry.subject == f"urn:uuid:{award.id}",
            )
        ).one()
    assert (entry.actor, entry.details) == ("programs", {"reason": award.revocation_reason})
    progress = client.get(
        "/api/v1/issuers/hrd/programs/progress?email=kim@example.org", headers=headers
    ).json()["programs"]
    aspiring = next(p for p in progress if p["program"] == "lead-aspiring-leader")
    assert aspiring["requiredMissing"] == ["emotional-intelligence"] and not aspiring["awarded"]


def test_revoking_a_course_the_programme_does_not_need_keeps_the_award(
    client: TestClient, services: Services
) -> None:
    headers = _setup(client, services)
    ids = _issue_all(client, headers, [*REQUIRED, *ELECTIVES, "citizen-centred-service-design"])
    revoked = client.post(
        f"/api/v1/credentials/{ids[ELECTIVES[0]]}/revoke",
        json={"reason": "issued by mistake"},
        headers=_revoker(services),
    )
    assert revoked.status_code == 200, revoked.text
    [award] = _awards(services)  # three electives remain
    assert award.revoked_at is None


def test_a_revoked_award_is_awarded_again_when_the_programme_is_complete_again(
    client: TestClient, services: Services
) -> None:
    """Regression (audit 8, F2): the idempotency key found the revoked award, so a learner who
    completed the programme again was never awarded. A revoked award no longer blocks: a retake
    completes it again, and two completions at once still award once. An award revoked by hand
    is not issued again from the same badges (``laurel programs reconcile`` leaves it)."""
    from issuer.programs.awards import reconcile

    headers = _setup(client, services)
    ids = _issue_all(client, headers, [*REQUIRED, *ELECTIVES])
    client.post(
        f"/api/v1/credentials/{ids['emotional-intelligence']}/revoke",
        json={"reason": "academic misconduct"},
        headers=_revoker(services),
    )
    [first] = _awards(services)
    assert first.revoked_at is not None
    retakes = [_body("emotional-intelligence") | {"narrative": f"Retake {n}"} for n in (1, 2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda row: client.post(
                    "/api/v1/issuers/hrd/credentials", json=row, headers=headers
                ),
                retakes,
            )
        )
    assert [a.status_code for a in answers] == [201, 201]
    live = [a for a in _awards(services) if a.revoked_at is None]
    assert len(live) == 1 and len(_awards(services)) == 2
    assert live[0].idempotency_key == f"program:lead-aspiring-leader:{first.learner_id}:2"
    by_hand = client.post(
        f"/api/v1/credentials/{live[0].id}/revoke",
        json={"reason": "awarded by mistake"},
        headers=_revoker(services),
    )
    assert by_hand.status_code == 200, by_hand.text
    with Session(services.engine) as session:
        assert reconcile(session, services, "hrd") == 1
        session.commit()
    from issuer.effects import run_due

    run_due(services)
    assert [a.revoked_at is None for a in _awards(services)] == [False, False]


def test_an_award_key_held_by_another_learners_credential_is_not_hers(
    client: TestClient, services: Services
) -> None:
    """Regression (audit 10): the award's key ``program:{id}:{learner}`` names the learner by
    id; held by a credential of another learner (where SQLite gave an id again, before
    migration 0022), the award failed on it as a concurrent completion and was never issued.
    She now gets it under the next key, once."""
    headers = _setup(client, services)
    kim = resolve_learner(services, "kim@example.org").id
    taken = f"program:lead-aspiring-leader:{kim}"
    other = {"recipient": {"email": "other@example.org"}, "achievement": REQUIRED[0]}
    issue(services, "hrd", IssueRequest.model_validate(other), idempotency_key=taken)
    _issue_all(client, headers, [*REQUIRED, *ELECTIVES])
    [award] = _awards(services)
    assert award.learner_id == kim and award.idempotency_key == f"{taken}:2"
    _issue_all(client, headers, ["citizen-centred-service-design"])
    assert _awards(services) == [award]


def test_an_award_goes_to_the_address_the_issuer_knows_not_her_primary(
    client: TestClient, services: Services
) -> None:
    """Audit 11: the award was issued to the learner's primary address, which after a wallet
    merge may be one only another issuer knows; the issuer's own views then showed it. It goes
    to the address the issuer's course badges were issued to."""
    from issuer.effects import work
    from issuer.models import LearnerEmail
    from issuer.people.emails import issued_email

    headers = _setup(client, services)
    private, office = "kim.private@clinic.example.org", "kim@example.org"
    learner = resolve_learner(services, private).id
    assert learner is not None
    with work(services) as db:
        db.add(LearnerEmail(learner_id=learner, email=office, verified=True, is_primary=False))
    for key in [*REQUIRED, *ELECTIVES]:
        issued = client.post(
            "/api/v1/issuers/hrd/credentials", json=_body(key, office), headers=headers
        )
        assert issued.status_code == 201, issued.text
    [award] = _awards(services)
    assert award.learner_id == learner
    assert issued_email(award.document, [private, office]) == office
