"""Development plans in the wallet: the person's plan of the year (``/wallet/plan``: create it
from a target, plan activities with dates and costs, sign) and the supervisor's pages
(``/wallet/plans/review``: the plans of their people awaiting a signature or the year-end
review). A supervisor is whoever is signed in to the wallet with the email their department
names (``OrgUnit.supervisor_email``). English and Korean; no JavaScript."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import BadRequest, LaurelError, NotFound
from issuer.http.cookies import language
from issuer.http.deps import ServicesDep, SessionDep, WriteSessionDep
from issuer.http.sessions import LearnerForm, LearnerSession, SignedIn
from issuer.models import DevelopmentPlan, Organisation, OrgMember
from issuer.orgs import plan_changes as changes
from issuer.orgs import plans
from issuer.wallet.badges import emails as verified_emails
from issuer.web.render import wallet_page as page

router = APIRouter(tags=["pages"], include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**62)]
Field = Annotated[str, Form(max_length=4000)]
OrgQuery = Annotated[str | None, Query(max_length=64)]
YearQuery = Annotated[int | None, Query(ge=2000, le=2999)]


def _this_year() -> int:
    return datetime.now(UTC).year


def _memberships(db: Session, learner_id: int) -> list[Organisation]:
    rows = db.exec(
        select(Organisation)
        .join(OrgMember, col(OrgMember.org_id) == col(Organisation.id))
        .where(OrgMember.learner_id == learner_id, col(OrgMember.left_at).is_(None))
        .order_by(col(Organisation.slug))
    )
    return list(rows)


def _org(db: Session, learner_id: int, slug: str | None) -> Organisation | None:
    mine = _memberships(db, learner_id)
    if slug:
        found = next((o for o in mine if o.slug == slug), None)
        if found is None:
            raise NotFound(f"you are not on the roster of {slug!r}")
        return found
    return mine[0] if mine else None


def _labels(services: Services, lang: str) -> list[tuple[str, str]]:
    from issuer.skills.targets import target_label, targets

    return sorted((t["id"], target_label(t, lang)) for t in targets(services).values())


def _context(
    db: Session, services: Services, org: Organisation, plan: DevelopmentPlan, lang: str
) -> dict[str, Any]:
    """What the plan's partial shows: the plan with its progress now, names in ``lang``."""
    from issuer.skills.frameworks import catalogue

    data = catalogue(services)
    shown = plans.view(db, services, org, plan)
    objectives = [o.objective for o in shown.objectives]
    skill = {
        o.objective.id: data.skill_label(
            o.objective.framework, o.objective.code, lang, o.objective.name
        )
        for o in shown.objectives
    }
    return {
        "org": org,
        "shown": shown,
        "target_name": _target_name(services, plan.target, lang),
        "skill": skill,
        "suggested": plans.suggestions(db, services, org, plan, objectives),
    }


def _target_name(services: Services, target_id: str, lang: str) -> str:
    from issuer.skills.targets import target_label, targets

    found = targets(services).get(target_id)
    return target_id if found is None else target_label(found, lang)


# --- the person's plan --------------------------------------------------------------------


@router.get("/wallet/plan")
def plan_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerSession,
    org: OrgQuery = None,
    year: YearQuery = None,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return _plan_page(request, services, db, signed, org, year or _this_year(), done=done)


def _plan_page(
    request: Request,
    services: Services,
    db: Session,
    signed: SignedIn,
    slug: str | None,
    year: int,
    status: int = 200,
    **extra: Any,
) -> Response:
    lang = language(request)
    found = _org(db, signed.id, slug)
    context: dict[str, Any] = {"orgs": _memberships(db, signed.id), "year": year, **extra}
    if found is not None:
        member = plans.member_of(db, found, signed.id)
        plan = plans.find_plan(db, found, signed.id, year)
        context |= {"org": found, "executive": member.executive}
        if plan is not None:
            context |= _context(db, services, found, plan, lang)
    return page(
        request,
        services,
        "wallet_plan.html",
        status,
        session=signed,
        targets=_labels(services, lang),
        **context,
    )


def _back(org: Organisation, year: int, done: str) -> Response:
    return RedirectResponse(f"/wallet/plan?org={org.slug}&year={year}&done={done}", 303)


def _mine(db: Session, signed: SignedIn, slug: str, year: int) -> tuple[Organisation, Any]:
    found = _org(db, signed.id, slug)
    if found is None:
        raise NotFound("you are not on an organisation's roster")
    return found, plans.plan_of(db, found, signed.id, year)


def _year(value: str) -> int:
    if not (value.isdigit() and len(value) == 4):
        raise BadRequest("the year is four digits")
    return int(value)


def _failed(
    request: Request,
    services: Services,
    db: Session,
    signed: SignedIn,
    slug: str,
    year: str,
    exc: LaurelError,
) -> Response:
    db.rollback()
    chosen = int(year) if year.isdigit() and len(year) == 4 else _this_year()
    try:
        return _plan_page(
            request, services, db, signed, slug or None, chosen, exc.status, error=exc.detail
        )
    except LaurelError:
        raise exc from None


@router.post("/wallet/plan")
def create_plan(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    org: Annotated[str, Form(max_length=64)] = "",
    year: Annotated[str, Form(max_length=4)] = "",
    target: Annotated[str, Form(max_length=100)] = "",
    career_goal: Field = "",
) -> Response:
    try:
        found = _org(db, signed.id, org or None)
        if found is None:
            raise NotFound("you are not on an organisation's roster")
        chosen = _year(year)
        plans.create(
            db,
            services,
            found,
            signed.id,
            chosen,
            target or None,
            career_goal=career_goal,
            emails=verified_emails(db, signed.id),
        )
    except LaurelError as exc:
        return _failed(request, services, db, signed, org, year, exc)
    return _back(found, chosen, "created")


@router.post("/wallet/plan/goal")
def set_goal(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    org: Annotated[str, Form(max_length=64)] = "",
    year: Annotated[str, Form(max_length=4)] = "",
    career_goal: Field = "",
) -> Response:
    try:
        found, plan = _mine(db, signed, org, _year(year))
        changes.set_goal(db, plan, career_goal)
    except LaurelError as exc:
        return _failed(request, services, db, signed, org, year, exc)
    return _back(found, plan.year, "saved")


def _activity(
    title: str, objective: str, achievement: str, starts: str, ends: str, cost: str, currency: str
) -> changes.ActivityInput:
    def day(value: str, what: str) -> date | None:
        try:
            return date.fromisoformat(value) if value.strip() else None
        except ValueError:
            raise BadRequest(f"the {what} date is not a date like 2026-03-01") from None

    try:
        amount = float(cost.replace(",", "")) if cost.strip() else 0.0
    except ValueError:
        raise BadRequest("the cost is an amount like 150000") from None
    if objective.strip() and not objective.strip().isdigit():
        raise BadRequest("choose an objective from the list")
    return changes.ActivityInput(
        title=title,
        objective_id=int(objective) if objective.strip() else None,
        achievement_key=achievement.strip() or None,
        starts_on=day(starts, "start"),
        ends_on=day(ends, "end"),
        cost=amount,
        currency=currency or "KRW",
    )


Short = Annotated[str, Form(max_length=300)]


@router.post("/wallet/plan/activities")
def add_activity(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    org: Annotated[str, Form(max_length=64)] = "",
    year: Annotated[str, Form(max_length=4)] = "",
    title: Short = "",
    objective: Short = "",
    achievement: Short = "",
    starts_on: Short = "",
    ends_on: Short = "",
    cost: Short = "",
    currency: Short = "KRW",
) -> Response:
    try:
        found, plan = _mine(db, signed, org, _year(year))
        given = _activity(title, objective, achievement, starts_on, ends_on, cost, currency)
        changes.add_activity(db, services, found, plan, given)
    except LaurelError as exc:
        return _failed(request, services, db, signed, org, year, exc)
    return _back(found, plan.year, "saved")


@router.post("/wallet/plan/activities/{activity_id}")
def edit_activity(
    activity_id: Id,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    org: Annotated[str, Form(max_length=64)] = "",
    year: Annotated[str, Form(max_length=4)] = "",
    action: Annotated[str, Form(max_length=10)] = "save",
    title: Short = "",
    objective: Short = "",
    achievement: Short = "",
    starts_on: Short = "",
    ends_on: Short = "",
    cost: Short = "",
    currency: Short = "KRW",
) -> Response:
    try:
        found, plan = _mine(db, signed, org, _year(year))
        if action == "delete":
            changes.remove_activity(db, plan, activity_id)
        elif action == "done":
            changes.mark_done(db, plan, activity_id)
        else:
            given = _activity(title, objective, achievement, starts_on, ends_on, cost, currency)
            changes.edit_activity(db, services, found, plan, activity_id, given)
    except LaurelError as exc:
        return _failed(request, services, db, signed, org, year, exc)
    return _back(found, plan.year, "saved")


@router.post("/wallet/plan/sign")
def sign(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    org: Annotated[str, Form(max_length=64)] = "",
    year: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    try:
        found, plan = _mine(db, signed, org, _year(year))
        changes.sign_as_person(db, found, plan, signed.id, verified_emails(db, signed.id))
    except LaurelError as exc:
        return _failed(request, services, db, signed, org, year, exc)
    return _back(found, plan.year, "signed")


@router.get("/wallet/plan/export.{kind}")
def export(
    kind: str,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerSession,
    org: OrgQuery = None,
    year: YearQuery = None,
) -> Response:
    found, plan = _mine(db, signed, org or "", year or _this_year())
    return _export(db, services, found, plan, kind)


def _export(
    db: Session, services: Services, org: Organisation, plan: DevelopmentPlan, kind: str
) -> Response:
    import json

    from issuer.issuing.credentials import primary_emails as learner_emails
    from issuer.orgs.plan_export import as_dict, csv_text

    email = learner_emails(db, [plan.learner_id]).get(plan.learner_id)
    shown = plans.view(db, services, org, plan)
    name = f"plan-{org.slug}-{plan.year}-{plan.id}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if kind == "csv":
        return Response(
            csv_text([(shown, email)]), media_type="text/csv; charset=utf-8", headers=headers
        )
    if kind == "json":
        body = json.dumps(as_dict(shown, email), ensure_ascii=False, indent=2)
        return Response(body, media_type="application/json", headers=headers)
    raise NotFound("a plan is exported as export.csv or export.json")


# --- the supervisor's pages ---------------------------------------------------------------


@router.get("/wallet/plans/review")
def review_list(
    request: Request, services: ServicesDep, db: SessionDep, signed: LearnerSession
) -> Response:
    from issuer.wallet.orgs import org_emails

    waiting = plans.awaiting(db, verified_emails(db, signed.id))
    people: dict[int, str] = {}
    for plan in waiting:  # as each organisation knows the person (audit 11)
        org = db.get(Organisation, plan.org_id)
        if org is not None and plan.learner_id not in people:
            people.update(org_emails(db, org, [plan.learner_id]))
    names = {
        m.learner_id: m.name
        for m in db.exec(
            select(OrgMember).where(
                col(OrgMember.learner_id).in_(sorted(people)),
                col(OrgMember.org_id).in_(sorted({p.org_id for p in waiting})),
            )
        )
    }
    rows = [
        {"plan": p, "email": people.get(p.learner_id), "name": names.get(p.learner_id)}
        for p in waiting
    ]
    return page(request, services, "wallet_plans_review.html", session=signed, rows=rows)


def _supervised(
    db: Session, signed: SignedIn, plan_id: int
) -> tuple[Organisation, DevelopmentPlan, list[str]]:
    mine = verified_emails(db, signed.id)
    plan = db.get(DevelopmentPlan, plan_id)
    if plan is None or (plan.supervisor_email or "").lower() not in {e.lower() for e in mine}:
        raise NotFound("there is no plan of yours to sign or review with that number")
    org = db.get(Organisation, plan.org_id)
    assert org is not None
    return org, plan, mine


@router.get("/wallet/plans/{plan_id}")
def supervised_page(
    plan_id: Id,
    request: Request,
    services: ServicesDep,
    db: WriteSessionDep,
    signed: LearnerSession,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return _supervised_page(request, services, db, signed, plan_id, done=done)


def _supervised_page(
    request: Request,
    services: Services,
    db: Session,
    signed: SignedIn,
    plan_id: int,
    status: int = 200,
    **extra: Any,
) -> Response:
    from issuer.people.access import record
    from issuer.wallet.orgs import org_emails

    org, plan, _ = _supervised(db, signed, plan_id)
    email = org_emails(db, org, [plan.learner_id]).get(plan.learner_id)
    record(db, org.issuer_id, f"supervisor:{plan.supervisor_email}", "plan.view", email or "")
    context = _context(db, services, org, plan, language(request))
    return page(
        request,
        services,
        "wallet_plan_supervisor.html",
        status,
        session=signed,
        email=email,
        reviewable=plan.state == "signed"
        and (datetime.now(UTC) >= plans.year_span(plan.year)[1] or context["shown"].all_done),
        **context,
        **extra,
    )


@router.post("/wallet/plans/{plan_id}/sign")
def supervisor_sign(
    plan_id: Id, request: Request, services: ServicesDep, db: SessionDep, signed: LearnerForm
) -> Response:
    try:
        _, plan, mine = _supervised(db, signed, plan_id)
        changes.sign_as_supervisor(db, plan, mine)
    except LaurelError as exc:
        db.rollback()
        return _supervised_page(
            request, services, db, signed, plan_id, exc.status, error=exc.detail
        )
    return RedirectResponse(f"/wallet/plans/{plan_id}?done=signed", 303)


@router.post("/wallet/plans/{plan_id}/review")
def supervisor_review(
    plan_id: Id,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    review: Annotated[str, Form(max_length=8000)] = "",
    objective: Annotated[list[str] | None, Form(max_length=100)] = None,
    outcome: Annotated[list[str] | None, Form(max_length=100)] = None,
) -> Response:
    """The year-end review: ``objective`` and ``outcome`` are parallel lists, one pair per
    objective of the plan."""
    try:
        ids, texts = objective or [], outcome or []
        if len(ids) != len(texts) or not all(i.isdigit() for i in ids):
            raise BadRequest("give one outcome per objective")
        org, plan, mine = _supervised(db, signed, plan_id)
        changes.review(
            db, services, org, plan, mine, review, dict(zip(map(int, ids), texts, strict=True))
        )
    except LaurelError as exc:
        db.rollback()
        return _supervised_page(
            request, services, db, signed, plan_id, exc.status, error=exc.detail
        )
    return RedirectResponse(f"/wallet/plans/{plan_id}?done=reviewed", 303)


@router.get("/wallet/plans/{plan_id}/export.{kind}")
def supervised_export(
    plan_id: Id, kind: str, services: ServicesDep, db: SessionDep, signed: LearnerSession
) -> Response:
    org, plan, _ = _supervised(db, signed, plan_id)
    return _export(db, services, org, plan, kind)
