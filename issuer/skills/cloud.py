"""The skills cloud: learner profiles and the organisation's cloud, summed in the database over
``credential_skill`` (one row per alignment of a valid credential, written at issuance; weights and
recency in ``issuer.skills.weights``), a year ago and now, per group, with the rising-importance
overlay. A learner's profile counts only **valid** credentials (not revoked, not expired).
Equivalent codes (``issuer.skills.equivalence``) are one skill; ECQ competencies roll up to their
ECQ. The *evidence level* of a skill needs accumulated evidence (``LEVELS``): a single 6-hour
module is level 1; an assessed result on a badge gives the level instead (``basis``
"assessed"). Thin and growing skills are relative to the group (``thresholds``). Every number is
explained in docs/skills.md, "The skills picture".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, distinct, exists, func, literal, null, or_, text, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from issuer.models import (
    CredentialSkill,
    Issuer,
    LearnerGroup,
    SkillSpan,
    SkillSpanDay,
)
from issuer.models.base import table_of
from issuer.skills import spans
from issuer.skills.equivalence import SkillMap
from issuer.skills.weights import decay

SkillKey = tuple[str, str]


LEVELS = (3.0, 6.0, 10.0, 16.0)
"""The evidence a level needs: level 1 from any evidence, level 2 from a weight of 3 (about two
day-long courses, or a 40-hour certificate), 3 from 6, 4 from 10 and 5 from 16 (docs/skills.md)."""
THIN_SHARE = 0.10
"""A skill is thin when fewer than this share of the group's learners hold it…"""
THIN_PERCENTILE = 20
"""…or fewer than the 20th percentile (nearest rank) of the learners per skill held."""


@dataclass
class SkillEntry:
    framework: str
    code: str
    name: str
    weight: float = 0.0
    assessed: int | None = None
    """The proficiency (1-5) an assessed result on a badge gives, the highest if several."""
    codes: tuple[SkillKey, ...] = ()
    """Every (framework, code) of the skill when frameworks list it more than once."""

    @property
    def evidence_level(self) -> int:
        return level(self.weight)

    @property
    def level(self) -> int:
        """The assessed proficiency if a badge gives one, else the evidence level."""
        return self.assessed if self.assessed else self.evidence_level

    @property
    def basis(self) -> str:
        return "assessed" if self.assessed else "evidence"


def level(weight: float) -> int:
    """The evidence level of a summed weight: 0 without evidence, then 1 + the thresholds of
    ``LEVELS`` it reaches (a single 6-hour module, weight 1.56, is level 1)."""
    return 0 if weight <= 0 else 1 + sum(weight >= threshold for threshold in LEVELS)


def _skill_map() -> SkillMap:
    from issuer.skills.equivalence import bundled

    return bundled()


def _per_credential(table: Any, smap: SkillMap, *conditions: Any) -> Any:
    """Skill rows with equivalent codes merged: one row per credential and canonical skill (its
    largest weight), so that a badge aligned to both codes of one skill counts once. Only rows
    with a code of some equivalence are grouped; the rest pass through as they are (the group
    by over every row doubled the cloud's time)."""
    merged_codes = sorted({c for keys in smap.codes.values() for _, c in keys})
    framework, code = smap.sql(table.c.framework, table.c.code)
    plain = sa_select(
        table.c.learner_id.label("learner_id"),
        table.c.framework.label("framework"),
        table.c.code.label("code"),
        table.c.name.label("name"),
        table.c.scaled_weight.label("scaled_weight"),
        table.c.assessed_level.label("assessed_level"),
        table.c.issued_at.label("issued_at"),
        table.c.valid_until.label("valid_until"),
        table.c.revoked_at.label("revoked_at"),
    ).where(*conditions)
    if not merged_codes:
        return plain.subquery()
    merged = (
        sa_select(
            table.c.learner_id,
            framework,
            code,
            func.max(table.c.name),
            func.max(table.c.scaled_weight),
            func.max(table.c.assessed_level),
            table.c.issued_at,
            table.c.valid_until,
            table.c.revoked_at,
        )
        .where(*conditions, table.c.code.in_(merged_codes))
        .group_by(
            table.c.credential_id,
            table.c.learner_id,
            framework,
            code,
            table.c.issued_at,
            table.c.valid_until,
            table.c.revoked_at,
        )
    )
    plain = plain.where(table.c.code.not_in(merged_codes))
    return union_all(plain, merged).subquery()


def raw_codes(codes: Iterable[str], smap: SkillMap) -> list[str]:
    """Codes with every equivalent code of theirs (to narrow a scan of the stored rows)."""
    wanted = set(codes)
    found = set(wanted)
    for keys in smap.codes.values():
        if wanted & {code for _, code in keys}:
            found |= {code for _, code in keys}
    return sorted(found)


def profiles(
    session: Session,
    issuer: Issuer | None,
    at: datetime | None = None,
    *,
    learners: Iterable[int] | None = None,
    codes: Iterable[str] | None = None,
    issuer_ids: Iterable[int] | None = None,
) -> dict[int, dict[SkillKey, SkillEntry]]:
    """Learners' skills (learner id -> skill -> entry) from their credentials valid at ``at``
    (default now), summed in the database: one row per learner and skill comes back, equivalent
    codes merged under the canonical one. ``learners`` and ``codes`` narrow the scan (one
    learner's gap, the skills a team needs); ``issuer`` None sums the credentials of every issuer
    (a learner's own wallet) or of ``issuer_ids`` (an organisation's trusted issuers)."""
    at = at or datetime.now(UTC)
    smap = _skill_map()
    table = table_of(CredentialSkill)
    conditions = [valid_at(table, at)]
    if issuer is not None:
        conditions.append(table.c.issuer_id == issuer.id)
    elif issuer_ids is not None:
        conditions.append(table.c.issuer_id.in_(list(issuer_ids)))
    if learners is not None:
        conditions.append(table.c.learner_id.in_(list(learners)))
    if codes is not None:
        conditions.append(table.c.code.in_(raw_codes(codes, smap)))
    rows = _per_credential(table, smap, *conditions)
    query = sa_select(
        rows.c.learner_id,
        rows.c.framework,
        rows.c.code,
        func.max(rows.c.name),
        func.sum(rows.c.scaled_weight),
        func.max(rows.c.assessed_level),
    ).group_by(rows.c.learner_id, rows.c.framework, rows.c.code)
    factor = decay(at)
    _no_jit(session)
    result: dict[int, dict[SkillKey, SkillEntry]] = defaultdict(dict)
    for learner, framework, code, name, scaled, assessed in session.execute(query):
        key = (framework, code)
        result[learner][key] = SkillEntry(
            framework, code, name, scaled * factor, assessed, smap.all_codes(key)
        )
    return result


COLUMNS = ("framework", "code", "name", "weight", "held", "weight_then", "held_then")


def _scan_select(rows: Any, at: datetime, before: datetime, framework: Any, code: Any) -> Any:
    """Per skill, from alignment rows: weight and distinct learners now and a year before."""
    now_valid, then_valid = valid_at(rows, at), valid_at(rows, before)
    values = (
        framework,
        code,
        func.max(rows.c.name),
        func.sum(case((now_valid, rows.c.scaled_weight), else_=0.0)),
        func.count(distinct(case((now_valid, rows.c.learner_id)))),
        func.sum(case((then_valid, rows.c.scaled_weight), else_=0.0)),
        func.count(distinct(case((then_valid, rows.c.learner_id)))),
    )
    labelled = [value.label(name) for value, name in zip(values, COLUMNS, strict=True)]
    return sa_select(*labelled).group_by(framework, code)


def _span_select(kind: str, at: datetime, before: datetime, *conditions: Any, sign: int = 1) -> Any:
    """Per skill, from ``skill_span``: the same figures, counting the spans that contain each
    time (a learner's spans of one skill do not overlap: no distinct count). ``sign`` -1: the
    figures taken away (a named learner's stale spans), without names."""
    span = table_of(SkillSpan)
    now_valid, then_valid = _within(span, at), _within(span, before)
    values = (
        span.c.framework,
        span.c.code,
        func.max(case((or_(now_valid, then_valid), span.c.name))) if sign > 0 else null(),
        sign * func.sum(case((now_valid, span.c.weight), else_=0.0)),
        sign * func.sum(case((now_valid, 1), else_=0)),
        sign * func.sum(case((then_valid, span.c.weight), else_=0.0)),
        sign * func.sum(case((then_valid, 1), else_=0)),
    )
    labelled = [value.label(name) for value, name in zip(values, COLUMNS, strict=True)]
    return (
        sa_select(*labelled)
        .where(span.c.kind == kind, span.c.starts_at <= at, *conditions)
        .group_by(span.c.framework, span.c.code)
    )


def _within(span: Any, at: datetime) -> Any:
    return and_(span.c.starts_at <= at, or_(span.c.ends_at.is_(None), span.c.ends_at > at))


def _midnight(at: datetime) -> datetime:
    return datetime.combine(at.astimezone(UTC).date(), time(0), UTC)


def _day_select(kind: str, issuer_id: int, at: datetime, before: datetime) -> Any:
    """Per skill, from ``skill_span_day``: what every span that started or ended before the day
    of ``at`` (of ``before``) adds up to at that time."""
    days = table_of(SkillSpanDay)
    now_day, then_day = days.c.day < _midnight(at).date(), days.c.day < _midnight(before).date()
    values = (
        days.c.framework,
        days.c.code,
        func.max(days.c.name),
        func.sum(case((now_day, days.c.weight), else_=0.0)),
        func.sum(case((now_day, days.c.learners), else_=0)),
        func.sum(case((then_day, days.c.weight), else_=0.0)),
        func.sum(case((then_day, days.c.learners), else_=0)),
    )
    labelled = [value.label(name) for value, name in zip(values, COLUMNS, strict=True)]
    return (
        sa_select(*labelled)
        .where(days.c.issuer_id == issuer_id, days.c.kind == kind, now_day)
        .group_by(days.c.framework, days.c.code)
    )


def _today_select(kind: str, issuer_id: int, at: datetime, before: datetime) -> Any:
    """Per skill, the spans that started or ended on the day of ``at`` (of ``before``) up to that
    time: what ``_day_select`` leaves out (read through the start and end indexes)."""
    span = table_of(SkillSpan)

    def inside(column: Any, until: datetime) -> Any:
        return and_(column >= _midnight(until), column <= until)

    starts, ends = inside(span.c.starts_at, at), inside(span.c.ends_at, at)
    starts_then, ends_then = inside(span.c.starts_at, before), inside(span.c.ends_at, before)

    def net(started: Any, ended: Any, value: Any, zero: Any) -> Any:
        return func.sum(case((started, value), else_=zero)) - func.sum(
            case((ended, value), else_=zero)
        )

    values = (
        span.c.framework,
        span.c.code,
        func.max(case((starts, span.c.name))),
        net(starts, ends, span.c.weight, 0.0),
        net(starts, ends, 1, 0),
        net(starts_then, ends_then, span.c.weight, 0.0),
        net(starts_then, ends_then, 1, 0),
    )
    labelled = [value.label(name) for value, name in zip(values, COLUMNS, strict=True)]
    return (
        sa_select(*labelled)
        .where(
            span.c.issuer_id == issuer_id,
            span.c.kind == kind,
            or_(starts, ends, starts_then, ends_then),
        )
        .group_by(span.c.framework, span.c.code)
    )


def _from_spans(
    session: Session,
    kind: str,
    issuer_id: int,
    at: datetime,
    before: datetime,
    filtered: list[Any],
) -> tuple[list[Any], Any]:
    """The selects that give the figures of ``kind`` from the spans, and the learners to count
    from their alignment rows instead (None: no one; else a subquery of the learners the log
    names). ``filtered``: conditions on ``skill_span`` for a group or a roster (the per-day
    sums cover only the whole issuer)."""
    span = table_of(SkillSpan)
    named = spans.named(issuer_id)
    stale = session.execute(sa_select(exists(named))).scalar_one()
    if filtered:
        outside = [span.c.learner_id.not_in(named)] if stale else []
        mine = span.c.issuer_id == issuer_id
        return [_span_select(kind, at, before, mine, *filtered, *outside)], named if stale else None
    parts = [_day_select(kind, issuer_id, at, before), _today_select(kind, issuer_id, at, before)]
    if not stale:
        return parts, None
    theirs = (span.c.issuer_id == issuer_id, span.c.learner_id.in_(named))
    return [*parts, _span_select(kind, at, before, *theirs, sign=-1)], named


def _cloud_rows(session: Session, *parts: Any) -> list[tuple[Any, ...]]:
    """The per-skill figures of several selects over disjoint sets of learners, added up."""
    if len(parts) == 1:
        query = parts[0]
    else:
        rows = union_all(*parts).subquery()
        query = sa_select(
            rows.c.framework,
            rows.c.code,
            func.max(rows.c.name),
            func.sum(rows.c.weight),
            func.sum(rows.c.held),
            func.sum(rows.c.weight_then),
            func.sum(rows.c.held_then),
        ).group_by(rows.c.framework, rows.c.code)
    return [
        (framework, code, name, float(w or 0), int(n or 0), float(wt or 0), int(nt or 0))
        for framework, code, name, w, n, wt, nt in session.execute(query)
    ]


def _entry(
    framework: str,
    code: str,
    name: str,
    weights: tuple[float, float],
    learners: tuple[int, int],
    smap: SkillMap,
) -> dict[str, Any]:
    weight, weight_then = weights
    return {
        "framework": framework,
        "code": code,
        "name": name,
        "codes": [{"framework": f, "code": c} for f, c in smap.all_codes((framework, code))],
        "weight": round(weight, 3),
        "learners": learners[0],
        "yearAgo": {"weight": round(weight_then, 3), "learners": learners[1]},
        "change": {
            "weight": round(weight - weight_then, 3),
            "learners": learners[0] - learners[1],
        },
    }


def organisation_cloud(
    session: Session,
    issuer: Issuer | None,
    at: datetime | None = None,
    group: str | None = None,
    *,
    issuer_ids: Iterable[int] | None = None,
    learners: Iterable[int] | None = None,
    rollup: bool = False,
) -> list[dict[str, Any]]:
    """Weight and number of learners per skill at ``at`` (default now), heaviest first, with the
    same a year earlier (``yearAgo``) and the ``change``; equivalent codes merged (``codes``
    lists them). ``group`` limits it to the learners in that group (a department) of ``issuer``;
    ``issuer_ids`` (with ``issuer`` None) sums several issuers' credentials and ``learners``
    limits it to some people (an organisation's roster). ``rollup``: instead, one entry per
    parent competency (an ECQ), its weight its own plus its competencies' weights, its learners
    those who hold it or any of them, with ``children`` (the codes)."""
    at = at or datetime.now(UTC)
    before = at - timedelta(days=365)
    smap = _skill_map()
    table = table_of(CredentialSkill)
    span = table_of(SkillSpan)
    conditions = [table.c.issued_at <= at]
    filtered: list[Any] = []
    if issuer is not None:
        conditions.append(table.c.issuer_id == issuer.id)
    elif issuer_ids is not None:
        conditions.append(table.c.issuer_id.in_(list(issuer_ids)))
    if group is not None and issuer is not None:
        members = select(LearnerGroup.learner_id).where(
            LearnerGroup.issuer_id == issuer.id, LearnerGroup.name == group
        )
        conditions.append(table.c.learner_id.in_(members))
        filtered.append(span.c.learner_id.in_(members))
    if learners is not None:
        chosen = list(learners)
        conditions.append(table.c.learner_id.in_(chosen))
        filtered.append(span.c.learner_id.in_(chosen))
    if rollup:  # only the rows that can roll up: a parent's framework, or a code merged into it
        frameworks = sorted({parent[0] for parent in smap.parent.values()})
        aliases = sorted(c for (_, c), target in smap.canonical.items() if target[0] in frameworks)
        conditions.append(or_(table.c.framework.in_(frameworks), table.c.code.in_(aliases)))
    _no_jit(session)
    kind = spans.ROLLUP if rollup else spans.SKILL
    parts: list[Any] = []
    scan = True
    if issuer is not None and issuer.id is not None and spans.current(session, smap):
        parts, named = _from_spans(session, kind, issuer.id, at, before, filtered)
        scan = named is not None
        if scan:  # the learners whose spans are out of date: from their rows
            conditions.append(table.c.learner_id.in_(named))
    if scan:
        rows = _per_credential(table, smap, *conditions)
        keys = _rollup_keys(rows, smap) if rollup else (rows.c.framework, rows.c.code)
        parts.insert(0, _scan_select(rows, at, before, *keys))
    figures = _cloud_rows(session, *parts)
    factors = (decay(at), decay(before))
    if rollup:
        return _rollup(figures, smap, factors)
    cloud = []
    for framework, code, name, scaled, held, scaled_then, held_then in figures:
        if not held and not held_then:
            continue
        weights = (scaled * factors[0], scaled_then * factors[1])
        cloud.append(_entry(framework, code, name, weights, (held, held_then), smap))
    return sorted(cloud, key=lambda e: (-e["weight"], e["framework"], e["code"]))


def _rollup_keys(rows: Any, smap: SkillMap) -> tuple[Any, Any]:
    """A competency's row counted under its parent (an ECQ)."""
    whens = [
        (and_(rows.c.framework == f, rows.c.code == c), (pf, pc))
        for (f, c), (pf, pc) in smap.parent.items()
    ]
    if not whens:
        return rows.c.framework, rows.c.code
    framework = case(*[(cond, up[0]) for cond, up in whens], else_=rows.c.framework)
    code = case(*[(cond, up[1]) for cond, up in whens], else_=rows.c.code)
    return framework, code


def _rollup(
    figures: list[tuple[Any, ...]], smap: SkillMap, factors: tuple[float, float]
) -> list[dict[str, Any]]:
    parents = sorted(set(smap.parent.values()))
    if not parents:
        return []
    found = {}
    for fw, cd, _name, scaled, held, scaled_then, held_then in figures:
        if (fw, cd) in parents and (held or held_then):
            found[(fw, cd)] = (scaled * factors[0], scaled_then * factors[1], held, held_then)
    names = _names()
    result = []
    for key in parents:
        if key not in found:
            continue
        weight, weight_then, held, held_then = found[key]
        entry = _entry(
            key[0], key[1], names.get(key, key[1]), (weight, weight_then), (held, held_then), smap
        )
        entry["children"] = [c for _, c in smap.children(key)]
        result.append(entry)
    return result


def _names() -> dict[SkillKey, str]:
    from issuer.skills.equivalence import bundled_catalogue

    return {(f.id, s.code): s.name for f in bundled_catalogue().frameworks for s in f.skills}


def _no_jit(session: Session) -> None:
    """PostgreSQL's JIT compiles these aggregates for longer than they then run (~0.4 s of a
    1.5 s cloud over two million rows); off for this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def valid_at(table: Any, at: datetime) -> Any:
    """The SQL condition: the credential behind a skill row was valid at ``at``."""
    return and_(
        table.c.issued_at <= at,
        or_(table.c.revoked_at.is_(None), table.c.revoked_at > at),
        or_(table.c.valid_until.is_(None), table.c.valid_until > at),
    )


def learner_emails(session: Session, issuer: Issuer, learner_ids: Iterable[int]) -> dict[int, str]:
    """The email ``issuer`` knows each learner by (``credentials.known_emails``), never her
    primary: that may be an address only another issuer knows."""
    from issuer.people.emails import known_emails

    assert issuer.id is not None
    return known_emails(session, issuer.id, learner_ids)


def percentile(values: list[int], share: int) -> int:
    """The nearest-rank percentile: the smallest value with ``share`` % of values at or below."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share / 100 * len(ordered))) - 1] if ordered else 0


def median(values: list[int]) -> float:
    ordered, half = sorted(values), len(values) // 2
    if not ordered:
        return 0.0
    return float(ordered[half]) if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def thresholds(cloud: list[dict[str, Any]], population: int) -> dict[str, Any]:
    """The relative cut-offs for a group of ``population`` learners (docs/skills.md): a skill is
    thin when no one holds it or fewer than ``thinBelow`` learners do, the larger of 10 % of the
    group and the 20th percentile of learners per skill held; growing when it gained more
    learners over the year than the median skill (``medianGrowth``) and at least one."""
    held = [item["learners"] for item in cloud if item["learners"] > 0]
    share = THIN_SHARE * population
    cut = percentile(held, THIN_PERCENTILE)
    return {
        "population": population,
        "thinShare": THIN_SHARE,
        "thinPercentile": THIN_PERCENTILE,
        "percentileLearners": cut,
        "thinBelow": round(max(share, float(cut)), 3),
        "medianGrowth": median([item["change"]["learners"] for item in cloud]),
    }


def mark(cloud: list[dict[str, Any]], cuts: dict[str, Any]) -> None:
    """Flag each entry ``thin`` and ``growing`` by the group's ``cuts``."""
    for item in cloud:
        growth = item["change"]["learners"]
        item["thin"] = item["learners"] == 0 or item["learners"] < cuts["thinBelow"]
        item["growing"] = growth > cuts["medianGrowth"] and growth > 0


def rising_overlay(
    cloud: list[dict[str, Any]], framework: Any, thin: float = 3
) -> list[dict[str, Any]]:
    """AI competency model skills whose importance rises (future rank better than current) and
    that the group is thin in (no one, or fewer than ``thin``: ``thresholds()["thinBelow"]``), most
    important first. A skill merged with an equivalent one counts its learners under either code."""
    held: dict[str, int] = {}
    for item in cloud:
        for key in item.get("codes") or [{"framework": item["framework"], "code": item["code"]}]:
            if key["framework"] == framework.id:
                held[key["code"]] = item["learners"]
    rising = []
    for skill in framework.skills:
        now, future = skill.importance_current, skill.importance_future
        if future is None or (now is not None and future >= now):
            continue
        learners = held.get(skill.code, 0)
        if learners == 0 or learners < thin:
            rising.append(
                {
                    "framework": framework.id,
                    "code": skill.code,
                    "name": skill.name,
                    "importanceCurrent": now,
                    "importanceFuture": future,
                    "learners": learners,
                }
            )
    return sorted(rising, key=lambda item: (item["importanceFuture"], item["code"]))


def population(
    session: Session, issuer: Issuer, group: str | None, at: datetime | None = None
) -> int:
    """The learners a cloud is about: the group's members, or everyone holding a valid skill
    row from ``issuer``."""
    if group is not None:
        query = sa_select(func.count(distinct(table_of(LearnerGroup).c.learner_id))).where(
            table_of(LearnerGroup).c.issuer_id == issuer.id,
            table_of(LearnerGroup).c.name == group,
        )
        return int(session.execute(query).scalar_one())
    at = at or datetime.now(UTC)
    table = table_of(CredentialSkill)
    scanned = sa_select(func.count(distinct(table.c.learner_id))).where(
        table.c.issuer_id == issuer.id, valid_at(table, at)
    )
    if issuer.id is None or not spans.current(session, _skill_map()):
        return int(session.execute(scanned).scalar_one())
    parts, named = _from_spans(session, spans.ANY, issuer.id, at, at, [])
    if named is not None:
        held = scanned.where(table.c.learner_id.in_(named)).scalar_subquery()
        values: tuple[Any, ...] = (
            literal(""),
            literal(""),
            null(),
            literal(0.0),
            held,
            literal(0.0),
            literal(0),
        )
        parts.append(sa_select(*[v.label(n) for v, n in zip(values, COLUMNS, strict=True)]))
    return sum(row[4] for row in _cloud_rows(session, *parts))


def cloud_report(
    session: Session, services: Any, issuer: Issuer, group: str | None = None
) -> dict[str, Any]:
    """The organisation's (or one group's) cloud with ``thin``/``growing`` flags and the
    ``thresholds`` behind them, the ECQ ``rollup`` and the rising-importance overlay."""
    from issuer.people.groups import normalized, require_group
    from issuer.skills.frameworks import catalogue

    if group is not None:
        group = normalized(group)
        require_group(session, issuer, group)
    if issuer.id is not None:
        spans.bring_up_to_date(services.engine, issuer.id, _skill_map(), most=spans.CHUNK)
    cloud = organisation_cloud(session, issuer, group=group)
    cuts = thresholds(cloud, population(session, issuer, group))
    mark(cloud, cuts)
    rollup = organisation_cloud(session, issuer, group=group, rollup=True)
    overlay = rising_overlay(
        cloud, catalogue(services).framework("ai-competency"), cuts["thinBelow"]
    )
    return {
        "group": group,
        "skills": cloud,
        "rollup": rollup,
        "thresholds": cuts,
        "rising": overlay,
    }


def cloud_words(cloud: list[dict[str, Any]], limit: int = 150) -> list[Any]:
    """The heaviest skills held now, as words for the cloud picture."""
    from issuer.artifacts.cloud import Word

    held = [s for s in cloud if s["learners"] > 0][:limit]
    return [Word(s["name"], s["weight"], s["framework"]) for s in held]
