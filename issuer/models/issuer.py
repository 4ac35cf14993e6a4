"""Issuers (OB 3.0 Profiles), their signing keys and their achievements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from issuer.models.base import json_column, time_column, utcnow


class Issuer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=64)
    did: str = Field(unique=True, max_length=512)
    name: str = Field(max_length=200)
    url: str | None = None
    email: str | None = None
    description: str | None = None
    location: str | None = None
    """Where the institute is (e.g. "Jincheon, Korea"), as its trust-list entry shows it."""
    image: str | None = None
    signatory_name: str | None = None
    signatory_title: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())


class SigningKey(SQLModel, table=True):
    """A public key and where its private half lives. Retired keys stay published."""

    __tablename__ = "signing_key"

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    purpose: str = Field(max_length=8)  # "di" (Data Integrity) or "jwt"
    alg: str = Field(max_length=16)
    kid: str = Field(unique=True, max_length=600)
    public_jwk: dict[str, Any] = Field(sa_column=json_column())
    multikey: str | None = None
    private_pem: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    retired_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


class Achievement(SQLModel, table=True):
    """An achievement an issuer awards: the OB 3.0 Achievement JSON (without ``id``) and its
    catalogue extras (validity period, image design)."""

    __table_args__ = (UniqueConstraint("issuer_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    key: str = Field(max_length=100)
    data: dict[str, Any] = Field(sa_column=json_column())
    validity: str | None = None
    design: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
