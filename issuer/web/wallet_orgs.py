"""The wallet's "Share with my organisation": a learner shares a badge imported from elsewhere
with an organisation whose roster they are on, or withdraws it (``issuer.wallet.orgs``). A
refusal (it does not verify, the organisation does not trust its issuer) is an error page
saying why. Sharing verifies the badge again: the hosts it names are read with no write
transaction open (``read_then_write``)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from issuer.http.deps import ServicesDep, SessionDep, read_then_write
from issuer.http.sessions import DetachedLearnerForm, LearnerForm
from issuer.wallet import badges as wallet
from issuer.wallet import orgs as sharing

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.post("/wallet/badges/{ref}/orgs/{org}/share")
async def share(
    ref: str,
    org: str,
    services: ServicesDep,
    background: BackgroundTasks,
    signed: DetachedLearnerForm,
) -> Response:
    def look(db: Session) -> None:
        sharing.foresee_share(db, services, wallet.imported_credential(db, signed.id, ref))

    def then(db: Session) -> None:
        row = wallet.imported_credential(db, signed.id, ref)
        sharing.share(db, services, signed.id, org, row, "wallet")

    await read_then_write(services, background, look, then)
    return RedirectResponse(f"/wallet/badges/{ref}?done=org_shared", status_code=303)


@router.post("/wallet/badges/{ref}/orgs/{org}/withdraw")
def withdraw(ref: str, org: str, db: SessionDep, signed: LearnerForm) -> Response:
    row = wallet.imported_credential(db, signed.id, ref)
    sharing.withdraw(db, signed.id, org, sharing.credential_ref(row))
    return RedirectResponse(f"/wallet/badges/{ref}?done=org_withdrawn", status_code=303)
