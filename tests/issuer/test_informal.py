"""Informal learning claims: a member claims, the department's supervisor endorses or returns,
an endorsed claim becomes a badge of the home issuer with hours within the category's yearly cap
and the supervisor's EndorsementCredential, which verifies with Laurel's verifier."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.db import migrate
from issuer.core.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests
from issuer.effects import work
from issuer.issuing.credentials import name_in
from issuer.models import Credential, InformalClaim, Issuer, IssuerMail, Learner, OrgMember
from issuer.orgs import informal
from tests.issuer.conftest import ClientFetcher
from tests.issuer.orgs_fixtures import InformalOrg, informal_org, verified_learner
from verifier import Verdict, verify_credential

ANN, BOSS = "ann@mois.example", "boss@mois.example"


@pytest.fixture(autouse=True)
def _schema(services: Services) -> None:
    migrate(services.engine)


def claim(hours: float = 15, category: str = "mentoring", **changes: Any) -> informal.ClaimIn:
    fields: dict[str, Any] = {
        "category": category,
        "title": "Mentoring a new colleague",
        "started_on": date(2026, 3, 1),
        "ended_on": date(2026, 8, 31),
        "hours": hours,
        "learned": "How to explain our budget process to someone new.",
        "evidence_url": "https://intranet.mois.example/mentoring/17",
        "evidence_text": "Meeting log signed by the mentee.",
    }
    return informal.ClaimIn(**{**fields, **changes})


def submit(services: Services, org: InformalOrg, body: informal.ClaimIn, who: str = ANN) -> int:
    with work(services) as db:
        row = informal.submit(db, services, org.learners[who], org.org_id, body)
        assert row.id is not None
        return row.id


def endorse(services: Services, org: InformalOrg, claim_id: int, **options: Any) -> InformalClaim:
    with work(services) as db:
        return informal.endorse(db, services, org.learners[BOSS], claim_id, **options)


def test_an_endorsed_claim_becomes_a_badge_that_verifies_with_its_endorsement(
    services: Services, client: TestClient, fetcher: ClientFetcher
) -> None:
    org = informal_org(services)
    claim_id = submit(services, org, claim(hours=15))
    with Session(services.engine) as db:
        row = db.get(InformalClaim, claim_id)
        assert row is not None and row.state == "submitted"
        assert row.supervisor_email == BOSS  # from the parent unit: "digital" names nobody
        assert [c.id for c in informal.awaiting(db, org.learners[BOSS])] == [claim_id]
        assert informal.awaiting(db, org.learners[ANN]) == []

    done = endorse(services, org, claim_id, comment="Well documented.", hours=12)
    assert (done.state, done.hours, done.hours_endorsed, done.hours_counted) == (
        "endorsed",
        15,
        12,
        12,
    )
    assert done.cap_hours == 20
    with Session(services.engine) as db:
        credential = db.get(Credential, done.credential_id)
        assert credential is not None and credential.learner_id == org.learners[ANN]
    document = credential.document
    subject = document["credentialSubject"]
    assert subject["creditsEarned"] == 12
    assert "informal:mentoring" in subject["achievement"]["tag"]
    assert subject["achievement"]["achievementType"] == "Achievement"
    assert "How to explain our budget process" in subject["narrative"]
    assert document["evidence"] == [
        {
            "type": ["Evidence"],
            "id": "https://intranet.mois.example/mentoring/17",
            "name": "Mentoring a new colleague",
            "narrative": "Meeting log signed by the mentee.",
        }
    ]
    assert document["validFrom"].startswith("2026-08-31")
    [endorsement] = document["endorsement"]
    assert endorsement == done.endorsement
    assert endorsement["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert endorsement["issuer"]["id"] == document["issuer"]["id"]
    assert endorsement["issuer"]["official"] == "Park Ji-ho (Director)"
    assert endorsement["credentialSubject"] == {
        "id": document["id"],
        "type": ["EndorsementSubject"],
        "endorsementComment": "Well documented.",
    }
    later = datetime.now(UTC) + timedelta(minutes=1)
    report = verify_credential(document, now=later, fetcher=fetcher)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    endorsements = report.check("endorsements")
    assert endorsements is not None and endorsements.outcome.name == "PASSED"
    assert verify_credential(endorsement, now=later, fetcher=fetcher).verdict is Verdict.VERIFIED

    tampered = {**document, "endorsement": [{**endorsement, "name": "Endorsement by someone"}]}
    report = verify_credential(tampered, now=later, fetcher=fetcher)
    endorsements = report.check("endorsements")
    assert endorsements is not None and endorsements.outcome.name == "FAILED"


def test_the_badge_and_endorsement_never_name_people_with_another_issuers_text(
    services: Services,
) -> None:
    """Audit round 9: ``Learner.name`` is whatever the first issuer to name an email gave (any
    tenant), so a claimant or supervisor missing from the roster's names is not named with it
    in what this organisation's issuer signs: the badge names nobody, the official is an email."""
    lure = "Kim. ACTION NEEDED: re-verify at https://evil.example/login -"
    org = informal_org(services)
    with work(services) as db:
        for member in db.exec(select(OrgMember).where(OrgMember.org_id == org.org_id)):
            member.name = None
            db.add(member)
        for learner in db.exec(select(Learner)):
            learner.name = lure
            db.add(learner)
    done = endorse(services, org, submit(services, org, claim(hours=15)))
    with Session(services.engine) as db:
        credential = db.get(Credential, done.credential_id)
        assert credential is not None
    assert "evil.example" not in json.dumps(credential.document)
    assert name_in(credential.document) is None
    assert credential.document["endorsement"][0]["issuer"]["official"] == BOSS


def test_the_category_cap_limits_the_hours_a_year(services: Services) -> None:
    """Mentoring's default cap is 20 hours a year: 15 h, then 10 h ⇒ the second badge carries
    5 h; a third that year carries 0; one the next year counts in full again."""
    org = informal_org(services)
    first = endorse(services, org, submit(services, org, claim(hours=15)))
    second = endorse(services, org, submit(services, org, claim(hours=10)))
    third = endorse(services, org, submit(services, org, claim(hours=3)))
    next_year = claim(hours=8, started_on=date(2025, 1, 1), ended_on=date(2025, 2, 1))
    earlier = endorse(services, org, submit(services, org, next_year))
    coaching = endorse(services, org, submit(services, org, claim(hours=10, category="coaching")))
    counted = [c.hours_counted for c in (first, second, third, earlier, coaching)]
    assert counted == [15, 5, 0, 8, 10]
    assert (second.hours, second.hours_endorsed, second.cap_hours) == (10, 10, 20)
    with Session(services.engine) as db:
        credits = [
            db.get(Credential, c.credential_id).document["credentialSubject"]["creditsEarned"]  # type: ignore[union-attr]
            for c in (first, second, third)
        ]
    assert credits == [15, 5, 0]


def test_an_organisation_cap_from_its_rules(services: Services) -> None:
    org = informal_org(services, rules={"informal_caps": {"shadowing": 4}})
    done = endorse(services, org, submit(services, org, claim(hours=6, category="shadowing")))
    assert (done.hours_counted, done.cap_hours) == (4, 4)
    project = endorse(services, org, submit(services, org, claim(hours=40, category="project")))
    assert (project.hours_counted, project.cap_hours) == (0, 0)  # left out: counts nothing


def test_returned_then_edited_and_sent_again(services: Services) -> None:
    org = informal_org(services)
    claim_id = submit(services, org, claim())
    with work(services) as db, pytest.raises(BadRequest, match="say why"):
        informal.return_claim(db, services, org.learners[BOSS], claim_id, "  ")
    with work(services) as db:
        returned = informal.return_claim(
            db, services, org.learners[BOSS], claim_id, "Add the meeting dates."
        )
        assert (returned.state, returned.supervisor_comment) == (
            "returned",
            "Add the meeting dates.",
        )
    with work(services) as db, pytest.raises(Conflict):
        informal.endorse(db, services, org.learners[BOSS], claim_id)
    with work(services) as db:
        again = informal.resubmit(
            db, services, org.learners[ANN], claim_id, claim(title="Mentoring (12 meetings)")
        )
        assert (again.state, again.title) == ("submitted", "Mentoring (12 meetings)")
    with work(services) as db, pytest.raises(Conflict):
        informal.resubmit(db, services, org.learners[ANN], claim_id, claim())
    assert endorse(services, org, claim_id).state == "endorsed"
    with work(services) as db, pytest.raises(Conflict):
        informal.withdraw(db, org.learners[ANN], claim_id)


def test_a_member_cannot_flood_the_supervisor(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each claim emails the supervisor: a learner has at most ``MAX_WAITING`` claims waiting in
    an organisation (409) and sends at most ``MAX_A_DAY`` a day, new or again (429)."""
    monkeypatch.setattr(informal, "MAX_WAITING", 2)
    monkeypatch.setattr(informal, "MAX_A_DAY", 4)
    org = informal_org(services)
    ann = org.learners[ANN]
    first, second = submit(services, org, claim()), submit(services, org, claim())
    with work(services) as db, pytest.raises(Conflict, match="2 claims waiting"):
        informal.submit(db, services, ann, org.org_id, claim())
    with work(services) as db:
        informal.withdraw(db, ann, first)
    third = submit(services, org, claim())  # two waiting again, three sent today
    with work(services) as db:
        informal.return_claim(db, services, org.learners[BOSS], second, "Add the dates.")
        informal.resubmit(db, services, ann, second, claim(title="Mentoring, with dates"))
    with work(services) as db:
        informal.withdraw(db, ann, third)
    submit(services, org, claim())  # the fourth today
    with work(services) as db:
        informal.withdraw(db, ann, second)
    with work(services) as db, pytest.raises(TooManyRequests, match="4 claims in the last 24"):
        informal.submit(db, services, ann, org.org_id, claim())
    with work(services) as db:  # a day later
        db.execute(update(InformalClaim).values(submitted_at=datetime.now(UTC) - timedelta(days=2)))
    submit(services, org, claim())


def test_withdrawn_claims_cannot_be_decided(services: Services) -> None:
    org = informal_org(services)
    claim_id = submit(services, org, claim())
    with work(services) as db:
        assert informal.withdraw(db, org.learners[ANN], claim_id).state == "withdrawn"
    with work(services) as db, pytest.raises(Conflict):
        informal.endorse(db, services, org.learners[BOSS], claim_id)
    with work(services) as db, pytest.raises(Conflict):
        informal.return_claim(db, services, org.learners[BOSS], claim_id, "no")


def test_only_the_named_supervisor_decides(services: Services) -> None:
    org = informal_org(services)
    claim_id = submit(services, org, claim())
    stranger = verified_learner(services, "someone@mois.example")
    with work(services) as db, pytest.raises(NotFound):
        informal.endorse(db, services, stranger, claim_id)
    with work(services) as db, pytest.raises(NotFound):
        informal.endorse(db, services, org.learners[ANN], claim_id)
    with work(services) as db, pytest.raises(BadRequest, match="at most the 15"):
        informal.endorse(db, services, org.learners[BOSS], claim_id, hours=16)


def test_no_supervisor_and_not_a_member_are_refused(services: Services) -> None:
    org = informal_org(
        services,
        units=[("policy", None, None), ("digital", "policy", None)],
        members=[(ANN, "Ann Lee", "digital")],
    )
    with work(services) as db, pytest.raises(BadRequest, match="no supervisor is named"):
        informal.submit(db, services, org.learners[ANN], org.org_id, claim())
    outsider = verified_learner(services, "out@example.org")
    with work(services) as db, pytest.raises(Forbidden, match="not on the roster"):
        informal.submit(db, services, outsider, org.org_id, claim())


def test_a_supervisor_claiming_goes_to_the_unit_above(services: Services) -> None:
    org = informal_org(
        services,
        units=[("top", None, "chief@mois.example"), ("policy", "top", BOSS)],
        members=[(BOSS, "Park Ji-ho", "policy"), ("chief@mois.example", "Choi", "top")],
    )
    claim_id = submit(services, org, claim(), who=BOSS)
    with Session(services.engine) as db:
        row = db.get(InformalClaim, claim_id)
        assert row is not None and row.supervisor_email == "chief@mois.example"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"category": "reading"}, "kind of learning"),
        ({"title": " "}, "title"),
        ({"ended_on": date(2026, 2, 1)}, "end before"),
        ({"ended_on": date(2999, 1, 1)}, "future"),
        ({"hours": 0}, "more than 0"),
        ({"learned": ""}, "what you learned"),
        ({"evidence_url": "javascript:alert(1)"}, "http"),
        ({"evidence_url": None, "evidence_text": " "}, "give evidence"),
        # the badge's evidence name is one line; the supervisor's email subject is the title
        ({"title": "Data study\r\nBcc: everyone@evil.example"}, "one line"),
        ({"title": "Data\x01study"}, "one line"),
        ({"learned": "a\x01b"}, "control characters"),
        ({"evidence_text": "a\x00b"}, "control characters"),
    ],
)
def test_bad_claims_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        informal.checked(claim(**changes), today=date(2026, 12, 2))


def test_a_claim_stored_with_control_characters_can_still_be_endorsed(services: Services) -> None:
    """Claims stored before their text was checked: the badge's text leaves the characters out
    (its evidence name is one line), rather than the endorsement failing every time."""
    org = informal_org(services)
    claim_id = submit(services, org, claim())
    with work(services) as db:
        row = db.get(InformalClaim, claim_id)
        assert row is not None
        row.title, row.learned = "Data\x01study", "How\x02 to mentor"
        db.add(row)
    done = endorse(services, org, claim_id)
    assert done.state == "endorsed"
    with Session(services.engine) as db:
        credential = db.get(Credential, done.credential_id)
        assert credential is not None
    assert credential.document["evidence"][0]["name"] == "Data study"
    assert "How to mentor" in credential.document["credentialSubject"]["narrative"]


def test_two_endorsements_racing_issue_one_badge(services: Services) -> None:
    """Two decisions at once (two tabs, two devices): one conditional UPDATE wins, the other
    gets ``Conflict``, and exactly one badge is issued."""
    org = informal_org(services)
    claim_id = submit(services, org, claim())
    results: list[str] = []
    barrier = threading.Barrier(2)

    def decide() -> None:
        barrier.wait()
        try:
            endorse(services, org, claim_id)
            results.append("endorsed")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=decide) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["conflict", "endorsed"]
    with Session(services.engine) as db:
        assert len(list(db.exec(select(Credential)))) == 1


def test_a_korean_issuers_badge_and_endorsement_are_in_korean(
    services: Services, client: TestClient, fetcher: ClientFetcher
) -> None:
    org = informal_org(services)
    with work(services) as db:
        issuer = db.exec(select(Issuer).where(Issuer.slug == org.issuer_slug)).one()
        assert issuer.id is not None
        db.add(IssuerMail(issuer_id=issuer.id, language="ko"))
    done = endorse(services, org, submit(services, org, claim(hours=5, category="shadowing")))
    with Session(services.engine) as db:
        credential = db.get(Credential, done.credential_id)
        assert credential is not None
    document = credential.document
    assert document["credentialSubject"]["achievement"]["name"] == "비공식 학습: 업무 참관"
    assert document["credentialSubject"]["achievement"]["achievementType"] == "Fieldwork"
    [endorsement] = document["endorsement"]
    assert endorsement["name"] == "Park Ji-ho (Director)의 확인"
    assert endorsement["credentialSubject"]["endorsementComment"] == (
        "5시간 확인: Mentoring a new colleague"
    )
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert verify_credential(document, now=later, fetcher=fetcher).verdict is Verdict.VERIFIED


def test_the_badge_goes_to_the_address_the_organisation_knows(services: Services) -> None:
    """Audit 11: the badge went to the learner's primary address, which after a wallet merge
    may be one only another issuer knows (the organisation's views then showed it); it goes to
    the address on the organisation's roster."""
    from sqlalchemy import update as sql_update

    from issuer.models import LearnerEmail
    from issuer.people.emails import issued_email

    org = informal_org(services)
    ann = org.learners[ANN]
    private = "ann.private@clinic.example.org"
    with work(services) as db:
        db.execute(sql_update(OrgMember).where(col(OrgMember.learner_id) == ann).values(email=ANN))
        db.execute(
            sql_update(LearnerEmail)
            .where(col(LearnerEmail.learner_id) == ann)
            .values(is_primary=False)
        )
        db.add(LearnerEmail(learner_id=ann, email=private, verified=True, is_primary=True))
    claim_id = submit(services, org, claim())
    endorsed = endorse(services, org, claim_id)
    with Session(services.engine) as db:
        badge = db.get(Credential, endorsed.credential_id)
        assert badge is not None
        assert issued_email(badge.document, [private, ANN]) == ANN
