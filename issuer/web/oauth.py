"""The learner's side of OAuth 2.0: the authorization request (sign in if needed, then a consent
page naming the application and each scope in plain words, English and Korean) and the wallet's
list of connected applications, each of which the learner can disconnect.

Errors that make the request untrustworthy (an unknown client, a redirect URI it did not
register) are shown here and never redirected to; the others go back to the client's
registered ``redirect_uri`` with ``error`` and ``state`` (RFC 6749 §4.1.2.1)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from issuer.context import Services
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.oauth import StarletteServer, incoming, server
from issuer.http.security import page_policy
from issuer.http.sessions import LearnerForm, LearnerSession, MaybeLearner
from issuer.models import Learner
from issuer.oauth import tokens
from issuer.oauth.clients import OB_SCOPES, OFFLINE, Client
from issuer.oauth.server import AUTHORIZE
from issuer.web.render import render, style_hashes
from issuer.web.render import wallet_page as page

router = APIRouter(tags=["pages"], include_in_schema=False)
SCOPE_WORDS = {scope: f"scope_{scope.rsplit('/', 1)[-1].replace('.', '_')}" for scope in OB_SCOPES}
SCOPE_WORDS[OFFLINE] = "scope_offline_access"


def _refused(request: Request, services: Services, oauth: StarletteServer, error: Any) -> Response:
    if error.redirect_uri:  # checked against the client's registered URIs: safe to go back
        answer: Response = oauth.handle_error_response(None, error)
        return answer
    detail = error.description or error.error
    return render(request, services, "error.html", 400, title=error.error, detail=detail)


def _origin(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


def _consent(
    request: Request, services: Services, client: Client, scope: str, redirect_uri: str, csrf: str
) -> Response:
    registered = client.row.registered
    logo = registered.get("logo_uri")
    query = request.url.query
    response = page(
        request,
        services,
        "oauth_consent.html",
        session=None,
        client=registered,
        client_name=client.name,
        logo=logo if _origin(logo) else None,
        scopes=[SCOPE_WORDS[s] for s in scope.split() if s in SCOPE_WORDS],
        action=f"{AUTHORIZE}?{query}",
        csrf=csrf,
    )
    # The approval's redirect goes to the client (CSP form-action covers redirects), and the
    # client's logo is shown from its own site.
    response.headers["Content-Security-Policy"] = page_policy(
        style_hashes(),
        forms=[o for o in [_origin(redirect_uri)] if o],
        images=[o for o in [_origin(logo)] if o],
    )
    return response


@router.get(AUTHORIZE)
def authorize(
    request: Request, services: ServicesDep, db: SessionDep, signed: MaybeLearner
) -> Response:
    """The authorization request: checked first, then sign-in (coming back here), then the
    consent page."""
    oauth = server(db, services)
    try:
        grant = oauth.get_consent_grant(incoming(request, services), end_user=None)
    except OAuth2Error as error:
        return _refused(request, services, oauth, error)
    if signed is None:
        back = f"{AUTHORIZE}?{request.url.query}"
        return RedirectResponse(f"/wallet/login?{urlencode({'next': back})}", status_code=303)
    return _consent(
        request, services, grant.client, grant.request.scope, grant.redirect_uri, signed.csrf
    )


@router.post(AUTHORIZE)
def decide(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    decision: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The learner's answer: ``allow`` sends a code back to the client, anything else
    ``access_denied``; both with the request's ``state``."""
    oauth = server(db, services)
    try:
        grant = oauth.get_consent_grant(incoming(request, services), end_user=None)
    except OAuth2Error as error:
        return _refused(request, services, oauth, error)
    learner = db.get(Learner, signed.id) if decision == "allow" else None
    answer: Response = oauth.create_authorization_response(
        grant.request, grant_user=learner, grant=grant
    )
    return answer


@router.get("/wallet/apps")
def connected_apps(
    request: Request, services: ServicesDep, db: SessionDep, signed: LearnerSession
) -> Response:
    return page(
        request,
        services,
        "wallet_apps.html",
        session=signed,
        apps=tokens.connections(db, signed.id),
        scope_words=SCOPE_WORDS,
        done=request.query_params.get("done"),
    )


@router.post("/wallet/apps/{client_id}/disconnect")
def disconnect(client_id: str, db: SessionDep, signed: LearnerForm) -> Response:
    tokens.disconnect(db, signed.id, client_id)
    return RedirectResponse("/wallet/apps?done=disconnected", status_code=303)
