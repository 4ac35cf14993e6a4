"""Telling people and systems: an issuer's webhook endpoints, the events they hear about and
each delivery's log; an issuer's email settings; a learner's choice not to get badge emails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from issuer.models.base import json_column, time_column, utcnow


class WebhookEndpoint(SQLModel, table=True):
    """A receiver URL of an issuer, and the events it wants. Its signing secret is sealed
    (``crypto.sealing``, label ``webhook_endpoint.secret``): Laurel must use it again."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_column=json_column())
    secret: str = Field(max_length=500)  # sealed
    description: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    removed_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """Removed endpoints keep their delivery log; nothing more is sent to them."""


class WebhookEvent(SQLModel, table=True):
    """Something that happened, as every receiver gets it: ``id`` is the ``webhook-id`` header,
    the same on every attempt so that receivers can drop repeats; ``body`` the exact bytes sent.
    ``subject`` (e.g. ``credential.issued:<uuid>``) is unique per issuer: an event is recorded
    once however often the effect that records it runs."""

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("issuer_id", "subject"),)

    id: str = Field(primary_key=True, max_length=40)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    type: str = Field(max_length=40)
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class WebhookDelivery(SQLModel, table=True):
    """One event to one endpoint: ``pending`` (next attempt due at ``next_attempt_at``),
    ``delivered`` (a 2xx was recorded; never sent again) or ``failed`` (given up)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True)
    event_id: str = Field(foreign_key="webhook_event.id", index=True, max_length=40)
    state: str = Field(default="pending", max_length=10)
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=2000)
    next_attempt_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    lease_until: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """Held by the worker calling the other host until then (``issuer.effects``, LEASE)."""
    delivered_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class WebhookAttempt(SQLModel, table=True):
    """One HTTP attempt of a delivery: when, the answer's status and its first bytes."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    status: int | None = None
    response: str | None = Field(default=None, max_length=1000)
    error: str | None = Field(default=None, max_length=1000)


class IssuerMail(SQLModel, table=True):
    """An issuer's emails to learners: their language and the templates it overrides,
    ``{"issued": {"ko": {"subject": …, "body": …}}, …}``."""

    __tablename__ = "issuer_mail"

    issuer_id: int = Field(foreign_key="issuer.id", primary_key=True)
    language: str | None = Field(default=None, max_length=8)
    templates: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class MailOptOut(SQLModel, table=True):
    """A learner who does not want badge emails (from the unsubscribe link or the wallet)."""

    __tablename__ = "mail_opt_out"

    learner_id: int = Field(foreign_key="learner.id", primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
