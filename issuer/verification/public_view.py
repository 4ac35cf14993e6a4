"""What the public verification page shows: a live verification of a stored credential and the
facts a person needs (issuer, achievement, recipient, dates, hours, skills, evidence)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.issuing.credentials import parse_id
from issuer.models import Achievement, Credential, Issuer
from issuer.verification import trust
from issuer.verification.verdicts import Assessment, assess
from verifier import Check, Outcome, Report
from verifier.fetch import Fetcher


@dataclass(frozen=True)
class View:
    """Everything a verification page renders."""

    report: Report
    credential: dict[str, Any]
    credential_id: str | None = None
    issuer_slug: str | None = None
    design: dict[str, Any] = field(default_factory=dict)
    revocation_reason: str | None = None
    revoked_at: datetime | None = None

    @cached_property
    def assessment(self) -> Assessment:
        return assess(self.report.to_dict(), revoked_at=self.revoked_at)

    @property
    def deciding_check(self) -> Check | None:
        """The check behind a verdict that is not "verified" (the first required failure, or
        the first required unknown)."""
        wanted = {"not verified": Outcome.FAILED, "could not decide": Outcome.UNKNOWN}
        outcome = wanted.get(self.report.verdict.value)
        return next((c for c in self.report.checks if c.required and c.outcome is outcome), None)

    @property
    def is_badge(self) -> bool:
        """Whether anything in the input could be read as a credential (else no details card)."""
        return bool(self.credential)

    @property
    def narrative(self) -> str | None:
        value = self.subject.get("narrative")
        return value if isinstance(value, str) and value.strip() else None

    @property
    def results(self) -> list[dict[str, Any]]:
        """The subject's results, each with the name of its result description when the
        achievement gives one."""
        descriptions = self.achievement.get("resultDescription", [])
        names = {
            d.get("id"): d.get("name")
            for d in (descriptions if isinstance(descriptions, list) else [])
            if isinstance(d, dict)
        }
        results = self.subject.get("result", [])
        found = []
        for item in results if isinstance(results, list) else []:
            if isinstance(item, dict):
                name = names.get(item.get("resultDescription"))
                found.append(
                    {
                        "name": name if isinstance(name, str) else None,
                        "value": item.get("value") if isinstance(item.get("value"), str) else None,
                        "status": item.get("status")
                        if isinstance(item.get("status"), str)
                        else None,
                        "level": item.get("achievedLevel")
                        if isinstance(item.get("achievedLevel"), str)
                        else None,
                    }
                )
        return [r for r in found if r["value"] or r["status"] or r["level"]]

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


_STORED = (  # built once: building it took a page as long as running it
    select(  # SQLAlchemy's: sqlmodel's types at most four columns
        col(Credential.id),
        col(Credential.document),
        col(Credential.revocation_reason),
        col(Credential.revoked_at),
        col(Issuer.slug),
        col(Achievement.design),
    )  # columns, not the Credential entity: the page needs four of its fields
    .join(Issuer, col(Issuer.id) == Credential.issuer_id)
    .join(Achievement, col(Achievement.id) == Credential.achievement_id)
    .where(col(Credential.id) == bindparam("credential_id"))
)


def stored_view(
    session: Session,
    services: Services,
    credential_id: str,
    fetcher: Fetcher | None = None,
    email: str | None = None,
) -> View:
    """Re-verify a credential this instance issued (status checked live)."""
    # Through the session's connection: the ORM's execution path cost more than the query.
    stored = session.connection().execute(_STORED, {"credential_id": parse_id(credential_id)})
    found = stored.first()
    if found is None:
        raise NotFound("Laurel has no badge with this id; check the link or the QR code")
    stored_id, document, revocation_reason, revoked_at, slug, design = found
    report = trust.verify(session, services, document, fetcher=fetcher, email=email)
    return View(
        report=report,
        credential=document,
        credential_id=stored_id,
        issuer_slug=slug,
        design=dict(design or {}),
        revocation_reason=revocation_reason,
        revoked_at=revoked_at,
    )


def submitted_view(
    session: Session,
    services: Services,
    source: dict[str, Any] | str | bytes,
    fetcher: Fetcher | None = None,
    email: str | None = None,
) -> View:
    """Verify anything someone pasted or uploaded (and, given ``email``, whether it was issued
    to that email)."""
    report = trust.verify(session, services, source, fetcher=fetcher, email=email)
    return View(report=report, credential=report.credential or {})
