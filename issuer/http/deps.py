"""Typed dependencies: the services bundle, a database session, the caller's API key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session

from issuer.core.context import Services
from issuer.core.errors import Forbidden, NotFound
from issuer.institutes.apikeys import authenticate
from issuer.institutes.issuers import get_issuer
from issuer.models import ApiKey, Issuer


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def session(services: ServicesDep) -> Iterator[Session]:
    with Session(services.engine, expire_on_commit=False) as db:
        yield db


SessionDep = Annotated[Session, Depends(session)]


def api_key(
    db: SessionDep,
    authorization: Annotated[str | None, Header(description="Bearer lrl_…")] = None,
) -> ApiKey:
    return authenticate(db, authorization)


ApiKeyDep = Annotated[ApiKey, Depends(api_key)]


def issuer_for(db: Session, key: ApiKey, slug: str, scope: str) -> Issuer:
    """The issuer ``slug`` if ``key`` belongs to it (else 404, as if it did not exist) and has
    ``scope`` (else 403)."""
    try:
        issuer = get_issuer(db, slug)
    except NotFound:
        raise NotFound(f"there is no issuer {slug!r}") from None
    if issuer.id != key.issuer_id:
        raise NotFound(f"there is no issuer {slug!r}")
    require(key, scope)
    return issuer


def require(key: ApiKey, scope: str) -> None:
    if not key.has(scope):
        raise Forbidden(f"this API key lacks the '{scope}' scope")
