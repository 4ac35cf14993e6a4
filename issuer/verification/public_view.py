"""What the public verification page shows: a live verification of a stored credential and the
facts a person needs (issuer, achievement, recipient, dates, hours, skills, evidence)."""

from __future__ import annotations

import marshal
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlmodel import Session, col

from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.issuing.credentials import parse_id
from issuer.models import Achievement, Credential, Issuer
from issuer.models.base import table_of
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

    def page_key(self) -> tuple[Report, bytes] | None:
        """What a page of this view is made from, for remembering the page
        (``issuer.web.render.remembered_page``): views with equal keys give the same page. The
        report by its own equality, exact because every field of its classes is text, a flag,
        an enum member, None or a tuple of those (``tests/web/test_page_memory.py`` holds
        them to that); everything else by ``marshal``, which tells ``1``, ``1.0`` and ``True``
        apart. None when a value is not plain data (``marshal`` refuses subclasses too)."""
        revoked = None if self.revoked_at is None else self.revoked_at.isoformat()
        credential = self.report.credential
        other = None if credential is self.credential else credential
        try:
            plain = marshal.dumps(
                (
                    self.credential,
                    other,
                    self.credential_id,
                    self.issuer_slug,
                    self.design,
                    self.revocation_reason,
                    revoked,
                ),
                2,
            )
        except ValueError:
            return None
        return self.report, plain

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


Stored = tuple[Any, ...]
"""A row of ``_STORED``: id, document, revocation reason, revocation time, issuer slug, design."""


class StoredReader:
    """``_STORED`` on a SQLite file through a pooled connection of the driver's own, with the
    columns' own conversions (``result_processor``, as SQLAlchemy applies them): ~15 µs instead
    of ~130 µs for a session's unit of work, its deferred ``BEGIN`` and its commit. Outside a
    transaction the one ``SELECT`` reads one snapshot. For the badge page made in the event loop
    (``issuer.web.pages``), whose pool has a connection for each page slot: the connection goes
    back to the pool before the page goes on, so a page holds at most one at a time."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "sqlite":
            raise ValueError("StoredReader reads a SQLite database")
        dialect = engine.dialect
        self.engine = engine
        self.sql = str(_STORED.compile(dialect=dialect))
        key = table_of(Credential).c.id.type.dialect_impl(dialect)
        self.bind = key.bind_processor(dialect)
        self.convert = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in _STORED.selected_columns
        ]

    def __call__(self, credential_id: str) -> Stored | None:
        key = parse_id(credential_id)
        connection = self.engine.raw_connection()
        try:
            cursor = connection.driver_connection.execute(  # type: ignore[union-attr]
                self.sql, (key if self.bind is None else self.bind(key),)
            )
            found = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
        if found is None:
            return None
        return tuple(
            value if convert is None else convert(value)
            for value, convert in zip(found, self.convert, strict=True)
        )


def stored_view(
    session: Session,
    services: Services,
    credential_id: str,
    fetcher: Fetcher | None = None,
    email: str | None = None,
    stored: Stored | None = None,
) -> View:
    """Re-verify a credential this instance issued (status checked live). ``stored``: its row,
    already read (``StoredReader``); else it is read through ``session``."""
    if stored is None:
        # Through the session's connection: the ORM's execution path cost more than the query.
        rows = session.connection().execute(_STORED, {"credential_id": parse_id(credential_id)})
        stored = rows.first()
    if stored is None:
        raise NotFound("Laurel has no badge with this id; check the link or the QR code")
    stored_id, document, revocation_reason, revoked_at, slug, design = stored
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
