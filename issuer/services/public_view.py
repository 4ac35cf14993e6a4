"""What the public verification page shows: a live verification of a stored credential and the
facts a person needs (issuer, achievement, recipient, dates, hours, skills, evidence)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from issuer.errors import NotFound
from issuer.models import Achievement, Credential, Issuer
from issuer.services import trust
from issuer.services.context import Services
from issuer.services.credentials import parse_id
from verifier import Report, Verdict
from verifier.fetch import Fetcher

HEADLINES = {
    Verdict.VERIFIED: ("verified", "Verified", "This badge is genuine, valid and not revoked."),
    Verdict.NOT_VERIFIED: ("failed", "Not verified", "Do not rely on this badge."),
    Verdict.COULD_NOT_DECIDE: (
        "unknown",
        "Could not verify",
        "Laurel could not finish checking this badge; it is not shown as valid.",
    ),
}


@dataclass(frozen=True)
class View:
    """Everything a verification page renders."""

    report: Report
    credential: dict[str, Any]
    credential_id: str | None = None
    issuer_slug: str | None = None
    design: dict[str, Any] = field(default_factory=dict)
    revocation_reason: str | None = None

    @property
    def headline(self) -> tuple[str, str, str]:
        return HEADLINES[self.report.verdict]

    @property
    def subject(self) -> dict[str, Any]:
        subject = self.credential.get("credentialSubject")
        return subject if isinstance(subject, dict) else {}

    @property
    def achievement(self) -> dict[str, Any]:
        achievement = self.subject.get("achievement")
        return achievement if isinstance(achievement, dict) else {}

    @property
    def evidence(self) -> list[dict[str, Any]]:
        evidence = self.credential.get("evidence", [])
        return [e for e in evidence if isinstance(e, dict)] if isinstance(evidence, list) else []

    @property
    def hours(self) -> Any:
        return self.subject.get("creditsEarned", self.achievement.get("creditsAvailable"))


def stored_view(
    services: Services, session: Session, credential_id: str, fetcher: Fetcher | None = None
) -> View:
    """Re-verify a credential this instance issued (status checked live)."""
    query = (
        select(Credential, Issuer.slug, Achievement.design)
        .join(Issuer, col(Issuer.id) == Credential.issuer_id)
        .join(Achievement, col(Achievement.id) == Credential.achievement_id)
        .where(Credential.id == parse_id(credential_id))
    )
    found = session.exec(query).first()
    if found is None:
        raise NotFound("Laurel has no badge with this id; check the link or the QR code")
    row, slug, design = found
    report = trust.verify(services, row.document, fetcher=fetcher)
    return View(
        report=report,
        credential=row.document,
        credential_id=row.id,
        issuer_slug=slug,
        design=design or {},
        revocation_reason=row.revocation_reason,
    )


def submitted_view(
    services: Services, source: dict[str, Any] | str | bytes, fetcher: Fetcher | None = None
) -> View:
    """Verify anything someone pasted or uploaded."""
    report = trust.verify(services, source, fetcher=fetcher)
    return View(report=report, credential=report.credential or {})
