"""What a learner sees in their wallet: every badge they hold (issued here to any of their
emails, or imported from elsewhere) with its status, filters over them, and what the badges add
up to — skills, gaps to a target, programme progress and this year's learning hours.

A badge is named by a reference: ``c-{uuid}`` for one issued by this instance, ``i-{n}`` for an
imported one. A reference that is not the learner's is "not found", never "forbidden".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.models import (
    Achievement,
    Credential,
    ImportedCredential,
    Issuer,
    LearnerEmail,
)
from issuer.models.base import aware, maybe_time
from issuer.skills.cloud import SkillEntry, SkillKey, profiles
from issuer.skills.weights import framework_of
from issuer.verification.verdicts import assess

DEFAULT_ANNUAL_HOURS = 80.0


@dataclass(frozen=True)
class WalletBadge:
    ref: str
    name: str
    issuer_name: str
    issued_on: datetime | None
    achievement_type: str | None
    status: str
    """valid, unconfirmed (genuine, issuer only self-declared), revoked, expired,
    not-yet-valid, not-verified, unknown or legacy (``issuer.services.verdicts``)."""
    image_url: str | None
    imported: bool
    skills: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)
    hours: float | None = None
    credential_id: str | None = None  # the uuid of a badge issued here
    yours: bool = True  # issued to one of the learner's emails (imports: checked by hash)
    status_on: date | None = None
    """The date that goes with the status: revoked, expired or valid from."""
    identity: str = "known"
    """Who issued it: known, linked or unconfirmed (badges issued here are known here)."""

    @property
    def usable(self) -> bool:
        """Genuine and valid now (whoever the issuer is): it counts and can be shown."""
        return self.status in ("valid", "unconfirmed")


def _skills(achievement: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    found = []
    for alignment in achievement.get("alignment", []) or []:
        if isinstance(alignment, dict):
            code = str(alignment.get("targetCode") or alignment.get("targetName") or "")
            name = str(alignment.get("targetName") or code)
            found.append((framework_of(alignment), code, name))
    return tuple(found)


def _hours(document: dict[str, Any]) -> float | None:
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict):
        return None
    value = subject.get("creditsEarned")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _issued(row: Credential, now: datetime) -> WalletBadge:
    document = row.document
    achievement = document["credentialSubject"]["achievement"]
    starts = maybe_time(document.get("validFrom"))
    on: datetime | None = None
    if row.revoked_at is not None:
        status, on = "revoked", aware(row.revoked_at)
    elif row.valid_until is not None and aware(row.valid_until) <= now:
        status, on = "expired", aware(row.valid_until)
    elif starts is not None and starts > now:
        status, on = "not-yet-valid", starts
    else:
        status = "valid"
    return WalletBadge(
        ref=f"c-{row.id}",
        name=str(achievement.get("name") or document.get("name")),
        issuer_name=str(document["issuer"].get("name", "")),
        issued_on=maybe_time(document.get("validFrom")),
        achievement_type=achievement.get("achievementType"),
        status=status,
        image_url=f"/v/{row.id}/badge.png",
        imported=False,
        skills=_skills(achievement),
        hours=_hours(document),
        credential_id=row.id,
        status_on=on.date() if on else None,
    )


_KIND_STATUS = {"verified": "valid", "failed": "not-verified"}


def _imported(row: ImportedCredential, now: datetime, emails: list[str]) -> WalletBadge:
    from issuer.wallet.imports import issued_to_any, window_of

    document = row.document if isinstance(row.document, dict) else {}
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    achievement = achievement if isinstance(achievement, dict) else {}
    on: date | None = None
    identity = "unconfirmed"
    if row.legacy:
        status = "legacy"
    else:
        assessment = assess(row.report if isinstance(row.report, dict) else {})
        status, on = _KIND_STATUS.get(assessment.kind, assessment.kind), assessment.when
        identity = assessment.identity
    until = None if row.legacy else window_of(row)[1]
    if status in ("valid", "unconfirmed") and until is not None and until <= now:
        status, on = "expired", until.date()
    return WalletBadge(
        ref=f"i-{row.id}",
        name=row.name,
        issuer_name=row.issuer_name,
        issued_on=aware(row.issued_on) if row.issued_on else None,
        achievement_type=achievement.get("achievementType") if not row.legacy else None,
        status=status,
        image_url=f"/wallet/badges/i-{row.id}/image"
        if row.media_type.startswith("image/")
        else None,
        imported=True,
        skills=() if row.legacy else _skills(achievement),
        hours=None if row.legacy else _hours(document),
        yours=not row.legacy and issued_to_any(document, emails),
        status_on=on,
        identity=identity,
    )


def badges(session: Session, learner_id: int, now: datetime | None = None) -> list[WalletBadge]:
    """Every badge of the learner, newest first."""
    now = now or datetime.now(UTC)
    issued = session.exec(select(Credential).where(Credential.learner_id == learner_id))
    imported = session.exec(
        select(ImportedCredential)
        .where(ImportedCredential.learner_id == learner_id)
        .options(defer(ImportedCredential.original))  # type: ignore[arg-type]  # up to 2 MiB each
    )
    addresses = emails(session, learner_id)
    found = [_issued(row, now) for row in issued] + [
        _imported(row, now, addresses) for row in imported
    ]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(found, key=lambda b: (b.issued_on or oldest, b.ref), reverse=True)


@dataclass(frozen=True)
class Filters:
    issuer: str | None = None
    type: str | None = None
    skill: str | None = None
    year: int | None = None

    def keep(self, badge: WalletBadge) -> bool:
        return (
            (self.issuer is None or badge.issuer_name == self.issuer)
            and (self.type is None or badge.achievement_type == self.type)
            and (self.skill is None or any(code == self.skill for _, code, _ in badge.skills))
            and (
                self.year is None
                or (badge.issued_on is not None and badge.issued_on.year == self.year)
            )
        )


def facets(all_badges: list[WalletBadge]) -> dict[str, list[Any]]:
    """The values the filters offer: issuers, types, skills (code, name) and years."""
    skills = {code: name for b in all_badges for _, code, name in b.skills}
    return {
        "issuers": sorted({b.issuer_name for b in all_badges}),
        "types": sorted({b.achievement_type for b in all_badges if b.achievement_type}),
        "skills": sorted(skills.items(), key=lambda item: item[1]),
        "years": sorted({b.issued_on.year for b in all_badges if b.issued_on}, reverse=True),
    }


def emails(session: Session, learner_id: int) -> list[str]:
    """The learner's verified emails (what an imported badge's recipient must match)."""
    rows = session.exec(
        select(LearnerEmail.email).where(
            LearnerEmail.learner_id == learner_id, col(LearnerEmail.verified).is_(True)
        )
    )
    return list(rows)


def issued_credential(session: Session, learner_id: int, ref: str) -> Credential:
    if ref.startswith("c-") and len(ref) <= 38:
        row = session.get(Credential, ref.removeprefix("c-"))
        if row is not None and row.learner_id == learner_id:
            return row
    raise NotFound("there is no such badge in your wallet")


def imported_credential(session: Session, learner_id: int, ref: str) -> ImportedCredential:
    number = ref.removeprefix("i-")
    if ref.startswith("i-") and number.isdigit() and len(number) <= 18:  # fits a BIGINT
        row = session.get(ImportedCredential, int(number))
        if row is not None and row.learner_id == learner_id:
            return row
    raise NotFound("there is no such badge in your wallet")


def find(session: Session, learner_id: int, ref: str) -> Credential | ImportedCredential:
    """The learner's badge ``ref``, issued or imported."""
    if ref.startswith("c-"):
        return issued_credential(session, learner_id, ref)
    return imported_credential(session, learner_id, ref)


def profile(
    session: Session, learner_id: int, now: datetime | None = None
) -> dict[SkillKey, SkillEntry]:
    """The learner's skills from every valid badge: issued here by any issuer, and imported
    badges that verified (weighed alike, equivalent codes merged, assessed results applied)."""
    from issuer.skills.assessed import assessed_levels
    from issuer.skills.equivalence import bundled
    from issuer.wallet.imports import imported_skills

    smap = bundled()
    now = now or datetime.now(UTC)
    result = profiles(session, None, now, learners=[learner_id]).get(learner_id, {})
    addresses = emails(session, learner_id)
    for row in session.exec(
        select(ImportedCredential)
        .where(ImportedCredential.learner_id == learner_id)
        .options(defer(ImportedCredential.original))  # type: ignore[arg-type]  # up to 2 MiB each
    ):
        skills = imported_skills(row, now, addresses)
        assessed = assessed_levels(row.document) if skills else {}
        for framework, code, name, weight in skills:
            key = smap.canon((framework, code))  # equivalent codes are one skill
            entry = result.setdefault(
                key, SkillEntry(key[0], key[1], name, codes=smap.all_codes(key))
            )
            entry.weight += weight
            level = assessed.get((framework, code), assessed.get(None))
            if level:
                entry.assessed = max(level, entry.assessed or 0)
    return result


def cloud(session: Session, learner_id: int) -> list[dict[str, Any]]:
    """The learner's skills, heaviest first, with levels."""
    entries = sorted(profile(session, learner_id).values(), key=lambda e: (-e.weight, e.code))
    return [
        {
            "framework": e.framework,
            "code": e.code,
            "name": e.name,
            "weight": round(e.weight, 3),
            "level": e.level,
            "learners": 1,
        }
        for e in entries
    ]


def held_keys(session: Session, learner_id: int, now: datetime | None = None) -> set[str]:
    """Achievement keys of the learner's valid badges issued here (for gaps and programmes)."""
    now = now or datetime.now(UTC)
    rows = session.exec(
        select(Achievement.key)
        .join(Credential, col(Credential.achievement_id) == Achievement.id)
        .where(
            Credential.learner_id == learner_id,
            col(Credential.revoked_at).is_(None),
            col(Credential.valid_until).is_(None) | (col(Credential.valid_until) > now),
        )
    )
    return set(rows)


def gap(
    session: Session, services: Services, learner_id: int, target_id: str, lang: str = "en"
) -> dict[str, Any]:
    from issuer.reports.gaps import gap_report

    return gap_report(
        services, profile(session, learner_id), held_keys(session, learner_id), target_id, lang=lang
    )


def programmes(
    session: Session, services: Services, learner_id: int, lang: str = "en"
) -> list[dict[str, Any]]:
    """Progress per programme, at every issuer the learner has badges from, for programmes
    with something done; each programme named in ``lang`` (Korean: its ``name_ko``)."""
    from issuer.programs.awards import _held, progress
    from issuer.skills.frameworks import catalogue

    programs = catalogue(services).programs
    awards = {p.id: p.award for p in programs}
    issuers = session.exec(
        select(Issuer)
        .join(Credential, col(Credential.issuer_id) == Issuer.id)
        .where(Credential.learner_id == learner_id)
        .distinct()
    )
    found = []
    for issuer in issuers:
        held = _held(session, issuer, learner_id)
        for program in programs:
            step = progress(program, held, awards)
            if step["requiredDone"] or step["electivesDone"] or step["awarded"]:
                found.append({**step, "name": program.label(lang), "issuer": issuer.name})
    return found


def hours(
    session: Session,
    learner_id: int,
    year: int,
    required: float = DEFAULT_ANNUAL_HOURS,
    every: list[WalletBadge] | None = None,
) -> dict[str, Any]:
    """Learning hours earned in ``year`` from valid badges (issued here or imported, verified
    and issued to the learner) against the annual requirement; ``every``: the learner's badges,
    if the caller has them already."""
    total = 0.0
    for badge in every if every is not None else badges(session, learner_id):
        if (
            badge.usable
            and badge.yours
            and badge.hours
            and badge.issued_on
            and badge.issued_on.year == year
        ):
            total += badge.hours
    return {
        "year": year,
        "hours": round(total, 2),
        "required": required,
        "met": total >= required,
        "remaining": round(max(0.0, required - total), 2),
        "percent": min(100, round(100 * total / required)) if required else 100,
    }
