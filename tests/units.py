"""Service calls for tests, each in a unit of work of its own (what a request or a CLI command
gives a service in the application): ``create_issuer(services, slug=…)`` instead of opening a
unit of work around every call. Effects the unit emits run after it commits, as they would after
a request."""

from __future__ import annotations

from typing import Any

from issuer.context import Services
from issuer.effects import work
from issuer.institutes import apikeys, issuers
from issuer.issuing import bulk, credentials, issuance, templates, xapi
from issuer.models import Issuer, Learner
from issuer.people import learners
from issuer.wallet import imports
from verifier import Report


def create_issuer(services: Services, **options: Any) -> Issuer:
    with work(services) as db:
        return issuers.create_issuer(db, services, **options)


def create_api_key(
    services: Services, slug: str, scopes: list[str], name: str | None = None
) -> str:
    with work(services) as db:
        return apikeys.create_api_key(db, slug, scopes, name)


def issue(services: Services, slug: str, request: Any, **options: Any) -> issuance.Issued:
    with work(services) as db:
        return issuance.issue(db, services, slug, request, **options)


def issue_rows(services: Services, slug: str, rows: Any, actor: str = "test") -> dict[str, Any]:
    with work(services) as db:
        return bulk.issue_rows(db, services, slug, rows, actor)


def receive_statements(services: Services, slug: str, body: Any) -> dict[str, Any]:
    with work(services) as db:
        return xapi.receive(db, services, slug, body, "test", may_revoke=True)


def load_templates(services: Services, slug: str, **options: Any) -> int:
    with work(services) as db:
        return templates.load_templates(db, services, slug, **options)


def revoke(services: Services, credential_id: str, reason: str, actor: str = "test") -> Any:
    with work(services) as db:
        return credentials.revoke(db, credential_id, reason, None, actor)


def rotate_keys(services: Services, slug: str) -> list[str]:
    with work(services) as db:
        return issuers.rotate_keys(db, services, slug)


def resolve_learner(services: Services, email: str, name: str | None = None) -> Learner:
    with work(services) as db:
        return learners.resolve_learner(db, email, name)


def import_badge(services: Services, learner_id: int, *args: Any, **options: Any) -> Any:
    with work(services) as db:
        return imports.import_badge(db, services, learner_id, *args, **options)


def recheck(services: Services, imported: Any, **options: Any) -> Any:
    with work(services) as db:
        return imports.recheck(db, services, imported, **options)


def verify(services: Services, source: Any, **options: Any) -> Report:
    from issuer.verification import trust

    with work(services, write=False) as db:
        return trust.verify(db, services, source, **options)
