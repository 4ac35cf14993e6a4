"""HTML pages: ``/v/{id}`` (what a certificate's QR code opens) with its downloads, and
``/verify`` for any OB 3.0 credential. No JavaScript is needed to see a verdict."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from issuer.api.deps import ServicesDep
from issuer.errors import LaurelError, NotFound
from issuer.models import Credential, Issuer
from issuer.services import credentials as credential_service
from issuer.services.context import Services
from issuer.services.public_view import View, stored_view, submitted_view
from issuer.web.auth import language
from issuer.web.i18n import translator
from issuer.web.render import NO_STORE, templates
from verifier.baking import bake_png, bake_svg
from verifier.sources import DEFAULT_MAX_BYTES

router = APIRouter(tags=["pages"], include_in_schema=False)


def _words(request: Request) -> dict[str, Any]:
    """The page's language (English or Korean; ``?lang=``, a cookie, ``Accept-Language``)."""
    lang = language(request)
    return {"lang": lang, "t": translator(lang)}


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, {**_words(request), **context}, status_code=status, headers=NO_STORE
    )


def _not_found(request: Request, detail: str) -> HTMLResponse:
    return _page(request, "error.html", 404, title="Badge not found", detail=detail)


def verification_url(services: Services, credential_id: str) -> str:
    return f"{services.settings.base_url}/v/{credential_id}"


@router.get("/v/{credential_id}", response_class=HTMLResponse)
def credential_page(credential_id: str, request: Request, services: ServicesDep) -> HTMLResponse:
    with Session(services.engine) as session:
        try:
            view = stored_view(services, session, credential_id)
        except NotFound as exc:
            return _not_found(request, exc.detail)
    return _page(
        request,
        "credential.html",
        view=view,
        base_url=services.settings.base_url,
        page_url=verification_url(services, str(view.credential_id)),
        badge_url=f"/v/{view.credential_id}/badge.png",
    )


def _stored(services: Services, credential_id: str) -> tuple[Credential, Issuer]:
    with Session(services.engine) as session:
        row = credential_service.get_credential(session, credential_id)
        issuer = session.get(Issuer, row.issuer_id)
        assert issuer is not None
        return row, issuer


@router.get("/v/{credential_id}/credential.json")
def credential_json(credential_id: str, services: ServicesDep) -> Response:
    row, _ = _stored(services, credential_id)
    return Response(
        json.dumps(row.document, ensure_ascii=False, indent=2),
        media_type="application/vc+ld+json",
        headers={"Content-Disposition": f'attachment; filename="{row.id}.json"'},
    )


@router.get("/v/{credential_id}/credential.jwt")
def credential_jwt(credential_id: str, services: ServicesDep) -> Response:
    row, _ = _stored(services, credential_id)
    return Response(
        credential_service.as_jwt(services, row),
        media_type="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{row.id}.jwt"'},
    )


def _badge_inputs(services: Services, row: Credential) -> dict[str, Any]:
    from issuer.models import Achievement

    with Session(services.engine) as session:
        achievement = session.get(Achievement, row.achievement_id)
    document = row.document
    return {
        "design": achievement.design if achievement else {},
        "title": document["credentialSubject"]["achievement"]["name"],
        "issuer_name": document["issuer"].get("name", ""),
        "year": int(str(document.get("validFrom", ""))[:4] or date.today().year),
    }


@router.get("/v/{credential_id}/badge.png")
def badge_png(credential_id: str, services: ServicesDep) -> Response:
    from issuer.artifacts.images import render_badge_png_cached as render_badge_png

    row, _ = _stored(services, credential_id)
    inputs = _badge_inputs(services, row)
    image = render_badge_png(
        inputs["design"],
        title=inputs["title"],
        issuer_name=inputs["issuer_name"],
        year=inputs["year"],
    )
    baked = bake_png(image, json.dumps(row.document, ensure_ascii=False))
    return Response(
        baked,
        media_type="image/png",
        headers={"Content-Disposition": f'inline; filename="{row.id}.png"'},
    )


@router.get("/v/{credential_id}/badge.svg")
def badge_svg(credential_id: str, services: ServicesDep) -> Response:
    from issuer.artifacts.images import render_badge_svg_cached as render_badge_svg

    row, _ = _stored(services, credential_id)
    inputs = _badge_inputs(services, row)
    image = render_badge_svg(
        inputs["design"],
        title=inputs["title"],
        issuer_name=inputs["issuer_name"],
        year=inputs["year"],
    )
    baked = bake_svg(image, json.dumps(row.document, ensure_ascii=False), is_jws=False)
    return Response(
        baked,
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="{row.id}.svg"'},
    )


@router.get("/v/{credential_id}/qr.png")
def qr_png(credential_id: str, services: ServicesDep) -> Response:
    from issuer.artifacts.qr import qr_png_cached as render

    row, _ = _stored(services, credential_id)
    return Response(render(verification_url(services, row.id)), media_type="image/png")


@router.get("/v/{credential_id}/qr.svg")
def qr_svg(credential_id: str, services: ServicesDep) -> Response:
    from issuer.artifacts.qr import qr_svg_cached as render

    row, _ = _stored(services, credential_id)
    return Response(render(verification_url(services, row.id)), media_type="image/svg+xml")


@router.get("/v/{credential_id}/certificate.pdf")
def certificate(credential_id: str, services: ServicesDep) -> Response:
    from issuer.artifacts.certificate import CertificateData, certificate_pdf
    from issuer.artifacts.images import render_badge_png_cached as render_badge_png

    row, issuer = _stored(services, credential_id)
    document = row.document
    inputs = _badge_inputs(services, row)
    summary = submitted_view(services, document).report.summary
    data = CertificateData(
        issuer_name=issuer.name,
        issuer_logo_png=None,
        learner_name=summary.recipient_name,
        achievement_name=inputs["title"],
        achievement_description=document["credentialSubject"]["achievement"].get("description"),
        issued_on=date.fromisoformat(document["validFrom"][:10]),
        valid_until=date.fromisoformat(document["validUntil"][:10])
        if document.get("validUntil")
        else None,
        learning_hours=document["credentialSubject"].get("creditsEarned"),
        signatory_name=issuer.signatory_name,
        signatory_title=issuer.signatory_title,
        credential_id=document["id"],
        verify_url=verification_url(services, row.id),
        badge_png=render_badge_png(
            inputs["design"],
            title=inputs["title"],
            issuer_name=inputs["issuer_name"],
            year=inputs["year"],
        ),
    )
    return Response(
        certificate_pdf(data),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{row.id}.pdf"'},
    )


@router.get("/frameworks/{framework}/{code}", response_class=HTMLResponse)
def skill_page(framework: str, code: str, request: Request, services: ServicesDep) -> Response:
    """A skill's page, the target of alignments (JSON with ``Accept: application/json``)."""
    from issuer.services.frameworks import skill_view

    try:
        skill = skill_view(services, framework, code)
    except NotFound as exc:
        if "application/json" in request.headers.get("accept", ""):
            raise
        return _page(request, "error.html", 404, title="Skill not found", detail=exc.detail)
    if "application/json" in request.headers.get("accept", ""):
        return Response(json.dumps(skill, ensure_ascii=False), media_type="application/json")
    return templates.TemplateResponse(request, "skill.html", {**_words(request), "skill": skill})


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request) -> HTMLResponse:
    return _page(request, "verify.html", view=None, error=None)


@router.post("/verify", response_class=HTMLResponse)
async def verify_submitted(
    request: Request,
    services: ServicesDep,
    pasted: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    upload: UploadFile | None = None,
) -> HTMLResponse:
    try:
        source = await _source(services, pasted, url, upload)
    except LaurelError as exc:
        return _page(request, "verify.html", 400, view=None, error=exc.detail)
    if isinstance(source, View):
        view = source
    else:
        view = await run_in_threadpool(submitted_view, services, source)
    badge_url = f"/v/{view.credential_id}/badge.png" if view.credential_id else None
    return _page(request, "verify.html", view=view, error=None, badge_url=badge_url)


async def _source(
    services: Services, pasted: str, url: str, upload: UploadFile | None
) -> View | str | bytes:
    """What to verify, from the form; a QR photo leads to the credential it points to."""
    from issuer.errors import BadRequest

    if upload is not None and upload.filename:
        data = await upload.read(DEFAULT_MAX_BYTES + 1)
        if len(data) > DEFAULT_MAX_BYTES:
            raise BadRequest(f"the file is over {DEFAULT_MAX_BYTES // (1024 * 1024)} MB")
        if not data:
            raise BadRequest("the uploaded file is empty")
        qr_target = await run_in_threadpool(_qr_target, data)
        if qr_target is not None:
            return await run_in_threadpool(_view_for_url, services, qr_target)
        return data
    if pasted.strip():
        return pasted
    if url.strip():
        return await run_in_threadpool(_view_for_url, services, url.strip())
    raise BadRequest("paste a credential, upload a file or give a URL")


def _qr_target(data: bytes) -> str | None:
    """The text of a QR code in an image that carries no baked credential, if any."""
    from verifier.baking import PNG_SIGNATURE, read_png
    from verifier.errors import VerifierError

    if data.startswith(PNG_SIGNATURE):
        try:
            read_png(data)
            return None  # a baked badge: verify the credential itself
        except VerifierError:
            pass
    if not data.startswith((PNG_SIGNATURE, b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM")):
        return None
    from issuer.artifacts.qrread import read_qr

    return read_qr(data)


def _view_for_url(services: Services, url: str) -> View | str:
    """A link to a Laurel page of this instance is verified from its own records."""
    prefix = f"{services.settings.base_url}/v/"
    if url.startswith(prefix):
        credential_id = url.removeprefix(prefix).split("/")[0].split("?")[0]
        with Session(services.engine) as session:
            return stored_view(services, session, credential_id)
    return url
