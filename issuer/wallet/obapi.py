"""The learner's wallet as an Open Badges 3.0 API host (1EdTech OB 3.0 §6, "Provider"): what
``GET /credentials`` lists, paging, and the learner's profile.

A learner's credentials are those issued to them here (not revoked) and those kept in their
wallet from elsewhere that verified (imported or upserted) and were issued to them: a badge of
someone else kept in the wallet (shown there as "not yours") is not served to apps as the
learner's own. Issued and imported ones are listed together in the order they were issued,
oldest first, so that paging is stable; JSON credentials go in ``credential``, compact JWSs in
``compactJwsString``, each exactly as stored.

Listing reads only each credential's order and, for imports, its recipient's identifiers (the
database extracts them): whether one of the learner's emails is the recipient is a salted-hash
check SQL cannot make, so the page is cut from that light list, and only the page's credentials
are read whole. A wallet keeps a bounded number of imports (``Settings.wallet_max_credentials``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from issuer.core.errors import BadRequest, NotFound
from issuer.models import Credential, ImportedCredential, Learner, LearnerEmail
from issuer.models.base import UTCDateTime, aware
from issuer.schemas import DIRECTION_CONTROLS
from issuer.wallet.badges import emails as verified_emails
from issuer.wallet.imports import MEDIA_TYPES, VERIFIED, issued_to_any


@dataclass(frozen=True)
class Held:
    """One credential in the list: a JSON document or a compact JWS."""

    issued: datetime
    order: str
    credential: dict[str, Any] | None = None
    jws: str | None = None


@dataclass(frozen=True, order=True)
class _Entry:
    """A credential's place in the list, before it is read: issued here (``a``, its uuid) or
    imported (``b``, its row id)."""

    issued: datetime
    order: str
    key: str | int
    jws: bool = False


def page(
    session: Session,
    learner_id: int,
    since: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, list[Held]]:
    """How many credentials the learner holds (issued after ``since``, if given), and those
    from ``offset`` on (``limit`` of them, if given), oldest first."""
    entries = _entries(session, learner_id, since)
    chosen = entries[offset : offset + limit if limit is not None else None]
    return len(entries), _read(session, chosen)


def held(session: Session, learner_id: int, since: datetime | None = None) -> list[Held]:
    """The learner's verifiable credentials, oldest first; ``since``: issued after it."""
    return page(session, learner_id, since)[1]


def _entries(session: Session, learner_id: int, since: datetime | None) -> list[_Entry]:
    issued = select(Credential.id, Credential.issued_at).where(
        Credential.learner_id == learner_id, col(Credential.revoked_at).is_(None)
    )
    when = func.coalesce(
        col(ImportedCredential.issued_on), col(ImportedCredential.created_at), type_=UTCDateTime()
    )
    recipient = col(ImportedCredential.document)[("credentialSubject", "identifier")]
    kept = select(ImportedCredential.id, when, ImportedCredential.media_type, recipient).where(
        ImportedCredential.learner_id == learner_id,
        col(ImportedCredential.legacy).is_(False),
        ImportedCredential.verdict == VERIFIED,
        col(ImportedCredential.media_type).in_((MEDIA_TYPES["json"], MEDIA_TYPES["jwt"])),
    )
    if since is not None:
        issued = issued.where(col(Credential.issued_at) > aware(since))
        kept = kept.where(when > aware(since))
    entries = [_Entry(aware(at), f"a{ref}", ref) for ref, at in session.exec(issued)]
    emails = verified_emails(session, learner_id)
    for ref, at, media_type, identifiers in session.exec(kept):
        assert ref is not None
        if issued_to_any({"credentialSubject": {"identifier": identifiers}}, emails):
            jws = media_type == MEDIA_TYPES["jwt"]
            entries.append(_Entry(aware(at), f"b{ref:012d}", ref, jws))
    return sorted(entries)


def _read(session: Session, entries: Sequence[_Entry]) -> list[Held]:
    """The credentials of ``entries``, read whole, in their order."""
    ours = [entry.key for entry in entries if isinstance(entry.key, str)]
    imported = [entry.key for entry in entries if isinstance(entry.key, int) and not entry.jws]
    compact = [entry.key for entry in entries if entry.jws]
    documents: dict[Any, Any] = {}  # by uuid (issued here) or row id (imported)
    originals: dict[Any, bytes] = {}
    if ours:
        issued = select(Credential.id, Credential.document).where(col(Credential.id).in_(ours))
        documents.update(session.exec(issued).all())
    if imported:
        kept = select(col(ImportedCredential.id), ImportedCredential.document)
        documents.update(session.exec(kept.where(col(ImportedCredential.id).in_(imported))).all())
    if compact:
        jwss = select(col(ImportedCredential.id), ImportedCredential.original)
        originals.update(session.exec(jwss.where(col(ImportedCredential.id).in_(compact))).all())
    found = []
    for entry in entries:
        if entry.jws and entry.key in originals:
            jws = originals[entry.key].decode("ascii").strip()
            found.append(Held(entry.issued, entry.order, jws=jws))
        elif entry.key in documents:
            found.append(Held(entry.issued, entry.order, credential=documents[entry.key]))
    return found


def page_body(items: list[Held]) -> dict[str, list[Any]]:
    """The ``GetOpenBadgeCredentialsResponse`` for one page (both arrays, even when empty)."""
    return {
        "credential": [item.credential for item in items if item.credential is not None],
        "compactJwsString": [item.jws for item in items if item.jws is not None],
    }


def paging_links(url: str, total: int, limit: int, offset: int) -> list[tuple[str, str]]:
    """``Link`` relations for a page (OB 3.0 §6.3 "Paging"): ``first`` and ``last`` always,
    ``next`` while the page is not the last, ``prev`` after the first."""
    last = max(0, (total - 1) // limit * limit)
    links = [("first", _at(url, limit, 0)), ("last", _at(url, limit, last))]
    if offset + limit < total:
        links.append(("next", _at(url, limit, offset + limit)))
    if offset > 0:
        links.append(("prev", _at(url, limit, max(0, offset - limit))))
    return links


def _at(url: str, limit: int, offset: int) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}limit={limit}&offset={offset}"


PROFILE_FIELDS = frozenset({"@context", "id", "type", "name", "email"})


def profile(session: Session, learner_id: int) -> dict[str, Any]:
    """The learner as an OB 3.0 ``Profile``: their subject id, name and primary email."""
    learner = _learner(session, learner_id)
    document: dict[str, Any] = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": learner.did or learner.subject_id,
        "type": "Profile",
    }
    if learner.name:
        document["name"] = learner.name
    email = _primary_email(session, learner_id)
    if email:
        document["email"] = email
    return document


def update_profile(session: Session, learner_id: int, given: dict[str, Any]) -> dict[str, Any]:
    """``putProfile``: the whole Profile. Laurel keeps the name only; a change to anything else
    it holds (the id, the email, which is changed in the wallet with a confirmation link) or a
    field it does not keep is refused (400), changing nothing."""
    current = profile(session, learner_id)
    unknown = sorted(set(given) - PROFILE_FIELDS)
    if unknown:
        raise BadRequest(f"Laurel does not keep these profile fields: {', '.join(unknown)}")
    types = given.get("type")
    if types != "Profile" and not (isinstance(types, list) and "Profile" in types):
        raise BadRequest("type must be Profile")
    for fixed in ("id", "email"):
        if fixed in given and given[fixed] != current.get(fixed):
            raise BadRequest(
                f"{fixed} cannot be changed here"
                + (" (add and confirm an email in the wallet)" if fixed == "email" else "")
            )
    name = given.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 200):
        raise BadRequest("name must be a text of 1 to 200 characters")
    if isinstance(name, str) and any(_unprintable(c) for c in name):
        raise BadRequest(
            "name must be one line of text, without control characters or direction overrides"
        )
    learner = _learner(session, learner_id)
    learner.name = name.strip() if isinstance(name, str) else None
    session.add(learner)
    session.flush()
    return profile(session, learner_id)


def _unprintable(character: str) -> bool:
    """A control character (C0, DEL, C1: line breaks and NUL too) or one that reorders the text
    around it (bidirectional embeddings, overrides, isolates and marks), which would make a name
    read as another on a page, in an email or in a record."""
    return unicodedata.category(character) == "Cc" or character in DIRECTION_CONTROLS


def _learner(session: Session, learner_id: int) -> Learner:
    learner = session.get(Learner, learner_id)
    if learner is None or learner.deleted_at is not None:
        raise NotFound("there is no such learner")
    return learner


def _primary_email(session: Session, learner_id: int) -> str | None:
    query = select(LearnerEmail.email).where(LearnerEmail.learner_id == learner_id)
    rows = session.exec(query.order_by(col(LearnerEmail.is_primary).desc(), col(LearnerEmail.id)))
    return rows.first()
