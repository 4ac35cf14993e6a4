"""What a credential says, for display: issuer, achievement, recipient, dates, alignments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from verifier.checks import is_vcdm1, parse_datetime
from verifier.errors import VerifierError
from verifier.report import Alignment, Summary


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _name(value: Any) -> str | None:
    if isinstance(value, dict):  # a value object (with a language), or a node with a name
        return _str(value.get("@value")) or _str(value.get("name")) or _str(value.get("en"))
    return _str(value)


WINDOW = ("validFrom", "validUntil")


def _identifier_name(subject: dict[str, Any]) -> str | None:
    """The recipient's name when the issuer put it in a plain ``name`` identifier."""
    identifiers = subject.get("identifier")
    for item in identifiers if isinstance(identifiers, list) else []:
        if isinstance(item, dict) and item.get("identityType") == "name" and not item.get("hashed"):
            return _str(item.get("identityHash"))
    return None


def summarize(credential: dict[str, Any], source_format: str) -> Summary:
    issuer = credential.get("issuer")
    issuer_id = _str(issuer.get("id")) if isinstance(issuer, dict) else _str(issuer)
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    alignments = achievement.get("alignment", [])
    types = credential.get("type", [])
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    # the dates the validity check reads: a VCDM 1.1 credential's validFrom is not its window
    start, end = ("issuanceDate", "expirationDate") if is_vcdm1(credential) else WINDOW
    return Summary(
        id=_str(credential.get("id")),
        types=tuple(t for t in types if isinstance(t, str)),
        issuer_id=issuer_id,
        issuer_name=_name(issuer.get("name")) if isinstance(issuer, dict) else None,
        issuer_url=_str(issuer.get("url")) if isinstance(issuer, dict) else None,
        achievement_id=_str(achievement.get("id")),
        achievement_name=_name(achievement.get("name")),
        achievement_type=_str(achievement.get("achievementType")),
        achievement_description=_name(achievement.get("description")),
        recipient_id=_str(subject.get("id")),
        recipient_name=_name(subject.get("name")) or _identifier_name(subject),
        valid_from=_str(credential.get(start)),
        valid_until=_str(credential.get(end)),
        alignments=tuple(
            Alignment(
                name=_str(item.get("targetName")) or "",
                url=_str(item.get("targetUrl")),
                framework=_str(item.get("targetFramework")),
                code=_str(item.get("targetCode")),
            )
            for item in (alignments if isinstance(alignments, list) else [])
            if isinstance(item, dict)
        ),
        format=source_format,
    )


def held_to_claims(summary: Summary, nbf: datetime | None, exp: datetime | None) -> Summary:
    """The window a JWT's claims give the validity check (``checks.check_validity``): ``nbf``
    starts it later, ``exp`` ends it sooner than the credential's own dates, and a credential
    that names none (a VC-JOSE-COSE ``vc+jwt`` carrying only ``exp``) is held to them. So
    ``valid_from`` / ``valid_until`` are always the dates the verdict was reached with."""
    start, end = _time(summary.valid_from), _time(summary.valid_until)
    valid_from, valid_until = summary.valid_from, summary.valid_until
    if nbf is not None and (start is None or nbf > start):
        valid_from = _iso(nbf)
    if exp is not None and (valid_until is None or (end is not None and exp < end)):
        valid_until = _iso(exp)
    return replace(summary, valid_from=valid_from, valid_until=valid_until)


def _time(value: str | None) -> datetime | None:
    try:
        return parse_datetime(value, "date") if value is not None else None
    except VerifierError:
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
