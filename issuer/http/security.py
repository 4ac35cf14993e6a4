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
* FastAPI's API docs (``/docs``, ``/redoc``) load their script from a CDN and start it inline;
  they get a policy that allows just that.

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
DOCS_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://fastapi.tiangolo.com https://cdn.redoc.ly; font-src https://fonts.gstatic.com; "
    "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
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

    def __init__(
        self, app: ASGIApp, styles: Iterable[str], docs: Iterable[str | None] = ()
    ) -> None:
        self.app = app
        self.page = page_policy(styles)
        self.docs = frozenset(path for path in docs if path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                self._add(scope["path"], MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, with_headers)

    def _add(self, path: str, headers: MutableHeaders) -> None:
        for name, value in COMMON.items():
            headers.setdefault(name, value)
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if "content-security-policy" in headers or kind == "application/pdf":
            return
        if path in self.docs:
            headers["Content-Security-Policy"] = DOCS_POLICY
        elif kind == "text/html":
            headers["Content-Security-Policy"] = self.page
        else:
            headers["Content-Security-Policy"] = FILE_POLICY
