"""The issuing API: achievements, credentials (one, bulk, list, get), revocation, verification."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import IO, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import BadRequest, LaurelError, PayloadTooLarge, UnsupportedMedia
from issuer.effects import work
from issuer.http import uploads
from issuer.http.deps import (
    AchievementPath,
    ApiKeyDep,
    AuthorizationHeader,
    CredentialId,
    EmailQuery,
    ServicesDep,
    SessionDep,
    Slug,
    StrictJSONRoute,
    TimeQuery,
    WriteSessionDep,
    in_unit,
    issuer_for,
    parse_json,
    require,
)
from issuer.http.gate import VerificationSlot
from issuer.http.problems import READ, WRITE, responses
from issuer.institutes import issuers
from issuer.institutes.apikeys import authenticate
from issuer.issuing import bulk, credentials, jobs
from issuer.issuing.achievements import (
    get_achievement,
    list_achievements,
    ob_achievement,
    save_achievement,
)
from issuer.issuing.issuance import issue
from issuer.schemas import (
    AchievementIn,
    HttpsUrl,
    IssueRequest,
    IssuerUpdate,
    RevokeRequest,
    SingleIssueRequest,
)
from issuer.verification import trust
from issuer.worker import dispatcher

router = APIRouter(prefix="/api/v1", tags=["api"], route_class=StrictJSONRoute)
VC_JSON = "application/vc+ld+json"
VC_JWT = "application/vc+jwt"
ANY_JSON: dict[str, Any] = {"schema": {"type": "object"}}


def _actor(key: Any) -> str:
    return f"apikey:{key.prefix}"


@router.patch(
    "/issuers/{slug}",
    summary="Change the issuer's profile (name, website, email, description, location)",
    description="Needs the `admin` scope. The new values go into credentials issued from now "
    "on and into this instance's published trust list (`/trust/registry.json`). A name or "
    "website another issuer on this instance has is refused (409): names are compared "
    "case-insensitively, whitespace collapsed and NFKC-normalised, websites by host (a leading "
    "`www.` aside).",
    responses=responses(*WRITE, 409),
)
def update_issuer(
    slug: Slug, body: IssuerUpdate, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    issuer_for(db, key, slug, "admin")
    changes = body.model_dump(exclude_unset=True)
    updated = issuers.update_issuer(db, services, slug, changes, _actor(key))
    return {**issuers.profile(updated), "location": updated.location}


@router.get(
    "/issuers/{slug}/did-configuration",
    summary="The DID Configuration the institute publishes on its own website",
    description="Needs the `admin` scope. Publish the answer at "
    "`{origin}/.well-known/did-configuration.json` on the website (default: the issuer's `url`) "
    "so that verifiers can see the issuer controls that domain (DIF Well Known DID "
    "Configuration).",
    responses=responses(*READ),
)
def did_configuration(
    slug: Slug,
    db: SessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
    origin: Annotated[HttpsUrl | None, Query(description="An https origin.")] = None,
) -> dict[str, Any]:
    issuer_for(db, key, slug, "admin")
    return issuers.did_configuration_for(db, services, slug, origin)


@router.get(
    "/issuers/{slug}/achievements",
    summary="The issuer's achievements",
    description="Each with its key, validity and, for a catalogue achievement, `badgeArea`: "
    "which of IBM's five badge areas (knowledge, skills, proficiency, qualifications, general) "
    "it belongs to (null for one the issuer added itself).",
    responses=responses(*READ),
)
def achievements(
    slug: Slug, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    from issuer.catalogue import shared

    issuer = issuer_for(db, key, slug, "read")
    areas = {t.key: t.badge_area for t in shared(services.cache).achievements}
    return {
        "achievements": [
            {
                "key": row.key,
                "validity": row.validity,
                "badgeArea": areas.get(row.key),
                **ob_achievement(services, issuer, row),
            }
            for row in list_achievements(db, issuer)
        ]
    }


@router.post(
    "/issuers/{slug}/achievements",
    status_code=201,
    summary="Add an achievement",
    responses=responses(*WRITE, 409),
)
def add_achievement(
    slug: Slug, body: AchievementIn, db: SessionDep, key: ApiKeyDep, services: ServicesDep
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    row = save_achievement(db, issuer, body)
    return {"key": row.key, **ob_achievement(services, issuer, row)}


@router.put(
    "/issuers/{slug}/achievements/{achievement}",
    summary="Edit an achievement",
    responses=responses(*WRITE),
)
def edit_achievement(
    slug: Slug,
    achievement: AchievementPath,
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
    return {"key": row.key, **ob_achievement(services, issuer, row)}


@router.post(
    "/issuers/{slug}/credentials",
    status_code=201,
    summary="Issue one credential",
    description="Retries with the same `Idempotency-Key` return the same credential "
    "(200); the same key with a different body is a 409. A request whose credential would not "
    "conform to the OB 3.0 schema is refused (422) before anything is signed.",
    responses=responses(
        *WRITE, 409, also={200: {"description": "Issued before, for this Idempotency-Key."}}
    ),
)
def issue_one(
    slug: Slug,
    body: SingleIssueRequest,
    response: Response,
    db: SessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=200, pattern=r"^[\x20-\x7e]+$")
    ] = None,
) -> dict[str, Any]:
    issuer_for(db, key, slug, "issue")
    issued = issue(db, services, slug, body, idempotency_key=idempotency_key, actor=_actor(key))
    if not issued.created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/credentials/{issued.credential.id}"
    return issued.credential.document


_ROW = IssueRequest.model_json_schema(ref_template="#/components/schemas/{model}")
_ROW.pop("$defs")  # Recipient, Evidence, Result: in the components already (SingleIssueRequest)
_BULK_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "maxItems": bulk.MAX_ROWS,
                "items": _ROW,
            }
        },
        "text/csv": {"schema": {"type": "string"}},
    },
}


@router.post(
    "/issuers/{slug}/credentials/bulk",
    summary="Issue many (JSON array or CSV)",
    description="Body: a JSON array of issuance requests, or a CSV file (`text/csv`) "
    "with the columns " + ", ".join(bulk.CSV_COLUMNS) + ". Each row is issued or "
    f"rejected on its own; the report says which. Up to {jobs.SYNC_ROWS} rows are issued at "
    "once (200, with the report). Larger uploads, or any with `Prefer: respond-async`, become "
    "a durable job: 202 with the job (`Location: …/jobs/{id}`), whose progress and per-row "
    "report `GET /api/v1/issuers/{slug}/jobs/{id}` gives; a job survives restarts and crashes "
    "(nothing is lost or issued twice). The body is read as a stream, a row at a time (a JSON "
    "row may take up to 1 MB); a body that is not valid JSON or UTF-8 CSV is refused whole "
    "(400, naming the row where it broke) and nothing is stored. The API key and its `issue` "
    "scope are checked before any of the body is read.",
    openapi_extra={"requestBody": _BULK_BODY},
    responses={
        **responses(*WRITE, 415),
        202: {
            "description": "Accepted as a bulk job; its `Location` gives progress and report.",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
    },
)
async def issue_bulk(
    slug: Slug,
    request: Request,
    response: Response,
    services: ServicesDep,
    background: BackgroundTasks,
    authorization: AuthorizationHeader = None,
    prefer: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    await in_unit(services, _admitted, services, authorization, slug)
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type == "application/json":
        read = _json_rows
    elif content_type in ("text/csv", "application/csv"):
        read = _csv_rows
    else:
        raise UnsupportedMedia("send application/json (an array) or text/csv")
    with await uploads.spooled(request.stream()) as body:
        rows = read(body)
        first = await run_in_threadpool(list, islice(rows, jobs.SYNC_ROWS + 1))
        if len(first) <= jobs.SYNC_ROWS and "respond-async" not in (prefer or "").lower():
            return await in_unit(
                services, _in_one_unit, services, authorization, slug, bulk.issue_rows, first
            )
        all_rows = chain(first, rows)
        job = await in_unit(
            services, _in_one_unit, services, authorization, slug, _submit, all_rows
        )
    background.add_task(dispatcher(services).bulk, job["id"])
    response.status_code = 202
    response.headers["Location"] = _job_path(slug, job["id"])
    return job


def _json_rows(body: IO[bytes]) -> Iterator[Any]:
    """The rows of a JSON array, parsed one at a time as they are taken."""
    try:
        yield from uploads.json_array(body)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc.msg}") from None


def _csv_rows(body: IO[bytes]) -> Iterator[Any]:
    return bulk.csv_rows(uploads.text_lines(body))


def _job_path(slug: str, job_id: str) -> str:
    return f"/api/v1/issuers/{slug}/jobs/{job_id}"


def _submit(
    db: Session, services: Services, slug: str, rows: Iterable[Any], actor: str
) -> dict[str, Any]:
    job = jobs.submit(db, services, slug, rows, actor)
    return jobs.view(db, job, _job_path(slug, job.id))


@router.get(
    "/issuers/{slug}/jobs/{job_id}",
    summary="A bulk job: its progress and per-row report",
    description="`status` is `queued`, `running` or `done`; `processed` of `total` rows are "
    "finished, counted in `summary`. `rows` lists finished rows in order (`row`, `status`: "
    "`issued`, `already issued` or `error`, the credential `id` or the `error`), a page at a "
    "time: follow `next` while it is present.",
    responses=responses(*READ),
)
def get_bulk_job(
    slug: Slug,
    job_id: Annotated[str, Path(max_length=36)],
    db: SessionDep,
    key: ApiKeyDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=jobs.PAGE)] = jobs.PAGE,
) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "issue")
    job = jobs.get_job(db, issuer, job_id)
    return jobs.view(db, job, _job_path(slug, job.id), offset, limit)


def _json(body: bytes) -> Any:
    try:
        return parse_json(body)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc.msg}") from None


def _admitted(services: Services, authorization: str | None, slug: str) -> None:
    """For routes that read a large body themselves: the key and its ``issue`` scope, checked
    in a short unit of work before a byte of the body is read (401, 403 or 404 otherwise)."""
    with work(services, write=False) as db:
        issuer_for(db, authenticate(db, authorization), slug, "issue")


def _in_one_unit(
    services: Services, authorization: str | None, slug: str, action: Any, body: Any
) -> dict[str, Any]:
    """For routes that read a large body first (once ``_admitted``): the unit of work starts
    once it is read (a slow upload must not hold the database), then the key is checked again
    (it may have been revoked meanwhile) and ``action`` runs."""
    with work(services) as db:
        key = authenticate(db, authorization)
        issuer_for(db, key, slug, "issue")
        result: dict[str, Any] = action(db, services, slug, body, _actor(key))
        return result


_STATEMENT = {
    "type": "object",
    "required": ["actor", "verb", "object"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "actor": {
            "type": "object",
            "properties": {
                "mbox": {"type": "string", "pattern": "^mailto:", "maxLength": 410},
                "account": {
                    "type": "object",
                    "required": ["homePage", "name"],
                    "properties": {
                        "homePage": {"type": "string", "format": "uri"},
                        "name": {"type": "string"},
                    },
                },
                "name": {"type": "string"},
            },
            "anyOf": [{"required": ["mbox"]}, {"required": ["account"]}],
        },
        "verb": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string", "format": "uri"}},
        },
        "object": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string", "format": "uri"}},
        },
    },
}


@router.post(
    "/issuers/{slug}/xapi/statements",
    summary="xAPI statements from an LMS or LRS that award badges",
    description="One statement or an array. `completed`/`passed` statements whose activity maps "
    "to an achievement issue it to the actor's mbox, or to the roster member an LMS `account` "
    "names (the issuer's xAPI settings), once per statement id; other verbs are "
    "ignored. A statement that is not one (no actor mbox, verb or activity id) rejects the "
    "request (400) and nothing is issued; a statement that cannot be issued (e.g. a name too "
    "long) is reported as an error and never affects another. Needs the `issue` scope, checked "
    "before the body is read; a `voided` statement revokes the badge its statement awarded only "
    "for a key that also has the `revoke` scope (else it is reported as an error).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            _STATEMENT,
                            {"type": "array", "minItems": 1, "maxItems": 1000, "items": _STATEMENT},
                        ]
                    }
                }
            },
        }
    },
    responses=responses(*WRITE),
)
async def xapi_statements(
    slug: Slug, request: Request, services: ServicesDep, authorization: AuthorizationHeader = None
) -> dict[str, Any]:
    from issuer.issuing.xapi import receive

    await in_unit(services, _admitted, services, authorization, slug)
    body = _json(await request.body())

    def received(db: Session, services: Services, slug: str, body: Any, actor: str) -> Any:
        key = authenticate(db, authorization)  # checked by _in_one_unit just before
        return receive(db, services, slug, body, actor, may_revoke=key.has("revoke"))

    return await in_unit(services, _in_one_unit, services, authorization, slug, received, body)


@router.get(
    "/issuers/{slug}/credentials",
    summary="The issuer's credentials, filtered and paged",
    description="Needs the `read` scope. Each credential with its `recipient` (`email`, "
    "`name`), its public page `verifyUrl` (`/v/{id}`) and its `status`: `active`, `expired` "
    "(past `validUntil`) or `revoked`; filter with `status`. Newest first; `X-Total-Count`.",
    responses=responses(*READ),
)
def list_issued(
    slug: Slug,
    db: SessionDep,
    key: ApiKeyDep,
    response: Response,
    services: ServicesDep,
    email: EmailQuery | None = None,
    achievement: Annotated[str | None, Query(max_length=99, pattern=r"^[a-z0-9-]+$")] = None,
    status: Annotated[str | None, Query(pattern="^(active|expired|revoked)$")] = None,
    issued_after: TimeQuery | None = None,
    issued_before: TimeQuery | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
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
    holders = credentials.recipients(db, issuer.id, page.items)
    return {
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "credentials": [
            credentials.summary(item, holders[item.id], services.settings.base_url)
            for item in page.items
        ],
    }


@router.get(
    "/credentials/{credential_id}",
    summary="A signed credential (JSON or VC-JWT)",
    response_class=Response,
    responses=responses(
        *READ,
        also={200: {"description": "The credential", "content": {VC_JSON: ANY_JSON, VC_JWT: {}}}},
    ),
)
def get_one(
    credential_id: CredentialId,
    request: Request,
    db: WriteSessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
) -> Response:
    require(key, "read")
    credential = credentials.get_credential(db, credential_id, key)
    if VC_JWT in request.headers.get("accept", ""):
        return Response(credentials.as_jwt(db, services, credential), media_type=VC_JWT)
    return Response(json.dumps(credential.document, ensure_ascii=False), media_type=VC_JSON)


@router.post(
    "/credentials/{credential_id}/revoke",
    summary="Revoke a credential",
    responses=responses(*WRITE, 409),
)
def revoke(
    credential_id: CredentialId, body: RevokeRequest, db: SessionDep, key: ApiKeyDep
) -> dict[str, Any]:
    require(key, "revoke")
    credential = credentials.revoke(db, credential_id, body.reason, key, _actor(key))
    return credentials.summary(credential)


@router.post(
    "/verify",
    summary="Verify any OB 3.0 credential (JSON, JWT, VPQR, PNG or SVG body)",
    description="No API key needed. The body is the credential itself: JSON, a "
    "compact JWS, an offline QR code's text (`VP1-B…` or `VP1-R…`, CBOR-LD), a baked PNG or "
    "SVG, or a picture or PDF of an offline QR code (PNG, JPEG, WebP…). The answer lists every "
    "check; for an offline QR code, a warning says whether revocation could be checked. A body "
    "over the verifier's limits (2 MB; the nesting, blank-node and canonicalisation limits of "
    "docs/verifier.md) is refused before any work: 413 or 422, with the reason. A PDF is read "
    "in a process of its own with time and memory limits (docs/operations.md); one that "
    "needs more is refused with 422, saying which.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": ANY_JSON,
                "text/plain": {"schema": {"type": "string"}},
                "image/svg+xml": {"schema": {"type": "string"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
    responses=responses(400, 413, 422, 429, 503),
)
async def verify(
    request: Request, services: ServicesDep, _slot: VerificationSlot
) -> dict[str, Any]:
    """A picture or PDF is read before a database slot is taken: reading a PDF may take up to
    ``qrread.PDF_SECONDS``, holding only this request's verification slot meanwhile."""
    from issuer.artifacts.qrread import PDFTooComplex, may_be_picture, vpqr_in_picture

    body = await request.body()
    if may_be_picture(body):
        try:
            offline = await run_in_threadpool(vpqr_in_picture, body)
        except PDFTooComplex as exc:
            raise TooComplexToVerify(exc.message) from None
        if offline is not None:  # a photo of an offline QR code: verify what it holds
            body = offline.encode("ascii")
    return await in_unit(services, _verified, services, body)


class TooComplexToVerify(LaurelError):
    status, title = 422, "Too complex to verify"


def _verified(services: Services, body: bytes) -> dict[str, Any]:
    with work(services, write=False) as db:
        report = trust.verify(db, services, body)
    read = report.check("input")
    if read is not None and read.code in ("too_large", "too_complex"):
        # Refused before any work: the request, not the credential, is what is wrong.
        kind = PayloadTooLarge if read.code == "too_large" else TooComplexToVerify
        raise kind(read.reason)
    return report.to_dict()
