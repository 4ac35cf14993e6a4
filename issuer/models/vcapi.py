"""Credentials issued through the W3C VC-API (``issuer.issuing.vcapi``) that carry a status entry
Laurel allocated, so that ``/vc-api/…/credentials/status`` can find their index. Any VC, not only
an Open Badge: no achievement or learner, and the document itself is not kept."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow


class VcapiCredential(SQLModel, table=True):
    __tablename__ = "vcapi_credential"

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    credential_id: str = Field(max_length=2000, index=True)  # the VC's own ``id``
    status_list_id: int = Field(foreign_key="status_list.id")
    status_index: int
    purpose: str = Field(default="revocation", max_length=16)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    revoked_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
