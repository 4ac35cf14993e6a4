"""Wallet exchanges: one badge offered to a wallet through a W3C VC-API (VCALM) exchange, as the
DCC Learner Credential Wallet collects it (``issuer.wallet.exchanges``).

The capability URL's secret is never stored, only its SHA-256 (``secret_hash``): a copy of the
database does not let anyone collect a badge. ``state`` goes from ``pending`` to ``spent`` once,
by a conditional update, so an exchange gives its badge to one wallet only.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow

PENDING, SPENT = "pending", "spent"


class WalletExchange(SQLModel, table=True):
    __tablename__ = "wallet_exchange"

    id: int | None = Field(default=None, primary_key=True)
    secret_hash: str = Field(max_length=64, unique=True)
    credential_id: str = Field(foreign_key="credential.id", max_length=36, index=True)
    challenge: str = Field(max_length=64)
    """The DIDAuthentication challenge the holder's presentation must carry."""
    state: str = Field(default=PENDING, max_length=16)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    expires_at: datetime = Field(sa_column=time_column())
    spent_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    holder_id: str | None = Field(default=None, max_length=2000)
