"""Staff sign-in to the console with the institute's OpenID Connect provider (``LAUREL_OIDC_*``;
``issuer.obclient.oidc`` does the protocol): the sign-in page's button starts it, the provider
sends the browser back to the callback, which signs in the staff member with that verified
email — existing staff only, single sign-on never creates staff.

Which staff: only members of the issuers ``LAUREL_OIDC_ISSUERS`` names (unset: the instance's
issuer if it has only one; with several, no one, and the page says the operator must name them):
an identity provider vouches for emails, and one institute's provider must not open another
institute's console.

The second factor: a member who turned on TOTP always gives a code, whatever the provider says.
For the others, when the provider says the person used more than one factor (``amr`` has ``mfa``
or ``otp``), that is the console's second factor and the session is complete; otherwise the
rules of the emailed link apply (an owner under ``LAUREL_STAFF_MFA=required`` enrols first).

The requests to the provider are made outside any database transaction (each step that writes
is a short unit of work of its own), so a slow provider holds no database lock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.core.errors import LaurelError
from issuer.http.cookies import STAFF_COOKIE, clear_cookie, client_address, set_cookie
from issuer.http.deps import ServicesDep, in_unit
from issuer.http.rates import Allowance
from issuer.obclient import oidc
from issuer.people import signin
from issuer.people import staff as people
from issuer.web.render import render

router = APIRouter(tags=["pages"], include_in_schema=False)
SSO_COOKIE = "laurel_sso"
Param = Annotated[str, Query(max_length=2000)]
STARTS = "20/minute;200/hour"
"""Sign-ins started per client address (each stores a row for 10 minutes), then 429."""
_ALLOWANCE = "laurel.sso-starts"
_NEXT = {people.NEEDS_CODE: "/console/mfa", people.NEEDS_ENROLMENT: "/console/mfa/setup"}
UNKNOWN = (
    "{email} is not on the staff of any institute in this Laurel that signs in with {name}. "
    "Single sign-on only signs in existing staff: ask an owner of your institute to invite you."
)
UNSCOPED = (
    "Single sign-on is not set up for this Laurel's institutes yet: its operator must name, in "
    "LAUREL_OIDC_ISSUERS, the institutes whose staff may sign in with {name}. Meanwhile, sign "
    "in with an emailed link."
)


def _refused(request: Request, services: Services, exc: LaurelError) -> Response:
    response = render(
        request, services, "error.html", exc.status, title=exc.title, detail=exc.detail
    )
    clear_cookie(response, services, SSO_COOKIE)
    return response


def _starts(services: Services) -> Allowance:
    found = services.cache.get(_ALLOWANCE)
    if not isinstance(found, Allowance):
        found = services.cache.setdefault(_ALLOWANCE, Allowance("sso_start", STARTS, "sign-ins"))
    assert isinstance(found, Allowance)
    return found


def _allowed(db: Session, services: Services) -> list[int]:
    """The issuers whose staff may sign in (``SsoRefused`` if the operator must name them)."""
    allowed = people.sso_issuers(db, services.settings)
    if allowed is None:
        raise oidc.SsoRefused(UNSCOPED.format(name=services.settings.oidc_name))
    return allowed


def _start(services: Services, document: dict[str, object]) -> oidc.Started:
    with unit_of_work(services.engine) as db:
        _allowed(db, services)  # the browser is not sent off for a sign-in bound to fail
        return oidc.start(db, services, dict(document))


@router.get("/console/sso")
async def begin(request: Request, services: ServicesDep) -> Response:
    """The sign-in page's "Sign in with …" link: off to the identity provider. A link, not a
    form: the pages' Content-Security-Policy lets forms lead to this site only, and starting a
    sign-in changes nothing a forged request could abuse (the callback needs this browser's
    cookie)."""
    try:
        _starts(services).admit(client_address(request))
        document = await run_in_threadpool(oidc.discover, services)
        started = await in_unit(services, _start, services, document)
    except LaurelError as exc:
        return _refused(request, services, exc)
    response = RedirectResponse(started.url, status_code=303)
    set_cookie(response, services, SSO_COOKIE, started.secret, oidc.LIFETIME)
    return response


def _use_state(services: Services, secret: str | None, state: str) -> None:
    with unit_of_work(services.engine) as db:
        oidc.use_state(db, secret, state)


def _sign_in(services: Services, identity: oidc.Identity) -> tuple[signin.Started, str]:
    with unit_of_work(services.engine) as db:
        member = people.member_by_email(db, identity.email, _allowed(db, services))
        if member is None:
            name = services.settings.oidc_name
            raise oidc.SsoRefused(UNKNOWN.format(email=identity.email, name=name))
        if identity.multi_factor and member.totp_enabled_at is None:
            return signin.start_session(db, staff_id=member.id, kind=people.STAFF), people.STAFF
        return people.start(db, services.settings, member)


@router.get(oidc.CALLBACK)
async def callback(
    request: Request, services: ServicesDep, state: Param = "", code: Param = "", error: Param = ""
) -> Response:
    """Where the identity provider sends the browser back. The ``state`` is used up first,
    whatever follows."""
    secret = request.cookies.get(SSO_COOKIE)
    try:
        await in_unit(services, _use_state, services, secret, state)
        if error:
            raise oidc.SsoRefused(f"the identity provider did not sign you in ({error[:100]})")
        assert secret is not None  # use_state refuses a missing one
        identity = await run_in_threadpool(oidc.identify, services, secret, state, code)
        started, kind = await in_unit(services, _sign_in, services, identity)
    except LaurelError as exc:
        return _refused(request, services, exc)
    response = RedirectResponse(_NEXT.get(kind, "/console"), status_code=303)
    set_cookie(response, services, STAFF_COOKIE, started.token, started.lifetime)
    clear_cookie(response, services, SSO_COOKIE)
    return response
