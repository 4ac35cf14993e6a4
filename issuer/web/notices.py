"""Learners' badge emails, from the learner's side: the unsubscribe link every such email
carries (RFC 8058 one-click: a ``POST`` with ``List-Unsubscribe=One-Click``; opening it shows a
button, so that a mail scanner following links unsubscribes nobody), and the setting on the
wallet's account page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.sessions import LearnerForm
from issuer.notify import optout
from issuer.web.render import wallet_page as page

router = APIRouter(tags=["pages"], include_in_schema=False)
Token = Annotated[str, Path(max_length=120)]


@router.get("/wallet/unsubscribe/{token}")
def unsubscribe_page(
    token: Token, request: Request, services: ServicesDep, db: SessionDep
) -> Response:
    learner = optout.learner_for(db, services.settings.key_passphrase, token)
    assert learner.id is not None
    return page(
        request,
        services,
        "wallet_unsubscribe.html",
        token=token,
        unsubscribed=optout.opted_out(db, learner.id),
    )


@router.post("/wallet/unsubscribe/{token}")
def unsubscribe(token: Token, request: Request, services: ServicesDep, db: SessionDep) -> Response:
    """One click from the mail client (RFC 8058) or the button on the page: no sign-in, the
    token is the authority (it names one learner and cannot be forged)."""
    learner = optout.learner_for(db, services.settings.key_passphrase, token)
    assert learner.id is not None
    optout.choose(db, learner.id, emails=False)
    if "text/html" not in request.headers.get("accept", ""):
        return PlainTextResponse("unsubscribed\n")
    return page(request, services, "wallet_unsubscribe.html", token=token, unsubscribed=True)


@router.post("/wallet/account/emails")
def badge_emails(
    db: SessionDep,
    signed: LearnerForm,
    badge_emails: Annotated[str, Form(pattern="^(on|off)$")] = "off",
) -> Response:
    optout.choose(db, signed.id, emails=badge_emails == "on")
    return RedirectResponse("/wallet/account?done=emails", status_code=303)
