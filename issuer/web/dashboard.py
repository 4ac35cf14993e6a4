"""The issuer dashboard: the organisation's skills cloud (by group, with the change over a
year and the rising-importance overlay) and a learner's levels against a target profile.
Staff sign in with an API key of their institute (``read`` scope); the session lives in an
HTTP-only cookie and reaches the pages as ``StaffSession``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import LaurelError
from issuer.http.cookies import STAFF_COOKIE, check_form, clear_cookie, set_cookie
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.sessions import StaffForm, StaffSession
from issuer.models import ApiKey, Issuer
from issuer.people import groups, signin
from issuer.web.render import NO_STORE, form_before_sign_in, render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _issuer(db: Session, staff: StaffSession) -> Issuer:
    key = db.get(ApiKey, staff.id)
    issuer = db.get(Issuer, key.issuer_id) if key else None
    assert issuer is not None  # the session's key exists (signin.find_session checks)
    return issuer


def _login_page(
    request: Request, services: Services, status: int = 200, error: str | None = None
) -> Response:
    return form_before_sign_in(
        request, services, "dashboard_login.html", status, error=error, home="/dashboard"
    )


@router.get("/dashboard/login")
def login_form(request: Request, services: ServicesDep) -> Response:
    return _login_page(request, services)


@router.post("/dashboard/login")
def login(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        check_form(request, services, csrf, None)
        started = signin.staff_sign_in(db, api_key)
    except LaurelError as exc:
        return _login_page(request, services, exc.status, exc.detail)
    response = RedirectResponse("/dashboard", status_code=303)
    set_cookie(response, services, STAFF_COOKIE, started.token, started.lifetime)
    return response


@router.post("/dashboard/logout")
def logout(request: Request, services: ServicesDep, db: SessionDep, staff: StaffForm) -> Response:
    signin.end_session(db, request.cookies.get(STAFF_COOKIE))
    response = RedirectResponse("/dashboard/login", status_code=303)
    clear_cookie(response, services, STAFF_COOKIE)
    return response


@router.get("/dashboard")
def dashboard(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    staff: StaffSession,
    group: str | None = None,
    email: str | None = None,
    target: str | None = None,
) -> Response:
    issuer = _issuer(db, staff)
    context = _overview(db, services, issuer, group or None, email or None, target or None)
    return render(
        request,
        services,
        "dashboard.html",
        200 if context["error"] is None else 404,
        issuer=issuer,
        csrf=staff.csrf,
        home="/dashboard",
        **context,
    )


def _overview(
    db: Session,
    services: Services,
    issuer: Issuer,
    group: str | None,
    email: str | None,
    target: str | None,
) -> dict[str, Any]:
    from issuer.reports.gaps import gap, targets
    from issuer.skills.cloud import cloud_report

    error = None
    known = groups.listing(db, issuer)
    if group is not None and group not in {g["name"] for g in known}:
        error, group = f"there is no group {group!r} at this institute", None
    report = cloud_report(db, services, issuer, group)
    learner = None
    if email and target:
        try:
            learner = gap(db, services, issuer, email, target)
        except LaurelError as exc:
            error = exc.detail
    return {
        "groups": known,
        "group": group,
        "cloud": report["skills"],
        "rising": report["rising"],
        "targets": sorted((t["id"], t["name"]) for t in targets(services).values()),
        "email": email,
        "target": target,
        "gap": learner,
        "error": error,
    }


@router.get("/dashboard/skills.svg")
def cloud_picture(
    services: ServicesDep, db: SessionDep, staff: StaffSession, group: str | None = None
) -> Response:
    from issuer.artifacts.cloud import cloud_svg
    from issuer.skills.cloud import cloud_report, cloud_words

    report = cloud_report(db, services, _issuer(db, staff), group or None)
    return Response(
        cloud_svg(cloud_words(report["skills"])), media_type="image/svg+xml", headers=NO_STORE
    )


@router.get("/dashboard/gaps.svg")
def gap_picture(
    services: ServicesDep, db: SessionDep, staff: StaffSession, email: str, target: str
) -> Response:
    from issuer.artifacts.cloud import profile_bars_svg
    from issuer.reports.gaps import gap

    answer = gap(db, services, _issuer(db, staff), email, target)
    rows = [(item["skill"], item["level"], item["levelWanted"]) for item in answer["levels"]]
    return Response(
        profile_bars_svg(answer["name"], rows), media_type="image/svg+xml", headers=NO_STORE
    )
