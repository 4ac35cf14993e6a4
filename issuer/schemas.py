"""Request bodies of the HTTP API (pydantic), shared by routes, services and the CLI."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}$")


def normalize_email(value: str) -> str:
    """Trimmed and lower-cased, the form that is hashed into credentials."""
    email = value.strip().lower()
    if not EMAIL.match(email):
        raise ValueError(f"{value!r} is not an email address")
    return email


def group_name(value: str) -> str:
    name = " ".join(value.split())
    if not 1 <= len(name) <= 100:
        raise ValueError("a group name has 1 to 100 characters")
    return name


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Recipient(Strict):
    email: str = Field(description="The learner's email; hashed (salted) into the credential.")
    name: str | None = Field(
        default=None, max_length=200, description="Shown on the certificate and the public page."
    )
    did: str | None = Field(
        default=None,
        max_length=500,
        description="The learner's DID, used as the subject id if given.",
    )
    groups: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Groups (departments, cohorts) to put the learner in at this issuer; "
        "never part of the credential.",
    )

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        return [group_name(name) for name in value]

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("did")
    @classmethod
    def _did(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^did:[a-z0-9]+:\S+$", value):
            raise ValueError("a DID looks like did:method:identifier")
        return value


class Evidence(Strict):
    id: str | None = Field(default=None, description="A URL of the evidence.")
    name: str | None = None
    description: str | None = None
    narrative: str | None = None

    @field_validator("id")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://\S+$", value):
            raise ValueError("evidence id must be an http(s) URL")
        return value


class Result(Strict):
    value: str | None = None
    status: str | None = Field(
        default=None, pattern="^(Completed|Enrolled|Failed|InProgress|OnHold|Provisional|Withdrew)$"
    )


class IssueRequest(Strict):
    recipient: Recipient
    achievement: str = Field(
        description="The key of one of the issuer's achievements.", max_length=100
    )
    evidence: list[Evidence] = Field(default_factory=list, max_length=20)
    results: list[Result] = Field(default_factory=list, max_length=20)
    narrative: str | None = Field(default=None, max_length=5000)
    validFrom: datetime | None = None
    validUntil: datetime | None = None
    creditsEarned: float | None = Field(
        default=None, ge=0, le=100000, description="Learning hours earned."
    )
    idempotencyKey: str | None = Field(
        default=None, max_length=200, description="Bulk rows only: a per-row idempotency key."
    )

    @field_validator("creditsEarned")
    @classmethod
    def _hours(cls, value: float | None) -> float | None:
        return _learning_hours(value)

    @field_validator("validFrom", "validUntil")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("dates need a time zone, e.g. 2026-03-01T09:00:00Z")
        return value


def _learning_hours(value: float | None) -> float | None:
    """Hours in hundredths. Tiny fractions (1e-7) and huge integers canonicalise differently in
    JavaScript JSON-LD stacks, so credentials that carry them would not verify everywhere."""
    if value is None:
        return None
    rounded = round(value, 2)
    if value and not rounded:
        raise ValueError("learning hours are counted in hundredths of an hour")
    return int(rounded) if rounded == int(rounded) else rounded


class IssuerUpdate(Strict):
    """Changes to an issuer's profile; omitted fields stay as they are, ``null`` clears one."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    url: str | None = Field(
        default=None,
        max_length=500,
        description="The institute's website (https). Its DID Configuration links it to the "
        "issuer, so verifiers show the issuer as linked to that domain.",
    )
    email: str | None = Field(default=None, max_length=320)
    description: str | None = Field(default=None, max_length=5000)
    location: str | None = Field(
        default=None, max_length=200, description='Where the institute is, e.g. "Jincheon, Korea".'
    )


class RevokeRequest(Strict):
    reason: str = Field(min_length=1, max_length=500)


class AchievementIn(Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,98}$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    criteria: str = Field(min_length=1, max_length=5000)
    achievementType: str = "Badge"
    creditsAvailable: float | None = Field(default=None, ge=0, le=100000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    alignments: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    validity: str | None = Field(default=None, pattern=r"^P(\d+Y)?(\d+M)?(\d+D)?$")

    @field_validator("creditsAvailable")
    @classmethod
    def _hours(cls, value: float | None) -> float | None:
        return _learning_hours(value)


class TeamSkill(Strict):
    code: str = Field(min_length=1, max_length=100)
    framework: str | None = Field(default=None, max_length=100)
    minLevel: int = Field(default=1, ge=1, le=5)


class TeamRequest(Strict):
    skills: list[str | TeamSkill] = Field(min_length=1, max_length=50)
    size: int | None = Field(default=None, ge=1, le=100)
    exclude: list[str] = Field(
        default_factory=list, max_length=1000, description="Emails of learners not to include."
    )


class GroupRoster(Strict):
    emails: list[str] = Field(max_length=100_000, description="The group's members, by email.")
