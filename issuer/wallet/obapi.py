"""The learner's wallet as an Open Badges 3.0 API host (1EdTech OB 3.0 §6, "Provider"): what
``GET /credentials`` lists, paging, and the learner's profile.

A learner's credentials are those issued to them here (not revoked) and those kept in their
wallet from elsewhere that verified (imported or upserted). Issued and imported ones are listed
together in the order they were issued, oldest first, so that paging is stable; JSON credentials
go in ``credential``, compact JWSs in ``compactJwsString``, each exactly as stored.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer.core.errors import BadRequest, NotFound
from issuer.models import Credential, ImportedCredential, Learner, LearnerEmail
from issuer.models.base import aware
from issuer.wallet.imports import MEDIA_TYPES, VERIFIED


@dataclass(frozen=True)
class Held:
    """One credential in the list: a JSON document or a compact JWS."""

    issued: datetime
    order: str
    credential: dict[str, Any] | None = None
    jws: str | None = None


def held(session: Session, learner_id: int, since: datetime | None = None) -> list[Held]:
    """The learner's verifiable credentials, oldest first; ``since``: issued after it."""
    found: list[Held] = []
    issued = select(Credential).where(
        Credential.learner_id == learner_id, col(Credential.revoked_at).is_(None)
    )
    for row in session.exec(issued):
        found.append(Held(aware(row.issued_at), f"a{row.id}", credential=row.document))
    kept = select(ImportedCredential).where(
        ImportedCredential.learner_id == learner_id,
        col(ImportedCredential.legacy).is_(False),
        ImportedCredential.verdict == VERIFIED,
        col(ImportedCredential.media_type).in_((MEDIA_TYPES["json"], MEDIA_TYPES["jwt"])),
    )
    for imported in session.exec(kept):
        when = aware(imported.issued_on or imported.created_at)
        order = f"b{imported.id:012d}"
        if imported.media_type == MEDIA_TYPES["jwt"]:
            found.append(Held(when, order, jws=imported.original.decode("ascii").strip()))
        else:
            found.append(Held(when, order, credential=imported.document))
    if since is not None:
        found = [item for item in found if item.issued > aware(since)]
    return sorted(found, key=lambda item: (item.issued, item.order))


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


_DIRECTION_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _unprintable(character: str) -> bool:
    """A control character (C0, DEL, C1: line breaks and NUL too) or one that reorders the text
    around it (bidirectional embeddings, overrides, isolates and marks), which would make a name
    read as another on a page, in an email or in a record."""
    return unicodedata.category(character) == "Cc" or character in _DIRECTION_CONTROLS


def _learner(session: Session, learner_id: int) -> Learner:
    learner = session.get(Learner, learner_id)
    if learner is None or learner.deleted_at is not None:
        raise NotFound("there is no such learner")
    return learner


def _primary_email(session: Session, learner_id: int) -> str | None:
    query = select(LearnerEmail.email).where(LearnerEmail.learner_id == learner_id)
    rows = session.exec(query.order_by(col(LearnerEmail.is_primary).desc(), col(LearnerEmail.id)))
    return rows.first()
