"""Regression tests (audit 8, F5): merging a learner record an organisation's roster lists (a
signed-in learner proves their work email) moves every row that names it. Before, roster
entries, shared credentials, informal claims, development plans, mail opt-outs and pushes to OB
hosts stayed behind and the record's delete failed on their foreign keys, so a person could not
join their work address to their wallet."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

import issuer.models
from issuer.context import Services
from issuer.effects import work
from issuer.models import (
    AuditEntry,
    DevelopmentPlan,
    InformalClaim,
    Learner,
    MailOptOut,
    OrgMember,
    PlanObjective,
    SharedCredential,
)
from issuer.orgs import held, organisation
from issuer.wallet.merging import MERGED, merge
from tests.issuer.org_api_fixtures import KIM, ORG, ministry
from tests.units import resolve_learner

PERSONAL = "kim.personal@example.org"


def learner_columns() -> list[tuple[str, str]]:
    """(table, column) of every foreign key to ``learner`` the models declare."""
    assert issuer.models  # every table is registered on the metadata
    return sorted(
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if any(key.column.table.name == "learner" for key in column.foreign_keys)
    )


def test_merge_has_a_rule_for_every_table_naming_a_learner() -> None:
    """A table added later with a foreign key to ``learner`` fails here until ``merge`` (and
    ``MERGED``) say what becomes of its rows."""
    assert {table for table, _ in learner_columns()} == set(MERGED)


def test_a_rostered_record_merges_into_the_wallet(services: Services, client: TestClient) -> None:
    world = ministry(services, client)
    rostered = world.learner(KIM)
    personal = resolve_learner(services, PERSONAL).id
    assert personal is not None
    shared = world.share(KIM, world.university.credential(KIM))
    with work(services) as db:
        org = organisation(db, ORG)
        assert org.id is not None
        # the personal record was on the roster once (left), with nothing HR filled in
        left = datetime(2025, 1, 1, tzinfo=UTC)
        db.add(OrgMember(org_id=org.id, learner_id=personal, joined_at=left, left_at=left))
        for learner, state in ((rostered, "signed"), (personal, "draft")):
            db.add(
                DevelopmentPlan(
                    org_id=org.id,
                    learner_id=learner,
                    year=2026,
                    kind="IDP",
                    target="t",
                    state=state,
                )
            )
        db.add(
            InformalClaim(
                org_id=org.id,
                learner_id=rostered,
                category="mentoring",
                title="Mentoring",
                started_on=date(2026, 2, 1),
                ended_on=date(2026, 2, 28),
                hours=6,
                learned="a lot",
                supervisor_email="director@mois.example.kr",
            )
        )
        db.add(MailOptOut(learner_id=rostered))
        db.flush()
        dropped_plan = db.exec(
            select(DevelopmentPlan).where(DevelopmentPlan.learner_id == personal)
        ).one()
        assert dropped_plan.id is not None
        db.add(
            PlanObjective(
                plan_id=dropped_plan.id, framework="ECQ", code="ECQ1", name="x", level_wanted=3,
                level_at_start=2,
            )
        )  # fmt: skip
    with work(services) as db:
        merge(db, into=personal, other=rostered)
    with Session(services.engine) as db:
        for table, column in learner_columns():
            found = SQLModel.metadata.tables[table]
            left_behind = db.execute(sa_select(found).where(found.c[column] == rostered)).first()
            assert left_behind is None, f"{table} still names the merged record"
        assert db.get(Learner, rostered) is None
        [member] = db.exec(select(OrgMember).where(OrgMember.learner_id == personal)).all()
        assert member.left_at is None and member.employee_no == "E001"  # the current entry
        [plan] = db.exec(select(DevelopmentPlan).where(DevelopmentPlan.learner_id == personal))
        assert plan.state == "signed"
        assert db.exec(select(PlanObjective)).all() == []  # the dropped draft's, with it
        assert db.exec(select(InformalClaim.learner_id)).all() == [personal]
        assert db.exec(select(MailOptOut.learner_id)).all() == [personal]
        row = db.exec(select(SharedCredential)).one()
        assert (row.id, row.learner_id) == (shared.id, personal)
        org = organisation(db, ORG)
        counted = [h for h in held(db, org, [personal]) if h.source == "shared"]
        assert [h.achievement_name for h in counted] == ["Data Literacy"]
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "learner.merge")).one()
        assert entry.subject == f"learner:{personal}" and entry.details["merged"] == rostered
        assert entry.details["org_member"][0]["kept"] == member.id
        assert entry.details["development_plan"][0]["kept"] == plan.id
        assert json.dumps(entry.details)  # plain JSON


def test_the_same_credential_shared_by_both_records_is_kept_once(
    services: Services, client: TestClient
) -> None:
    world = ministry(services, client)
    rostered = world.learner(KIM)
    world.share(KIM, world.university.credential(KIM))
    with work(services) as db:
        personal = resolve_learner(services, PERSONAL).id
        assert personal is not None
        row = db.exec(select(SharedCredential)).one()
        copy = SharedCredential(
            **{
                **row.model_dump(exclude={"id", "learner_id"}),
                "learner_id": personal,
                "withdrawn_at": datetime(2026, 2, 1, tzinfo=UTC),
            }
        )
        db.add(copy)
    with work(services) as db:
        merge(db, into=personal, other=rostered)
    with Session(services.engine) as db:
        [kept] = db.exec(select(SharedCredential)).all()
        assert kept.learner_id == personal and kept.withdrawn_at is None  # the counting one
        assert db.exec(select(col(OrgMember.learner_id))).all().count(personal) == 1
