"""Telling people and systems, over the API (the `admin` scope): an issuer's webhook endpoints,
their delivery logs and replays, its emails to learners (language, templates), and its xAPI
settings (the LMS whose accounts map to its roster, the LRS its badges are reported to)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field

from issuer.http.deps import ApiKeyDep, ServicesDep, SessionDep, Slug, StrictJSONRoute, issuer_for
from issuer.http.problems import READ, WRITE, responses
from issuer.notify import emails, lrs, webhooks
from issuer.schemas import Strict, Text500

router = APIRouter(prefix="/api/v1", tags=["notifications"], route_class=StrictJSONRoute)
EndpointId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The endpoint's id.")]
DeliveryId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The delivery's id.")]
Event = Literal["credential.issued", "credential.revoked", "program.completed"]


class WebhookIn(Strict):
    url: str = Field(
        max_length=2000,
        description="The receiver: an https URL (not a private or special-purpose address).",
    )
    events: list[Event] = Field(min_length=1, max_length=3)
    description: Text500 | None = None


class Template(Strict):
    subject: str | None = Field(default=None, max_length=emails.MAX_SUBJECT)
    body: str | None = Field(default=None, max_length=emails.MAX_BODY)


class EmailSettingsIn(Strict):
    language: Literal["en", "ko"] | None = Field(
        default=None, description="The language of the issuer's emails to learners."
    )
    templates: dict[Literal["issued", "revoked"], dict[Literal["en", "ko"], Template]] = Field(
        default_factory=dict,
        description="Subjects and bodies that replace the defaults (`null`: the default again). "
        "Placeholders: " + ", ".join("`{" + p + "}`" for p in emails.PLACEHOLDERS) + ".",
    )


class LrsIn(Strict):
    endpoint: str = Field(
        max_length=2000,
        description="The LRS's xAPI endpoint (statements go to `{endpoint}/statements`): https, "
        "not a private or special-purpose address.",
    )
    key: str = Field(min_length=1, max_length=200, description="The Basic auth user (key).")
    secret: str = Field(
        min_length=1, max_length=500, description="The Basic auth password; never shown again."
    )


class XapiSettingsIn(Strict):
    accountHomePage: str | None = Field(
        default=None,
        max_length=2000,
        description="The `actor.account.homePage` of the issuer's LMS: an account there is the "
        "member of the organisation run from this issuer whose employee number is its `name`.",
    )
    lrs: LrsIn | None = Field(
        default=None, description="Where to report badges awarded and revoked; `null`: nowhere."
    )


@router.post(
    "/issuers/{slug}/webhooks",
    status_code=201,
    summary="Add a webhook endpoint (its signing secret is returned once)",
    description="Needs the `admin` scope. Events are delivered signed (Standard Webhooks: "
    "`webhook-id`, `webhook-timestamp`, `webhook-signature`); see docs/api.md, Webhooks. The "
    "`secret` in the answer is never shown again.",
    responses=responses(*WRITE, 409),
)
def add_webhook(
    slug: Slug, body: WebhookIn, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    endpoint, secret = webhooks.add(
        db, services, issuer, body.url, list(body.events), body.description
    )
    return {**webhooks.public(endpoint), "secret": secret}


@router.get(
    "/issuers/{slug}/webhooks",
    summary="The issuer's webhook endpoints",
    description="Needs the `admin` scope. Secrets are not shown.",
    responses=responses(*READ),
)
def list_webhooks(slug: Slug, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    assert issuer.id is not None
    return {"webhooks": [webhooks.public(e) for e in webhooks.endpoints(db, issuer.id)]}


@router.delete(
    "/issuers/{slug}/webhooks/{endpoint_id}",
    status_code=204,
    summary="Remove a webhook endpoint",
    description="Needs the `admin` scope. Nothing more is sent to it, deliveries not yet made "
    "included.",
    responses=responses(*READ),
)
def remove_webhook(slug: Slug, endpoint_id: EndpointId, db: SessionDep, key: ApiKeyDep) -> Response:
    issuer = issuer_for(db, key, slug, "admin")
    assert issuer.id is not None
    webhooks.remove(db, issuer.id, endpoint_id)
    return Response(status_code=204)


@router.get(
    "/issuers/{slug}/webhooks/{endpoint_id}/deliveries",
    summary="An endpoint's delivery log",
    description="Needs the `admin` scope. Newest first: each delivery's event, state "
    "(`pending`, `delivered`, `failed`), attempts, last status and error, next attempt, and "
    "every attempt with the first bytes of the receiver's answer.",
    responses=responses(*READ),
)
def list_deliveries(
    slug: Slug,
    endpoint_id: EndpointId,
    db: SessionDep,
    key: ApiKeyDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    assert issuer.id is not None
    logged = webhooks.deliveries(db, issuer.id, endpoint_id, limit)
    return {"deliveries": [item.public() for item in logged]}


@router.post(
    "/issuers/{slug}/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    summary="Send a delivery again now",
    description="Needs the `admin` scope. For a delivery that failed or waits for its next "
    "attempt; it keeps its `webhook-id`. One the receiver acknowledged is not sent again (409).",
    responses=responses(*READ, 409),
)
def replay_delivery(
    slug: Slug,
    endpoint_id: EndpointId,
    delivery_id: DeliveryId,
    db: SessionDep,
    key: ApiKeyDep,
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    assert issuer.id is not None
    return webhooks.replay(db, issuer.id, endpoint_id, delivery_id).public()


@router.get(
    "/issuers/{slug}/emails",
    summary="The issuer's emails to learners: language and templates",
    description="Needs the `admin` scope. Every template in effect; `custom` says which are "
    "the issuer's own.",
    responses=responses(*READ),
)
def email_settings(slug: Slug, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    assert issuer.id is not None
    return emails.settings_of(db, issuer.id)


@router.put(
    "/issuers/{slug}/emails",
    summary="Set the language of the issuer's emails and override their templates",
    description="Needs the `admin` scope. Only what is given changes; a `null` subject or "
    "body returns to the default. Unknown placeholders are refused (400). `language` is also "
    "the issuer's language: catalogue achievements loaded afterwards (`laurel templates load`) "
    "are in it, so a Korean issuer's credentials carry Korean names, descriptions and criteria.",
    responses=responses(*WRITE),
)
def set_email_settings(
    slug: Slug, body: EmailSettingsIn, db: SessionDep, key: ApiKeyDep
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    assert issuer.id is not None
    templates: dict[str, dict[str, dict[str, str | None]]] = {
        kind: {lang: t.model_dump(exclude_unset=True) for lang, t in by.items()}
        for kind, by in body.templates.items()
    }
    return emails.configure(db, issuer.id, language=body.language, templates=templates)


@router.get(
    "/issuers/{slug}/xapi/settings",
    summary="The issuer's xAPI settings: its LMS accounts and its LRS",
    description="Needs the `admin` scope. The LRS secret is never shown.",
    responses=responses(*READ),
)
def xapi_settings(slug: Slug, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    assert issuer.id is not None
    return lrs.public(lrs.settings_of(db, issuer.id))


@router.put(
    "/issuers/{slug}/xapi/settings",
    summary="Set the issuer's LMS account home page and the LRS its badges are reported to",
    description="Needs the `admin` scope. Only what is given changes; `null` removes it. With "
    "an LRS, every badge awarded afterwards is reported to it as an xAPI 1.0.3 `earned` "
    "statement and every revocation as a `voided` one, after the commit, retried with back-off "
    "(docs/api.md, xAPI statements).",
    responses=responses(*WRITE),
)
def set_xapi_settings(
    slug: Slug, body: XapiSettingsIn, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    changes: dict[str, Any] = {}
    if "accountHomePage" in body.model_fields_set:
        changes["account_home_page"] = body.accountHomePage
    if "lrs" in body.model_fields_set:
        changes["lrs"] = body.lrs.model_dump() if body.lrs is not None else None
    return lrs.public(lrs.update(db, services, issuer, changes))
