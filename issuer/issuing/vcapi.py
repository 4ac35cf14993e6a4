"""Issuing any Verifiable Credential through the W3C VC-API (VCALM ``issueCredential`` and
``updateCredentialStatus``), not only Open Badges.

A credential is taken as sent — ``@context`` and ``credentialSubject`` in their order, the
caller's own ``credentialStatus`` kept — and refused (``BadRequest``, 400) when its data model is
broken (VCDM 2.0 §4: no subject, an empty one, ids that are not URLs, typed objects without
``type``, dates that are not ``dateTimeStamp``s, related resources without id or digest) or
when JSON-LD processing would drop or redefine a term (the verifier's safe-mode expansion,
bundled contexts only), or when a string holds a control character that JSON-LD stacks
canonicalise differently (``issuer.issuing.text``: a vertical tab or form feed becomes a newline,
other C0 controls but tab and line breaks are refused, naming the field). The ``issuer`` must be
this issuer's DID; an issuer object's ``name`` or ``url`` may not be another issuer's on this
instance (``issuer.institutes.issuers.anothers_identity``). Then, in the caller's unit of work:

* a VCDM 2.0 credential with no ``credentialStatus`` gets a ``BitstringStatusListEntry`` from the
  issuer's status lists (``issuer.issuing.statuslists``, the allocation ``/api/v1`` uses), and is
  recorded (``VcapiCredential``) so that its status can be changed; a VCDM 1.1 credential gets
  ``https://w3id.org/security/data-integrity/v2`` appended to its contexts (v1 does not define
  the proof's terms) and no status entry (v1 does not define its terms either);
* it is signed ``eddsa-rdfc-2022`` with the issuer's key (``issuer.crypto.signing``).

Status changes accept the VCALM body (``{credentialId, credentialStatus: {type, statusPurpose},
status: true}``) and the DCC issuer-coordinator body (``{credentialId, credentialStatus: [{type,
status: "revoked"}]}``); revocation is the one purpose and cannot be undone (BSL §2.1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import audit
from issuer.core.errors import BadRequest, Conflict, NotFound
from issuer.crypto.keystore import proof_key
from issuer.crypto.signing import sign_data_integrity
from issuer.institutes.issuers import anothers_identity, signing_key
from issuer.issuing import credentials, statuslists
from issuer.issuing.text import clean_text
from issuer.models import ApiKey, Issuer, VcapiCredential
from issuer.models.base import utcnow
from issuer.schemas import DIRECTION_CONTROLS
from verifier.checks import VC_V1, VC_V2, types_of
from verifier.errors import JsonLdError, TooComplex

MAX_ID = 2000
"""Characters in a credential's ``id`` (the ``vcapi_credential.credential_id`` column)."""
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
TYPED = ("credentialStatus", "termsOfUse", "evidence", "refreshService", "credentialSchema")
DATES_V2 = ("validFrom", "validUntil")
DATES_V1 = ("issuanceDate", "expirationDate")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_DATE_TIME_STAMP = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)
STATUS_TYPES = (
    "BitstringStatusListEntry",
    "BitstringStatusListCredential",
    "StatusList2021Entry",
    "StatusList2021Credential",
)
_STATUS_WORDS = {
    "revoked": ("revocation", True),
    "suspended": ("suspension", True),
    "active": ("revocation", False),
    "unrevoked": ("revocation", False),
    "unsuspended": ("suspension", False),
}


def issue(
    session: Session,
    services: Services,
    issuer: Issuer,
    credential: Any,
    options: Any = None,
    actor: str = "vc-api",
) -> dict[str, Any]:
    """The signed credential (refused with ``BadRequest``)."""
    if options is not None and not isinstance(options, dict):
        raise BadRequest("options must be a JSON object")
    document = screen(credential, issuer.did)
    _own_identity(session, issuer, document["issuer"])
    status: tuple[int, int] | None = None
    if "credentialStatus" not in document and not _is_v1(document):
        assert issuer.id is not None
        status = statuslists.allocate(session, issuer.id)[0]
        document["credentialStatus"] = statuslists.entry(services, *status)
    if _is_v1(document) and DATA_INTEGRITY_V2 not in document["@context"]:
        document["@context"] = [*document["@context"], DATA_INTEGRITY_V2]
    key_row = signing_key(session, issuer, "di")
    try:
        signed = sign_data_integrity(document, proof_key(services.keystore, key_row), key_row.kid)
    except (JsonLdError, TooComplex) as exc:
        raise BadRequest(f"the credential is not valid JSON-LD: {exc}") from None
    if status is not None:
        assert issuer.id is not None
        entry_id = signed["credentialStatus"]["id"]
        session.add(
            VcapiCredential(
                issuer_id=issuer.id,
                credential_id=str(signed.get("id") or entry_id),
                status_list_id=status[0],
                status_index=status[1],
            )
        )
        audit.append(session, actor, "vcapi.issue", str(signed.get("id") or entry_id))
    return signed


def _is_v1(document: Mapping[str, Any]) -> bool:
    return bool(document["@context"][0] == VC_V1)


def screen(credential: Any, issuer_did: str) -> dict[str, Any]:
    """A copy of ``credential`` if its data model is whole (else ``BadRequest``)."""
    if not isinstance(credential, dict):
        raise BadRequest("credential must be a JSON object")
    document: dict[str, Any] = clean_text(credential)
    contexts = document.get("@context")
    if isinstance(contexts, str):
        contexts = [contexts]
    if not isinstance(contexts, list) or not contexts or contexts[0] not in (VC_V2, VC_V1):
        raise BadRequest(f"@context must be a list whose first item is {VC_V2} (or {VC_V1})")
    document["@context"] = contexts
    if "VerifiableCredential" not in types_of(document):
        raise BadRequest("type must include VerifiableCredential")
    if "id" in document:
        _url(document["id"], "id")
    _issuer(document.get("issuer"), issuer_did)
    _subjects(document.get("credentialSubject"))
    for name in TYPED:
        for item in _items(document.get(name)):
            _typed(item, name)
    _related(document.get("relatedResource"))
    _dates(document, DATES_V1 if contexts[0] == VC_V1 else DATES_V2)
    return document


def _related(value: Any) -> None:
    """VCDM 2.0 §5.3: objects with a unique URL ``id`` and a ``digestSRI`` or
    ``digestMultibase`` (the digests themselves are not checked: nothing is fetched)."""
    seen: set[str] = set()
    for item in _items(value):
        if not isinstance(item, dict):
            raise BadRequest("each relatedResource must be an object")
        _url(item.get("id"), "relatedResource.id")
        if item["id"] in seen:
            raise BadRequest(f"relatedResource {item['id']} is listed twice")
        seen.add(item["id"])
        if "digestSRI" not in item and "digestMultibase" not in item:
            raise BadRequest("each relatedResource needs a digestSRI or a digestMultibase")


def _url(value: Any, name: str) -> None:
    if not isinstance(value, str) or not _URL.match(value):
        raise BadRequest(f"{name} must be a URL, not {value!r}"[:300])
    if len(value) > MAX_ID:
        raise BadRequest(f"{name} is longer than {MAX_ID} characters")


def _issuer(value: Any, did: str) -> None:
    found = value.get("id") if isinstance(value, dict) else value
    if found != did:
        raise BadRequest(f"issuer must be this issuer, {did}, not {found!r}")


def _own_identity(session: Session, issuer: Issuer, value: Any) -> None:
    """An issuer object's ``name`` and ``url`` are refused when they are another issuer's on
    this instance (a tenant signing another's name, which this instance's trust list vouches
    for). Any other name passes: the W3C suites send names of their own, language maps too."""
    if not isinstance(value, dict):
        return
    if any(DIRECTION_CONTROLS.intersection(text) for text in _strings(value.get("name"))):
        raise BadRequest(
            "issuer.name has a bidirectional control (an override, embedding, isolate or mark), "
            "which can make it read as another issuer's name"
        )
    url = value.get("url")
    taken = anothers_identity(
        session, issuer, _strings(value.get("name")), url if isinstance(url, str) else None
    )
    if taken is not None:
        raise BadRequest(
            f"issuer.{taken} is another issuer's on this instance, not {issuer.name!r}'s: "
            f"send this issuer's own {taken} ({getattr(issuer, taken) or 'none is set'}) or none"
        )


def _strings(value: Any, depth: int = 0) -> list[str]:
    """Every text in a name: a string, a value object's ``@value``, a list of them, and the
    texts of any object there (``{"name": …}``, which a verifier's summary shows as the name),
    however deep (within reason: the body is bounded)."""
    if isinstance(value, str):
        return [value]
    if depth > 8:
        return []
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return [text for item in items for text in _strings(item, depth + 1)]


def _subjects(value: Any) -> None:
    if value is None:
        raise BadRequest("the credential has no credentialSubject")
    subjects = value if isinstance(value, list) else [value]
    if not subjects:
        raise BadRequest("credentialSubject is empty")
    for subject in subjects:
        if not isinstance(subject, dict) or not subject:
            raise BadRequest("each credentialSubject must be a non-empty object")
        if "id" in subject:
            _url(subject["id"], "credentialSubject.id")


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _typed(item: Any, name: str) -> None:
    if not isinstance(item, dict):
        raise BadRequest(f"{name} must be an object (or a list of objects)")
    kind = item.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if not kinds or not all(isinstance(k, str) and k for k in kinds):
        raise BadRequest(f"each {name} must have a type")
    if "id" in item or name == "credentialSchema":
        _url(item.get("id"), f"{name}.id")


def _dates(document: Mapping[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        value = document.get(name)
        if value is not None and (not isinstance(value, str) or not _DATE_TIME_STAMP.match(value)):
            raise BadRequest(f"{name} must be an XML Schema dateTimeStamp, not {value!r}")


def update_status(
    session: Session, issuer: Issuer, body: Any, key: ApiKey, actor: str = "vc-api"
) -> dict[str, Any]:
    """Set a credential's status; the answer repeats what was set."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    credential_id = body.get("credentialId")
    if not isinstance(credential_id, str) or not credential_id:
        raise BadRequest("credentialId is required")
    purpose, value = _requested(body)
    if purpose != "revocation":
        raise BadRequest(f"status purpose {purpose!r} is not supported; only revocation is")
    rows = list(
        session.exec(
            select(VcapiCredential)
            .where(
                VcapiCredential.issuer_id == issuer.id,
                VcapiCredential.credential_id == credential_id,
            )
            .order_by(col(VcapiCredential.id))
            .with_for_update()
        )
    )
    if not rows:
        return _update_laurel_credential(session, credential_id, value, key, actor)
    if not value:
        if any(row.revoked_at is not None for row in rows):
            raise Conflict("a revoked credential cannot be reinstated")
        return _answer(credential_id, purpose, value)
    for row in rows:
        if row.revoked_at is None:
            statuslists.set_revoked(session, row.status_list_id, row.status_index)
            row.revoked_at = utcnow()
            session.add(row)
    audit.append(session, actor, "vcapi.revoke", credential_id)
    return _answer(credential_id, purpose, value)


def _update_laurel_credential(
    session: Session, credential_id: str, value: bool, key: ApiKey, actor: str
) -> dict[str, Any]:
    """A credential issued by ``/api/v1`` (``urn:uuid:…``), revoked as that API does."""
    try:
        found = credentials.get_credential(session, credential_id, key)
    except NotFound:
        raise NotFound(f"there is no credential {credential_id!r}") from None
    if not value:
        if found.revoked_at is not None:
            raise Conflict("a revoked credential cannot be reinstated")
    elif found.revoked_at is None:
        credentials.revoke(session, credential_id, "revoked through the VC-API", key, actor)
    return _answer(credential_id, "revocation", value)


def _requested(body: Mapping[str, Any]) -> tuple[str, bool]:
    """(purpose, set) from the VCALM or the DCC shape."""
    entries = body.get("credentialStatus")
    items = entries if isinstance(entries, list) else [entries]
    if len(items) != 1 or not isinstance(items[0], dict):
        raise BadRequest("credentialStatus must be one object (or a list of one)")
    entry = items[0]
    if entry.get("type") not in STATUS_TYPES:
        raise BadRequest(f"credentialStatus.type must be one of {', '.join(STATUS_TYPES)}")
    word = entry.get("status")
    if isinstance(word, str):
        if word not in _STATUS_WORDS:
            raise BadRequest(f"status must be one of {', '.join(_STATUS_WORDS)}, not {word!r}")
        purpose, value = _STATUS_WORDS[word]
        return str(entry.get("statusPurpose", purpose)), value
    status = body.get("status", word)
    if not isinstance(status, bool):
        raise BadRequest("status must be true or false (or credentialStatus.status a word)")
    purpose = entry.get("statusPurpose", "revocation")
    if not isinstance(purpose, str):
        raise BadRequest("statusPurpose must be a string")
    return purpose, status


def _answer(credential_id: str, purpose: str, value: bool) -> dict[str, Any]:
    return {
        "credentialId": credential_id,
        "credentialStatus": [
            {"type": "BitstringStatusListEntry", "statusPurpose": purpose, "status": value}
        ],
    }
