"""Cookies, CSRF and language for the HTML pages (the wallet and the issuer dashboard); the
signed-in sessions built on them are typed dependencies in ``issuer.http.sessions``.

Session cookies are HTTP-only, ``SameSite=Lax`` and ``Secure`` whenever the public base URL is
HTTPS. Every form that changes something carries a CSRF token: the session's own when signed in,
else a double-submit token (a random cookie repeated in the form). A request whose ``Origin``
header names another site is refused as well.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import Request, Response

from issuer.context import Services
from issuer.core.errors import Forbidden

LEARNER_COOKIE = "laurel_wallet"
STAFF_COOKIE = "laurel_staff"
FORM_COOKIE = "laurel_form"
LANG_COOKIE = "laurel_lang"
LANGUAGES = ("en", "ko")


def set_cookie(
    response: Response, services: Services, name: str, value: str, lifetime: timedelta
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=services.settings.base_url.startswith("https://"),
        path="/",
    )


def clear_cookie(response: Response, services: Services, name: str) -> None:
    response.delete_cookie(
        name,
        path="/",
        httponly=True,
        samesite="lax",
        secure=services.settings.base_url.startswith("https://"),
    )


def form_token(request: Request) -> str:
    """The double-submit token for a form shown before sign-in (reused while the cookie
    lives; ``remember_form_token`` sets it on the response)."""
    existing = request.cookies.get(FORM_COOKIE)
    if existing and 20 <= len(existing) <= 64:
        return existing
    token = getattr(request.state, "form_token", None)
    if token is None:
        token = request.state.form_token = secrets.token_urlsafe(24)
    return str(token)


def remember_form_token(request: Request, response: Response, services: Services) -> None:
    if request.cookies.get(FORM_COOKIE) != form_token(request):
        set_cookie(response, services, FORM_COOKIE, form_token(request), timedelta(hours=2))


def check_origin(request: Request, services: Services) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null":
        mine = urlsplit(services.settings.base_url)
        theirs = urlsplit(origin)
        if (theirs.scheme, theirs.netloc) != (mine.scheme, mine.netloc):
            raise Forbidden("this form was sent from another site")


def local_path(value: str | None) -> str | None:
    """``value`` if it is a path on this site (``/…``, not ``//host`` or ``/\\host``, no scheme
    or host, no control characters), for a ``next`` to return to after sign-in; else ``None``."""
    if not value or len(value) > 4000 or not value.startswith("/"):
        return None
    if value.startswith(("//", "/\\")) or any(ord(c) < 32 or c == "\\" for c in value):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def check_form(request: Request, services: Services, sent: str, expected: str | None) -> None:
    """Refuse a form whose CSRF token does not match (``expected``: the session's token, or
    ``None`` for the double-submit cookie)."""
    check_origin(request, services)
    wanted = expected if expected is not None else request.cookies.get(FORM_COOKIE)
    if not wanted or not sent or not hmac.compare_digest(wanted, sent):
        raise Forbidden("this form has expired; reload the page and try again")


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    saved = request.cookies.get(LANG_COOKIE)
    if saved in LANGUAGES:
        return saved
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("ko"):
            return "ko"
        if tag.startswith("en"):
            return "en"
    return "en"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
