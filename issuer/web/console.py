"""The console's door: staff accept an invitation, sign in by emailed link, give (or enrol) their
TOTP second factor, sign out; the home page, and the owner's staff page (invite, remove, cancel
a pending invitation). Every page that needs a session takes one of ``issuer.http.staff``'s
dependencies."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from issuer.artifacts.qr import qr_svg
from issuer.core.errors import LaurelError
from issuer.http.cookies import (
    STAFF_COOKIE,
    check_form,
    clear_cookie,
    client_address,
    language,
    set_cookie,
)
from issuer.http.deps import ServicesDep, SessionDep, WriteSessionDep
from issuer.http.staff import Owner, OwnerForm, Pending, PendingForm, Viewer
from issuer.models import StaffMember
from issuer.models.staff import ROLES
from issuer.people import signin, totp
from issuer.people import staff as people
from issuer.web.render import NO_STORE, form_before_sign_in, render

router = APIRouter(tags=["pages"], include_in_schema=False)
Email = Annotated[str, Form(max_length=320)]
Code = Annotated[str, Form(max_length=20)]
Csrf = Annotated[str, Form(max_length=100)]


def _signed_in(services: ServicesDep, started: signin.Started, to: str = "/console") -> Response:
    response = RedirectResponse(to, status_code=303)
    set_cookie(response, services, STAFF_COOKIE, started.token, started.lifetime)
    return response


def _next_step(started_kind: str) -> str:
    return {people.NEEDS_CODE: "/console/mfa", people.NEEDS_ENROLMENT: "/console/mfa/setup"}.get(
        started_kind, "/console"
    )


@router.get("/console/login")
def login_form(request: Request, services: ServicesDep) -> Response:
    return form_before_sign_in(
        request, services, "console_login.html", home="/console", sso=services.settings.oidc_button
    )


@router.post("/console/login")
def ask_for_link(
    request: Request, services: ServicesDep, db: SessionDep, email: Email = "", csrf: Csrf = ""
) -> Response:
    try:
        check_form(request, services, csrf, None)
        people.request_sign_in(db, services, email, client_address(request), language(request))
    except LaurelError as exc:
        return form_before_sign_in(
            request,
            services,
            "console_login.html",
            exc.status,
            error=exc.detail,
            home="/console",
            sso=services.settings.oidc_button,
        )
    return form_before_sign_in(
        request,
        services,
        "console_login.html",
        sent=True,
        home="/console",
        sso=services.settings.oidc_button,
    )


@router.get("/console/login/{token}")
def link_form(token: str, request: Request, services: ServicesDep, db: SessionDep) -> Response:
    """The link only shows a button: mail scanners that open links do not use it up."""
    signin.check_usable(db, token, signin.STAFF_SIGN_IN)
    return form_before_sign_in(
        request,
        services,
        "console_continue.html",
        action=f"/console/login/{quote(token)}",
        title_key="console_sign_in",
        home="/console",
    )


@router.post("/console/login/{token}")
def use_link(
    token: str, request: Request, services: ServicesDep, db: SessionDep, csrf: Csrf = ""
) -> Response:
    check_form(request, services, csrf, None)
    member = people.redeem_sign_in(db, token)
    started, kind = people.start(db, services.settings, member)
    return _signed_in(services, started, _next_step(kind))


@router.get("/console/invitations/{token}")
def invitation(token: str, request: Request, services: ServicesDep, db: SessionDep) -> Response:
    found, issuer = people.pending_invitation(db, token)
    return form_before_sign_in(
        request,
        services,
        "console_continue.html",
        action=f"/console/invitations/{quote(token)}",
        title_key="console_invitation",
        invitation=found,
        issuer=issuer,
        home="/console",
    )


@router.post("/console/invitations/{token}")
def accept(
    token: str, request: Request, services: ServicesDep, db: SessionDep, csrf: Csrf = ""
) -> Response:
    check_form(request, services, csrf, None)
    member = people.accept(db, token)
    started, kind = people.start(db, services.settings, member)
    return _signed_in(services, started, _next_step(kind))


@router.get("/console/mfa")
def code_form(request: Request, services: ServicesDep, signed: Pending) -> Response:
    return render(
        request, services, "console_mfa.html", csrf=signed.csrf, home="/console", staff=signed
    )


@router.post("/console/mfa")
def give_code(
    request: Request, services: ServicesDep, db: SessionDep, signed: PendingForm, code: Code = ""
) -> Response:
    try:
        started = people.check_code(db, signed.web, signed.member, code)
    except (people.CodesLocked, people.SignInEnded) as exc:  # this sign-in has ended
        response = render(
            request, services, "console_login.html", exc.status, error=exc.detail, home="/console"
        )
        clear_cookie(response, services, STAFF_COOKIE)
        return response
    except LaurelError as exc:
        return render(
            request,
            services,
            "console_mfa.html",
            exc.status,
            csrf=signed.csrf,
            error=exc.detail,
            home="/console",
            staff=signed,
        )
    return _signed_in(services, started)


def _setup_page(
    request: Request,
    services: ServicesDep,
    signed: Pending,
    secret: str,
    status: int = 200,
    error: str | None = None,
) -> Response:
    return render(
        request,
        services,
        "console_mfa_setup.html",
        status,
        csrf=signed.csrf,
        secret=secret,
        error=error,
        home="/console",
        staff=signed,
    )


def _mine(db: Session, signed: Pending) -> StaffMember:
    """The member in this (writing) unit of work: a GET's staff check read it in another."""
    member = db.get(StaffMember, signed.member.id)
    assert member is not None
    return member


@router.get("/console/mfa/setup")
def setup_form(
    request: Request, services: ServicesDep, db: WriteSessionDep, signed: Pending
) -> Response:
    if signed.web.kind == people.NEEDS_CODE:
        return RedirectResponse("/console/mfa", status_code=303)
    return _setup_page(request, services, signed, people.enrolment_secret(db, _mine(db, signed)))


@router.get("/console/mfa/setup/qr.svg")
def setup_qr(db: WriteSessionDep, signed: Pending) -> Response:
    """The ``otpauth://`` URI of the secret being enrolled, as a QR code for the app to scan."""
    secret = people.enrolment_secret(db, _mine(db, signed))
    uri = totp.otpauth_uri(secret, signed.member.email, f"Laurel {signed.issuer.name}")
    return Response(qr_svg(uri), media_type="image/svg+xml", headers=NO_STORE)


@router.post("/console/mfa/setup")
def setup(
    request: Request, services: ServicesDep, db: SessionDep, signed: PendingForm, code: Code = ""
) -> Response:
    if signed.web.kind == people.NEEDS_CODE:
        return RedirectResponse("/console/mfa", status_code=303)
    try:
        started = people.confirm_enrolment(db, signed.web, signed.member, code)
    except LaurelError as exc:
        secret = people.enrolment_secret(db, signed.member)
        return _setup_page(request, services, signed, secret, exc.status, exc.detail)
    return _signed_in(services, started, "/console?done=mfa")


@router.post("/console/logout")
def logout(
    request: Request, services: ServicesDep, db: SessionDep, signed: PendingForm
) -> Response:
    signin.end_session(db, request.cookies.get(STAFF_COOKIE))
    response = RedirectResponse("/console/login", status_code=303)
    clear_cookie(response, services, STAFF_COOKIE)
    return response


@router.get("/console")
def home(request: Request, services: ServicesDep, signed: Viewer) -> Response:
    return render(
        request,
        services,
        "console_home.html",
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        done=request.query_params.get("done"),
    )


@router.get("/console/staff")
def staff_page(request: Request, services: ServicesDep, db: SessionDep, signed: Owner) -> Response:
    return render(
        request,
        services,
        "console_staff.html",
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        members=people.members(db, signed.issuer),
        invitations=people.pending_invitations(db, signed.issuer),
        roles=ROLES,
        sent=request.query_params.get("sent"),
    )


@router.post("/console/staff")
def invite(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: OwnerForm,
    email: Email = "",
    role: Annotated[str, Form(max_length=10)] = "viewer",
) -> Response:
    people.invite(db, services, signed.issuer.slug, email, role, signed.actor, language(request))
    return RedirectResponse(f"/console/staff?sent={quote(email.strip())}", status_code=303)


@router.post("/console/staff/{member_id}/remove")
def remove(member_id: int, db: SessionDep, signed: OwnerForm) -> Response:
    people.remove(db, signed.issuer, member_id, signed.member)
    return RedirectResponse("/console/staff", status_code=303)


@router.post("/console/staff/invitations/{invitation_id}/cancel")
def cancel_invitation(invitation_id: int, db: SessionDep, signed: OwnerForm) -> Response:
    people.cancel_invitation(db, signed.issuer, invitation_id, signed.member)
    return RedirectResponse("/console/staff", status_code=303)
