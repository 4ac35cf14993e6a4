"""What a credential says, for display: issuer, achievement, recipient, dates, alignments."""

from __future__ import annotations

from typing import Any

from verifier.checks import is_vcdm1
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
