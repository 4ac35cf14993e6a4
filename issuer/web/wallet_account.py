"""The wallet's account pages: emails (add with an emailed proof, primary, remove; a proven
email of another learner record merges it), the public profile, importing badges, exporting
everything, downloading one's data and deleting the account."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from issuer.core.errors import BadRequest, LaurelError, PayloadTooLarge
from issuer.http.cookies import LEARNER_COOKIE, clear_cookie, client_address, language
from issuer.http.deps import ServicesDep, SessionDep, read_then_write
from issuer.http.sessions import DetachedLearnerForm, LearnerForm, LearnerSession, MaybeLearner
from issuer.notify import optout
from issuer.people import signin
from issuer.wallet import accounts, sharing
from issuer.wallet import badges as wallet
from issuer.web.render import NO_STORE, wallet_message
from issuer.web.render import wallet_page as page
from verifier.sources import DEFAULT_MAX_BYTES

router = APIRouter(tags=["pages"], include_in_schema=False)
MAX_IMPORT_BYTES = DEFAULT_MAX_BYTES  # what the import service accepts


def _done(after: str, done: str) -> Response:
    return RedirectResponse(f"{after}?done={done}", status_code=303)


@router.get("/wallet/emails")
def emails_page(
    request: Request, services: ServicesDep, db: SessionDep, signed: LearnerSession
) -> Response:
    return page(
        request,
        services,
        "wallet_emails.html",
        session=signed,
        emails=accounts.emails(db, signed.id),
        done=request.query_params.get("done"),
        sent=request.query_params.get("sent"),
    )


@router.post("/wallet/emails")
def add_email(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    sent = accounts.request_email(
        db, services, signed.id, email, client_address(request), language(request)
    )
    return RedirectResponse(f"/wallet/emails?sent={quote(sent)}", status_code=303)


@router.get("/wallet/emails/confirm/{token}")
def confirm_form(
    token: str, request: Request, services: ServicesDep, db: SessionDep, signed: MaybeLearner
) -> Response:
    if signed is None:
        return wallet_message(
            request,
            services,
            401,
            "sign in to your wallet in this browser first, then open the link again",
            session=None,
        )
    signin.check_usable(db, token, signin.ADD_EMAIL)
    return page(
        request,
        services,
        "wallet_continue.html",
        session=signed,
        csrf=signed.csrf,
        action=f"/wallet/emails/confirm/{quote(token)}",
        title_key="add_email",
    )


@router.post("/wallet/emails/confirm/{token}")
def confirm(token: str, db: SessionDep, signed: LearnerForm) -> Response:
    accounts.confirm_email(db, signed.id, token)
    return _done("/wallet/emails", "email_added")


@router.post("/wallet/emails/primary")
def make_primary(
    db: SessionDep, signed: LearnerForm, email: Annotated[str, Form(max_length=320)] = ""
) -> Response:
    accounts.set_primary(db, signed.id, email)
    return _done("/wallet/emails", "primary")


@router.post("/wallet/emails/remove")
def remove_email(
    db: SessionDep, signed: LearnerForm, email: Annotated[str, Form(max_length=320)] = ""
) -> Response:
    accounts.remove_email(db, signed.id, email)
    return _done("/wallet/emails", "removed")


@router.get("/wallet/profile")
def profile_settings(
    request: Request, services: ServicesDep, db: SessionDep, signed: LearnerSession
) -> Response:
    return page(
        request,
        services,
        "wallet_profile.html",
        session=signed,
        profile=sharing.get_profile(db, signed.id),
        badges=[b for b in wallet.badges(db, signed.id) if b.usable and b.yours],
        done=request.query_params.get("done"),
    )


@router.post("/wallet/profile")
async def save_profile(request: Request, db: SessionDep, signed: LearnerForm) -> Response:
    form = await request.form()
    chosen = [str(v) for v in form.getlist("badges")][:500]
    await run_in_threadpool(
        lambda: sharing.save_profile(
            db,
            signed.id,
            slug=str(form.get("slug", ""))[:64],
            display_name=str(form.get("display_name", ""))[:200],
            headline=str(form.get("headline", ""))[:300],
            published=form.get("published") == "yes",
            badges=chosen,
        )
    )
    return _done("/wallet/profile", "saved")


@router.get("/wallet/import")
def import_form(request: Request, services: ServicesDep, signed: LearnerSession) -> Response:
    return page(request, services, "wallet_import.html", session=signed, error=None)


@router.post("/wallet/import")
async def import_badge(
    request: Request,
    services: ServicesDep,
    background: BackgroundTasks,
    signed: DetachedLearnerForm,
    pasted: Annotated[str, Form()] = "",
    url: Annotated[str, Form(max_length=2000)] = "",
    upload: UploadFile | None = None,
) -> Response:
    """Read the badge and the hosts it names with no write transaction open, then keep it in
    a short unit of work (``read_then_write``); a refused import stores nothing."""
    from issuer.wallet import imports

    try:
        if len(pasted) > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"a badge can be at most {MAX_IMPORT_BYTES:,} bytes")
        given: dict[str, Any]
        if upload is not None and upload.filename:
            data = await upload.read(MAX_IMPORT_BYTES + 1)
            if len(data) > MAX_IMPORT_BYTES:
                raise PayloadTooLarge(f"a badge can be at most {MAX_IMPORT_BYTES:,} bytes")
            given = {"data": data, "filename": upload.filename}
        elif pasted.strip():
            given = {"data": pasted.strip().encode("utf-8")}
        elif url.strip():
            given = {"url": url.strip()}
        else:
            raise BadRequest("choose a file, paste a badge or give its URL")
        learner = signed.id
        row = await read_then_write(
            services,
            background,
            lambda db: imports.foresee_import(db, services, learner, **given),
            lambda db: imports.import_badge(db, services, learner, **given),
        )
    except LaurelError as exc:  # nothing of a refused import is kept
        return page(
            request, services, "wallet_import.html", exc.status, session=signed, error=exc.detail
        )
    return RedirectResponse(f"/wallet/badges/i-{row.id}?done=imported", status_code=303)


@router.post("/wallet/badges/{ref}/recheck")
async def recheck(
    ref: str, services: ServicesDep, background: BackgroundTasks, signed: DetachedLearnerForm
) -> Response:
    """Verify the badge again, its hosts read with no write transaction open."""
    from issuer.wallet import imports

    def look(db: Session) -> None:
        imports.foresee_recheck(db, services, wallet.imported_credential(db, signed.id, ref))

    def then(db: Session) -> None:
        imports.recheck(db, services, wallet.imported_credential(db, signed.id, ref))

    await read_then_write(services, background, look, then)
    return _done(f"/wallet/badges/{ref}", "rechecked")


@router.post("/wallet/badges/{ref}/remove")
def remove_import(ref: str, db: SessionDep, signed: LearnerForm) -> Response:
    accounts.remove_import(db, signed.id, ref)
    return _done("/wallet", "removed")


@router.get("/wallet/account")
def account_page(
    request: Request, services: ServicesDep, db: SessionDep, signed: LearnerSession
) -> Response:
    return page(
        request,
        services,
        "wallet_account.html",
        session=signed,
        badge_emails=not optout.opted_out(db, signed.id),
        done=request.query_params.get("done"),
    )


@router.get("/wallet/export.zip")
def export(services: ServicesDep, db: SessionDep, signed: LearnerSession) -> Response:
    return Response(
        accounts.export_zip(db, services, signed.id),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="laurel-badges.zip"', **NO_STORE},
    )


@router.get("/wallet/data.json")
def my_data(services: ServicesDep, db: SessionDep, signed: LearnerSession) -> Response:
    return Response(
        json.dumps(accounts.personal_data(db, services, signed.id), ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="laurel-my-data.json"', **NO_STORE},
    )


@router.post("/wallet/account/delete")
def delete_account(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    confirm: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if confirm.strip() != "DELETE":
        raise BadRequest("type DELETE to confirm that the account should go")
    accounts.delete_account(db, signed.id)
    response = wallet_message(request, services, 200, None, deleted=True, session=None)
    clear_cookie(response, services, LEARNER_COOKIE)
    return response
