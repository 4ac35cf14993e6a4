"""The issuer dashboard: the organisation's skills cloud (by group, with the change over a
year and the rising-importance overlay) and a learner's levels against a target profile.
Staff sign in with an API key of their institute (``read`` scope); the session lives in an
HTTP-only cookie."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from issuer.core.context import Services
from issuer.core.errors import LaurelError, Unauthorized
from issuer.http.deps import ServicesDep
from issuer.models import ApiKey, Issuer, WebSession
from issuer.people import groups, signin
from issuer.web.auth import (
    STAFF_COOKIE,
    check_form,
    clear_cookie,
    set_cookie,
)
from issuer.web.render import form_before_sign_in, render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _staff(request: Request, services: Services) -> tuple[WebSession, Issuer] | None:
    with Session(services.engine) as session:
        found = signin.find_session(session, request.cookies.get(STAFF_COOKIE), "staff")
        if found is None:
            return None
        key = session.get(ApiKey, found.api_key_id)
        issuer = session.get(Issuer, key.issuer_id) if key else None
        return (found, issuer) if issuer else None


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
    api_key: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        check_form(request, services, csrf, None)
        started = signin.staff_sign_in(services, api_key)
    except LaurelError as exc:
        return _login_page(request, services, exc.status, exc.detail)
    response = RedirectResponse("/dashboard", status_code=303)
    set_cookie(response, services, STAFF_COOKIE, started.token, started.lifetime)
    return response


@router.post("/dashboard/logout")
def logout(
    request: Request, services: ServicesDep, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    staff = _staff(request, services)
    if staff is not None:
        check_form(request, services, csrf, staff[0].csrf)
        signin.end_session(services, request.cookies.get(STAFF_COOKIE))
    response = RedirectResponse("/dashboard/login", status_code=303)
    clear_cookie(response, services, STAFF_COOKIE)
    return response


@router.get("/dashboard")
def dashboard(
    request: Request,
    services: ServicesDep,
    group: str | None = None,
    email: str | None = None,
    target: str | None = None,
) -> Response:
    staff = _staff(request, services)
    if staff is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    web_session, issuer = staff
    context = _overview(services, issuer, group or None, email or None, target or None)
    return render(
        request,
        services,
        "dashboard.html",
        200 if context["error"] is None else 404,
        issuer=issuer,
        csrf=web_session.csrf,
        home="/dashboard",
        **context,
    )


def _overview(
    services: Services, issuer: Issuer, group: str | None, email: str | None, target: str | None
) -> dict[str, Any]:
    from issuer.skills.cloud import cloud_report
    from issuer.skills.gaps import gap, targets

    error = None
    with Session(services.engine) as session:
        known = groups.listing(session, issuer)
        if group is not None and group not in {g["name"] for g in known}:
            error, group = f"there is no group {group!r} at this institute", None
        report = cloud_report(services, session, issuer, group)
        learner = None
        if email and target:
            try:
                learner = gap(services, session, issuer, email, target)
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
def cloud_picture(request: Request, services: ServicesDep, group: str | None = None) -> Response:
    from issuer.artifacts.cloud import cloud_svg
    from issuer.skills.cloud import cloud_report, cloud_words

    issuer = _issuer_or_401(request, services)
    with Session(services.engine) as session:
        words = cloud_words(cloud_report(services, session, issuer, group or None)["skills"])
    return Response(
        cloud_svg(words), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


@router.get("/dashboard/gaps.svg")
def gap_picture(request: Request, services: ServicesDep, email: str, target: str) -> Response:
    from issuer.artifacts.cloud import profile_bars_svg
    from issuer.skills.gaps import gap

    issuer = _issuer_or_401(request, services)
    with Session(services.engine) as session:
        answer = gap(services, session, issuer, email, target)
    rows = [(item["skill"], item["level"], item["levelWanted"]) for item in answer["levels"]]
    return Response(
        profile_bars_svg(answer["name"], rows),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )


def _issuer_or_401(request: Request, services: Services) -> Issuer:
    staff = _staff(request, services)
    if staff is None:
        raise Unauthorized("sign in to the dashboard first")
    return staff[1]
