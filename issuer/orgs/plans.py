"""Development plans (the study, section 4.2.1): a yearly Individual Development Plan per member
of an organisation, an Executive Development Plan (ECQ objectives only) for an executive.

- **Seeding.** The objectives are the target profile's skills (``badge_templates/targets``) the
  person is below: their level now as the skills picture reads it (``issuer.skills.cloud``:
  evidence levels, assessed results, equivalent codes as one skill) over the issuers the
  organisation trusts (``issuer.orgs.trusted_here``), against the level wanted. Each objective
  not already covered by another's activity gets one suggested activity: the best of
  ``suggestions`` (a trusted issuer's offer first, a primary alignment, more of the plan's
  objectives closed, then the gap report's ranking).
- **Signing.** The person signs, then the supervisor (the member's unit's, walking up the
  department tree; whoever is signed in with that email). Any edit after a signature clears
  both: the plan the supervisor signed is the plan that stands.
- **Progress** is computed whenever the plan is read: an activity is done when the person holds
  (``issuer.orgs.held``) a badge of its achievement issued within the plan's year, or was marked
  done by hand; an objective is met when the level now reaches the level wanted.
- **Review.** The supervisor closes a signed plan after its year, or earlier once every activity
  is done, with a text and an outcome per objective; what was done is then frozen on the plan.

Creating, finding and progress are here; changes, signatures and the review in
``issuer.orgs.plan_changes``; exports in ``issuer.orgs.plan_export``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import BadRequest, Conflict, NotFound
from issuer.models import (
    Achievement,
    DevelopmentPlan,
    Organisation,
    OrgMember,
    OrgUnit,
    PlanActivity,
    PlanObjective,
)
from issuer.models.base import utcnow
from issuer.orgs import Held, held, trusted_here
from issuer.skills.cloud import SkillEntry, SkillKey, profiles

EXECUTIVE_TARGET = "ses-ecq"
"""An EDP's target when none is named: the Senior Executive Service's ECQs."""
ECQ = "ecq"


def year_span(year: int) -> tuple[datetime, datetime]:
    """The plan year as [1 January, next 1 January) in UTC."""
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def row_id(value: int | None) -> int:
    """A stored row's id (it has one once added and flushed)."""
    assert value is not None
    return value


# --- who --------------------------------------------------------------------------------------


def _member(
    session: Session, org: Organisation, learner_id: int, *, current: bool = True
) -> OrgMember | None:
    query = select(OrgMember).where(OrgMember.org_id == org.id, OrgMember.learner_id == learner_id)
    if current:
        query = query.where(col(OrgMember.left_at).is_(None))
    return session.exec(query).first()


def member_of(session: Session, org: Organisation, learner_id: int) -> OrgMember:
    """The person's current roster entry (404 when they are not, or no longer, on it)."""
    found = _member(session, org, learner_id)
    if found is None:
        raise NotFound(f"this person is not on the roster of {org.slug!r}")
    return found


def supervisor_of(session: Session, member: OrgMember, own: Iterable[str] = ()) -> str | None:
    """The supervisor's email: the member's unit's, else the nearest parent unit's that is not
    the member themself (``own``: the member's emails; a unit head is signed for above)."""
    mine = {email.lower() for email in own}
    unit_id, seen = member.unit_id, set()
    while unit_id is not None and unit_id not in seen:
        seen.add(unit_id)
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            break
        email = (unit.supervisor_email or "").strip().lower()
        if email and email not in mine:
            return email
        unit_id = unit.parent_id
    return None


def profile(
    session: Session, org: Organisation, learner_id: int, at: datetime | None = None
) -> dict[SkillKey, SkillEntry]:
    """The person's skills from every issuer on this Laurel the organisation trusts, as the skills
    picture reads them (``issuer.skills.cloud.profiles``: equivalent codes are one skill under its
    canonical key, an assessed result gives the level)."""
    issuers = sorted(trusted_here(session, org))
    return profiles(session, None, at, learners=[learner_id], issuer_ids=issuers).get(
        learner_id, {}
    )


def level_in(have: dict[SkillKey, SkillEntry], framework: str, code: str) -> int:
    """The level of a target's skill in a profile (under its canonical key), 0 when absent."""
    from issuer.skills.equivalence import bundled

    entry = have.get(bundled().canon((framework, code))) or have.get((framework, code))
    return entry.level if entry is not None else 0


# --- creating ---------------------------------------------------------------------------------


def create(
    session: Session,
    services: Services,
    org: Organisation,
    learner_id: int,
    year: int,
    target_id: str | None = None,
    *,
    career_goal: str = "",
    emails: Iterable[str] = (),
    now: datetime | None = None,
) -> DevelopmentPlan:
    """A draft plan for ``year``, its objectives seeded from the gap to ``target_id`` (an
    executive's EDP: the ECQ competencies of it, ``ses-ecq`` by default) and one suggested
    activity per objective not already covered by another's."""
    from issuer.skills.frameworks import catalogue
    from issuer.skills.targets import target

    member = member_of(session, org, learner_id)
    kind = "EDP" if member.executive else "IDP"
    wanted = target(services, target_id or (EXECUTIVE_TARGET if member.executive else ""))
    skills = [s for s in wanted["skills"] if kind == "IDP" or s["framework"] == ECQ]
    if not skills:
        raise BadRequest(f"an EDP is built on the ECQs; target {wanted['id']!r} names none")
    if find_plan(session, org, learner_id, year) is not None:
        raise Conflict(f"there is already a development plan for {year}")
    at = min(now or utcnow(), year_span(year)[1])
    have = profile(session, org, learner_id, at)
    plan = DevelopmentPlan(
        org_id=row_id(org.id),
        learner_id=learner_id,
        year=year,
        kind=kind,
        target=wanted["id"],
        career_goal=clean_text(career_goal, 4000, "the career goal"),
        supervisor_email=supervisor_of(session, member, emails),
    )
    session.add(plan)
    session.flush()
    data = catalogue(services)
    objectives = []
    for skill in skills:
        key = (skill["framework"], skill["code"])
        now_level = level_in(have, *key)
        if now_level >= int(skill["level"]):
            continue
        objective = PlanObjective(
            plan_id=row_id(plan.id),
            framework=key[0],
            code=key[1],
            name=data.skill(*key).name,
            level_wanted=int(skill["level"]),
            level_at_start=now_level,
        )
        session.add(objective)
        objectives.append(objective)
    session.flush()
    _seed_activities(session, services, org, plan, objectives)
    return plan


def _seed_activities(
    session: Session,
    services: Services,
    org: Organisation,
    plan: DevelopmentPlan,
    objectives: list[PlanObjective],
) -> None:
    covered: set[tuple[str, str]] = set()
    chosen = suggestions(session, services, org, plan, objectives)
    for objective in objectives:
        if (objective.framework, objective.code) in covered:
            continue
        options = chosen.get(objective.id or 0, [])
        if not options:
            continue
        best = options[0]
        covered |= set(best["covers"])
        session.add(
            PlanActivity(
                plan_id=row_id(plan.id),
                objective_id=objective.id,
                title=best["name"],
                achievement_key=best["key"],
            )
        )
    session.flush()


def suggestions(
    session: Session,
    services: Services,
    org: Organisation,
    plan: DevelopmentPlan,
    objectives: list[PlanObjective],
    limit: int = 3,
) -> dict[int, list[dict[str, Any]]]:
    """Per objective id, the catalogue achievements that would close its competency for the
    plan's target, ranked as the gap report ranks them (``issuer.skills.recommend``: primary
    alignment, fit to the target, programme progress, evidence added), with two preferences of a
    plan before that: those a trusted issuer offers, then those closing more of the plan's
    objectives. Achievements the person holds are left out."""
    from issuer.skills.equivalence import bundled
    from issuer.skills.recommend import recommendations, started_programmes
    from issuer.skills.targets import target

    smap = bundled()
    wanted = target(services, plan.target)
    objective_keys = {smap.canon((o.framework, o.code)): (o.framework, o.code) for o in objectives}
    keys = {h.achievement_key for h in held(session, org, [plan.learner_id]) if h.achievement_key}
    offered = offered_keys(session, org)
    aligned = _aligned(services)
    found: dict[int, list[dict[str, Any]]] = {}
    for objective in objectives:
        key = smap.canon((objective.framework, objective.code))
        ranked = recommendations(
            services, key, wanted, keys, started=started_programmes(services, keys)
        )
        options = []
        for rank, option in enumerate(ranked):
            covers = sorted(
                objective_keys[k] for k in aligned.get(option["key"], set()) if k in objective_keys
            )
            options.append(
                {
                    "key": option["key"],
                    "name": option["nameEn"],
                    "name_ko": option["nameKo"],
                    "hours": option["hours"],
                    "offered": option["key"] in offered,
                    "covers": covers,
                    "match": option["match"],
                    "rank": rank,
                }
            )
        options.sort(
            key=lambda o: (not o["offered"], o["match"] != "primary", -len(o["covers"]), o["rank"])
        )
        found[objective.id or 0] = options[:limit]
    return found


def _aligned(services: Services) -> dict[str, set[SkillKey]]:
    """Per catalogue achievement, the canonical keys of the skills it is aligned to."""
    from issuer.skills.equivalence import bundled
    from issuer.skills.frameworks import catalogue

    smap = bundled()
    return {
        t.key: {smap.canon((a.framework, a.code)) for a in t.alignments}
        for t in catalogue(services).achievements
    }


def offered_keys(session: Session, org: Organisation) -> set[str]:
    """Achievement keys that the organisation's trusted issuers on this Laurel offer."""
    issuers = sorted(trusted_here(session, org))
    return set(session.exec(select(Achievement.key).where(col(Achievement.issuer_id).in_(issuers))))


# --- finding ----------------------------------------------------------------------------------


def find_plan(
    session: Session, org: Organisation, learner_id: int, year: int
) -> DevelopmentPlan | None:
    return session.exec(
        select(DevelopmentPlan).where(
            DevelopmentPlan.org_id == org.id,
            DevelopmentPlan.learner_id == learner_id,
            DevelopmentPlan.year == year,
        )
    ).first()


def plan_of(session: Session, org: Organisation, learner_id: int, year: int) -> DevelopmentPlan:
    found = find_plan(session, org, learner_id, year)
    if found is None:
        raise NotFound(f"there is no development plan for {year}")
    return found


def plan_by_id(session: Session, org: Organisation, plan_id: int) -> DevelopmentPlan:
    found = session.get(DevelopmentPlan, plan_id)
    if found is None or found.org_id != org.id:
        raise NotFound(f"there is no development plan {plan_id} in {org.slug!r}")
    return found


def plans(session: Session, org: Organisation, year: int) -> list[DevelopmentPlan]:
    return list(
        session.exec(
            select(DevelopmentPlan)
            .where(DevelopmentPlan.org_id == org.id, DevelopmentPlan.year == year)
            .order_by(col(DevelopmentPlan.id))
        )
    )


def objectives_of(session: Session, plan: DevelopmentPlan) -> list[PlanObjective]:
    return list(
        session.exec(
            select(PlanObjective)
            .where(PlanObjective.plan_id == plan.id)
            .order_by(col(PlanObjective.id))
        )
    )


def activities_of(session: Session, plan: DevelopmentPlan) -> list[PlanActivity]:
    return list(
        session.exec(
            select(PlanActivity)
            .where(PlanActivity.plan_id == plan.id)
            .order_by(col(PlanActivity.id))
        )
    )


def awaiting(session: Session, emails: Iterable[str]) -> list[DevelopmentPlan]:
    """Plans whose supervisor is one of ``emails`` and that are not closed yet, newest first."""
    mine = sorted({e.lower() for e in emails})
    if not mine:
        return []
    return list(
        session.exec(
            select(DevelopmentPlan)
            .where(
                col(DevelopmentPlan.supervisor_email).in_(mine),
                DevelopmentPlan.state != "reviewed",
            )
            .order_by(col(DevelopmentPlan.year).desc(), col(DevelopmentPlan.id))
        )
    )


def clean_text(value: str, limit: int, what: str, *, required: bool = False) -> str:
    text = value.strip()
    if required and not text:
        raise BadRequest(f"{what} is empty")
    if len(text) > limit:
        raise BadRequest(f"{what} is longer than {limit} characters")
    if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        raise BadRequest(f"{what} has control characters")
    return text


# --- progress -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveView:
    objective: PlanObjective
    level_now: int

    @property
    def met(self) -> bool:
        return self.level_now >= self.objective.level_wanted

    @property
    def percent(self) -> int:
        """How far from the level at the start to the level wanted (0-100)."""
        start, wanted = self.objective.level_at_start, self.objective.level_wanted
        if wanted <= start:
            return 100
        return max(0, min(100, round(100 * (self.level_now - start) / (wanted - start))))


@dataclass(frozen=True)
class ActivityView:
    activity: PlanActivity
    done_at: datetime | None
    credential_ref: str | None
    issuer_name: str | None


@dataclass(frozen=True)
class PlanView:
    plan: DevelopmentPlan
    member: OrgMember | None
    objectives: list[ObjectiveView]
    activities: list[ActivityView]

    @property
    def done(self) -> int:
        return sum(1 for a in self.activities if a.done_at is not None)

    @property
    def all_done(self) -> bool:
        return bool(self.activities) and self.done == len(self.activities)

    @property
    def met(self) -> int:
        return sum(1 for o in self.objectives if o.met)


def view(
    session: Session,
    services: Services,
    org: Organisation,
    plan: DevelopmentPlan,
    now: datetime | None = None,
) -> PlanView:
    """The plan with its progress now: activities done by a badge of their achievement issued
    within the plan's year (or by hand), objectives' levels from the trusted issuers' badges."""
    now = now or utcnow()
    start, end = year_span(plan.year)
    at = min(now, end)
    badges = held(session, org, [plan.learner_id], at=now)
    have = profile(session, org, plan.learner_id, at)
    activities = [_progress(a, badges, start, end) for a in activities_of(session, plan)]
    objectives = [
        ObjectiveView(o, level_in(have, o.framework, o.code)) for o in objectives_of(session, plan)
    ]
    member = _member(session, org, plan.learner_id, current=False)
    return PlanView(plan, member, objectives, activities)


def _progress(
    activity: PlanActivity, badges: list[Held], start: datetime, end: datetime
) -> ActivityView:
    if activity.done_at is not None:
        return ActivityView(activity, activity.done_at, activity.credential_ref, None)
    for badge in badges:  # sorted by valid_from: the first badge of the year completes it
        if badge.achievement_key == activity.achievement_key and start <= badge.valid_from < end:
            return ActivityView(activity, badge.valid_from, badge.credential_ref, badge.issuer_name)
    return ActivityView(activity, None, None, None)
