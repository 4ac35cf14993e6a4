"""Running a badge programme in the console: achievements (list, create, edit), issuing one,
uploading a CSV (a preview of every row's problem first, issuing nothing; then a bulk job with a
progress page and a per-row report). Finding and revoking credentials: ``console_credentials``.

Roles: viewers read; issuers (and owners) change. Every lookup is scoped to the staff member's
issuer, so another issuer's achievements, jobs and credentials are 404 here."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, select
from starlette.datastructures import UploadFile as StarletteUpload

from issuer.artifacts.uploads import IMAGE_KEY, MAX_UPLOAD_BYTES, NotAPicture, badge_picture
from issuer.context import Services
from issuer.core import audit
from issuer.core.errors import BadRequest, LaurelError, PayloadTooLarge
from issuer.core.spreadsheet import cells
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.staff import Issuing, IssuingForm, Staff, Viewer
from issuer.issuing import achievements, bulk, jobs
from issuer.issuing.bulk import validation_message
from issuer.issuing.issuance import issue
from issuer.models import Achievement
from issuer.schemas import ACHIEVEMENT_TYPES, AchievementIn, IssueRequest
from issuer.web.render import NO_STORE, render
from issuer.worker import dispatcher

router = APIRouter(tags=["pages"], include_in_schema=False)
MAX_CSV_BYTES = 2 * 1024 * 1024
SHAPES = ("circle", "shield", "hexagon", "ribbon")
Text = Annotated[str, Form(max_length=5000)]
Line = Annotated[str, Form(max_length=400)]


def _page(
    request: Request, services: Services, template: str, staff: Staff, **context: Any
) -> Response:
    status = context.pop("status", 200)
    return render(
        request,
        services,
        template,
        status,
        staff=staff,
        csrf=staff.csrf,
        home="/console",
        **context,
    )


# --- achievements --------------------------------------------------------------------------


@router.get("/console/achievements")
def achievement_list(
    request: Request, services: ServicesDep, db: SessionDep, signed: Viewer
) -> Response:
    rows = achievements.list_achievements(db, signed.issuer)
    return _page(request, services, "console_achievements.html", signed, achievements=rows)


def _form_values(row: Achievement | None) -> dict[str, Any]:
    if row is None:
        return {"key": "", "achievementType": "Badge", "shape": "circle", "color": "#1B3A5C"}
    data = row.data
    skills = "\n".join(
        " | ".join(
            str(a.get(k) or "")
            for k in ("targetName", "targetUrl", "targetFramework", "targetCode")
        ).rstrip(" |")
        for a in data.get("alignment", [])
    )
    return {
        "key": row.key,
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "criteria": (data.get("criteria") or {}).get("narrative", ""),
        "achievementType": data.get("achievementType", "Badge"),
        "hours": data.get("creditsAvailable", ""),
        "validity": row.validity or "",
        "skills": skills,
        "shape": row.design.get("shape", "circle"),
        "color": row.design.get("color", "#1B3A5C"),
        "uploaded": "yes" if row.design.get(IMAGE_KEY) else "",
    }


def _editor(
    request: Request,
    services: Services,
    signed: Staff,
    values: dict[str, Any],
    *,
    editing: bool,
    status: int = 200,
    error: str | None = None,
) -> Response:
    return _page(
        request,
        services,
        "console_achievement.html",
        signed,
        status=status,
        values=values,
        editing=editing,
        error=error,
        types=ACHIEVEMENT_TYPES,
        shapes=SHAPES,
    )


@router.get("/console/achievements/new")
def new_achievement(request: Request, services: ServicesDep, signed: Issuing) -> Response:
    return _editor(request, services, signed, _form_values(None), editing=False)


@router.get("/console/achievements/{key}")
def achievement_page(
    key: str, request: Request, services: ServicesDep, db: SessionDep, signed: Viewer
) -> Response:
    row = achievements.get_achievement(db, signed.issuer, key)
    return _editor(request, services, signed, _form_values(row), editing=True)


@router.get("/console/achievements/{key}/badge.svg")
def achievement_badge(key: str, db: SessionDep, signed: Viewer) -> Response:
    """The badge image as its design draws it (what credentials of this achievement carry)."""
    from issuer.artifacts.images import render_badge_svg

    row = achievements.get_achievement(db, signed.issuer, key)
    picture = render_badge_svg(
        row.design,
        title=str(row.data.get("name", "")),
        issuer_name=signed.issuer.name,
        year=date.today().year,
    )
    return Response(picture, media_type="image/svg+xml", headers=NO_STORE)


def _alignments(text: str) -> list[dict[str, Any]]:
    """``name | URL | framework | code`` per line."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise BadRequest(f"skills line {number}: write 'name | URL | framework | code'")
        alignment = {"targetName": parts[0], "targetUrl": parts[1]}
        alignment["targetType"] = "ceasn:Competency"
        if len(parts) > 2 and parts[2]:
            alignment["targetFramework"] = parts[2]
        if len(parts) > 3 and parts[3]:
            alignment["targetCode"] = parts[3]
        found.append(alignment)
    return found


def _save(
    db: Session,
    signed: Staff,
    form: dict[str, str],
    *,
    update: bool,
    picture: bytes = b"",
    kept: str | None = None,
) -> Achievement:
    """Save the achievement; ``picture``: an uploaded badge picture (replaces the drawn one),
    ``kept``: the picture uploaded before, kept unless the form drops it."""
    shape, color = form["shape"], form["color"].strip().upper()
    if shape not in SHAPES or len(color) != 7 or not color.startswith("#"):
        raise BadRequest("choose a shape and a colour (#RRGGBB) for the badge image")
    existing = (
        db.exec(
            select(Achievement).where(
                Achievement.issuer_id == signed.issuer.id, Achievement.key == form["key"].strip()
            )
        ).first()
        if update
        else None
    )
    # the form does not edit result descriptions: saving keeps them
    kept_results = achievements.result_descriptions_of(existing) if existing else []
    try:
        int(color[1:], 16)
        body = AchievementIn.model_validate(
            {
                "key": form["key"].strip(),
                "name": form["name"].strip(),
                "description": form["description"].strip(),
                "criteria": form["criteria"].strip(),
                "achievementType": form["achievementType"],
                "creditsAvailable": float(form["hours"]) if form["hours"].strip() else None,
                "validity": form["validity"].strip() or None,
                "alignments": _alignments(form["skills"]),
                "resultDescriptions": kept_results,
            }
        )
    except ValidationError as exc:
        raise BadRequest(validation_message(exc)) from None
    except ValueError:
        raise BadRequest("hours are a number, the colour is #RRGGBB") from None
    design: dict[str, Any] = {"shape": shape, "color": color}
    if picture:
        try:
            design[IMAGE_KEY] = badge_picture(picture)
        except NotAPicture as exc:
            raise BadRequest(f"badge picture: {exc}") from None
    elif kept and form.get("drop_picture") != "yes":
        design[IMAGE_KEY] = kept
    row = achievements.save_achievement(db, signed.issuer, body, update=update, design=design)
    audit.append(db, signed.actor, "achievement.save", f"{signed.issuer.slug}/{row.key}")
    return row


_FIELDS = ("key", "name", "description", "criteria", "achievementType", "hours", "validity")


async def _achievement_form(request: Request) -> tuple[dict[str, str], bytes]:
    """The editor's fields, and the uploaded badge picture (``b""``: none)."""
    form = await request.form()
    names = (*_FIELDS, "skills", "shape", "color", "drop_picture")
    upload = form.get("picture")
    picture = b""
    if isinstance(upload, StarletteUpload) and upload.filename:
        picture = await upload.read(MAX_UPLOAD_BYTES + 1)
        if not picture:
            picture = b" "  # chosen but empty: refused as "not a PNG or JPEG"
    values = {name: str(form.get(name, ""))[:5000] for name in names if name != "picture"}
    return values, picture


@router.post("/console/achievements/new")
async def create_achievement(
    request: Request, services: ServicesDep, db: SessionDep, signed: IssuingForm
) -> Response:
    form, picture = await _achievement_form(request)
    try:
        row = _save(db, signed, form, update=False, picture=picture)
    except LaurelError as exc:
        db.rollback()
        return _editor(
            request, services, signed, form, editing=False, status=exc.status, error=exc.detail
        )
    return RedirectResponse(f"/console/achievements/{row.key}?done=saved", status_code=303)


@router.post("/console/achievements/{key}")
async def edit_achievement(
    key: str, request: Request, services: ServicesDep, db: SessionDep, signed: IssuingForm
) -> Response:
    existing = achievements.get_achievement(db, signed.issuer, key)
    values, picture = await _achievement_form(request)
    form = {**values, "key": key}
    kept = existing.design.get(IMAGE_KEY)
    try:
        _save(
            db,
            signed,
            form,
            update=True,
            picture=picture,
            kept=kept if isinstance(kept, str) else None,
        )
    except LaurelError as exc:
        db.rollback()
        return _editor(
            request, services, signed, form, editing=True, status=exc.status, error=exc.detail
        )
    return RedirectResponse(f"/console/achievements/{key}?done=saved", status_code=303)


# --- issuing one ---------------------------------------------------------------------------


@router.get("/console/issue")
def issue_form(
    request: Request, services: ServicesDep, db: SessionDep, signed: Issuing
) -> Response:
    rows = achievements.list_achievements(db, signed.issuer)
    return _page(request, services, "console_issue.html", signed, achievements=rows, values={})


@router.post("/console/issue")
def issue_one(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: IssuingForm,
    email: Line = "",
    name: Line = "",
    achievement: Line = "",
    narrative: Text = "",
) -> Response:
    values = {"email": email, "name": name, "achievement": achievement, "narrative": narrative}
    try:
        body = IssueRequest.model_validate(
            {
                "recipient": {"email": email, **({"name": name.strip()} if name.strip() else {})},
                "achievement": achievement,
                **({"narrative": narrative.strip()} if narrative.strip() else {}),
            }
        )
        issued = issue(db, services, signed.issuer.slug, body, actor=signed.actor)
    except (ValidationError, LaurelError) as exc:
        db.rollback()
        detail = validation_message(exc) if isinstance(exc, ValidationError) else exc.detail
        status = 400 if isinstance(exc, ValidationError) else exc.status
        rows = achievements.list_achievements(db, signed.issuer)
        return _page(
            request,
            services,
            "console_issue.html",
            signed,
            status=status,
            achievements=rows,
            values=values,
            error=detail,
        )
    return RedirectResponse(
        f"/console/credentials/{issued.credential.id}?done=issued", status_code=303
    )


# --- CSV upload ----------------------------------------------------------------------------


@router.get("/console/upload")
def upload_form(request: Request, services: ServicesDep, signed: Issuing) -> Response:
    return _page(
        request, services, "console_upload.html", signed, columns=bulk.CSV_COLUMNS, preview=None
    )


def _preview(db: Session, signed: Staff, text: str) -> list[dict[str, Any]]:
    """Every row with its problem (or none): validation, and whether the achievement exists.
    Issues nothing."""
    known = {row.key for row in achievements.list_achievements(db, signed.issuer)}
    rows = list(bulk.csv_rows(io.StringIO(text, newline="")))
    shown = []
    for number, request, _key in bulk.validated(rows):
        row = rows[number - 1]
        problem = None
        if isinstance(request, ValidationError):
            problem = validation_message(request)
        elif request.achievement not in known:
            problem = f"there is no achievement {request.achievement!r}"
        recipient = row.get("recipient") or {}
        shown.append(
            {
                "number": number,
                "email": recipient.get("email") or "",
                "achievement": row.get("achievement") or "",
                "problem": problem,
            }
        )
    return shown


def _decoded(data: bytes) -> str:
    if len(data) > MAX_CSV_BYTES:
        raise PayloadTooLarge(
            f"a CSV uploaded here can be at most {MAX_CSV_BYTES // 1024 // 1024} MB; "
            "larger files go through the API (docs/api.md)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the CSV is not UTF-8 text; save it as 'CSV UTF-8'") from None


@router.post("/console/upload")
async def preview(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: IssuingForm,
    upload: UploadFile | None = None,
) -> Response:
    try:
        if upload is None or not upload.filename:
            raise BadRequest("choose a CSV file")
        text = _decoded(await upload.read(MAX_CSV_BYTES + 1))
        shown = _preview(db, signed, text)
        if not shown:
            raise BadRequest("the CSV has no rows")
    except LaurelError as exc:
        return _page(
            request,
            services,
            "console_upload.html",
            signed,
            status=exc.status,
            columns=bulk.CSV_COLUMNS,
            preview=None,
            error=exc.detail,
        )
    return _page(
        request,
        services,
        "console_upload.html",
        signed,
        columns=bulk.CSV_COLUMNS,
        preview=shown,
        problems=sum(1 for row in shown if row["problem"]),
        content=text,
        filename=upload.filename,
    )


@router.post("/console/upload/issue")
def issue_upload(
    services: ServicesDep,
    db: SessionDep,
    signed: IssuingForm,
    background: BackgroundTasks,
    content: Annotated[str, Form(max_length=MAX_CSV_BYTES)] = "",
) -> Response:
    """Issue the previewed rows as a bulk job (rows with a problem are reported, not issued)."""
    rows = list(bulk.csv_rows(io.StringIO(content, newline="")))
    if not rows:
        raise BadRequest("the CSV has no rows")
    job = jobs.submit(db, services, signed.issuer.slug, rows, signed.actor)
    background.add_task(dispatcher(services).bulk, job.id)
    return RedirectResponse(f"/console/jobs/{job.id}", status_code=303)


@router.get("/console/jobs/{job_id}")
def job_page(
    job_id: str, request: Request, services: ServicesDep, db: SessionDep, signed: Viewer
) -> Response:
    job = jobs.get_job(db, signed.issuer, job_id)
    view = jobs.view(db, job, f"/console/jobs/{job.id}", 0, jobs.PAGE)
    return _page(request, services, "console_job.html", signed, job=view)


@router.get("/console/jobs/{job_id}/report.csv")
def job_report(job_id: str, services: ServicesDep, db: SessionDep, signed: Viewer) -> Response:
    job = jobs.get_job(db, signed.issuer, job_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "status", "credential", "link", "error"])
    offset = 0
    while True:
        view = jobs.view(db, job, "", offset, jobs.PAGE)
        for row in view["rows"]:
            uuid = str(row.get("id", "")).removeprefix("urn:uuid:")
            link = f"{services.settings.base_url}/v/{uuid}" if uuid else ""
            writer.writerow(
                cells([row["row"], row["status"], row.get("id", ""), link, row.get("error", "")])
            )
        if "next" not in view:
            break
        offset += jobs.PAGE
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="laurel-job-{job.id}.csv"',
            **NO_STORE,
        },
    )
