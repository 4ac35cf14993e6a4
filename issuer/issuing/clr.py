"""A Comprehensive Learner Record: one signed ClrCredential bundling what one issuer issued to
one learner (the learner's "export everything").

Implements the CLR Standard 2.0 ``ClrCredential`` and ``ClrSubject`` data model, shaped like the
1EdTech implementation guide's "Linked Data Proof for CLR" example
(tests/vectors/ob3-impl-guide/clr/credential.json; ../shared/spec/ob3-digest.md §11):

* ``@context`` is credentials v2, then CLR 2.0.1, then OB 3.0.3 (the order the verifier requires);
* ``credentialSubject.verifiableCredential`` holds the stored signed OB credentials unchanged, each
  with its own proof and status entry, and ``achievement`` their achievements;
* the CLR is signed like any Laurel credential (Data Integrity ``eddsa-rdfc-2022``, the issuer's
  active DI key). It carries no ``credentialStatus``: it is a one-off export, and its nested
  credentials keep their own status.
"""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import BadRequest
from issuer.crypto.keystore import proof_key
from issuer.crypto.signing import sign_data_integrity
from issuer.institutes.issuers import profile, signing_key
from issuer.issuing.credentials import name_in
from issuer.models import Credential, Issuer, Learner
from issuer.models.base import iso, utcnow
from issuer.people import dids
from verifier.errors import InputError
from verifier.verify import MAX_NESTED_CREDENTIALS

CLR_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


def build_clr(
    session: Session,
    services: Services,
    issuer: Issuer,
    learner: Learner,
    credentials: list[Credential],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The signed ClrCredential for ``learner`` from ``issuer``.

    Of ``credentials``, only those of this issuer and learner that are not revoked (as the
    database says now) are included, in the order given. Raises ``BadRequest`` if none is left.
    """
    included = _current(session, issuer, learner, credentials)
    if not included:
        raise BadRequest(
            f"{issuer.name} has no unrevoked credentials for this learner to put in a record"
        )
    if len(included) > MAX_NESTED_CREDENTIALS:
        raise BadRequest(
            f"a record holds at most {MAX_NESTED_CREDENTIALS} credentials (verifiers check no "
            f"more); this learner has {len(included)} from {issuer.name}: export them in parts"
        )
    documents = [copy.deepcopy(row.document) for row in included]
    assert issuer.id is not None
    subject: dict[str, Any] = {
        "id": dids.subject_of(session, issuer.id, learner),
        "type": ["ClrSubject"],
    }
    if identifiers := _email_identifiers(documents[0]):
        subject["identifier"] = identifiers
    subject["verifiableCredential"] = documents
    subject["achievement"] = _achievements(documents)
    moment = iso(now or utcnow())
    clr: dict[str, Any] = {
        "@context": list(CLR_CONTEXTS),
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"{issuer.name} — transcript of {_named(documents) or 'a learner'}",
        "issuer": profile(issuer),
        "validFrom": moment,
        "credentialSubject": subject,
    }
    key_row = signing_key(session, issuer, "di")
    key = proof_key(services.keystore, key_row)
    try:
        return sign_data_integrity(clr, key, key_row.kid, created=moment)
    except InputError as exc:  # over the canonicaliser's limits: verifiers would refuse it
        raise BadRequest(f"this record is too large to sign ({exc})") from exc


def _current(
    session: Session, issuer: Issuer, learner: Learner, credentials: list[Credential]
) -> list[Credential]:
    """The given credentials that belong to ``issuer`` and ``learner`` and are not revoked,
    read again so that a revocation since they were loaded is honoured."""
    wanted = list(dict.fromkeys(row.id for row in credentials))
    if not wanted:
        return []
    query = select(Credential).where(
        col(Credential.id).in_(wanted),
        Credential.issuer_id == issuer.id,
        Credential.learner_id == learner.id,
        col(Credential.revoked_at).is_(None),
    )
    found = {row.id: row for row in session.exec(query)}
    return [found[credential_id] for credential_id in wanted if credential_id in found]


def _named(documents: list[dict[str, Any]]) -> str | None:
    """The learner's name as the issuer gave it in a nested credential (``name_in``), never the
    name a learner set on her own profile: the issuer signs the record, so it names only whom it
    has named before (audit round 8: a profile name such as "Lee Ji-eun (PhD, summa cum laude)"
    was signed into the record's title)."""
    return next((name for name in map(name_in, documents) if name), None)


def _email_identifiers(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The hashed-email IdentityObjects of a nested credential's subject, copied as issued (the
    same salt and hash, so nothing about the learner is added that the badge did not carry)."""
    identifiers = document.get("credentialSubject", {}).get("identifier", [])
    return [
        dict(item)
        for item in (identifiers if isinstance(identifiers, list) else [identifiers])
        if isinstance(item, dict)
        and item.get("identityType") == "emailAddress"
        and item.get("hashed") is True
    ]


def _achievements(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each nested credential's achievement (a copy), once per achievement id."""
    found: list[dict[str, Any]] = []
    ids: set[str] = set()
    for document in documents:
        achievement = document["credentialSubject"]["achievement"]
        if achievement.get("id") not in ids:
            found.append(copy.deepcopy(achievement))
            if "id" in achievement:
                ids.add(achievement["id"])
    return found
