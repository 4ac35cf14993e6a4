"""Status list indexes and the signed status list credentials.

Indexes are allocated in the issuing unit of work, holding the list's row until it commits: an
index is used once a credential carrying it commits; a unit of work that fails (or a process that
dies) takes its allocation back with it, so no committed credential's index is ever handed out
again. A list holds 131,072 entries (the BSL minimum); when one is full the next is created.
The list's row is the middle of the issuing lock order (``issuer.issuing.issuance``): taken
after the learners' rows, before the credentials, DIDs and audit chain.

Serving a list does not touch the database while its version is known: each process remembers a
list's version for at most ``VERSION_TTL`` seconds, and forgets every remembered version as soon
as a revocation commits in that process. So a revocation is served at once by the process that
made it, and by every other process within ``VERSION_TTL`` seconds.

A version, as the list's ETag and this process's memory name it, is the list's change counter and
the time of its last change (``version_tag``): after a database is restored from a backup the
counter goes back and counts again over other bits, and a counter alone would let a cache that
holds the list of before (a CDN, another verifier revalidating with ``If-None-Match``) keep a
list that misses the revocations made since.
"""

from __future__ import annotations

import itertools
import json
import time
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlmodel import Session, col

from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.crypto.keystore import proof_key
from issuer.crypto.signing import sign_data_integrity
from issuer.institutes.issuers import signing_key
from issuer.issuing.bitstring import empty_bits, set_bit, status_entry, status_list_credential
from issuer.models import Issuer, StatusList
from issuer.models.base import aware, iso, utcnow
from verifier.status import MIN_ENTRIES

VERSION_TTL = 1.0
"""Seconds a process serves a list's remembered version before asking the database again: the
longest a revocation made by another process goes unseen."""

_clock = time.monotonic
_epochs = itertools.count(1)
_epoch = 0  # changes after every revocation this process commits


def _revocation_committed(_session: Session) -> None:
    global _epoch
    _epoch = next(_epochs)


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
    # Forget remembered versions once this change is visible to other transactions (a reader that
    # read the old version before the commit read it under the old epoch).
    event.listen(session, "after_commit", _revocation_committed, once=True)


def version_tag(version: int, changed: datetime) -> str:
    """``{counter}-{microseconds since 1970 of the last change}``: see the module's docstring."""
    return f"{version}-{round(aware(changed).timestamp() * 1_000_000)}"


def remembered_version(services: Services, list_id: int) -> str | None:
    """The list's version if this process remembers it and may still serve it (see the module's
    docstring), else None: then only the database can say."""
    remembered = services.cache.get(("status-list-version", list_id))
    if isinstance(remembered, tuple):
        version, epoch, read_at = remembered
        if epoch == _epoch and _clock() - read_at < VERSION_TTL:
            return str(version)
    return None


def remembered_list(services: Services, list_id: int, version: str) -> bytes | None:
    """The signed list of ``version`` if this process has signed it already."""
    cached = services.cache.get(("status-list", list_id, version))
    return cached if isinstance(cached, bytes) else None


def current_version(session: Session, services: Services, list_id: int) -> str:
    """The list's version: remembered (see the module's docstring), else read from the database."""
    remembered = remembered_version(services, list_id)
    if remembered is not None:
        return remembered
    key = ("status-list-version", list_id)
    now = _clock()
    epoch = _epoch  # taken before the read: a revocation committed after it invalidates the read
    row = session.execute(
        select(col(StatusList.version), col(StatusList.updated_at)).where(
            col(StatusList.id) == list_id
        )
    ).first()
    if row is None:
        raise NotFound(f"there is no status list {list_id}")
    version = version_tag(row[0], row[1])
    services.cache[key] = (version, epoch, now)
    return version


def signed_list(session: Session, services: Services, list_id: int) -> tuple[bytes, str]:
    """The signed BitstringStatusListCredential as JSON bytes, and its version (for ETags)."""
    version = current_version(session, services, list_id)
    cached = remembered_list(services, list_id, version)
    if cached is not None:  # the 16 KiB bitstring is read only when it changed
        return cached, version
    status_list = session.get(StatusList, list_id)
    assert status_list is not None  # filed under the version of the bits read (may be newer)
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
    version = version_tag(status_list.version, status_list.updated_at)
    services.cache[("status-list", list_id, version)] = body
    return body, version
