"""Status list indexes and the signed status list credentials.

Indexes are allocated in the issuing unit of work, holding the list's row until it commits: an
index is used once a credential carrying it commits; a unit of work that fails (or a process that
dies) takes its allocation back with it, so no committed credential's index is ever handed out
again. A list holds 131,072 entries (the BSL minimum); when one is full the next is created.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.crypto.keystore import proof_key
from issuer.crypto.signing import sign_data_integrity
from issuer.institutes.issuers import signing_key
from issuer.issuing.bitstring import empty_bits, set_bit, status_entry, status_list_credential
from issuer.models import Issuer, StatusList
from issuer.models.base import iso, utcnow
from verifier.status import MIN_ENTRIES


def list_url(services: Services, list_id: int) -> str:
    return f"{services.settings.base_url}/status/{list_id}"


def allocate(session: Session, issuer_id: int, count: int = 1) -> list[tuple[int, int]]:
    """``count`` fresh (list id, index) pairs for ``issuer_id``, in ``session``'s unit of work."""
    pairs: list[tuple[int, int]] = []
    while len(pairs) < count:
        pairs.extend(_allocate_some(session, issuer_id, count - len(pairs)))
    return pairs


def _allocate_some(session: Session, issuer_id: int, wanted: int) -> list[tuple[int, int]]:
    """Grant up to ``wanted`` indexes from the issuer's newest list, holding its row lock
    (PostgreSQL: SELECT … FOR UPDATE; SQLite: the write transaction is already exclusive)."""
    lock = " FOR UPDATE" if session.get_bind().dialect.name == "postgresql" else ""
    row = session.execute(
        text(
            f"SELECT id, next_index, size FROM status_list WHERE issuer_id = :issuer "
            f"ORDER BY id DESC LIMIT 1{lock}"
        ),
        {"issuer": issuer_id},
    ).first()
    if row is None or row.next_index >= row.size:
        created = StatusList(issuer_id=issuer_id, size=MIN_ENTRIES, bits=bytes(empty_bits()))
        session.add(created)
        session.flush()
        assert created.id is not None
        list_id, start, size = created.id, 0, created.size
    else:
        list_id, start, size = row.id, row.next_index, row.size
    granted = min(wanted, size - start)
    session.execute(
        text("UPDATE status_list SET next_index = :end WHERE id = :id"),
        {"end": start + granted, "id": list_id},
    )
    return [(list_id, index) for index in range(start, start + granted)]


def entry(services: Services, list_id: int, index: int) -> dict[str, Any]:
    return status_entry(list_url(services, list_id), index)


def set_revoked(session: Session, list_id: int, index: int) -> None:
    """Flip the bit (the caller's transaction holds the row)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT id FROM status_list WHERE id = :id FOR UPDATE"), {"id": list_id}
        )
    status_list = session.get(StatusList, list_id)
    assert status_list is not None
    bits = bytearray(status_list.bits)
    set_bit(bits, index)
    status_list.bits = bytes(bits)
    status_list.version += 1
    status_list.updated_at = utcnow()
    session.add(status_list)


def signed_list(session: Session, services: Services, list_id: int) -> tuple[bytes, int]:
    """The signed BitstringStatusListCredential as JSON bytes, and its version (for ETags)."""
    version = session.execute(
        text("SELECT version FROM status_list WHERE id = :id"), {"id": list_id}
    ).scalar()
    if version is None:
        raise NotFound(f"there is no status list {list_id}")
    cache_key = ("status-list", list_id, version)
    cached = services.cache.get(cache_key)
    if isinstance(cached, bytes):  # the 16 KiB bitstring is read only when it changed
        return cached, int(version)
    status_list = session.get(StatusList, list_id)
    assert status_list is not None
    issuer = session.get(Issuer, status_list.issuer_id)
    assert issuer is not None
    key_row = signing_key(session, issuer, "di")
    document = status_list_credential(
        list_url(services, list_id),
        issuer.did,
        status_list.bits,
        purpose=status_list.purpose,
        valid_from=iso(status_list.updated_at),
    )
    signed = sign_data_integrity(document, proof_key(services.keystore, key_row), key_row.kid)
    body = json.dumps(signed, ensure_ascii=False).encode("utf-8")
    services.cache[cache_key] = body
    return body, status_list.version
