"""The wallet's account pages: emails (add with an emailed proof, primary, remove; a proven
email of another learner record merges it), the public profile, importing badges, exporting
everything, downloading one's data and deleting the account."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from issuer.core.errors import BadRequest, LaurelError, PayloadTooLarge
from issuer.http.deps import ServicesDep
from issuer.people import accounts, signin
from issuer.wallet import badges as wallet
from issuer.wallet import sharing
from issuer.web.auth import (
    LEARNER_COOKIE,
    check_form,
    clear_cookie,
    client_address,
    language,
)
from issuer.web.wallet import _act, me, message, page, to_login
from verifier.sources import DEFAULT_MAX_BYTES

router = APIRouter(tags=["pages"], include_in_schema=False)
MAX_IMPORT_BYTES = DEFAULT_MAX_BYTES  # what the import service accepts


@router.get("/wallet/emails")
def emails_page(request: Request, services: ServicesDep) -> Response:
    session = me(request, services)
    if session is None:
        return to_login()
    assert session.learner_id is not None
    with Session(services.engine) as db:
        rows = accounts.emails(db, session.learner_id)
    return page(
        request,
        services,
        "wallet_emails.html",
        session=session,
        emails=rows,
        done=request.query_params.get("done"),
        sent=request.query_params.get("sent"),
    )


@router.post("/wallet/emails")
def add_email(
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    session = me(request, services)
    if session is None:
        return to_login()
    assert session.learner_id is not None
    try:
        check_form(request, services, csrf, session.csrf)
        sent = accounts.request_email(
            services, session.learner_id, email, client_address(request), language(request)
        )
    except LaurelError as exc:
        return message(request, services, exc.status, exc.detail, session)
    return RedirectResponse(f"/wallet/emails?sent={quote(sent)}", status_code=303)


@router.get("/wallet/emails/confirm/{token}")
def confirm_form(token: str, request: Request, services: ServicesDep) -> Response:
    session = me(request, services)
    if session is None:
        return message(
            request,
            services,
            401,
            "sign in to your wallet in this browser first, then open the link again",
            None,
        )
    try:
        signin.check_usable(services, token, signin.ADD_EMAIL)
    except LaurelError as exc:
        return message(request, services, exc.status, exc.detail, session)
    return page(
        request,
        services,
        "wallet_continue.html",
        session=session,
        csrf=session.csrf,
        action=f"/wallet/emails/confirm/{quote(token)}",
        title_key="add_email",
    )


@router.post("/wallet/emails/confirm/{token}")
def confirm(
    token: str,
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    return _act(
        request,
        services,
        csrf,
        "email_added",
        lambda learner_id: accounts.confirm_email(services, learner_id, token),
        "/wallet/emails",
    )


@router.post("/wallet/emails/primary")
def make_primary(
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    return _act(
        request,
        services,
        csrf,
        "primary",
        lambda learner_id: accounts.set_primary(services, learner_id, email),
        "/wallet/emails",
    )


@router.post("/wallet/emails/remove")
def remove_email(
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    return _act(
        request,
        services,
        csrf,
        "removed",
        lambda learner_id: accounts.remove_email(services, learner_id, email),
        "/wallet/emails",
    )


@router.get("/wallet/profile")
def profile_settings(request: Request, services: ServicesDep) -> Response:
    session = me(request, services)
    if session is None:
        return to_login()
    assert session.learner_id is not None
    with Session(services.engine) as db:
        current = sharing.get_profile(db, session.learner_id)
        every = [b for b in wallet.badges(db, session.learner_id) if b.usable]
    return page(
        request,
        services,
        "wallet_profile.html",
        session=session,
        profile=current,
        badges=every,
        done=request.query_params.get("done"),
    )


@router.post("/wallet/profile")
async def save_profile(request: Request, services: ServicesDep) -> Response:
    form = await request.form()
    chosen = [str(v) for v in form.getlist("badges")][:500]

    def action(learner_id: int) -> None:
        sharing.save_profile(
            services,
            learner_id,
            slug=str(form.get("slug", ""))[:64],
            display_name=str(form.get("display_name", ""))[:200],
            headline=str(form.get("headline", ""))[:300],
            published=form.get("published") == "yes",
            badges=chosen,
        )

    return await run_in_threadpool(
        _act, request, services, str(form.get("csrf", ""))[:100], "saved", action, "/wallet/profile"
    )


@router.get("/wallet/import")
def import_form(request: Request, services: ServicesDep) -> Response:
    session = me(request, services)
    if session is None:
        return to_login()
    return page(request, services, "wallet_import.html", session=session, error=None)


@router.post("/wallet/import")
async def import_badge(
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    pasted: Annotated[str, Form()] = "",
    url: Annotated[str, Form(max_length=2000)] = "",
    upload: UploadFile | None = None,
) -> Response:
    from issuer.wallet.imports import import_badge as do_import

    session = me(request, services)
    if session is None:
        return to_login()
    learner_id = session.learner_id
    assert learner_id is not None
    try:
        check_form(request, services, csrf, session.csrf)
        if len(pasted) > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"a badge can be at most {MAX_IMPORT_BYTES:,} bytes")
        if upload is not None and upload.filename:
            data = await upload.read(MAX_IMPORT_BYTES + 1)
            if len(data) > MAX_IMPORT_BYTES:
                raise PayloadTooLarge(f"a badge can be at most {MAX_IMPORT_BYTES:,} bytes")
            row = await run_in_threadpool(
                lambda: do_import(services, learner_id, data, filename=upload.filename)
            )
        elif pasted.strip():
            row = await run_in_threadpool(
                lambda: do_import(services, learner_id, pasted.strip().encode("utf-8"))
            )
        elif url.strip():
            row = await run_in_threadpool(lambda: do_import(services, learner_id, url=url.strip()))
        else:
            raise BadRequest("choose a file, paste a badge or give its URL")
    except LaurelError as exc:
        return page(
            request, services, "wallet_import.html", exc.status, session=session, error=exc.detail
        )
    return RedirectResponse(f"/wallet/badges/i-{row.id}?done=imported", status_code=303)


@router.post("/wallet/badges/{ref}/recheck")
def recheck(
    ref: str,
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    from issuer.wallet.imports import recheck as do_recheck

    def action(learner_id: int) -> None:
        with Session(services.engine) as db:
            row = wallet.imported_credential(db, learner_id, ref)
        do_recheck(services, row)

    return _act(request, services, csrf, "rechecked", action, f"/wallet/badges/{ref}")


@router.post("/wallet/badges/{ref}/remove")
def remove_import(
    ref: str,
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    return _act(
        request,
        services,
        csrf,
        "removed",
        lambda learner_id: accounts.remove_import(services, learner_id, ref),
        "/wallet",
    )


@router.get("/wallet/account")
def account_page(request: Request, services: ServicesDep) -> Response:
    session = me(request, services)
    if session is None:
        return to_login()
    return page(request, services, "wallet_account.html", session=session)


@router.get("/wallet/export.zip")
def export(request: Request, services: ServicesDep) -> Response:
    session = me(request, services)
    if session is None:
        return to_login()
    assert session.learner_id is not None
    return Response(
        accounts.export_zip(services, session.learner_id),
        media_type="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="laurel-badges.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/wallet/data.json")
def my_data(request: Request, services: ServicesDep) -> Response:
    import json

    session = me(request, services)
    if session is None:
        return to_login()
    assert session.learner_id is not None
    return Response(
        json.dumps(
            accounts.personal_data(services, session.learner_id), ensure_ascii=False, indent=2
        ),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="laurel-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/wallet/account/delete")
def delete_account(
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    confirm: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    session = me(request, services)
    if session is None:
        return to_login()
    assert session.learner_id is not None
    try:
        check_form(request, services, csrf, session.csrf)
        if confirm.strip() != "DELETE":
            raise BadRequest("type DELETE to confirm that the account should go")
        accounts.delete_account(services, session.learner_id)
    except LaurelError as exc:
        return message(request, services, exc.status, exc.detail, session)
    response = page(
        request, services, "wallet_message.html", detail=None, deleted=True, session=None
    )
    clear_cookie(response, services, LEARNER_COOKIE)
    return response
