"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), whose scripts
and styles are served from the installed package (fastapi-offline's copies of Swagger UI and
ReDoc) instead of a CDN: they work on a network without internet, and the pages' policy lets
them load nothing from another site (``issuer.http.security.docs_policy``)."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from issuer.core.errors import NotFound
from issuer.http.security import docs_policy

router = APIRouter(tags=["pages"], include_in_schema=False)
DOCS, REDOC, OAUTH2_REDIRECT = "/docs", "/redoc", "/docs/oauth2-redirect"
ASSETS = "/docs/assets"
FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _bundled() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    """``page`` with a policy that runs its own inline start-up script (by hash) and files from
    this site only."""
    body = bytes(page.body).decode("utf-8")
    digests = (hashlib.sha256(s.encode()).digest() for s in _INLINE_SCRIPT.findall(body))
    hashes = [f"'sha256-{base64.b64encode(d).decode()}'" for d in digests]
    page.headers["Content-Security-Policy"] = docs_policy(hashes)
    return page


@router.get(DOCS, response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    app = request.app
    return _with_policy(
        get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            oauth2_redirect_url=OAUTH2_REDIRECT,
        )
    )


@router.get(OAUTH2_REDIRECT, response_class=HTMLResponse)
def swagger_ui_redirect() -> HTMLResponse:
    """Where an OAuth 2.0 sign-in started from Swagger UI's "Authorize" comes back to."""
    return _with_policy(get_swagger_ui_oauth2_redirect_html())


@router.get(REDOC, response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    app = request.app
    return _with_policy(
        get_redoc_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} — API",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
    )


@router.get(ASSETS + "/{name}")
def asset(name: str) -> FileResponse:
    """Swagger UI's and ReDoc's files (Apache-2.0 and MIT; their licences are in the
    fastapi-offline package)."""
    if name not in FILES:
        raise NotFound(f"there is no file {name!r} here")
    return FileResponse(
        _bundled() / name,
        media_type=FILES[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
