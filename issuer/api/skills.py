"""The skills API: programmes, the organisation's skills cloud and its groups, teams, gaps,
talent search, programme progress and learning hours."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from sqlmodel import Session

from issuer.core.errors import NotFound
from issuer.http.deps import (
    ApiKeyDep,
    EmailQuery,
    GroupPath,
    ServicesDep,
    SessionDep,
    Slug,
    StrictJSONRoute,
    Word,
    WriteSessionDep,
    issuer_for,
)
from issuer.http.problems import READ, WRITE, responses
from issuer.models import ApiKey, Issuer
from issuer.schemas import NOT_BLANK, ONE_LINE, GroupRoster, TeamRequest

router = APIRouter(prefix="/api/v1", tags=["skills"], route_class=StrictJSONRoute)
GroupQuery = Annotated[
    str,
    Query(
        min_length=1, max_length=100, pattern=NOT_BLANK, description="One group's learners only."
    ),
]
SVG = {"image/svg+xml": {"schema": {"type": "string"}}}
LangQuery = Annotated[
    str, Query(pattern="^(en|ko)$", description="ko: Korean names of skills and targets.")
]


def _viewed(db: Session, issuer: Issuer, key: ApiKey, action: str, subject: str) -> None:
    """A view of people's data, for the issuer's access log."""
    from issuer.people.access import record

    record(db, issuer.id, f"apikey:{key.prefix}", action, subject)


def _pictures(*kinds: str) -> dict[int | str, dict[str, Any]]:
    types = {"svg": SVG, "png": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}
    content = {name: media for kind in kinds for name, media in types[kind].items()}
    return responses(*READ, also={200: {"description": "The picture", "content": content}})


@router.get(
    "/issuers/{slug}/programs",
    summary="Programmes (LEAD-style pathways) the issuer offers",
    description="Each programme: `id`, `name`, `required` and `electives` (achievement ids), "
    "`electivesNeeded` (k of the electives) and `award` (the achievement issued on completion).",
    responses=responses(*READ),
)
def list_programs(
    slug: Slug, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    from issuer.skills.frameworks import programs

    issuer = issuer_for(db, key, slug, "read")
    return {"programs": programs(db, services, issuer)}


@router.get(
    "/issuers/{slug}/skills",
    summary="The organisation's skills cloud",
    description="Per skill (framework, code, name; `codes`: every code of a competency two "
    "frameworks list, merged): the summed weight of its learners' valid credentials (achievement "
    "type × hours × alignment × recency, see `/skills/explain`) and how many learners hold it, "
    "with the same a year earlier (`yearAgo`) and the `change`; `thin` and `growing` by the "
    "group's `thresholds` (thin: below the larger of 10% of the group and the 20th percentile of "
    "learners per skill; growing: more new learners than the median skill). `rollup`: each ECQ "
    "with its own and its competencies' weight. `group` limits it to one group's learners. "
    "`rising`: AI competency model skills whose importance rises and that the group is thin in.",
    responses=responses(*READ),
)
def skills_cloud(
    slug: Slug,
    db: SessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
    group: GroupQuery | None = None,
) -> dict[str, Any]:
    from issuer.skills.cloud import cloud_report

    issuer = issuer_for(db, key, slug, "read")
    return cloud_report(db, services, issuer, group)


@router.get(
    "/issuers/{slug}/skills/explain",
    summary="Why a person or group has a skill: the contributing badges",
    description="`skill`: `framework:code` (or a code unique in the catalogue); `email` (one "
    "person) or `group` (a group), or neither (everyone). Returns the skill (all its `codes`, "
    "its roll-up `parent`), each contributing badge with `typeFactor` × `hoursFactor` × "
    "`alignmentFactor` × `recencyFactor` = `contribution`, their sum `weight`, the "
    "`evidenceLevel` it reaches (`levelThresholds`), and `level` with its `basis`: `assessed` "
    "when a badge carries an assessed result for the skill, else `evidence`.",
    responses=responses(*READ),
)
def explain_skill(
    slug: Slug,
    skill: Annotated[
        str, Query(min_length=1, max_length=200, pattern=NOT_BLANK, description="framework:code")
    ],
    db: WriteSessionDep,
    key: ApiKeyDep,
    email: EmailQuery | None = None,
    group: GroupQuery | None = None,
    lang: LangQuery = "en",
) -> dict[str, Any]:
    from issuer.core.errors import BadRequest
    from issuer.reports.learners import learner_of
    from issuer.skills import explain

    issuer = issuer_for(db, key, slug, "read")
    wanted = explain.skill_key(skill)
    if email is not None and group is not None:
        raise BadRequest("give email or group, not both")
    if email is not None:
        _viewed(db, issuer, key, "learner.skills", email)
        people = [learner_of(db, issuer, email)]
        scope: dict[str, Any] = {"email": email}
    elif group is not None:
        people, scope = explain.group_learners(db, issuer, group), {"group": group}
    else:
        people, scope = explain.everyone(db, issuer), {}
    return {**scope, **explain.explain(db, issuer, wanted, people, lang=lang)}


@router.get(
    "/issuers/{slug}/skills.{kind}",
    summary="The skills cloud as an SVG or PNG picture",
    response_class=Response,
    responses=_pictures("svg", "png"),
)
def skills_picture(
    slug: Slug,
    kind: Annotated[
        str, Path(description="svg or png", json_schema_extra={"enum": ["svg", "png"]})
    ],
    db: SessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
    group: GroupQuery | None = None,
) -> Response:
    from issuer.artifacts.cloud import cloud_png, cloud_svg
    from issuer.skills.cloud import cloud_report, cloud_words

    if kind not in ("svg", "png"):
        raise NotFound("the cloud is available as skills.svg and skills.png")
    issuer = issuer_for(db, key, slug, "read")
    words = cloud_words(cloud_report(db, services, issuer, group)["skills"])
    if kind == "svg":
        return Response(cloud_svg(words), media_type="image/svg+xml")
    return Response(cloud_png(words), media_type="image/png")


@router.get(
    "/issuers/{slug}/groups",
    summary="The issuer's learner groups (departments)",
    responses=responses(*READ),
)
def list_groups(slug: Slug, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    from issuer.people import groups

    issuer = issuer_for(db, key, slug, "read")
    return {"groups": groups.listing(db, issuer)}


@router.put(
    "/issuers/{slug}/groups/{name}",
    summary="Set a group's members (an HR roster)",
    description="Replaces the group's members with `emails`; learners are created for emails "
    "not seen before, so that their later badges count for the group.",
    responses=responses(*WRITE),
)
def put_group(
    slug: Slug,
    name: GroupPath,
    body: GroupRoster,
    db: SessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
) -> dict[str, Any]:
    from issuer.people import groups

    issuer = issuer_for(db, key, slug, "admin")
    return groups.replace(db, issuer, name, body.emails)


@router.delete(
    "/issuers/{slug}/groups/{name}",
    status_code=204,
    summary="Remove a group",
    responses=responses(*READ),
)
def delete_group(
    slug: Slug, name: GroupPath, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> Response:
    from issuer.people import groups

    issuer = issuer_for(db, key, slug, "admin")
    groups.remove(db, issuer, name)
    return Response(status_code=204)


@router.post(
    "/issuers/{slug}/teams",
    summary="The smallest team that covers a set of skills",
    description="`skills`: codes, or `{code, framework, minLevel}`; `size`: the most members; "
    "`exclude`: emails. Returns `members`, `covered`, `uncovered` (what no one covers), "
    "`perSkill` (who covers each) and `exact` (false only if the search hit its cap).",
    responses=responses(*WRITE),
)
def form_team(slug: Slug, body: TeamRequest, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    from issuer.skills.team_api import form

    issuer = issuer_for(db, key, slug, "read")
    _viewed(db, issuer, key, "people.search", "team: " + ", ".join(map(str, body.skills))[:300])
    return form(db, issuer, body)


@router.get(
    "/issuers/{slug}/gaps",
    summary="A learner's skill gap to a target profile",
    description="Per target skill the level held (`basis`: evidence or assessed) and wanted; "
    "`readiness` (mean of min(held, wanted)/wanted, %), `nextStep`, and per missing skill "
    "`closedBy`: achievements the issuer (or its organisation's trusted issuers) offers, "
    "ranked by competency match, fit to the target, programme progress and evidence added.",
    responses=responses(*READ),
)
def skill_gap(
    slug: Slug,
    email: EmailQuery,
    db: WriteSessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
    target: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            pattern=ONE_LINE,
            description="A target profile's id; without it, the target of the learner's grade "
            "on the roster of the organisation this issuer runs (`rosterGrade` in the answer).",
        ),
    ] = None,
    lang: LangQuery = "en",
) -> dict[str, Any]:
    from issuer.reports.gaps import gap

    issuer = issuer_for(db, key, slug, "read")
    _viewed(db, issuer, key, "learner.skills", email)
    return gap(db, services, issuer, email, target, lang)


@router.get(
    "/issuers/{slug}/gaps.svg",
    summary="A learner's levels against a target, as bars",
    response_class=Response,
    responses=_pictures("svg"),
)
def skill_gap_chart(
    slug: Slug,
    email: EmailQuery,
    target: Word,
    db: WriteSessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
    lang: LangQuery = "en",
) -> Response:
    from issuer.artifacts.cloud import profile_bars_svg
    from issuer.reports.gaps import gap

    issuer = issuer_for(db, key, slug, "read")
    _viewed(db, issuer, key, "learner.skills", email)
    answer = gap(db, services, issuer, email, target, lang)
    rows = [(item["skill"], item["level"], item["levelWanted"]) for item in answer["levels"]]
    return Response(profile_bars_svg(answer["name"], rows), media_type="image/svg+xml")


@router.get(
    "/issuers/{slug}/talent",
    summary="Who holds a skill at a level or above",
    responses=responses(*READ),
)
def find_talent(
    slug: Slug,
    skill: Word,
    db: WriteSessionDep,
    key: ApiKeyDep,
    level: Annotated[int, Query(ge=1, le=5)] = 1,
    framework: Word | None = None,
) -> dict[str, Any]:
    from issuer.reports.learners import talent

    issuer = issuer_for(db, key, slug, "read")
    _viewed(db, issuer, key, "people.search", f"skill {skill} level {level}")
    return {"learners": talent(db, issuer, skill, level, framework)}


@router.get(
    "/issuers/{slug}/programs/progress",
    summary="A learner's progress per programme",
    responses=responses(*READ),
)
def programme_progress(
    slug: Slug, email: EmailQuery, db: WriteSessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    from issuer.reports.learners import program_progress

    issuer = issuer_for(db, key, slug, "read")
    _viewed(db, issuer, key, "learner.programs", email)
    return {"email": email, "programs": program_progress(db, services, issuer, email)}


@router.get(
    "/issuers/{slug}/hours",
    summary="Learning hours per learner and year against the annual requirement",
    description="JSON, or CSV for HR systems with `format=csv`. `required` defaults to 80 hours.",
    response_class=Response,
    responses=responses(
        *READ,
        also={
            200: {
                "description": "The report",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        },
    ),
)
def learning_hours(
    slug: Slug,
    year: Annotated[int, Query(ge=1900, le=9999)],
    db: WriteSessionDep,
    services: ServicesDep,
    key: ApiKeyDep,
    required: Annotated[float, Query(gt=0, le=10000)] = 80.0,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    from issuer.catalogue import shared
    from issuer.reports.learners import hours, hours_csv

    issuer = issuer_for(db, key, slug, "read")
    _viewed(db, issuer, key, "learners.hours", f"year {year}")
    report = hours(db, issuer, year, required, shared(services.cache).completion_keys)
    if format == "csv":
        return Response(
            hours_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="hours-{year}.csv"'},
        )
    return Response(json.dumps({"year": year, "learners": report}), media_type="application/json")
