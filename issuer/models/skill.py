"""One row per alignment of an issued credential's achievement: what the skills cloud adds up,
without reading credential documents."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from issuer.models.base import time_column


class CredentialSkill(SQLModel, table=True):
    __tablename__ = "credential_skill"

    id: int | None = Field(default=None, primary_key=True)
    credential_id: str = Field(foreign_key="credential.id", index=True, max_length=36)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    framework: str = Field(max_length=200)
    code: str = Field(max_length=200)
    name: str = Field(max_length=500)
    base_weight: float  # type weight × hours factor; recency is applied when read
    issued_at: datetime = Field(sa_column=time_column())
