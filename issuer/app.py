"""The FastAPI application, ``create_app(settings)``: the one place where settings, services,
error handling, limits and every router come together (docs/architecture.md)."""

from __future__ import annotations

from fastapi import FastAPI

from issuer.api import credentials, public, skills
from issuer.context import Services
from issuer.core.db import migrate
from issuer.core.settings import Settings
from issuer.http import problems
from issuer.http.limits import BodyLimit
from issuer.http.security import SecurityHeaders
from issuer.web import dashboard, pages, wallet, wallet_account
from issuer.web.errors import error_page
from issuer.web.render import style_hashes


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The app for ``settings`` (default: from ``LAUREL_*``); migrates the database first."""
    services = services or Services.from_settings(settings or Settings())
    migrate(services.engine)
    app = FastAPI(
        title="Laurel",
        version="0.1.0",
        description="Issue, verify and explain Open Badges 3.0 credentials. Errors are "
        "`application/problem+json`; API keys go in `Authorization: Bearer …`.",
    )
    app.state.services = services
    problems.install(app, page=error_page)
    app.add_middleware(BodyLimit, default=services.settings.max_body_bytes, page=error_page)
    app.add_middleware(SecurityHeaders, styles=style_hashes(), docs=(app.docs_url, app.redoc_url))

    app.include_router(credentials.router)
    app.include_router(skills.router)
    app.include_router(public.router)
    app.include_router(pages.router)
    app.include_router(dashboard.router)
    app.include_router(wallet.router)
    app.include_router(wallet_account.router)
    return app
