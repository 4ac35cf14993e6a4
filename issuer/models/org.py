"""Organisations across issuers: a ministry (or company) with a department hierarchy and a roster,
the issuers it trusts (on this Laurel or elsewhere), and the credentials its people shared with it.

An organisation is run from one issuer's console (``Organisation.issuer_id``, its *home*: the
ministry's own account, whose staff roles and API keys apply); what its people learned is counted
from every issuer it trusts, not only from the home issuer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from issuer.models.base import json_column, time_column, utcnow


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=64)
    issuer_id: int = Field(foreign_key="issuer.id", unique=True)
    """The home issuer: its staff and API keys run the organisation."""
    name: str = Field(max_length=200)
    name_ko: str | None = Field(default=None, max_length=200)
    rules: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """The organisation's learning-hours rules (``issuer.orgs.rules``); empty: the defaults."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class OrgUnit(SQLModel, table=True):
    """A department (division, bureau, team): a tree under the organisation."""

    __tablename__ = "org_unit"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    name_ko: str | None = Field(default=None, max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id")
    supervisor_email: str | None = Field(default=None, max_length=320)
    """Who endorses informal learning and signs development plans for the unit's people."""


class OrgMember(SQLModel, table=True):
    """A person on the organisation's roster (HR data, never in a credential)."""

    __tablename__ = "org_member"
    __table_args__ = (UniqueConstraint("org_id", "learner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    email: str | None = Field(default=None, max_length=320)
    """The address HR uploaded the row with (trimmed, lower-cased): what the organisation is
    shown of her, never another address she joined to her wallet; null for rows uploaded
    before migration 0023."""
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    employee_no: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    grade: str | None = Field(default=None, max_length=32)
    """The civil-service grade as the roster writes it: ``"5"`` (5급), ``"SCS"`` (senior civil
    service), or a company's band."""
    role: str | None = Field(default=None, max_length=100)
    """The position (e.g. 과장, team leader)."""
    executive: bool = False
    joined_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    left_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


class OrgTrust(SQLModel, table=True):
    """An issuer whose badges count for the organisation: one on this Laurel (``issuer_id``) or
    elsewhere (``issuer_ref``: the issuer's id as its credentials name it, a DID or URL).

    Another tenant's badges are its own and its learners' data: the trust of a local issuer is
    pending (``agreed_at`` null) until that issuer agrees with its own key, or the instance's
    operator sets it up; only then do its badges count. An issuer elsewhere is agreed when
    trusted: its credentials count only when a member shares them."""

    __tablename__ = "org_trust"
    __table_args__ = (UniqueConstraint("org_id", "issuer_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    issuer_ref: str = Field(max_length=600)
    issuer_id: int | None = Field(default=None, foreign_key="issuer.id")
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    agreed_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


class SharedCredential(SQLModel, table=True):
    """A credential from a trusted issuer elsewhere that a member shared with the organisation
    (from the wallet or through the OB 3.0 API), verified when shared and re-checked since.
    ``withdrawn_at``: the learner took their consent back; it no longer counts.
    ``valid_from`` / ``valid_until``: the window the verifier read (its report's summary: a VCDM
    1.1 credential's ``issuanceDate`` / ``expirationDate``, a JWT's ``nbf`` / ``exp``)."""

    __tablename__ = "shared_credential"
    __table_args__ = (UniqueConstraint("org_id", "learner_id", "credential_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    credential_ref: str = Field(max_length=600)
    """The credential's ``id`` (or a digest of it when it has none)."""
    issuer_ref: str = Field(max_length=600)
    document: dict[str, Any] = Field(sa_column=json_column())
    jwt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source: str = Field(max_length=16)  # "wallet" or "obapi"
    achievement_name: str = Field(max_length=500)
    hours: float | None = None
    valid_from: datetime = Field(sa_column=time_column())
    valid_until: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    verified_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    revoked_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """When a status check last found it revoked."""
    rejected_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """When a recheck found it no longer verifies for another reason than its status or its
    end date (``rejected_reason``: the verifier's): it no longer counts, as a revoked one."""
    rejected_reason: str | None = Field(default=None, max_length=500)
    withdrawn_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


class OrgEquivalence(SQLModel, table=True):
    """The organisation's word that a badge from elsewhere — issued by ``issuer_ref`` (a trusted
    issuer elsewhere, as its credentials name it), for the achievement ``external_id`` — counts
    as one of the catalogue's achievements (``achievement_key``) towards programmes. The same
    achievement id in another issuer's badge counts for nothing. ``issuer_ref`` is null only for
    an equivalence declared before issuers were named (migration 0020) whose issuer could not be
    told: it counts for nothing until declared again with its issuer."""

    __tablename__ = "org_equivalence"
    __table_args__ = (UniqueConstraint("org_id", "issuer_ref", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    issuer_ref: str | None = Field(default=None, max_length=600)
    external_id: str = Field(max_length=600)
    achievement_key: str = Field(max_length=99)
