"""An issuer's xAPI settings: where the ``account`` actors of its LMS's statements come from, and
the Learning Record Store its awarded and revoked badges are reported to."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow


class XapiSettings(SQLModel, table=True):
    __tablename__ = "xapi_settings"

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", unique=True)
    account_home_page: str | None = Field(default=None, max_length=2000)
    """The ``actor.account.homePage`` of the issuer's LMS: an account there is the member of the
    organisation run from this issuer whose roster ``employee_no`` is the account's ``name``."""
    lrs_endpoint: str | None = Field(default=None, max_length=2000)
    """The LRS's xAPI endpoint (statements go to ``{endpoint}/statements``); none: no reports."""
    lrs_key: str | None = Field(default=None, max_length=200)
    lrs_secret: str | None = Field(default=None, max_length=1000)
    """Sealed (``crypto.sealing``, label ``xapi_settings.lrs_secret``): the Basic auth password."""
    updated_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
