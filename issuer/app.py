"""The FastAPI application, ``create_app(settings)``: the one place where settings, services,
error handling, limits and every router come together (docs/architecture.md)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlmodel import col, select

from issuer.api import (
    credentials,
    exchanges,
    notices,
    oauth,
    obapi,
    oid4vci,
    ops,
    orgs,
    orgs_hours,
    public,
    skills,
    vcapi,
)
from issuer.api import plans as plan_api
from issuer.context import Services
from issuer.core import metrics
from issuer.core.db import migrate, unit_of_work
from issuer.core.settings import Settings
from issuer.http import problems
from issuer.http.limits import BodyLimit
from issuer.http.observe import RequestMetrics
from issuer.http.security import SecurityHeaders
from issuer.models import SigningKey
from issuer.web import (
    apidocs,
    collect,
    connections,
    console,
    console_admin,
    console_claims,
    console_credentials,
    console_hours,
    console_issuing,
    console_notices,
    console_org,
    console_sso,
    dashboard,
    home,
    pages,
    wallet,
    wallet_account,
    wallet_claims,
    wallet_lcw,
    wallet_oid4vci,
    wallet_orgs,
)
from issuer.web import notices as notice_pages
from issuer.web import oauth as oauth_pages
from issuer.web import plans as plan_pages
from issuer.web.errors import error_page
from issuer.web.render import style_hashes


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
        docs_url=None,  # issuer.web.apidocs serves them, with their files from the package
        redoc_url=None,
    )
    app.state.services = services
    problems.install(app, page=error_page)
    obapi.document_imsx(app)
    app.add_middleware(BodyLimit, default=services.settings.max_body_bytes, page=error_page)
    app.add_middleware(SecurityHeaders, styles=style_hashes())
    app.add_middleware(RequestMetrics)
    _gauges(services)
    # Matched in this order, route by route: what a scanned certificate opens comes first
    # (tests/issuer/test_route_order.py holds that no two routers answer the same request).
    app.include_router(ops.router)
    app.include_router(public.router)
    app.include_router(pages.router)
    app.include_router(credentials.router)
    app.include_router(skills.router)
    app.include_router(orgs_hours.router)
    app.include_router(plan_api.router)
    app.include_router(orgs.router)
    app.include_router(oauth.router)
    app.include_router(obapi.router)
    app.include_router(vcapi.router)
    app.include_router(exchanges.router)
    app.include_router(oid4vci.router)
    app.include_router(notices.router)
    app.include_router(home.router)
    app.include_router(apidocs.router)
    app.include_router(dashboard.router)
    app.include_router(wallet.router)
    app.include_router(plan_pages.router)
    app.include_router(wallet_account.router)
    app.include_router(wallet_claims.router)
    app.include_router(wallet_lcw.router)
    app.include_router(collect.router)
    app.include_router(wallet_oid4vci.router)
    app.include_router(wallet_orgs.router)
    app.include_router(oauth_pages.router)
    app.include_router(connections.router)
    app.include_router(notice_pages.router)
    app.include_router(console.router)
    app.include_router(console_issuing.router)
    app.include_router(console_admin.router)
    app.include_router(console_credentials.router)
    app.include_router(console_claims.router)
    app.include_router(console_sso.router)
    app.include_router(console_notices.router)
    app.include_router(console_hours.router)
    app.include_router(console_org.router)
    return app


def _gauges(services: Services) -> None:
    """What ``/metrics`` reads from the database and the pool at each scrape."""
    from sqlalchemy import ColumnElement, func
    from sqlmodel import Session

    from issuer.models import BulkJob, PendingEffect

    def count(*conditions: ColumnElement[bool]) -> int:
        with Session(services.engine) as session:
            return int(session.exec(select(func.count()).where(*conditions)).one())

    pool = services.engine.pool
    metrics.gauge_source(
        "laurel_db_pool_checked_out",
        "Database connections in use by this process.",
        lambda: float(getattr(pool, "checkedout", lambda: 0)()),
    )
    metrics.gauge_source(
        "laurel_effects_pending",
        "Post-commit effects not done yet.",
        lambda: count(col(PendingEffect.done_at).is_(None)),
    )
    metrics.gauge_source(
        "laurel_effects_failing",
        "Post-commit effects that failed at least once and are not done (see laurel effects list).",
        lambda: count(col(PendingEffect.done_at).is_(None), col(PendingEffect.attempts) > 0),
    )
    metrics.gauge_source(
        "laurel_bulk_jobs_unfinished",
        "Bulk jobs queued or running.",
        lambda: count(col(BulkJob.status) != "done"),
    )
