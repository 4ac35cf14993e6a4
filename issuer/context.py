"""The world a service call runs in: settings, the database engine and the key store."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from issuer.core.db import make_engine
from issuer.core.dispatch import Dispatcher
from issuer.core.settings import Settings
from issuer.crypto.keystore import DatabaseKeyStore, FileKeyStore, KeyStore
from issuer.crypto.pkcs8 import KDF_COSTS
from verifier.fetch import Fetcher


@dataclass
class Services:
    settings: Settings
    engine: Engine
    keystore: KeyStore
    cache: dict[object, object] = field(default_factory=dict)
    """Per-process memo (signed status lists by version)."""
    network: Fetcher | None = None
    """How the service's own verifications reach other hosts (default: ``HttpFetcher``)."""
    dispatcher: Dispatcher | None = None
    """Where background work goes (``issuer.worker``); None: run it in the calling process."""

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine | None = None) -> Services:
        keystore: KeyStore
        cost = KDF_COSTS[settings.key_kdf_cost]
        if settings.key_store == "database":
            keystore = DatabaseKeyStore(settings.key_passphrase, cost)
        else:
            keystore = FileKeyStore(settings.keys_dir, settings.key_passphrase, cost)
        return cls(settings, engine or make_engine(settings.database_url), keystore)

    def close(self) -> None:
        """Close the database connections: the engine's, and those of engines made from it and
        kept in ``cache`` (the badge pages' reader, ``issuer.http.gate.page_reader``), so that a
        SQLite database's last connection closes here (checkpointing its write-ahead log) rather
        than whenever the process's objects are collected."""
        for held in list(self.cache.values()):
            if isinstance(held, Engine) and held is not self.engine:
                held.dispose()
        self.engine.dispose()
