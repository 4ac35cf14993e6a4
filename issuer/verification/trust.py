"""Who this instance trusts, and how it verifies: its own issuers are known to it (a trust list
named after the instance, also published at ``/trust/registry.json`` in the DCC registry format
for other verifiers), followed by the lists in ``LAUREL_TRUST_LISTS``. Every verification the
service runs goes through ``verify`` so that pages, the API, imports and the wallet agree."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from issuer.core.context import Services
from issuer.models import Issuer
from verifier import Report, verify_credential
from verifier.fetch import Fetcher
from verifier.httpcache import CachingHttpClient
from verifier.identity import RegistryEntry, TrustPolicy, TrustRegistry
from verifier.registries import load_sources

REGISTRY_PATH = "/trust/registry.json"
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


def instance_name(services: Services) -> str:
    return f"Laurel at {urlsplit(services.settings.base_url).netloc}"


OWN_ISSUERS_TTL = 30.0
"""Seconds this process reuses its list of the instance's issuers (changes made through this
process show at once; other processes' within this time)."""


class OwnIssuers:
    """This instance's issuers, from its database: read in one query and kept for
    ``OWN_ISSUERS_TTL`` seconds, so a page view does not take another database connection."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.name = instance_name(services)

    def lookup(self, issuer_id: str) -> RegistryEntry | None:
        cached = self.services.cache.get("own-issuers")
        now = time.monotonic()
        if not (isinstance(cached, tuple) and now - cached[0] < OWN_ISSUERS_TTL):
            with Session(self.services.engine) as session:
                rows = session.exec(select(Issuer.did, Issuer.name, Issuer.location, Issuer.url))
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


def _client(services: Services) -> CachingHttpClient:
    host = urlsplit(services.settings.base_url).hostname or ""
    loopback = services.settings.base_url.startswith("http://") and host in _LOOPBACK_HOSTS
    return CachingHttpClient(allow_loopback_http=loopback)


def configured_lists(services: Services) -> tuple[TrustRegistry, ...]:
    """The lists of ``LAUREL_TRUST_LISTS``, loaded once per process (``ValueError`` when a file
    is missing or not a trust list, so a bad setting shows at start)."""
    key = ("trust-lists", services.settings.trust_lists)
    cached = services.cache.get(key)
    if cached is None:
        cached = load_sources(services.settings.trust_sources, _client(services))
        services.cache[key] = cached
    assert isinstance(cached, tuple)
    return cached


def policy(services: Services) -> TrustPolicy:
    return TrustPolicy((OwnIssuers(services), *configured_lists(services)))


def verify(
    services: Services, source: Any, *, fetcher: Fetcher | None = None, **options: Any
) -> Report:
    """``verify_credential`` as this instance runs it: its own documents from its database,
    its trust policy."""
    from issuer.verification.fetching import LocalFirstFetcher

    return verify_credential(
        source,
        fetcher=fetcher or LocalFirstFetcher(services),
        trust=policy(services),
        **options,
    )


def published_registry(services: Services) -> dict[str, Any]:
    """This instance's issuers as a DCC static registry (what VerifierPlus and the Learner
    Credential Wallet read), so other verifiers can trust them."""
    with Session(services.engine) as session:
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
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()
