"""The learner's wallet: passwordless sign-in, every badge as a card with filters, a badge's
page with its private actions (share links, LinkedIn, downloads, profile), the public share
and profile pages, and the skills the badges add up to. English and Korean; no JavaScript."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from issuer.core.context import Services
from issuer.core.errors import LaurelError, NotFound
from issuer.http.deps import ServicesDep
from issuer.models import Credential, Learner, WebSession
from issuer.people import signin
from issuer.wallet import badges as wallet
from issuer.wallet import sharing
from issuer.web.auth import (
    LEARNER_COOKIE,
    check_form,
    clear_cookie,
    client_address,
    language,
    set_cookie,
)
from issuer.web.render import NO_STORE, form_before_sign_in, render

router = APIRouter(tags=["pages"], include_in_schema=False)
SAFE_FILE = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def me(request: Request, services: Services) -> WebSession | None:
    """The signed-in learner's session, if any."""
    with Session(services.engine) as session:
        return signin.find_session(session, request.cookies.get(LEARNER_COOKIE), "learner")


def to_login() -> Response:
    return RedirectResponse("/wallet/login", status_code=303)


def page(
    request: Request, services: Services, template: str, status: int = 200, **context: Any
) -> Response:
    """A wallet page (``session``: the learner's, for the CSRF token and the navigation)."""
    return render(request, services, template, status, home="/wallet", **context)


def message(
    request: Request, services: Services, status: int, detail: str, session: WebSession | None
) -> Response:
    return page(request, services, "wallet_message.html", status, detail=detail, session=session)


def _learner_name(services: Services, learner_id: int) -> str | None:
    with Session(services.engine) as db:
        learner = db.get(Learner, learner_id)
        return learner.name if learner else None


# --- signing in ---------------------------------------------------------------------------


def _login_form(
    request: Request, services: Services, status: int = 200, **context: Any
) -> Response:
    return form_before_sign_in(
        request, services, "wallet_login.html", status, home="/wallet", **context
    )


@router.get("/wallet/login")
def login_form(request: Request, services: ServicesDep) -> Response:
    if me(request, services) is not None:
        return RedirectResponse("/wallet", status_code=303)
    return _login_form(request, services)


@router.post("/wallet/login")
def ask_for_link(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        check_form(request, services, csrf, None)
        signin.request_link(services, email, client_address(request), language=language(request))
    except LaurelError as exc:
        return _login_form(request, services, exc.status, error=exc.detail, email=email)
    return page(request, services, "wallet_check.html", email=email.strip().lower())


@router.get("/wallet/login/{token}")
def continue_form(token: str, request: Request, services: ServicesDep) -> Response:
    try:
        signin.check_usable(services, token, signin.SIGN_IN)
    except LaurelError as exc:
        return message(request, services, exc.status, exc.detail, None)
    return form_before_sign_in(
        request,
        services,
        "wallet_continue.html",
        home="/wallet",
        action=f"/wallet/login/{quote(token)}",
        title_key="continue_sign_in",
    )


@router.post("/wallet/login/{token}")
def use_link(
    token: str,
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        check_form(request, services, csrf, None)
        link = signin.redeem(services, token, signin.SIGN_IN)
        learner = signin.sign_in(services, link.email)
        assert learner.id is not None
        started = signin.start_session(services, learner_id=learner.id)
    except LaurelError as exc:
        return message(request, services, exc.status, exc.detail, None)
    signin.end_session(services, request.cookies.get(LEARNER_COOKIE))  # no session fixation
    response = RedirectResponse("/wallet", status_code=303)
    set_cookie(response, services, LEARNER_COOKIE, started.token, started.lifetime)
    return response


@router.post("/wallet/logout")
def logout(
    request: Request, services: ServicesDep, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    session = me(request, services)
    if session is not None:
        try:
            check_form(request, services, csrf, session.csrf)
        except LaurelError as exc:
            return message(request, services, exc.status, exc.detail, session)
        signin.end_session(services, request.cookies.get(LEARNER_COOKIE))
    response = RedirectResponse("/wallet/login", status_code=303)
    clear_cookie(response, services, LEARNER_COOKIE)
    return response


# --- seeing -------------------------------------------------------------------------------


def _year(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) == 4 else None


@router.get("/wallet")
def wallet_home(
    request: Request,
    services: ServicesDep,
    issuer: str | None = None,
    type: str | None = None,
    skill: str | None = None,
    year: str | None = None,
) -> Response:
    session = me(request, services)
    if session is None:
        return to_login()
    assert session.learner_id is not None
    chosen = wallet.Filters(issuer or None, type or None, skill or None, _year(year))
    this_year = datetime.now(UTC).year
    with Session(services.engine) as db:
        every = wallet.badges(db, session.learner_id)
        hours = wallet.hours(db, session.learner_id, this_year, every=every)
        programmes = wallet.programmes(services, db, session.learner_id)
    return page(
        request,
        services,
        "wallet.html",
        session=session,
        badges=[b for b in every if chosen.keep(b)],
        total=len(every),
        facets=wallet.facets(every),
        chosen=chosen,
        hours=hours,
        programmes=programmes,
        name=_learner_name(services, session.learner_id),
    )


@router.get("/wallet/badges/{ref}")
def badge_page(ref: str, request: Request, services: ServicesDep) -> Response:
    session = me(request, services)
    if session is None:
        return to_login()
    assert session.learner_id is not None
    try:
        context = _badge_context(services, session.learner_id, ref)
    except LaurelError as exc:
        return message(request, services, exc.status, exc.detail, session)
    return page(
        request,
        services,
        "wallet_badge.html",
        session=session,
        done=request.query_params.get("done"),
        **context,
    )


def _badge_context(services: Services, learner_id: int, ref: str) -> dict[str, Any]:
    from issuer.verification.public_view import stored_view

    with Session(services.engine) as db:
        badge = wallet.find(db, learner_id, ref)
        links = sharing.links(db, learner_id, ref)
        chosen = sharing.get_profile(db, learner_id)
        on_profile = chosen is not None and ref in chosen.badges
        if isinstance(badge, Credential):
            view = stored_view(services, db, badge.id)
            return {
                "ref": ref,
                "view": view,
                "imported": None,
                "badge_url": f"/v/{badge.id}/badge.png",
                "links": links,
                "on_profile": on_profile,
                "share_url": lambda link: sharing.share_url(services, link),
                "link_state": sharing.link_state,
            }
    from issuer.wallet.imports import issued_to_any

    with Session(services.engine) as db:
        yours = issued_to_any(badge.document, wallet.emails(db, learner_id))
    return {
        "ref": ref,
        "view": _imported_view(services, badge),
        "imported": badge,
        "yours": yours,
        "badge_url": f"/wallet/badges/{ref}/image"
        if badge.media_type.startswith("image/")
        else None,
        "links": links,
        "on_profile": on_profile,
        "share_url": lambda link: sharing.share_url(services, link),
        "link_state": sharing.link_state,
    }


def _imported_view(services: Services, row: Any) -> Any:
    """A live verification of an imported badge (its stored verdict is updated too); none for
    an Open Badges 2.0 assertion, which is shown but not verified."""
    from issuer.verification.public_view import View
    from issuer.wallet.imports import recheck_report

    _, report = recheck_report(services, row)
    return None if report is None else View(report=report, credential=report.credential or {})


@router.get("/wallet/badges/{ref}/image")
def imported_image(ref: str, request: Request, services: ServicesDep) -> Response:
    session = me(request, services)
    if session is None or session.learner_id is None:
        raise NotFound("there is no such badge in your wallet")
    with Session(services.engine) as db:
        row = wallet.imported_credential(db, session.learner_id, ref)
    if not row.media_type.startswith("image/"):
        raise NotFound("this badge has no image")
    return Response(bytes(row.original), media_type=row.media_type, headers=SAFE_FILE)


@router.get("/wallet/badges/{ref}/original")
def imported_original(ref: str, request: Request, services: ServicesDep) -> Response:
    from issuer.people.accounts import _extension

    session = me(request, services)
    if session is None or session.learner_id is None:
        raise NotFound("there is no such badge in your wallet")
    with Session(services.engine) as db:
        row = wallet.imported_credential(db, session.learner_id, ref)
    name = f"badge-{row.id}{_extension(row.media_type)}"
    return Response(
        bytes(row.original),
        media_type=row.media_type,
        headers={**SAFE_FILE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def _act(
    request: Request,
    services: Services,
    csrf: str,
    done: str,
    action: Any,
    after: str,
    *,
    go_to_result: bool = False,
) -> Response:
    """Run a form's action for the signed-in learner, then go to ``after`` (with ``done`` for
    the notice), or to the URL the action returns when ``go_to_result``."""
    session = me(request, services)
    if session is None:
        return to_login()
    try:
        check_form(request, services, csrf, session.csrf)
        result = action(session.learner_id)
    except LaurelError as exc:
        return message(request, services, exc.status, exc.detail, session)
    if go_to_result:
        return RedirectResponse(str(result), status_code=303)
    separator = "&" if "?" in after else "?"
    return RedirectResponse(f"{after}{separator}done={done}", status_code=303)


@router.post("/wallet/badges/{ref}/share")
def share(
    ref: str,
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    label: Annotated[str, Form(max_length=100)] = "",
    days: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    def action(learner_id: int) -> None:
        if days.strip() and not days.strip().isdigit():
            from issuer.core.errors import BadRequest

            raise BadRequest("days is a whole number, or empty for a link that does not expire")
        sharing.create_link(
            services, learner_id, ref, label=label, days=int(days) if days.strip() else None
        )

    return _act(request, services, csrf, "link_created", action, f"/wallet/badges/{ref}")


@router.post("/wallet/links/{link_id}/revoke")
def revoke_link(
    link_id: Annotated[int, Path(ge=1, le=2**62)],
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    ref: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    return _act(
        request,
        services,
        csrf,
        "link_revoked",
        lambda learner_id: sharing.revoke_link(services, learner_id, link_id),
        f"/wallet/badges/{ref}" if ref else "/wallet",
    )


@router.post("/wallet/badges/{ref}/linkedin")
def linkedin(
    ref: str,
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    return _act(
        request,
        services,
        csrf,
        "linkedin",
        lambda learner_id: sharing.linkedin_url(services, learner_id, ref),
        f"/wallet/badges/{ref}",
        go_to_result=True,
    )


@router.post("/wallet/badges/{ref}/profile")
def toggle_profile(
    ref: str,
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    shown: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    return _act(
        request,
        services,
        csrf,
        "profile_updated",
        lambda learner_id: sharing.toggle_on_profile(services, learner_id, ref, shown == "yes"),
        f"/wallet/badges/{ref}",
    )


# --- public pages: a share link, a profile ------------------------------------------------


@router.get("/s/{token}")
async def shared(token: str, request: Request, services: ServicesDep) -> Response:
    try:
        context = await run_in_threadpool(_shared_context, services, token)
    except LaurelError as exc:
        return page(
            request, services, "wallet_message.html", exc.status, detail=exc.detail, session=None
        )
    return page(request, services, "shared.html", **context)


def _shared_context(services: Services, token: str) -> dict[str, Any]:
    from issuer.verification.public_view import stored_view, submitted_view

    found = sharing.open_link(services, token)
    if found.credential is not None:
        with Session(services.engine) as db:
            view = stored_view(services, db, found.credential.id)
        return {
            "view": view,
            "imported": None,
            "badge_url": f"/s/{token}/badge.png",
            "token": token,
        }
    row = found.imported
    assert row is not None
    view = None if row.legacy else submitted_view(services, bytes(row.original))
    image = f"/s/{token}/badge.png" if row.media_type.startswith("image/") else None
    return {"view": view, "imported": row, "badge_url": image, "token": token}


@router.get("/s/{token}/badge.png")
def shared_image(token: str, request: Request, services: ServicesDep) -> Response:
    """The shared badge's picture; stamped with its state while it is not valid."""
    from issuer.web.pages import baked_png

    found = sharing.open_link(services, token, count=False)
    if found.credential is not None:
        png = baked_png(services, found.credential, language(request))
        return Response(png, media_type="image/png", headers=NO_STORE)
    row = found.imported
    assert row is not None
    if not row.media_type.startswith("image/"):
        raise NotFound("this badge has no image")
    return Response(
        _stamped_import(row, language(request)),
        media_type=row.media_type,
        headers={**SAFE_FILE, **NO_STORE},
    )


def _stamped_import(row: Any, lang: str) -> bytes:
    """An imported badge's own picture, with a stamp when its last check found it revoked,
    expired, not yet valid or not genuine."""
    from issuer.artifacts.stamps import REVOKED_COLOR, Stamp, stamp_png, stamp_svg
    from issuer.verification.verdicts import assess

    original = bytes(row.original)
    if row.legacy:
        return original
    verdict = assess(row.report if isinstance(row.report, dict) else {})
    if verdict.clean:
        return original
    words = {
        "revoked": ("REVOKED", "취소됨"),
        "expired": ("EXPIRED", "만료됨"),
        "not-yet-valid": ("NOT VALID YET", "아직 유효하지 않음"),
        "failed": ("NOT VERIFIED", "검증 실패"),
        "unknown": ("NOT VERIFIED", "검증 불가"),
    }[verdict.kind]
    text = words[1] if lang == "ko" else words[0]
    if verdict.when:
        text = f"{text} {verdict.when.isoformat()}"
    stamp = Stamp(text, REVOKED_COLOR if verdict.tone == "bad" else "#8A5300")
    try:
        if row.media_type == "image/svg+xml":
            return stamp_svg(original, stamp)
        return stamp_png(original, stamp)
    except ValueError:
        raise NotFound("this badge's picture cannot be shown in its current state") from None


@router.get("/s/{token}/credential")
def shared_credential(token: str, services: ServicesDep) -> Response:
    import json

    found = sharing.open_link(services, token, count=False)
    if found.credential is not None:
        return Response(
            json.dumps(found.credential.document, ensure_ascii=False, indent=2),
            media_type="application/vc+ld+json",
            headers={"Content-Disposition": f'attachment; filename="{found.credential.id}.json"'},
        )
    row = found.imported
    assert row is not None
    return Response(
        bytes(row.original),
        media_type=row.media_type,
        headers={**SAFE_FILE, "Content-Disposition": 'attachment; filename="badge"'},
    )


@router.get("/p/{slug}")
def profile_page(slug: str, request: Request, services: ServicesDep) -> Response:
    try:
        profile, shown = sharing.public_profile(services, slug)
    except LaurelError as exc:
        return page(
            request, services, "wallet_message.html", exc.status, detail=exc.detail, session=None
        )
    return page(request, services, "public_profile.html", profile=profile, badges=shown)


# --- skills -------------------------------------------------------------------------------


@router.get("/wallet/skills")
def skills_page(request: Request, services: ServicesDep, target: str | None = None) -> Response:
    from issuer.skills.gaps import targets

    session = me(request, services)
    if session is None:
        return to_login()
    assert session.learner_id is not None
    error, gap = None, None
    with Session(services.engine) as db:
        cloud = wallet.cloud(db, session.learner_id)
        if target:
            try:
                gap = wallet.gap(services, db, session.learner_id, target)
            except LaurelError as exc:
                error = exc.detail
        programmes = wallet.programmes(services, db, session.learner_id)
        hours = wallet.hours(db, session.learner_id, datetime.now(UTC).year)
    return page(
        request,
        services,
        "wallet_skills.html",
        404 if error else 200,
        session=session,
        cloud=cloud,
        gap=gap,
        error=error,
        target=target,
        targets=sorted((t["id"], t["name"]) for t in targets(services).values()),
        programmes=programmes,
        hours=hours,
    )


@router.get("/wallet/skills.svg")
def skills_picture(request: Request, services: ServicesDep) -> Response:
    from issuer.artifacts.cloud import cloud_svg
    from issuer.skills.cloud import cloud_words

    session = me(request, services)
    if session is None or session.learner_id is None:
        raise NotFound("sign in to see your skills")
    with Session(services.engine) as db:
        words = cloud_words(wallet.cloud(db, session.learner_id))
    return Response(
        cloud_svg(words), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


@router.get("/wallet/gaps.svg")
def gap_picture(request: Request, services: ServicesDep, target: str) -> Response:
    from issuer.artifacts.cloud import profile_bars_svg

    session = me(request, services)
    if session is None or session.learner_id is None:
        raise NotFound("sign in to see your skills")
    with Session(services.engine) as db:
        answer = wallet.gap(services, db, session.learner_id, target)
    rows = [(item["skill"], item["level"], item["levelWanted"]) for item in answer["levels"]]
    return Response(
        profile_bars_svg(answer["name"], rows),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )
