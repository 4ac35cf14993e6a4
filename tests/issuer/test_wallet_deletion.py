"""Regression tests (audit 9, R2): deleting a wallet account withdrew nothing she had shared with
her organisation (its hours report and skills cloud still counted the badge, and she could no
longer withdraw it), and left her informal-learning claims (what she learned, her evidence), her
career goals and her mail opt-out behind; removing an import left its shares counting."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.db import migrate
from issuer.core.errors import Conflict, NotFound
from issuer.effects import work
from issuer.models import (
    AuditEntry,
    Credential,
    DevelopmentPlan,
    ImportedCredential,
    InformalClaim,
    MailOptOut,
    OrgMember,
    SharedCredential,
)
from issuer.models.base import aware
from issuer.orgs import held, informal, organisation
from issuer.wallet import accounts
from issuer.wallet.deletion import DELETED
from tests.issuer.org_api_fixtures import KIM, LEE, ORG, ministry
from tests.issuer.orgs_fixtures import informal_org
from tests.issuer.test_informal import ANN, BOSS, claim, endorse, submit
from tests.issuer.test_wallet_merging import learner_columns


@pytest.fixture(autouse=True)
def _schema(services: Services) -> None:
    migrate(services.engine)


def test_deletion_has_a_rule_for_every_table_naming_a_learner() -> None:
    """A table added later with a foreign key to ``learner`` fails here until
    ``delete_account`` (and ``DELETED``) say what becomes of her rows."""
    assert {table for table, _ in learner_columns()} == set(DELETED)


def _shared_counting(services: Services, learner: int) -> list[str]:
    with Session(services.engine) as db:
        org = organisation(db, ORG)
        return [h.achievement_name for h in held(db, org, [learner]) if h.source == "shared"]


def test_deleting_the_account_withdraws_what_she_shared(
    services: Services, client: TestClient
) -> None:
    world = ministry(services, client)
    kim, lee = world.learner(KIM), world.learner(LEE)
    shared = world.share(KIM, world.university.credential(KIM))
    world.share(LEE, world.university.credential(LEE))
    assert _shared_counting(services, kim) == ["Data Literacy"]

    with work(services) as db:
        accounts.delete_account(db, kim)

    with Session(services.engine) as db:
        row = db.get(SharedCredential, shared.id)
        assert row is not None and row.withdrawn_at is not None
        imports = select(ImportedCredential).where(ImportedCredential.learner_id == kim)
        assert db.exec(imports).all() == []
        assert db.exec(select(OrgMember).where(OrgMember.learner_id == kim)).one()  # HR's roster
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "org.withdraw")).one()
        assert entry.subject == f"org:{ORG}" and entry.details["learner"] == kim
        deleted = db.exec(select(AuditEntry).where(AuditEntry.action == "learner.delete")).one()
        assert deleted.details["withdrawn"] == 1
    assert _shared_counting(services, kim) == []  # the hours report and skills cloud read held()
    assert _shared_counting(services, lee) == ["Data Literacy"]  # nobody else's


def test_removing_an_import_withdraws_its_shares(services: Services, client: TestClient) -> None:
    world = ministry(services, client)
    kim = world.learner(KIM)
    shared = world.share(KIM, world.university.credential(KIM))
    second = world.university.credential(KIM, name="Statistics", id=f"urn:uuid:{uuid.uuid4()}")
    other = world.share(KIM, second)
    with Session(services.engine) as db:
        [imported] = [
            row
            for row in db.exec(
                select(ImportedCredential).where(ImportedCredential.learner_id == kim)
            )
            if row.credential_id == shared.credential_ref
        ]
    with work(services) as db:
        accounts.remove_import(db, kim, f"i-{imported.id}")
    with Session(services.engine) as db:
        assert db.get(ImportedCredential, imported.id) is None
        gone, kept = db.get(SharedCredential, shared.id), db.get(SharedCredential, other.id)
        assert gone is not None and gone.withdrawn_at is not None
        assert kept is not None and kept.withdrawn_at is None  # another badge's share stays
    assert _shared_counting(services, kim) == ["Statistics"]


def test_deleting_the_account_takes_her_words_and_keeps_the_records(services: Services) -> None:
    org = informal_org(services)
    ann = org.learners[ANN]
    endorsed = submit(services, org, claim(hours=10))
    endorse(services, org, endorsed)
    returned = submit(services, org, claim(hours=5, title="Job shadowing"))
    with work(services) as db:
        informal.return_claim(db, services, org.learners[BOSS], returned, "Add the dates.")
    pending = submit(services, org, claim(hours=3, title="A study group"))
    with work(services) as db:
        db.add(
            DevelopmentPlan(
                org_id=org.org_id,
                learner_id=ann,
                year=2026,
                kind="IDP",
                target="lead-team-leader",
                career_goal="Leave the ministry by 2027",
                state="signed",
            )
        )
        db.add(MailOptOut(learner_id=ann))

    with work(services) as db:
        accounts.delete_account(db, ann)

    with Session(services.engine) as db:
        [kept] = db.exec(select(InformalClaim).where(InformalClaim.learner_id == ann)).all()
        assert kept.id == endorsed and kept.state == "endorsed"
        assert (kept.learned, kept.evidence_url, kept.evidence_text) == ("", None, None)
        assert kept.hours_counted == 10 and kept.title == "Mentoring a new colleague"
        assert kept.credential_id is not None
        assert db.get(Credential, kept.credential_id) is not None  # the badge stays
        [plan] = db.exec(select(DevelopmentPlan).where(DevelopmentPlan.learner_id == ann)).all()
        assert plan.career_goal == "" and plan.state == "signed"  # the organisation's record
        assert db.get(MailOptOut, ann) is None
        assert informal.awaiting(db, org.learners[BOSS]) == []
        assert [c.id for c in informal.decided(db, org.learners[BOSS])] == [endorsed]

    # the supervisor acting on a claim that went with the account: a clear 404, not a 500
    with work(services) as db, pytest.raises(NotFound):
        informal.endorse(db, services, org.learners[BOSS], pending)
    with work(services) as db, pytest.raises(NotFound):
        informal.return_claim(db, services, org.learners[BOSS], returned, "again")


def test_a_claim_left_by_an_earlier_deletion_cannot_be_decided(services: Services) -> None:
    """Accounts deleted before deletions took the claims with them may have left one waiting:
    the supervisor no longer sees it, and deciding it is 409 with a reason."""
    org = informal_org(services)
    pending = submit(services, org, claim(hours=3))
    with work(services) as db:
        accounts.delete_account(db, org.learners[ANN])
        db.add(
            InformalClaim(
                id=pending,
                org_id=org.org_id,
                learner_id=org.learners[ANN],
                category="mentoring",
                title="Mentoring",
                started_on=date(2026, 2, 1),
                ended_on=date(2026, 2, 28),
                hours=3,
                learned="left behind",
                evidence_text="a log",
                supervisor_email=BOSS,
            )
        )
    with Session(services.engine) as db:
        assert informal.awaiting(db, org.learners[BOSS]) == []
    boss = org.learners[BOSS]
    with work(services) as db, pytest.raises(Conflict, match="deleted their account"):
        informal.endorse(db, services, boss, pending)
    with work(services) as db, pytest.raises(Conflict, match="deleted their account"):
        informal.return_claim(db, services, boss, pending, "why")


def _deleted_before_0021(services: Services, *learners: int) -> None:
    """Mark the accounts deleted as the deletion before audit 9 left them (their emails and
    imports gone, the rest in place), then migrate to head."""
    migrate(services.engine, "0020", down=True)
    with work(services) as db:
        for learner in learners:
            db.execute(
                text("UPDATE learner SET deleted_at = :when WHERE id = :id"),
                {"when": BEFORE, "id": learner},
            )
            for table in ("learner_email", "imported_credential"):
                db.execute(text(f"DELETE FROM {table} WHERE learner_id = :id"), {"id": learner})
    migrate(services.engine)


BEFORE = datetime(2026, 11, 1, tzinfo=UTC)


def test_migration_0021_withdraws_the_shares_of_accounts_deleted_before(
    services: Services, client: TestClient
) -> None:
    """An account deleted before audit 9 left its shares counting for the organisation: the
    migration withdraws them, dated with the deletion, and only those."""
    world = ministry(services, client)
    kim, lee = world.learner(KIM), world.learner(LEE)
    shared = world.share(KIM, world.university.credential(KIM))
    other = world.share(LEE, world.university.credential(LEE))
    assert _shared_counting(services, kim) == ["Data Literacy"]

    _deleted_before_0021(services, kim)

    with Session(services.engine) as db:
        gone, kept = db.get(SharedCredential, shared.id), db.get(SharedCredential, other.id)
        assert gone is not None and gone.withdrawn_at is not None
        assert aware(gone.withdrawn_at) == BEFORE
        assert kept is not None and kept.withdrawn_at is None  # Lee's account is not deleted
    assert _shared_counting(services, kim) == []
    assert _shared_counting(services, lee) == ["Data Literacy"]


def test_migration_0021_takes_the_words_of_accounts_deleted_before(services: Services) -> None:
    """... and left her claims, her career goal and her opt-out: deleted or blanked as a
    deletion does today; another member's stay."""
    org = informal_org(services)
    ann, boss = org.learners[ANN], org.learners[BOSS]
    endorsed = submit(services, org, claim(hours=10))
    endorse(services, org, endorsed)
    pending = submit(services, org, claim(hours=3, title="A study group"))
    with work(services) as db:
        db.add(MailOptOut(learner_id=ann))
        db.add(MailOptOut(learner_id=boss))
        for learner in (ann, boss):
            db.add(
                DevelopmentPlan(
                    org_id=org.org_id,
                    learner_id=learner,
                    year=2026,
                    kind="IDP",
                    target="lead-team-leader",
                    career_goal="Leave the ministry by 2027",
                    state="signed",
                )
            )

    _deleted_before_0021(services, ann)

    with Session(services.engine) as db:
        assert db.get(InformalClaim, pending) is None
        kept = db.get(InformalClaim, endorsed)
        assert kept is not None and kept.state == "endorsed" and kept.hours_counted == 10
        assert (kept.learned, kept.evidence_url, kept.evidence_text) == ("", None, None)
        goals = {p.learner_id: p.career_goal for p in db.exec(select(DevelopmentPlan))}
        assert goals == {ann: "", boss: "Leave the ministry by 2027"}
        assert db.get(MailOptOut, ann) is None and db.get(MailOptOut, boss) is not None
