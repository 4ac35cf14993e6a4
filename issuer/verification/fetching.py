"""The fetcher the service's own verification uses: documents Laurel itself publishes (status
lists, DID documents) are answered from the database, through the caller's unit of work;
everything else goes to the network through the verifier's ``HttpFetcher``, which refuses private
and special-purpose addresses, connects only to the address it checked and gives up at its
deadline (docs/verifier.md, "Fetching"). So a credential this instance issued verifies here even
when the instance cannot reach its own public URL, and a page view takes one database connection,
not two. A fetcher serves one operation: the DID documents it builds, and what it fetched, are
kept for its life (a verification resolves the issuer's key more than once, an import verifies
many credentials of one issuer). Between operations, the service's one ``HttpFetcher``
(``network``) keeps what the other hosts' caching headers allow, for at most five minutes
(``LAUREL_FETCH_CACHE_SECONDS``). Work that reads other hosts ahead of its write transaction
(``issuer.verification.remembered``) has every fetcher made meanwhile answer from its memory."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import LaurelError
from issuer.institutes import issuers
from issuer.issuing import statuslists
from verifier.errors import FetchError
from verifier.fetch import Fetcher, HttpFetcher, refresh_within

NETWORK = "laurel.network_fetcher"
_STATUS = re.compile(r"^/status/(\d+)$")
_DID = re.compile(r"^/issuers/([a-z0-9-]+)/did\.json$")


class LocalFirstFetcher:
    def __init__(
        self, session: Session, services: Services, network: Fetcher | None = None
    ) -> None:
        self.session = session
        self.services = services
        self.network = network or answering_now() or services.network or shared_network(services)
        self._did_documents: dict[str, bytes] = {}
        self._fetched: dict[str, bytes] = {}

    def __call__(self, url: str) -> bytes:
        path = self.services.settings.own_path(url)
        if path is None:
            return self._elsewhere(url)
        try:
            if match := _STATUS.match(path):
                return statuslists.signed_list(self.session, self.services, int(match.group(1)))[0]
            if match := _DID.match(path):
                slug = match.group(1)
                if slug not in self._did_documents:
                    issuer = issuers.get_issuer(self.session, slug)
                    document = issuers.did_document(self.session, issuer, self.services.settings)
                    self._did_documents[slug] = json.dumps(document).encode()
                return self._did_documents[slug]
        except LaurelError as exc:
            raise FetchError(url, exc.detail) from exc
        return self._elsewhere(url)

    def _elsewhere(self, url: str) -> bytes:
        if url not in self._fetched:
            self._fetched[url] = self.network(url)
        return self._fetched[url]

    def refresh_within(self, url: str, seconds: float) -> None:
        """Another host's document's word on its freshness goes to the network's cache (this
        instance's own documents are read afresh on every operation)."""
        if self.services.settings.own_path(url) is None:
            refresh_within(self.network, url, seconds)


def shared_network(services: Services) -> HttpFetcher:
    """The service's ``HttpFetcher``: one per process (per ``Services``), so that what it keeps
    serves every verification (``verifier.fetch.HttpFetcher``: what the caching headers allow a
    shared cache, at most ``LAUREL_FETCH_CACHE_SECONDS``, within a bounded size)."""
    found = services.cache.get(NETWORK)
    if not isinstance(found, HttpFetcher):
        made = HttpFetcher(cache_seconds=services.settings.fetch_cache_seconds)
        found = services.cache.setdefault(NETWORK, made)
        assert isinstance(found, HttpFetcher)
    return found


_ANSWERING: ContextVar[Remembered | None] = ContextVar("laurel_remembered", default=None)


class Remembered:
    """A network (a ``Fetcher``) that asks ``network`` once per URL and remembers the answer:
    the body as it came, or the ``FetchError``, raised again. ``before_asking`` (the first pass:
    its session's ``commit``) runs before each question actually sent, so no connection of the
    pool is held while a host answers."""

    def __init__(self, network: Fetcher) -> None:
        self.network = network
        self.before_asking: Callable[[], object] | None = None
        self._answers: dict[str, bytes | FetchError] = {}

    def __call__(self, url: str) -> bytes:
        if url not in self._answers:
            if self.before_asking is not None:
                self.before_asking()
            try:
                self._answers[url] = self.network(url)
            except FetchError as exc:
                self._answers[url] = exc
        answer = self._answers[url]
        if isinstance(answer, FetchError):
            raise answer
        return answer

    def refresh_within(self, url: str, seconds: float) -> None:
        refresh_within(self.network, url, seconds)


def answering_now() -> Remembered | None:
    """The memory the current work answers from (``answering``), if any."""
    return _ANSWERING.get()


@contextmanager
def answering(remembered: Remembered) -> Iterator[Remembered]:
    """Within the block, every ``LocalFirstFetcher`` made in this thread asks ``remembered``
    instead of the service's network."""
    token = _ANSWERING.set(remembered)
    try:
        yield remembered
    finally:
        _ANSWERING.reset(token)
