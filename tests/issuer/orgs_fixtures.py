"""Organisations for tests, set up with direct row inserts (the organisation API is elsewhere):
a home issuer, a department tree with supervisors, and a roster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from issuer.context import Services
from issuer.effects import work
from issuer.models import LearnerEmail, Organisation, OrgMember, OrgUnit
from issuer.people.learners import resolve_learner
from tests.units import create_issuer


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
        learner = resolve_learner(db, email, name)
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
