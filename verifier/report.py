"""The verification report: a verdict, every check with its outcome, what the credential says."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from verifier.identity import NOTHING_READ, IssuerIdentity


class Verdict(StrEnum):
    VERIFIED = "verified"
    NOT_VERIFIED = "not verified"
    COULD_NOT_DECIDE = "could not decide"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Check:
    """One check. A failed or unknown check that is not ``required`` is reported as a warning."""

    name: str
    outcome: Outcome
    reason: str
    required: bool = True
    code: str | None = None
    """What went wrong, for programs and translations: the error's kind in snake case
    (``expired``, ``not_yet_valid``, ``revoked``, ``invalid_signature``, ``binding_error``, …);
    None for a check that passed or was skipped."""


@dataclass(frozen=True, slots=True)
class Alignment:
    name: str
    url: str | None = None
    framework: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """What the credential says, for display. Present whenever the input could be parsed."""

    id: str | None = None
    types: tuple[str, ...] = ()
    issuer_id: str | None = None
    issuer_name: str | None = None
    issuer_url: str | None = None
    """The website the issuer profile names (the issuer's own claim)."""
    achievement_id: str | None = None
    achievement_name: str | None = None
    achievement_type: str | None = None
    achievement_description: str | None = None
    recipient_id: str | None = None
    recipient_name: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    alignments: tuple[Alignment, ...] = ()
    format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict(self)``, without its deep copy of each value: every value is
        text, None or a tuple of them (or of alignments), none of which can change, and the copy
        cost each report ~20 µs."""
        found = {name: getattr(self, name) for name in _SUMMARY_FIELDS}
        found["alignments"] = tuple(
            {name: getattr(alignment, name) for name in _ALIGNMENT_FIELDS}
            for alignment in self.alignments
        )
        return found


_SUMMARY_FIELDS = tuple(item.name for item in fields(Summary))
_ALIGNMENT_FIELDS = tuple(item.name for item in fields(Alignment))


@dataclass(frozen=True, slots=True)
class Report:
    verdict: Verdict
    checks: tuple[Check, ...]
    summary: Summary = field(default_factory=Summary)
    credential: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    identity: IssuerIdentity = NOTHING_READ
    """Who issued it, as far as anyone but the credential can tell; never changes the verdict."""

    @property
    def verified(self) -> bool:
        return self.verdict is Verdict.VERIFIED

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(
            f"{check.name}: {check.reason}"
            for check in self.checks
            if not check.required and check.outcome in (Outcome.FAILED, Outcome.UNKNOWN)
        )

    def check(self, name: str) -> Check | None:
        return next((check for check in self.checks if check.name == name), None)

    def reason(self) -> str:
        """The plain-language reason for the verdict."""
        if self.verdict is Verdict.VERIFIED:
            return "Every required check passed."
        wanted = Outcome.FAILED if self.verdict is Verdict.NOT_VERIFIED else Outcome.UNKNOWN
        for check in self.checks:
            if check.required and check.outcome is wanted:
                return check.reason
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "reason": self.reason(),
            "checks": [
                {
                    "name": c.name,
                    "outcome": c.outcome.value,
                    "reason": c.reason,
                    "required": c.required,
                    **({"code": c.code} if c.code else {}),
                }
                for c in self.checks
            ],
            "warnings": list(self.warnings),
            "issuerIdentity": self.identity.to_dict(),
            "summary": self.summary.to_dict(),
        }


def decide(checks: tuple[Check, ...]) -> Verdict:
    """Any required failure: not verified; else any required unknown: could not decide."""
    unknown = False
    for check in checks:
        if check.required:
            if check.outcome is Outcome.FAILED:
                return Verdict.NOT_VERIFIED
            unknown = unknown or check.outcome is Outcome.UNKNOWN
    return Verdict.COULD_NOT_DECIDE if unknown else Verdict.VERIFIED
