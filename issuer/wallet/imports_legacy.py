"""Open Badges 2.0 badges in a learner's wallet, kept as ``legacy`` (OB 2.0 "Baking
Specification"; OB 2.0 "Assertion", "BadgeClass" and "Profile").

Accepted: an OB 2.0 assertion as JSON or a JWS, baked into a PNG (an ``openbadges`` iTXt, tEXt
or compressed iTXt chunk) or an SVG (``<openbadges:assertion>``, its body or ``verify``
attribute), or hosted at an https URL one of those points to. A BadgeClass or Issuer given as a
URL is fetched with ``LocalFirstFetcher`` to show its name; one that cannot be had is shown
without. Legacy badges are shown with what they say and are never signature-verified: their
signature, issuer and revocation are not checked, and their report says so.

Also here, as the lower of the two import modules (``issuer.services.imports`` builds on this
one): the ``Badge`` the input turned out to be and the small helpers both use.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import BadRequest
from issuer.models.base import maybe_time
from issuer.verification.fetching import LocalFirstFetcher
from verifier import safejson
from verifier.baking import PNG_SIGNATURE
from verifier.checks import types_of
from verifier.errors import FetchError, InputError
from verifier.fetch import Fetcher
from verifier.proof import jwt as vcjwt
from verifier.report import Summary
from verifier.sources import DEFAULT_MAX_BYTES

MAX_BYTES = DEFAULT_MAX_BYTES
MAX_INTEGER = 10**300  # comfortably inside a double's range
LEGACY = "legacy"
BADGE_TYPES = ("OpenBadgeCredential", "AchievementCredential")
LEGACY_MEDIA_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "json": "application/ld+json",
    "jwt": "application/jose",
}
LEGACY_REASON = (
    "This is an Open Badges 2.0 badge. Laurel shows what it says, but does not check its "
    "signature, its issuer or whether it was revoked. To be sure, ask the issuer, or ask them "
    "for an Open Badges 3.0 version of the badge."
)
_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Badge:
    """What the input turned out to be."""

    media_type: str
    format: str
    legacy: bool
    document: dict[str, Any]
    credential_id: str | None


def is_ob2(document: dict[str, Any]) -> bool:
    """Whether ``document`` is an Open Badges 2.0 object (by its context or its type)."""
    contexts = document.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    ob2 = any(isinstance(c, str) and "w3id.org/openbadges/v" in c for c in contexts)
    return ob2 or "Assertion" in types_of(document)


def legacy_baked(
    original: bytes, label: str, exc: InputError, fetch_badge: Callable[[str], bytes]
) -> Badge:
    """An image without an OB 3.0 credential (``exc`` says why): an OB 2.0 one, or no badge at
    all. A baked URL is fetched with ``fetch_badge``, which raises ``BadRequest`` on failure."""
    fmt = "png" if original.startswith(PNG_SIGNATURE) else "svg"
    baked = _ob2_png(original, label) if fmt == "png" else _ob2_svg(original)
    if baked is None:
        raise BadRequest(
            f"{label} is an image without a badge baked into it ({exc}). Download the badge "
            "image the issuer baked (PNG or SVG), or upload the badge's JSON."
        ) from exc
    baked = baked.strip()
    if baked.startswith(("https://", "http://")):
        try:
            baked = fetch_badge(baked).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"The assertion {label} points to is not text.") from None
        except BadRequest as fetch_error:
            raise BadRequest(
                f"{label} is an Open Badges 2.0 badge whose details are online: "
                f"{fetch_error.detail}"
            ) from fetch_error
    assertion = _assertion_text(baked.strip(), label)
    if not is_ob2(assertion) and any(kind in BADGE_TYPES for kind in types_of(assertion)):
        raise BadRequest(
            f"{label} holds an Open Badges 3.0 credential baked the Open Badges 2.0 way, which "
            "no verifier reads. Ask the issuer for a correctly baked image, or upload the "
            "credential's JSON instead."
        )
    return legacy_badge(assertion, fmt, label)


def _assertion_text(value: str, label: str) -> dict[str, Any]:
    try:
        if _JWS.match(value):
            return vcjwt.decode(value).payload
        return safejson.loads_object(value, "an Open Badges 2.0 assertion")
    except InputError as exc:
        raise BadRequest(
            f"{label} carries an Open Badges 2.0 badge that cannot be read: {exc}."
        ) from exc


def legacy_badge(assertion: dict[str, Any], fmt: str, label: str) -> Badge:
    """The ``Badge`` for an OB 2.0 assertion read as ``fmt``; any other OB 2.0 object (a
    BadgeClass, an Issuer) is refused."""
    kinds = types_of(assertion)
    if "Assertion" not in kinds and not ("badge" in assertion and "recipient" in assertion):
        kind = kinds[0] if kinds else "document"
        raise BadRequest(
            f"{label} is an Open Badges 2.0 {kind}, not a badge awarded to someone: "
            "import the assertion (the baked image or its JSON) instead."
        )
    check_numbers(assertion, label)
    ref = assertion.get("id") or assertion.get("uid")
    return Badge(LEGACY_MEDIA_TYPES[fmt], fmt, True, assertion, identifier_of(ref))


def _ob2_png(png: bytes, label: str) -> str | None:
    """The text of the first ``openbadges`` iTXt (or tEXt) chunk."""
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        pos += 12 + length
        keyword, _, rest = data.partition(b"\0")
        if keyword == b"openbadges" and kind == b"tEXt":
            return rest.decode("latin-1")
        if keyword == b"openbadges" and kind == b"iTXt" and len(rest) >= 2:
            _lang, _, rest2 = rest[2:].partition(b"\0")
            _translated, _, body = rest2.partition(b"\0")
            if rest[0]:
                body = _inflate(body, label)
            return body.decode("utf-8", "replace")
        if kind == b"IEND":
            break
    return None


def _inflate(data: bytes, label: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(data, MAX_BYTES)
    except zlib.error as exc:
        raise BadRequest(f"{label} is an image Laurel cannot read: its badge is corrupt.") from exc
    if inflater.unconsumed_tail:
        raise BadRequest(f"{label} holds a compressed badge larger than {MAX_BYTES:,} bytes.")
    return body


def _ob2_svg(svg: bytes) -> str | None:
    """The JSON body or ``verify`` attribute of an ``<openbadges:assertion>``. The verifier has
    already parsed this SVG with the same defused parser, so it holds no entities."""
    try:
        root: Element = SafeET.fromstring(svg)
    except (DefusedXmlException, SafeET.ParseError):
        return None
    for element in root.iter():
        namespace, _, local = str(element.tag).rpartition("}")
        if local == "assertion" and "openbadges" in namespace:
            body = element.text.strip() if element.text else ""
            return body or element.get("verify")
    return None


def legacy_fields(
    session: Session, services: Services, badge: Badge, now: datetime
) -> dict[str, Any]:
    """Name, issuer, date and a plain report for an OB 2.0 assertion. The badge and issuer may be
    URLs: fetched with the service's fetcher, and shown without if that fails."""
    assertion, fetch = badge.document, LocalFirstFetcher(session, services)
    checks: list[dict[str, Any]] = [
        _check(
            "input", "passed", f"read an Open Badges 2.0 assertion from {_FORMATS[badge.format]}"
        ),
        _check("proof", "skipped", "Open Badges 2.0 badges are not signature-verified", False),
        _check("status", "skipped", "revocation of Open Badges 2.0 badges is not checked", False),
    ]
    badge_class = _linked(assertion.get("badge"), fetch, "badge description", checks)
    issuer = _linked(badge_class.get("issuer"), fetch, "issuer profile", checks)
    issuer_ref = issuer.get("id") or badge_class.get("issuer")
    issuer_host = urlsplit(issuer_ref).hostname if isinstance(issuer_ref, str) else None
    issued = _legacy_time(assertion.get("issuedOn"))
    expires = _legacy_time(assertion.get("expires"))
    if expires is not None and expires < now:
        checks.append(_check("validity", "failed", f"it expired on {expires:%Y-%m-%d}", False))
    name = clean(badge_class.get("name")) or "Open Badges 2.0 badge"
    issuer_name = clean(issuer.get("name")) or issuer_host or "Unknown issuer"
    summary = Summary(
        id=identifier_of(assertion.get("id")),
        types=tuple(types_of(assertion)) or ("Assertion",),
        issuer_id=issuer_ref if isinstance(issuer_ref, str) else None,
        issuer_name=issuer_name,
        achievement_id=identifier_of(badge_class.get("id") or assertion.get("badge")),
        achievement_name=name,
        achievement_description=clean(badge_class.get("description"), 2000) or None,
        valid_from=issued.isoformat() if issued else None,
        valid_until=expires.isoformat() if expires else None,
        format=badge.format,
    )
    warnings = [
        f"{c['name']}: {c['reason']}" for c in checks if c["outcome"] in ("failed", "unknown")
    ]
    report = {
        "verdict": LEGACY,
        "reason": LEGACY_REASON,
        "checks": checks,
        "warnings": warnings,
        "summary": asdict(summary),
    }
    return {
        "name": name,
        "issuer_name": issuer_name,
        "issued_on": issued,
        "verdict": LEGACY,
        "report": report,
    }


_FORMATS = {"png": "a baked PNG", "svg": "a baked SVG", "json": "JSON", "jwt": "a JWS"}


def _check(name: str, outcome: str, reason: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "outcome": outcome, "reason": reason, "required": required}


def _linked(value: Any, fetch: Fetcher, what: str, checks: list[dict[str, Any]]) -> dict[str, Any]:
    """An embedded object, or the object a URL points to ({} when it cannot be had)."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.startswith("https://"):
        return {}
    try:
        body = fetch(value)
        if len(body) > MAX_BYTES:
            raise FetchError(value, f"over {MAX_BYTES} bytes")
        return safejson.loads_object(body, f"the {what}")
    except (FetchError, InputError) as exc:
        checks.append(_check(what, "unknown", f"could not read the {what}: {exc}", False))
        return {}


def _legacy_time(value: Any) -> datetime | None:
    """OB 2.0 dates: ISO 8601 (a date alone, or without a zone, is taken as UTC); OB 1.0 also
    allowed a Unix timestamp."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number or (isinstance(value, str) and value.isdigit()):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (ValueError, OverflowError, OSError):
            return None
    return maybe_time(value)


# --- shared helpers ---------------------------------------------------------------------------


def check_numbers(document: dict[str, Any], label: str) -> None:
    """Refuse integers beyond the range of a double (JSON-LD processing cannot convert them).
    NaN and Infinity never get here: the verifier's JSON reader refuses them."""
    stack: list[Any] = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and abs(item) > MAX_INTEGER:
            raise BadRequest(f"{label} contains a number too large to be part of a badge.")


def name_of(value: Any) -> str | None:
    """A name given as a string or as a language map (its ``name`` or ``en`` entry)."""
    if isinstance(value, dict):
        value = value.get("name") or value.get("en")
    return value if isinstance(value, str) else None


def clean(value: Any, limit: int = 500) -> str:
    """Display text for a column: no control characters (PostgreSQL refuses NUL), trimmed."""
    text_value = name_of(value) or ""
    return _CONTROL.sub(" ", text_value).strip()[:limit]


def identifier_of(value: Any) -> str | None:
    """A credential id worth matching duplicates on (too long or odd ones are not)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        return None
    return None if _CONTROL.search(value) else value.strip()


MAX_ISSUER_REF = 300  # bytes: with the credential id, within PostgreSQL's limit for an index row


def issuer_ref_of(document: dict[str, Any]) -> str:
    """The issuer's id as OB 3.0 equality compares it (``issuer.id``, trimmed; OBS "Equality"):
    two credentials are the same only when this and their ``id`` match. ``""`` when the document
    names none (an OB 2.0 assertion names its issuer in the BadgeClass); a longer one than an
    index row can hold as its SHA-256."""
    value = (vcjwt.issuer_id(document) or "").strip()
    if len(value.encode()) > MAX_ISSUER_REF:
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    return value
