"""The owner's pages of the console for telling people and systems: the issuer's webhook
endpoints (add — the secret shown once —, remove; each one's delivery log with *Replay*) and its
emails to learners (language; per-event templates with a preview; reset to the default).

Everything goes through the services the API uses (``issuer.notify.webhooks``,
``issuer.notify.emails``); the pages only read forms and show what those answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from issuer.core.errors import LaurelError
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.staff import Owner, OwnerForm, Staff
from issuer.issuing.notices import EVENTS
from issuer.notify import emails, webhooks
from issuer.web.render import render

router = APIRouter(tags=["pages"], include_in_schema=False)
EndpointId = Annotated[int, Path(ge=1, le=2**62)]
DeliveryId = Annotated[int, Path(ge=1, le=2**62)]
Kind = Annotated[str, Path(pattern="^(issued|revoked)$")]
Lang = Annotated[str, Path(pattern="^(en|ko)$")]


def _issuer_id(signed: Staff) -> int:
    assert signed.issuer.id is not None
    return signed.issuer.id


def _webhooks_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: Staff,
    status: int = 200,
    created: dict[str, Any] | None = None,
    error: str | None = None,
) -> Response:
    return render(
        request,
        services,
        "console_webhooks.html",
        status,
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        endpoints=[webhooks.public(e) for e in webhooks.endpoints(db, _issuer_id(signed))],
        events=EVENTS,
        created=created,
        error=error,
    )


@router.get("/console/webhooks")
def list_webhooks(
    request: Request, services: ServicesDep, db: SessionDep, signed: Owner
) -> Response:
    return _webhooks_page(request, services, db, signed)


@router.post("/console/webhooks")
async def add_webhook(
    request: Request, services: ServicesDep, db: SessionDep, signed: OwnerForm
) -> Response:
    form = await request.form()
    url = str(form.get("url", "")).strip()[:2000]
    events = [str(e) for e in form.getlist("events")][:10]
    description = str(form.get("description", "")).strip()[:500] or None
    try:
        endpoint, secret = webhooks.add(db, services, signed.issuer, url, events, description)
    except LaurelError as exc:
        return _webhooks_page(request, services, db, signed, exc.status, error=exc.detail)
    # the secret is in this answer only (never in a URL, stored sealed)
    created = {**webhooks.public(endpoint), "secret": secret}
    return _webhooks_page(request, services, db, signed, 201, created=created)


@router.post("/console/webhooks/{endpoint_id}/remove")
def remove_webhook(endpoint_id: EndpointId, db: SessionDep, signed: OwnerForm) -> Response:
    webhooks.remove(db, _issuer_id(signed), endpoint_id)
    return RedirectResponse("/console/webhooks", status_code=303)


def _deliveries_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: Staff,
    endpoint_id: int,
    status: int = 200,
    error: str | None = None,
) -> Response:
    endpoint = webhooks.endpoint(db, _issuer_id(signed), endpoint_id)
    logged = webhooks.deliveries(db, _issuer_id(signed), endpoint_id, 100)
    return render(
        request,
        services,
        "console_webhook.html",
        status,
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        endpoint=webhooks.public(endpoint),
        deliveries=[item.public() for item in logged],
        error=error,
    )


@router.get("/console/webhooks/{endpoint_id}")
def deliveries(
    request: Request, services: ServicesDep, db: SessionDep, signed: Owner, endpoint_id: EndpointId
) -> Response:
    return _deliveries_page(request, services, db, signed, endpoint_id)


@router.post("/console/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay")
def replay(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: OwnerForm,
    endpoint_id: EndpointId,
    delivery_id: DeliveryId,
) -> Response:
    """Send again after this request's commit (the ``webhooks.deliver`` effect)."""
    try:
        webhooks.replay(db, _issuer_id(signed), endpoint_id, delivery_id)
    except LaurelError as exc:
        if exc.status == 404:
            raise
        return _deliveries_page(request, services, db, signed, endpoint_id, exc.status, exc.detail)
    return RedirectResponse(f"/console/webhooks/{endpoint_id}?replayed={delivery_id}", 303)


def _emails_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: Staff,
    status: int = 200,
    error: str | None = None,
    preview: dict[str, str] | None = None,
    draft: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        services,
        "console_emails.html",
        status,
        staff=signed,
        csrf=signed.csrf,
        home="/console",
        chosen=emails.settings_of(db, _issuer_id(signed)),
        languages=emails.LANGUAGES,
        kinds=emails.KINDS,
        placeholders=emails.PLACEHOLDERS,
        error=error,
        preview=preview,
        draft=draft,
    )


@router.get("/console/emails")
def email_settings(
    request: Request, services: ServicesDep, db: SessionDep, signed: Owner
) -> Response:
    return _emails_page(request, services, db, signed)


@router.post("/console/emails/language")
async def set_language(
    request: Request, services: ServicesDep, db: SessionDep, signed: OwnerForm
) -> Response:
    form = await request.form()
    try:
        emails.configure(db, _issuer_id(signed), language=str(form.get("language", "")))
    except LaurelError as exc:
        return _emails_page(request, services, db, signed, exc.status, exc.detail)
    return RedirectResponse("/console/emails", status_code=303)


@router.post("/console/emails/{kind}/{lang}")
async def set_template(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: OwnerForm,
    kind: Kind,
    lang: Lang,
) -> Response:
    """Save (``action=save``), preview without saving (``action=preview``) or go back to the
    default (``action=reset``) one template."""
    form = await request.form()
    action = str(form.get("action", "save"))
    subject = str(form.get("subject", ""))[: emails.MAX_SUBJECT + 1]
    body = str(form.get("body", "")).replace("\r\n", "\n")[: emails.MAX_BODY + 1]
    draft = {"kind": kind, "lang": lang, "subject": subject, "body": body}
    try:
        if action == "preview":
            shown = emails.preview(services, signed.issuer, kind, lang, subject, body)
            return _emails_page(request, services, db, signed, preview=shown, draft=draft)
        fields: dict[str, str | None] = (
            {"subject": None, "body": None}
            if action == "reset"
            else {"subject": subject, "body": body}
        )
        emails.configure(db, _issuer_id(signed), templates={kind: {lang: fields}})
    except LaurelError as exc:
        return _emails_page(request, services, db, signed, exc.status, exc.detail, draft=draft)
    return RedirectResponse(f"/console/emails#{kind}-{lang}", status_code=303)
