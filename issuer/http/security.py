"""Security headers on every answer, set in one place (:class:`SecurityHeaders`).

* Every answer: ``X-Content-Type-Options: nosniff`` (a JSON or text answer is never run as a
  script or shown as HTML), ``X-Frame-Options: DENY`` (no page, and so no wallet form, can be
  framed by another site; ``frame-ancestors 'none'`` says the same to newer browsers) and
  ``Referrer-Policy: same-origin`` (a share link ``/s/{token}`` is never sent to another site
  in a ``Referer``; same-origin requests keep theirs, and their ``Origin`` header stays real for
  the CSRF checks).
* HTML pages: a Content-Security-Policy that allows no script at all, styles only from the
  pages' own ``<style>`` elements (by hash), pictures only from this site, forms only to this
  site (and LinkedIn's "add to profile", where the wallet's LinkedIn button redirects), no
  ``<base>``, no plugins, no framing.
* Everything else (SVG, JSON, pictures): ``sandbox`` and ``default-src 'none'``, so an SVG opened
  by itself — an imported badge's, say — cannot run a script or load anything; inline styles
  and ``data:`` pictures and fonts inside it still show. PDFs are left out: a sandboxed PDF is
  not shown by Chromium's viewer.
* The API docs (``/docs``, ``/redoc``; ``issuer.web.apidocs``) set their own
  (``docs_policy``): Swagger UI's and ReDoc's files from this site, served from the package so
  that they work without internet, and their inline start-up script by hash.

A route that sets its own Content-Security-Policy keeps it.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
FILE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'none'; sandbox"
)


def docs_policy(scripts: Iterable[str]) -> str:
    """The API docs' policy: scripts, styles, pictures and fonts from this site only (plus the
    page's inline ``scripts``, by CSP source, and the inline styles Swagger UI and ReDoc set),
    requests to this site, and ReDoc's worker."""
    script = " ".join(("'self'", *scripts))
    return (
        f"default-src 'none'; script-src {script}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


FORM_TARGETS = ("'self'", "https://www.linkedin.com")


def page_policy(
    styles: Iterable[str], *, forms: Iterable[str] = (), images: Iterable[str] = ()
) -> str:
    """The pages' policy, given the CSP sources of their inline ``<style>`` elements (and, for
    a page that needs them, further origins its forms may lead to and its images come from)."""
    style = " ".join(styles) or "'none'"
    image = " ".join(("'self'", *images))
    targets = " ".join((*FORM_TARGETS, *forms))
    return (
        f"default-src 'none'; style-src {style}; img-src {image}; "
        f"form-action {targets}; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    )


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer."""

    def __init__(self, app: ASGIApp, styles: Iterable[str]) -> None:
        self.app = app
        self.page = page_policy(styles)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                self._add(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, with_headers)

    def _add(self, headers: MutableHeaders) -> None:
        for name, value in COMMON.items():
            headers.setdefault(name, value)
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if "content-security-policy" in headers or kind == "application/pdf":
            return
        if kind == "text/html":
            headers["Content-Security-Policy"] = self.page
        else:
            headers["Content-Security-Policy"] = FILE_POLICY
