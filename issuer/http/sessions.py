"""Web sessions and CSRF as typed dependencies, so that a page cannot forget them.

``LearnerSession`` / ``StaffSession``: the signed-in learner (the wallet) or staff member (the
dashboard); a request without one is sent to the sign-in page (``SignInRequired``, answered with
a redirect). ``LearnerForm`` / ``StaffForm``: the same, for a form that changes something, with its
CSRF token checked against the session's (and the ``Origin`` header). ``PublicForm``: a form posted
before there is a session, checked against the double-submit cookie. ``MaybeLearner``: the
learner if signed in, for pages that look different then (sign-in, log-out).
``DetachedLearnerForm``: ``LearnerForm`` read in a short unit of work of its own, for a route that
calls another host and so must hold no database session while it waits (it opens its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.core.errors import LaurelError
from issuer.http.cookies import LEARNER_COOKIE, STAFF_COOKIE, check_form
from issuer.http.deps import ServicesDep, SessionDep, in_unit
from issuer.models import WebSession
from issuer.people.signin import find_session


class SignInRequired(LaurelError):
    """No (live) session: the answer is a redirect to ``login``."""

    status, title = 401, "Sign in"

    def __init__(self, login: str) -> None:
        super().__init__("sign in first")
        self.login = login


@dataclass(frozen=True)
class SignedIn:
    """A live web session and whose it is."""

    web: WebSession
    id: int
    """The learner's id (learner sessions) or the staff member's (staff sessions)."""

    @property
    def csrf(self) -> str:
        return self.web.csrf


def _signed_in(web: WebSession | None, login: str) -> SignedIn:
    owner = None if web is None else web.learner_id if web.kind == "learner" else web.staff_id
    if web is None or owner is None:
        raise SignInRequired(login)
    return SignedIn(web, owner)


def maybe_learner(request: Request, db: SessionDep) -> SignedIn | None:
    found = find_session(db, request.cookies.get(LEARNER_COOKIE), "learner")
    return None if found is None else _signed_in(found, "/wallet/login")


async def learner(found: Annotated[SignedIn | None, Depends(maybe_learner)]) -> SignedIn:
    if found is None:
        raise SignInRequired("/wallet/login")
    return found


def staff(request: Request, db: SessionDep) -> SignedIn:
    """A complete staff session (the second factor given, where one is needed)."""
    return _signed_in(
        find_session(db, request.cookies.get(STAFF_COOKIE), "staff"), "/console/login"
    )


MaybeLearner = Annotated[SignedIn | None, Depends(maybe_learner)]
LearnerSession = Annotated[SignedIn, Depends(learner)]
StaffSession = Annotated[SignedIn, Depends(staff)]
CsrfField = Annotated[str, Form(max_length=100)]


async def learner_form(
    request: Request, services: ServicesDep, signed: LearnerSession, csrf: CsrfField = ""
) -> SignedIn:
    check_form(request, services, csrf, signed.csrf)
    return signed


async def staff_form(
    request: Request, services: ServicesDep, signed: StaffSession, csrf: CsrfField = ""
) -> SignedIn:
    check_form(request, services, csrf, signed.csrf)
    return signed


async def public_form(request: Request, services: ServicesDep, csrf: CsrfField = "") -> None:
    check_form(request, services, csrf, None)


LearnerForm = Annotated[SignedIn, Depends(learner_form)]


def _find_learner(services: Services, token: str | None) -> SignedIn | None:
    with unit_of_work(services.engine, write=False) as db:
        found = find_session(db, token, "learner")
    return None if found is None else _signed_in(found, "/wallet/login")


async def detached_learner_form(
    request: Request, services: ServicesDep, csrf: CsrfField = ""
) -> SignedIn:
    token = request.cookies.get(LEARNER_COOKIE)
    signed = await in_unit(services, _find_learner, services, token)
    if signed is None:
        raise SignInRequired("/wallet/login")
    check_form(request, services, csrf, signed.csrf)
    return signed


async def detached_learner(request: Request, services: ServicesDep) -> SignedIn:
    signed = await in_unit(services, _find_learner, services, request.cookies.get(LEARNER_COOKIE))
    if signed is None:
        raise SignInRequired("/wallet/login")
    return signed


DetachedLearnerForm = Annotated[SignedIn, Depends(detached_learner_form)]
DetachedLearnerSession = Annotated[SignedIn, Depends(detached_learner)]
StaffForm = Annotated[SignedIn, Depends(staff_form)]
PublicForm = Annotated[None, Depends(public_form)]
