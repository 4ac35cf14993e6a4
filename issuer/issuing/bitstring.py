"""Bitstring Status List credentials (W3C BSL v1.0 §2): the lists Laurel publishes.

A list has at least 131,072 entries (16 KiB of bits), index 0 the most significant bit of byte 0,
and is itself a signed credential. The encoding lives in ``verifier.status`` so that writing and
reading a list use the same code.
"""

from __future__ import annotations

from typing import Any

from verifier.status import MIN_ENTRIES, encode_bitstring

STATUS_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def empty_bits(entries: int = MIN_ENTRIES) -> bytearray:
    if entries < MIN_ENTRIES or entries % 8:
        raise ValueError(f"a status list has a multiple of 8 entries, at least {MIN_ENTRIES}")
    return bytearray(entries // 8)


def set_bit(bits: bytearray, index: int, value: bool = True) -> None:
    byte, offset = divmod(index, 8)
    mask = 1 << (7 - offset)
    bits[byte] = bits[byte] | mask if value else bits[byte] & ~mask


def status_list_credential(
    list_url: str, issuer_id: str, bits: bytes, *, purpose: str = "revocation", valid_from: str
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` published at ``list_url``."""
    return {
        "@context": [STATUS_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_bitstring(bytes(bits)),
        },
    }


def status_entry(list_url: str, index: int, *, purpose: str = "revocation") -> dict[str, Any]:
    """A credential's ``credentialStatus`` pointing at entry ``index`` of ``list_url``."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }
