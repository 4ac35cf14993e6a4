"""Rendering HTML pages: the shared Jinja environment, and the language (English or Korean) of
the wallet and the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from issuer.context import Services
from issuer.http.cookies import LANG_COOKIE, LANGUAGES, form_token, language, remember_form_token
from issuer.web.i18n import page_words

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.auto_reload = False  # templates ship with the package; no stat() per render
NO_STORE = {"Cache-Control": "no-store"}  # pages show live verdicts and private data


def render(
    request: Request,
    services: Services,
    template: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the visitor's language (``?lang=ko`` switches and is remembered)."""
    lang = language(request)
    response = templates.TemplateResponse(
        request,
        template,
        {**page_words(lang), **context},
        status_code=status,
        headers=NO_STORE,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


def form_before_sign_in(
    request: Request, services: Services, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page whose form is posted before there is a session: its CSRF token is the
    double-submit cookie's (set here when the visitor has none yet)."""
    response = render(request, services, template, status, csrf=form_token(request), **context)
    remember_form_token(request, response, services)
    return response


def wallet_page(
    request: Request, services: Services, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A wallet page (``session``: the learner's, for the CSRF token and the navigation)."""
    return render(request, services, template, status, home="/wallet", **context)


def wallet_message(
    request: Request, services: Services, status: int, detail: str | None, **context: Any
) -> HTMLResponse:
    return wallet_page(request, services, "wallet_message.html", status, detail=detail, **context)
