"""Status lists verified once: a memo of the status-list check of ``verify_credential``.

Thousands of credentials point at one status list, and verifying the list (its canonical form,
its proof, its issuer) costs as much as verifying the credential. What that check decides is a
function of the list's bytes, the credential's issuer, the verification profile, and what the
verification read: the documents it fetched and the keys it resolved. So a list that verified is
remembered with those reads (each fetched document's SHA-256, each key's SubjectPublicKeyInfo and
what its controller says of it), and the next time the same list is checked the reads are made
again, through the verification's own fetcher and key resolver: when every answer is the same,
so is the outcome, and the list is not verified again. A key the issuer has since removed from
its DID document, a changed document or one that cannot be fetched any more is a different
answer, and the list is verified again. A did:key or did:jwk resolved by ``DefaultKeyResolver``
is not read again: its key is written in the method itself; so a list remembered through
``DefaultKeyResolver`` is remembered apart from one remembered through any other resolver, whose
answers (a stricter policy's refusal, say) are always asked again. Only successes are remembered.

A list is also remembered with its validity window (``validFrom`` and ``validUntil``, ended sooner
by a proof's ``expires``): outside it, the list is verified again, and fails, since a list past
its ``validUntil`` may be a stale copy.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from verifier.errors import FetchError, VerifierError
from verifier.fetch import Fetcher
from verifier.keys import DefaultKeyResolver, KeyResolver, ResolvedKey, spki

CACHE_SIZE = 256
"""Lists remembered (least recently used first out); an entry is a few hundred bytes."""

MemoKey = tuple[str, str | None, bool, bool]
"""(the SHA-256 of a list's bytes, the credential's issuer, whether the profile is "vc", whether
the keys were resolved by ``DefaultKeyResolver``, whose did:key and did:jwk answers are not
recorded)."""
Read = tuple[str, str, Any]
"""("fetch", url, what came back) or ("key", verification method, what came back)."""
Window = tuple[datetime | None, datetime | None]
"""A list's validity window: its start and end, None where it names none."""


def _key_answer(resolved: ResolvedKey) -> tuple[Any, ...]:
    return (
        resolved.id,
        resolved.controller,
        spki(resolved.key),
        resolved.confirmed,
        tuple(sorted(resolved.purposes)),
    )


def _fetch_answer(fetcher: Fetcher, url: str) -> tuple[str, str]:
    try:
        return ("body", hashlib.sha256(fetcher(url)).hexdigest())
    except FetchError as exc:
        return ("error", exc.reason)


def _resolve_answer(resolve_key: KeyResolver, method: str) -> tuple[Any, ...]:
    try:
        return ("key", *_key_answer(resolve_key(method)))
    except VerifierError as exc:
        return ("error", type(exc).__name__, str(exc))


class Recorder:
    """A fetcher and a key resolver that pass every call through and note what came back."""

    def __init__(self, fetcher: Fetcher, resolve_key: KeyResolver) -> None:
        self._fetcher = fetcher
        self._resolve_key = resolve_key
        self.reads: list[Read] = []

    def fetch(self, url: str) -> bytes:
        try:
            body = self._fetcher(url)
        except FetchError as exc:
            self.reads.append(("fetch", url, ("error", exc.reason)))
            raise
        self.reads.append(("fetch", url, ("body", hashlib.sha256(body).hexdigest())))
        return body

    def resolve(self, method: str) -> ResolvedKey:
        try:
            resolved = self._resolve_key(method)
        except VerifierError as exc:
            self.reads.append(("key", method, ("error", type(exc).__name__, str(exc))))
            raise
        if not self._pure(method):
            self.reads.append(("key", method, ("key", *_key_answer(resolved))))
        return resolved

    def _pure(self, method: str) -> bool:
        """A did:key or did:jwk resolved by ``DefaultKeyResolver``: the key is written in the
        method itself, read without any fetch, so the answer cannot change."""
        return by_default(self._resolve_key) and method.startswith(("did:key:", "did:jwk:"))


def by_default(resolve_key: KeyResolver) -> bool:
    """Whether ``resolve_key`` is ``DefaultKeyResolver`` (whose did:key and did:jwk answers are
    not recorded, so its memo entries are not another resolver's)."""
    return type(resolve_key) is DefaultKeyResolver


class VerifiedLists:
    """Status lists that verified, with the reads their verification made."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[MemoKey, tuple[tuple[Read, ...], Window]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(
        list_digest: str, issuer: str | None, generic: bool, default_keys: bool = True
    ) -> MemoKey:
        """What names one check: the SHA-256 of the list's bytes and the check's context (the
        credential's issuer, the verification profile, whether its keys are resolved by
        ``DefaultKeyResolver``: ``by_default``). A tuple, not a digest of them: the digest cost
        each status check ~3 µs, and the tuple is as exact."""
        return (list_digest, issuer, bool(generic), default_keys)

    def holds(
        self,
        key: MemoKey,
        fetcher: Fetcher,
        resolve_key: KeyResolver,
        *,
        now: datetime,
        skew: timedelta,
    ) -> bool:
        """True when the list named ``key`` verified before, ``now`` is within its validity
        window (give or take ``skew``, as ``check_validity`` allows), and every read it made
        gives the same answer now (the reads are made again, through ``fetcher`` and
        ``resolve_key``)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is None:
            return False
        reads, (start, end) = entry
        if (start is not None and start > now + skew) or (end is not None and end < now - skew):
            return False
        for kind, target, answer in reads:
            again = (
                _fetch_answer(fetcher, target)
                if kind == "fetch"
                else _resolve_answer(resolve_key, target)
            )
            if again != answer:
                with self._lock:
                    self._entries.pop(key, None)
                return False
        return True

    def remember(self, key: MemoKey, reads: list[Read], window: Window) -> None:
        with self._lock:
            self._entries[key] = (tuple(reads), window)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


VERIFIED_LISTS = VerifiedLists()
