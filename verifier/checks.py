"""Structural checks: ``@context`` order and pinning, credential ``type``, validity window, and the
recipient. Each raises a ``VerifierError`` subclass or returns a short description of what passed.

OB 3.0 §8.1 (verification steps 1, 5 and 6) and VCDM 2.0 §4.1 (contexts), §4.9 (validity).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from verifier.errors import Expired, JsonLdError, NotYetValid, VerifierError
from verifier.expansion import bundled_context_index, check_context_url

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_CONTEXT = re.compile(r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json$")
OB_CURRENT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_CONTEXT = re.compile(r"^https://purl\.imsglobal\.org/spec/clr/v2p0/context(-2\.\d\.\d)*\.json$")
OB_TYPES = ("OpenBadgeCredential", "AchievementCredential", "EndorsementCredential")
ACCEPTED_TYPES = (*OB_TYPES, "ClrCredential", "BitstringStatusListCredential")


class NotAnOpenBadge(VerifierError):
    """The credential's type or context is not that of an Open Badges 3.0 credential."""


class RecipientMismatch(VerifierError):
    """The given email does not match the credential's recipient."""


def types_of(node: Mapping[str, Any]) -> list[str]:
    value = node.get("type", [])
    if isinstance(value, str):
        return [value]
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def is_vcdm1(credential: Mapping[str, Any]) -> bool:
    """A VCDM 1.1 credential: its first context (or its only one, written as a string) is the
    1.1 one."""
    contexts = credential.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    return first == VC_V1


def check_context(credential: Mapping[str, Any]) -> str:
    """Context order (VCDM first, then OB or CLR) and pinning (every context is bundled)."""
    contexts = credential.get("@context")
    if isinstance(contexts, str):
        contexts = [contexts]
    if not isinstance(contexts, list) or not contexts:
        raise JsonLdError("the credential has no @context")
    for context in contexts:
        if not isinstance(context, str):
            raise JsonLdError(
                "inline @context objects are not accepted; contexts must be pinned URLs"
            )
        check_context_url(context)
        if context not in bundled_context_index():
            raise JsonLdError(f"the context {context} is not one Laurel knows; it is never fetched")
    if contexts[0] not in (VC_V2, VC_V1):
        raise JsonLdError(f"the first @context must be {VC_V2}, not {contexts[0]}")
    _check_nested_contexts(credential)
    kinds = types_of(credential)
    if any(kind in OB_TYPES for kind in kinds) and not (
        len(contexts) > 1 and OB_CONTEXT.match(contexts[1])
    ):
        raise JsonLdError("the second @context must be the Open Badges 3.0 context")
    if "ClrCredential" in kinds and not (len(contexts) > 1 and CLR_CONTEXT.match(contexts[1])):
        raise JsonLdError("the second @context must be the CLR 2.0 context")
    return "contexts are in order and pinned to bundled copies"


def _check_nested_contexts(credential: Mapping[str, Any]) -> None:
    """An ``@context`` inside the credential (an embedded credential's, say) is pinned like its
    own: bundled URLs only. An inline one could alias a keyword (``"en": "@index"``) and so carry
    text no signature covers, or make a value mean another IRI. The credential's own proof is
    not part of what is signed, and is not looked at here."""
    stack = [value for key, value in credential.items() if key != "@context" and key != "proof"]
    push = stack.append
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "@context" in item:
                _check_pinned(item["@context"])
            item = item.values()
        elif not isinstance(item, list):
            continue
        for value in item:
            if value.__class__ is not str:  # text is most of a credential: not pushed
                push(value)


def _check_pinned(contexts: Any) -> None:
    for context in contexts if isinstance(contexts, list) else [contexts]:
        if not isinstance(context, str):
            raise JsonLdError(
                "an inline @context inside the credential is not accepted; "
                "contexts must be pinned URLs"
            )
        check_context_url(context)
        if context not in bundled_context_index():
            raise JsonLdError(f"the context {context} is not one Laurel knows; it is never fetched")


def check_vc_context(document: Mapping[str, Any]) -> str:
    """Context rules of any VC or VP (VCDM 2.0 §4.3, VCDM 1.1 §4.1): an ordered list whose first
    item is the VCDM base context, then bundled URLs or inline context objects (never fetched)."""
    contexts = document.get("@context")
    if isinstance(contexts, str):
        contexts = [contexts]
    if not isinstance(contexts, list) or not contexts:
        raise JsonLdError("the document has no @context")
    for context in contexts:
        if isinstance(context, dict):
            continue
        if not isinstance(context, str):
            raise JsonLdError(f"the @context entry {context!r} is neither a URL nor an object")
        check_context_url(context)
        if context not in bundled_context_index():
            raise JsonLdError(f"the context {context} is not one Laurel knows; it is never fetched")
    if contexts[0] not in (VC_V2, VC_V1):
        raise JsonLdError(f"the first @context must be {VC_V2} (or {VC_V1})")
    return "contexts are in order and pinned to bundled copies or given inline"


def check_vc_type(document: Mapping[str, Any], base: str = "VerifiableCredential") -> str:
    """Any VC (or, with ``base``, VP) type: ``base`` must be among the types."""
    kinds = types_of(document)
    if base not in kinds:
        raise NotAnOpenBadge(f"the type does not include {base}")
    others = [kind for kind in kinds if kind != base]
    return f"a {others[0]}" if others else f"a {base}"


def context_version_note(credential: Mapping[str, Any]) -> str | None:
    """A note when the OB context is older than 3.0.3 (the 1EdTech validator warns too)."""
    contexts = credential.get("@context")
    if not isinstance(contexts, list):
        return None
    for context in contexts:
        if isinstance(context, str) and OB_CONTEXT.match(context) and context != OB_CURRENT:
            return f"uses the older Open Badges context {context.rsplit('/', 1)[-1]}"
    return None


def check_type(credential: Mapping[str, Any]) -> str:
    kinds = types_of(credential)
    if "VerifiableCredential" not in kinds:
        raise NotAnOpenBadge("the type does not include VerifiableCredential")
    accepted = [kind for kind in kinds if kind in ACCEPTED_TYPES]
    if not accepted:
        raise NotAnOpenBadge(f"the type {kinds} names no Open Badges credential type")
    return f"an {accepted[0]}"


def parse_datetime(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise VerifierError(f"{name} is missing or not a string")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise VerifierError(f"{name} {value!r} is not an ISO 8601 date-time") from exc
    if parsed.tzinfo is None:
        raise VerifierError(f"{name} {value!r} has no time zone")
    return parsed


def check_validity(
    credential: Mapping[str, Any],
    now: datetime,
    skew: timedelta,
    exp: datetime | None = None,
    *,
    nbf: datetime | None = None,
    start_required: bool = True,
) -> str:
    """The validity window. ``start_required=False`` for any VCDM 2.0 credential, whose
    ``validFrom`` is optional (an Open Badge always has one). ``exp`` and ``nbf``, a JWT's
    claims, end it sooner and start it later (where the credential gives the same dates the
    claims check has found them equal; a credential that gives none is held to the claims)."""
    v1 = is_vcdm1(credential)
    start_name, end_name = _window_names(credential)
    if not start_required and not v1 and credential.get(start_name) is None:
        return _end_only(credential, now, skew, end_name, exp, nbf)
    start = parse_datetime(credential.get(start_name), start_name)
    end = parse_datetime(credential[end_name], end_name) if credential.get(end_name) else None
    if end is not None and end < start:
        raise VerifierError(f"{end_name} is before {start_name}")
    if nbf is not None and nbf > start:
        start = nbf
    if start > now + skew:
        shown = credential[start_name] if start is not nbf else f"{_iso(nbf)} (the JWT's 'nbf')"
        raise NotYetValid(f"it is not valid until {shown}")
    if exp is not None and (end is None or exp < end):
        end = exp
    if end is not None and end < now - skew:
        raise Expired(f"it expired on {_iso(end)}")
    until = f" until {_iso(end)}" if end else " with no end date"
    return f"valid from {_iso(start)}{until}"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _window_names(credential: Mapping[str, Any]) -> tuple[str, str]:
    if is_vcdm1(credential):
        return ("issuanceDate", "expirationDate")
    return ("validFrom", "validUntil")


def validity_window(credential: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The start and end of the validity window, None where the credential names none (for a
    credential whose ``check_validity`` passed: the dates are known to parse)."""
    start, end = (
        parse_datetime(credential[name], name) if credential.get(name) else None
        for name in _window_names(credential)
    )
    return start, end


def _end_only(
    credential: Mapping[str, Any],
    now: datetime,
    skew: timedelta,
    name: str,
    exp: datetime | None,
    nbf: datetime | None,
) -> str:
    """A window with no start date in the credential: its end, and a JWT's ``nbf``/``exp``."""
    if nbf is not None and nbf > now + skew:
        raise NotYetValid(f"it is not valid until {_iso(nbf)} (the JWT's 'nbf')")
    end = parse_datetime(credential[name], name) if credential.get(name) else None
    shown = credential[name] if end is not None else None
    if exp is not None and (end is None or exp < end):
        end, shown = exp, _iso(exp)
    if end is not None and end < now - skew:
        raise Expired(f"it expired on {shown}")
    if nbf is None:
        return f"valid until {shown}" if end is not None else "valid with no start or end date"
    return f"valid from {_iso(nbf)}" + (
        f" until {shown}" if end is not None else " with no end date"
    )


def _hash_matches(identity_hash: str, identity: str, salt: str) -> bool:
    algorithm, _, digest = identity_hash.partition("$")
    if algorithm not in ("sha256", "md5") or not digest:
        return False
    computed = hashlib.new(algorithm, (identity + salt).encode("utf-8")).hexdigest()
    return computed == digest.lower()


def check_recipient(credential: Mapping[str, Any], email: str) -> str:
    """Match ``email`` (as given, and trimmed and lower-cased) against the subject's identifiers."""
    subject = credential.get("credentialSubject")
    identifiers = subject.get("identifier", []) if isinstance(subject, dict) else []
    identifiers = identifiers if isinstance(identifiers, list) else [identifiers]
    candidates = {email, email.strip().lower()}
    checked = False
    for item in identifiers:
        if not isinstance(item, dict) or item.get("identityType") not in ("emailAddress", "email"):
            continue
        checked = True
        value, salt = str(item.get("identityHash", "")), str(item.get("salt", ""))
        if item.get("hashed") is True:
            if any(_hash_matches(value, candidate, salt) for candidate in candidates):
                return "the email matches the recipient's hashed email"
        elif value.strip().lower() == email.strip().lower():
            return "the email matches the recipient's email"
    if not checked:
        raise RecipientMismatch("the credential names no email for its recipient")
    raise RecipientMismatch("the email does not match the credential's recipient")
