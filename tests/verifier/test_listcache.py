"""A status list that verified is not verified again while what it read gives the same answers
(``verifier.listcache``); any other answer verifies it again, and failures are never remembered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from issuer.crypto.keys import did_key, did_key_method, ed25519_from_seed
from issuer.crypto.signing import sign_data_integrity
from issuer.issuing.bitstring import empty_bits, set_bit, status_entry, status_list_credential
from tests.issuer.credentials import make_credential
from tests.vectors import NOW, check
from verifier import Outcome, Verdict, verify_credential
from verifier import status as status_module
from verifier.errors import FetchError, KeyResolutionError
from verifier.fetch import MappingFetcher
from verifier.keys import DefaultKeyResolver, ResolvedKey
from verifier.listcache import VERIFIED_LISTS, Recorder, VerifiedLists, Window
from verifier.proof import data_integrity

KEY = ed25519_from_seed(b"\x09" * 32)
OTHER = ed25519_from_seed(b"\x0a" * 32)
ISSUER = did_key(KEY)
METHOD = did_key_method(KEY)
LIST_URL = "https://badges.example.org/status/9"
OPEN: Window = (None, None)
AT_NOW: dict[str, Any] = {"now": NOW, "skew": timedelta(0)}


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    VERIFIED_LISTS.clear()
    yield
    VERIFIED_LISTS.clear()


@pytest.fixture
def proofs_checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the documents whose proof was checked."""
    checked: list[str] = []
    original = data_integrity.verify_proof

    def counting(document: Any, *args: Any, **kwargs: Any) -> Any:
        checked.append(str(document.get("id")))
        return original(document, *args, **kwargs)

    monkeypatch.setattr(data_integrity, "verify_proof", counting)
    return checked


def _list(bits: bytes = bytes(empty_bits()), **window: str) -> bytes:
    document = status_list_credential(LIST_URL, ISSUER, bits, valid_from="2026-01-01T00:00:00Z")
    document.update(window)
    signed = sign_data_integrity(document, KEY, METHOD, created="2026-01-01T00:00:00Z")
    return json.dumps(signed).encode()


def _credential(index: int) -> dict[str, Any]:
    document = make_credential(ISSUER, credentialStatus=status_entry(LIST_URL, index))
    return sign_data_integrity(document, KEY, METHOD, created="2026-01-01T00:00:00Z")


class SwappableResolver:
    """did:key resolution, except that the issuer's method can be made to answer another key."""

    def __init__(self) -> None:
        self.default = DefaultKeyResolver(MappingFetcher({}))
        self.swapped: ResolvedKey | None = None
        self.calls = 0

    def __call__(self, method: str) -> ResolvedKey:
        self.calls += 1
        resolved = self.default(method)
        if method == METHOD and self.swapped is not None:
            return self.swapped
        return resolved


def test_a_list_is_verified_once_for_many_credentials(proofs_checked: list[str]) -> None:
    fetcher = MappingFetcher({LIST_URL: _list()})
    for index in range(5):
        report = verify_credential(_credential(index), now=NOW, fetcher=fetcher)
        assert report.verdict is Verdict.VERIFIED
    assert proofs_checked.count(LIST_URL) == 1
    assert len([i for i in proofs_checked if i != LIST_URL]) == 5


def test_the_same_report_with_or_without_the_memo() -> None:
    fetcher = MappingFetcher({LIST_URL: _list()})
    first = verify_credential(_credential(3), now=NOW, fetcher=fetcher)
    second = verify_credential(_credential(3), now=NOW, fetcher=fetcher)
    assert first.to_dict() == second.to_dict()
    assert check(second, "status").outcome is Outcome.PASSED


def test_a_changed_list_is_verified_again(proofs_checked: list[str]) -> None:
    verify_credential(_credential(1), now=NOW, fetcher=MappingFetcher({LIST_URL: _list()}))
    bits = empty_bits()
    set_bit(bits, 1)
    fetcher = MappingFetcher({LIST_URL: _list(bytes(bits))})
    report = verify_credential(_credential(1), now=NOW, fetcher=fetcher)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "revoked" in check(report, "status").reason
    assert proofs_checked.count(LIST_URL) == 2


def test_a_key_that_answers_differently_verifies_the_list_again(
    proofs_checked: list[str],
) -> None:
    """The list's key is resolved again each time; a different answer (a rotated key, a DID
    document that no longer lists it) is a different outcome: here the list fails."""
    fetcher = MappingFetcher({LIST_URL: _list()})
    resolver = SwappableResolver()
    first = verify_credential(_credential(2), now=NOW, fetcher=fetcher, resolve_key=resolver)
    assert first.verdict is Verdict.VERIFIED
    other = DefaultKeyResolver(MappingFetcher({}))(did_key_method(OTHER))
    resolver.swapped = ResolvedKey(METHOD, ISSUER, other.key, True, other.purposes)
    second = verify_credential(_credential(2), now=NOW, fetcher=fetcher, resolve_key=resolver)
    assert check(second, "status").outcome is Outcome.UNKNOWN
    assert "does not verify" in check(second, "status").reason
    assert proofs_checked.count(LIST_URL) == 2


def test_failures_are_not_remembered(proofs_checked: list[str]) -> None:
    resolver = SwappableResolver()
    other = DefaultKeyResolver(MappingFetcher({}))(did_key_method(OTHER))
    resolver.swapped = ResolvedKey(METHOD, ISSUER, other.key, True, other.purposes)
    fetcher = MappingFetcher({LIST_URL: _list()})
    for _ in range(2):
        report = verify_credential(_credential(4), now=NOW, fetcher=fetcher, resolve_key=resolver)
        assert check(report, "status").outcome is Outcome.UNKNOWN
    assert proofs_checked.count(LIST_URL) == 2
    resolver.swapped = None
    report = verify_credential(_credential(4), now=NOW, fetcher=fetcher, resolve_key=resolver)
    assert report.verdict is Verdict.VERIFIED


def test_a_list_is_remembered_only_within_its_validity_window(proofs_checked: list[str]) -> None:
    """The same bytes, verified while the list is valid and again after its ``validUntil``: the
    memo does not carry it past its end, so the second time the list fails."""
    fetcher = MappingFetcher({LIST_URL: _list(validUntil="2026-06-30T00:00:00Z")})
    assert verify_credential(_credential(6), now=NOW, fetcher=fetcher).verdict is Verdict.VERIFIED
    later = datetime(2026, 7, 1, tzinfo=UTC)
    report = verify_credential(_credential(6), now=later, fetcher=fetcher)
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    assert "it expired on 2026-06-30" in check(report, "status").reason
    assert proofs_checked.count(LIST_URL) == 2


def test_the_window_is_kept_with_the_reads() -> None:
    memo, k = VerifiedLists(), VerifiedLists.key("w", ISSUER, False)
    start, end = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
    memo.remember(k, [], (start, end))
    fetcher, resolver, minute = MappingFetcher({}), SwappableResolver(), timedelta(minutes=1)
    assert memo.holds(k, fetcher, resolver, now=NOW, skew=minute)
    assert memo.holds(k, fetcher, resolver, now=end + minute, skew=minute)  # within the skew
    assert not memo.holds(k, fetcher, resolver, now=end + 2 * minute, skew=minute)
    assert not memo.holds(k, fetcher, resolver, now=start - 2 * minute, skew=minute)
    assert memo.holds(k, fetcher, resolver, now=NOW, skew=minute)  # kept: only time differed


def test_a_fetched_document_that_changed_is_a_different_answer() -> None:
    table = {"https://example.org/did.json": b"one"}
    recorder = Recorder(MappingFetcher(table), SwappableResolver())
    recorder.fetch("https://example.org/did.json")
    with pytest.raises(KeyResolutionError):
        recorder.resolve("did:example:unknown#1")
    memo, k = VerifiedLists(), VerifiedLists.key("k", ISSUER, False)
    memo.remember(k, recorder.reads, OPEN)
    resolver = SwappableResolver()
    assert memo.holds(k, MappingFetcher(table), resolver, **AT_NOW)
    assert not memo.holds(
        k, MappingFetcher({"https://example.org/did.json": b"two"}), resolver, **AT_NOW
    )
    assert not memo.holds(
        k, MappingFetcher(table), resolver, **AT_NOW
    )  # forgotten once it differed
    memo.remember(k, recorder.reads, OPEN)
    assert not memo.holds(k, MappingFetcher({}), resolver, **AT_NOW)  # now unreachable


def test_the_memo_is_bounded() -> None:
    memo = VerifiedLists(size=3)
    for name in "abcde":
        memo.remember(VerifiedLists.key(name, ISSUER, False), [], OPEN)
    resolver = SwappableResolver()
    assert [
        memo.holds(VerifiedLists.key(name, ISSUER, False), MappingFetcher({}), resolver, **AT_NOW)
        for name in "abcde"
    ] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_the_key_names_the_list_the_issuer_and_the_profile() -> None:
    keys = {
        VerifiedLists.key("aa", ISSUER, False),
        VerifiedLists.key("aa", "did:example:other", False),
        VerifiedLists.key("aa", ISSUER, True),
        VerifiedLists.key("ab", ISSUER, False),
    }
    assert len(keys) == 4


def test_the_same_bytes_are_read_once() -> None:
    body = _list()
    first, digest = status_module._read_list(MappingFetcher({LIST_URL: body}), LIST_URL)
    again, same = status_module._read_list(MappingFetcher({LIST_URL: body}), LIST_URL)
    assert again is first and same == digest
    assert status_module._read_list(MappingFetcher({LIST_URL: body + b" "}), LIST_URL)[0] == first
    with pytest.raises(FetchError, match="not usable JSON"):
        status_module._read_list(MappingFetcher({LIST_URL: b"{"}), LIST_URL)
    for n in range(status_module.READ_LISTS + 1):
        status_module._read_list(MappingFetcher({LIST_URL: b"[%d]" % n}), LIST_URL)
    assert len(status_module._read) == status_module.READ_LISTS


def test_decoded_bitstrings_are_remembered_within_bounds() -> None:
    encoded = json.loads(_list())["credentialSubject"]["encodedList"]
    bits = status_module.decode_bitstring(encoded)
    assert status_module.decode_bitstring(encoded) is bits
    large = status_module.encode_bitstring(bytes(status_module.DECODED_MAX_BYTES + 8))
    assert status_module.decode_bitstring(large) is not status_module.decode_bitstring(large)
    for n in range(status_module.DECODED_LISTS + 1):
        status_module.decode_bitstring(status_module.encode_bitstring(bytes([n]) * 16384))
    assert len(status_module._decoded) == status_module.DECODED_LISTS


def test_keys_written_in_the_method_are_not_read_again() -> None:
    """did:key and did:jwk through ``DefaultKeyResolver`` cannot answer differently; any other
    resolver's answers are read again."""
    default = DefaultKeyResolver(MappingFetcher({}))
    recorder = Recorder(MappingFetcher({}), default)
    recorder.resolve(METHOD)
    assert recorder.reads == []
    custom = Recorder(MappingFetcher({}), SwappableResolver())
    custom.resolve(METHOD)
    assert [kind for kind, _, _ in custom.reads] == ["key"]


def test_multikeys_are_remembered_and_failures_are_not() -> None:
    from verifier.multibase import decode_multikey, encode_multikey

    multikey = encode_multikey(KEY.public_key())
    first = decode_multikey(multikey)
    assert decode_multikey(multikey) is first
    assert first.public_bytes_raw() == KEY.public_key().public_bytes_raw()  # type: ignore[union-attr]
    for bad in ("z6Mk", "x" + multikey[1:], "z" + "1" * 200):
        with pytest.raises(ValueError):
            decode_multikey(bad)


class RefusingResolver:
    """A stricter policy: did:key resolution, except that it refuses the issuer's key."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, method: str) -> ResolvedKey:
        self.calls += 1
        if method == METHOD:
            raise KeyResolutionError("this policy does not accept that key")
        return DefaultKeyResolver(MappingFetcher({}))(method)


def test_a_list_remembered_by_default_is_not_taken_for_another_resolvers(
    proofs_checked: list[str],
) -> None:
    """``DefaultKeyResolver``'s did:key answers are not recorded; a later verification through
    a resolver that refuses that key must be asked, not given the remembered outcome."""
    fetcher = MappingFetcher({LIST_URL: _list()})
    first = verify_credential(_credential(4), now=NOW, fetcher=fetcher)
    assert check(first, "status").outcome is Outcome.PASSED
    stricter = RefusingResolver()
    second = verify_credential(_credential(4), now=NOW, fetcher=fetcher, resolve_key=stricter)
    assert check(second, "status").outcome is not Outcome.PASSED
    assert stricter.calls > 0
    assert proofs_checked.count(LIST_URL) == 2


def test_the_key_names_the_resolver_kind() -> None:
    assert VerifiedLists.key("aa", ISSUER, False, True) != VerifiedLists.key(
        "aa", ISSUER, False, False
    )
