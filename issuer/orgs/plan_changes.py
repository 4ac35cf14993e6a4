"""Changes to a development plan (``issuer.orgs.plans``): the career goal and the activities,
which clear both signatures; the person's and the supervisor's signatures; the year-end review,
which closes the plan and freezes what was done."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import BadRequest, Conflict, Forbidden, NotFound
from issuer.models import DevelopmentPlan, Organisation, PlanActivity, PlanObjective
from issuer.models.base import utcnow
from issuer.orgs.plans import (
    clean_text,
    member_of,
    objectives_of,
    offered_keys,
    row_id,
    supervisor_of,
    view,
    year_span,
)

# --- editing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityInput:
    title: str
    objective_id: int | None = None
    achievement_key: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    cost: float = 0.0
    currency: str = "KRW"


def _edited(plan: DevelopmentPlan, now: datetime | None = None) -> None:
    """A change to the plan: refused once reviewed; clears both signatures otherwise."""
    if plan.state == "reviewed":
        raise Conflict("this plan was reviewed and is closed")
    plan.signed_by_person_at = plan.signed_by_supervisor_at = None
    plan.state = "draft"
    plan.updated_at = now or utcnow()


def set_goal(session: Session, plan: DevelopmentPlan, goal: str) -> None:
    _edited(plan)
    plan.career_goal = clean_text(goal, 4000, "the career goal")
    session.add(plan)


def add_activity(
    session: Session,
    services: Services,
    org: Organisation,
    plan: DevelopmentPlan,
    given: ActivityInput,
) -> PlanActivity:
    _edited(plan)
    activity = PlanActivity(plan_id=row_id(plan.id), title="")
    _apply(session, services, org, plan, activity, given)
    session.add(activity)
    session.flush()
    return activity


def edit_activity(
    session: Session,
    services: Services,
    org: Organisation,
    plan: DevelopmentPlan,
    activity_id: int,
    given: ActivityInput,
) -> PlanActivity:
    activity = _activity(session, plan, activity_id)
    _edited(plan)
    _apply(session, services, org, plan, activity, given)
    session.add(activity)
    return activity


def remove_activity(session: Session, plan: DevelopmentPlan, activity_id: int) -> None:
    activity = _activity(session, plan, activity_id)
    _edited(plan)
    session.delete(activity)


def mark_done(
    session: Session, plan: DevelopmentPlan, activity_id: int, now: datetime | None = None
) -> None:
    """An activity no badge records (a reading, a rotation) done, by the person's word; not an
    edit of the plan, so the signatures stay."""
    activity = _activity(session, plan, activity_id)
    if plan.state == "reviewed":
        raise Conflict("this plan was reviewed and is closed")
    if activity.achievement_key:
        raise BadRequest("this activity is done when its badge arrives")
    activity.done_at = now or utcnow()
    session.add(activity)


def _activity(session: Session, plan: DevelopmentPlan, activity_id: int) -> PlanActivity:
    found = session.get(PlanActivity, activity_id)
    if found is None or found.plan_id != plan.id:
        raise NotFound(f"there is no activity {activity_id} in this plan")
    return found


def _apply(
    session: Session,
    services: Services,
    org: Organisation,
    plan: DevelopmentPlan,
    activity: PlanActivity,
    given: ActivityInput,
) -> None:
    if given.objective_id is not None:
        objective = session.get(PlanObjective, given.objective_id)
        if objective is None or objective.plan_id != plan.id:
            raise BadRequest(f"there is no objective {given.objective_id} in this plan")
    key = (given.achievement_key or "").strip() or None
    if key is not None and key not in _known_keys(session, services, org):
        raise BadRequest(
            f"{key!r} is neither a catalogue achievement nor one a trusted issuer offers"
        )
    if given.starts_on and given.ends_on and given.ends_on < given.starts_on:
        raise BadRequest("an activity cannot end before it begins")
    if not math.isfinite(given.cost) or not 0 <= given.cost < 1e12:
        raise BadRequest("the cost is an amount of 0 or more")
    currency = given.currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise BadRequest("the currency is a three-letter ISO 4217 code such as KRW or USD")
    activity.title = clean_text(given.title, 300, "the activity's title", required=True)
    activity.objective_id = given.objective_id
    if key != activity.achievement_key:  # done by the person's word, or by another course's badge
        activity.done_at, activity.credential_ref = None, None
    activity.achievement_key = key
    activity.starts_on, activity.ends_on = given.starts_on, given.ends_on
    activity.cost, activity.currency = round(given.cost, 2), currency


def _known_keys(session: Session, services: Services, org: Organisation) -> set[str]:
    from issuer.skills.frameworks import catalogue

    return {t.key for t in catalogue(services).achievements} | offered_keys(session, org)


# --- signing and reviewing ----------------------------------------------------------------------


def sign_as_person(
    session: Session,
    org: Organisation,
    plan: DevelopmentPlan,
    learner_id: int,
    emails: Iterable[str],
    now: datetime | None = None,
) -> None:
    if plan.learner_id != learner_id:
        raise Forbidden("only the plan's owner signs it as the person")
    if plan.state != "draft" or plan.signed_by_person_at is not None:
        raise Conflict("this plan is already signed")
    plan.supervisor_email = supervisor_of(session, member_of(session, org, learner_id), emails)
    if plan.supervisor_email is None:
        raise Conflict("your department has no supervisor on the roster to sign with you")
    plan.signed_by_person_at = now or utcnow()
    session.add(plan)


def _check_supervisor(plan: DevelopmentPlan, emails: Iterable[str]) -> str:
    mine = {e.lower() for e in emails}
    if plan.supervisor_email is None or plan.supervisor_email.lower() not in mine:
        raise Forbidden("only the person's supervisor signs and reviews this plan")
    return plan.supervisor_email


def sign_as_supervisor(
    session: Session, plan: DevelopmentPlan, emails: Iterable[str], now: datetime | None = None
) -> None:
    _check_supervisor(plan, emails)
    if plan.signed_by_person_at is None:
        raise Conflict("the person signs the plan first")
    if plan.state != "draft":
        raise Conflict("this plan is already signed")
    plan.signed_by_supervisor_at = now or utcnow()
    plan.state = "signed"
    session.add(plan)


def review(
    session: Session,
    services: Services,
    org: Organisation,
    plan: DevelopmentPlan,
    emails: Iterable[str],
    text: str,
    outcomes: dict[int, str],
    now: datetime | None = None,
) -> None:
    """The year-end review: by the supervisor, of a plan both signed, after its year or once
    every activity is done. What was done (and by which badge) is frozen on the activities."""
    now = now or utcnow()
    _check_supervisor(plan, emails)
    if plan.state != "signed":
        raise Conflict("a plan is reviewed once the person and the supervisor signed it")
    shown = view(session, services, org, plan, now)
    if now < year_span(plan.year)[1] and not shown.all_done:
        raise Conflict(f"the review comes after {plan.year} ends, or once every activity is done")
    objectives = {o.id: o for o in objectives_of(session, plan)}
    for objective_id, outcome in outcomes.items():
        if objective_id not in objectives:
            raise BadRequest(f"there is no objective {objective_id} in this plan")
        objectives[objective_id].outcome = clean_text(outcome, 4000, "an outcome") or None
        session.add(objectives[objective_id])
    for item in shown.activities:
        row = item.activity
        if item.done_at is not None and row.done_at is None:
            row.done_at, row.credential_ref = item.done_at, item.credential_ref
            session.add(row)
    plan.review = clean_text(text, 8000, "the review", required=True)
    plan.reviewed_at = now
    plan.state = "reviewed"
    session.add(plan)
