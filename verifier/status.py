"""Credential status: W3C Bitstring Status List v1.0 and the 1EdTech Revocation List (VCRL 1.0).

Bitstring Status List (BSL §3, §4): ``statusListCredential`` is fetched and its own proof checked
by the caller-supplied ``verify_list``; ``encodedList`` is ``u`` + base64url(GZIP(bitstring)), at
least 16 KiB (131,072 entries), index 0 the most significant bit of byte 0; a non-zero value at
``statusListIndex × statusSize`` means revoked (or suspended). An entry's index may be a string
(as BSL requires) or a number (as older lists wrote it).

1EdTech Revocation List: the list at ``credentialStatus.id`` names revoked credentials in
``revokedCredentials[]`` (the name the 1EdTech validator reads; ``revokedCredential[]``, as an
earlier reading of the spec had it, is read too). A list that cannot be fetched or read leaves
the status unknown.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from verifier import safejson
from verifier.errors import (
    FetchError,
    MalformedInput,
    MalformedValueError,
    RangeError,
    Revoked,
    StatusListLengthError,
    StatusRetrievalError,
    StatusUnavailable,
    StatusVerificationError,
    VerifierError,
)
from verifier.fetch import Fetcher, fetch_json, refresh_within

MIN_ENTRIES = 131_072
MAX_TTL = 10**12
"""The longest ``ttl`` read (milliseconds, ~31 years): a longer one could not shorten how long a
list is kept, and an integer too large for a float could not be divided."""
MAX_LIST_BYTES = 16 * 1024 * 1024
MAX_ENTRIES = 16
"""Status entries read per credential (a credential has one or two: revocation, suspension).
Identical entries are one in the signed RDF, so without a bound a few bytes could ask for any
number of reads of one list."""
MAX_STATUS_SIZE = 16
"""Bits per entry read (BSL §2.1 ``statusSize``; an entry wider than 1 bit lists a message for
each of its 2^n values, so real entries are a few bits wide)."""

ListVerifier = Callable[[dict[str, Any], str], None]
"""Checks a fetched list; called with the list and the SHA-256 (hex) of the bytes it was read
from. Raises a ``VerifierError`` when the list is not to be trusted."""
READ_LISTS = 32
"""Lists remembered as read from their bytes (least recently used first out), so that the same
bytes are parsed once; only lists of at most ``READ_MAX_BYTES`` bytes are."""
READ_MAX_BYTES = 128 * 1024
_read: OrderedDict[str, Any] = OrderedDict()
_read_lock = threading.Lock()


@dataclass(frozen=True)
class StatusResult:
    reason: str


def _entries(credential: Mapping[str, Any]) -> list[dict[str, Any]]:
    status = credential.get("credentialStatus")
    if status is None:
        return []
    items = status if isinstance(status, list) else [status]
    if not all(isinstance(item, dict) for item in items):
        raise MalformedValueError("credentialStatus must be an object")
    return list(items)


def check_status(
    credential: Mapping[str, Any], *, fetcher: Fetcher, verify_list: ListVerifier
) -> StatusResult | None:
    """None when the credential has no status; raises ``Revoked`` or ``StatusUnavailable``."""
    entries = _entries(credential)
    if not entries:
        return None
    if len(entries) > MAX_ENTRIES:
        raise StatusUnavailable(
            f"the credential has {len(entries)} status entries; at most {MAX_ENTRIES} are read"
        )
    reasons = []
    inflated: dict[str, bytes] = {}  # a large list read by several entries is inflated once
    for entry in entries:
        kind = entry.get("type")
        if kind in ("BitstringStatusListEntry", "StatusList2021Entry"):
            reasons.append(_bitstring(entry, fetcher, verify_list, inflated))
        elif kind == "1EdTechRevocationList":
            reasons.append(_revocation_list(credential, entry, fetcher))
        else:
            raise StatusUnavailable(f"status type {kind!r} is not supported")
    return StatusResult("; ".join(reasons))


DECODED_LISTS = 64
"""Decoded bitstrings remembered (least recently used first out): one list serves thousands of
credentials, and inflating its 16 KiB again for each costs more than the rest of its check."""
DECODED_MAX_BYTES = 256 * 1024
"""Larger bitstrings (2 million entries and more) are inflated each time, not remembered."""
_decoded: OrderedDict[str, bytes] = OrderedDict()
_decoded_lock = threading.Lock()


def decode_bitstring(encoded: str) -> bytes:
    """The raw bitstring of an ``encodedList`` (multibase base64url, or plain base64)."""
    with _decoded_lock:
        found = _decoded.get(encoded)
        if found is not None:
            _decoded.move_to_end(encoded)
            return found
    bits = _inflate(encoded)
    if len(bits) <= DECODED_MAX_BYTES:
        with _decoded_lock:
            _decoded[encoded] = bits
            while len(_decoded) > DECODED_LISTS:
                _decoded.popitem(last=False)
    return bits


def _inflate(encoded: str) -> bytes:
    text = encoded[1:] if encoded.startswith("u") else encoded
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise MalformedValueError("encodedList is not base64url") from exc
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        bits = inflater.decompress(packed, MAX_LIST_BYTES)
    except zlib.error as exc:
        raise MalformedValueError("encodedList is not GZIP data") from exc
    if inflater.unconsumed_tail:
        raise StatusUnavailable("the status list is larger than the limit")
    return bits


def encode_bitstring(bits: bytes) -> str:
    """``encodedList`` for a raw bitstring (deterministic: GZIP mtime 0)."""
    packed = gzip.compress(bits, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def read_bits(bits: bytes, index: int, size: int) -> int:
    value = 0
    for position in range(index * size, (index + 1) * size):
        byte, offset = divmod(position, 8)
        value = (value << 1) | ((bits[byte] >> (7 - offset)) & 1)
    return value


def _bitstring(
    entry: dict[str, Any], fetcher: Fetcher, verify_list: ListVerifier, inflated: dict[str, bytes]
) -> str:
    url, purpose = entry.get("statusListCredential"), entry.get("statusPurpose")
    try:
        index, size = int(entry.get("statusListIndex", "")), int(entry.get("statusSize", 1))
    except (TypeError, ValueError) as exc:
        raise MalformedValueError("statusListIndex is not a base-10 integer") from exc
    if not isinstance(url, str) or index < 0 or size < 1:
        raise MalformedValueError("the status entry has no valid statusListCredential or index")
    if size > MAX_STATUS_SIZE:
        raise StatusUnavailable(
            f"statusSize {size} is wider than Laurel reads (at most {MAX_STATUS_SIZE} bits)"
        )
    try:
        status_list, digest = _read_list(fetcher, url)
    except FetchError as exc:
        raise StatusRetrievalError(f"the status list could not be fetched ({exc.reason})") from exc
    if not isinstance(status_list, dict):
        raise StatusRetrievalError("the status list is not a JSON object")
    try:
        verify_list(status_list, digest)
    except VerifierError as exc:
        raise StatusVerificationError(f"the status list does not verify: {exc}") from exc
    if not _typed(status_list, LIST_TYPES):
        raise StatusVerificationError("the status list is not a BitstringStatusListCredential")
    subject = status_list.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("encodedList"), str):
        raise MalformedValueError("the status list has no encodedList")
    ttl = subject.get("ttl")  # milliseconds until the list is to be fetched again (BSL §2.2)
    if isinstance(ttl, int | float) and not isinstance(ttl, bool) and 0 <= ttl <= MAX_TTL:
        refresh_within(fetcher, url, ttl / 1000)
    purposes = subject.get("statusPurpose")  # one or more (BSL §2.2)
    if purpose not in (purposes if isinstance(purposes, list) else [purposes]):
        raise StatusVerificationError(f"the list's purpose {purposes!r} is not {purpose!r}")
    encoded = subject["encodedList"]
    bits = inflated.get(encoded)
    if bits is None:
        bits = inflated[encoded] = decode_bitstring(encoded)
    if len(bits) * 8 < MIN_ENTRIES:
        raise StatusListLengthError(f"the status list has fewer than {MIN_ENTRIES} entries")
    if (index + 1) * size > len(bits) * 8:
        raise RangeError(f"statusListIndex {index} is outside the list")
    value = read_bits(bits, index, size)
    if value and purpose in ("revocation", "suspension"):
        raise Revoked(f"the issuer has {'revoked' if purpose == 'revocation' else 'suspended'} it")
    if value and purpose == "refresh":
        return f"refresh: set, the issuer has a newer version of it (index {index} in {url})"
    if value:  # another purpose (e.g. "message"): what the entry says the value means
        return f"{purpose}: {_status_message(entry, value)} (index {index} in {url})"
    return f"{purpose}: not set (index {index} in {url})"


def _status_message(entry: dict[str, Any], value: int) -> str:
    """The entry's ``statusMessage`` for ``value`` (``{"status": "0x…", "message": …}``, BSL
    §2.1), else the value itself. (The credentials v2 context defines no messages on the list.)"""
    messages = entry.get("statusMessage")
    for item in messages if isinstance(messages, list) else []:
        try:
            matches = isinstance(item, dict) and int(str(item.get("status")), 16) == value
        except ValueError:
            continue
        if matches and isinstance(item.get("message"), str):
            return f"{item['message'][:200]!r} (status {value:#x})"
    return f"status {value:#x}"


LIST_TYPES = frozenset({"BitstringStatusListCredential", "StatusList2021Credential"})
"""What a status list credential's ``type`` must include (BSL §2.2; its predecessor's name is
accepted for either kind of entry): another credential of the same issuer is not a list."""


def _typed(document: dict[str, Any], wanted: frozenset[str]) -> bool:
    kinds = document.get("type")
    return not wanted.isdisjoint(kinds if isinstance(kinds, list) else [kinds])


def _read_list(fetcher: Fetcher, url: str) -> tuple[Any, str]:
    """The list at ``url`` as JSON (as ``fetch_json`` reads it), and its bytes' SHA-256. The same
    bytes are read once: the JSON is shared, and nothing that reads a list changes it."""
    body = fetcher(url)
    digest = hashlib.sha256(body).hexdigest()
    with _read_lock:
        if digest in _read:
            _read.move_to_end(digest)
            return _read[digest], digest
    try:
        document = safejson.loads(body)
    except MalformedInput as exc:
        raise FetchError(url, f"the response is not usable JSON: {exc}") from exc
    if len(body) <= READ_MAX_BYTES:
        with _read_lock:
            _read[digest] = document
            while len(_read) > READ_LISTS:
                _read.popitem(last=False)
    return document, digest


REVOKED = ("revokedCredentials", "revokedCredential")
"""Where a 1EdTech Revocation List names revoked credentials: the plural is the spec's (and the
1EdTech validator's) name; the singular is read too."""


def _revocation_list(credential: Mapping[str, Any], entry: dict[str, Any], fetcher: Fetcher) -> str:
    url = entry.get("id")
    if not isinstance(url, str):
        raise StatusUnavailable("the 1EdTechRevocationList entry has no id")
    try:
        document = fetch_json(fetcher, url)
    except FetchError as exc:
        raise StatusRetrievalError(
            f"the revocation list could not be fetched ({exc.reason})"
        ) from exc
    arrays = [document.get(name) for name in REVOKED] if isinstance(document, dict) else []
    if not any(isinstance(array, list) for array in arrays):
        raise StatusUnavailable("the revocation list has no revokedCredentials array")
    for item in (item for array in arrays if isinstance(array, list) for item in array):
        listed = isinstance(item, dict) and item.get("id") == credential.get("id")
        if listed and item.get("revoked", True) is not False:
            reason = item.get("revocationReason")
            raise Revoked("the issuer has revoked it" + (f": {reason}" if reason else ""))
    return f"not in the revocation list {url}"
