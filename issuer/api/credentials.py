"""The issuing API: achievements, credentials (one, bulk, list, get), revocation, verification."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from issuer.api.deps import ApiKeyDep, ServicesDep, SessionDep, issuer_for, require
from issuer.errors import BadRequest, NotFound, UnsupportedMedia
from issuer.schemas import AchievementIn, IssueRequest, RevokeRequest, TeamRequest
from issuer.services import bulk, credentials
from issuer.services.achievements import (
    get_achievement,
    list_achievements,
    ob_achievement,
    save_achievement,
)
from issuer.services.fetching import LocalFirstFetcher
from issuer.services.issuance import issue
from verifier import verify_credential

router = APIRouter(prefix="/api/v1", tags=["api"])
VC_JSON = "application/vc+ld+json"
VC_JWT = "application/vc+jwt"


def _actor(key: Any) -> str:
    return f"apikey:{key.prefix}"


@router.get("/issuers/{slug}/achievements", summary="The issuer's achievements")
def achievements(
    slug: str, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "read")
    return {
        "achievements": [
            {"key": row.key, "validity": row.validity, **ob_achievement(services, issuer, row)}
            for row in list_achievements(db, issuer)
        ]
    }


@router.post("/issuers/{slug}/achievements", status_code=201, summary="Add an achievement")
def add_achievement(
    slug: str, body: AchievementIn, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    row = save_achievement(db, issuer, body)
    db.commit()
    return {"key": row.key, **ob_achievement(services, issuer, row)}


@router.put("/issuers/{slug}/achievements/{achievement}", summary="Edit an achievement")
def edit_achievement(
    slug: str,
    achievement: str,
    body: AchievementIn,
    db: SessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    if body.key != achievement:
        raise BadRequest("the key in the body must match the URL")
    get_achievement(db, issuer, achievement)
    row = save_achievement(db, issuer, body, update=True)
    db.commit()
    return {"key": row.key, **ob_achievement(services, issuer, row)}


@router.post(
    "/issuers/{slug}/credentials",
    status_code=201,
    summary="Issue one credential",
    description="Retries with the same `Idempotency-Key` return the same credential "
    "(200); the same key with a different body is a 409.",
)
def issue_one(
    slug: str,
    body: IssueRequest,
    response: Response,
    db: SessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    issuer_for(db, key, slug, "issue")
    if body.idempotencyKey is not None:
        raise BadRequest("use the Idempotency-Key header (idempotencyKey is for bulk rows)")
    issued = issue(services, slug, body, idempotency_key=idempotency_key, actor=_actor(key))
    if not issued.created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/credentials/{issued.credential.id}"
    return issued.credential.document


@router.post(
    "/issuers/{slug}/credentials/bulk",
    summary="Issue many (JSON array or CSV)",
    description="Body: a JSON array of issuance requests, or a CSV file (`text/csv`) "
    "with the columns " + ", ".join(bulk.CSV_COLUMNS) + ". Each row is issued or "
    "rejected on its own; the report says which.",
)
async def issue_bulk(
    slug: str, request: Request, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    with Session(services.engine) as db:
        issuer_for(db, key, slug, "issue")
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type == "application/json":
        try:
            rows = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise BadRequest("the body is not valid JSON") from exc
        if not isinstance(rows, list):
            raise BadRequest("a bulk JSON body is an array of issuance requests")
    elif content_type in ("text/csv", "application/csv"):
        lines = [line async for line in bulk.decoded_lines(request.stream())]
        rows = list(bulk.csv_rows(lines))
    else:
        raise UnsupportedMedia("send application/json (an array) or text/csv")
    return await run_in_threadpool(bulk.issue_rows, services, slug, rows, _actor(key))


@router.get(
    "/issuers/{slug}/programs",
    summary="Programmes (LEAD-style pathways) the issuer offers",
    description="Each programme: `id`, `name`, `required` and `electives` (achievement ids), "
    "`electivesNeeded` (k of the electives) and `award` (the achievement issued on completion).",
)
def list_programs(
    slug: str, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    from issuer.services.frameworks import programs

    issuer = issuer_for(db, key, slug, "read")
    return {"programs": programs(services, db, issuer)}


@router.get(
    "/issuers/{slug}/skills",
    summary="The organisation's skills cloud",
    description="Per skill (framework, code, name): the summed weight of its learners' valid "
    "credentials (by achievement type, hours and recency) and how many learners hold it. "
    "`rising`: AI competency model skills whose importance rises and that fewer than three "
    "learners hold.",
)
def skills_cloud(
    slug: str, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    from issuer.services.frameworks import catalogue
    from issuer.services.skills import organisation_cloud, rising_overlay

    issuer = issuer_for(db, key, slug, "read")
    cloud = organisation_cloud(db, issuer)
    overlay = rising_overlay(cloud, catalogue(services).framework("ai-competency"))
    return {"skills": cloud, "rising": overlay}


@router.get("/issuers/{slug}/skills.{kind}", summary="The skills cloud as an SVG or PNG picture")
def skills_picture(slug: str, kind: str, db: SessionDep, key: ApiKeyDep) -> Response:
    from issuer.artifacts.cloud import Word, cloud_png, cloud_svg
    from issuer.services.skills import organisation_cloud

    if kind not in ("svg", "png"):
        raise NotFound("the cloud is available as skills.svg and skills.png")
    issuer = issuer_for(db, key, slug, "read")
    words = [Word(s["name"], s["weight"], s["framework"]) for s in organisation_cloud(db, issuer)]
    if kind == "svg":
        return Response(cloud_svg(words[:150]), media_type="image/svg+xml")
    return Response(cloud_png(words[:150]), media_type="image/png")


@router.post(
    "/issuers/{slug}/teams",
    summary="The smallest team that covers a set of skills",
    description="`skills`: codes, or `{code, framework, minLevel}`; `size`: the most members; "
    "`exclude`: emails. Returns `members`, `covered`, `uncovered` (what no one covers), "
    "`perSkill` (who covers each) and `exact` (false only if the search hit its cap).",
)
def form_team(slug: str, body: TeamRequest, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    from issuer.services.team_api import form

    issuer = issuer_for(db, key, slug, "read")
    return form(db, issuer, body)


@router.post(
    "/issuers/{slug}/xapi/statements",
    summary="xAPI statements from an LMS or LRS that award badges",
    description="One statement or an array. `completed`/`passed` statements whose activity maps "
    "to an achievement issue it to the actor's mbox, once per statement id; other verbs are "
    "ignored. A malformed statement rejects the request (400) and nothing is issued.",
)
async def xapi_statements(
    slug: str, request: Request, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    from issuer.services.xapi import receive

    with Session(services.engine) as db:
        issuer_for(db, key, slug, "issue")
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("the body is not valid JSON") from exc
    return await run_in_threadpool(receive, services, slug, body, _actor(key))


@router.get("/issuers/{slug}/gaps", summary="A learner's skill gap to a target profile")
def skill_gap(
    slug: str, email: str, target: str, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    from issuer.services.gaps import gap

    issuer = issuer_for(db, key, slug, "read")
    return gap(services, db, issuer, email, target)


@router.get("/issuers/{slug}/gaps.svg", summary="A learner's levels against a target, as bars")
def skill_gap_chart(
    slug: str, email: str, target: str, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> Response:
    from issuer.artifacts.cloud import profile_bars_svg
    from issuer.services.gaps import gap

    issuer = issuer_for(db, key, slug, "read")
    answer = gap(services, db, issuer, email, target)
    rows = [(item["skill"], item["level"], item["levelWanted"]) for item in answer["levels"]]
    return Response(profile_bars_svg(answer["name"], rows), media_type="image/svg+xml")


@router.get("/issuers/{slug}/talent", summary="Who holds a skill at a level or above")
def find_talent(
    slug: str,
    skill: str,
    db: SessionDep,
    key: ApiKeyDep,
    level: Annotated[int, Query(ge=1, le=5)] = 1,
    framework: str | None = None,
) -> dict[str, Any]:
    from issuer.services.learners import talent

    issuer = issuer_for(db, key, slug, "read")
    return {"learners": talent(db, issuer, skill, level, framework)}


@router.get("/issuers/{slug}/programs/progress", summary="A learner's progress per programme")
def programme_progress(
    slug: str, email: str, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    from issuer.services.learners import program_progress

    issuer = issuer_for(db, key, slug, "read")
    return {"email": email, "programs": program_progress(services, db, issuer, email)}


@router.get(
    "/issuers/{slug}/hours",
    summary="Learning hours per learner and year against the annual requirement",
    description="JSON, or CSV for HR systems with `format=csv`. `required` defaults to 80 hours.",
)
def learning_hours(
    slug: str,
    year: int,
    db: SessionDep,
    key: ApiKeyDep,
    required: Annotated[float, Query(gt=0, le=10000)] = 80.0,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    from issuer.services.learners import hours, hours_csv

    issuer = issuer_for(db, key, slug, "read")
    report = hours(db, issuer, year, required)
    if format == "csv":
        return Response(
            hours_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="hours-{year}.csv"'},
        )
    return Response(json.dumps({"year": year, "learners": report}), media_type="application/json")


@router.get("/issuers/{slug}/credentials", summary="The issuer's credentials, filtered and paged")
def list_issued(
    slug: str,
    db: SessionDep,
    key: ApiKeyDep,
    response: Response,
    email: str | None = None,
    achievement: str | None = None,
    status: Annotated[str | None, Query(pattern="^(active|revoked)$")] = None,
    issued_after: datetime | None = None,
    issued_before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "read")
    assert issuer.id is not None
    page = credentials.list_credentials(
        db,
        issuer.id,
        email=email,
        achievement=achievement,
        status=status,
        issued_after=issued_after,
        issued_before=issued_before,
        limit=limit,
        offset=offset,
    )
    response.headers["X-Total-Count"] = str(page.total)
    return {
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "credentials": [credentials.summary(item) for item in page.items],
    }


@router.get(
    "/credentials/{credential_id}",
    summary="A signed credential (JSON or VC-JWT)",
    responses={200: {"content": {VC_JSON: {}, VC_JWT: {}}}},
)
def get_one(
    credential_id: str, request: Request, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> Response:
    require(key, "read")
    credential = credentials.get_credential(db, credential_id, key)
    if VC_JWT in request.headers.get("accept", ""):
        return Response(credentials.as_jwt(services, credential), media_type=VC_JWT)
    return Response(json.dumps(credential.document, ensure_ascii=False), media_type=VC_JSON)


@router.post("/credentials/{credential_id}/revoke", summary="Revoke a credential")
def revoke(
    credential_id: str, body: RevokeRequest, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    require(key, "revoke")
    credential = credentials.revoke(services, credential_id, body.reason, key, _actor(key))
    return credentials.summary(credential)


@router.post(
    "/verify",
    summary="Verify any OB 3.0 credential (JSON, JWT, PNG or SVG body)",
    description="No API key needed. The body is the credential itself: JSON, a "
    "compact JWS, or a baked PNG or SVG. The answer lists every check.",
)
async def verify(request: Request, services: ServicesDep) -> dict[str, Any]:
    body = await request.body()
    report = await run_in_threadpool(verify_credential, body, fetcher=LocalFirstFetcher(services))
    return report.to_dict()
