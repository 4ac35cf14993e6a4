"""An organisation's learning-hours report: per member of its roster and calendar year, the hours
that count under its rules (``issuer.orgs.rules``), from every issuer it trusts (``held``).

Every hour is counted once, and each number can be traced to the badges behind it:

- A badge counts for the year of its ``validFrom``, with its ``creditsEarned`` (0 when it has
  none). Badges that record completion of learning counted in other badges — programme awards and
  the annual badge (``Catalogue.completion_keys``) — add none, also when an old credential still
  carries hours. A badge from elsewhere (shared, no catalogue key) counts its ``creditsEarned``.
- *Informal* learning is a badge whose achievement has a tag equal to one of
  ``INFORMAL_CATEGORIES`` (``mentoring``) or ``informal:<category>`` (``informal:mentoring``).
  Per category it counts up to the rules' cap for that category (a category without a cap counts
  nothing), and all informal learning together up to ``informal_share`` of the required hours (of
  80 when the member has none). Badges are taken in date order: the first hours count, the rest
  are *capped away*.
- *Designated* hours are those of badges whose achievement key or a tag is designated
  (``Rules.designated``) for the member's unit, any unit above it, or ``"*"``.
- *Mandatory* hours are those of badges with a tag — or, for a catalogue badge, a badge area — in
  ``Rules.mandatory_tags`` (by default ``digital`` and ``digital-literacy``).
- A member with a requirement (``required > 0``) has met the year's rule when the total is at
  least the requirement, the designated hours at least ``designated_share`` of it and the
  mandatory hours at least ``mandatory_hours``; a member without one is *exempt*.

``evaluate`` issues the organisation's annual badge (``Rules.annual_badge``, an achievement of its
home issuer) to each member who met the year's rule, exactly once per member and year (by its
idempotency key ``annual:{org}:{learner}:{year}``; a key another learner's badge holds is not
hers, ``_annual_key``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from issuer.catalogue import Catalogue, shared
from issuer.context import Services
from issuer.core import metrics
from issuer.core.effects import ORG_HOURS
from issuer.core.errors import BadRequest, NotFound
from issuer.core.spreadsheet import record
from issuer.models import (
    Achievement,
    Issuer,
    LearnerEmail,
    Organisation,
    OrgMember,
    OrgTrust,
    OrgUnit,
)
from issuer.orgs import Held, held, members
from issuer.orgs.rules import INFORMAL_CATEGORIES, Rules, load
from issuer.people.emails import known_emails

Status = Literal["met", "unmet", "exempt"]
STATUSES: tuple[Status, ...] = ("met", "unmet", "exempt")
INFORMAL_PREFIX = "informal:"
NO_REQUIREMENT_BASE = 80.0
"""The hours ``informal_share`` applies to for a member with no requirement."""
ANNUAL_KEY = "annual:{org}:{learner}:{year}"
"""The idempotency key of an annual badge: one per member and year."""

CSV_COLUMNS = [
    "employee_no",
    "name",
    "email",
    "unit_code",
    "unit_name",
    "grade",
    "role",
    "year",
    "hours",
    "formal",
    "informal",
    "informal_capped",
    "designated",
    "mandatory",
    "required",
    "designated_required",
    "mandatory_required",
    "status",
    "remaining",
    "hours_here",
    "hours_shared",
    "issuers",
]


@dataclass
class Counted:
    """One badge of the year and what it adds."""

    credential: str
    name: str
    issuer: str
    source: str
    hours: float
    """What the badge carries (``creditsEarned``)."""
    counted: float
    """What it adds to the total (0 for a completion badge; less when capped)."""
    kind: str
    """``formal``, ``informal:<category>`` or ``completion``."""
    designated: bool
    mandatory: bool

    def public(self) -> dict[str, Any]:
        return {
            "credential": self.credential,
            "name": self.name,
            "issuer": self.issuer,
            "source": self.source,
            "hours": _round(self.hours),
            "counted": _round(self.counted),
            "kind": self.kind,
            "designated": self.designated,
            "mandatory": self.mandatory,
        }


@dataclass
class MemberHours:
    learner_id: int
    name: str | None
    email: str | None
    employee_no: str | None
    unit_code: str | None
    unit_name: str | None
    unit_name_ko: str | None
    grade: str | None
    role: str | None
    year: int
    required: float
    designated_required: float
    mandatory_required: float
    formal: float = 0.0
    informal: float = 0.0
    informal_capped: float = 0.0
    designated: float = 0.0
    mandatory: float = 0.0
    sources: dict[tuple[str, str], float] = field(default_factory=dict)
    badges: list[Counted] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.formal + self.informal

    @property
    def status(self) -> Status:
        if self.required <= 0:
            return "exempt"
        met = (
            self.total >= self.required
            and self.designated >= self.designated_required
            and self.mandatory >= self.mandatory_required
        )
        return "met" if met else "unmet"

    @property
    def remaining(self) -> float:
        return max(0.0, self.required - self.total)

    def public(self, *, badges: bool = True) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": self.name,
            "email": self.email,
            "employeeNo": self.employee_no,
            "unit": None
            if self.unit_code is None
            else {"code": self.unit_code, "name": self.unit_name, "nameKo": self.unit_name_ko},
            "grade": self.grade,
            "role": self.role,
            "year": self.year,
            "hours": _round(self.total),
            "formal": _round(self.formal),
            "informal": _round(self.informal),
            "informalCappedAway": _round(self.informal_capped),
            "designated": _round(self.designated),
            "mandatory": _round(self.mandatory),
            "required": _round(self.required),
            "designatedRequired": _round(self.designated_required),
            "mandatoryRequired": _round(self.mandatory_required),
            "status": self.status,
            "met": None if self.status == "exempt" else self.status == "met",
            "remaining": _round(self.remaining),
            "sources": [
                {"issuer": issuer, "source": source, "hours": _round(hours)}
                for (source, issuer), hours in sorted(self.sources.items())
            ],
        }
        if badges:
            found["badges"] = [b.public() for b in self.badges]
        return found

    def row(self) -> dict[str, Any]:
        here = sum(h for (source, _), h in self.sources.items() if source == "here")
        elsewhere = sum(h for (source, _), h in self.sources.items() if source == "shared")
        return {
            "employee_no": self.employee_no or "",
            "name": self.name or "",
            "email": self.email or "",
            "unit_code": self.unit_code or "",
            "unit_name": self.unit_name or "",
            "grade": self.grade or "",
            "role": self.role or "",
            "year": self.year,
            "hours": _cell(self.total),
            "formal": _cell(self.formal),
            "informal": _cell(self.informal),
            "informal_capped": _cell(self.informal_capped),
            "designated": _cell(self.designated),
            "mandatory": _cell(self.mandatory),
            "required": _cell(self.required),
            "designated_required": _cell(self.designated_required),
            "mandatory_required": _cell(self.mandatory_required),
            "status": self.status,
            "remaining": _cell(self.remaining),
            "hours_here": _cell(here),
            "hours_shared": _cell(elsewhere),
            "issuers": "; ".join(
                f"{issuer} ({source}): {_cell(hours)}"
                for (source, issuer), hours in sorted(self.sources.items())
            ),
        }


@dataclass
class UnitSummary:
    code: str | None
    name: str | None
    name_ko: str | None
    members: int = 0
    required: int = 0
    met: int = 0
    hours: float = 0.0

    @property
    def share_met(self) -> float | None:
        """The share of members with a requirement who met it (``None``: nobody has one)."""
        return self.met / self.required if self.required else None

    @property
    def average(self) -> float:
        return self.hours / self.members if self.members else 0.0

    def public(self) -> dict[str, Any]:
        share = self.share_met
        return {
            "unit": None
            if self.code is None
            else {"code": self.code, "name": self.name, "nameKo": self.name_ko},
            "members": self.members,
            "withRequirement": self.required,
            "met": self.met,
            "percentMet": None if share is None else round(100 * share, 1),
            "averageHours": _round(self.average),
        }


@dataclass
class Report:
    org: str
    year: int
    rules: Rules
    members: list[MemberHours]

    def units(self) -> list[UnitSummary]:
        """Per unit (members listed directly in it; ``None``: members without a unit)."""
        found: dict[str | None, UnitSummary] = {}
        for member in self.members:
            summary = found.setdefault(
                member.unit_code,
                UnitSummary(member.unit_code, member.unit_name, member.unit_name_ko),
            )
            summary.members += 1
            summary.hours += member.total
            if member.status != "exempt":
                summary.required += 1
                summary.met += member.status == "met"
        return sorted(found.values(), key=lambda s: (s.code is None, s.code or ""))

    def public(self, *, badges: bool = True) -> dict[str, Any]:
        return {
            "org": self.org,
            "year": self.year,
            "units": [u.public() for u in self.units()],
            "members": [m.public(badges=badges) for m in self.members],
        }

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(record(m.row()) for m in self.members)
        return buffer.getvalue()


def informal_category(tags: Iterable[str]) -> str | None:
    """The informal category a badge's tags give (``mentoring`` or ``informal:mentoring``), if
    any; an ``informal:<x>`` tag of a category not in ``INFORMAL_CATEGORIES`` is ``x`` (with no
    cap in the default rules, so it counts nothing)."""
    for tag in tags:
        if tag in INFORMAL_CATEGORIES:
            return tag
        if tag.startswith(INFORMAL_PREFIX) and len(tag) > len(INFORMAL_PREFIX):
            return tag[len(INFORMAL_PREFIX) :]
    return None


def report(
    session: Session,
    services: Services,
    org: Organisation,
    year: int,
    *,
    unit: str | None = None,
    grade: str | None = None,
    status: str | None = None,
    learners: Iterable[int] | None = None,
) -> Report:
    """The hours of every current member (or ``learners`` among them) in ``year``; ``unit``
    (a unit's code: it and the units below it), ``grade`` and ``status`` filter the members."""
    if not 1900 <= year <= 9999:
        raise BadRequest("the year lies between 1900 and 9999")
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status is one of {', '.join(STATUSES)}")
    rules = load(org.rules)
    catalogue = _Known.of(shared(services.cache))
    units = {u.id: u for u in session.exec(select(OrgUnit).where(OrgUnit.org_id == org.id)) if u.id}
    roster = members(session, org)
    if learners is not None:
        wanted = set(learners)
        roster = [m for m in roster if m.learner_id in wanted]
    if unit is not None:
        inside = _subtree(units, unit)
        roster = [m for m in roster if m.unit_id in inside]
    if grade is not None:
        roster = [m for m in roster if _grade(m.grade) == _grade(grade)]
    badges: dict[int, list[Held]] = {}
    if roster:
        for item in held(session, org, [m.learner_id for m in roster]):
            if item.valid_from.year == year:
                badges.setdefault(item.learner_id, []).append(item)
    emails = _emails(session, org, [m.learner_id for m in roster])
    found = [
        _member(m, year, rules, catalogue, units, badges.get(m.learner_id, []), emails)
        for m in roster
    ]
    if status is not None:
        found = [m for m in found if m.status == status]
    found.sort(key=lambda m: (m.unit_code or "\uffff", m.name or "", m.email or ""))
    return Report(org.slug, year, rules, found)


def _member(
    member: OrgMember,
    year: int,
    rules: Rules,
    catalogue: _Known,
    units: dict[int, OrgUnit],
    items: list[Held],
    emails: dict[int, str],
) -> MemberHours:
    unit = units.get(member.unit_id) if member.unit_id is not None else None
    required = rules.required_for(member.grade)
    result = MemberHours(
        learner_id=member.learner_id,
        name=member.name,
        email=emails.get(member.learner_id),
        employee_no=member.employee_no,
        unit_code=unit.code if unit else None,
        unit_name=unit.name if unit else None,
        unit_name_ko=unit.name_ko if unit else None,
        grade=member.grade,
        role=member.role,
        year=year,
        required=required,
        designated_required=rules.designated_share * required if required > 0 else 0.0,
        mandatory_required=rules.mandatory_hours if required > 0 else 0.0,
    )
    designations = _designations(rules, units, unit)
    mandatory_tags = set(rules.mandatory_tags)
    informal_room = rules.informal_share * (required if required > 0 else NO_REQUIREMENT_BASE)
    category_room = dict(rules.informal_caps)
    for item in items:  # held() gives them in date order
        tags = _tags(item, catalogue)
        category = informal_category(tags)
        if item.achievement_key is not None and item.achievement_key in catalogue.completion_keys:
            kind, counted = "completion", 0.0
        elif category is not None:
            room = min(category_room.get(category, 0.0), informal_room)
            counted = min(item.hours, max(0.0, room))
            category_room[category] = category_room.get(category, 0.0) - counted
            informal_room -= counted
            result.informal += counted
            result.informal_capped += item.hours - counted
            kind = f"informal:{category}"
        else:
            kind, counted = "formal", item.hours
            result.formal += counted
        designated = bool(
            (item.achievement_key is not None and item.achievement_key in designations)
            or designations & set(tags)
        )
        mandatory = bool(mandatory_tags & set(tags))
        if kind != "completion":
            result.designated += counted if designated else 0.0
            result.mandatory += counted if mandatory else 0.0
            if counted:
                where = (item.source, item.issuer_name)
                result.sources[where] = result.sources.get(where, 0.0) + counted
        result.badges.append(
            Counted(
                credential=item.credential_ref,
                name=item.achievement_name,
                issuer=item.issuer_name,
                source=item.source,
                hours=item.hours,
                counted=counted,
                kind=kind,
                designated=designated and kind != "completion",
                mandatory=mandatory and kind != "completion",
            )
        )
    return result


@dataclass(frozen=True)
class _Known:
    """What the report needs of the catalogue, looked up once."""

    completion_keys: frozenset[str]
    areas: dict[str, str]

    @classmethod
    def of(cls, catalogue: Catalogue) -> _Known:
        return cls(catalogue.completion_keys, {a.key: a.badge_area for a in catalogue.achievements})


def _tags(item: Held, catalogue: _Known) -> list[str]:
    """The badge's achievement tags, and for a catalogue badge its badge area."""
    achievement = item.document.get("credentialSubject", {}).get("achievement", {})
    raw = achievement.get("tag", []) if isinstance(achievement, dict) else []
    tags = [t for t in raw if isinstance(t, str)] if isinstance(raw, list) else []
    if item.achievement_key in catalogue.areas:
        tags.append(catalogue.areas[item.achievement_key])
    return tags


def _designations(rules: Rules, units: dict[int, OrgUnit], unit: OrgUnit | None) -> set[str]:
    """What is designated for ``unit``: its own, every unit's above it, and ``"*"``."""
    found = set(rules.designated.get("*", []))
    seen: set[int] = set()
    while unit is not None and unit.id not in seen:
        assert unit.id is not None
        seen.add(unit.id)
        found |= set(rules.designated.get(unit.code, []))
        unit = units.get(unit.parent_id) if unit.parent_id is not None else None
    return found


def _subtree(units: dict[int, OrgUnit], code: str) -> set[int]:
    """The ids of the unit ``code`` and every unit below it."""
    roots = {i for i, u in units.items() if u.code == code}
    if not roots:
        raise NotFound(f"no unit {code!r}")
    inside = set(roots)
    grew = True
    while grew:
        below = {i for i, u in units.items() if u.parent_id in inside and i not in inside}
        inside |= below
        grew = bool(below)
    return inside


def _grade(value: str | None) -> str | None:
    return None if value is None else value.strip().removesuffix("급").casefold()


def _emails(session: Session, org: Organisation, learners: list[int]) -> dict[int, str]:
    """The address the organisation knows each member by (its roster's, else the one its home
    issuer's badges went to: ``people.emails.known_emails``), else her primary one (an old
    roster row with no email, for a member the issuer never addressed): never an address only
    another issuer knows when the organisation has one of its own (audit 11)."""
    if not learners:
        return {}
    found = known_emails(session, org.issuer_id, learners) if org.issuer_id is not None else {}
    rows = session.exec(
        select(LearnerEmail)
        .where(col(LearnerEmail.learner_id).in_(sorted(set(learners) - set(found))))
        .order_by(col(LearnerEmail.is_primary).desc(), col(LearnerEmail.id))
    )
    for row in rows:
        found.setdefault(row.learner_id, row.email)
    return found


def _round(value: float) -> float:
    return round(value + 0.0, 2)


def _cell(value: float) -> int | float:
    """A number for a CSV cell: ``82``, not ``82.0``."""
    rounded = _round(value)
    return int(rounded) if rounded.is_integer() else rounded


def set_rules(session: Session, org: Organisation, rules: Rules, actor: str) -> None:
    """Replace ``org``'s rules (stored without the defaults), on the audit chain."""
    from issuer.core import audit

    org.rules = rules.model_dump(mode="json", exclude_defaults=True)
    session.add(org)
    audit.append(session, actor, "org.rules", f"org:{org.slug}", org.rules)


# The annual badge -----------------------------------------------------------------------------


def evaluate(
    session: Session,
    services: Services,
    org: Organisation,
    year: int,
    learners: Iterable[int] | None = None,
    actor: str = "orgs.hours",
) -> list[str]:
    """Issue, in ``session``, the annual badge to every member (or ``learners`` among them) who
    met ``year``'s rule and does not hold it for that year; returns the new credential ids.
    Nothing when the rules name no annual badge or the home issuer does not offer it.
    Idempotent: the badge's idempotency key is ``annual:{org}:{learner}:{year}``
    (``_annual_key``)."""
    from issuer.issuing.issuance import issue
    from issuer.schemas import IssueRequest

    rules = load(org.rules)
    home = session.get(Issuer, org.issuer_id)
    if rules.annual_badge is None or home is None or home.id is None:
        return []
    offered = session.exec(
        select(Achievement.id).where(
            Achievement.issuer_id == home.id, Achievement.key == rules.annual_badge
        )
    ).first()
    if offered is None:
        return []
    now = datetime.now(UTC)
    if year > now.year:
        return []
    found = report(session, services, org, year, learners=learners)
    issued: list[str] = []
    for member in found.members:
        if member.status != "met" or member.email is None:
            continue
        key = _annual_key(session, home.id, org, member.learner_id, year)
        if key is None or _holds_annual(
            session, services, org, member.learner_id, year, rules.annual_badge, home
        ):
            continue
        body: dict[str, Any] = {
            "recipient": {"email": member.email},
            "achievement": rules.annual_badge,
            "narrative": f"Met {org.name}'s learning-hours rule for {year}: "
            f"{_round(member.total)} hours of {_round(member.required)} required.",
        }
        if year < now.year:  # counts for the year it recognises
            body["validFrom"] = f"{year}-12-31T23:59:59Z"
        result = issue(
            session,
            services,
            home.slug,
            IssueRequest.model_validate(body),
            idempotency_key=key,
            actor=actor,
        )
        if result.created:
            issued.append(result.credential.id)
    return issued


def _annual_key(
    session: Session, issuer_id: int, org: Organisation, learner: int, year: int
) -> str | None:
    """The idempotency key to issue ``learner``'s annual badge of ``year`` under; None when a
    badge of hers holds it (also a revoked one: it is not issued again).

    The key names her by id, and a badge of another learner can hold it: one that moved to
    another account when the learner it was issued to was merged into it, while SQLite gave that
    id again (before migration 0022). That badge is not hers; she gets the next key (``…:2``),
    and the fallback is counted and logged."""
    from issuer.issuing.issuance import find_by_key

    base = ANNUAL_KEY.format(org=org.slug, learner=learner, year=year)
    number = 1
    while True:
        key = base if number == 1 else f"{base}:{number}"
        holder = find_by_key(session, issuer_id, key)
        if holder is None:
            return key
        if holder.learner_id == learner:
            return None
        metrics.fallback(
            "key_taken",
            "the annual badge key %s is held by credential %s of learner %s, not learner %s's",
            key,
            holder.id,
            holder.learner_id,
            learner,
        )
        number += 1


def _holds_annual(
    session: Session,
    services: Services,
    org: Organisation,
    learner: int,
    year: int,
    key: str,
    home: Issuer,
) -> bool:
    """Whether the member already holds the annual badge from the home issuer for ``year``
    (issued by hand, say)."""
    return any(
        item.achievement_key == key
        and item.source == "here"
        and item.issuer_ref == home.did
        and item.valid_from.year == year
        for item in held(session, org, [learner])
    )


def organisations_for(session: Session, learner: int, issuer_id: int) -> list[Organisation]:
    """The organisations ``learner`` is a current member of whose badges ``issuer_id``'s count
    for (its home issuer or a trusted one here that agreed)."""
    orgs = session.exec(
        select(Organisation)
        .join(OrgMember, col(OrgMember.org_id) == col(Organisation.id))
        .where(OrgMember.learner_id == learner, col(OrgMember.left_at).is_(None))
    )
    found = []
    for org in orgs:
        trusted = (
            org.issuer_id == issuer_id
            or session.exec(
                select(OrgTrust.id).where(
                    OrgTrust.org_id == org.id,
                    OrgTrust.issuer_id == issuer_id,
                    col(OrgTrust.agreed_at).is_not(None),
                )
            ).first()
        )
        if trusted:
            found.append(org)
    return found


EFFECT = ORG_HOURS


def handle(session: Session, services: Services, payload: dict[str, Any]) -> None:
    """The ``orgs.hours`` effect (``issuer.effects``)."""
    learner = int(payload["learner"])
    for org in organisations_for(session, learner, int(payload["issuer"])):
        for year in sorted({int(y) for y in payload.get("years", [])}):
            if 1900 <= year <= 9999:
                evaluate(session, services, org, year, [learner])
