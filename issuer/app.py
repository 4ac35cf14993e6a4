"""The FastAPI application, ``create_app(settings)``: the one place where settings, services,
error handling, limits and every router come together (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from sqlmodel import col, select

from issuer.api import credentials, public, skills
from issuer.context import Services
from issuer.core.db import migrate, unit_of_work
from issuer.core.settings import Settings
from issuer.http import problems
from issuer.models import SigningKey
from issuer.web import dashboard, pages, wallet, wallet_account
from issuer.web.errors import error_page


def check_key_passphrase(services: Services) -> None:
    """Decrypt the newest active signing key, so that a wrong ``LAUREL_KEY_PASSPHRASE`` (or
    keys directory) stops the start with a clear ``KeyStoreError`` instead of every signature
    failing later and every page saying it could not verify."""
    with unit_of_work(services.engine, write=False) as db:
        newest = select(SigningKey).where(col(SigningKey.retired_at).is_(None))
        row = db.exec(newest.order_by(col(SigningKey.id).desc())).first()
    if row is not None:
        services.keystore.load(row)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The app for ``settings`` (default: from ``LAUREL_*``); migrates the database and checks
    that the key passphrase opens the keys first."""
    services = services or Services.from_settings(settings or Settings())
    migrate(services.engine)
    check_key_passphrase(services)
    app = FastAPI(
        title="Laurel",
        version="0.1.0",
        description="Issue, verify and explain Open Badges 3.0 credentials. Errors are "
        "`application/problem+json`; API keys go in `Authorization: Bearer …`.",
    )
    app.state.services = services
    problems.install(app, page=error_page)
    limit = services.settings.max_body_bytes

    @app.middleware("http")
    async def _body_limit(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return problems.problem(
                413, "Payload too large", f"the body is over the limit of {limit} bytes"
            )
        return await call_next(request)

    app.include_router(credentials.router)
    app.include_router(skills.router)
    app.include_router(public.router)
    app.include_router(pages.router)
    app.include_router(dashboard.router)
    app.include_router(wallet.router)
    app.include_router(wallet_account.router)
    return app
