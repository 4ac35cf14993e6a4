"""One reading of a verification report for people, the same on every page, card and download.

The verifier's verdict says whether every required check passed; people need to know *what* is
the matter. A revoked badge is not a forgery, an expired one "was genuine", a genuine signature
from an issuer nobody confirms is not the same as one from a known institute. ``assess`` turns a
report (its JSON form, so stored reports of imported badges read the same) into one of:

============== ========================================================= ========
kind           when                                                       tone
============== ========================================================= ========
verified       every check passed; the issuer is known (or linked)        good (linked)
unconfirmed    every check passed; the issuer is only self-declared       caution
expired        only the validity check failed: past ``validUntil``        caution
not-yet-valid  only the validity check failed: before ``validFrom``       caution
revoked        the status list says revoked (the signature is fine)       bad
failed         anything else failed (signature, issuer binding, …)       bad
unknown        nothing failed, but something could not be decided         unknown
============== ========================================================= ========
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from issuer.models.base import aware, parse_time

Kind = Literal[
    "verified", "unconfirmed", "expired", "not-yet-valid", "revoked", "failed", "unknown"
]
TONES: dict[str, str] = {
    "verified": "good",
    "unconfirmed": "caution",
    "expired": "caution",
    "not-yet-valid": "caution",
    "revoked": "bad",
    "failed": "bad",
    "unknown": "unknown",
}
CLEAN: frozenset[str] = frozenset({"verified", "unconfirmed"})
"""Kinds whose artifacts (certificate, baked images) are handed out without a stamp."""


@dataclass(frozen=True)
class Assessment:
    kind: Kind
    identity: str
    """``known``, ``linked`` or ``unconfirmed``."""
    when: date | None = None
    """The date that goes with the kind: expiry, start, or revocation (when known)."""

    @property
    def tone(self) -> str:
        """``good`` (green) only for a known issuer; ``linked`` (blue) for one that controls a web
        domain the reader should recognise; ``caution`` (amber), ``bad`` (red), ``unknown``."""
        if self.kind == "verified" and self.identity == "linked":
            return "linked"
        return TONES[self.kind]

    @property
    def clean(self) -> bool:
        return self.kind in CLEAN


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return aware(value).date()
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def assess(report: dict[str, Any], *, revoked_at: datetime | None = None) -> Assessment:
    """The kind of a report (``Report.to_dict()`` or a stored copy of one)."""
    identity_data = report.get("issuerIdentity")
    identity = (
        str(identity_data.get("state", "unconfirmed"))
        if isinstance(identity_data, dict)
        else "unconfirmed"
    )
    found = report.get("summary")
    summary: dict[str, Any] = found if isinstance(found, dict) else {}
    checks = [c for c in report.get("checks", []) if isinstance(c, dict)]
    verdict = report.get("verdict")
    if verdict == "verified":
        return Assessment("unconfirmed" if identity == "unconfirmed" else "verified", identity)
    if verdict != "not verified":
        return Assessment("unknown", identity)
    failed = [c for c in checks if c.get("required") and c.get("outcome") == "failed"]
    names = {c.get("name") for c in failed}
    if names == {"status"} and _is_revoked(failed[0]):
        return Assessment("revoked", identity, _day(revoked_at))
    if names == {"validity"}:
        validity = failed[0]
        code = validity.get("code") or _legacy_code(str(validity.get("reason", "")))
        if code == "expired":
            return Assessment("expired", identity, _day(summary.get("valid_until")))
        if code == "not_yet_valid":
            return Assessment("not-yet-valid", identity, _day(summary.get("valid_from")))
    return Assessment("failed", identity)


def _is_revoked(check: dict[str, Any]) -> bool:
    return check.get("code") == "revoked" or "revoked" in str(check.get("reason", ""))


def _legacy_code(reason: str) -> str | None:
    """Reports stored before checks carried a code."""
    if "expired" in reason:
        return "expired"
    if "not valid until" in reason:
        return "not_yet_valid"
    return None


def stored_state(
    revoked_at: datetime | None,
    valid_from: str | None,
    valid_until: datetime | None,
    now: datetime | None = None,
) -> tuple[Kind, date] | None:
    """For a credential this instance issued, the state its artifacts must show when it is not
    valid now (revoked, expired, not yet valid) and the date that goes with it; None when valid.
    The same facts its verification finds, read from its own records."""
    moment = now or datetime.now(UTC)
    if revoked_at is not None:
        return "revoked", _day(revoked_at) or moment.date()
    if valid_until is not None:
        end = aware(valid_until)
        if end <= moment:
            return "expired", end.date()
    if valid_from:
        try:
            start = parse_time(valid_from)
        except ValueError:
            return None
        if start > moment:
            return "not-yet-valid", start.date()
    return None
