"""This instance's own issuers as a trust list: known to its own verifications (read once per
``OWN_ISSUERS_TTL`` seconds), and published at ``/trust/registry.json`` in the DCC registry
format (what VerifierPlus and the Learner Credential Wallet read) so that other verifiers can
trust them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.models import Issuer
from issuer.models.base import aware
from verifier.identity import RegistryEntry

REGISTRY_PATH = "/trust/registry.json"


def instance_name(services: Services) -> str:
    return f"Laurel at {urlsplit(services.settings.base_url).netloc}"


OWN_ISSUERS_TTL = 30.0
"""Seconds this process reuses its list of the instance's issuers (changes made through this
process show at once; other processes' within this time)."""


class OwnIssuers:
    """This instance's issuers, from its database (through the caller's unit of work): read in
    one query and kept for ``OWN_ISSUERS_TTL`` seconds."""

    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.services = services
        self.name = instance_name(services)

    def lookup(self, issuer_id: str) -> RegistryEntry | None:
        cached = self.services.cache.get("own-issuers")
        now = time.monotonic()
        if not (isinstance(cached, tuple) and now - cached[0] < OWN_ISSUERS_TTL):
            rows = self.session.exec(select(Issuer.did, Issuer.name, Issuer.location, Issuer.url))
            entries = {
                did: RegistryEntry(self.name, name, location, None, url)
                for did, name, location, url in rows
            }
            cached = (now, entries)
            self.services.cache["own-issuers"] = cached
        found: RegistryEntry | None = cached[1].get(issuer_id)
        return found


def forget_own_issuers(services: Services) -> None:
    """After an issuer is created or changed: the next verification reads them again."""
    services.cache.pop("own-issuers", None)


def published_registry(session: Session, services: Services) -> dict[str, Any]:
    """This instance's issuers as a DCC static registry (what VerifierPlus and the Learner
    Credential Wallet read), so other verifiers can trust them."""
    issuers = list(session.exec(select(Issuer).order_by(col(Issuer.id))))
    created = min((i.created_at for i in issuers), default=datetime.now(UTC))
    updated = max((i.created_at for i in issuers), default=created)
    registry: dict[str, Any] = {}
    for issuer in issuers:
        entry = {"name": issuer.name, "location": issuer.location, "url": issuer.url}
        registry[issuer.did] = {k: v for k, v in entry.items() if v}
    return {
        "meta": {
            "name": instance_name(services),
            "created": _iso(created),
            "updated": _iso(updated),
        },
        "registry": registry,
    }


def _iso(value: datetime) -> str:
    moment = aware(value)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()
