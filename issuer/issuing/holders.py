"""Binding an issued badge to the holder who collects it into a wallet.

A wallet that receives a badge (the DCC Learner Credential Wallet through a VC-API exchange, an
OpenID4VCI wallet through a credential request) proves control of a DID; the badge it receives must
name that DID as ``credentialSubject.id``, or the holder cannot present it as theirs. Binding
rewrites the credential in place — the same id, status entry, dates and claims, the holder's DID
added to the subject — signs it again with the issuer's current Data Integrity key and records the
holder on the credential. The VC-JWT form is signed again on its next request.

A badge is bound once: collecting it again into the same DID answers the bound badge; another DID
is a conflict (the badge already names its subject), as is a revoked badge. A badge issued to a
DID (the learner gave one) is collected only into that DID, unchanged. The stand-in subject id
Laurel gives learners without a DID (``urn:uuid:…``) is what the holder's DID replaces.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from sqlmodel import Session

from issuer.context import Services
from issuer.core import audit
from issuer.core.errors import BadRequest, Conflict
from issuer.issuing.credentials import get_credential
from issuer.issuing.documents import check_conforms
from issuer.issuing.issuance import inline_signer
from issuer.models import Credential, Issuer
from issuer.models.base import utcnow
from issuer.schemas import DID_PATTERN

MAX_HOLDER_LENGTH = 2000
"""did:jwk of a P-256 key is ~200 characters; anything near this bound is not a holder."""

_DID = re.compile(DID_PATTERN)


def check_holder(holder: str) -> str:
    """``holder`` if it is a DID fit to be a credential subject's id (no path, query, fragment)."""
    if len(holder) > MAX_HOLDER_LENGTH or not _DID.fullmatch(holder):
        raise BadRequest("the holder must be a DID (did:method:identifier, without a fragment)")
    return holder


def bind_to_holder(
    session: Session, services: Services, credential_id: str, holder: str, *, actor: str
) -> Credential:
    """Bind the credential to ``holder`` in the caller's unit of work and answer it (row locked)."""
    check_holder(holder)
    credential = get_credential(session, credential_id, for_update=True)
    if credential.revoked_at is not None:
        raise Conflict("the badge was revoked; it cannot be collected into a wallet")
    subject = credential.document.get("credentialSubject")
    if not isinstance(subject, dict):
        raise Conflict("the badge has no single credential subject to bind")
    named = subject.get("id")
    if named == holder:  # issued to this DID, or collected into it before
        if credential.holder_id == holder:
            return credential
    elif isinstance(named, str) and not named.startswith("urn:uuid:"):
        raise Conflict(
            "the badge already names its subject; it can be collected only into that DID"
        )
    else:  # Laurel's stand-in subject id (urn:uuid:…): the holder's DID replaces it
        issuer = session.get(Issuer, credential.issuer_id)
        assert issuer is not None
        credential.document = _signed(session, services, issuer, credential.document, holder)
        credential.jwt = None
    credential.holder_id = holder
    credential.bound_at = utcnow()
    session.add(credential)
    audit.append(session, actor, "credential.bind", f"urn:uuid:{credential.id}", {"holder": holder})
    return credential


def bound_document(document: dict[str, Any], holder: str) -> dict[str, Any]:
    """``document`` without its proof and with ``holder`` as the subject's id (first key)."""
    unsigned = copy.deepcopy(document)
    unsigned.pop("proof", None)
    subject = unsigned["credentialSubject"]
    unsigned["credentialSubject"] = {"id": holder} | {k: v for k, v in subject.items() if k != "id"}
    return unsigned


def _signed(
    session: Session, services: Services, issuer: Issuer, document: dict[str, Any], holder: str
) -> dict[str, Any]:
    unsigned = bound_document(document, holder)
    check_conforms(unsigned)
    [signed] = inline_signer(session, services, issuer)([unsigned])()
    return signed
