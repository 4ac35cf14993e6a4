"""OpenID for Verifiable Credential Issuance 1.0 (pre-authorized code flow): credential offers
and the nonces wallets sign in their key proofs. Every secret — the offer's capability URL, its
pre-authorized code, its transaction code, its access token, a nonce — is a random value stored
only as a SHA-256 hash (the transaction code hashed together with the pre-authorized code, so
that its short value cannot be found from the hash alone)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from issuer.models.base import time_column, utcnow


class CredentialOffer(SQLModel, table=True):
    """An offer of one issued badge to a wallet: single use (the pre-authorized code is redeemed
    once, claimed by one conditional UPDATE), short-lived, dead after too many wrong
    transaction codes. The access token it gives reaches the credential endpoint for this one
    badge only."""

    __tablename__ = "credential_offer"

    id: int | None = Field(default=None, primary_key=True)
    offer_hash: str = Field(unique=True, max_length=64)
    """The hash of the random part of ``credential_offer_uri``."""
    code_hash: str = Field(unique=True, max_length=64)
    tx_code_hash: str = Field(max_length=64)
    credential_id: str = Field(foreign_key="credential.id", index=True, max_length=36)
    issuer_id: int = Field(foreign_key="issuer.id", index=True)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    expires_at: datetime = Field(sa_column=time_column())
    failed_attempts: int = 0
    redeemed_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    access_hash: str | None = Field(default=None, unique=True, max_length=64)
    access_expires_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    """When a credential was last answered for this offer."""


class CredentialNonce(SQLModel, table=True):
    """A ``c_nonce`` from the nonce endpoint: used by at most one key proof, before it expires."""

    __tablename__ = "credential_nonce"

    id: int | None = Field(default=None, primary_key=True)
    nonce_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=time_column())
    expires_at: datetime = Field(sa_column=time_column())
    used_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
