"""HTML pages: ``/v/{id}`` (what a certificate's QR code opens) with its downloads, and
``/verify`` for any OB 3.0 credential. No JavaScript is needed to see a verdict."""

from __future__ import annotations

import codecs
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session

from issuer.artifacts.qrread import MAX_UPLOAD_BYTES, TooLarge, UploadError, read_qr_from_upload
from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.core.errors import BadRequest, LaurelError, NotFound, ServiceBusy
from issuer.http.cookies import language
from issuer.http.deps import ServicesDep, SessionDep, WriteSessionDep, in_unit
from issuer.http.gate import VerificationSlot, page_reader, page_slots
from issuer.http.negotiation import PAGE_OR_CREDENTIAL, preferred
from issuer.http.problems import problem
from issuer.http.sessions import PublicForm
from issuer.issuing import credentials as credential_service
from issuer.models import Credential
from issuer.verification import trust
from issuer.verification.fetching import LocalFirstFetcher
from issuer.verification.public_view import StoredReader, View, stored_view, submitted_view
from issuer.web import downloads
from issuer.web.downloads import verification_url
from issuer.web.i18n import translator
from issuer.web.render import (
    NO_STORE,
    PageMemory,
    form_before_sign_in,
    page_response,
    remembered_page,
)
from issuer.web.render import page as _page
from verifier.fetch import Fetcher
from verifier.sources import DEFAULT_MAX_BYTES

router = APIRouter(tags=["pages"], include_in_schema=False)


class _Elsewhere(BaseException):
    """Raised by the fetcher of a page made in the event loop at its first document from another
    host. A ``BaseException``, so that no ``except Exception`` on the way makes a verdict of it:
    the page is made again in a worker thread, where it may wait for that host."""


def _no_network(url: str) -> bytes:
    raise _Elsewhere(url)


ELSEWHERE = "laurel.pages_needing_network"
ELSEWHERE_REMEMBERED = 4096
"""Badges remembered (per process) to need another host's documents, whose pages go straight to
a worker thread."""


async def credential_page(request: Request) -> Response:
    """``GET /v/{credential_id}``: what a certificate's QR code opens, so the busiest page.

    On SQLite a badge whose documents are all this instance's own (its issuer's DID document and
    status lists, with trust lists that answer from memory) is read, verified and rendered in
    the event loop, holding a page slot and that slot's connection (``gate.page_reader``): a
    worker thread cost such a page a quarter of its CPU time. A badge that needs another host's
    document (an endorser's key, say) is made in one worker thread, as every page is on
    PostgreSQL, whose queries wait on the network.

    A plain Starlette route: it takes only its path's id and the app's services, and FastAPI's
    dependency solving and request wrapping cost the page ~35 µs (of ~1.2 ms, timed in one
    process)."""
    request.scope["route"] = PAGE_ROUTE  # FastAPI names only its own routes (request metrics)
    credential_id: str = request.path_params["credential_id"]
    services: Services = request.app.state.services
    wanted = preferred(request.headers.get("accept"), PAGE_OR_CREDENTIAL)
    if wanted != "text/html":
        return await in_unit(services, _credential_document, services, credential_id, wanted)
    async with page_slots(services).held():
        reader = page_reader(services) if trust.lists_answer_here(services) else None
        elsewhere = _needing_network(services)
        if reader is not None and credential_id not in elsewhere:
            try:
                return _credential_page(credential_id, request, services, reader, _no_network)
            except _Elsewhere:
                elsewhere[credential_id] = None
                while len(elsewhere) > ELSEWHERE_REMEMBERED:
                    elsewhere.popitem(last=False)
        return await in_unit(services, _credential_page, credential_id, request, services)


router.add_route("/v/{credential_id}", credential_page, methods=["GET"], include_in_schema=False)
PAGE_ROUTE = router.routes[-1]


def _credential_document(services: Services, credential_id: str, media_type: str) -> Response:
    """The signed credential as ``/v/{id}/credential.json`` gives it, in the media type asked
    for; a 404 problem for an unknown id."""
    with unit_of_work(services.engine, write=False) as db:
        try:
            document = _stored(db, credential_id).document
        except NotFound as exc:
            return problem(404, "Not found", exc.detail, headers=VARY_ACCEPT)
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return Response(body, media_type=media_type, headers={**VARY_ACCEPT, **NO_STORE})


VARY_ACCEPT = {"Vary": "Accept"}


def _needing_network(services: Services) -> OrderedDict[str, None]:
    found = services.cache.get(ELSEWHERE)
    if not isinstance(found, OrderedDict):  # made once, not on every page
        found = services.cache.setdefault(ELSEWHERE, OrderedDict())
    assert isinstance(found, OrderedDict)
    return found


def _credential_page(
    credential_id: str,
    request: Request,
    services: Services,
    engine: Engine | None = None,
    network: Fetcher | None = None,
) -> HTMLResponse:
    """The page of a badge this instance issued. ``engine``: the page reader's (SQLite; the row
    is read by its ``StoredReader``, the rest through a session on it), else the service's
    engine and a session for everything. ``network``: how documents of other hosts are fetched
    (default: the service's fetcher)."""
    try:
        stored = _stored_reader(services, engine)(credential_id) if engine else None
        with unit_of_work(engine or services.engine, write=False) as db:
            fetcher = LocalFirstFetcher(db, services, network) if network else None
            view = stored_view(db, services, credential_id, fetcher=fetcher, stored=stored)
    except NotFound as exc:
        response = _page(request, "error.html", 404, title="Badge not found", detail=exc.detail)
    else:
        response = remembered_page(
            request,
            _page_memory(services),
            str(view.credential_id),
            "credential.html",
            view=view,
            base_url=services.settings.base_url,
            page_url=verification_url(services, str(view.credential_id)),
            badge_url=f"/v/{view.credential_id}/badge.png",
        )
    response.headers.add_vary_header("Accept")  # the same URL gives JSON clients the credential
    return response


PAGE_MEMORY = "laurel.badge_pages"
PAGES_REMEMBERED = 256
"""Badge pages remembered (per process) by what they were rendered from: each its body (~11 KB)
and its key (the report, which holds the parsed credential, and the plain values' bytes), ~30 KB
in all, so ~7 MB a process. A badge's page is kept from its second view among the last this many
badges viewed."""


def _page_memory(services: Services) -> PageMemory:
    found = services.cache.get(PAGE_MEMORY)
    if not isinstance(found, PageMemory):
        found = services.cache.setdefault(PAGE_MEMORY, PageMemory(PAGES_REMEMBERED))
    assert isinstance(found, PageMemory)
    return found


STORED_READER = "laurel.page_stored_reader"


def _stored_reader(services: Services, engine: Engine) -> StoredReader:
    """The page reader's ``StoredReader`` (made once per engine: it compiles its select). With
    it, a page whose issuer's documents and trust lists answer from memory runs no statement
    through its session, which then never begins a transaction."""
    found = services.cache.get(STORED_READER)
    if not (isinstance(found, StoredReader) and found.engine is engine):
        found = StoredReader(engine)
        services.cache[STORED_READER] = found
    return found


def _stored(db: Session, credential_id: str) -> Credential:
    return credential_service.get_credential(db, credential_id)


@router.get("/v/{credential_id}/credential.json")
def credential_json(credential_id: str, db: SessionDep) -> Response:
    row = _stored(db, credential_id)
    return Response(
        json.dumps(row.document, ensure_ascii=False, indent=2),
        media_type="application/vc+ld+json",
        headers={"Content-Disposition": f'attachment; filename="{row.id}.json"'},
    )


@router.get("/v/{credential_id}/credential.jwt")
def credential_jwt(credential_id: str, services: ServicesDep, db: WriteSessionDep) -> Response:
    row = _stored(db, credential_id)
    return Response(
        credential_service.as_jwt(db, services, row),
        media_type="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{row.id}.jwt"'},
    )


@router.get("/v/{credential_id}/badge.png")
def badge_png(credential_id: str, request: Request, db: SessionDep) -> Response:
    row = _stored(db, credential_id)
    return Response(
        downloads.badge_png(db, row, language(request)),
        media_type="image/png",
        headers={"Content-Disposition": f'inline; filename="{row.id}.png"', **NO_STORE},
    )


@router.get("/v/{credential_id}/badge.svg")
def badge_svg(credential_id: str, request: Request, db: SessionDep) -> Response:
    row = _stored(db, credential_id)
    return Response(
        downloads.badge_svg(db, row, language(request)),
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="{row.id}.svg"', **NO_STORE},
    )


@router.get("/v/{credential_id}/qr.png")
def qr_png(credential_id: str, services: ServicesDep, db: SessionDep) -> Response:
    from issuer.artifacts.qr import qr_png_cached as render

    row = _stored(db, credential_id)
    return Response(render(verification_url(services, row.id)), media_type="image/png")


@router.get("/v/{credential_id}/qr.svg")
def qr_svg(credential_id: str, services: ServicesDep, db: SessionDep) -> Response:
    from issuer.artifacts.qr import qr_svg_cached as render

    row = _stored(db, credential_id)
    return Response(render(verification_url(services, row.id)), media_type="image/svg+xml")


@router.get("/v/{credential_id}/offline-qr.png")
def offline_qr_png(
    credential_id: str, services: ServicesDep, db: SessionDep, encoding: str = "B"
) -> Response:
    """The offline QR code: the badge's QR edition itself (``VP1-B…`` by default, which the
    Learner Credential Wallet reads; ``?encoding=R`` for ``VP1-R…``), at level M."""
    from issuer.artifacts.qr import OFFLINE_LEVEL, qr_png

    row = _stored(db, credential_id)
    text = _offline_text(db, services, row, encoding)
    return Response(
        qr_png(text, scale=4, level=OFFLINE_LEVEL),
        media_type="image/png",
        headers={"Content-Disposition": f'inline; filename="{row.id}-offline.png"', **NO_STORE},
    )


@router.get("/v/{credential_id}/offline-qr.txt")
def offline_qr_text(
    credential_id: str, services: ServicesDep, db: SessionDep, encoding: str = "B"
) -> Response:
    """The text the offline QR code holds (``VP1-B…`` or, with ``?encoding=R``, ``VP1-R…``)."""
    row = _stored(db, credential_id)
    return Response(
        _offline_text(db, services, row, encoding),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{row.id}-offline.txt"', **NO_STORE},
    )


def _offline_text(db: Session, services: Services, row: Credential, encoding: str) -> str:
    from issuer.issuing.qr_edition import ENCODINGS, vpqr_text

    if encoding not in ENCODINGS:
        raise BadRequest("encoding is B (base32, legacy CBOR-LD) or R (base45, CBOR-LD 1.0)")
    return vpqr_text(db, services, row, encoding)


@router.get("/v/{credential_id}/certificate.pdf")
def certificate(
    credential_id: str, request: Request, services: ServicesDep, db: SessionDep
) -> Response:
    """The printable certificate, in the page's language; stamped with the state and date while
    the credential is revoked, expired or not yet valid."""
    row = _stored(db, credential_id)
    return Response(
        downloads.certificate_pdf(db, services, row, language(request)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{row.id}.pdf"', **NO_STORE},
    )


@router.get("/terms", response_class=HTMLResponse)
def terms(request: Request, services: ServicesDep) -> Response:
    """This service's terms of service: the operator's (``LAUREL_TERMS_URL``), or a page
    saying there are none."""
    return _about(request, services, "terms", services.settings.terms_url)


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request, services: ServicesDep) -> Response:
    """The operator's privacy policy (``LAUREL_PRIVACY_URL``), or what Laurel keeps."""
    return _about(request, services, "privacy", services.settings.privacy_url)


_ABOUT_TITLES = {
    ("terms", "en"): "Terms of service",
    ("terms", "ko"): "이용 약관",
    ("privacy", "en"): "Privacy",
    ("privacy", "ko"): "개인정보 처리방침",
}


def _about(request: Request, services: Services, page: str, elsewhere: str | None) -> Response:
    if elsewhere:
        return RedirectResponse(elsewhere, status_code=302)
    heading = _ABOUT_TITLES[(page, language(request))]
    service = services.settings.service_name
    return _page(request, "about.html", page=page, heading=heading, service=service)


@router.get("/frameworks/{framework}/{code}", response_class=HTMLResponse)
def skill_page(framework: str, code: str, request: Request, services: ServicesDep) -> Response:
    """A skill's page, the target of alignments (JSON with ``Accept: application/json``)."""
    from issuer.skills.frameworks import skill_view

    try:
        skill = skill_view(services, framework, code)
    except NotFound as exc:
        if "application/json" in request.headers.get("accept", ""):
            raise
        return _page(request, "error.html", 404, title="Skill not found", detail=exc.detail)
    if "application/json" in request.headers.get("accept", ""):
        return Response(json.dumps(skill, ensure_ascii=False), media_type="application/json")
    return page_response(request, "skill.html", {"skill": skill})


def _verify_page(
    request: Request, services: Services, status: int = 200, **context: Any
) -> HTMLResponse:
    """The form, with its double-submit CSRF token (the cookie is set on a first visit)."""
    return form_before_sign_in(request, services, "verify.html", status, **context)


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request, services: ServicesDep) -> HTMLResponse:
    return _verify_page(request, services, view=None, error=None)


@router.post("/verify", response_class=HTMLResponse)
async def verify_submitted(
    request: Request,
    services: ServicesDep,
    _: PublicForm,
    _slot: VerificationSlot,
    pasted: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    upload: UploadFile | None = None,
) -> HTMLResponse:
    """Verifying changes nothing: it reads, in a read-only unit of work of its own, so a slow
    fetch of someone else's documents never holds up a writer. An uploaded picture or PDF is
    read before that unit takes a database slot: reading a PDF may take up to
    ``qrread.PDF_SECONDS``, holding only the verification slot meanwhile. The form is checked
    like any form posted before sign-in (``PublicForm``: the double-submit cookie and
    ``Origin``), so another site cannot post to it in a visitor's name."""
    wanted = email.strip() or None
    try:
        given = await _given(pasted, url, upload, language(request))
        view = await in_unit(services, _verified_view, services, given, wanted)
    except ServiceBusy:
        raise  # every database slot taken: 503 with Retry-After, as on any route
    except LaurelError as exc:
        return _verify_page(request, services, 400, view=None, error=exc.detail, email=email)
    badge_url = f"/v/{view.credential_id}/badge.png" if view.credential_id else None
    return _verify_page(request, services, view=view, error=None, badge_url=badge_url, email=email)


@dataclass(frozen=True)
class _Link:
    """A URL given in the form, or read from an upload's QR code."""

    url: str


async def _given(
    pasted: str, url: str, upload: UploadFile | None, lang: str
) -> str | bytes | _Link:
    """What to verify, from the form. A badge file is verified as it is; a photo of a QR code,
    a scan or a PDF certificate leads to the credential its QR code points to."""
    t = translator(lang)
    if upload is not None and upload.filename:
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise BadRequest(t("file_over", mb=MAX_UPLOAD_BYTES // (1024 * 1024)))
        if not data:
            raise BadRequest("the uploaded file is empty")
        if _is_badge_file(data):
            if len(data) > DEFAULT_MAX_BYTES:
                raise BadRequest(t("file_over", mb=DEFAULT_MAX_BYTES // (1024 * 1024)))
            return data
        try:
            return _Link(await run_in_threadpool(read_qr_from_upload, data))
        except UploadError as exc:
            raise BadRequest(_refusal(exc, lang)) from None
    if pasted.strip():
        return pasted
    if url.strip():
        return _Link(url.strip())
    raise BadRequest("paste a credential, upload a file or give a URL")


def _verified_view(services: Services, given: str | bytes | _Link, email: str | None) -> View:
    with unit_of_work(services.engine, write=False) as db:
        source = (
            _view_for_url(db, services, given.url, email) if isinstance(given, _Link) else given
        )
        if isinstance(source, View):
            return source
        return submitted_view(db, services, source, email=email)


def _refusal(error: UploadError, lang: str) -> str:
    """Why an upload could not be read, in the page's language (the size refusals in Korean
    too; the others in English)."""
    if lang != "ko" or not isinstance(error, TooLarge):
        return error.message
    if error.size is None:
        return translator(lang)("file_over", mb=MAX_UPLOAD_BYTES // (1024 * 1024))
    width, height = error.size
    return translator(lang)("picture_too_many_pixels", width=width, height=height)


def _is_badge_file(data: bytes) -> bool:
    """A credential file (JSON, a JWT, an SVG, a baked PNG) rather than a picture or PDF to read
    a QR code from."""
    from verifier.baking import PNG_SIGNATURE, read_png
    from verifier.errors import VerifierError

    if data.startswith(PNG_SIGNATURE):
        try:
            read_png(data)
        except VerifierError:
            return False  # a picture, maybe of a QR code
        return True
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[", b"<", b"ey")):  # JSON, XML/SVG, a compact JWS
        return True
    try:  # text (a pasted-in file) goes to the verifier, which says what it is not
        codecs.getincrementaldecoder("utf-8")().decode(data[:4096], final=False)
    except UnicodeDecodeError:
        return False
    return not head.startswith(b"%PDF")


def _view_for_url(
    db: Session, services: Services, url: str, email: str | None = None
) -> View | str | bytes:
    """A link to a badge of this instance (``/v/{id}``, a share link ``/s/{token}``) is verified
    from its own records; any other is fetched."""
    from issuer.wallet.sharing import open_link

    path = services.settings.own_path(url)
    if path is not None and path.startswith(("/v/", "/s/")):
        name = path[3:].split("/")[0].split("?")[0]
        if path.startswith("/v/"):
            return stored_view(db, services, name, email=email)
        shared = open_link(db, name, count=False)
        if shared.credential is not None:
            return stored_view(db, services, shared.credential.id, email=email)
        assert shared.imported is not None
        return bytes(shared.imported.original)
    return url
