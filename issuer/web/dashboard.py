"""The issuer dashboard: the organisation's skills cloud (by group, with the change over a
year, thin and growing skills, the ECQ roll-up and the rising-importance overlay), a skill's
drill-down (the badges that contributed, factor by factor), team formation and a learner's
levels against a target profile (readiness, next step).
Reached from the console: any staff member of the institute (viewer or above) with a console
session (``issuer.http.staff``); a learner's levels are a view of their data, written to the
access log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import LaurelError
from issuer.http.cookies import STAFF_COOKIE, clear_cookie, language
from issuer.http.deps import ServicesDep, SessionDep, WriteSessionDep
from issuer.http.staff import Viewer, ViewerForm
from issuer.models import Issuer
from issuer.people import access, groups, signin
from issuer.web.render import NO_STORE, render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/dashboard/login")
def login_form() -> Response:
    """Staff sign in to the console now (named accounts, not a shared API key)."""
    return RedirectResponse("/console/login", status_code=303)


@router.post("/dashboard/logout")
def logout(request: Request, services: ServicesDep, db: SessionDep, staff: ViewerForm) -> Response:
    signin.end_session(db, request.cookies.get(STAFF_COOKIE))
    response = RedirectResponse("/console/login", status_code=303)
    clear_cookie(response, services, STAFF_COOKIE)
    return response


@router.get("/dashboard")
def dashboard(
    request: Request,
    services: ServicesDep,
    db: WriteSessionDep,
    staff: Viewer,
    group: str | None = None,
    email: str | None = None,
    target: str | None = None,
    skill: str | None = None,
    who: str | None = None,
    team: Annotated[list[str] | None, Query()] = None,
    size: str | None = None,
    critical: Annotated[list[str] | None, Query()] = None,
) -> Response:
    issuer = staff.issuer
    lang = language(request)
    context = _overview(db, services, issuer, group or None, email or None, target or None, lang)
    if email and target:
        access.record(db, issuer.id, staff.actor, "learner.skills", email)
    context.update(_drill_down(db, issuer, skill, group or None, who or None, lang, context))
    if skill and who:
        access.record(db, issuer.id, staff.actor, "learner.skills", who)
    context.update(_team(db, issuer, team or [], size, critical or [], context))
    if team:
        access.record(db, issuer.id, staff.actor, "people.search", "team: " + ", ".join(team)[:300])
    return render(
        request,
        services,
        "dashboard.html",
        200 if context["error"] is None else 404,
        issuer=issuer,
        csrf=staff.csrf,
        home="/console",
        **context,
    )


def _overview(
    db: Session,
    services: Services,
    issuer: Issuer,
    group: str | None,
    email: str | None,
    target: str | None,
    lang: str = "en",
) -> dict[str, Any]:
    from issuer.reports.gaps import gap
    from issuer.skills.cloud import cloud_report
    from issuer.skills.frameworks import localised
    from issuer.skills.targets import target_label, targets

    error = None
    known = groups.listing(db, issuer)
    if group is not None and group not in {g["name"] for g in known}:
        error, group = f"there is no group {group!r} at this institute", None
    report = cloud_report(db, services, issuer, group)
    learner = None
    if email and target:
        try:
            learner = gap(db, services, issuer, email, target, lang)
        except LaurelError as exc:
            error = exc.detail
    return {
        "groups": known,
        "group": group,
        "cloud": localised(services, report["skills"], lang),
        "rollup": localised(services, report["rollup"], lang),
        "thresholds": report["thresholds"],
        "rising": localised(services, report["rising"], lang),
        "targets": sorted((t["id"], target_label(t, lang)) for t in targets(services).values()),
        "email": email,
        "target": target,
        "gap": learner,
        "error": error,
    }


def _drill_down(
    db: Session,
    issuer: Issuer,
    skill: str | None,
    group: str | None,
    who: str | None,
    lang: str,
    context: dict[str, Any],
) -> dict[str, Any]:
    """The explanation of one skill (``framework:code``) for a learner (``who``), the group
    shown, or everyone."""
    from issuer.reports.learners import learner_of
    from issuer.skills import explain

    if not skill:
        return {"explained": None, "skill": None, "who": who}
    try:
        key = explain.skill_key(skill)
        if who:
            people = [learner_of(db, issuer, who)]
        elif context["group"]:
            people = explain.group_learners(db, issuer, context["group"])
        else:
            people = explain.everyone(db, issuer)
        explained = explain.explain(db, issuer, key, people, lang=lang)
    except LaurelError as exc:
        context["error"] = exc.detail
        return {"explained": None, "skill": skill, "who": who}
    return {"explained": explained, "skill": skill, "who": who}


def _team(
    db: Session,
    issuer: Issuer,
    skills: list[str],
    size: str | None,
    critical: list[str],
    context: dict[str, Any],
) -> dict[str, Any]:
    """A team for the skills picked on the form (codes), ``size`` at most, with two holders of
    each ``critical`` skill where the pool allows."""
    from pydantic import ValidationError

    from issuer.schemas import TeamRequest
    from issuer.skills.team_api import form

    picked = [s for s in skills if s]
    answer: dict[str, Any] = {
        "team_skills": picked,
        "team_size": size or "",
        "team_critical": critical,
        "team": None,
    }
    if not picked:
        return answer
    try:
        request = TeamRequest(
            skills=list(picked),
            size=int(size) if size else None,
            critical=[c for c in critical if c in picked],
        )
    except (ValidationError, ValueError):
        context["error"] = "pick up to 50 skills and a team size from 1 to 100"
        return answer
    answer["team"] = form(db, issuer, request)
    return answer


@router.get("/dashboard/skills.svg")
def cloud_picture(
    services: ServicesDep, db: SessionDep, staff: Viewer, group: str | None = None
) -> Response:
    from issuer.artifacts.cloud import cloud_svg
    from issuer.skills.cloud import cloud_report, cloud_words

    report = cloud_report(db, services, staff.issuer, group or None)
    return Response(
        cloud_svg(cloud_words(report["skills"])), media_type="image/svg+xml", headers=NO_STORE
    )


@router.get("/dashboard/gaps.svg")
def gap_picture(
    request: Request,
    services: ServicesDep,
    db: WriteSessionDep,
    staff: Viewer,
    email: str,
    target: str,
) -> Response:
    from issuer.artifacts.cloud import profile_bars_svg
    from issuer.reports.gaps import gap

    answer = gap(db, services, staff.issuer, email, target, language(request))
    access.record(db, staff.issuer.id, staff.actor, "learner.skills", email)
    rows = [(item["skill"], item["level"], item["levelWanted"]) for item in answer["levels"]]
    return Response(
        profile_bars_svg(answer["name"], rows), media_type="image/svg+xml", headers=NO_STORE
    )
