"""The organisations API: an organisation across issuers (its departments, roster, trusted
issuers, equivalences, shared credentials and skills cloud), run with its home issuer's API keys
(`read` to read, `admin` to change); a trusted issuer's agreement, with its own keys; and, for
learners with an OAuth access token, sharing a credential from their wallet with an organisation
whose roster they are on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from issuer.core.errors import BadRequest, Conflict, NotFound, UnsupportedMedia
from issuer.http.deps import (
    ApiKeyDep,
    DetachedApiKeyDep,
    ServicesDep,
    SessionDep,
    Slug,
    StrictJSONRoute,
    WriteSessionDep,
    issuer_for,
    parse_json,
    read_then_write,
    require,
)
from issuer.http.oauth import bearer, detached_bearer
from issuer.http.problems import READ, WRITE, problem, responses
from issuer.models import ApiKey, ImportedCredential, Organisation
from issuer.oauth.tokens import Access
from issuer.orgs import agreements, manage
from issuer.orgs.manage import InvalidRows
from issuer.schemas import NOT_BLANK, ONE_LINE
from issuer.wallet.imports_legacy import issuer_ref_of

router = APIRouter(prefix="/api/v1", tags=["organisations"], route_class=StrictJSONRoute)
SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
OrgPath = Annotated[str, Path(description="The organisation's slug.", max_length=64, pattern=SLUG)]
UPSERT = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert"
MAX_UPLOAD = 5_000_000
ROWS = responses(*WRITE, 415, also={422: {"description": "Bad rows (`errors`), or bad fields."}})
UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    issuer: str = Field(max_length=64, pattern=SLUG, description="The home issuer's slug.")
    slug: str = Field(max_length=64, pattern=SLUG)
    name: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    name_ko: str | None = Field(
        default=None, alias="nameKo", min_length=1, max_length=200, pattern=NOT_BLANK
    )


class TrustIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    issuer: str | None = Field(
        default=None, max_length=64, pattern=SLUG, description="A local issuer's slug."
    )
    issuer_ref: str | None = Field(
        default=None,
        alias="issuerRef",
        max_length=600,
        pattern=ONE_LINE,
        description="An issuer elsewhere: its id as its credentials write it (DID or URL).",
    )
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NOT_BLANK)


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation: str = Field(max_length=64, pattern=SLUG)
    credential: str = Field(
        min_length=1, max_length=600, pattern=ONE_LINE, description="The credential's id."
    )
    issuer: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        pattern=ONE_LINE,
        description="Its issuer's id: needed only when credentials of two issuers in the wallet "
        "have this id (OB 3.0 equality: the same issuer and id).",
    )


def _org(db: Session, key: ApiKey, slug: str, scope: str) -> Organisation:
    """Organisation ``slug`` if ``key`` is its home issuer's (else 404) with ``scope`` (else
    403)."""
    org = manage.home_org(db, key.issuer_id, slug)
    require(key, scope)
    return org


def _actor(key: ApiKey) -> str:
    return f"apikey:{key.prefix}"


async def _upload(request: Request, columns: tuple[str, ...], field: str) -> Any:
    """A JSON body, or a CSV body's rows (``columns``)."""
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    body = await request.body()
    if len(body) > MAX_UPLOAD:
        raise BadRequest(f"the upload is over {MAX_UPLOAD:,} bytes")
    if media == "text/csv":
        try:
            return {field: manage.read_csv(body.decode("utf-8"), columns)}
        except UnicodeDecodeError:
            raise BadRequest("the CSV is not UTF-8 text") from None
    if media != "application/json":
        raise UnsupportedMedia("send application/json or text/csv")
    try:
        return parse_json(body)
    except ValueError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None


def _rows(given: Any, field: str) -> list[dict[str, Any]]:
    rows = given.get(field) if isinstance(given, dict) else given
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadRequest(f"send {{{field!r}: [objects]}} or an array of objects")
    return rows


def _invalid(exc: InvalidRows) -> JSONResponse:
    return problem(exc.status, exc.title, exc.detail, errors=exc.rows)


@router.post(
    "/orgs",
    summary="Create an organisation for a home issuer",
    description="Needs the `admin` scope of a key of the home issuer (`issuer`), whose staff "
    "and API keys then run the organisation. One organisation per home issuer.",
    status_code=201,
    responses=responses(*WRITE, 409),
)
def create_org(body: OrgCreate, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    issuer = issuer_for(db, key, body.issuer, "admin")
    org = manage.create(db, issuer, body.slug, body.name, body.name_ko, _actor(key))
    return manage.describe(db, org)


@router.get(
    "/orgs/{org}",
    summary="An organisation: its units, roster size and trusted issuers",
    responses=responses(*READ),
)
def get_org(org: OrgPath, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    return manage.describe(db, _org(db, key, org, "read"))


@router.get(
    "/orgs/{org}/units",
    summary="The organisation's department tree",
    description="Each unit: `code`, `name`, `nameKo`, `parent`, `supervisorEmail`, `children`.",
    responses=responses(*READ),
)
def get_units(org: OrgPath, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    return {"units": manage.units(db, _org(db, key, org, "read"))}


@router.put(
    "/orgs/{org}/units",
    summary="Replace the department tree (JSON tree or CSV)",
    description='JSON: `{"units": [...]}`, each unit with `code`, `name`, optional `nameKo`, '
    "`supervisorEmail` and nested `children` (or a flat list with `parent` codes). CSV: the "
    "columns code,name,name_ko,parent,supervisor_email. Units are kept by code (their members "
    "stay); units missing from the upload are removed and their members belong to no unit. "
    "Bad rows: 422 listing each in `errors`, and nothing is changed. Needs `admin`.",
    responses=ROWS,
    openapi_extra=UPLOAD,
)
async def put_units(org: OrgPath, request: Request, db: SessionDep, key: ApiKeyDep) -> Response:
    found = _org(db, key, org, "admin")
    given = await _upload(request, manage.UNIT_COLUMNS, "units")
    rows = _rows(given, "units")
    flat = rows if any("parent" in r for r in rows) else manage.flatten(rows)
    try:
        summary = manage.replace_units(db, found, flat, _actor(key))
    except InvalidRows as exc:
        return _invalid(exc)
    return JSONResponse({**summary, "units": manage.units(db, found)})


@router.get(
    "/orgs/{org}/roster",
    summary="The organisation's current roster",
    responses=responses(*READ),
)
def get_roster(org: OrgPath, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    return {"members": manage.roster(db, _org(db, key, org, "read"))}


@router.put(
    "/orgs/{org}/roster",
    summary="Upload the roster (JSON or CSV)",
    description='JSON: `{"members": [...]}` (or an array), each with `email` and optional '
    "`name`, `employeeNo`, `unit` (a unit code), `grade`, `role`, `executive`. CSV: the "
    "columns email,name,employee_no,unit,grade,role,executive. Learners are created for emails "
    "not seen before. `full=true` (the default): members missing from the upload are marked "
    "as left, never deleted. Bad rows: 422 listing each in `errors`, and nothing is changed. "
    "Needs `admin`.",
    responses=ROWS,
    openapi_extra=UPLOAD,
)
async def put_roster(
    org: OrgPath,
    request: Request,
    db: SessionDep,
    key: ApiKeyDep,
    full: Annotated[bool, Query(description="Mark members missing from it as left.")] = True,
) -> Response:
    found = _org(db, key, org, "admin")
    given = await _upload(request, manage.ROSTER_COLUMNS, "members")
    try:
        summary = manage.replace_roster(db, found, _rows(given, "members"), _actor(key), full=full)
    except InvalidRows as exc:
        return _invalid(exc)
    return JSONResponse(summary)


@router.get(
    "/orgs/{org}/trust",
    summary="The issuers whose badges count for the organisation",
    description="The home issuer (`home: true`, always trusted), then each trusted issuer: "
    "`issuerRef` (its DID or URL), `name`, `local` (its slug when it is on this Laurel), "
    "`agreed` (false while an issuer on this Laurel has not agreed: its badges do not count "
    "yet; always true for the home issuer and issuers elsewhere).",
    responses=responses(*READ),
)
def get_trust(org: OrgPath, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    return {"trusted": manage.trusted(db, _org(db, key, org, "read"))}


@router.post(
    "/orgs/{org}/trust",
    summary="Trust an issuer, here or elsewhere",
    description="Either `issuer` (a local issuer's slug) or `issuerRef` (an issuer elsewhere, "
    "as its credentials name it: a DID or URL) with its display `name`. An issuer on this "
    "Laurel (by slug or DID) is another tenant: the trust is pending (`agreed: false`) and its "
    "badges do not count until it agrees (`POST /api/v1/issuers/{slug}/trusted-by/{org}`). "
    "Credentials members shared from an issuer elsewhere count once it is trusted. Trusting "
    "one again changes nothing. Needs `admin`.",
    responses=responses(*WRITE, 409),
)
def post_trust(org: OrgPath, body: TrustIn, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    found = _org(db, key, org, "admin")
    return manage.trust(
        db, found, _actor(key), issuer=body.issuer, issuer_ref=body.issuer_ref, name=body.name
    )


@router.delete(
    "/orgs/{org}/trust",
    summary="Stop trusting an issuer",
    description="`issuer`: a local issuer's slug or an issuer's DID or URL. Its badges no "
    "longer count (shared ones are kept, and count again if it is trusted again). Needs `admin`.",
    status_code=204,
    responses=responses(*READ),
)
def delete_trust(
    org: OrgPath,
    db: SessionDep,
    key: ApiKeyDep,
    issuer: Annotated[str, Query(min_length=1, max_length=600, pattern=ONE_LINE)],
) -> Response:
    manage.distrust(db, _org(db, key, org, "admin"), issuer, _actor(key))
    return Response(status_code=204)


@router.get(
    "/orgs/{org}/equivalences",
    summary="Badges from elsewhere the organisation counts as catalogue achievements",
    description="`equivalences`: a list of `issuerRef` (a trusted issuer elsewhere; null for "
    "one declared before issuers were named that could not be bound: it counts for nothing "
    "until declared again), `achievementId` and `achievementKey`.",
    responses=responses(*READ),
)
def get_equivalences(org: OrgPath, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    return {"equivalences": manage.equivalences(db, _org(db, key, org, "read"))}


@router.put(
    "/orgs/{org}/equivalences",
    summary="Set the equivalences used by programmes",
    description='`{"equivalences": [{"issuerRef": trusted issuer elsewhere, "achievementId": '
    'its achievement\'s id, "achievementKey": catalogue achievement key}, …]}`: a credential '
    "shared by a member, issued by `issuerRef` for the achievement `achievementId`, counts "
    "towards programmes as that catalogue achievement; the same achievement id in another "
    "issuer's badge does not. Replaces the whole list. Needs `admin`.",
    responses=ROWS,
)
def put_equivalences(
    org: OrgPath,
    body: dict[str, Any],
    db: SessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
) -> Response:
    from issuer.skills.frameworks import catalogue

    found = _org(db, key, org, "admin")
    given = body.get("equivalences")
    if not isinstance(given, list) or set(body) != {"equivalences"}:
        raise BadRequest(
            'send {"equivalences": [{"issuerRef": …, "achievementId": …, "achievementKey": …}]}:'
            " each equivalence names the trusted issuer whose achievement it is"
        )
    keys = {a.key for a in catalogue(services).achievements}
    try:
        saved = manage.replace_equivalences(db, found, given, keys, _actor(key))
    except InvalidRows as exc:
        return _invalid(exc)
    return JSONResponse({"equivalences": saved})


@router.get(
    "/orgs/{org}/shared",
    summary="Credentials members shared with the organisation, per source",
    description="Each: `learner` (email), `issuer`, `issuerRef`, `achievement`, `hours`, "
    "`validFrom`, `validUntil` (the verifier's reading: VCDM 1.1 `expirationDate`, a JWT's "
    "`exp`), `source` (wallet or obapi), `state` (counting, withdrawn, revoked, not-verified "
    "when a recheck found it no longer verifies, expired, or untrusted when its issuer is no "
    "longer trusted).",
    responses=responses(*READ),
)
def get_shared(org: OrgPath, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    from issuer.wallet.orgs import listing

    return {"shared": listing(db, _org(db, key, org, "read"))}


@router.post(
    "/orgs/{org}/shared/recheck",
    summary="Check the shared credentials' status again",
    description="Verifies each counting shared credential again; those now revoked, expired "
    "(the end date the verifier reads) or no longer verifying stop counting: how many of each, "
    "`revoked`, `expired`, `notVerified`. A check the verifier could not decide (a host "
    "unreachable) changes nothing. Needs `admin`.",
    responses=responses(*READ),
)
async def recheck_shared(
    org: OrgPath, key: DetachedApiKeyDep, services: ServicesDep, background: BackgroundTasks
) -> dict[str, Any]:
    """The issuers' hosts read first, with no write transaction open (``read_then_write``)."""
    from issuer.wallet.orgs import foresee_recheck_shared, recheck

    found = await read_then_write(
        services,
        background,
        lambda db: foresee_recheck_shared(db, services, _org(db, key, org, "admin")),
        lambda db: recheck(db, services, _org(db, key, org, "admin")),
    )
    return {"revoked": found.revoked, "expired": found.expired, "notVerified": found.rejected}


@router.get(
    "/orgs/{org}/skills",
    summary="The organisation's skills cloud across its trusted issuers",
    description="Per skill: `weight`, `level`, `learners` (members holding it), `catalogued` "
    "(a skill of Laurel's catalogue, or one named by a badge from elsewhere), and `sources`: "
    "one entry per issuer and source (`here`: issued on this Laurel by a trusted issuer; "
    "`shared`: from elsewhere, shared by members) with its weight, learners and credentials. "
    "`unit`: one department and the units under it.",
    responses=responses(*READ),
)
def org_skills(
    org: OrgPath,
    db: SessionDep,
    key: ApiKeyDep,
    services: ServicesDep,
    unit: Annotated[str | None, Query(min_length=1, max_length=64, pattern=ONE_LINE)] = None,
) -> dict[str, Any]:
    from issuer.orgs.cloud import org_cloud
    from issuer.skills.frameworks import catalogue

    return org_cloud(db, catalogue(services), _org(db, key, org, "read"), unit)


# --- the trusted issuer's agreement, with its own keys ---------------------------------------


@router.get(
    "/issuers/{slug}/trusted-by",
    summary="The organisations that trust this issuer",
    description="Each organisation (run from another issuer's account, or this one's) that "
    "trusts the issuer: `organisation`, `name`, `issuer` (its home issuer), `agreed`, `since`, "
    "`agreedAt`. Its badges count for the organisation only once agreed. Needs `read`.",
    responses=responses(*READ),
)
def get_trusted_by(slug: Slug, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    return {"trustedBy": agreements.trusted_by(db, issuer_for(db, key, slug, "read"))}


@router.post(
    "/issuers/{slug}/trusted-by/{org}",
    summary="Agree that an organisation counts this issuer's badges",
    description="The issuer's badges held by the organisation's members then count for it "
    "(hours, programmes, skills clouds, plans). The agreement is for the organisation, not per "
    "learner: every learner of this issuer whose email the organisation puts on its roster is "
    "then seen by it, with no consent of hers (as the organisation's own HR data would be). "
    "Agreeing again changes nothing. 404 when the organisation does not trust the issuer. "
    "Needs `admin`.",
    responses=responses(*WRITE),
)
def agree_trust(slug: Slug, org: OrgPath, db: SessionDep, key: ApiKeyDep) -> dict[str, Any]:
    issuer = issuer_for(db, key, slug, "admin")
    return agreements.agree(db, issuer, org, _actor(key))


@router.delete(
    "/issuers/{slug}/trusted-by/{org}",
    summary="Refuse an organisation's trust, or withdraw an agreement",
    description="The trust is removed: the issuer's badges stop counting for the organisation "
    "at once, and it must ask again. Credentials members shared are not affected. Needs "
    "`admin`.",
    status_code=204,
    responses=responses(*READ),
)
def refuse_trust(slug: Slug, org: OrgPath, db: SessionDep, key: ApiKeyDep) -> Response:
    agreements.refuse(db, issuer_for(db, key, slug, "admin"), org, _actor(key))
    return Response(status_code=204)


# --- learners, with an OAuth access token --------------------------------------------------


def _imported(
    db: Session, learner_id: int, credential: str, issuer: str | None = None
) -> ImportedCredential:
    """The wallet's credential of this id (and issuer, if given). Two issuers' credentials may
    share an id (OB 3.0 tells them apart by the issuer too): then the issuer must be named."""
    query = select(ImportedCredential).where(
        ImportedCredential.learner_id == learner_id,
        ImportedCredential.credential_id == credential,
    )
    if issuer is not None:
        query = query.where(ImportedCredential.issuer_ref == issuer_ref_of({"issuer": issuer}))
    rows = db.exec(query.order_by(col(ImportedCredential.id)).limit(2)).all()
    if not rows:
        raise NotFound(f"there is no credential {credential!r} in your wallet")
    if len(rows) > 1:
        raise Conflict(
            f"credentials of more than one issuer in your wallet have the id {credential!r}: "
            "name its issuer (issuer)"
        )
    return rows[0]


@router.post(
    "/me/shares",
    summary="Share a credential from your wallet with your organisation",
    description="For a learner's OAuth access token with the OB 3.0 `credential.upsert` scope: "
    "shares the credential `credential` (its id; stored through `/ims/ob/v3p0/credentials` or "
    "imported in the wallet) with `organisation`, whose roster you are on. It is verified "
    "again; 400 when it does not verify or was not issued to you, 403 when the organisation "
    "does not trust its issuer or you are not on its roster. When credentials of two issuers "
    "in your wallet have that id, name its issuer's id as `issuer` (else 409).",
    status_code=201,
    responses=responses(*WRITE, 409),
)
async def share_credential(
    body: ShareIn,
    services: ServicesDep,
    background: BackgroundTasks,
    access: Annotated[Access, Depends(detached_bearer(UPSERT))],
) -> dict[str, Any]:
    """The issuer's hosts read first, with no write transaction open (``read_then_write``)."""
    from issuer.wallet.orgs import foresee_share, share, shown

    learner = access.learner.id
    assert learner is not None

    def then(db: Session) -> dict[str, Any]:
        row = _imported(db, learner, body.credential, body.issuer)
        return shown(share(db, services, learner, body.organisation, row, "obapi"))

    return await read_then_write(
        services,
        background,
        lambda db: foresee_share(
            db, services, _imported(db, learner, body.credential, body.issuer)
        ),
        then,
    )


@router.delete(
    "/me/shares",
    summary="Withdraw a shared credential",
    description="The credential no longer counts for the organisation.",
    status_code=204,
    responses=responses(*READ),
)
def withdraw_credential(
    db: WriteSessionDep,
    access: Annotated[Access, Depends(bearer(UPSERT))],
    organisation: Annotated[str, Query(max_length=64, pattern=SLUG)],
    credential: Annotated[str, Query(min_length=1, max_length=600, pattern=ONE_LINE)],
) -> Response:
    from issuer.wallet.orgs import withdraw

    assert access.learner.id is not None
    withdraw(db, access.learner.id, organisation, credential)
    return Response(status_code=204)
