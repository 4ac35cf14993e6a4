"""Who this instance trusts, and how it verifies: its own issuers are known to it
(``issuer.institutes.registry``), followed by the lists in ``LAUREL_TRUST_LISTS``. Every
verification the service runs goes through ``verify`` so that pages, the API, imports and the
wallet agree."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from issuer.context import Services
from issuer.institutes.registry import OwnIssuers
from issuer.verification.fetching import LocalFirstFetcher
from verifier import Report, verify_credential
from verifier.fetch import Fetcher
from verifier.httpcache import CachingHttpClient
from verifier.identity import TrustPolicy, TrustRegistry
from verifier.registries import StaticRegistry, load_sources

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


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


def lists_answer_here(services: Services) -> bool:
    """Whether ``LAUREL_TRUST_LISTS`` are loaded in this process and every one of them answers
    a lookup from memory (a static list; a remote list or a federation may ask its host), so
    that looking up an issuer reaches no other host."""
    cached = services.cache.get(("trust-lists", services.settings.trust_lists))
    return isinstance(cached, tuple) and all(isinstance(r, StaticRegistry) for r in cached)


def policy(session: Session, services: Services) -> TrustPolicy:
    return TrustPolicy((OwnIssuers(session, services), *configured_lists(services)))


def verify(
    session: Session,
    services: Services,
    source: Any,
    *,
    fetcher: Fetcher | None = None,
    **options: Any,
) -> Report:
    """``verify_credential`` as this instance runs it: its own documents from its database
    (through ``session``, the caller's unit of work), its trust policy."""
    return verify_credential(
        source,
        fetcher=fetcher or LocalFirstFetcher(session, services),
        trust=policy(session, services),
        **options,
    )
