"""The "QR edition" of a badge: the same award, signed as its own credential, small enough for a
QR code that carries it (VPQR, ``verifier.vpqr``), so that it can be checked with no network.

What changes from the stored credential (wave2-apis.md §6.3–6.4), so that a typical badge fits a
version-25 QR code at error-correction level M (about 57 mm printed at 0.45 mm a module):

- every ``image`` is left out (an embedded picture alone would not fit a QR code);
- the achievement keeps what OB 3.0 requires and what an employer reads (``id``, ``type``,
  ``achievementType``, ``name``, ``description``, ``criteria``, ``creditsAvailable``); the rest
  (alignments to skills, tags, …) stays in the full credential and at the achievement's URL;
- when the recipient is named, the hashed e-mail identifier is left out: the person in front of
  the employer is identified by the name (a recipient check by e-mail needs the full credential).

The copy gets its own ``eddsa-rdfc-2022`` proof by the issuer's current key, dated like the
original proof, so the same badge always gives the same QR code. The id, the claims about the
learner (results, evidence, narrative, credits) and the status entry are the original's:
revoking the badge revokes its QR edition too, for anyone who can reach the status list.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlmodel import Session

from issuer.context import Services
from issuer.crypto.keystore import proof_key
from issuer.crypto.signing import sign_data_integrity
from issuer.institutes.issuers import signing_key
from issuer.models import Credential, Issuer
from verifier import vpqr

ENCODINGS = (vpqr.BASE32, vpqr.BASE45)
"""``B``: base32 over legacy CBOR-LD (the Learner Credential Wallet reads it); ``R``: base45
over CBOR-LD 1.0 (current Digital Bazaar readers)."""

ACHIEVEMENT_KEPT = frozenset(
    {"id", "type", "achievementType", "name", "description", "criteria", "creditsAvailable"}
)


def unsigned_edition(document: dict[str, Any]) -> dict[str, Any]:
    """The QR edition's claims: the credential without its proofs, images, the achievement's
    extras and (for a named recipient) the hashed e-mail."""
    edition = copy.deepcopy(document)
    edition.pop("proof", None)
    _drop_images(edition)
    subject = edition.get("credentialSubject")
    if isinstance(subject, dict):
        achievement = subject.get("achievement")
        if isinstance(achievement, dict):
            for key in set(achievement) - ACHIEVEMENT_KEPT:
                del achievement[key]
        identifiers = subject.get("identifier")
        if isinstance(identifiers, list) and any(_named(i) for i in identifiers):
            subject["identifier"] = [i for i in identifiers if not _email(i)]
    return edition


def _named(identifier: Any) -> bool:
    return isinstance(identifier, dict) and identifier.get("identityType") == "name"


def _email(identifier: Any) -> bool:
    return isinstance(identifier, dict) and identifier.get("identityType") == "emailAddress"


def _drop_images(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("image", None)
        for value in node.values():
            _drop_images(value)
    elif isinstance(node, list):
        for value in node:
            _drop_images(value)


def _created(document: dict[str, Any]) -> str | None:
    proofs = document.get("proof")
    first = proofs[0] if isinstance(proofs, list) and proofs else proofs
    created = first.get("created") if isinstance(first, dict) else None
    return created if isinstance(created, str) else None


def signed_edition(session: Session, services: Services, row: Credential) -> dict[str, Any]:
    """The QR edition of ``row``, signed with its issuer's current Data Integrity key."""
    issuer = session.get(Issuer, row.issuer_id)
    assert issuer is not None
    key_row = signing_key(session, issuer, "di")
    key = proof_key(services.keystore, key_row)
    return sign_data_integrity(
        unsigned_edition(row.document), key, key_row.kid, created=_created(row.document)
    )


def vpqr_text(session: Session, services: Services, row: Credential, encoding: str) -> str:
    """The ``VP1-…`` text of the badge's QR edition (``encoding``: ``B`` or ``R``)."""
    if encoding not in ENCODINGS:
        raise ValueError(f"a VPQR encoding is B or R, not {encoding!r}")
    return vpqr.write(signed_edition(session, services, row), multibase=encoding)
