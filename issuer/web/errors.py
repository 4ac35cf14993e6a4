"""Errors on pages are pages: a sign-in that is needed is a redirect to the sign-in page, and any
other error of a page route (not of a download or an API) is shown in the page layout, in the
visitor's language. Everything else stays ``application/problem+json``."""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from issuer.core.errors import LaurelError
from issuer.http.negotiation import wants_page
from issuer.http.sessions import SignInRequired

_FILE = re.compile(r"\.[a-z]+$")  # a picture or a download: answered with 401, not a redirect
_PAGES = re.compile(
    r"^/(wallet(/.*)?|dashboard(/.*)?|console(/.*)?|verify|oauth/authorize"
    r"|p/[^/]+|s/[^/]+|v/[^/]+)$"
)


def error_page(request: Request, exc: LaurelError) -> Response | None:
    path = request.url.path
    if isinstance(exc, SignInRequired) and not _FILE.search(path):
        return RedirectResponse(exc.login, status_code=303)
    if not _PAGES.match(path) or not wants_page(request.headers.get("accept")):
        return None
    from issuer.web.render import render

    services = request.app.state.services
    if path.startswith(("/wallet", "/s/", "/p/")):
        return render(
            request, services, "wallet_message.html", exc.status, detail=exc.detail, session=None
        )
    return render(request, services, "error.html", exc.status, title=exc.title, detail=exc.detail)
