"""Status: Bitstring Status List (Laurel-signed lists) and the 1EdTech Revocation List."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import pytest

from issuer.crypto.keys import did_key, did_key_method, ed25519_from_seed, generate_ed25519
from issuer.crypto.signing import sign_data_integrity
from issuer.issuing.bitstring import empty_bits, set_bit, status_entry, status_list_credential
from tests.issuer.credentials import make_credential
from tests.vectors import NOW, check
from verifier import Outcome, Report, Verdict, verify_credential
from verifier import status as status_module
from verifier.fetch import MappingFetcher
from verifier.status import (
    MAX_ENTRIES,
    MAX_STATUS_SIZE,
    MIN_ENTRIES,
    decode_bitstring,
    encode_bitstring,
    read_bits,
)

KEY = ed25519_from_seed(b"\x07" * 32)
ISSUER = did_key(KEY)
LIST_URL = "https://badges.example.org/status/1"
LIST_FROM = "2026-01-01T00:00:00Z"


def _signed(document: dict[str, Any], key: Any = KEY) -> dict[str, Any]:
    return sign_data_integrity(document, key, did_key_method(key), created="2026-01-01T00:00:00Z")


def _list(bits: bytes, *, purpose: str = "revocation", key: Any = KEY) -> bytes:
    issuer = did_key(key)
    document = status_list_credential(
        LIST_URL, issuer, bits, purpose=purpose, valid_from="2026-01-01T00:00:00Z"
    )
    return json.dumps(_signed(document, key)).encode()


def _credential(index: int, purpose: str = "revocation") -> dict[str, Any]:
    return _signed(
        make_credential(ISSUER, credentialStatus=status_entry(LIST_URL, index, purpose=purpose))
    )


def _verify(credential: dict[str, Any], list_body: bytes | None) -> Any:
    table = {LIST_URL: list_body} if list_body is not None else {}
    return verify_credential(credential, now=NOW, fetcher=MappingFetcher(table))


def test_bit_order_is_msb_first() -> None:
    bits = empty_bits()
    set_bit(bits, 23)
    assert bits[2] == 0b0000_0001
    assert read_bits(decode_bitstring(encode_bitstring(bytes(bits))), 23, 1) == 1
    assert read_bits(bytes(bits), 22, 1) == 0


def test_not_revoked_passes_and_revoked_fails() -> None:
    bits = empty_bits()
    set_bit(bits, 42)
    body = _list(bytes(bits))
    assert _verify(_credential(41), body).verdict is Verdict.VERIFIED
    report = _verify(_credential(42), body)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "revoked" in report.check("status").reason


def test_suspension_list() -> None:
    bits = empty_bits()
    set_bit(bits, 5)
    report = _verify(_credential(5, "suspension"), _list(bytes(bits), purpose="suspension"))
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "suspended" in report.check("status").reason


def test_unreachable_list_is_unknown_never_valid() -> None:
    report = _verify(_credential(1), None)
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    assert report.check("status").outcome is Outcome.UNKNOWN


def test_list_signed_by_someone_else_is_not_trusted() -> None:
    body = _list(bytes(empty_bits()), key=generate_ed25519())
    report = _verify(_credential(1), body)
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    assert "not issued by the credential's issuer" in report.check("status").reason


def test_tampered_list_is_not_trusted() -> None:
    bits = empty_bits()
    set_bit(bits, 9)
    body = json.loads(_list(bytes(bits)))
    body["credentialSubject"]["encodedList"] = encode_bitstring(bytes(empty_bits()))
    report = _verify(_credential(9), json.dumps(body).encode())
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    assert report.check("status").outcome is Outcome.UNKNOWN


def _dated_list(bits: bytes, **window: str) -> bytes:
    document = status_list_credential(
        LIST_URL, ISSUER, bits, valid_from=window.pop("validFrom", "2026-01-01T00:00:00Z")
    )
    return json.dumps(_signed({**document, **window})).encode()


def test_an_expired_list_says_nothing_about_status() -> None:
    """A list past its ``validUntil`` may be a stale copy: the credential could have been revoked
    since, so its status is unknown (as a list that could not be fetched), never "not revoked"."""
    expired = _dated_list(bytes(empty_bits()), validUntil="2026-05-01T00:00:00Z")
    report = _verify(_credential(1), expired)
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    status = report.check("status")
    assert status.outcome is Outcome.UNKNOWN
    assert "the status list does not verify: it expired on 2026-05-01" in status.reason
    current = _dated_list(bytes(empty_bits()), validUntil="2026-07-01T00:00:00Z")
    assert _verify(_credential(1), current).verdict is Verdict.VERIFIED


def test_a_list_not_yet_valid_says_nothing_about_status() -> None:
    early = _dated_list(bytes(empty_bits()), validFrom="2026-07-01T00:00:00Z")
    report = _verify(_credential(1), early)
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    assert "not valid until 2026-07-01" in report.check("status").reason


def test_a_credential_that_is_not_a_status_list_says_nothing_about_status() -> None:
    """Another credential of the same issuer, with an ``encodedList`` in its subject, is not a
    status list: its ``type`` must name one (BSL §2.2)."""
    document = status_list_credential(
        LIST_URL, ISSUER, bytes(empty_bits()), valid_from="2026-01-01T00:00:00Z"
    )
    document["type"] = ["VerifiableCredential"]
    report = _verify(_credential(1), json.dumps(_signed(document)).encode())
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    assert "not a BitstringStatusListCredential" in report.check("status").reason


def test_a_list_may_name_several_purposes() -> None:
    bits = empty_bits()
    set_bit(bits, 3)
    document = status_list_credential(LIST_URL, ISSUER, bytes(bits), valid_from=LIST_FROM)
    document["credentialSubject"]["statusPurpose"] = ["suspension", "revocation"]
    body = json.dumps(_signed(document)).encode()
    assert _verify(_credential(2), body).verdict is Verdict.VERIFIED
    assert "revoked" in _verify(_credential(3), body).check("status").reason
    document["credentialSubject"]["statusPurpose"] = ["suspension", "message"]
    report = _verify(_credential(2), json.dumps(_signed(document)).encode())
    assert "is not 'revocation'" in report.check("status").reason


def test_a_message_list_reports_the_value_and_its_message() -> None:
    """A ``message`` entry with ``statusSize`` 2: the value read, and what the entry's
    ``statusMessage`` says it means; an unset entry still says "not set"."""
    bits = empty_bits()
    set_bit(bits, 2 * 5 + 1)  # entry 5 holds 0b01
    body = _list(bytes(bits), purpose="message")
    entry = {
        **status_entry(LIST_URL, 5, purpose="message"),
        "statusSize": 2,
        "statusMessage": [
            {"status": f"0x{n:x}", "message": text}
            for n, text in enumerate(["pending", "accepted", "rejected", "withdrawn"])
        ],
    }
    report = _verify(_signed(make_credential(ISSUER, credentialStatus=entry)), body)
    assert report.verdict is Verdict.VERIFIED
    assert report.check("status").reason.startswith("message: 'accepted' (status 0x1) (index 5")
    unset = {**entry, "statusListIndex": "6"}
    report = _verify(_signed(make_credential(ISSUER, credentialStatus=unset)), body)
    assert report.check("status").reason.startswith("message: not set (index 6")
    bare = {key: value for key, value in entry.items() if key != "statusMessage"}
    report = _verify(_signed(make_credential(ISSUER, credentialStatus=bare)), body)
    assert report.check("status").reason.startswith("message: status 0x1 (index 5")


def test_a_set_refresh_entry_says_a_newer_version_exists() -> None:
    bits = empty_bits()
    set_bit(bits, 4)
    body = _list(bytes(bits), purpose="refresh")
    report = _verify(_credential(4, "refresh"), body)
    assert report.verdict is Verdict.VERIFIED
    assert report.check("status").reason.startswith("refresh: set, the issuer has a newer")
    assert (
        _verify(_credential(5, "refresh"), body)
        .check("status")
        .reason.startswith("refresh: not set")
    )


def test_purpose_mismatch_and_short_list_are_unknown() -> None:
    assert (
        _verify(_credential(1), _list(bytes(empty_bits()), purpose="suspension")).verdict
        is Verdict.COULD_NOT_DECIDE
    )
    with pytest.raises(ValueError):
        empty_bits(1024)
    document = status_list_credential(
        LIST_URL, ISSUER, bytes(1024), valid_from="2026-01-01T00:00:00Z"
    )
    report = _verify(_credential(1), json.dumps(_signed(document)).encode())
    assert "fewer than 131072" in report.check("status").reason


def test_one_edtech_revocation_list() -> None:
    url = "https://badges.example.org/revocations"
    unsigned = make_credential(
        ISSUER, credentialStatus={"id": url, "type": "1EdTechRevocationList"}
    )
    unsigned["@context"].append("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json")
    credential = _signed(unsigned)

    def fetch(body: Any) -> Report:
        fetcher = MappingFetcher({url: json.dumps(body).encode()})
        return verify_credential(credential, now=NOW, fetcher=fetcher)

    # revokedCredentials, as the 1EdTech validator reads it; the singular name is read too.
    for name in ("revokedCredentials", "revokedCredential"):
        assert fetch({name: [{"id": "urn:uuid:other"}]}).verdict is Verdict.VERIFIED
        listed = [{"id": credential["id"], "revocationReason": "error"}]
        revoked = fetch({name: listed})
        assert revoked.verdict is Verdict.NOT_VERIFIED
        assert "error" in check(revoked, "status").reason
        not_revoked = fetch({name: [{"id": credential["id"], "revoked": False}]})
        assert not_revoked.verdict is Verdict.VERIFIED
    both = fetch({"revokedCredentials": [], "revokedCredential": [{"id": credential["id"]}]})
    assert both.verdict is Verdict.NOT_VERIFIED
    neither = fetch({"revoked": [credential["id"]]})
    assert neither.verdict is Verdict.COULD_NOT_DECIDE
    assert "no revokedCredentials array" in check(neither, "status").reason


def _code(credential: dict[str, Any], list_body: bytes | None) -> str | None:
    status = _verify(credential, list_body).check("status")
    assert status.outcome is Outcome.UNKNOWN, status
    return str(status.code)


def test_each_bitstring_failure_has_its_bsl_error_code() -> None:
    """The status check's ``code`` names the Bitstring Status List error ("Processing Errors"),
    in snake case: the ``#`` fragment of its type URL, upper-cased, as the VC-API answers it."""
    good = _list(bytes(empty_bits()))
    assert _code(_credential(1), None) == "status_retrieval_error"
    assert _code(_credential(1), b"[1, 2]") == "status_retrieval_error"
    stranger = _list(bytes(empty_bits()), key=generate_ed25519())
    assert _code(_credential(1), stranger) == "status_verification_error"
    expired = _dated_list(bytes(empty_bits()), validUntil="2026-05-01T00:00:00Z")
    assert _code(_credential(1), expired) == "status_verification_error"
    suspension = _list(bytes(empty_bits()), purpose="suspension")
    assert _code(_credential(1), suspension) == "status_verification_error"
    short = status_list_credential(LIST_URL, ISSUER, bytes(1024), valid_from=LIST_FROM)
    assert _code(_credential(1), json.dumps(_signed(short)).encode()) == (
        "status_list_length_error"
    )
    assert _code(_credential(MIN_ENTRIES), good) == "range_error"
    entry = {**status_entry(LIST_URL, 1), "statusListIndex": "one"}
    assert _code(_signed(make_credential(ISSUER, credentialStatus=entry)), good) == (
        "malformed_value_error"
    )
    garbled = status_list_credential(LIST_URL, ISSUER, bytes(empty_bits()), valid_from=LIST_FROM)
    garbled["credentialSubject"]["encodedList"] = "u" + "A" * 40  # base64url, but not GZIP
    assert _code(_credential(1), json.dumps(_signed(garbled)).encode()) == ("malformed_value_error")


class Told(MappingFetcher):
    """A fetcher that notes what the documents it gave say of their own freshness."""

    def __init__(self, table: dict[str, bytes]) -> None:
        super().__init__(table)
        self.told: list[tuple[str, float]] = []

    def refresh_within(self, url: str, seconds: float) -> None:
        self.told.append((url, seconds))


def _list_with(**subject: Any) -> bytes:
    document = status_list_credential(LIST_URL, ISSUER, bytes(empty_bits()), valid_from=LIST_FROM)
    document["credentialSubject"] = {**document["credentialSubject"], **subject}
    return json.dumps(_signed(document)).encode()


@pytest.mark.parametrize(
    ("ttl", "told"),
    [(60_000, [(LIST_URL, 60.0)]), (0, [(LIST_URL, 0.0)]), (1500.5, [(LIST_URL, 1.5005)])],
)
def test_a_lists_ttl_is_passed_to_the_fetcher(ttl: float, told: list[tuple[str, float]]) -> None:
    """BSL §2.2: ``ttl`` is how many milliseconds the list may be used before it is fetched
    again; a fetcher that keeps documents (``HttpFetcher``) is told, through the verification's
    own bounded fetcher."""
    fetcher = Told({LIST_URL: _list_with(ttl=ttl)})
    report = verify_credential(_credential(3), now=NOW, fetcher=fetcher)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert fetcher.told == told


@pytest.mark.parametrize("ttl", [-1, "60000", True, None, [60000], 10**13])
def test_a_ttl_that_is_not_a_duration_is_ignored(ttl: Any) -> None:
    fetcher = Told({LIST_URL: _list_with(ttl=ttl)})
    report = verify_credential(_credential(3), now=NOW, fetcher=fetcher)
    assert fetcher.told == []
    assert report.check("status") is not None


def test_a_list_without_ttl_tells_nothing() -> None:
    fetcher = Told({LIST_URL: _list(bytes(empty_bits()))})
    assert verify_credential(_credential(3), now=NOW, fetcher=fetcher).verified
    assert fetcher.told == []


def test_a_wide_entry_or_many_entries_are_not_read() -> None:
    """``statusSize`` is read bit by bit, and identical entries are one in the signed RDF: a few
    bytes of credential must not ask for millions of bit reads or any number of list reads (an
    entry as wide as a 1 MiB list took 0.8 s of CPU, and it could be repeated)."""
    body = _list(bytes(empty_bits()))
    wide = status_entry(LIST_URL, 0) | {"statusSize": MAX_STATUS_SIZE + 1}
    report = _verify(_signed(make_credential(ISSUER, credentialStatus=wide)), body)
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    assert f"at most {MAX_STATUS_SIZE} bits" in report.check("status").reason
    widest = status_entry(LIST_URL, 0) | {"statusSize": MAX_STATUS_SIZE, "statusMessage": []}
    report = _verify(_signed(make_credential(ISSUER, credentialStatus=widest)), body)
    assert report.check("status").outcome is Outcome.PASSED, report.check("status")
    entries = [status_entry(LIST_URL, 1)] * (MAX_ENTRIES + 1)  # (the OB schema wants one)
    report = _verify(_signed(make_credential(ISSUER, credentialStatus=entries)), body)
    assert report.check("status").outcome is Outcome.UNKNOWN
    assert f"at most {MAX_ENTRIES} are read" in report.check("status").reason
    report = _verify(_signed(make_credential(ISSUER, credentialStatus=entries[:MAX_ENTRIES])), body)
    assert report.check("status").outcome is Outcome.PASSED, report.check("status")


def test_a_list_read_by_several_entries_is_inflated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    bits = empty_bits()
    set_bit(bits, 3)
    body = _list(bytes(bits))
    inflations: list[str] = []
    inflate = status_module._inflate
    monkeypatch.setattr(status_module, "_decoded", OrderedDict())
    monkeypatch.setattr(status_module, "DECODED_MAX_BYTES", 0)  # as for a list too large to keep

    def counted(encoded: str) -> bytes:
        inflations.append(encoded)
        return inflate(encoded)

    monkeypatch.setattr(status_module, "_inflate", counted)
    entries = [status_entry(LIST_URL, 1), status_entry(LIST_URL, 2), status_entry(LIST_URL, 3)]
    report = _verify(_signed(make_credential(ISSUER, credentialStatus=entries)), body)
    assert report.verdict is Verdict.NOT_VERIFIED and "revoked" in report.check("status").reason
    assert len(inflations) == 1
