"""The wallet's informal-learning pages (``issuer.orgs.informal``): a learner's claims and the
form for a new one (``/wallet/claims``), a returned claim changed and sent again, and the claims
waiting for the signed-in person as a department's supervisor (``/wallet/endorse``). English and
Korean, no JavaScript; every form has its CSRF token checked (``LearnerForm``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import BadRequest, LaurelError
from issuer.http.cookies import language
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.sessions import LearnerForm, LearnerSession, SignedIn
from issuer.models import InformalClaim, Organisation, OrgMember, OrgUnit
from issuer.orgs import informal
from issuer.orgs.rules import INFORMAL_CATEGORIES
from issuer.web.render import wallet_page as page

router = APIRouter(tags=["pages"], include_in_schema=False)
ClaimId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Short = Annotated[str, Form(max_length=400)]
Long = Annotated[str, Form(max_length=8000)]


@dataclass(frozen=True)
class ClaimView:
    """A claim as the pages show it."""

    row: InformalClaim
    org: str
    unit: str | None
    learner: str | None
    used: float | None
    """Hours the learner's other claims of the category had counted that year when the cap
    cut this one (``None``: not capped)."""


def _hours(value: float | None) -> str:
    return f"{value or 0:g}"


def _name(row: Organisation | OrgUnit | None, lang: str) -> str | None:
    if row is None:
        return None
    return (row.name_ko or row.name) if lang == "ko" else row.name


def _views(db: Session, rows: list[InformalClaim], lang: str) -> list[ClaimView]:
    orgs = {
        o.id: o
        for o in db.exec(
            select(Organisation).where(col(Organisation.id).in_({r.org_id for r in rows}))
        )
    }
    units = {
        u.id: u
        for u in db.exec(
            select(OrgUnit).where(col(OrgUnit.id).in_({r.unit_id for r in rows if r.unit_id}))
        )
    }
    names = {
        (m.org_id, m.learner_id): m.name
        for m in db.exec(
            select(OrgMember).where(col(OrgMember.learner_id).in_({r.learner_id for r in rows}))
        )
    }
    found = []
    for row in rows:
        org, unit = orgs.get(row.org_id), units.get(row.unit_id) if row.unit_id else None
        capped = (
            row.state == "endorsed"
            and row.cap_hours is not None
            and (row.hours_counted or 0) < (row.hours_endorsed or 0)
        )
        found.append(
            ClaimView(
                row=row,
                org=_name(org, lang) or "",
                unit=_name(unit, lang),
                learner=names.get((row.org_id, row.learner_id)),
                used=(row.cap_hours or 0) - (row.hours_counted or 0) if capped else None,
            )
        )
    return found


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(f"{what} is a date like 2026-03-31") from None


def _number(value: str, what: str) -> float:
    try:
        number = float(value.strip().replace(",", "."))
    except ValueError:
        raise BadRequest(f"{what} is a number of hours, like 12 or 1.5") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise BadRequest(f"{what} is a number of hours, like 12 or 1.5")
    return number


@dataclass(frozen=True)
class _Form:
    org: str = ""
    category: str = ""
    title: str = ""
    started_on: str = ""
    ended_on: str = ""
    hours: str = ""
    evidence_url: str = ""
    evidence_text: str = ""
    learned: str = ""

    def claim(self) -> informal.ClaimIn:
        return informal.ClaimIn(
            category=self.category,
            title=self.title,
            started_on=_date(self.started_on, "the start"),
            ended_on=_date(self.ended_on, "the end"),
            hours=_number(self.hours, "hours"),
            learned=self.learned,
            evidence_url=self.evidence_url or None,
            evidence_text=self.evidence_text or None,
        )

    @classmethod
    def of(cls, row: InformalClaim) -> _Form:
        return cls(
            str(row.org_id),
            row.category,
            row.title,
            row.started_on.isoformat(),
            row.ended_on.isoformat(),
            _hours(row.hours),
            row.evidence_url or "",
            row.evidence_text or "",
            row.learned,
        )


def _claims_page(
    request: Request,
    services: Services,
    db: Session,
    signed: SignedIn,
    status: int = 200,
    form: _Form | None = None,
    error: str | None = None,
) -> Response:
    lang = language(request)
    orgs = informal.memberships(db, signed.id)
    return page(
        request,
        services,
        "wallet_claims.html",
        status,
        session=signed,
        claims=_views(db, informal.mine(db, signed.id), lang),
        orgs=[o for o, _ in orgs],
        categories=INFORMAL_CATEGORIES,
        form=form or _Form(org=str(orgs[0][0].id) if orgs else ""),
        error=error,
        awaiting=len(informal.awaiting(db, signed.id)),
        done=request.query_params.get("done"),
        hours=_hours,
    )


@router.get("/wallet/claims")
def claims_page(
    request: Request, services: ServicesDep, db: SessionDep, signed: LearnerSession
) -> Response:
    return _claims_page(request, services, db, signed)


def _posted(
    org: str,
    category: str,
    title: str,
    started_on: str,
    ended_on: str,
    hours: str,
    evidence_url: str,
    evidence_text: str,
    learned: str,
) -> _Form:
    return _Form(
        org, category, title, started_on, ended_on, hours, evidence_url, evidence_text, learned
    )


@router.post("/wallet/claims")
def submit_claim(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    org: Short = "",
    category: Short = "",
    title: Short = "",
    started_on: Short = "",
    ended_on: Short = "",
    hours: Short = "",
    evidence_url: Annotated[str, Form(max_length=2400)] = "",
    evidence_text: Long = "",
    learned: Long = "",
) -> Response:
    form = _posted(
        org, category, title, started_on, ended_on, hours, evidence_url, evidence_text, learned
    )
    try:
        if not org.isdigit():
            raise BadRequest("choose the organisation the claim is for")
        with db.begin_nested():
            informal.submit(db, services, signed.id, int(org), form.claim())
    except LaurelError as exc:
        return _claims_page(request, services, db, signed, exc.status, form, exc.detail)
    return RedirectResponse("/wallet/claims?done=sent", status_code=303)


@router.get("/wallet/claims/{claim_id}/edit")
def edit_page(
    claim_id: ClaimId,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerSession,
) -> Response:
    row = informal.own_claim(db, signed.id, claim_id)
    return _edit_page(request, services, db, signed, row, _Form.of(row))


def _edit_page(
    request: Request,
    services: Services,
    db: Session,
    signed: SignedIn,
    row: InformalClaim,
    form: _Form,
    status: int = 200,
    error: str | None = None,
) -> Response:
    [view] = _views(db, [row], language(request))
    return page(
        request,
        services,
        "wallet_claim_edit.html",
        status,
        session=signed,
        claim=view,
        categories=INFORMAL_CATEGORIES,
        form=form,
        error=error,
        hours=_hours,
    )


@router.post("/wallet/claims/{claim_id}")
def resubmit_claim(
    claim_id: ClaimId,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    category: Short = "",
    title: Short = "",
    started_on: Short = "",
    ended_on: Short = "",
    hours: Short = "",
    evidence_url: Annotated[str, Form(max_length=2400)] = "",
    evidence_text: Long = "",
    learned: Long = "",
) -> Response:
    row = informal.own_claim(db, signed.id, claim_id)
    form = _posted(
        str(row.org_id),
        category,
        title,
        started_on,
        ended_on,
        hours,
        evidence_url,
        evidence_text,
        learned,
    )
    try:
        with db.begin_nested():
            informal.resubmit(db, services, signed.id, claim_id, form.claim())
    except LaurelError as exc:
        return _edit_page(request, services, db, signed, row, form, exc.status, exc.detail)
    return RedirectResponse("/wallet/claims?done=sent", status_code=303)


@router.post("/wallet/claims/{claim_id}/withdraw")
def withdraw_claim(claim_id: ClaimId, db: SessionDep, signed: LearnerForm) -> Response:
    informal.withdraw(db, signed.id, claim_id)
    return RedirectResponse("/wallet/claims?done=withdrawn", status_code=303)


# --- the supervisor ------------------------------------------------------------------------


def _endorse_page(
    request: Request,
    services: Services,
    db: Session,
    signed: SignedIn,
    status: int = 200,
    error: str | None = None,
    failed: int | None = None,
) -> Response:
    lang = language(request)
    return page(
        request,
        services,
        "wallet_endorse.html",
        status,
        session=signed,
        awaiting=_views(db, informal.awaiting(db, signed.id), lang),
        decided=_views(db, informal.decided(db, signed.id), lang),
        error=error,
        failed=failed,
        done=request.query_params.get("done"),
        who=request.query_params.get("who"),
        hours=_hours,
    )


@router.get("/wallet/endorse")
def endorse_page(
    request: Request, services: ServicesDep, db: SessionDep, signed: LearnerSession
) -> Response:
    return _endorse_page(request, services, db, signed)


def _decided(done: str, db: Session, claim_id: int) -> Response:
    row = db.get(InformalClaim, claim_id)
    member = (
        db.exec(
            select(OrgMember).where(
                OrgMember.org_id == row.org_id, OrgMember.learner_id == row.learner_id
            )
        ).first()
        if row is not None
        else None
    )
    query = {"done": done, "who": member.name if member and member.name else ""}
    return RedirectResponse(f"/wallet/endorse?{urlencode(query)}", status_code=303)


@router.post("/wallet/endorse/{claim_id}/endorse")
def endorse_claim(
    claim_id: ClaimId,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    hours: Short = "",
    comment: Long = "",
) -> Response:
    try:
        with db.begin_nested():
            amount = _number(hours, "hours") if hours.strip() else None
            informal.endorse(db, services, signed.id, claim_id, comment, amount)
    except LaurelError as exc:
        return _endorse_page(request, services, db, signed, exc.status, exc.detail, claim_id)
    return _decided("endorsed", db, claim_id)


@router.post("/wallet/endorse/{claim_id}/return")
def return_claim(
    claim_id: ClaimId,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    signed: LearnerForm,
    comment: Long = "",
) -> Response:
    try:
        with db.begin_nested():
            informal.return_claim(db, services, signed.id, claim_id, comment)
    except LaurelError as exc:
        return _endorse_page(request, services, db, signed, exc.status, exc.detail, claim_id)
    return _decided("returned", db, claim_id)
