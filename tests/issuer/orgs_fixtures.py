"""Organisations for tests: rows written directly (an organisation, its units, roster, trusted
issuers and shared credentials), for tests that need one before or beside the management API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from issuer.context import Services
from issuer.effects import work
from issuer.institutes.issuers import get_issuer
from issuer.models import (
    LearnerEmail,
    Organisation,
    OrgMember,
    OrgTrust,
    OrgUnit,
    SharedCredential,
)
from issuer.models.base import utcnow
from issuer.orgs import organisation
from issuer.people import learners as people_learners
from tests.units import create_issuer, resolve_learner


def make_org(
    services: Services,
    slug: str,
    home: str,
    name: str | None = None,
    rules: dict[str, Any] | None = None,
) -> int:
    """An organisation run from the issuer ``home``; returns its id."""
    with work(services) as db:
        issuer_id = get_issuer(db, home).id
        assert issuer_id is not None
        org = Organisation(
            slug=slug,
            issuer_id=issuer_id,
            name=name or slug.upper(),
            rules=rules or {},
        )
        db.add(org)
        db.flush()
        assert org.id is not None
        return org.id


def add_unit(
    services: Services,
    org: str,
    code: str,
    name: str,
    parent: str | None = None,
    name_ko: str | None = None,
    supervisor_email: str | None = None,
) -> int:
    with work(services) as db:
        found = organisation(db, org)
        assert found.id is not None
        parent_id = None
        if parent is not None:
            parent_id = db.exec(
                select(OrgUnit.id).where(OrgUnit.org_id == found.id, OrgUnit.code == parent)
            ).one()
        unit = OrgUnit(
            org_id=found.id,
            code=code,
            name=name,
            name_ko=name_ko,
            parent_id=parent_id,
            supervisor_email=supervisor_email,
        )
        db.add(unit)
        db.flush()
        assert unit.id is not None
        return unit.id


def add_member(
    services: Services,
    org: str,
    email: str,
    name: str,
    unit: str | None = None,
    grade: str | None = None,
    role: str | None = None,
    employee_no: str | None = None,
    executive: bool = False,
) -> int:
    """A person on the roster (the learner is created for ``email``); returns the learner id."""
    learner = resolve_learner(services, email, name)
    assert learner.id is not None
    with work(services) as db:
        found = organisation(db, org)
        unit_id = None
        if unit is not None:
            unit_id = db.exec(
                select(OrgUnit.id).where(OrgUnit.org_id == found.id, OrgUnit.code == unit)
            ).one()
        assert found.id is not None
        db.add(
            OrgMember(
                org_id=found.id,
                learner_id=learner.id,
                email=email,
                unit_id=unit_id,
                name=name,
                grade=grade,
                role=role,
                employee_no=employee_no,
                executive=executive,
            )
        )
    return learner.id


def trust(
    services: Services,
    org: str,
    *,
    issuer: str | None = None,
    issuer_ref: str | None = None,
    name: str | None = None,
) -> None:
    """Trust an issuer on this Laurel (``issuer``: its slug, which agreed) or elsewhere
    (``issuer_ref``)."""
    with work(services) as db:
        found = organisation(db, org)
        assert found.id is not None
        if issuer is not None:
            here = get_issuer(db, issuer)
            db.add(
                OrgTrust(
                    org_id=found.id,
                    issuer_ref=here.did,
                    issuer_id=here.id,
                    name=here.name,
                    agreed_at=utcnow(),
                )
            )
        else:
            assert issuer_ref is not None
            db.add(
                OrgTrust(
                    org_id=found.id,
                    issuer_ref=issuer_ref,
                    name=name or issuer_ref,
                    agreed_at=utcnow(),
                )
            )


def share(
    services: Services,
    org: str,
    learner_id: int,
    *,
    issuer_ref: str,
    name: str,
    hours: float | None,
    valid_from: datetime,
    tags: list[str] | None = None,
    credential_ref: str | None = None,
) -> None:
    """A credential from elsewhere the member shared with the organisation (as verified)."""
    ref = credential_ref or f"urn:uuid:shared-{learner_id}-{name}-{valid_from.isoformat()}"
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "achievement": {"type": ["Achievement"], "name": name, "tag": tags or []},
    }
    if hours is not None:
        subject["creditsEarned"] = hours
    document = {
        "id": ref,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_ref},
        "validFrom": valid_from.isoformat(),
        "credentialSubject": subject,
    }
    with work(services) as db:
        found = organisation(db, org)
        assert found.id is not None
        db.add(
            SharedCredential(
                org_id=found.id,
                learner_id=learner_id,
                credential_ref=ref,
                issuer_ref=issuer_ref,
                document=document,
                source="wallet",
                achievement_name=name,
                hours=hours,
                valid_from=valid_from,
            )
        )


def set_rules(services: Services, org: str, rules: dict[str, Any]) -> None:
    with work(services) as db:
        found = organisation(db, org)
        found.rules = rules
        db.add(found)


# --- informal learning (tests/issuer/test_informal.py, tests/web/test_informal_*.py) ---


@dataclass(frozen=True)
class InformalOrg:
    org_id: int
    issuer_slug: str
    units: dict[str, int]
    """Unit code -> id."""
    learners: dict[str, int]
    """Email -> learner id."""


def verified_learner(services: Services, email: str, name: str | None = None) -> int:
    """A learner whose ``email`` is verified (as signing in to the wallet makes it)."""
    with work(services) as db:
        learner = people_learners.resolve_learner(db, email, name)
        db.execute(
            update(LearnerEmail).where(col(LearnerEmail.email) == email).values(verified=True)
        )
        assert learner.id is not None
        return learner.id


def informal_org(
    services: Services,
    slug: str = "mois",
    *,
    units: list[tuple[str, str | None, str | None]] | None = None,
    members: list[tuple[str, str, str | None]] | None = None,
    rules: dict[str, Any] | None = None,
) -> InformalOrg:
    """An organisation whose home issuer is ``slug``. ``units``: (code, parent code, supervisor
    email); ``members``: (email, name, unit code). The defaults: a ministry whose division
    ``digital`` sits under bureau ``policy`` (supervisor boss@mois.example), and learner
    ann@mois.example in ``digital``."""
    issuer = create_issuer(services, slug=slug, name=f"Ministry {slug.upper()}")
    units = (
        units
        if units is not None
        else [
            ("policy", None, "boss@mois.example"),
            ("digital", "policy", None),
        ]
    )
    members = (
        members
        if members is not None
        else [
            ("ann@mois.example", "Ann Lee", "digital"),
            ("boss@mois.example", "Park Ji-ho", "policy"),
        ]
    )
    learners = {email: verified_learner(services, email, name) for email, name, _ in members}
    assert issuer.id is not None
    with work(services) as db:
        org = Organisation(
            slug=slug, issuer_id=issuer.id, name=f"Ministry {slug.upper()}", rules=rules or {}
        )
        db.add(org)
        db.flush()
        assert org.id is not None
        ids: dict[str, int] = {}
        for code, parent, supervisor in units:
            unit = OrgUnit(
                org_id=org.id,
                code=code,
                name=code.title(),
                parent_id=ids[parent] if parent else None,
                supervisor_email=supervisor,
            )
            db.add(unit)
            db.flush()
            assert unit.id is not None
            ids[code] = unit.id
        for email, name, unit_code in members:
            db.add(
                OrgMember(
                    org_id=org.id,
                    learner_id=learners[email],
                    unit_id=ids[unit_code] if unit_code else None,
                    name=name,
                    grade="5",
                    role="Director" if email.startswith("boss") else None,
                )
            )
        return InformalOrg(org.id, slug, ids, learners)
