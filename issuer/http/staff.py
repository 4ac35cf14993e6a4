"""The console's staff sessions and role checks as typed dependencies, so that no console route
can forget them: ``Viewer`` / ``Issuing`` / ``Owner`` give the signed-in member (whose role
includes that one's rights; else 403) and their issuer; the ``…Form`` variants check the CSRF
token (and ``Origin``) of a form that changes something. Everything a route looks up goes through
``Staff.issuer``, so another issuer's staff find nothing (404)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from issuer.core.errors import Forbidden
from issuer.http.cookies import STAFF_COOKIE, check_form
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.sessions import CsrfField, SignInRequired
from issuer.models import Issuer, StaffMember, WebSession
from issuer.people import staff as people

PENDING = {people.NEEDS_CODE: "/console/mfa", people.NEEDS_ENROLMENT: "/console/mfa/setup"}


@dataclass(frozen=True)
class Staff:
    web: WebSession
    member: StaffMember
    issuer: Issuer

    @property
    def csrf(self) -> str:
        return self.web.csrf

    @property
    def actor(self) -> str:
        """Who did it, as the audit chain and the access log write it."""
        return f"staff:{self.member.email}"

    def can(self, role: str) -> bool:
        return self.member.can(role)


def pending(request: Request, db: SessionDep) -> Staff:
    """Any staff session, complete or still waiting for the second factor (the TOTP pages)."""
    found = people.find(db, request.cookies.get(STAFF_COOKIE))
    if found is None:
        raise SignInRequired("/console/login")
    web, member = found
    issuer = db.get(Issuer, member.issuer_id)
    assert issuer is not None  # a member's issuer is never deleted
    return Staff(web, member, issuer)


def _role(role: str) -> Callable[..., Awaitable[Staff]]:
    async def check(signed: Annotated[Staff, Depends(pending)]) -> Staff:
        if signed.web.kind != people.STAFF:
            raise SignInRequired(PENDING[signed.web.kind])
        if not signed.can(role):
            raise Forbidden(f"this needs the {role} role or above; ask an owner")
        return signed

    return check


_viewer, _issuer, _owner = _role("viewer"), _role("issuer"), _role("owner")


async def _viewer_form(
    request: Request,
    services: ServicesDep,
    signed: Annotated[Staff, Depends(_viewer)],
    csrf: CsrfField = "",
) -> Staff:
    check_form(request, services, csrf, signed.csrf)
    return signed


async def _issuer_form(
    request: Request,
    services: ServicesDep,
    signed: Annotated[Staff, Depends(_issuer)],
    csrf: CsrfField = "",
) -> Staff:
    check_form(request, services, csrf, signed.csrf)
    return signed


async def _owner_form(
    request: Request,
    services: ServicesDep,
    signed: Annotated[Staff, Depends(_owner)],
    csrf: CsrfField = "",
) -> Staff:
    check_form(request, services, csrf, signed.csrf)
    return signed


async def _pending_form(
    request: Request,
    services: ServicesDep,
    signed: Annotated[Staff, Depends(pending)],
    csrf: CsrfField = "",
) -> Staff:
    check_form(request, services, csrf, signed.csrf)
    return signed


Pending = Annotated[Staff, Depends(pending)]
PendingForm = Annotated[Staff, Depends(_pending_form)]
Viewer = Annotated[Staff, Depends(_viewer)]
Issuing = Annotated[Staff, Depends(_issuer)]
Owner = Annotated[Staff, Depends(_owner)]
ViewerForm = Annotated[Staff, Depends(_viewer_form)]
IssuingForm = Annotated[Staff, Depends(_issuer_form)]
OwnerForm = Annotated[Staff, Depends(_owner_form)]
