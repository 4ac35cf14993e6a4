"""The learner's wallet: passwordless sign-in, every badge as a card with filters, a badge's
page with its private actions (share links, LinkedIn, downloads, profile), the public share
and profile pages, and the skills the badges add up to. English and Korean; no JavaScript.

Every page runs in the request's unit of work (``SessionDep``); who is signed in comes from the
typed dependencies of ``issuer.http.sessions`` (a page that needs a learner cannot be reached
without one, and every form that changes something has its CSRF token checked)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, BackgroundTasks, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import BadRequest, LaurelError, NotFound
from issuer.http.cookies import (
    LEARNER_COOKIE,
    check_form,
    clear_cookie,
    client_address,
    language,
    local_path,
    set_cookie,
)
from issuer.http.deps import ServicesDep, SessionDep, read_then_write
from issuer.http.negotiation import wants_page
from issuer.http.sessions import (
    DetachedLearnerSession,
    LearnerForm,
    LearnerSession,
    MaybeLearner,
    PublicForm,
)
from issuer.models import Credential, ImportedCredential, Learner
from issuer.people import signin
from issuer.wallet import badges as wallet
from issuer.wallet import sharing
from issuer.web.downloads import badge_png
from issuer.web.render import NO_STORE, form_before_sign_in
from issuer.web.render import wallet_page as page

router = APIRouter(tags=["pages"], include_in_schema=False)
SAFE_FILE = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _learner_name(db: Session, learner_id: int) -> str | None:
    learner = db.get(Learner, learner_id)
    return learner.name if learner else None


# --- signing in ---------------------------------------------------------------------------


def _login_form(
    request: Request, services: Services, status: int = 200, **context: Any
) -> Response:
    return form_before_sign_in(
        request, services, "wallet_login.html", status, home="/wallet", **context
    )


NextQuery = Annotated[str | None, Query(alias="next", max_length=4000)]
"""Where to go after signing in: a path on this site (``local_path``), e.g. an OAuth
authorization request waiting for the learner."""


def _with_next(path: str, next_path: str | None) -> str:
    return f"{path}?{urlencode({'next': next_path})}" if next_path else path


@router.get("/wallet/login")
def login_form(
    request: Request, services: ServicesDep, signed: MaybeLearner, next: NextQuery = None
) -> Response:
    if signed is not None:
        return RedirectResponse(local_path(next) or "/wallet", status_code=303)
    return _login_form(request, services, next=local_path(next))


@router.post("/wallet/login")
def ask_for_link(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    back = local_path(next)
    try:
        check_form(request, services, csrf, None)
        signin.request_link(
            db,
            services,
            email,
            client_address(request),
            language=language(request),
            next_path=back,
        )
    except LaurelError as exc:
        return _login_form(request, services, exc.status, error=exc.detail, email=email, next=back)
    return page(request, services, "wallet_check.html", email=email.strip().lower())


@router.get("/wallet/login/{token}")
def continue_form(
    token: str, request: Request, services: ServicesDep, db: SessionDep, next: NextQuery = None
) -> Response:
    email = signin.check_usable(db, token, signin.SIGN_IN)
    return form_before_sign_in(
        request,
        services,
        "wallet_continue.html",
        home="/wallet",
        action=_with_next(f"/wallet/login/{quote(token)}", local_path(next)),
        title_key="continue_sign_in",
        email=email,
    )


@router.post("/wallet/login/{token}")
def use_link(
    token: str,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    _: PublicForm,
    next: NextQuery = None,
) -> Response:
    link = signin.redeem(db, token, signin.SIGN_IN)
    learner = signin.sign_in(db, link.email)
    assert learner.id is not None
    signin.end_session(db, request.cookies.get(LEARNER_COOKIE))  # no session fixation
    started = signin.start_session(db, learner_id=learner.id)
    response = RedirectResponse(local_path(next) or "/wallet", status_code=303)
    set_cookie(response, services, LEARNER_COOKIE, started.token, started.lifetime)
    return response


@router.post("/wallet/logout")
def logout(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: MaybeLearner,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if signed is not None:
        check_form(request, services, csrf, signed.csrf)
        signin.end_session(db, request.cookies.get(LEARNER_COOKIE))
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
    db: SessionDep,
    signed: LearnerSession,
    issuer: str | None = None,
    type: str | None = None,
    skill: str | None = None,
    year: str | None = None,
) -> Response:
    chosen = wallet.Filters(issuer or None, type or None, skill or None, _year(year))
    this_year = datetime.now(UTC).year
    every = wallet.badges(db, signed.id)
    return page(
        request,
        services,
        "wallet.html",
        session=signed,
        badges=[b for b in every if chosen.keep(b)],
        total=len(every),
        facets=wallet.facets(every),
        chosen=chosen,
        hours=wallet.hours(db, signed.id, this_year, every=every),
        programmes=wallet.programmes(db, services, signed.id, language(request)),
        name=_learner_name(db, signed.id),
    )


@router.get("/wallet/badges/{ref}")
async def badge_page(
    ref: str,
    request: Request,
    services: ServicesDep,
    background: BackgroundTasks,
    signed: DetachedLearnerSession,
) -> Response:
    """A badge of the learner's, verified now (an imported one's stored verdict is updated),
    the hosts it names read first with no write transaction open (``read_then_write``)."""
    from issuer.wallet.imports import foresee_recheck

    def look(db: Session) -> None:
        badge = wallet.find(db, signed.id, ref)
        if isinstance(badge, ImportedCredential):
            foresee_recheck(db, services, badge)

    def then(db: Session) -> Response:
        return page(
            request,
            services,
            "wallet_badge.html",
            session=signed,
            done=request.query_params.get("done"),
            **_badge_context(db, services, signed.id, ref),
        )

    return await read_then_write(services, background, look, then)


def _badge_context(db: Session, services: Services, learner_id: int, ref: str) -> dict[str, Any]:
    from issuer.verification.public_view import stored_view
    from issuer.wallet.imports import issued_to_any
    from issuer.wallet.orgs import org_choices

    badge = wallet.find(db, learner_id, ref)
    chosen = sharing.get_profile(db, learner_id)
    common = {
        "ref": ref,
        "links": sharing.links(db, learner_id, ref),
        "on_profile": chosen is not None and ref in chosen.badges,
        "share_url": lambda link: sharing.share_url(services, link),
        "link_state": sharing.link_state,
    }
    if isinstance(badge, Credential):
        return {
            **common,
            "view": stored_view(db, services, badge.id),
            "imported": None,
            "badge_url": f"/v/{badge.id}/badge.png",
        }
    return {
        **common,
        "view": _imported_view(db, services, badge),
        "imported": badge,
        "yours": issued_to_any(badge.document, wallet.emails(db, learner_id)),
        "organisations": org_choices(db, learner_id, badge),
        "badge_url": f"/wallet/badges/{ref}/image"
        if badge.media_type.startswith("image/")
        else None,
    }


def _imported_view(db: Session, services: Services, row: Any) -> Any:
    """A live verification of an imported badge (its stored verdict is updated too); none for
    an Open Badges 2.0 assertion, which is shown but not verified."""
    from issuer.verification.public_view import View
    from issuer.wallet.imports import recheck_report

    _, report = recheck_report(db, services, row)
    return None if report is None else View(report=report, credential=report.credential or {})


@router.get("/wallet/badges/{ref}/image")
def imported_image(ref: str, db: SessionDep, signed: LearnerSession) -> Response:
    row = wallet.imported_credential(db, signed.id, ref)
    if not row.media_type.startswith("image/"):
        raise NotFound("this badge has no image")
    return Response(bytes(row.original), media_type=row.media_type, headers=SAFE_FILE)


@router.get("/wallet/badges/{ref}/original")
def imported_original(ref: str, db: SessionDep, signed: LearnerSession) -> Response:
    from issuer.wallet.accounts import _extension

    row = wallet.imported_credential(db, signed.id, ref)
    name = f"badge-{row.id}{_extension(row.media_type)}"
    return Response(
        bytes(row.original),
        media_type=row.media_type,
        headers={**SAFE_FILE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def _done(after: str, done: str) -> Response:
    """After a form's action: back to ``after``, with ``done`` for the notice."""
    separator = "&" if "?" in after else "?"
    return RedirectResponse(f"{after}{separator}done={done}", status_code=303)


@router.post("/wallet/badges/{ref}/share")
def share(
    ref: str,
    db: SessionDep,
    signed: LearnerForm,
    label: Annotated[str, Form(max_length=100)] = "",
    days: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    if days.strip() and not days.strip().isdigit():
        raise BadRequest("days is a whole number, or empty for a link that does not expire")
    sharing.create_link(db, signed.id, ref, label=label, days=int(days) if days.strip() else None)
    return _done(f"/wallet/badges/{ref}", "link_created")


@router.post("/wallet/links/{link_id}/revoke")
def revoke_link(
    link_id: Annotated[int, Path(ge=1, le=2**62)],
    db: SessionDep,
    signed: LearnerForm,
    ref: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    sharing.revoke_link(db, signed.id, link_id)
    return _done(f"/wallet/badges/{ref}" if ref else "/wallet", "link_revoked")


@router.post("/wallet/badges/{ref}/linkedin")
def linkedin(ref: str, services: ServicesDep, db: SessionDep, signed: LearnerForm) -> Response:
    return RedirectResponse(sharing.linkedin_url(db, services, signed.id, ref), status_code=303)


@router.post("/wallet/badges/{ref}/profile")
def toggle_profile(
    ref: str,
    db: SessionDep,
    signed: LearnerForm,
    shown: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    sharing.toggle_on_profile(db, signed.id, ref, shown == "yes")
    return _done(f"/wallet/badges/{ref}", "profile_updated")


# --- public pages: a share link, a profile ------------------------------------------------


@router.get("/s/{token}")
async def shared(
    token: str, request: Request, services: ServicesDep, background: BackgroundTasks
) -> Response:
    """A badge its holder shared (each view is counted on the link); to a client that prefers
    JSON (a verifier given the link), the badge itself, as ``/s/{token}/credential`` gives it.
    A badge from elsewhere is verified with the hosts it names read first, with no write
    transaction open (``read_then_write``)."""
    from issuer.verification import trust

    def look(db: Session) -> None:
        row = sharing.open_link(db, token, count=False).imported
        if row is not None and not row.legacy and wants_page(request.headers.get("accept")):
            trust.verify(db, services, bytes(row.original))

    return await read_then_write(
        services, background, look, lambda db: _shared_page(token, request, services, db)
    )


def _shared_page(token: str, request: Request, services: Services, db: Session) -> Response:
    from issuer.verification.public_view import stored_view, submitted_view

    found = sharing.open_link(db, token)
    if not wants_page(request.headers.get("accept")):
        response = _shared_file(found, attachment=False)
        response.headers["Vary"] = "Accept"
        return response
    context: dict[str, Any]
    if found.credential is not None:
        context = {
            "view": stored_view(db, services, found.credential.id),
            "imported": None,
            "badge_url": f"/s/{token}/badge.png",
        }
    else:
        row = found.imported
        assert row is not None
        context = {
            "view": None if row.legacy else submitted_view(db, services, bytes(row.original)),
            "imported": row,
            "badge_url": f"/s/{token}/badge.png" if row.media_type.startswith("image/") else None,
        }
    base = services.settings.base_url  # for the preview (OpenGraph) a shared link shows
    response = page(request, services, "shared.html", token=token, base_url=base, **context)
    response.headers.add_vary_header("Accept")
    return response


@router.get("/s/{token}/badge.png")
def shared_image(token: str, request: Request, services: ServicesDep, db: SessionDep) -> Response:
    """The shared badge's picture; stamped with its state while it is not valid."""
    found = sharing.open_link(db, token, count=False)
    if found.credential is not None:
        png = badge_png(db, found.credential, language(request))
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
    from issuer.artifacts.stamps import REVOKED_COLOR, Stamp, stamp_foreign_svg, stamp_png
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
            return stamp_foreign_svg(original, stamp)
        return stamp_png(original, stamp)
    except ValueError:
        raise NotFound("this badge's picture cannot be shown in its current state") from None


@router.get("/s/{token}/credential")
def shared_credential(token: str, db: SessionDep) -> Response:
    return _shared_file(sharing.open_link(db, token, count=False), attachment=True)


def _shared_file(found: sharing.Shared, *, attachment: bool) -> Response:
    """A shared badge as its holder has it: an issued one as JSON, an imported one as it came
    (JSON, a JWT or a baked image); a download (``attachment``) or the answer to a verifier."""
    import json

    if found.credential is not None:
        name = f"{found.credential.id}.json"
        return Response(
            json.dumps(found.credential.document, ensure_ascii=False, indent=2),
            media_type="application/vc+ld+json",
            headers={"Content-Disposition": f'attachment; filename="{name}"'}
            if attachment
            else dict(NO_STORE),
        )
    row = found.imported
    assert row is not None
    disposition = {"Content-Disposition": 'attachment; filename="badge"'} if attachment else {}
    return Response(
        bytes(row.original),
        media_type=row.media_type,
        headers={**SAFE_FILE, **disposition, **({} if attachment else NO_STORE)},
    )


@router.get("/p/{slug}")
def profile_page(slug: str, request: Request, services: ServicesDep, db: SessionDep) -> Response:
    profile, shown = sharing.public_profile(db, slug)
    return page(
        request,
        services,
        "public_profile.html",
        profile=profile,
        badges=shown,
        base_url=services.settings.base_url,
    )


# --- skills -------------------------------------------------------------------------------


@router.get("/wallet/skills")
def skills_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerSession,
    target: str | None = None,
) -> Response:
    from issuer.skills.frameworks import localised
    from issuer.skills.targets import target_label, targets

    lang = language(request)
    error, gap = None, None
    if target:
        try:
            gap = wallet.gap(db, services, signed.id, target, lang)
        except LaurelError as exc:
            error = exc.detail
    return page(
        request,
        services,
        "wallet_skills.html",
        404 if error else 200,
        session=signed,
        cloud=localised(services, wallet.cloud(db, signed.id), lang),
        gap=gap,
        error=error,
        target=target,
        targets=sorted((t["id"], target_label(t, lang)) for t in targets(services).values()),
        programmes=wallet.programmes(db, services, signed.id, language(request)),
        hours=wallet.hours(db, signed.id, datetime.now(UTC).year),
    )


@router.get("/wallet/skills.svg")
def skills_picture(db: SessionDep, signed: LearnerSession) -> Response:
    from issuer.artifacts.cloud import cloud_svg
    from issuer.skills.cloud import cloud_words

    words = cloud_words(wallet.cloud(db, signed.id))
    return Response(cloud_svg(words), media_type="image/svg+xml", headers=NO_STORE)


@router.get("/wallet/gaps.svg")
def gap_picture(
    request: Request, services: ServicesDep, db: SessionDep, signed: LearnerSession, target: str
) -> Response:
    from issuer.artifacts.cloud import profile_bars_svg

    answer = wallet.gap(db, services, signed.id, target, language(request))
    rows = [(item["skill"], item["level"], item["levelWanted"]) for item in answer["levels"]]
    return Response(
        profile_bars_svg(answer["name"], rows), media_type="image/svg+xml", headers=NO_STORE
    )
